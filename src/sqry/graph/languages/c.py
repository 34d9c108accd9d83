"""C: symbols and references from ``.c`` and ``.h`` files.

The walk is shared with C++ (:mod:`sqry.graph.languages._cfamily`, where the
decisions are documented).

``.h`` is claimed by C: a header cannot say which language includes it, and C
headers are also valid C++ far more often than the reverse. A ``.h`` file that is
plainly C++ — the C grammar fails on it and it uses ``class``, ``namespace``,
``template`` or an access specifier — is re-parsed with the C++ grammar and
extracted as C++ (its facts then say ``language="cpp"``). A file that fails to
parse gets a second parse with its annotation macros blanked
(:mod:`sqry.graph.languages._cmacros`).
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from sqry.graph.languages._cfamily import LIBC, extract_cfamily, include_module, is_header
from sqry.graph.languages._cmacros import reparsed
from sqry.graph.languages.base import LanguageSpec

if TYPE_CHECKING:
    import tree_sitter

    from sqry.graph.model import FileFacts

_CPP_MARKERS = re.compile(
    rb"^\s*(?:class|namespace|template)\b|^\s*(?:public|private|protected)\s*:", re.MULTILINE
)
# C++ beyond doubt, even where the C grammar reports no error: ``namespace net {``
# parses as a K&R-style C function
_CPP_FOR_SURE = re.compile(
    rb"^[ \t]*(?:namespace(?:[ \t]+[A-Za-z_][\w:]*)?[ \t]*\{|template[ \t]*<|using[ \t]+namespace\b)",
    re.MULTILINE,
)


def grammar() -> tree_sitter.Language:
    import tree_sitter
    import tree_sitter_c

    return tree_sitter.Language(tree_sitter_c.language())


def module_name(path: str) -> str:
    """A C file is its own module, named by its workspace-relative path."""
    return path


def looks_like_cpp(tree: tree_sitter.Tree, source: bytes, path: str) -> bool:
    """A ``.h`` header the C grammar choked on that uses C++-only constructs, or
    one with a construct only C++ has (a namespace block, a template)."""
    if not path.endswith(".h"):
        return False
    if tree.root_node.has_error and _CPP_MARKERS.search(source) is not None:
        return True
    return _CPP_FOR_SURE.search(source) is not None


@cache
def _cpp_parser_language() -> tree_sitter.Language:
    from sqry.graph.languages.cpp import grammar as cpp_grammar

    return cpp_grammar()


@cache
def _c_parser_language() -> tree_sitter.Language:
    return grammar()


def extract(tree: tree_sitter.Tree, source: bytes, path: str, module: str) -> FileFacts:
    if looks_like_cpp(tree, source, path):
        import tree_sitter

        cpp_tree = tree_sitter.Parser(_cpp_parser_language()).parse(source)
        cpp_tree = reparsed(cpp_tree, source, _cpp_parser_language())
        return extract_cfamily(cpp_tree, source, path, module, language="cpp")
    tree = reparsed(tree, source, _c_parser_language())
    return extract_cfamily(tree, source, path, module, language="c")


LANGUAGE = LanguageSpec(
    name="c",
    extensions=(".c", ".h"),
    grammar=grammar,
    extract=extract,
    module_name=module_name,
    import_module=include_module,
    separator=".",
    builtins=LIBC,
    members_in_scope=False,  # C has no methods
    dialects=("cpp",),  # plainly-C++ headers are extracted as C++
    package_of=None,  # files share names through includes (then the `unique` rule)
    imports_qualify=False,  # `#include "log.h"` binds no name `log`
    private_shared=is_header,
)
