"""Tokens of the query language: modal value words, quoting, regex literals, offsets."""

from __future__ import annotations

import pytest

from sqry.graph.query.errors import QueryError
from sqry.graph.query.lexer import tokenize


def kinds_and_texts(query: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(query)]


def test_field_op_value_split_without_spaces():
    assert kinds_and_texts("kind:function") == [
        ("WORD", "kind"),
        ("OP", ":"),
        ("WORD", "function"),
        ("EOF", ""),
    ]


@pytest.mark.parametrize("op", [":", "~=", ">", "<", ">=", "<="])
def test_every_operator(op):
    assert kinds_and_texts(f"lines{op}3")[1] == ("OP", op)


def test_spaces_around_operators_are_allowed():
    assert kinds_and_texts("lines >= 50") == kinds_and_texts("lines>=50")


def test_value_words_keep_colons_slashes_and_angle_brackets():
    assert kinds_and_texts("qname:crate::net::connect path:src/*.rs name:Vec<T>") == [
        ("WORD", "qname"),
        ("OP", ":"),
        ("WORD", "crate::net::connect"),
        ("WORD", "path"),
        ("OP", ":"),
        ("WORD", "src/*.rs"),
        ("WORD", "name"),
        ("OP", ":"),
        ("WORD", "Vec<T>"),
        ("EOF", ""),
    ]


def test_value_words_stop_at_parentheses_and_pipe():
    assert kinds_and_texts("callers:(name:x)|count") == [
        ("WORD", "callers"),
        ("OP", ":"),
        ("LPAREN", "("),
        ("WORD", "name"),
        ("OP", ":"),
        ("WORD", "x"),
        ("RPAREN", ")"),
        ("PIPE", "|"),
        ("WORD", "count"),
        ("EOF", ""),
    ]


def test_double_and_single_quotes_with_escapes():
    (_, _, value, _) = tokenize(r'doc:"say \"hi\" \\ and a\.b"')
    assert (value.kind, value.text) == ("STRING", r'say "hi" \ and a\.b')
    (_, _, value, _) = tokenize(r"doc:'it\'s (fine) | ok'")
    assert (value.kind, value.text) == ("STRING", "it's (fine) | ok")


def test_regex_literal_with_escaped_slash_and_flags():
    (_, _, value, _) = tokenize(r"path~=/src\/api\.py$/mi")
    assert (value.kind, value.text, value.flags) == ("REGEX", r"src/api\.py$", "im")


def test_offsets_are_0_based_starts_and_ends():
    tokens = tokenize("  kind : x")
    assert [(t.pos, t.end) for t in tokens] == [(2, 6), (7, 8), (9, 10), (10, 10)]


def test_keywords_are_plain_words_to_the_lexer():
    assert kinds_and_texts("a AND not b")[1] == ("WORD", "AND")


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ('name:"abc', 6, "unterminated string starting at column 6"),
        ("name:'abc", 6, "unterminated string starting at column 6"),
        ("name~=/abc", 7, "unterminated regex starting at column 7"),
        ("name~=/abc/ig", 13, "unknown regex flag 'g'"),
        ("name~=/abc/ii", 13, "repeated regex flag 'i'"),
        ("name~=/abc/imxm", 15, "repeated regex flag 'm'"),
        ("name=foo", 5, "unexpected '=': use ':' for equality, e.g. name:main"),
    ],
)
def test_lexical_errors_have_exact_columns(query, column, message):
    with pytest.raises(QueryError) as info:
        tokenize(query)
    assert (info.value.position, info.value.message) == (column, message)
