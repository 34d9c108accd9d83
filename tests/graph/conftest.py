"""Fixtures for the graph engine tests.

- ``snapshot`` — ``snapshot(root)`` reads an index into two multisets that do not
  depend on row ids: symbols ``(path, kind, qualified_name, lines, columns,
  signature, visibility, async, static, doc, parent)`` and edges ``(kind,
  source, target, target_text, line, column, member, alias, via_self,
  bound_locally, resolved_via, ambiguous_via, candidates, path, reexport)`` where a symbol
  reference is ``(path, kind, qualified_name, line, column)``. Two indexes that
  answer every question alike have equal snapshots.
- ``fresh_snapshot`` — copies a tree (without ``.sqry``) elsewhere, builds it
  from scratch with ``--force`` semantics and snapshots it.
- ``sqry`` — runs the real ``sqry`` command in a subprocess with a timeout.
- ``workspace`` — a short temp dir (``/tmp/sq...``) removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SQRY = [sys.executable, "-m", "sqry.cli.main"]

SYMBOLS_SQL = """
SELECT f.path, s.kind, s.qualified_name, s.start_line, s.start_column, s.end_line,
       s.end_column, s.signature, s.visibility, s.is_async, s.is_static, s.doc,
       pf.path, p.kind, p.qualified_name, p.start_line, p.start_column
FROM symbols s JOIN files f ON f.id = s.file_id
LEFT JOIN symbols p ON p.id = s.parent_id LEFT JOIN files pf ON pf.id = p.file_id
"""
EDGES_SQL = """
SELECT e.kind, sf.path, s.kind, s.qualified_name, s.start_line, s.start_column,
       tf.path, t.kind, t.qualified_name, t.start_line, t.start_column,
       e.target_text, e.line, e.column, e.member, e.alias, e.via_self, e.bound_locally,
       e.resolved_via, e.ambiguous_via, e.candidates, f.path, e.reexport
FROM edges e JOIN files f ON f.id = e.file_id
JOIN symbols s ON s.id = e.source_id JOIN files sf ON sf.id = s.file_id
LEFT JOIN symbols t ON t.id = e.target_id LEFT JOIN files tf ON tf.id = t.file_id
"""


def take_snapshot(root: Path | str) -> tuple[Counter, Counter, Counter]:
    """(symbols, edges, files) of the index of ``root``, as id-free multisets."""
    conn = sqlite3.connect(Path(root) / ".sqry" / "index.db")
    try:
        symbols = Counter(conn.execute(SYMBOLS_SQL).fetchall())
        edges = Counter(conn.execute(EDGES_SQL).fetchall())
        files = Counter(
            conn.execute("SELECT path, language, size, hash, module, error FROM files").fetchall()
        )
        dangling = conn.execute(
            "SELECT count(*) FROM edges e LEFT JOIN symbols t ON t.id = e.target_id "
            "WHERE e.target_id IS NOT NULL AND t.id IS NULL"
        ).fetchone()[0]
        assert dangling == 0, f"{dangling} edges point at symbols that do not exist"
    finally:
        conn.close()
    return symbols, edges, files


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(".sqry"))


@pytest.fixture
def workspace() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def snapshot() -> Callable[[Path], tuple[Counter, Counter, Counter]]:
    return take_snapshot


@pytest.fixture
def fresh_snapshot() -> Callable[[Path], tuple[Counter, Counter, Counter]]:
    from sqry.graph.index import build_index

    def fresh(root: Path) -> tuple[Counter, Counter, Counter]:
        other = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
        try:
            copy_tree(root, other / "w")
            build_index(other / "w", force=True)
            return take_snapshot(other / "w")
        finally:
            shutil.rmtree(other, ignore_errors=True)

    return fresh


@pytest.fixture
def sqry() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, cwd: Path | None = None, timeout: float = 120, **env: str):
        environ = {**os.environ, **env}
        return subprocess.run(
            [*SQRY, *args],
            cwd=cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
