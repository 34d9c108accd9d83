"""Name search (``sqry search``): the modes agree on what an empty pattern means."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sqry.graph.query.fuzzy import fuzzy_score
from sqry.graph.query.search import search_symbols

SOURCE = "def helper():\n    pass\n\n\ndef main():\n    helper()\n"


@pytest.fixture
def indexed(workspace: Path, sqry) -> Path:
    (workspace / "main.py").write_text(SOURCE)
    result = sqry("index", str(workspace))
    assert result.returncode == 0, result.stderr
    return workspace


@pytest.mark.timeout(120)
def test_an_empty_fuzzy_pattern_matches_every_name_like_the_empty_regex(indexed, sqry) -> None:
    every = sqry("search", "", "--json", cwd=indexed)
    fuzzy = sqry("search", "", "--fuzzy", "--json", cwd=indexed)
    assert (every.returncode, fuzzy.returncode) == (0, 0), fuzzy.stderr
    items = json.loads(fuzzy.stdout)["items"]
    assert [i["qualified_name"] for i in items] == [
        i["qualified_name"] for i in json.loads(every.stdout)["items"]
    ]
    assert [i["qualified_name"] for i in items] == ["main", "main.helper", "main.main"]
    # No name is a better match than another: equal scores, in file order.
    assert {i["score"] for i in items} == {0.0}


@pytest.mark.timeout(120)
def test_empty_fuzzy_search_counts_and_limits_like_any_other(indexed) -> None:
    conn = sqlite3.connect(indexed / ".sqry" / "index.db")
    try:
        result = search_symbols(conn, "", mode="fuzzy", kind="function", limit=1)
        assert [s.qualified_name for s in result.symbols] == ["main.helper"]
        assert (result.total, result.truncated, result.scores) == (2, True, [0.0])
    finally:
        conn.close()


def test_fuzzy_score_of_the_empty_pattern() -> None:
    assert fuzzy_score("", "anything") == 0.0
    assert fuzzy_score("", "") == 1.0  # an exact match, as for any pattern
    assert fuzzy_score("hlp", "helper") is not None and fuzzy_score("x", "helper") is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["search", "query"])
def test_a_catastrophically_backtracking_regex_is_stopped_with_a_clear_error(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """``^(a|aa)+$`` against ``aaaa…a_`` takes exponential time: the search stops
    at the limit with a QueryError naming the pattern, not a hang nor a
    "cannot read the index"."""
    from sqry.graph.index import build_index
    from sqry.graph.query import QueryError, run_query, sqlfuncs

    name = "a" * 40 + "_"
    (workspace / "m.py").write_text(f"def {name}():\n    pass\n")
    build_index(workspace)
    monkeypatch.setattr(sqlfuncs, "REGEX_TIME_LIMIT_SECS", 0.5)
    pattern = "^(a|aa)+$"
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    try:
        with pytest.raises(QueryError) as info:
            if how == "search":
                search_symbols(conn, pattern)
            else:
                run_query(conn, f"name~=/{pattern}/")
        assert "the regex ran over the index's names for more than 0.5s" in str(info.value)
        assert info.value.query in (pattern, f"name~=/{pattern}/")
        # the connection is still usable: the next search answers
        assert [s.name for s in search_symbols(conn, "^a+_$").symbols] == [name]
    finally:
        conn.close()
