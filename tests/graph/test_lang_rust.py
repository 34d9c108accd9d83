"""Rust extraction, checked against the hand-written expectations of fixtures/rust."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lang_kit import (
    check_invariants,
    check_mangled,
    check_truncations,
    docs,
    extract_fixture,
    extract_source,
    reference_lines,
    signatures,
    spec,
    symbol,
    symbol_lines,
)

RUST = spec("rust")


def test_crate_root():
    facts = extract_fixture("rust", "src/lib.rs")
    assert facts.language == "rust" and facts.module_name == "crate" and facts.error is None
    assert symbol_lines(facts) == {
        "module crate @1 public in -",
        "function crate::total_area @9 public in crate",
        "macro crate::square @14 public in crate",
        "function crate::unit @20 internal in crate",
    }
    assert reference_lines(facts) == {
        "imports crate -> self::shapes @2 alias=shapes",
        "imports crate -> self::util @3 alias=util",
        "imports crate -> crate::shapes @5 member=Circle alias=Circle",
        "imports crate -> crate::shapes @5 member=Shape alias=Figure",
        "imports crate -> util @6 member=*",
        # a chain on a parameter: kept as written, marked local, never resolved
        "calls crate::total_area -> items.iter().map(|s| s.area()).sum @10 local",
        "calls crate::total_area -> items.iter().map @10 local",
        "calls crate::total_area -> items.iter @10 local",
        "calls crate::total_area -> s.area @10 local",
        "returns crate::unit -> Circle @20",
        "calls crate::unit -> Circle::new @21",
        "calls crate::unit -> clamp @21",
    }
    assert docs(facts) == {
        "crate": "Geometry crate.",
        "crate::total_area": "Total area of all shapes.",
    }
    sigs = signatures(facts)
    assert sigs["crate::total_area"] == "pub fn total_area(items: &[Box<dyn Figure>]) -> f64"
    assert sigs["crate::square"] == "macro_rules! square"
    assert sigs["crate::unit"] == "pub(crate) fn unit() -> Circle"


def test_traits_impls_enums_and_inline_modules():
    facts = extract_fixture("rust", "src/shapes.rs")
    m = "crate::shapes"
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"trait {m}::Shape @9 public in {m}",
        f"method {m}::Shape::area @11 public in {m}::Shape",
        f"method {m}::Shape::name @12 public in {m}::Shape",
        f"struct {m}::Circle @19 public in {m}",
        f"field {m}::Circle::radius @20 public in {m}::Circle",
        f"field {m}::Circle::label @21 internal in {m}::Circle",
        f"field {m}::Circle::cache @22 private in {m}::Circle",
        f"method {m}::Circle::new @27 public static in {m}::Circle",
        f"method {m}::Circle::with_label @32 private static in {m}::Circle",
        f"method {m}::Circle::refresh @36 public async in {m}::Circle",
        f"method {m}::Circle::compute @40 private in {m}::Circle",
        # trait-impl items are as visible as the trait
        f"method {m}::Circle::area @46 public in {m}::Circle",
        f"method {m}::Circle::fmt @52 public in {m}::Circle",
        f"enum {m}::Kind @58 public in {m}",
        f"enum_variant {m}::Kind::Round @59 public in {m}::Kind",
        f"enum_variant {m}::Kind::Square @60 public in {m}::Kind",
        f"field {m}::Kind::Square::side @60 public in {m}::Kind::Square",
        f"constant {m}::DEFAULT_RADIUS @63 public in {m}",
        f"constant {m}::COUNTER @64 private static in {m}",
        f"type {m}::Shapes @66 public in {m}",
        f"module {m}::tests @69 private in {m}",
        f"function {m}::tests::area_of_unit @73 private in {m}::tests",
    }
    assert reference_lines(facts) == {
        f"imports {m} -> self::polygon @2 alias=polygon",
        f"imports {m} -> std @4 member=fmt alias=fmt",
        f"imports {m} -> crate::util @6 member=clamp alias=clamp",
        f"imports {m} -> crate::util @6 member=PI alias=PI",
        f"inherits {m}::Shape -> fmt::Debug @9",
        f"returns {m}::Shape::name -> String @12",
        f"calls {m}::Shape::name -> String::from @13",
        # `-> Self` names the impl's type
        f"returns {m}::Circle::new -> {m}::Circle @27",
        f"calls {m}::Circle::new -> clamp @28",
        f"calls {m}::Circle::new -> with_label @29 self",
        f"returns {m}::Circle::with_label -> Circle @32",
        f"calls {m}::Circle::refresh -> compute @37 self",
        f"calls {m}::Circle::compute -> crate::square @41",
        f"implements {m}::Circle -> Shape @45",
        f"calls {m}::Circle::area -> compute @47 self",
        f"implements {m}::Circle -> fmt::Display @51",
        f"returns {m}::Circle::fmt -> fmt::Result @52",
        f"calls {m}::Circle::fmt -> write @53",
        # `use super::*` inside an inline module is made absolute here
        f"imports {m}::tests -> {m} @70 member=*",
        f"calls {m}::tests::area_of_unit -> Circle::new @74",
        f"calls {m}::tests::area_of_unit -> assert @75",
        f"calls {m}::tests::area_of_unit -> c.area @75 local",  # inside assert!(...)
    }
    assert docs(facts) == {
        m: "Shapes and their areas.",
        f"{m}::Shape": "Anything with an area.",
        f"{m}::Shape::area": "The area.",
        f"{m}::Circle": "A circle.",
        f"{m}::Circle::new": "Makes a circle.",
        f"{m}::Kind": "Kinds of shape.",
    }
    sigs = signatures(facts)
    assert sigs[f"{m}::Shape"] == "pub trait Shape: fmt::Debug"
    assert sigs[f"{m}::Circle::refresh"] == "pub async fn refresh(&mut self)"
    assert sigs[f"{m}::Circle::label"] == "pub(crate) label: Option<String>"
    assert sigs[f"{m}::COUNTER"] == "static COUNTER: u32"
    assert sigs[f"{m}::Kind::Square"] == "Square { side: f64 }"
    circle = symbol(facts, f"{m}::Circle")
    assert (circle.start_line, circle.start_column, circle.end_line, circle.end_column) == (
        19,
        0,
        23,
        1,
    )


def test_file_module_in_a_subdirectory():
    facts = extract_fixture("rust", "src/shapes/polygon.rs")
    m = "crate::shapes::polygon"
    assert facts.module_name == m
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"struct {m}::Polygon @5 public in {m}",
        f"field {m}::Polygon::corners @6 public in {m}::Polygon",
        f"method {m}::Polygon::area @10 public in {m}::Polygon",
        f"function {m}::shoelace @15 private in {m}",
    }
    assert reference_lines(facts) == {
        f"imports {m} -> super @1 member=Shape alias=Shape",
        f"implements {m}::Polygon -> Shape @9",
        f"calls {m}::Polygon::area -> shoelace @11",
        f"calls {m}::shoelace -> points.len @16 local",
    }
    assert docs(facts) == {f"{m}::Polygon": "A polygon given by its corners."}


def test_generic_parameters_are_not_return_types():
    facts = extract_fixture("rust", "src/util.rs")
    assert symbol_lines(facts) == {
        "module crate::util @1 public in -",
        "constant crate::util::PI @2 public in crate::util",
        "function crate::util::clamp @5 public in crate::util",
        "function crate::util::generic @13 internal in crate::util",
    }
    assert reference_lines(facts) == {"calls crate::util::generic -> v.clone @14 local"}
    assert docs(facts) == {
        "crate::util": "Helpers.",
        "crate::util::clamp": "Clamp to non-negative.",
    }


def test_module_names_follow_the_crate_layout():
    assert RUST.module_name("src/lib.rs") == "crate"
    assert RUST.module_name("src/main.rs") == "crate"
    assert RUST.module_name("src/shapes.rs") == "crate::shapes"
    assert RUST.module_name("src/shapes/mod.rs") == "crate::shapes"
    assert RUST.module_name("src/a/b.rs") == "crate::a::b"
    assert RUST.module_name("crates/x/src/a.rs") == "crate::a"
    assert RUST.module_name("tests/it.rs") == "tests::it"
    assert RUST.module_name("build.rs") == "build"


def test_use_paths_are_made_absolute():
    assert RUST.import_module("src/lib.rs", "self::shapes") == "crate::shapes"
    assert RUST.import_module("src/shapes.rs", "self::polygon") == "crate::shapes::polygon"
    assert RUST.import_module("src/shapes/mod.rs", "self::polygon") == "crate::shapes::polygon"
    assert RUST.import_module("src/shapes/polygon.rs", "super") == "crate::shapes"
    assert RUST.import_module("src/a/b.rs", "super::super::x") == "crate::x"
    assert RUST.import_module("src/lib.rs", "util") == "crate::util"
    assert RUST.import_module("src/shapes.rs", "crate::util") == "crate::util"
    assert RUST.import_module("src/lib.rs", "std::fmt") is None
    assert RUST.import_module("src/lib.rs", "super") is None  # above the crate root


def test_use_trees_and_extern_crates():
    source = b"""use a::{b, c as d, e::f, g::*, self};
