"""JavaScript/JSX extraction, checked against a hand-written fixture project.

``tests/graph/fixtures/javascript`` is a small app (a util package with an
``index.js``, classes with bases and this-calls, a JSX component, a CommonJS
file, a file with a syntax error). Every symbol and every reference of each
file is written out below and compared as a whole, so a missing, extra or
changed fact fails.
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

FIXTURES = Path(__file__).parent / "fixtures" / "javascript"
JS = all_languages()["javascript"]


def extract(rel: str, source: bytes | None = None) -> FileFacts:
    return extract_fixture("javascript", rel, source)


PUB, PRIV = "public", "private"

EXPECTED_SYMBOLS = {
    "src/util/index.js": [
        ("function", "src/util.clamp", 5, PUB, False, False, "function clamp(x, lo, hi)",
         "Clamp x into [lo, hi]."),
        ("constant", "src/util.TAU", 9, PUB, False, False, "const TAU", ""),
        ("variable", "src/util.calls", 10, PRIV, False, False, "let calls", ""),
        ("function", "src/util.fetchJson", 13, PUB, True, False,
         "async function fetchJson(url, { retries = 1 } = {})", "Fetch and decode JSON."),
        ("function", "src/util.internal", 19, PRIV, False, False, "function internal(cb)", ""),
        ("function", "src/util.log", 24, PUB, False, False, "function log(message)", ""),
    ],
    "src/shapes.js": [
        ("class", "src/shapes.Shape", 5, PUB, False, False, "class Shape", "A shape on the canvas."),
        ("field", "src/shapes.Shape.count", 6, PUB, False, True, "static count", ""),
        ("field", "src/shapes.Shape.#id", 7, PRIV, False, False, "#id", ""),
        ("method", "src/shapes.Shape.constructor", 9, PUB, False, False, "constructor(name)", ""),
        ("method", "src/shapes.Shape.register", 15, PUB, False, False, "register()", ""),
        ("method", "src/shapes.Shape.id", 19, PUB, False, False, "get id()", ""),
        ("method", "src/shapes.Shape.area", 23, PUB, False, False, "area()", ""),
        ("class", "src/shapes.Circle", 28, PUB, False, False, "class Circle extends Shape", ""),
        ("field", "src/shapes.Circle.radius", 29, PUB, False, False, "radius", ""),
        ("method", "src/shapes.Circle.onResize", 30, PUB, False, False, "onResize = (size) =>", ""),
        ("method", "src/shapes.Circle.unit", 34, PUB, False, True, "static unit()", ""),
        ("method", "src/shapes.Circle.resize", 38, PUB, False, False, "resize(size)", ""),
        ("method", "src/shapes.Circle.area", 43, PUB, False, False, "area()", ""),
        ("function", "src/shapes.Circle.area.scale", 44, PRIV, False, False,
         "const scale = (r) =>", ""),
        ("method", "src/shapes.Circle.#half", 49, PRIV, False, False, "#half()", ""),
        ("method", "src/shapes.Circle.points", 53, PUB, False, False, "*points(n)", ""),
        ("function", "src/shapes.makeShapes", 60, PUB, False, False, "function makeShapes(names)",
         ""),
        ("function", "src/shapes.makeShapes.build", 61, PRIV, False, False, "function build(name)",
         ""),
    ],
    "src/ui/Panel.jsx": [
        ("function", "src/ui/Panel.Panel", 6, PUB, False, False,
         "const Panel = ({ title, children }) =>", "Titled box."),
        ("function", "src/ui/Panel.ShapeList", 13, PUB, False, False,
         "function ShapeList({ names, Item })", ""),
        ("function", "src/ui/Panel.ShapeList.load", 15, PRIV, True, False,
         "const load = async () =>", ""),
    ],
    "src/legacy.cjs": [
        ("function", "src/legacy.readConfig", 5, PUB, False, False, "function readConfig(dir)", ""),
        ("variable", "src/legacy.cache", 10, PUB, False, False, "var cache", ""),
    ],
    "src/broken.js": [
        ("function", "src/broken.before", 1, PUB, False, False, "function before()", ""),
        ("function", "src/broken.broken", 5, PRIV, False, False, "function broken(a)", ""),
        ("class", "src/broken.After", 10, PUB, False, False, "class After", ""),
        ("method", "src/broken.After.run", 11, PUB, False, False, "run()", ""),
    ],
}  # fmt: skip

EXPECTED_REFERENCES = {
    "src/util/index.js": [
        ("calls", "src/util.clamp", "Math.min", 6, 9, None, None, False, False),
        ("calls", "src/util.clamp", "Math.max", 6, 18, None, None, False, False),
        ("calls", "src/util.fetchJson", "fetch", 15, 25, None, None, False, False),
        ("calls", "src/util.fetchJson", "response.json", 16, 9, None, None, False, True),
        ("calls", "src/util.internal", "cb", 20, 2, None, None, False, True),
        ("calls", "src/util.internal", "clamp", 21, 9, None, None, False, False),
        ("calls", "src/util.log", "console.log", 25, 2, None, None, False, False),
        # `export default function log` is `export {log as default}`.
        ("imports", "src/util", "./index", 24, 24, "log", "default", False, False),
    ],
    "src/shapes.js": [
        ("imports", "src/shapes", "./util", 1, 9, "clamp", "clamp", False, False),
        ("imports", "src/shapes", "./util", 1, 16, "TAU", "FULL", False, False),
        ("imports", "src/shapes", "./util/index.js", 2, 7, "default", "log", False, False),
        ("calls", "src/shapes.Shape.constructor", "register", 12, 4, None, None, True, False),
        ("calls", "src/shapes.Shape.register", "log", 16, 4, None, None, False, False),
        ("inherits", "src/shapes.Circle", "Shape", 28, 28, None, None, False, False),
        ("calls", "src/shapes.Circle.onResize", "resize", 31, 4, None, None, True, False),
        ("calls", "src/shapes.Circle.unit", "Circle", 35, 11, None, None, False, False),
        ("calls", "src/shapes.Circle.resize", "clamp", 39, 18, None, None, False, False),
        ("calls", "src/shapes.Circle.resize", "super.area", 40, 4, None, None, False, False),
        ("calls", "src/shapes.Circle.area", "helpers.round", 45, 4, None, None, False, False),
        ("calls", "src/shapes.Circle.area", "scale", 45, 18, None, None, False, False),
        ("calls", "src/shapes.Circle.area", "#half", 46, 18, None, None, True, False),
        ("calls", "src/shapes.Circle.points", "range", 54, 20, None, None, False, False),
        ("calls", "src/shapes.makeShapes.build", "Shape", 62, 11, None, None, False, False),
        ("calls", "src/shapes.makeShapes", "names.map", 64, 9, None, None, False, True),
        ("calls", "src/shapes.makeShapes", "build", 64, 29, None, None, False, False),
    ],
    "src/ui/Panel.jsx": [
        ("imports", "src/ui/Panel", "react", 1, 7, "default", "React", False, False),
        ("imports", "src/ui/Panel", "react", 1, 16, "useState", "useState", False, False),
        ("imports", "src/ui/Panel", "../shapes", 2, 7, None, "shapes", False, False),
        ("imports", "src/ui/Panel", "../util", 3, 9, "fetchJson", "fetchJson", False, False),
        ("calls", "src/ui/Panel.ShapeList", "useState", 14, 28, None, None, False, False),
        ("calls", "src/ui/Panel.ShapeList.load", "setItems", 15, 27, None, None, False, True),
        ("calls", "src/ui/Panel.ShapeList.load", "fetchJson", 15, 42, None, None, False, False),
        ("calls", "src/ui/Panel.ShapeList", "Panel", 17, 5, None, None, False, False),
        ("calls", "src/ui/Panel.ShapeList", "ui.Toolbar", 18, 7, None, None, False, False),
        ("calls", "src/ui/Panel.ShapeList", "shapes.makeShapes", 19, 7, None, None, False, False),
        ("calls", "src/ui/Panel.ShapeList", "Item", 20, 9, None, None, False, True),
        ("calls", "src/ui/Panel.ShapeList", "shape.area", 20, 35, None, None, False, True),
        ("imports", "src/ui/Panel", "./Panel", 13, 24, "ShapeList", "default", False, False),
    ],
    "src/legacy.cjs": [
        ("imports", "src/legacy", "fs", 1, 6, None, "fs", False, False),
        ("imports", "src/legacy", "path", 2, 8, "join", "join", False, False),
        ("imports", "src/legacy", "path", 2, 23, "resolve", "toAbsolute", False, False),
        ("imports", "src/legacy", "./shapes", 3, 6, "Shape", "shapes", False, False),
        ("calls", "src/legacy.readConfig", "fs.readFileSync", 6, 14, None, None, False, False),
        ("calls", "src/legacy.readConfig", "join", 6, 30, None, None, False, False),
        ("calls", "src/legacy.readConfig", "toAbsolute", 6, 35, None, None, False, False),
        ("calls", "src/legacy.readConfig", "JSON.parse", 7, 9, None, None, False, False),
    ],
    "src/broken.js": [
        ("calls", "src/broken.before", "ready", 2, 2, None, None, False, False),
        ("calls", "src/broken.broken", "helper", 7, 2, None, None, False, False),
        ("calls", "src/broken.After.run", "go", 12, 4, None, None, True, False),
    ],
}  # fmt: skip


@pytest.mark.parametrize("rel", sorted(EXPECTED_SYMBOLS))
def test_symbols_match_the_hand_written_list(rel: str) -> None:
    assert symbols(extract(rel)) == sorted(EXPECTED_SYMBOLS[rel])


@pytest.mark.parametrize("rel", sorted(EXPECTED_REFERENCES))
def test_references_match_the_hand_written_list(rel: str) -> None:
    assert references(extract(rel)) == sorted(EXPECTED_REFERENCES[rel])


@pytest.mark.parametrize("rel", sorted(EXPECTED_SYMBOLS))
def test_module_symbol_and_parents_are_consistent(rel: str) -> None:
    facts = extract(rel)
    assert facts.module_name == JS.module_name(rel)
    assert_well_formed(facts)


_NOISE = [b"{", b"}", b"(", b")", b"class ", b"=>", b"<div>", b"`${", b"/*", b"\xff\xfe"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mangled_sources_never_raise(data: st.DataObject) -> None:
    """Cut and splice fixture files at random: extraction degrades, never fails."""
    rel = data.draw(st.sampled_from(sorted(EXPECTED_SYMBOLS)))
    source = mangled(data, (FIXTURES / rel).read_bytes(), _NOISE)
    assert_well_formed(extract(rel, source))


def test_spans_are_one_based_lines_and_zero_based_columns() -> None:
    facts = extract("src/shapes.js")
    spans = {s.qualified_name: (s.start_line, s.start_column, s.end_line, s.end_column)
             for s in facts.symbols}  # fmt: skip
    assert spans["src/shapes.Shape"] == (5, 7, 26, 1)  # `export class` → the `class` keyword
    assert spans["src/shapes.Circle.area.scale"] == (44, 10, 44, 30)  # the declarator
    assert spans["src/shapes"] == (1, 0, 66, 0)


def test_syntax_error_is_reported_and_the_rest_is_kept() -> None:
    facts = extract("src/broken.js")
    assert facts.error is not None and "line 6" in facts.error
    assert extract("src/shapes.js").error is None


def test_object_literal_methods_and_anonymous_classes_are_not_class_members() -> None:
    source = b"""
