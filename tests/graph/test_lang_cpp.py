"""C++ extraction, checked against the hand-written expectations of fixtures/cpp."""

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

CPP = spec("cpp")


def test_header_classes_templates_and_enums():
    facts = extract_fixture("cpp", "shapes.hpp")
    m = "shapes.hpp"
    assert facts.language == "cpp" and facts.module_name == m and facts.error is None
    # prototypes whose bodies live elsewhere (describe, Circle, area override, unit)
    # are not symbols; bodiless-for-good members (= default, = 0) are
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"namespace geo @5 public in {m}",
        "class geo::Shape @8 public in geo",
        "method geo::Shape::~Shape @10 public in geo::Shape",
        "method geo::Shape::area @12 public in geo::Shape",
        "method geo::Shape::name @13 public in geo::Shape",
        "field geo::Shape::id_ @17 private in geo::Shape",
        "class geo::Circle @21 public in geo",
        "field geo::Circle::r_ @27 private in geo::Circle",
        "struct geo::Box @30 public in geo",
        "field geo::Box::value @32 public in geo::Box",
        "method geo::Box::get @33 public in geo::Box",
        "enum geo::Color @36 public in geo",
        "enum_variant geo::Color::Red @36 public in geo::Color",
        "enum_variant geo::Color::Green @36 public in geo::Color",
        "enum geo::Legacy @37 public in geo",
        # a plain enum's enumerators live in the enclosing scope
        "enum_variant geo::LEGACY_A @37 public in geo::Legacy",
        "enum_variant geo::LEGACY_B @37 public in geo::Legacy",
    }
    assert reference_lines(facts) == {
        f"imports {m} -> <string> @2",
        f"imports {m} -> util/math.hpp @3",
        "returns geo::Shape::name -> std::string @13",
        "calls geo::Shape::name -> describe @13",
        "inherits geo::Circle -> Shape @21",
    }
    assert docs(facts) == {
        "geo::Shape": "Base of all shapes.",
        "geo::Shape::area": "Area of the shape.",
        "geo::Circle": "A circle.",
    }
    sigs = signatures(facts)
    assert sigs["geo::Shape::area"] == "virtual double area() const = 0"
    assert sigs["geo::Circle"] == "class Circle : public Shape"
    assert sigs["geo::Box"] == "template <typename T> struct Box"
    assert sigs["geo::Shape::name"] == "std::string name() const"
    assert sigs["geo::Color"] == "enum class Color"
    box = symbol(facts, "geo::Box")
    assert (box.start_line, box.start_column, box.end_line, box.end_column) == (30, 0, 34, 1)


def test_out_of_class_definitions_are_methods_named_by_their_class():
    facts = extract_fixture("cpp", "shapes.cpp")
    m = "shapes.cpp"
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"namespace geo @3 public in {m}",
        # the prototypes are in another file: visibility/static default to public/no
        "method geo::Shape::describe @5 public in geo",
        "method geo::Circle::Circle @9 public in geo",
        "method geo::Circle::area @12 public in geo",
        "method geo::Circle::unit @16 public in geo",
        "variable geo::counter @23 private in geo",  # anonymous namespace
    }
    assert reference_lines(facts) == {
        f"imports {m} -> shapes.hpp @1",
        "returns geo::Shape::describe -> std::string @5",
        "calls geo::Shape::describe -> std::to_string @6",
        "calls geo::Shape::describe -> area @6 self",
        "calls geo::Circle::area -> math::pi @13",
        "calls geo::Circle::area -> math::square @13",
        "returns geo::Circle::unit -> Circle @16",
        "calls geo::Circle::unit -> Circle::area @18",
    }
    assert docs(facts) == {"geo::Circle::area": "Pi times r squared."}
    sigs = signatures(facts)
    assert sigs["geo::Circle::Circle"] == "Circle::Circle(double r)"  # initializers cut
    assert sigs["geo::Shape::describe"] == "std::string Shape::describe() const"


