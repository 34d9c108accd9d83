"""C extraction, checked against the hand-written expectations of fixtures/c."""

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

C = spec("c")


def test_header_types_enums_and_include_guard():
    facts = extract_fixture("c", "src/list.h")
    m = "src/list.h"
    assert facts.language == "c" and facts.module_name == m and facts.error is None
    assert facts.symbols[0].name == "list.h"
    # the prototypes list_push / list_length are not symbols: their bodies are
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"macro LIST_H @2 public in {m}",
        f"struct node @7 public in {m}",
        "field node.value @8 public in node",
        "field node.next @9 public in node",
        f"type Node @7 public in {m}",
        f"type compare_fn @13 public in {m}",
        f"enum list_status @15 public in {m}",
        "enum_variant LIST_OK @15 public in list_status",
        "enum_variant LIST_EMPTY @15 public in list_status",
    }
    assert reference_lines(facts) == {f"imports {m} -> <stddef.h> @4"}
    assert docs(facts) == {
        "node": "A singly linked list node.",
        "Node": "A singly linked list node.",
        "compare_fn": "Comparison callback.",
    }
    sigs = signatures(facts)
    assert sigs["node"] == "struct node"
    assert sigs["Node"] == "typedef struct node Node"
    assert sigs["LIST_H"] == "#define LIST_H"
    assert sigs["list_status"] == "enum list_status"
    assert sigs["LIST_EMPTY"] == "LIST_EMPTY = 2"


def test_source_functions_statics_and_calls():
    facts = extract_fixture("c", "src/list.c")
    m = "src/list.c"
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"variable allocations @5 private static in {m}",
        f"function list_push @10 public in {m}",
        f"function list_length @19 public in {m}",
        f"function sort @27 private static in {m}",
    }
    assert reference_lines(facts) == {
        f"imports {m} -> <stdlib.h> @1",
        f"imports {m} -> list.h @2",
        f"imports {m} -> util.h @3",
        "returns list_push -> Node @10",
        "calls list_push -> malloc @12",
        "calls list_push -> bump @15",
        "calls sort -> cmp @30 local",  # a parameter: never bound to a global `cmp`
    }
    assert docs(facts) == {"list_push": "Pushes a value in front of the list."}
    sigs = signatures(facts)
    assert sigs["list_push"] == "Node *list_push(Node *head, int value)"
    assert sigs["sort"] == "static void sort(Node *head, compare_fn cmp)"
    assert sigs["allocations"] == "static int allocations = 0"
    push = symbol(facts, "list_push")
    assert (push.start_line, push.start_column, push.end_line, push.end_column) == (10, 0, 17, 1)


def test_static_inline_helpers_macros_and_anonymous_unions():
    facts = extract_fixture("c", "src/util.h")
    m = "src/util.h"
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"macro UTIL_H @2 public in {m}",
        f"macro MAX @4 public in {m}",
        f"function bump @7 private static in {m}",
        f"struct point @12 public in {m}",
        "field point.x @13 public in point",
        "field point.y @13 public in point",
        # members of an anonymous union are members of the enclosing struct
        "field point.tag @15 public in point",
        "field point.weight @16 public in point",
    }
    assert reference_lines(facts) == {"calls bump -> MAX @9"}
    assert docs(facts) == {"bump": "Increments, saturating at 1000."}
    assert signatures(facts)["MAX"] == "#define MAX(a, b)"
    macro = symbol(facts, "MAX")
    assert (macro.start_line, macro.end_line) == (4, 4)  # not the next line


def test_main_file_skips_extern_declarations():
    facts = extract_fixture("c", "src/main.c")
    m = "src/main.c"
    assert symbol_lines(facts) == {
        f"module {m} @1 public in -",
        f"variable verbose @4 public in {m}",
        f"function main @7 public in {m}",
    }
    assert reference_lines(facts) == {
        f"imports {m} -> <stdio.h> @1",
        f"imports {m} -> list.h @2",
        "calls main -> list_push @10",
        "calls main -> printf @11",
        "calls main -> list_length @11",
    }