const api = { get() { this.load(); } };
function factory() {
  return class extends Base { run() { this.go(); } };
}
"""
    facts = extract("src/inline.js", source)
    assert symbols(facts) == sorted([
        ("constant", "src/inline.api", 2, "public", False, False, "const api", ""),
        ("function", "src/inline.factory", 3, "public", False, False, "function factory()", ""),
    ])  # fmt: skip
    # `this` is not a named class's instance here: no via_self edge to bind wrongly.
    assert references(facts) == sorted([
        ("calls", "src/inline.api", "this.load", 2, 22, None, None, False, False),
        ("calls", "src/inline.factory", "this.go", 4, 38, None, None, False, False),
    ])  # fmt: skip


def test_this_inside_a_nested_plain_function_is_not_the_instance() -> None:
    source = b"""
class Timer {
  start() {
    setTimeout(function () { this.tick(); }, 10);
    setTimeout(() => this.tick(), 10);
  }
  tick() {}
}
"""
    calls = [(r.target, r.via_self) for r in extract("t.js", source).references]
    assert calls == [("setTimeout", False), ("this.tick", False), ("setTimeout", False),
                     ("tick", True)]  # fmt: skip


def test_default_exports_and_reexports() -> None:
    """A re-export is an import of its module whose alias is the exported name
    (the resolver's module-member rule follows it); an export under another
    name is an import of the file's own module."""
    source = b"""export default class { m() {} }
export * from "./a";
export * as ns from "./b";
export { x, y as z } from "../c";
const w = 1;
export { w, w as omega };
export { default } from "./d";
export { default as Dee, e as default } from "./e";
export { "f-g" as h, i as "j-k" } from "./f";
export { w as "l-m" };
"""
    facts = extract("lib/index.mjs", source)
    assert facts.module_name == "lib"
    assert symbols(facts) == sorted([
        ("class", "lib.default", 1, "public", False, False, "class", ""),
        ("method", "lib.default.m", 1, "public", False, False, "m()", ""),
        ("constant", "lib.w", 5, "public", False, False, "const w", ""),
    ])  # fmt: skip
    assert references(facts) == sorted([
        ("imports", "lib", "./a", 2, 14, "*", None, False, False),
        ("imports", "lib", "./b", 3, 7, None, "ns", False, False),
        ("imports", "lib", "../c", 4, 9, "x", "x", False, False),
        ("imports", "lib", "../c", 4, 12, "y", "z", False, False),
        ("imports", "lib", "./index", 6, 12, "w", "omega", False, False),
        ("imports", "lib", "./d", 7, 9, "default", "default", False, False),
        ("imports", "lib", "./e", 8, 9, "default", "Dee", False, False),
        ("imports", "lib", "./e", 8, 25, "e", "default", False, False),
        # string export names (ES2022) are recorded without their quotes
        ("imports", "lib", "./f", 9, 9, "f-g", "h", False, False),
        ("imports", "lib", "./f", 9, 21, "i", "j-k", False, False),
        ("imports", "lib", "./index", 10, 9, "w", "l-m", False, False),
    ])  # fmt: skip


def test_a_reexported_name_is_not_exported_from_the_file_itself() -> None:
    """``export {a} from './x'`` exports ``x.a``, not the file's own (private) ``a``."""
    facts = extract("lib.js", b'function a() {}\nexport { a } from "./x";\n')
    assert symbols(facts) == [("function", "lib.a", 1, "private", False, False, "function a()", "")]
    assert references(facts) == [("imports", "lib", "./x", 2, 9, "a", "a", False, False)]


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("src/util.js", "src/util"),
        ("src/util/index.js", "src/util"),
        ("src/ui/Panel.jsx", "src/ui/Panel"),
        ("index.js", "index"),
        ("scripts/build.mjs", "scripts/build"),
        ("config.prod.cjs", "config.prod"),
    ],
)
def test_module_name(path: str, module: str) -> None:
    assert JS.module_name(path) == module