def test_nested_namespace_definition_and_function_templates():
    facts = extract_fixture("cpp", "util/math.hpp")
    m = "util/math.hpp"
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"namespace geo @3 public in {m}",
        "namespace geo::math @3 public in geo",
        "function geo::math::pi @5 public in geo::math",
        "function geo::math::square @7 public in geo::math",
    }
    assert reference_lines(facts) == set()  # `T square(T)`: T is a template parameter
    assert signatures(facts)["geo::math::square"] == "template <typename T> T square(T x)"


def test_using_directives_and_declarations_are_imports():
    facts = extract_fixture("cpp", "main.cpp")
    m = "main.cpp"
    assert symbol_lines(facts) == {f"module {m} @1 public in -", f"function main @7 public in {m}"}
    assert reference_lines(facts) == {
        f"imports {m} -> <iostream> @1",
        f"imports {m} -> shapes.hpp @2",
        f"imports {m} -> geo @4",
        f"imports {m} -> std @5 member=cout alias=cout",
        "calls main -> Circle::unit @8",
        "calls main -> Circle::area @10",
        "calls main -> Box::get @10",
    }


def test_paths_and_namespaces_as_import_targets():
    assert CPP.module_name("src/a.cpp") == "src/a.cpp"
    assert CPP.import_module("main.cpp", "shapes.hpp") == "shapes.hpp"
    assert CPP.import_module("shapes.hpp", "util/math.hpp") == "util/math.hpp"
    assert CPP.import_module("src/x.cc", "../include/y.hh") == "include/y.hh"
    assert CPP.import_module("main.cpp", "<vector>") is None
    assert CPP.import_module("main.cpp", "geo") == "geo"  # `using namespace geo`


def test_access_specifiers_statics_and_same_file_prototypes():
    source = b"""class Counter {
    int hidden_;
public:
    /// Makes one.
    static Counter make();
    void tick() { this->count_.add(); bump(); }
protected:
    void bump();
    struct Node { int v; };
private:
    Meter count_;
    friend class Spy;
};
struct Plain { int open; };
Counter Counter::make() { return Counter(); }
void Counter::bump() {}
"""
    facts = extract_source("cpp", source, "c.cpp")
    assert symbol_lines(facts) == {
        "module c.cpp @1 public in -",
        "class Counter @1 public in c.cpp",
        "field Counter::hidden_ @2 private in Counter",
        "method Counter::tick @6 public in Counter",
        "struct Counter::Node @9 protected in Counter",
        "field Counter::Node::v @9 public in Counter::Node",
        "field Counter::count_ @11 private in Counter",
        "struct Plain @14 public in c.cpp",
        "field Plain::open @14 public in Plain",
        # defined out of class in the file of their prototype: they take its facts
        "method Counter::make @15 public static in Counter",
        "method Counter::bump @16 protected in Counter",
    }
    assert docs(facts) == {"Counter::make": "Makes one."}
    assert reference_lines(facts) == {
        "calls Counter::tick -> this.count_.add @6",  # a member's method, not ours
        "calls Counter::tick -> bump @6",
        "returns Counter::make -> Counter @15",
        "calls Counter::make -> Counter @15",
    }


def test_namespace_qualified_definitions_operators_and_lambdas():
    source = b"""namespace ns { void f(); }
void ns::f() {
    auto g = [](int x) { return x.size(); };
    g(1);
    [] { run(); }();
}
struct V { V operator+(const V& o) const { return add(o); } };
extern "C" {
int c_api(int);
int c_impl(int v) { return v; }
}
typedef unsigned long ulong;
using Callback = void (*)(int);
"""
    facts = extract_source("cpp", source, "n.cpp")
    assert symbol_lines(facts) == {
        "module n.cpp @1 public in -",
        "namespace ns @1 public in n.cpp",
        "function ns::f @2 public in n.cpp",
        "struct V @7 public in n.cpp",
        "method V::operator+ @7 public in V",
        "function c_impl @10 public in n.cpp",
        "type ulong @12 public in n.cpp",
        "type Callback @13 public in n.cpp",
    }
    assert reference_lines(facts) == {
        "calls ns::f -> x.size @3 local",
        "calls ns::f -> g @4 local",
        "calls ns::f -> run @5",
        "returns V::operator+ -> V @7",
        "calls V::operator+ -> add @7",
    }