def test_include_resolution_is_relative_to_the_including_file():
    assert C.module_name("src/list.c") == "src/list.c"
    assert C.import_module("src/main.c", "list.h") == "src/list.h"
    assert C.import_module("src/main.c", "../include/api.h") == "include/api.h"
    assert C.import_module("src/a/b.c", "./c.h") == "src/a/c.h"
    assert C.import_module("main.c", "../outside.h") is None
    assert C.import_module("src/main.c", "<stdio.h>") is None


def test_declarator_shapes():
    source = b"""struct ops {
    int (*run)(int);
    char name[16];
    unsigned flags : 3;
    struct { int a; } inner;
};
struct pair { int l, r; } origin, *cursor;
typedef enum { RED, BLUE } color;
enum { ANON_A };
int (*handler)(void);
static const char *names[] = {"a"};
int add(int, int);
extern int count;
void (*signal_fn(int sig))(int) { return 0; }
"""
    facts = extract_source("c", source, "d.c")
    assert symbol_lines(facts) == {
        "module d.c @1 public in -",
        "struct ops @1 public in d.c",
        "field ops.run @2 public in ops",
        "field ops.name @3 public in ops",
        "field ops.flags @4 public in ops",
        "field ops.inner @5 public in ops",
        "field ops.inner.a @5 public in ops.inner",
        "struct pair @7 public in d.c",
        "field pair.l @7 public in pair",
        "field pair.r @7 public in pair",
        "variable origin @7 public in d.c",
        "variable cursor @7 public in d.c",
        "enum color @8 public in d.c",
        "enum_variant RED @8 public in color",
        "enum_variant BLUE @8 public in color",
        "enum_variant ANON_A @9 public in d.c",
        "variable handler @10 public in d.c",
        "variable names @11 private static in d.c",
        "function signal_fn @14 public in d.c",
    }


def test_calls_through_fields_and_pointers():
    source = b"""void f(struct ops *o) {
    o->run(1);
    o->sub.go();
    global.cb();
    (*o->run)(2);
    table[0]();
}
"""
    facts = extract_source("c", source, "f.c")
    assert reference_lines(facts) == {
        "calls f -> o.run @2 local",
        "calls f -> o.sub.go @3 local",
        "calls f -> global.cb @4",
        "calls f -> (*o->run) @5",
        "calls f -> table[0] @6",
    }


def test_a_cpp_header_with_h_extension_is_extracted_as_cpp():
    source = b"""#pragma once
namespace geo {
class Widget : public Base {
public:
    void draw() { paint(); }
};
}
"""
    facts = extract_source("c", source, "include/widget.h")
    assert facts.language == "cpp" and facts.error is None
    assert symbol_lines(facts) == {
        "module include/widget.h @1 public in -",
        "namespace geo @2 public in include/widget.h",
        "class geo::Widget @3 public in geo",
        "method geo::Widget::draw @5 public in geo::Widget",
    }
    assert reference_lines(facts) == {
        "inherits geo::Widget -> Base @3",
        "calls geo::Widget::draw -> paint @5",
    }


@pytest.mark.parametrize(
    ("source", "symbol"),
    [
        (
            b"namespace net {\nstruct Conn { int fd; };\nint send(Conn* c);\n}\n",
            "struct net::Conn @2 public in net",
        ),
        (b"template <typename T>\nstruct Box { T value; };\n", "struct Box @1 public in net.h"),
    ],
)
def test_a_header_the_c_grammar_accepts_but_only_cpp_means_is_cpp(source: bytes, symbol: str):
    """``namespace net { ... }`` parses without error as a K&R-style C function:
    no error to notice, yet only C++ has it (the struct was stored as C ``Conn``)."""
    facts = extract_source("c", source, "net.h")
    assert facts.language == "cpp"
    assert symbol in symbol_lines(facts)


