"""Parser: every production, precedence, case-insensitivity, and every error's position."""

from __future__ import annotations

import pytest

from sqry.graph import model
from sqry.graph.query import fields
from sqry.graph.query.errors import QueryError
from sqry.graph.query.nodes import (
    And,
    Compare,
    Count,
    Flag,
    GroupBy,
    Match,
    Not,
    Or,
    Pattern,
    Query,
    Relation,
    Top,
)
from sqry.graph.query.parser import parse


def where(text: str):
    return parse(text).where


def name(mode: str, text: str, flags: str = "") -> Match:
    return Match("name", Pattern(mode, text, flags))  # type: ignore[arg-type]


A, B, C = name("eq", "a"), name("eq", "b"), name("eq", "c")


# -- productions -----------------------------------------------------------------------


def test_predicate_equals():
    assert where("kind:function") == Match("kind", Pattern("eq", "function"))


@pytest.mark.parametrize("value", ["get_*", "get?", "[gs]et", "*"])
def test_glob_when_value_has_glob_characters(value):
    assert where(f"name:{value}") == name("glob", value)


def test_regex_operator_with_word_string_and_literal():
    assert where("name~=^get") == name("regex", "^get")
    assert where('name~="^get user"') == name("regex", "^get user")
    assert where("name~=/^get/") == name("regex", "^get")
    assert where("name:/^get/is") == name("regex", "^get", "is")


def test_regex_flags_are_normalised():
    assert where("name~=/x/xsmi") == name("regex", "x", "imsx")


def test_quoted_values_single_and_double():
    assert where('doc:"hello world"') == Match("doc", Pattern("eq", "hello world"))
    assert where("doc:'hello world'") == Match("doc", Pattern("eq", "hello world"))


def test_integer_and_comparisons():
    assert where("lines:10") == Compare("lines", "=", 10)
    assert [where(f"lines{op}7").op for op in (">", "<", ">=", "<=")] == [">", "<", ">=", "<="]


def test_true_false_any_case():
    assert where("async:true") == Flag("async", True)
    assert where("STATIC:False") == Flag("static", False)


def test_true_and_numbers_are_text_for_text_fields():
    assert where("name:true") == name("eq", "true")
    assert where("name:42") == name("eq", "42")


def test_bareword_means_name_regex():
    assert where("auth") == name("regex", "auth")


def test_aliases_become_canonical_fields():
    assert where("file:a.py") == Match("path", Pattern("eq", "a.py"))
    assert where("language:go") == Match("lang", Pattern("eq", "go"))


def test_field_names_relations_and_keywords_are_case_insensitive():
    assert where("KIND:class") == Match("kind", Pattern("eq", "class"))
    assert where("Callers:x") == Relation("callers", Pattern("eq", "x"))
    assert where("name:a and name:b Or NOT name:c") == Or((And((A, B)), Not(C)))


def test_enum_values_are_checked_case_insensitively_but_kept_as_written():
    assert where("kind:Class") == Match("kind", Pattern("eq", "Class"))


@pytest.mark.parametrize(
    "relation",
    ["callers", "callees", "imports", "imported_by", "inherits", "implements", "returns"],
)
def test_every_relation_with_name_and_nested_query(relation):
    assert where(f"{relation}:x") == Relation(relation, Pattern("eq", "x"))
    assert where(f"{relation}:(name:a OR name:b)") == Relation(relation, Or((A, B)))


def test_relation_values_may_be_globs_or_regexes():
    assert where("callers:auth*") == Relation("callers", Pattern("glob", "auth*"))
    assert where("callers:/^auth/i") == Relation("callers", Pattern("regex", "^auth", "i"))


def test_stages():
    assert parse("a | count").stages == (Count(),)
    assert parse("a | group_by kind").stages == (GroupBy("kind"),)
    assert parse("a | top 5 file").stages == (Top(5, "path"),)
    assert parse("a | TOP 5 path | COUNT").stages == (Top(5, "path"), Count())


# -- precedence ------------------------------------------------------------------------


def test_juxtaposition_is_and():
    assert where("name:a name:b") == And((A, B))
    assert where("name:a name:b") == where("name:a AND name:b")


def test_and_binds_tighter_than_or():
    assert where("name:a OR name:b name:c") == Or((A, And((B, C))))
    assert where("name:a name:b OR name:c") == Or((And((A, B)), C))


