"""Helpers for the per-language extractor tests (``test_lang_*.py``).

They run a language module exactly as the indexer does — ``LANGUAGE.grammar()``
(or ``grammar_for(path)``), a tree-sitter parse,
``LANGUAGE.extract(tree, source, path, module_name(path))`` under the fixture
project as workspace root — and flatten the resulting facts so each test
compares whole collections of hand-written expectations: a missing fact and an
extra one fail alike.

Two flattenings are offered. As lines (Go, Rust, C, C++): symbol line
``kind qualified_name @line visibility [static] [async] in parent`` (``in -``
for the module); reference line
``kind source -> target @line [member=m] [alias=a] [self] [local]`` where
``source`` is the qualified name of the symbol the reference sits in. As rows
(Java, JavaScript, TypeScript): sorted tuples, see :func:`symbol_rows` and
:func:`reference_rows`.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from functools import cache
from pathlib import Path

import tree_sitter
from hypothesis import strategies as st

from sqry.graph.languages.base import LanguageSpec, all_languages, using_workspace
from sqry.graph.model import REF_KINDS, SYMBOL_KINDS, VISIBILITIES, FileFacts

FIXTURES = Path(__file__).parent / "fixtures"


def spec(language: str) -> LanguageSpec:
    return all_languages()[language]


@cache
def _parser_language(language: str) -> tree_sitter.Language:
    return spec(language).grammar()


def parse(language: str, source: bytes, rel: str | None = None) -> tree_sitter.Tree:
    """Parse ``source`` with the grammar the indexer picks for the file ``rel``."""
    lang = spec(language)
    if rel is not None and lang.grammar_for:
        grammar = lang.grammar_for(rel)
    else:
        grammar = _parser_language(language)
    return tree_sitter.Parser(grammar).parse(source)


def extract_source(language: str, source: bytes, rel: str, root: Path | None = None) -> FileFacts:
    """Extract ``source`` as if it were the file ``rel`` of the workspace ``root``."""
    lang = spec(language)
    tree = parse(language, source, rel)
    with using_workspace(str(root or FIXTURES / language)):
        return lang.extract(tree, source, rel, lang.module_name(rel))


def extract_fixture(language: str, rel: str, source: bytes | None = None) -> FileFacts:
    """Extract the fixture file ``fixtures/<language>/<rel>`` (or ``source`` given
    as that file's content)."""
    root = FIXTURES / language
    data = (root / rel).read_bytes() if source is None else source
    return extract_source(language, data, rel, root)


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


def reference_lines(facts: FileFacts, kind: str | None = None) -> set[str]:
    """One line per reference (of ``kind`` only, if given)."""
    lines = set()
    for ref in facts.references:
        if kind is not None and ref.kind != kind:
            continue
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


def symbol_rows(facts: FileFacts) -> list[tuple]:
    """Every symbol but the module: (kind, qualified name, line, visibility,
    async, static, signature, doc), sorted."""
    return sorted(
        (s.kind, s.qualified_name, s.start_line, s.visibility, s.is_async, s.is_static,
         s.signature, s.doc)
        for s in facts.symbols[1:]
    )  # fmt: skip


def reference_rows(facts: FileFacts) -> list[tuple]:
    """Every reference: (kind, source qualified name, target, line, column,
    member, alias, via_self, bound_locally), sorted."""
    names = [s.qualified_name for s in facts.symbols]
    return sorted(
        (r.kind, names[r.source], r.target, r.line, r.column, r.member, r.alias, r.via_self,
         r.bound_locally)
        for r in facts.references
    )  # fmt: skip


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


def assert_well_formed(facts: FileFacts, separator: str = ".") -> None:
    """What the indexer relies on, whatever the input looked like (the row tests' check:
    qualified names built from the parent's, children inside their parent's span)."""
    module = facts.symbols[0]
    assert (module.kind, module.parent, module.local_id) == ("module", None, 0)
    assert module.qualified_name == facts.module_name
    for index, sym in enumerate(facts.symbols[1:], start=1):
        assert sym.local_id == index and sym.kind in SYMBOL_KINDS
        assert sym.visibility in VISIBILITIES and "\n" not in sym.signature
        assert sym.parent is not None and sym.parent < index
        parent = facts.symbols[sym.parent]
        prefix = f"{parent.qualified_name}{separator}" if parent.qualified_name else ""
        assert sym.qualified_name == f"{prefix}{sym.name}"
        assert (parent.start_line, parent.start_column) <= (sym.start_line, sym.start_column)
        assert (sym.end_line, sym.end_column) <= (parent.end_line, parent.end_column)
    for ref in facts.references:
        assert ref.kind in REF_KINDS and ref.target
        assert 0 <= ref.source < len(facts.symbols) and ref.line >= 1 and ref.column >= 0


def mangled(data: st.DataObject, source: bytes, noise: list[bytes]) -> bytes:
    """``source`` with a few random slices replaced by random bytes or ``noise``."""
    out = bytearray(source)
    pieces = st.binary(max_size=6) | st.sampled_from(noise)
    for _ in range(data.draw(st.integers(1, 6))):
        start = data.draw(st.integers(0, len(out)))
        end = data.draw(st.integers(start, min(len(out), start + 60)))
        out[start:end] = data.draw(pieces)
    return bytes(out)


def check_truncations(language: str, rel: str, step: int) -> None:
    """Every ``step``-th prefix of the fixture file ``rel`` extracts to well-formed facts."""
    source = (FIXTURES / language / rel).read_bytes()
    for cut in range(0, len(source), step):
        facts = extract_source(language, source[:cut], rel)
        check_invariants(facts, source[:cut])


def check_mangled(language: str, data: st.DataObject, files: list[str], noise: list[bytes]) -> None:
    """One of the fixture ``files``, :func:`mangled` with ``noise``, extracts to
    well-formed facts."""
    rel = data.draw(st.sampled_from(files))
    source = mangled(data, (FIXTURES / language / rel).read_bytes(), noise)
    check_invariants(extract_source(language, source, rel), source)


def _index_copy(language: str, root: Path):
    """Copy ``fixtures/<language>`` to ``root`` (keeping ``.sqry/`` out of the source
    tree) and index it with the real engine; the build report."""
    from sqry.graph.index import build_index

    shutil.copytree(FIXTURES / language, root)
    return build_index(root, workers=1)


def _query(root: Path, sql: str) -> list[tuple]:
    from sqry.graph import store

    with contextlib.closing(sqlite3.connect(store.index_path(root))) as conn:
        return conn.execute(sql).fetchall()


def indexed_edges(language: str) -> set[str]:
    """Index a copy of ``fixtures/<language>`` with the real engine; every edge but ``contains``.

    Line: ``kind source -> target @path:line => resolved_qname (its path) rule``, or
    ``=> -`` when unresolved (``=> - ambiguous@rule×n`` when the rule found several).
    The copy keeps ``.sqry/`` out of the source tree.
    """
    scratch = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        root = scratch / language
        report = _index_copy(language, root)
        assert report.file_errors == [], report.file_errors
        rows = _query(
            root,
            "SELECT e.kind, s.qualified_name, e.target_text, f.path, e.line, "
            "t.qualified_name, tf.path, e.resolved_via, e.ambiguous_via, e.candidates "
            "FROM edges e JOIN symbols s ON s.id = e.source_id "
            "JOIN files f ON f.id = e.file_id "
            "LEFT JOIN symbols t ON t.id = e.target_id "
            "LEFT JOIN files tf ON tf.id = t.file_id WHERE e.kind != 'contains'",
        )
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


def indexed_edge_rows(language: str, workdir: Path) -> list[tuple]:
    """Index a copy of ``fixtures/<language>`` under ``workdir``; every non-structural
    edge as (kind, source qualified name, target text, line, target qualified name or
    None, resolved_via or None)."""
    root = workdir / "workspace"
    _index_copy(language, root)
    return _query(
        root,
        "SELECT e.kind, s.qualified_name, e.target_text, e.line, t.qualified_name, "
        "e.resolved_via FROM edges e JOIN symbols s ON s.id = e.source_id "
        "LEFT JOIN symbols t ON t.id = e.target_id WHERE e.kind != 'contains'",
    )


def check_resolution(
    edges: list[tuple], expected: list[tuple], gaps: dict[tuple, set[str | None]]
) -> None:
    """Resolved edges equal ``expected`` exactly, apart from known resolver gaps.

    ``gaps`` maps (kind, source, target text, line) of an edge the engine cannot
    bind yet to the outcomes that are right: unresolved, or the one true target.
    Anything else there would be a wrong edge.
    """
    resolved, seen_gaps = [], set()
    for kind, source, target, line, bound, via in edges:
        key = (kind, source, target, line)
        if key in gaps:
            seen_gaps.add(key)
            assert bound in gaps[key], (key, bound)
        elif via is not None:
            resolved.append((kind, source, target, line, bound, via))
    assert seen_gaps == set(gaps), f"gap edges not found: {set(gaps) - seen_gaps}"
    missing = sorted(set(expected) - set(resolved))
    unexpected = sorted(set(resolved) - set(expected))
    assert sorted(resolved) == sorted(expected), f"missing {missing}, unexpected {unexpected}"