use ::std::io;
use x as y;
use z::{};
extern crate serde as sd;
extern crate log;
mod outer {
    mod inner {
        use self::deep::Thing;
        use super::super::top;
        mod leaf;
    }
}
"""
    facts = extract_source("rust", source, "src/m.rs")
    assert reference_lines(facts) == {
        "imports crate::m -> a @1 member=b alias=b",
        "imports crate::m -> a @1 member=c alias=d",
        "imports crate::m -> a::e @1 member=f alias=f",
        "imports crate::m -> a::g @1 member=*",
        "imports crate::m -> a @1",
        "imports crate::m -> std @2 member=io alias=io",
        "imports crate::m -> x @3 alias=y",
        "imports crate::m -> serde @5 alias=sd",
        "imports crate::m -> log @6",
        "imports crate::m::outer::inner -> crate::m::outer::inner::deep @9 member=Thing alias=Thing",
        "imports crate::m::outer::inner -> crate::m @10 member=top alias=top",
        "imports crate::m::outer::inner -> crate::m::outer::inner::leaf @11 alias=leaf",
    }


def test_call_forms():
    source = b"""struct S;
impl S {
    fn m(&self, items: Vec<u8>) {
        helper::<u8>();
        Vec::<u8>::new();
        <S as Default>::default();
        self::free();
        super::up();
        Some(1);
        Ok::<u8, ()>(2);
        (self.cb)();
        self.inner.go();
        Self::assoc();
        my_macro!(x);
        (|| other())();
    }
}
"""
    facts = extract_source("rust", source, "src/s.rs")
    s = "crate::s::S::m"
    assert reference_lines(facts) == {
        f"calls {s} -> helper @4",
        f"calls {s} -> Vec::new @5",
        f"calls {s} -> <S as Default>::default @6",
        f"calls {s} -> free @7",
        f"calls {s} -> super::up @8",
        f"calls {s} -> (self.cb) @11",
        f"calls {s} -> self.inner.go @12",
        f"calls {s} -> assoc @13 self",
        f"calls {s} -> my_macro @14",
        f"calls {s} -> other @15",
    }


def test_relative_paths_of_calls_and_types_in_inline_modules_are_made_absolute():
    """As for ``use``: the resolver only knows the file, so ``super::``/``self::``
    in an inline module are resolved here; a file module's stay as written."""
    source = b"""pub fn up() {}
mod net {
    pub fn connect() -> super::Conn { super::up(); self::deep::dive(); assert!(super::ok()) }
    pub struct Conn;
    impl super::Tr for Conn {}
    mod deep {
        pub fn dive() { super::super::up(); crate::m::up(); }
    }
}
fn top() { super::up(); }
"""
    facts = extract_source("rust", source, "src/m.rs")
    calls = {line for line in reference_lines(facts) if not line.startswith("imports")}
    n = "crate::m::net"
    assert calls == {
        f"returns {n}::connect -> crate::m::Conn @3",
        f"calls {n}::connect -> crate::m::up @3",
        f"calls {n}::connect -> deep::dive @3",
        f"calls {n}::connect -> assert @3",
        f"calls {n}::connect -> crate::m::ok @3",
        f"implements {n}::Conn -> crate::m::Tr @5",
        f"calls {n}::deep::dive -> crate::m::up @7",
        "calls crate::m::top -> super::up @10",
    }