def test_reference_returns_and_names_split_after_their_qualifier_are_definitions():
    """``int& f()`` wraps its declarator in a reference_declarator with no
    ``declarator`` field, and GNU style breaks the line after ``Class::``: both
    were dropped (and a reference-returning prototype stored as a field)."""
    source = b"""int& a(int& x) { return x; }
int* b() { return 0; }
template<class T> T& e() { static T t; return t; }
struct V {
    V& operator=(const V& o);
    int& front() { return v; }
    const int& back() const;
    int v;
};
V& V::operator=(const V& o) { return *this; }
const int&
V::back() const { return v; }
namespace pb { struct C { int get(); }; }
int pb::C::
get() { return 1; }
"""
    facts = extract_source("cpp", source, "r.cpp")
    assert symbol_lines(facts) == {
        "module r.cpp @1 public in -",
        "function a @1 public in r.cpp",
        "function b @2 public in r.cpp",
        "function e @3 public in r.cpp",
        "struct V @4 public in r.cpp",
        "method V::front @6 public in V",
        "field V::v @8 public in V",
        "method V::operator= @10 public in V",
        "method V::back @11 public in V",
        "namespace pb @13 public in r.cpp",
        "struct pb::C @13 public in pb",
        "method pb::C::get @14 public in pb::C",
    }


def test_operator_names_keep_their_symbols_and_conversions_are_methods():
    """``operator<=>`` was cut to ``operator`` (its ``<...>`` taken for template
    arguments) and conversion operators (``operator bool``), whose declarator is
    no function declarator, were dropped; spacing is normalised, a conversion's
    type loses its ``ns::`` (``::`` separates qualified names)."""
    source = b"""class A {
    operator bool() const;
    virtual operator int() = 0;
public:
    auto operator<=>(const A&) const = default;
    bool operator < (const A& o) const { return cmp(o); }
    void* operator new[](unsigned long n) { return 0; }
    int operator()(int x) { return x; }
    template<class T> operator std::vector<T> &();
};
A::operator bool() const { return ok(); }
template<class T> A::operator std::vector<T> &() { return v<T>(); }
long operator""_km(unsigned long long n) { return n; }
"""
    facts = extract_source("cpp", source, "o.cpp")
    assert symbol_lines(facts) == {
        "module o.cpp @1 public in -",
        "class A @1 public in o.cpp",
        "method A::operator int @3 private in A",
        "method A::operator<=> @5 public in A",
        "method A::operator< @6 public in A",
        "method A::operator new[] @7 public in A",
        "method A::operator() @8 public in A",
        "method A::operator bool @11 private in A",
        "method A::operator vector<T>& @12 public in A",
        'function operator""_km @13 public in o.cpp',
    }
    assert reference_lines(facts) == {
        "calls A::operator< -> cmp @6",
        "calls A::operator bool -> ok @11",
        "calls A::operator vector<T>& -> v @12",
    }


def test_hidden_friends_are_functions_of_their_class():
    """A friend function defined in its class body was skipped with the friend
    declarations; it is a ``function`` (no ``this``) named by the class."""
    source = b"""struct P {
  friend bool operator==(const P&, const P&) { return true; }
  friend void swap(P& a, P& b) { go(a); }
  template<class T> friend T& get(P& p) { return p; }
  friend class Q;
  friend int peek(const P&);
};
"""
    facts = extract_source("cpp", source, "p.hpp")
    assert symbol_lines(facts) == {
        "module p.hpp @1 public in -",
        "struct P @1 public in p.hpp",
        "function P::operator== @2 public in P",
        "function P::swap @3 public in P",
        "function P::get @4 public in P",
    }
    assert reference_lines(facts) == {"calls P::swap -> go @3"}