@pytest.mark.parametrize(
    ("importer", "spec", "module"),
    [
        ("src/app.js", "./util", "src/util"),
        ("src/app.js", "./util.js", "src/util"),
        ("src/app.js", "./util/index.js", "src/util"),
        ("src/ui/Panel.jsx", "../shapes", "src/shapes"),
        ("src/ui/Panel.jsx", "..", "src"),
        ("src/ui/Panel.jsx", "./", "src/ui"),
        ("app.js", ".", "index"),
        ("src/app.js", "../../outside", None),
        ("src/app.js", "react", None),
        ("src/app.js", "@scope/pkg/sub", None),
        ("src/app.js", "/abs/path", None),
    ],
)
def test_import_module(importer: str, spec: str, module: str | None) -> None:
    assert JS.import_module(importer, spec) == module


def test_every_import_in_the_fixture_maps_to_a_fixture_module() -> None:
    """Relative imports resolve to modules that exist in the fixture project."""
    modules = {JS.module_name(p.relative_to(FIXTURES).as_posix())
               for p in FIXTURES.rglob("*") if p.suffix in JS.extensions}  # fmt: skip
    for rel in EXPECTED_REFERENCES:
        for ref in extract(rel).references:
            if ref.kind == "imports" and ref.target.startswith("."):
                assert JS.import_module(rel, ref.target) in modules, (rel, ref.target)


