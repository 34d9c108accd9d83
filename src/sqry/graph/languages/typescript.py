"""TypeScript and TSX (two grammars from one wheel, picked by file name).

Extraction and naming rules are shared with JavaScript; see
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
    import tree_sitter_typescript

    return tree_sitter.Language(tree_sitter_typescript.language_typescript())


@cache
def _tsx() -> tree_sitter.Language:
    import tree_sitter
    import tree_sitter_typescript

    return tree_sitter.Language(tree_sitter_typescript.language_tsx())


def grammar_for(path: str) -> tree_sitter.Language:
    """TSX files need the TSX grammar: ``<T>x`` is a cast in .ts but JSX in .tsx."""
    return _tsx() if path.lower().endswith(".tsx") else grammar()


def extract(tree: tree_sitter.Tree, source: bytes, path: str, module_name: str) -> FileFacts:
    return _ecma.extract(tree, source, path, module_name, "typescript")


LANGUAGE = LanguageSpec(
    name="typescript",
    extensions=_ecma.TS_EXTENSIONS,
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
    shebangs=("ts-node", "tsx"),
    grammar_for=grammar_for,
)