def test_annotation_macros_do_not_lose_the_declarations_around_them():
    """libstdc++'s style: a visibility macro after ``namespace std``, macros alone
    on their line, before a return type and after a parameter list. Parsed as
    written, the class and its methods were lost to error recovery; the second
    parse with those macros blanked keeps them, at their own lines, with the doc
    comment above the macro line."""
    source = b"""namespace std _GLIBCXX_VISIBILITY(default)
{
_GLIBCXX_BEGIN_NAMESPACE_VERSION

  template<typename _Tp>
    class holder
    {
    public:
      /// Makes one.
      _GLIBCXX20_CONSTEXPR
      holder(_Tp v) _GLIBCXX_NOEXCEPT
      : _M_v(v) { }

      _GLIBCXX_NODISCARD _GLIBCXX20_CONSTEXPR bool
      empty() const _GLIBCXX_NOEXCEPT
      { return check(); }

    private:
      _Tp _M_v;
    };

_GLIBCXX_END_NAMESPACE_VERSION
} // namespace
"""
    facts = extract_source("cpp", source, "bits/holder.h")
    check_invariants(facts, source)
    assert symbol_lines(facts) == {
        "module bits/holder.h @1 public in -",
        "namespace std @1 public in bits/holder.h",
        "class std::holder @5 public in std",
        "method std::holder::holder @11 public in std::holder",
        "method std::holder::empty @14 public in std::holder",
        "field std::holder::_M_v @19 private in std::holder",
    }
    assert reference_lines(facts) == {"calls std::holder::empty -> check @16"}
    assert docs(facts)["std::holder::holder"] == "Makes one."
    assert signatures(facts)["std::holder::empty"] == "bool empty() const _GLIBCXX_NOEXCEPT"


def test_files_that_parse_are_never_reparsed():
    """Blanking is for files tree-sitter fails on: an all-caps line in a file
    that parses (here the last enumerator) is left alone, and so is its tree."""
    import tree_sitter

    from sqry.graph.languages import _cmacros, cpp

    source = b"enum class Mode {\n    FAST,\n    SLOW_MODE\n};\nMode m = Mode::FAST;\n"
    tree = tree_sitter.Parser(cpp.grammar()).parse(source)
    assert not tree.root_node.has_error
    assert _cmacros.reparsed(tree, source, cpp.grammar()) is tree
    marked = source + b"VISIBLE\nint f();\n"
    blanked = _cmacros.blank_annotation_macros(marked)
    assert b"SLOW_MODE" in blanked and b"VISIBLE" not in blanked
    assert len(blanked) == len(marked) and blanked.count(b"\n") == marked.count(b"\n")


@pytest.mark.timeout(20)
def test_blanking_is_linear_on_huge_capitalised_tokens():
    """One regex pass per rule: a megabyte-long all-caps token (a generated table,
    a minified blob) must not make the patterns backtrack quadratically."""
    from sqry.graph.languages._cmacros import blank_annotation_macros

    source = b"A" * 1_000_000 + b"\nint f();\n" + b"X_" * 200_000 + b"(\n) B" * 1000
    assert len(blank_annotation_macros(source)) == len(source)


def test_template_implementation_files_are_cpp(tmp_path):
    """libstdc++'s ``bits/vector.tcc`` and VTK's ``.txx`` hold C++ definitions."""
    from sqry.graph.discovery import discover

    for name in ("vector.tcc", "image.txx"):
        (tmp_path / name).write_text("template<class T> void fill(T& v) { v = T(); }\n")
    assert {(f.path, f.language) for f in discover(str(tmp_path)).files} == {
        ("vector.tcc", "cpp"),
        ("image.txx", "cpp"),
    }


@pytest.mark.parametrize("rel", ["shapes.hpp", "shapes.cpp", "util/math.hpp", "main.cpp"])
def test_every_truncation_of_a_fixture_extracts_without_raising(rel):
    check_truncations("cpp", rel, step=5)


