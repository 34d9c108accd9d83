"""Helpers for the extractor tests of Go, Rust, C and C++.

They run a language module exactly as the indexer does — ``LANGUAGE.grammar()``,
a tree-sitter parse, ``LANGUAGE.extract(tree, source, path, module_name(path))``
under the fixture project as workspace root — and render the resulting facts as
short lines, so each test compares whole *sets* of hand-written expectations:
a missing symbol and an extra one fail alike.

Symbol line: ``kind qualified_name @line visibility [static] [async] in parent``
(``in -`` for the module). Reference line:
``kind source -> target @line [member=m] [alias=a] [self] [local]`` where
``source`` is the qualified name of the symbol the reference sits in.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import tree_sitter

from sqry.graph.languages.base import LanguageSpec, all_languages, using_workspace
from sqry.graph.model import REF_KINDS, SYMBOL_KINDS, VISIBILITIES, FileFacts

FIXTURES = Path(__file__).parent / "fixtures"


def spec(language: str) -> LanguageSpec:
    return all_languages()[language]


@cache
def _parser_language(language: str) -> tree_sitter.Language:
    return spec(language).grammar()


def parse(language: str, source: bytes) -> tree_sitter.Tree:
    return tree_sitter.Parser(_parser_language(language)).parse(source)


def extract_source(language: str, source: bytes, rel: str, root: Path | None = None) -> FileFacts:
    """Extract ``source`` as if it were the file ``rel`` of the workspace ``root``."""
    lang = spec(language)
    tree = parse(language, source)
    with using_workspace(str(root or FIXTURES / language)):
        return lang.extract(tree, source, rel, lang.module_name(rel))


def extract_fixture(language: str, rel: str) -> FileFacts:
    """Extract the fixture file ``fixtures/<language>/<rel>``."""
    root = FIXTURES / language
    return extract_source(language, (root / rel).read_bytes(), rel, root)


def symbol_lines(facts: FileFacts) -> set[str]:
    lines = set()
    for sym in facts.symbols:
        parent = "-" if sym.parent is None else facts.symbols[sym.parent].qualified_name
        flags = "".join(
            f" {flag}" for flag, on in (("static", sym.is_static), ("async", sym.is_async)) if on
        )
        lines.add(
            f"{sym.kind} {sym.qualified_name} @{sym.start_line} {sym.visibility}{flags} in {parent}"
        )
    return lines


def reference_lines(facts: FileFacts) -> set[str]:
    lines = set()
    for ref in facts.references:
        extra = ""
        if ref.member is not None:
            extra += f" member={ref.member}"
        if ref.alias is not None:
            extra += f" alias={ref.alias}"
        if ref.via_self:
            extra += " self"
        if ref.bound_locally:
            extra += " local"
        source = facts.symbols[ref.source].qualified_name
        lines.add(f"{ref.kind} {source} -> {ref.target} @{ref.line}{extra}")
    return lines


def docs(facts: FileFacts) -> dict[str, str]:
    """Qualified name → first doc line, for every symbol that has one."""
    return {s.qualified_name: s.doc for s in facts.symbols if s.doc}


def signatures(facts: FileFacts) -> dict[str, str]:
    return {s.qualified_name: s.signature for s in facts.symbols}


def symbol(facts: FileFacts, qualified_name: str, kind: str | None = None):
    """The one symbol with that qualified name (and kind); fails on none or several."""
    found = [
        s
        for s in facts.symbols
        if s.qualified_name == qualified_name and (kind is None or s.kind == kind)
    ]
    assert len(found) == 1, f"{qualified_name}: {len(found)} symbols"
    return found[0]


def check_invariants(facts: FileFacts, source: bytes) -> None:
    """What every FileFacts must satisfy, whatever the input (used on broken files too)."""
    line_count = source.count(b"\n") + 1
    symbols = facts.symbols
    assert symbols and symbols[0].kind == "module" and symbols[0].parent is None
    assert symbols[0].qualified_name == facts.module_name
    for index, sym in enumerate(symbols):
        assert sym.local_id == index
        assert sym.kind in SYMBOL_KINDS, sym
        assert sym.visibility in VISIBILITIES, sym
        assert sym.name and sym.qualified_name, sym
        assert 1 <= sym.start_line <= sym.end_line <= line_count, sym
        assert sym.start_column >= 0 and sym.end_column >= 0, sym
        assert "\n" not in sym.signature + sym.doc + sym.name + sym.qualified_name, sym
        if index:
            assert sym.parent is not None and 0 <= sym.parent < len(symbols), sym
            seen = {index}
            parent = sym.parent
            while parent is not None:  # the parent chain ends at the module
                assert parent not in seen, f"parent cycle at {sym}"
                seen.add(parent)
                parent = symbols[parent].parent
    for ref in facts.references:
        assert ref.kind in REF_KINDS, ref
        assert 0 <= ref.source < len(symbols), ref
        assert ref.target, ref
        assert 1 <= ref.line <= line_count and ref.column >= 0, ref


def indexed_edges(language: str) -> set[str]:
    """Index a copy of ``fixtures/<language>`` with the real engine; every edge but ``contains``.

    Line: ``kind source -> target @path:line => resolved_qname (its path) rule``, or
    ``=> -`` when unresolved (``=> - ambiguous@rule×n`` when the rule found several).
    The copy keeps ``.sqry/`` out of the source tree.
    """
    import shutil
    import sqlite3
    import tempfile

    from sqry.graph.index import build_index

    scratch = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        root = scratch / language
        shutil.copytree(FIXTURES / language, root)
        report = build_index(root, workers=1)
        assert report.file_errors == [], report.file_errors
        conn = sqlite3.connect(root / ".sqry" / "index.db")
        try:
            rows = conn.execute(
                "SELECT e.kind, s.qualified_name, e.target_text, f.path, e.line, "
                "t.qualified_name, tf.path, e.resolved_via, e.ambiguous_via, e.candidates "
                "FROM edges e JOIN symbols s ON s.id = e.source_id "
                "JOIN files f ON f.id = e.file_id "
                "LEFT JOIN symbols t ON t.id = e.target_id "
                "LEFT JOIN files tf ON tf.id = t.file_id WHERE e.kind != 'contains'"
            ).fetchall()
        finally:
            conn.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = set()
    for kind, source, text, path, line, target, target_path, via, ambiguous, count in rows:
        if target is not None:
            outcome = f"{target} ({target_path}) {via}"
        elif ambiguous:
            outcome = f"- ambiguous@{ambiguous}x{count}"
        else:
            outcome = "-"
        lines.add(f"{kind} {source} -> {text} @{path}:{line} => {outcome}")
    return lines