def test_not_binds_tightest():
    assert where("NOT name:a name:b") == And((Not(A), B))
    assert where("NOT NOT name:a") == Not(Not(A))


def test_parentheses_override_and_leave_no_node():
    assert where("(name:a OR name:b) name:c") == And((Or((A, B)), C))
    assert where("((name:a))") == A
    assert where("NOT (name:a OR name:b)") == Not(Or((A, B)))


def test_chains_are_flat():
    assert where("name:a OR name:b OR name:c") == Or((A, B, C))
    assert where("name:a AND name:b name:c") == And((A, B, C))


def test_a_value_word_ends_at_a_parenthesis_so_quote_calls():
    # Juxtaposition: name:a AND (b). Write signature:"f(x)" to mean the text.
    assert where("name:a(b)") == And((A, name("regex", "b")))
    assert where('signature:"f(x)"') == Match("signature", Pattern("eq", "f(x)"))


def test_whole_query_shape():
    assert parse("kind:method callers:(path:src/api) | count") == Query(
        And(
            (
                Match("kind", Pattern("eq", "method")),
                Relation("callers", Match("path", Pattern("eq", "src/api"))),
            )
        ),
        (Count(),),
    )


# -- errors: position (1-based column) and message ------------------------------------

ERRORS = [
    ("", 1, "empty query; expected a predicate such as kind:function or a name"),
    ("kind:function AND", 18, "expected a predicate after 'AND'"),
    ("NOT", 4, "expected a predicate after 'NOT'"),
    ("kind:", 6, "expected a value after 'kind:'"),
    ("callers:", 9, "expected a value after 'callers:'"),
    ("kind:(function)", 6, "expected a value after 'kind:'; parentheses only follow a relation"),
    ("OR name:x", 1, "expected a predicate before 'OR'"),
    ("name:x AND OR name:y", 12, "expected a predicate before 'OR'"),
    (":x", 1, "expected a field name before ':'"),
    ("| count", 1, "expected a predicate before '|'"),
    ('"x"', 1, 'a quoted value needs a field in front, e.g. name:"..."'),
    ("/x/", 1, "a /regex/ needs a field in front, e.g. name~=/.../"),
    (
        "(name:a OR name:b",
        18,
        "expected ')' to close the '(' at column 1, found the end of the query",
    ),
    (
        "callers:(name:x",
        16,
        "expected ')' to close the '(' at column 9, found the end of the query",
    ),
    ("name:x)", 7, "unmatched ')'"),
    ("name:x :y", 8, "unexpected ':'; expected AND, OR, '|' or the end of the query"),
    (
        "kind:funtion",
        6,
        "unknown kind 'funtion'; expected one of class, constant, enum, "
        "enum_variant, field, function, interface, macro, method, module, namespace, struct, "
        "trait, type, variable",
    ),
    (
        "visibility:secret",
        12,
        "unknown visibility 'secret'; expected one of internal, private, protected, public",
    ),
    (
        "name:f and lang:pyhton",
        17,
        "unknown lang 'pyhton'; expected one of c, cpp, go, java, javascript, python, rust, "
        "typescript",
    ),
    ("name~=/a(/", 9, "invalid regex: missing ), unterminated subpattern"),
    ("name~=a[b", 8, "invalid regex: unterminated character set"),
    ('name~="a("', 9, "invalid regex: missing ), unterminated subpattern"),
    ("a[b", 2, "invalid regex: unterminated character set"),
    ("name~=/a{99999999999}/", 8, "invalid regex: the repetition number is too large"),
    (
        "name~=/" + "(" * 600 + "a" + ")" * 600 + "/",
        8,
        "invalid regex: nested too deeply for Python's regex compiler",
    ),
    ("lines~=4", 6, "'~=' matches text and 'lines' is a number"),
    ("lines>x", 7, "expected a whole number after 'lines>'"),
    ("lines>-1", 7, "expected a whole number after 'lines>'"),
    ("lines>99999999999999999999", 7, "number too large: 99999999999999999999"),
    ("name>3", 5, "'>' compares numbers and 'name' is not numeric"),
    ("async:maybe", 7, "expected true or false after 'async:'"),
    ("async>1", 6, "'async' takes ':true' or ':false'"),
    ("callers>foo", 8, "relation 'callers' takes ':', not '>'"),
    ("callers~=foo", 8, "relation 'callers' takes ':', not '~='"),
    (
        "x | group_by foo",
        14,
        "expected a field after 'group_by', found 'foo'; fields are "
        "kind, name, qname, path, lang, visibility, async, static, parent, doc, signature, "
        "lines, file, language",
    ),
    ("x | count | count", 13, "'count' must be the last stage"),
    ("x | count | group_by kind", 13, "'count' must be the last stage"),
    (
        "x | group_by kind | top 3 name",
        21,
        "'top' needs symbols, but the stage before it produced groups",
    ),
    ("x | top 0 name", 9, "'top' needs a number of at least 1"),
    ("x | top name", 9, "expected a whole number after 'top'"),
    (
        "x | frobnicate",
        5,
        "unknown stage 'frobnicate'; stages are count, group_by FIELD and top N FIELD",
    ),
    ("x |", 4, "expected a stage after '|'; stages are count, group_by FIELD and top N FIELD"),
    ("x | count kind", 11, "unexpected 'kind' after the 'count' stage"),
]


