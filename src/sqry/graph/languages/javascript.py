"""JavaScript, JSX included (the grammar parses JSX natively).

Extraction and naming rules are shared with TypeScript; see
:mod:`sqry.graph.languages._ecma` for the decisions they encode.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqry.graph.languages import _ecma
from sqry.graph.languages.base import LanguageSpec

if TYPE_CHECKING:
    import tree_sitter

    from sqry.graph.model import FileFacts


@cache
def grammar() -> tree_sitter.Language:
    import tree_sitter
    import tree_sitter_javascript

    return tree_sitter.Language(tree_sitter_javascript.language())


def extract(tree: tree_sitter.Tree, source: bytes, path: str, module_name: str) -> FileFacts:
    return _ecma.extract(tree, source, path, module_name, "javascript")


LANGUAGE = LanguageSpec(
    name="javascript",
    extensions=_ecma.JS_EXTENSIONS,
    grammar=grammar,
    extract=extract,
    module_name=_ecma.module_name,
    import_module=_ecma.import_module,
    separator=".",
    builtins=_ecma.BUILTINS,
    members_in_scope=False,  # a bare f() in a method never means this.f()
    super_heads=frozenset({"super"}),
    is_identifier=_ecma.is_identifier,
    package_of=None,  # a module sees only what it defines or imports
    star_exports=_ecma.star_exports,
    exports_listed=True,  # an ES module exports only what it says
    shebangs=("node", "nodejs"),
)
