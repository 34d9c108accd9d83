"""Benchmark reference resolution on the Python standard library (or any tree).

Run: ``python bench/resolve.py [ROOT] [--dump FILE] [--repeat N]``.

Without ROOT the interpreter's stdlib is copied to a temp dir (without
site-packages and __pycache__). The script builds the index once with
``--force`` and prints the per-phase timings of that build (wall, and CPU of
the main process — the ``resolve`` phase is resolution plus ``contains``
edges, with the symbol table streamed in by the writer), then re-runs only
the full resolution ``--repeat`` times on the built index (each run inside a
transaction that is rolled back, with the secondary indexes dropped as a full
build drops them) and prints its wall and CPU seconds — CPU
time is the number to compare, since the machine is shared.

``--dump FILE`` writes every resolvable edge as a sorted line ``kind <TAB>
source qname <TAB> target text <TAB> target qname <TAB> resolved_via <TAB>
ambiguous_via <TAB> candidates``: dump before and after a change and ``diff``
the files to prove the change did not alter any result. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

DUMP_SQL = """
SELECT e.kind, s.qualified_name, e.target_text, coalesce(t.qualified_name, '-'),
       coalesce(e.resolved_via, '-'), coalesce(e.ambiguous_via, '-'), e.candidates
FROM edges e JOIN symbols s ON s.id = e.source_id
LEFT JOIN symbols t ON t.id = e.target_id WHERE e.kind != 'contains'
"""


def copy_stdlib(dest: Path) -> None:
    src = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("site-packages", "__pycache__"))


def dump_edges(conn: sqlite3.Connection, out: Path) -> int:
    lines = sorted("\t".join(str(c) for c in row) for row in conn.execute(DUMP_SQL))
    out.write_text("\n".join(lines) + "\n")
    return len(lines)


def resolve_only(db: Path, root: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one full resolution of the built index, rolled back."""
    from sqry.graph.languages.base import using_workspace
    from sqry.graph.resolve import resolve_full

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        # As in a full build: no secondary indexes while edges are written.
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall():
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute(
            "UPDATE edges SET target_id = NULL, resolved_via = NULL, ambiguous_via = NULL, "
            "candidates = 0 WHERE kind != 'contains'"
        )
        wall, cpu = time.perf_counter(), time.process_time()
        with using_workspace(str(root)):
            resolve_full(conn)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return wall, cpu


def phase_cpu() -> dict[str, float]:
    """Main-process CPU seconds per build phase, recorded from now on.

    ``BuildReport.lap`` marks phase ends in wall time; wrapping it here reads
    the process clock at the same points (CPU is what a shared machine keeps
    comparable).
    """
    from sqry.graph import index

    spent: dict[str, float] = {}
    mark = [time.process_time()]
    wall_lap = index.BuildReport.lap

    def lap(report, phase: str, since: float) -> float:  # noqa: ANN001
        now = time.process_time()
        spent[phase] = spent.get(phase, 0.0) + now - mark[0]
        mark[0] = now
        return wall_lap(report, phase, since)

    index.BuildReport.lap = lap
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path)
    parser.add_argument("--dump", type=Path, help="write the resolved edges here")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from sqry.graph.index import build_index

    scratch = Path(tempfile.mkdtemp(prefix="sqbench"))
    try:
        root = args.root.resolve() if args.root else scratch / "stdlib"
        if args.root is None:
            copy_stdlib(root)
        spent = phase_cpu()
        cpu = time.process_time()
        report = build_index(root, force=True)
        cpu = time.process_time() - cpu
        phases = ", ".join(f"{k} {v:.2f}s" for k, v in report.phases.items())
        phases_cpu = ", ".join(f"{k} {v:.2f}s" for k, v in spent.items())
        print(f"root: {root}")
        print(f"full build: {report.files} files, {report.symbols} symbols, {report.edges} edges")
        print(f"  wall {report.seconds:.2f}s; phases (wall): {phases}")
        print(f"  main-process CPU {cpu:.2f}s; phases (CPU): {phases_cpu}")
        db = root / ".sqry" / "index.db"
        runs = [resolve_only(db, root) for _ in range(args.repeat)]
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(
            f"resolution only (x{len(runs)}): CPU median {statistics.median(cpus):.2f}s "
            f"(min {min(cpus):.2f}s), wall median {statistics.median(walls):.2f}s"
        )
        if args.dump:
            conn = sqlite3.connect(db)
            try:
                count = dump_edges(conn, args.dump)
            finally:
                conn.close()
            print(f"dumped {count} edges to {args.dump}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