FILES = ["shapes.hpp", "shapes.cpp", "util/math.hpp", "main.cpp"]
NOISE = [
    b"{",
    b"}",
    b"(",
    b")",
    b"class ",
    b"namespace ",
    b"template <",
    b">",
    b"::",
    b"public:",
    b"~",
    b";",
    b'"',
    b"///",
    b"\n",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_sources_extract_without_raising(data):
    check_mangled("cpp", data, FILES, NOISE)


def test_syntax_errors_keep_what_parses_and_say_where():
    source = b"namespace a { int good() { return 1; } }\nclass Bad : {\nint later() { return 2; }\n"
    facts = extract_source("cpp", source, "e.cpp")
    check_invariants(facts, source)
    assert "a::good" in {s.qualified_name for s in facts.symbols}
    assert facts.error is not None and "line" in facts.error


# -- resolved edges, through the real index build ----------------------------------


@pytest.mark.timeout(120)
def test_resolved_edges_of_the_fixture_project():
    from lang_kit import indexed_edges

    assert indexed_edges("cpp") == {
        "imports main.cpp -> <iostream> @main.cpp:1 => -",
        "imports main.cpp -> shapes.hpp @main.cpp:2 => shapes.hpp (shapes.hpp) import",
        # `using namespace geo;` binds the namespace (its first block by path)
        # and makes its names visible in the file
        "imports main.cpp -> geo @main.cpp:4 => geo (shapes.cpp) import",
        "imports main.cpp -> std @main.cpp:5 => -",
        "calls main -> Circle::unit @main.cpp:8 => geo::Circle::unit (shapes.cpp) import",
        "calls main -> Circle::area @main.cpp:10 => geo::Circle::area (shapes.cpp) import",
        "calls main -> Box::get @main.cpp:10 => geo::Box::get (shapes.hpp) import",
        "imports shapes.cpp -> shapes.hpp @shapes.cpp:1 => shapes.hpp (shapes.hpp) import",
        "returns geo::Shape::describe -> std::string @shapes.cpp:5 => -",
        "calls geo::Shape::describe -> std::to_string @shapes.cpp:6 => -",
        # an out-of-class method sees its class (declared in the header) as `this`
        "calls geo::Shape::describe -> area @shapes.cpp:6 => geo::Shape::area (shapes.hpp) self",
        # `math` is looked up in the enclosing namespace `geo`, open across files
        "calls geo::Circle::area -> math::pi @shapes.cpp:13 => geo::math::pi (util/math.hpp) package",
        "calls geo::Circle::area -> math::square @shapes.cpp:13 => geo::math::square (util/math.hpp) package",
        # a return type binds the class, never the constructor named like it
        "returns geo::Circle::unit -> Circle @shapes.cpp:16 => geo::Circle (shapes.hpp) package",
        "calls geo::Circle::unit -> Circle::area @shapes.cpp:18 => geo::Circle::area (shapes.cpp) package",
        "imports shapes.hpp -> <string> @shapes.hpp:2 => -",
        "imports shapes.hpp -> util/math.hpp @shapes.hpp:3 => util/math.hpp (util/math.hpp) import",
        "returns geo::Shape::name -> std::string @shapes.hpp:13 => -",
        # a bare call in a class sees its members, also those defined out of class
        "calls geo::Shape::name -> describe @shapes.hpp:13 => geo::Shape::describe (shapes.cpp) local",
        "inherits geo::Circle -> Shape @shapes.hpp:21 => geo::Shape (shapes.hpp) local",
    }


def test_template_arguments_of_a_base_are_not_bases():
    """``class Items : std::vector<Item>`` inherits ``std::vector`` only (a CRTP
    base names its own class as an argument: no self-inheritance)."""
    source = (
        b"struct Item {};\n"
        b"class Items : public std::vector<Item> {};\n"
        b"class Server : public Handler<Server>, private ns::Box<Item, Key> {};\n"
    )
    inherits = reference_lines(extract_source("cpp", source, "b.hpp"), "inherits")
    assert inherits == {
        "inherits Items -> std::vector @2",
        "inherits Server -> Handler @3",
        "inherits Server -> ns::Box @3",
    }