def test_registry_claims_the_javascript_extensions() -> None:
    for ext in (".js", ".jsx", ".mjs", ".cjs"):
        assert language_for_extension(ext) is JS
    assert "node" in JS.shebangs
    assert JS.members_in_scope is False  # a bare f() in a method never means this.f()
    assert {"console", "setTimeout", "Promise", "require"} <= JS.builtins


# -- resolution through the engine (sqry.graph.index) ---------------------------

EXPECTED_RESOLVED = [
    ("imports", "src/legacy", "./shapes", 3, "src/shapes.Shape", "import"),
    ("imports", "src/shapes", "./util", 1, "src/util.clamp", "import"),
    ("imports", "src/shapes", "./util", 1, "src/util.TAU", "import"),
    # the default import reaches `export default function log` through its alias
    ("imports", "src/shapes", "./util/index.js", 2, "src/util.log", "import"),
    ("imports", "src/util", "./index", 24, "src/util.log", "import"),
    ("imports", "src/ui/Panel", "../shapes", 2, "src/shapes", "import"),
    ("imports", "src/ui/Panel", "../util", 3, "src/util.fetchJson", "import"),
    ("imports", "src/ui/Panel", "./Panel", 13, "src/ui/Panel.ShapeList", "import"),
    ("calls", "src/shapes.Shape.constructor", "register", 12, "src/shapes.Shape.register", "self"),
    ("calls", "src/shapes.Shape.register", "log", 16, "src/util.log", "import"),
    ("inherits", "src/shapes.Circle", "Shape", 28, "src/shapes.Shape", "local"),
    ("calls", "src/shapes.Circle.onResize", "resize", 31, "src/shapes.Circle.resize", "self"),
    ("calls", "src/shapes.Circle.unit", "Circle", 35, "src/shapes.Circle", "local"),
    ("calls", "src/shapes.Circle.resize", "clamp", 39, "src/util.clamp", "import"),
    ("calls", "src/shapes.Circle.resize", "super.area", 40, "src/shapes.Shape.area", "self"),
    ("calls", "src/shapes.Circle.area", "scale", 45, "src/shapes.Circle.area.scale", "local"),
    # `#private` is a name like any other (LanguageSpec.is_identifier)
    ("calls", "src/shapes.Circle.area", "#half", 46, "src/shapes.Circle.#half", "self"),
    ("calls", "src/shapes.makeShapes.build", "Shape", 62, "src/shapes.Shape", "local"),
    ("calls", "src/shapes.makeShapes", "build", 64, "src/shapes.makeShapes.build", "local"),
    ("calls", "src/ui/Panel.ShapeList.load", "fetchJson", 15, "src/util.fetchJson", "import"),
    ("calls", "src/ui/Panel.ShapeList", "Panel", 17, "src/ui/Panel.Panel", "local"),
    ("calls", "src/ui/Panel.ShapeList", "shapes.makeShapes", 19, "src/shapes.makeShapes",
     "import"),
    ("calls", "src/util.internal", "clamp", 21, "src/util.clamp", "local"),
]  # fmt: skip