def test_calls_inside_expression_macro_arguments():
    source = b"""impl S {
    fn t(&self, c: Circle) {
        assert!(c.area() > 3.0);
        assert_eq!(compute(1), crate::util::clamp(2.0), "{}", self.name());
        println!("{}", format!("{}", inner(x)));
        my_macro!(hidden(1));
        vec![make(1); 3];
        assert!(matches!(x, Foo(y)));
        assert!(Self::new(1).ok() && Some(2).is_some());
    }
}
"""
    facts = extract_source("rust", source, "src/m.rs")
    t = "crate::m::S::t"
    assert reference_lines(facts) == {
        f"calls {t} -> assert @3",
        f"calls {t} -> Circle::area @3",  # c: Circle
        f"calls {t} -> assert_eq @4",
        f"calls {t} -> compute @4",
        f"calls {t} -> crate::util::clamp @4",
        f"calls {t} -> name @4 self",
        f"calls {t} -> println @5",
        f"calls {t} -> format @5",
        f"calls {t} -> inner @5",
        # arguments of macros that are not standard expression macros are opaque
        f"calls {t} -> my_macro @6",
        f"calls {t} -> vec @7",
        f"calls {t} -> make @7",
        f"calls {t} -> assert @8",
        f"calls {t} -> matches @8",
        f"calls {t} -> assert @9",
        f"calls {t} -> new @9 self",
    }