def test_a_plain_c_header_stays_c_even_with_errors():
    source = b"int ok(void) { return 1; }\nint broken( {\n"
    facts = extract_source("c", source, "x.h")
    assert facts.language == "c" and facts.error is not None
    assert "function ok @1 public in x.h" in symbol_lines(facts)


@pytest.mark.parametrize("rel", ["src/list.h", "src/list.c", "src/util.h", "src/main.c"])
def test_every_truncation_of_a_fixture_extracts_without_raising(rel):
    check_truncations("c", rel, step=5)


FILES = ["src/list.h", "src/list.c", "src/util.h", "src/main.c"]
NOISE = [
    b"{",
    b"}",
    b"(",
    b")",
    b"#define ",
    b"#if ",
    b"#endif\n",
    b"typedef ",
    b"struct ",
    b"*",
    b";",
    b'"',
    b"/**",
    b"*/",
    b"\n",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_sources_extract_without_raising(data):
    check_mangled("c", data, FILES, NOISE)


def test_syntax_errors_keep_what_parses_and_say_where():
    source = b"int good(void) { return 1; }\n\nint bad( {\n\nstruct later { int x; };\n"
    facts = extract_source("c", source, "e.c")
    check_invariants(facts, source)
    assert "good" in {s.qualified_name for s in facts.symbols}
    assert facts.error is not None and "line" in facts.error


# -- resolved edges, through the real index build ----------------------------------


@pytest.mark.timeout(120)
def test_resolved_edges_of_the_fixture_project():
    from lang_kit import indexed_edges

    assert indexed_edges("c") == {
        "imports src/list.c -> <stdlib.h> @src/list.c:1 => -",
        "imports src/list.c -> list.h @src/list.c:2 => src/list.h (src/list.h) import",
        "imports src/list.c -> util.h @src/list.c:3 => src/util.h (src/util.h) import",
        # C has no `package` rule (files share names through includes)
        "returns list_push -> Node @src/list.c:10 => Node (src/list.h) unique",
        "calls list_push -> malloc @src/list.c:12 => -",
        "calls list_push -> bump @src/list.c:15 => bump (src/util.h) unique",
        "calls sort -> cmp @src/list.c:30 => -",
        "imports src/list.h -> <stddef.h> @src/list.h:4 => -",
        "imports src/main.c -> <stdio.h> @src/main.c:1 => -",
        "imports src/main.c -> list.h @src/main.c:2 => src/list.h (src/list.h) import",
        # definitions, not the header's prototypes: one candidate each
        "calls main -> list_push @src/main.c:10 => list_push (src/list.c) unique",
        "calls main -> printf @src/main.c:11 => -",
        "calls main -> list_length @src/main.c:11 => list_length (src/list.c) unique",
        "calls bump -> MAX @src/util.h:9 => MAX (src/util.h) local",
    }


def test_non_ascii_names_are_names():
    """C (since C99) and compilers accept Unicode identifiers: they are recorded."""
    facts = extract_source("c", "int été;\n#define ÄX 1\nstruct s { int ü; };\n".encode(), "u.c")
    assert {(s.kind, s.name) for s in facts.symbols} == {
        ("module", "u.c"),
        ("variable", "été"),
        ("macro", "ÄX"),
        ("struct", "s"),
        ("field", "ü"),
    }


def test_export_macro_lines_and_enumerators():
    """A C file that fails to parse because of an ``API_EXPORT`` line above a
    function keeps the function on the second parse; an enum's last
    enumerator, alone and capitalised on its line, is never taken for a macro."""
    source = b"""#include "x.h"
API_EXPORT
int add(int a, int b) { return a + b; }
enum color {
    RED,
    DARK_GREEN
};
static INLINE int twice(int x) { return add(x, x); }
"""
    facts = extract_source("c", source, "a.c")
    check_invariants(facts, source)
    assert symbol_lines(facts) == {
        "module a.c @1 public in -",
        "function add @3 public in a.c",
        "enum color @4 public in a.c",
        "enum_variant RED @5 public in color",
        "enum_variant DARK_GREEN @6 public in color",
        "function twice @8 private static in a.c",
    }
