"""Benchmark incremental re-resolution on a wide Java class hierarchy.

Run: ``python bench/incremental_java.py [--classes N] [--methods M]``.

Builds, in a temp dir, a package of ``N`` classes (default 3,000) extending
``Base`` (through ``Mid``, itself extending ``Base``, for every other class),
each with ``M`` methods (default 15) making bare calls to one another and, in
the first, to one method it inherits. It then times three incremental builds:

- a comment appended to ``Base.java`` (no class's bases change: only the edges
  that pointed into ``Base.java`` — ``extends Base`` and the inherited calls,
  whose targets got new ids — need re-resolving);
- ``Mid extends Base`` -> ``Mid extends Other`` (a real base change: every
  subclass of ``Mid`` rebinds its bare calls);
- and back.

It prints wall seconds of each build, its ``resolve`` phase and the number of
edges re-resolved (``BuildReport.reresolved`` when the engine reports it).
Nothing here asserts.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

BASE_METHODS = ("twice", "half", "clamp")


def write_project(root: Path, classes: int, methods: int) -> None:
    """The package ``p``: ``Base``, ``Other`` (same members), ``Mid`` and ``classes`` subclasses."""
    src = root / "src" / "p"
    src.mkdir(parents=True)
    body = "".join(f"    int {m}(int x) {{ return x; }}\n" for m in BASE_METHODS)
    (src / "Base.java").write_text(f"package p;\n\npublic class Base {{\n{body}}}\n")
    (src / "Other.java").write_text(f"package p;\n\npublic class Other {{\n{body}}}\n")
    (src / "Mid.java").write_text("package p;\n\npublic class Mid extends Base {}\n")
    for i in range(classes):
        parent = "Mid" if i % 2 else "Base"
        lines = [f"package p;\n\npublic class C{i} extends {parent} {{\n"]
        inherited = BASE_METHODS[i % len(BASE_METHODS)]
        lines.append(f"    int m0(int v) {{ return {inherited}(v) + m1(v); }}\n")
        for k in range(1, methods):
            lines.append(f"    int m{k}(int v) {{ return m{(k + 1) % methods}(v) + v; }}\n")
        lines.append("}\n")
        (src / f"C{i}.java").write_text("".join(lines))


def timed_build(root: Path, label: str) -> None:
    from sqry.graph.index import build_index

    started = time.monotonic()
    report = build_index(root)
    wall = time.monotonic() - started
    reresolved = getattr(report, "reresolved", None)
    print(
        f"{label:<28} {wall:7.2f}s wall  resolve {report.phases.get('resolve', 0.0):6.2f}s  "
        f"changed {report.changed:5d}  re-resolved {reresolved if reresolved is not None else '?'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=3000)
    parser.add_argument("--methods", type=int, default=15)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sqbench"))
    try:
        root = tmp / "w"
        write_project(root, args.classes, args.methods)
        timed_build(root, "full build")
        base = root / "src" / "p" / "Base.java"
        base.write_text(base.read_text() + "// c\n")
        timed_build(root, "comment in Base.java")
        mid = root / "src" / "p" / "Mid.java"
        mid.write_text("package p;\n\npublic class Mid extends Other {}\n")
        timed_build(root, "Mid extends Other")
        mid.write_text("package p;\n\npublic class Mid extends Base {}\n")
        timed_build(root, "Mid extends Base again")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