def test_patterns_bind_locals():
    source = b"""fn f(cb: impl Fn(), Point { x, y: py }: Point) {
    let (a, mut b) = make();
    a.go(); b.go(); x.go(); py.go(); cb();
    for it in v { it.run(); }
    if let Some(q) = opt { q.w(); }
    match r { Ok(val) => val.k(), Shape::Circle(r2) => r2.t(), _ => global.u() }
    let g = |p: i32, w| p.u(w);
    g(); Shape::make();
}
"""
    facts = extract_source("rust", source, "src/p.rs")
    f = "crate::p::f"
    assert reference_lines(facts) == {
        f"calls {f} -> make @2",
        f"calls {f} -> a.go @3 local",
        f"calls {f} -> b.go @3 local",
        f"calls {f} -> x.go @3 local",
        f"calls {f} -> py.go @3 local",
        f"calls {f} -> cb @3 local",
        f"calls {f} -> it.run @4 local",
        f"calls {f} -> q.w @5 local",
        f"calls {f} -> val.k @6 local",
        f"calls {f} -> r2.t @6 local",
        f"calls {f} -> global.u @6",
        f"calls {f} -> p.u @7 local",
        f"calls {f} -> g @8 local",
        f"calls {f} -> Shape::make @8",
    }


def test_trait_impl_for_a_type_of_another_file_is_not_attributed_to_the_module():
    source = b"""use crate::shapes::Circle;
impl std::fmt::Debug for Circle {
    fn fmt(&self) {}
}
"""
    facts = extract_source("rust", source, "src/debug.rs")
    assert not [r for r in facts.references if r.kind == "implements"]
    # named where the use says the type is: the resolver finds it as Circle's member
    assert "method crate::shapes::Circle::fmt @3 public in crate::debug" in symbol_lines(facts)