@pytest.mark.parametrize(
    ("query", "column", "message"), ERRORS, ids=[e[0] or "<empty>" for e in ERRORS]
)
def test_error_position_and_message(query, column, message):
    with pytest.raises(QueryError) as info:
        parse(query)
    error = info.value
    assert (error.position, error.message) == (column, message)
    assert str(error) == f"query error at column {column}: {message}"
    assert error.expected


def test_unknown_field_lists_fields_and_relations():
    with pytest.raises(QueryError) as info:
        parse("kind:class colour:red")
    assert info.value.position == 12
    assert info.value.message.startswith("unknown field 'colour'; fields are kind, name,")
    assert "relations are callers, callees" in info.value.message


def test_render_puts_a_caret_under_the_column():
    with pytest.raises(QueryError) as info:
        parse("kind:function AND")
    assert info.value.render() == (
        "query error at column 18: expected a predicate after 'AND'\n"
        "  kind:function AND\n"
        "                   ^"
    )


def test_render_counts_wide_characters_as_two_columns():
    """A terminal shows ``日本語`` in six columns: the caret must be under ``bogus``."""
    with pytest.raises(QueryError) as info:
        parse('name:"日本語" bogus:1')
    _, shown, caret = info.value.render().split("\n")
    assert shown == '  name:"日本語" bogus:1'
    assert caret == " " * (2 + len('name:"') + 2 * 3 + len('" ')) + "^"


def test_render_windows_long_queries():
    query = "name:a " * 50 + "kind:nope " + "name:b " * 50
    with pytest.raises(QueryError) as info:
        parse(query)
    _, shown, caret = info.value.render().split("\n")
    assert len(shown) < 140
    assert shown[caret.index("^") :].startswith("nope")


# -- limits ----------------------------------------------------------------------------


def test_query_length_limit_is_10_kib():
    assert parse("name:" + "a" * (10 * 1024 - 5))  # exactly 10 KiB is fine
    with pytest.raises(QueryError) as info:
        parse("name:" + "a" * (10 * 1024 - 4))
    assert info.value.position == 10 * 1024 + 1
    assert "the limit is 10240 bytes" in info.value.message


def test_query_length_counts_utf8_bytes():
    with pytest.raises(QueryError) as info:
        parse("name:" + "é" * 5200)  # 10405 bytes
    assert info.value.position == 5 + (10 * 1024 - 5) // 2 + 1


def test_predicate_limit_is_100():
    assert parse(" ".join(["name:a"] * 100))
    with pytest.raises(QueryError) as info:
        parse(" ".join(["name:a"] * 101))
    assert info.value.position == 100 * 7 + 1
    assert info.value.message == "too many predicates: the limit is 100"


def test_relation_and_nested_predicates_all_count():
    nested = "callers:(" + " ".join(["name:a"] * 99) + ")"
    assert parse(nested)
    with pytest.raises(QueryError):
        parse(nested + " name:b")


def test_nesting_depth_is_bounded():
    assert parse("(" * 64 + "a" + ")" * 64)
    with pytest.raises(QueryError) as info:
        parse("(" * 70 + "a" + ")" * 70)
    assert info.value.position == 66
    with pytest.raises(QueryError):
        parse("NOT " * 3000 + "a")


def test_kinds_and_visibilities_agree_with_the_graph_model():
    assert fields.SYMBOL_KINDS == model.SYMBOL_KINDS
    assert fields.VISIBILITIES == model.VISIBILITIES
