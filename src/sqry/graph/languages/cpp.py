"""C++: symbols and references from ``.cpp``/``.cc``/``.cxx``/``.hpp``/... files.

The walk is shared with C (:mod:`sqry.graph.languages._cfamily`, where the
decisions are documented). ``.h`` headers belong to C; the C module hands one to
this extractor when it is plainly C++ (see :mod:`sqry.graph.languages.c`). A file
that fails to parse gets a second parse with its annotation macros blanked
(:mod:`sqry.graph.languages._cmacros`).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqry.graph.languages._cfamily import (
    LIBC,
    extract_cfamily,
    include_module,
    is_header,
    is_namespace_import,
)
from sqry.graph.languages._cmacros import reparsed
from sqry.graph.languages.base import LanguageSpec

if TYPE_CHECKING:
    import tree_sitter

    from sqry.graph.model import FileFacts

EXTENSIONS = (
    ".cpp",
    ".cc",
    ".cxx",
    ".c++",
    ".hpp",
    ".hh",
    ".hxx",
    ".h++",
    ".ipp",
    ".tpp",
    ".inl",
    ".tcc",
    ".txx",  # template implementations (libstdc++'s bits/*.tcc, VTK/ITK's .txx)
)


def grammar() -> tree_sitter.Language:
    import tree_sitter
    import tree_sitter_cpp

    return tree_sitter.Language(tree_sitter_cpp.language())


def module_name(path: str) -> str:
    """A C++ file is its own module, named by its workspace-relative path."""
    return path


@cache
def _parser_language() -> tree_sitter.Language:
    return grammar()


def extract(tree: tree_sitter.Tree, source: bytes, path: str, module: str) -> FileFacts:
    tree = reparsed(tree, source, _parser_language())
    return extract_cfamily(tree, source, path, module, language="cpp")


LANGUAGE = LanguageSpec(
    name="cpp",
    extensions=EXTENSIONS,
    grammar=grammar,
    extract=extract,
    module_name=module_name,
    import_module=include_module,
    separator="::",
    builtins=LIBC,
    members_in_scope=True,  # in a method, a bare f() may mean this->f()
    package_of=None,  # files share names through includes; namespaces are searched instead
    private_shared=is_header,
    opens_namespace=is_namespace_import,
)