def test_impl_of_a_type_a_use_binds_names_its_methods_where_the_type_is():
    source = b"""use crate::model::{User, Greeter as G};
use super::geo::Point as P;
use self::local::Thing;
impl User { pub fn new() -> Self { User {} } }
impl G for P { fn greet(&self) {} }
impl Thing { fn make() {} }
impl Here { fn here() {} }
struct Here;
mod m {
    use crate::model::User;
    struct User;
    impl User { fn shadowed() {} }
}
impl super::Far { fn far() {} }
"""
    facts = extract_source("rust", source, "src/app/ext.rs")
    methods = {line for line in symbol_lines(facts) if line.startswith("method")}
    assert methods == {
        "method crate::model::User::new @4 public static in crate::app::ext",
        "method crate::app::geo::Point::greet @5 public in crate::app::ext",
        "method crate::app::ext::local::Thing::make @6 private static in crate::app::ext",
        "method crate::app::ext::Here::here @7 private static in crate::app::ext::Here",
        "method crate::app::ext::m::User::shadowed @12 private static in crate::app::ext::m::User",
        "method crate::app::Far::far @14 private static in crate::app::ext",
    }


def test_visibility_forms():
    source = b"""pub fn a() {}
pub(crate) fn b() {}
pub(super) fn c() {}
pub(in crate::x) fn d() {}
pub(self) fn e() {}
fn f() {}
"""
    facts = extract_source("rust", source, "src/v.rs")
    assert {s.name: s.visibility for s in facts.symbols[1:]} == {
        "a": "public",
        "b": "internal",
        "c": "internal",
        "d": "internal",
        "e": "private",
        "f": "private",
    }


@pytest.mark.parametrize(
    "rel", ["src/lib.rs", "src/shapes.rs", "src/shapes/polygon.rs", "src/util.rs"]
)
def test_every_truncation_of_a_fixture_extracts_without_raising(rel):
    check_truncations("rust", rel, step=7)


