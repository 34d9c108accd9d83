"""Java extraction, checked against a hand-written fixture project.

``tests/graph/fixtures/java`` holds two packages under a Maven-style source
root: ``com.acme.model`` (an abstract class implementing interfaces, an
interface extending one with a default method and a constant, a class with
overloaded constructors, a nested static class, an enum whose constant has a
body, a record) and ``com.acme.app`` (single, nested, wildcard and static
imports, lambdas, an anonymous class, generics, overloads, try/catch), plus a
file in the unnamed package with a syntax error. Every fact is written out and
compared whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lang_kit import (
    assert_well_formed,
    check_resolution,
    extract_fixture,
    indexed_edge_rows,
    mangled,
)
from lang_kit import reference_rows as references
from lang_kit import symbol_rows as symbols

from sqry.graph.languages.base import all_languages, language_for_extension
from sqry.graph.model import FileFacts

FIXTURES = Path(__file__).parent / "fixtures" / "java"
JAVA = all_languages()["java"]

SRC = "src/main/java/com/acme"
SHAPE, NAMED, CIRCLE, APP = (f"{SRC}/model/Shape.java", f"{SRC}/model/Named.java",
                             f"{SRC}/model/Circle.java", f"{SRC}/app/App.java")  # fmt: skip
SCRATCH = "scratch/Scratch.java"


def extract(rel: str, source: bytes | None = None) -> FileFacts:
    return extract_fixture("java", rel, source)


PUB, PRIV, PROT, INT = "public", "private", "protected", "internal"
M, C, A = "com.acme.model", "com.acme.model.Circle", "com.acme.app.App"

EXPECTED_SYMBOLS = {
    SHAPE: [
        ("class", f"{M}.Shape", 7, PUB, False, False,
         "public abstract class Shape implements Comparable<Shape>, Named",
         "Base of every shape."),
        ("constant", f"{M}.Shape.EPSILON", 8, PUB, False, True,
         "public static final double EPSILON", ""),
        ("field", f"{M}.Shape.label", 9, PROT, False, False, "protected String label", ""),
        ("method", f"{M}.Shape.area", 12, PUB, False, False, "public abstract double area()",
         "The area, in square units."),
        ("method", f"{M}.Shape.compareTo", 15, PUB, False, False,
         "public int compareTo(Shape other)", ""),
        ("method", f"{M}.Shape.name", 19, PUB, False, False, "public String name()", ""),
    ],
    NAMED: [
        ("interface", f"{M}.Named", 5, PUB, False, False,
         "public interface Named extends Serializable", ""),
        ("constant", f"{M}.Named.MAX_LENGTH", 6, PUB, False, True, "int MAX_LENGTH", ""),
        ("method", f"{M}.Named.name", 8, PUB, False, False, "String name()", ""),
        ("method", f"{M}.Named.shortName", 10, PUB, False, False, "default String shortName()",
         ""),
    ],
    CIRCLE: [
        ("class", C, 5, PUB, False, False, "public class Circle extends Shape", ""),
        ("field", f"{C}.radius", 6, PRIV, False, False, "private final double radius", ""),
        ("field", f"{C}.unit", 7, PRIV, False, False, "private Unit unit", ""),
        ("field", f"{C}.fallback", 7, PRIV, False, False, "private Unit fallback", ""),
        ("method", f"{C}.<init>", 9, PUB, False, False, "public Circle(double radius)", ""),
        ("method", f"{C}.<init>", 13, INT, False, False, "Circle(double radius, Unit unit)", ""),
        ("method", f"{C}.area", 20, PUB, False, False, "public double area()", ""),
        ("method", f"{C}.of", 24, PUB, False, True, "public static Circle of(double radius)", ""),
        ("method", f"{C}.outline", 28, PUB, False, False, "public List<Point> outline(int steps)",
         ""),
        ("class", f"{C}.Builder", 33, PUB, False, True, "public static class Builder",
         "Builds circles step by step."),
        ("field", f"{C}.Builder.radius", 34, PRIV, False, False, "private double radius", ""),
        ("method", f"{C}.Builder.radius", 36, PUB, False, False,
         "public Builder radius(double value)", ""),
        ("method", f"{C}.Builder.build", 41, PUB, False, False, "public Circle build()", ""),
        ("enum", f"{C}.Unit", 46, PUB, False, False, "public enum Unit", ""),
        ("enum_variant", f"{C}.Unit.CM", 47, PUB, False, False, "CM(1.0)", ""),
        ("enum_variant", f"{C}.Unit.INCH", 48, PUB, False, False, "INCH(2.54)", ""),
        ("method", f"{C}.Unit.INCH.factor", 50, INT, False, False, "double factor()", ""),
        ("field", f"{C}.Unit.scale", 55, PRIV, False, False, "private final double scale", ""),
        ("method", f"{C}.Unit.<init>", 57, INT, False, False, "Unit(double scale)", ""),
        ("method", f"{C}.Unit.factor", 61, INT, False, False, "double factor()", ""),
        ("class", f"{C}.Point", 66, PUB, False, False,
         "public record Point(double x, double y) implements Comparable<Point>", ""),
        ("field", f"{C}.Point.x", 66, PRIV, False, False, "double x", ""),
        ("field", f"{C}.Point.y", 66, PRIV, False, False, "double y", ""),
        ("method", f"{C}.Point.compareTo", 67, PUB, False, False,
         "public int compareTo(Point other)", ""),
    ],
    APP: [
        ("class", A, 11, PUB, False, False, "public final class App", ""),
        ("field", f"{A}.shapes", 12, PRIV, False, False, "private final List<Shape> shapes", ""),
        ("method", f"{A}.main", 14, PUB, False, True,
         "public static void main(String[] args) throws Exception", ""),
        ("method", f"{A}.load", 21, INT, False, False, "void load(String[] paths)", ""),
        ("method", f"{A}.total", 35, PRIV, False, False, "private double total()", ""),
        ("method", f"{A}.sorted", 43, INT, False, False,
         "<T extends Shape> List<T> sorted(List<T> items)", ""),
        ("method", f"{A}.sort", 48, INT, False, False, "void sort()", ""),
        ("method", f"{A}.print", 56, INT, False, False, "void print(double value)", ""),
        ("method", f"{A}.print", 60, INT, False, False, "void print(String text)", ""),
        ("method", f"{A}.builder", 64, INT, False, False, "Builder builder()", ""),
    ],
    SCRATCH: [
        ("class", "Scratch", 1, INT, False, False, "class Scratch", ""),
        ("method", "Scratch.twice", 2, INT, False, True, "static int twice(int x)", ""),
        ("method", "Scratch.helper", 6, INT, False, True, "static int helper(int x)", ""),
        ("method", "Scratch.after", 10, INT, False, False, "void after()", ""),
    ],
}  # fmt: skip

EXPECTED_REFERENCES = {
    SHAPE: [
        ("implements", f"{M}.Shape", "Comparable", 7, 39, None, None, False, False),
        ("implements", f"{M}.Shape", "Named", 7, 58, None, None, False, False),
        ("calls", f"{M}.Shape.compareTo", "Double.compare", 16, 15, None, None, False, False),
        ("calls", f"{M}.Shape.compareTo", "area", 16, 30, None, None, True, False),
        ("calls", f"{M}.Shape.compareTo", "Shape.area", 16, 43, None, None, False, False),
        ("returns", f"{M}.Shape.name", "String", 19, 11, None, None, False, False),
    ],
    NAMED: [
        ("imports", M, "java.io.Serializable", 3, 0, "Serializable", "Serializable", False,
         False),
        ("inherits", f"{M}.Named", "Serializable", 5, 31, None, None, False, False),
        ("returns", f"{M}.Named.name", "String", 8, 4, None, None, False, False),
        ("returns", f"{M}.Named.shortName", "String", 10, 12, None, None, False, False),
        ("calls", f"{M}.Named.shortName", "name", 11, 15, None, None, False, False),
        ("calls", f"{M}.Named.shortName", "Math.min", 11, 35, None, None, False, False),
        ("calls", f"{M}.Named.shortName", "name", 11, 44, None, None, False, False),
    ],
    CIRCLE: [
        ("imports", M, "java.util.List", 3, 0, "List", "List", False, False),
        ("inherits", C, "Shape", 5, 28, None, None, False, False),
        # this(...) and super(...): calls of the class's and the superclass's constructors
        ("calls", f"{C}.<init>", "Circle", 10, 8, None, None, False, False),
        ("calls", f"{C}.<init>", "Shape", 14, 8, None, None, False, False),
        ("calls", f"{C}.area", "Unit.factor", 21, 43, None, None, False, False),
        ("returns", f"{C}.of", "Circle", 24, 18, None, None, False, False),
        ("calls", f"{C}.of", "Circle", 25, 15, None, None, False, False),
        ("returns", f"{C}.outline", "List", 28, 11, None, None, False, False),
        ("calls", f"{C}.outline", "Outline.trace", 29, 15, None, None, False, False),
        ("returns", f"{C}.Builder.radius", "Builder", 36, 15, None, None, False, False),
        ("returns", f"{C}.Builder.build", "Circle", 41, 15, None, None, False, False),
        ("calls", f"{C}.Builder.build", "Circle", 42, 19, None, None, False, False),
        ("calls", f"{C}.Unit.INCH.factor", "super.factor", 51, 23, None, None, False, False),
        ("implements", f"{C}.Point", "Comparable", 66, 55, None, None, False, False),
        ("calls", f"{C}.Point.compareTo", "Double.compare", 68, 19, None, None, False, False),
        ("calls", f"{C}.Point.compareTo", "Point.x", 68, 37, None, None, False, False),
    ],
    APP: [
        ("imports", "com.acme.app", "com.acme.model.Circle", 3, 0, "Circle", "Circle", False,
         False),
        ("imports", "com.acme.app", "com.acme.model.Circle.Builder", 4, 0, "Circle.Builder",
         "Builder", False, False),
        ("imports", "com.acme.app", "com.acme.model.*", 5, 0, "*", None, False, False),
        ("imports", "com.acme.app", "java.util.ArrayList", 6, 0, "ArrayList", "ArrayList", False,
         False),
        ("imports", "com.acme.app", "java.util.List", 7, 0, "List", "List", False, False),
        ("imports", "com.acme.app", "java.lang.Math.max", 8, 0, "Math.max", "max", False, False),
        ("imports", "com.acme.app", "com.acme.model.Shape.EPSILON", 9, 0, "Shape.EPSILON",
         "EPSILON", False, False),
        ("calls", f"{A}.shapes", "ArrayList", 12, 39, None, None, False, False),
        ("calls", f"{A}.main", "App", 15, 18, None, None, False, False),
        ("calls", f"{A}.main", "App.load", 16, 8, None, None, False, False),
        ("calls", f"{A}.main", "App.print", 17, 32, None, None, False, False),
        ("calls", f"{A}.main", "App.total", 17, 42, None, None, False, False),
        ("calls", f"{A}.main", "Runnable.run", 18, 8, None, None, False, False),
        ("calls", f"{A}.load", "List.add", 23, 12, None, None, False, False),
        ("calls", f"{A}.load", "Circle.of", 23, 23, None, None, False, False),
        ("calls", f"{A}.load", "Double.parseDouble", 23, 33, None, None, False, False),
        ("calls", f"{A}.load", "sort", 25, 8, None, None, True, False),
        # Inside the anonymous Runnable `this` is that object, not an App.
        ("calls", f"{A}.load", "this.run", 29, 16, None, None, False, False),
        # A bare call there keeps the anonymous class's supertype in ``member``:
        # the resolver must not bind it to what App inherits.
        ("calls", f"{A}.load", "sort", 30, 16, "Runnable", None, False, False),
        ("calls", f"{A}.total", "max", 38, 18, None, None, False, False),
        ("calls", f"{A}.total", "Shape.area", 38, 27, None, None, False, False),
        ("returns", f"{A}.sorted", "List", 43, 22, None, None, False, False),
        ("calls", f"{A}.sorted", "List.sort", 44, 8, None, None, False, False),
        ("calls", f"{A}.sort", "sorted", 50, 12, None, None, False, False),
        ("calls", f"{A}.sort", "error.printStackTrace", 52, 12, None, None, False, True),
        ("calls", f"{A}.print", "System.out.println", 57, 8, None, None, False, False),
        ("calls", f"{A}.print", "print", 61, 8, None, None, False, False),
        ("calls", f"{A}.print", "Double.valueOf", 61, 14, None, None, False, False),
        ("returns", f"{A}.builder", "Builder", 64, 4, None, None, False, False),
        ("calls", f"{A}.builder", "Circle.Builder", 65, 15, None, None, False, False),
    ],
    SCRATCH: [
        ("calls", "Scratch.twice", "helper", 3, 15, None, None, False, False),
        ("calls", "Scratch.after", "twice", 11, 8, None, None, False, False),
    ],
}  # fmt: skip


@pytest.mark.parametrize("rel", sorted(EXPECTED_SYMBOLS))
def test_symbols_match_the_hand_written_list(rel: str) -> None:
    assert symbols(extract(rel)) == sorted(EXPECTED_SYMBOLS[rel])


@pytest.mark.parametrize("rel", sorted(EXPECTED_REFERENCES))
def test_references_match_the_hand_written_list(rel: str) -> None:
    assert references(extract(rel)) == sorted(EXPECTED_REFERENCES[rel])


@pytest.mark.parametrize("rel", sorted(EXPECTED_SYMBOLS))
def test_facts_are_well_formed(rel: str) -> None:
    assert_well_formed(extract(rel))


def test_the_module_is_the_declared_package() -> None:
    assert [extract(rel).module_name for rel in (SHAPE, NAMED, CIRCLE, APP, SCRATCH)] == [
        M, M, M, "com.acme.app", ""
    ]  # fmt: skip
    assert [s.name for s in (extract(APP).symbols[0], extract(SCRATCH).symbols[0])] == ["app", ""]
    # A package that does not match the directory still wins over the path guess.
    moved = extract("src/misplaced/X.java", b"package real.pkg;\nclass X {}\n")
    assert moved.module_name == "real.pkg" and moved.symbols[1].qualified_name == "real.pkg.X"


def test_syntax_error_is_reported_and_the_rest_is_kept() -> None:
    facts = extract(SCRATCH)
    assert facts.error is not None and "line 7" in facts.error
    assert all(extract(rel).error is None for rel in (SHAPE, NAMED, CIRCLE, APP))


def test_generic_returns_and_type_variables() -> None:
    source = b"""package p;
