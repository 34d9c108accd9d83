"""Helpers for the per-language extraction tests (``test_lang_*.py``).

Each of those tests parses fixture files exactly the way the indexer does and
compares the facts, flattened to tuples, with hand-written expectations.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

import tree_sitter
from hypothesis import strategies as st

from sqry.graph.languages.base import LanguageSpec
from sqry.graph.model import REF_KINDS, SYMBOL_KINDS, VISIBILITIES, FileFacts


def extract_file(
    spec: LanguageSpec, root: Path, rel: str, source: bytes | None = None
) -> FileFacts:
    """Facts of ``root/rel`` (or of ``source`` given as that file's content)."""
    data = (root / rel).read_bytes() if source is None else source
    grammar = spec.grammar_for(rel) if spec.grammar_for else spec.grammar()
    tree = tree_sitter.Parser(grammar).parse(data)
    return spec.extract(tree, data, rel, spec.module_name(rel))


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


def assert_well_formed(facts: FileFacts, separator: str = ".") -> None:
    """What the indexer relies on, whatever the input looked like."""
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


def indexed_edges(fixture: Path, workdir: Path) -> list[tuple]:
    """Index a copy of ``fixture`` with the engine; every non-structural edge as
    (kind, source qualified name, target text, line, target qualified name or
    None, resolved_via or None)."""
    from sqry.graph import store
    from sqry.graph.index import build_index

    root = workdir / "workspace"
    shutil.copytree(fixture, root)
    build_index(root, workers=1)
    with contextlib.closing(sqlite3.connect(store.index_path(root))) as conn:
        return conn.execute(
            "SELECT e.kind, s.qualified_name, e.target_text, e.line, t.qualified_name, "
            "e.resolved_via FROM edges e JOIN symbols s ON s.id = e.source_id "
            "LEFT JOIN symbols t ON t.id = e.target_id WHERE e.kind != 'contains'"
        ).fetchall()


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