FILES = ["src/lib.rs", "src/shapes.rs", "src/shapes/polygon.rs", "src/util.rs"]
NOISE = [
    b"{",
    b"}",
    b"(",
    b")",
    b"fn ",
    b"impl ",
    b"mod ",
    b"use ",
    b"::",
    b"<",
    b">",
    b"!",
    b'"',
    b"///",
    b"/*",
    b"\n",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_sources_extract_without_raising(data):
    check_mangled("rust", data, FILES, NOISE)


def test_syntax_errors_keep_what_parses_and_say_where():
    source = b"""pub fn good() -> u8 { 1 }

fn bad( {

pub struct Later { x: u8 }
"""
    facts = extract_source("rust", source, "src/e.rs")
    check_invariants(facts, source)
    assert "crate::e::good" in {s.qualified_name for s in facts.symbols}
    assert facts.error is not None and "line" in facts.error


# -- resolved edges, through the real index build ----------------------------------


@pytest.mark.timeout(120)
def test_resolved_edges_of_the_fixture_crate():
    from lang_kit import indexed_edges

    s, u, p = "crate::shapes", "crate::util", "crate::shapes::polygon"
    assert indexed_edges("rust") == {
        f"imports crate -> self::shapes @src/lib.rs:2 => {s} (src/shapes.rs) import",
        f"imports crate -> self::util @src/lib.rs:3 => {u} (src/util.rs) import",
        f"imports crate -> crate::shapes @src/lib.rs:5 => {s}::Circle (src/shapes.rs) import",
        f"imports crate -> crate::shapes @src/lib.rs:5 => {s}::Shape (src/shapes.rs) import",
        f"imports crate -> util @src/lib.rs:6 => {u} (src/util.rs) import",
        "calls crate::total_area -> items.iter().map(|s| s.area()).sum @src/lib.rs:10 => -",
        "calls crate::total_area -> items.iter().map @src/lib.rs:10 => -",
        "calls crate::total_area -> items.iter @src/lib.rs:10 => -",
        "calls crate::total_area -> s.area @src/lib.rs:10 => -",
        f"returns crate::unit -> Circle @src/lib.rs:20 => {s}::Circle (src/shapes.rs) import",
        f"calls crate::unit -> Circle::new @src/lib.rs:21 => {s}::Circle::new (src/shapes.rs) import",
        f"calls crate::unit -> clamp @src/lib.rs:21 => {u}::clamp (src/util.rs) import",
        f"imports {s} -> self::polygon @src/shapes.rs:2 => {p} (src/shapes/polygon.rs) import",
        f"imports {s} -> std @src/shapes.rs:4 => -",
        f"imports {s} -> crate::util @src/shapes.rs:6 => {u}::clamp (src/util.rs) import",
        f"imports {s} -> crate::util @src/shapes.rs:6 => {u}::PI (src/util.rs) import",
        f"inherits {s}::Shape -> fmt::Debug @src/shapes.rs:9 => -",
        f"returns {s}::Shape::name -> String @src/shapes.rs:12 => -",
        f"calls {s}::Shape::name -> String::from @src/shapes.rs:13 => -",
        f"returns {s}::Circle::new -> {s}::Circle @src/shapes.rs:27 => {s}::Circle (src/shapes.rs) import",
        f"calls {s}::Circle::new -> clamp @src/shapes.rs:28 => {u}::clamp (src/util.rs) import",
        f"calls {s}::Circle::new -> with_label @src/shapes.rs:29 => {s}::Circle::with_label (src/shapes.rs) self",
        f"returns {s}::Circle::with_label -> Circle @src/shapes.rs:32 => {s}::Circle (src/shapes.rs) local",
        f"calls {s}::Circle::refresh -> compute @src/shapes.rs:37 => {s}::Circle::compute (src/shapes.rs) self",
        f"calls {s}::Circle::compute -> crate::square @src/shapes.rs:41 => crate::square (src/lib.rs) import",
        f"implements {s}::Circle -> Shape @src/shapes.rs:45 => {s}::Shape (src/shapes.rs) local",
        f"calls {s}::Circle::area -> compute @src/shapes.rs:47 => {s}::Circle::compute (src/shapes.rs) self",
        f"implements {s}::Circle -> fmt::Display @src/shapes.rs:51 => -",
        f"returns {s}::Circle::fmt -> fmt::Result @src/shapes.rs:52 => -",
        f"calls {s}::Circle::fmt -> write @src/shapes.rs:53 => -",
        f"imports {s}::tests -> {s} @src/shapes.rs:70 => {s} (src/shapes.rs) import",
        f"calls {s}::tests::area_of_unit -> Circle::new @src/shapes.rs:74 => {s}::Circle::new (src/shapes.rs) local",
        f"calls {s}::tests::area_of_unit -> assert @src/shapes.rs:75 => -",
        f"calls {s}::tests::area_of_unit -> c.area @src/shapes.rs:75 => -",
        f"imports {p} -> super @src/shapes/polygon.rs:1 => {s}::Shape (src/shapes.rs) import",
        f"implements {p}::Polygon -> Shape @src/shapes/polygon.rs:9 => {s}::Shape (src/shapes.rs) import",
        f"calls {p}::Polygon::area -> shoelace @src/shapes/polygon.rs:11 => {p}::shoelace (src/shapes/polygon.rs) local",
        f"calls {p}::shoelace -> points.len @src/shapes/polygon.rs:16 => -",
        f"calls {u}::generic -> v.clone @src/util.rs:14 => -",
    }


def test_generic_arguments_of_a_supertrait_are_not_bases():
    source = b"pub trait Wrap: Conv<Item> + std::fmt::Debug + Into<Vec<Item>> {}\n"
    inherits = reference_lines(extract_source("rust", source, "src/lib.rs"), "inherits")
    assert inherits == {
        "inherits crate::Wrap -> Conv @1",
        "inherits crate::Wrap -> std::fmt::Debug @1",
        "inherits crate::Wrap -> Into @1",
    }