class Box<T> {
    T get() { return null; }
    <U> Box<U> map(java.util.function.Function<T, U> f) { return null; }
    java.util.Map.Entry<String, T> entry() { return null; }
    int[] sizes() { return null; }
    Box<T>[] many() { return null; }
}
"""
    returns = [(r.target, r.line) for r in extract("p/Box.java", source).references
               if r.kind == "returns"]  # fmt: skip
    assert returns == [("Box", 4), ("java.util.Map.Entry", 5), ("Box", 7)]


def test_local_and_anonymous_classes() -> None:
    source = b"""package p;
class Outer {
    void work() {
        class Local { void help() { this.assist(); } void assist() {} }
        Object o = new Object() { public String toString() { return helper(); } };
    }
}
"""
    facts = extract("p/Outer.java", source)
    assert [(s.kind, s.qualified_name, s.visibility) for s in facts.symbols[1:]] == [
        ("class", "p.Outer", "internal"),
        ("method", "p.Outer.work", "internal"),
        ("class", "p.Outer.work.Local", "private"),
        ("method", "p.Outer.work.Local.help", "internal"),
        ("method", "p.Outer.work.Local.assist", "internal"),
    ]
    calls = [(facts.symbols[r.source].name, r.target, r.via_self) for r in facts.references]
    assert calls == [("help", "assist", True), ("work", "helper", False)]


@pytest.mark.parametrize(
    ("spec", "module"),
    [
        ("java.util.List", "java.util"),
        ("java.util.*", "java.util"),
        ("java.util.Map.Entry", "java.util"),
        ("java.lang.Math.max", "java.lang"),
        ("com.acme.model.Shape.EPSILON", "com.acme.model"),
        ("com.acme.model.Shape.*", "com.acme.model"),
        ("org.lowercase.thing", "org.lowercase"),
        ("TopLevel", None),
    ],
)
def test_import_module_is_the_package(spec: str, module: str | None) -> None:
    assert JAVA.import_module(APP, spec) == module


@pytest.mark.parametrize(
    ("path", "module"),
    [
        (SHAPE, "com.acme.model"),
        ("src/test/java/com/acme/AppTest.java", "com.acme"),
        ("com/acme/App.java", "com.acme"),
        ("App.java", ""),
    ],
)
def test_module_name_guesses_the_package_from_the_path(path: str, module: str) -> None:
    assert JAVA.module_name(path) == module


def test_every_fixture_import_of_the_workspace_maps_to_a_fixture_package() -> None:
    packages = {extract(p.relative_to(FIXTURES).as_posix()).module_name
                for p in FIXTURES.rglob("*.java")}  # fmt: skip
    targets = [r.target for r in extract(APP).references if r.kind == "imports"]
    inside = [t for t in targets if t.startswith("com.acme")]
    assert len(inside) == 4
    assert all(JAVA.import_module(APP, t) in packages for t in inside)


def test_registry_claims_java() -> None:
    assert language_for_extension(".java") is JAVA
    assert JAVA.members_in_scope is True  # a bare foo() in a method may mean this.foo()
    assert {"String", "System", "Math", "Integer"} <= JAVA.builtins


_NOISE = [b"{", b"}", b"(", b")", b"class ", b"@Override ", b"<T>", b"->", b"\xff\xfe"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mangled_sources_never_raise(data: st.DataObject) -> None:
    """Cut and splice fixture files at random: extraction degrades, never fails."""
    rel = data.draw(st.sampled_from(sorted(EXPECTED_SYMBOLS)))
    assert_well_formed(extract(rel, mangled(data, (FIXTURES / rel).read_bytes(), _NOISE)))


# -- resolution through the engine (sqry.graph.index) ---------------------------

EXPECTED_RESOLVED = [
    # calls through a typed local or parameter (``App app = ...; app.load()``)
    ("calls", "com.acme.app.App.main", "App.load", 16, "com.acme.app.App.load", "local"),
    ("calls", "com.acme.app.App.main", "App.print", 17, "com.acme.app.App.print", "local"),
    ("calls", "com.acme.app.App.main", "App.total", 17, "com.acme.app.App.total", "local"),
    # ... or a for-each variable (``for (Shape shape : shapes) shape.area()``)
    ("calls", f"{A}.total", "Shape.area", 38, "com.acme.model.Shape.area", "import"),
    ("calls", f"{C}.<init>", "Circle", 10, C, "local"),  # this(radius, Unit.CM)
    ("calls", f"{C}.<init>", "Shape", 14, "com.acme.model.Shape", "package"),  # super()
    # ... or a field of the class (``private Unit unit``; ``unit.factor()``)
    ("calls", f"{C}.area", "Unit.factor", 21, f"{C}.Unit.factor", "local"),
    ("calls", "com.acme.model.Shape.compareTo", "Shape.area", 16, "com.acme.model.Shape.area",
     "local"),
    ("calls", "Scratch.twice", "helper", 3, "Scratch.helper", "local"),
    ("calls", "Scratch.after", "twice", 11, "Scratch.twice", "local"),
    ("imports", "com.acme.app", "com.acme.model.Circle", 3, C, "import"),
    ("imports", "com.acme.app", "com.acme.model.*", 5, M, "import"),
    ("calls", f"{A}.main", "App", 15, A, "local"),
    ("calls", f"{A}.load", "Circle.of", 23, f"{C}.of", "import"),
    ("calls", f"{A}.load", "sort", 25, f"{A}.sort", "self"),
    # a bare call in an anonymous class reaches the enclosing class's method
    ("calls", f"{A}.load", "sort", 30, f"{A}.sort", "local"),
    ("calls", f"{A}.sort", "sorted", 50, f"{A}.sorted", "local"),
    ("calls", f"{A}.print", "print", 61, f"{A}.print", "local"),
    ("calls", f"{A}.builder", "Circle.Builder", 65, f"{C}.Builder", "import"),
    # imports of a nested class or a static member bind the member below the package
    ("imports", "com.acme.app", "com.acme.model.Circle.Builder", 4, f"{C}.Builder", "import"),
    ("imports", "com.acme.app", "com.acme.model.Shape.EPSILON", 9, f"{M}.Shape.EPSILON",
     "import"),
    ("returns", f"{A}.builder", "Builder", 64, f"{C}.Builder", "import"),
    ("inherits", C, "Shape", 5, f"{M}.Shape", "package"),
    ("returns", f"{C}.of", "Circle", 24, C, "local"),
    ("calls", f"{C}.of", "Circle", 25, C, "local"),
    ("returns", f"{C}.Builder.radius", "Builder", 36, f"{C}.Builder", "local"),
    ("returns", f"{C}.Builder.build", "Circle", 41, C, "local"),
    ("calls", f"{C}.Builder.build", "Circle", 42, C, "local"),
    ("calls", f"{M}.Named.shortName", "name", 11, f"{M}.Named.name", "local"),  # name()
    ("calls", f"{M}.Named.shortName", "name", 11, f"{M}.Named.name", "local"),  # name().length()
    ("implements", f"{M}.Shape", "Named", 7, f"{M}.Named", "package"),
    ("calls", f"{M}.Shape.compareTo", "area", 16, f"{M}.Shape.area", "self"),
]  # fmt: skip

RESOLVER_GAPS: dict[tuple, set[str | None]] = {}  # none known


@pytest.mark.timeout(120)
def test_resolved_edges_through_the_index(tmp_path: Path) -> None:
    """Every edge the engine binds, with the rule that bound it; the rest stay
    unresolved (parameters, locals, the JDK, packages outside the workspace)."""
    edges = indexed_edge_rows("java", tmp_path)
    assert len(edges) == sum(len(refs) for refs in EXPECTED_REFERENCES.values())
    check_resolution(edges, EXPECTED_RESOLVED, RESOLVER_GAPS)