RESOLVER_GAPS: dict[tuple, set[str | None]] = {}  # none known


@pytest.mark.timeout(120)
def test_resolved_edges_through_the_index(tmp_path: Path) -> None:
    """Every edge the engine binds, with the rule that bound it; the rest stay
    unresolved (parameters, locals, globals, packages outside the workspace)."""
    edges = indexed_edge_rows("javascript", tmp_path)
    assert len(edges) == sum(len(refs) for refs in EXPECTED_REFERENCES.values())
    check_resolution(edges, EXPECTED_RESOLVED, RESOLVER_GAPS)


def test_commonjs_and_prototype_definitions() -> None:
    source = b"""module.exports = class Agent extends Base {
  m() { this.x(); }
};
exports.f = async (a) => a;
module.exports.g = function () {};
function Foo() {}
/** Bar it. */
Foo.prototype.bar = function (x) { helper(x); };
Foo.create = () => new Foo();
Unknown.prototype.z = function () {};
window.onload = function () {};
if (ready) { exports.late = function () {}; }
"""
    facts = extract("lib/agent.js", source)
    assert symbols(facts) == sorted([
        ("class", "lib/agent.Agent", 1, "public", False, False, "class Agent extends Base", ""),
        ("method", "lib/agent.Agent.m", 2, "public", False, False, "m()", ""),
        ("function", "lib/agent.f", 4, "public", True, False, "exports.f = async (a) =>", ""),
        ("function", "lib/agent.g", 5, "public", False, False,
         "module.exports.g = function ()", ""),
        ("function", "lib/agent.Foo", 6, "public", False, False, "function Foo()", ""),
        ("method", "lib/agent.Foo.bar", 8, "public", False, False,
         "Foo.prototype.bar = function (x)", "Bar it."),
        ("method", "lib/agent.Foo.create", 9, "public", False, True, "Foo.create = () =>", ""),
    ])  # fmt: skip
    assert references(facts) == sorted([
        ("inherits", "lib/agent.Agent", "Base", 1, 37, None, None, False, False),
        ("calls", "lib/agent.Agent.m", "x", 2, 8, None, None, True, False),
        ("calls", "lib/agent.Foo.bar", "helper", 8, 35, None, None, False, False),
        ("calls", "lib/agent.Foo.create", "Foo", 9, 19, None, None, False, False),
    ])  # fmt: skip
