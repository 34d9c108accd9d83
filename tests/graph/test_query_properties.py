"""Properties of the parser: printed queries parse back to the same tree, and no
input — however broken — raises anything but QueryError."""

from __future__ import annotations

import re
import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqry.graph import schema
from sqry.graph.languages.base import language_names
from sqry.graph.model import SYMBOL_KINDS, VISIBILITIES
from sqry.graph.query.errors import QueryError
from sqry.graph.query.execute import run_query
from sqry.graph.query.fields import MAX_INT, RELATIONS
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
from sqry.graph.query.printer import format_query
from sqry.graph.query.regex import caseless_literal, required_literal

TEXT_FIELDS = ["name", "qname", "path", "parent", "doc", "signature"]
GROUP_FIELDS = [*TEXT_FIELDS, "kind", "lang", "visibility", "async", "static", "lines"]
# Awkward characters on purpose: quotes, backslashes, slashes, parentheses, pipes,
# operators, glob characters, spaces, non-ASCII.
AWKWARD = st.text(alphabet=st.sampled_from(list("ab_.:/\\\"'()|~=<> *?[]é\t-")), max_size=12)


def glob_or_eq(text: str) -> Pattern:
    return Pattern("glob" if set("*?[") & set(text) else "eq", text)


regex_patterns = st.builds(
    Pattern,
    st.just("regex"),
    st.one_of(AWKWARD.map(re.escape), st.sampled_from(["^get_", "a|b", r"\d+$", "(x)y?", "[/]"])),
    st.sets(st.sampled_from("imsx")).map(lambda s: "".join(sorted(s))),
)
text_patterns = st.one_of(AWKWARD.map(glob_or_eq), regex_patterns)
enum_patterns = st.one_of(
    st.sampled_from(sorted(SYMBOL_KINDS)).map(lambda k: Pattern("eq", k)),
    st.sampled_from(["f*", "?lass", "[cm]ethod"]).map(lambda g: Pattern("glob", g)),
    regex_patterns,
)

leaves = st.one_of(
    st.builds(Match, st.sampled_from(TEXT_FIELDS), text_patterns),
    st.builds(Match, st.just("kind"), enum_patterns),
    st.builds(Match, st.just("visibility"), st.sampled_from(sorted(VISIBILITIES)).map(glob_or_eq)),
    st.builds(
        Match,
        st.just("lang"),
        st.one_of(
            st.sampled_from(sorted(language_names())).map(lambda k: Pattern("eq", k)),
            st.sampled_from(["py*", "?o", "[cj]*"]).map(lambda g: Pattern("glob", g)),
            regex_patterns,
        ),
    ),
    st.builds(
        Compare,
        st.just("lines"),
        st.sampled_from(["=", ">", "<", ">=", "<="]),
        st.integers(0, MAX_INT),
    ),  # fmt: skip
    st.builds(Flag, st.sampled_from(["async", "static"]), st.booleans()),
    st.builds(Relation, st.sampled_from(sorted(RELATIONS)), text_patterns),
)


def extend(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(children, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        st.builds(Relation, st.sampled_from(sorted(RELATIONS)), children),
    )


nodes = st.recursive(leaves, extend, max_leaves=12)
groupings = st.one_of(
    st.builds(GroupBy, st.sampled_from(GROUP_FIELDS)),
    st.builds(Top, st.integers(1, 1000), st.sampled_from(GROUP_FIELDS)),
)
stage_lists = st.one_of(
    st.just(()),
    st.just((Count(),)),
    groupings.map(lambda g: (g,)),
    groupings.map(lambda g: (g, Count())),
)
queries = st.builds(Query, nodes, stage_lists)


@settings(max_examples=400, deadline=None)
@given(queries)
def test_printed_query_parses_back_to_the_same_tree(query):
    assert parse(format_query(query)) == query


# Token soup: pieces of real syntax in random order reach far deeper into the
# parser than uniformly random text does.
PIECES = [
    "kind", "name", "callers", "lines", "async", "top", "group_by", "count", "AND", "or",
    "NOT", "not", ":", "~=", ">", "<=", "=", "(", ")", "|", '"', "'", "/", "/i", "\\",
    "function", "5", "true", "x*", "[", " ", " ", " ", "é", "\x00", "\n",
]  # fmt: skip
soup = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), soup))
def test_any_input_parses_or_raises_query_error_with_a_position(text):
    try:
        query = parse(text)
    except QueryError as error:
        assert 1 <= error.position <= len(text) + 1
        assert error.expected
        error.render()
    else:
        # Whatever parses is printable and reparses to itself.
        assert parse(format_query(query)) == query


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(soup)
def test_whatever_parses_also_runs(text):
    """The parser is the only gate: no parsed query may fail inside SQLite."""
    try:
        query = parse(text)
    except QueryError:
        return
    run_query(_EMPTY_INDEX, query, limit=5)
    run_query(_EMPTY_INDEX, query, limit=5, unresolved=True)


_EMPTY_INDEX = sqlite3.connect(":memory:", check_same_thread=False)
_EMPTY_INDEX.executescript(schema.DDL)


REGEX_PIECES = ["a", "b", "ab", ".", "*", "+", "?", "{2}", "{1,}", "(", ")", "[ab]", "[^a]",
                "|", "\\.", "\\d", "^", "$", "(?:", "\\b", "1"]  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(REGEX_PIECES), max_size=8).map("".join),
    st.text(alphabet="ab.1 ", max_size=10),
)
def test_required_literal_is_in_every_match(pattern, text):
    """The SQL prefilter may only skip rows the regex could not match."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return
    literal = required_literal(pattern)
    if literal is not None and compiled.search(text):
        assert literal in text


def sqlite_like_contains(text: str, needle: str) -> bool:
    """SQLite's ``LIKE '%needle%'``: case-insensitive for ASCII letters only."""

    def fold(value: str) -> str:
        return "".join(ch.lower() if ch.isascii() else ch for ch in value)

    return fold(needle) in fold(text)


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from([*REGEX_PIECES, "K", "s", "I", "x"]), max_size=8).map("".join),
    st.text(alphabet="aAbB.1 KkSsſİıxX\u212a", max_size=10),
)
def test_caseless_literal_is_in_every_case_insensitive_match(pattern, text):
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error:
        return
    literal = caseless_literal(pattern, re.IGNORECASE)
    if literal is not None and compiled.search(text):
        assert sqlite_like_contains(text, literal)
