"""Naming one symbol (``sqry graph``, ``sqry explain``): qualified names and plain
names are pooled, ``--in``/``--line`` narrow, and what is left over is ambiguity
(exit 4), never a silent pick."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sqry.graph.query.symbols import find_symbols

PYTHON = "def helper():\n    pass\n\ndef main():\n    helper()\n"
TYPESCRIPT = "function helper(): void {}\n\nexport function main(): void {\n  helper();\n}\n"

#: file name, source, line of ``main``'s definition, where it calls ``helper``
PROJECTS = {
    "python": ("main.py", PYTHON, 4, "main.py:5:5"),
    "typescript": ("main.ts", TYPESCRIPT, 3, "main.ts:4:3"),
}


@pytest.fixture(params=sorted(PROJECTS))
def project(request, workspace: Path, sqry) -> tuple[Path, str, int, str]:
    """A one-file project whose module and whose function are both called ``main``."""
    name, source, line, call = PROJECTS[request.param]
    (workspace / name).write_text(source)
    result = sqry("index", str(workspace))
    assert result.returncode == 0, result.stderr
    return workspace, name, line, call


@pytest.mark.timeout(120)
def test_a_name_shared_by_a_module_and_a_function_is_ambiguous(project, sqry) -> None:
    root, name, line, _ = project
    result = sqry("graph", "callees", "main", cwd=root)
    assert result.returncode == 4, result.stderr
    assert f"  {name}:1 module main\n  {name}:{line} function main.main\n" in result.stderr
    # Both are defined in that file, so --in alone cannot choose.
    assert sqry("graph", "callees", "main", "--in", name, cwd=root).returncode == 4


@pytest.mark.timeout(120)
def test_line_reaches_the_function_named_like_its_module(project, sqry) -> None:
    root, name, line, call = project
    result = sqry("graph", "callees", "main", "--line", str(line), cwd=root)
    assert (result.returncode, result.stdout) == (0, f"{call}  function  main.helper\n")
    explained = sqry("explain", "main", "--in", name, "--line", str(line), cwd=root)
    assert explained.returncode == 0, explained.stderr
    assert explained.stdout.startswith("function main.main ")
    # Line 1 is where only the module starts.
    module = sqry("explain", "main", "--line", "1", cwd=root)
    assert module.returncode == 0 and module.stdout.startswith("module main "), module.stderr


@pytest.mark.timeout(120)
def test_qualified_and_unshared_names_still_name_one_symbol(project, sqry) -> None:
    root, _, _, call = project
    result = sqry("graph", "callees", "main.main", cwd=root)
    assert (result.returncode, result.stdout) == (0, f"{call}  function  main.helper\n")
    assert sqry("graph", "callers", "helper", cwd=root).stdout.endswith("function  main.main\n")


@pytest.mark.timeout(120)
def test_find_symbols_lists_pooled_candidates_once_in_file_order(project) -> None:
    root, name, line, _ = project
    conn = sqlite3.connect(root / ".sqry" / "index.db")
    try:
        found = find_symbols(conn, "main")
        assert [(s.kind, s.qualified_name, s.start_line) for s in found] == [
            ("module", "main", 1),
            ("function", "main.main", line),
        ]
        assert [s.qualified_name for s in find_symbols(conn, "main", line=line)] == ["main.main"]
    finally:
        conn.close()


@pytest.mark.timeout(120)
def test_trailing_segments_name_a_symbol_when_nothing_matches_exactly(
    workspace: Path, sqry
) -> None:
    (workspace / "geo").mkdir()
    (workspace / "geo" / "shapes.py").write_text(
        "class Circle:\n    def area(self):\n        return helper()\n\n"
        "def helper():\n    return 1\n"
    )
    (workspace / "other.py").write_text("class Circle:\n    def area(self):\n        pass\n")
    (workspace / "shape.hpp").write_text(
        "namespace geo {\nstruct Square {\n  int area() { return side(); }\n"
        "  int side() { return 2; }\n};\n}\n"
    )
    assert sqry("index", str(workspace)).returncode == 0
    # either separator names the C++ method; a segment is never matched in part
    for ref in ("Square.area", "geo::Square::area", "Square::area"):
        result = sqry("graph", "callees", ref, cwd=workspace)
        assert (result.returncode, result.stdout) == (
            0,
            "shape.hpp:3:23  method  geo::Square::side\n",
        )
    assert sqry("graph", "callees", "quare.area", cwd=workspace).returncode == 1
    # two classes end that way: ambiguous, with both listed
    both = sqry("graph", "callees", "Circle.area", cwd=workspace)
    assert both.returncode == 4, both.stderr
    assert "geo/shapes.py:2 method geo.shapes.Circle.area" in both.stderr
    assert "other.py:2 method other.Circle.area" in both.stderr
    # a symbol whose qualified name *is* the name asked, elsewhere, does not stop the
    # shortened lookup where --in (or PATH) points
    (workspace / "Square.py").write_text("def area():\n    pass\n")  # Square.area
    assert sqry("index", str(workspace)).returncode == 0
    inside = sqry("graph", "callees", "Square.area", "--in", "shape.hpp", cwd=workspace)
    assert (inside.returncode, inside.stdout) == (0, "shape.hpp:3:23  method  geo::Square::side\n")
    one = sqry("graph", "callees", "shapes.Circle.area", cwd=workspace)
    assert (one.returncode, one.stdout) == (0, "geo/shapes.py:3:16  function  geo.shapes.helper\n")
