"""Name search behind ``sqry search`` and ``daemon/search``.

Three modes over symbol *names*: ``regex`` (Python ``re``, searched anywhere in
the name, not full-match), ``exact`` (the name or the qualified name equals the
pattern) and ``fuzzy`` (the pattern's characters appear in order; ranked by
:func:`~sqry.graph.query.fuzzy.fuzzy_score`, always case-insensitive). ``kind``,
``lang`` and ``scope`` narrow the candidates inside SQL.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import nullcontext
from typing import Any, ClassVar, Literal

from sqry.graph.query import sqlfuncs
from sqry.graph.query.compiler import FROM, F, S, SqlFilter, regex_filter, scope_filter
from sqry.graph.query.errors import QueryError
from sqry.graph.query.execute import ORDER, fetch_counted
from sqry.graph.query.record import Record
from sqry.graph.query.regex import IGNORECASE, regex_problem
from sqry.graph.query.rows import SYMBOL_COLUMN_COUNT, SymbolRow, symbol_columns

SearchMode = Literal["regex", "exact", "fuzzy"]


class SearchResult(Record):
    """Matches in output order; ``scores`` parallels ``symbols`` in fuzzy mode."""

    __slots__ = ("symbols", "scores", "total", "truncated")
    _defaults: ClassVar[dict[str, Any]] = {
        "symbols": (),
        "scores": None,
        "total": 0,
        "truncated": False,
    }
    symbols: list[SymbolRow]
    scores: list[float] | None
    total: int
    truncated: bool


def check_pattern(pattern: str, *, ignore_case: bool = False) -> None:
    """Raise QueryError (with the 1-based column) if ``pattern`` is not a usable regex."""
    problem = regex_problem(pattern, IGNORECASE if ignore_case else 0)
    if problem is not None:
        message, at = problem
        raise QueryError(
            message, at + 1, "a valid Python regular expression", pattern, subject="pattern"
        )


def search_symbols(
    conn: sqlite3.Connection,
    pattern: str,
    *,
    mode: SearchMode = "regex",
    kind: str | None = None,
    lang: str | None = None,
    ignore_case: bool = False,
    scope: str | None = None,
    limit: int | None = 100,
) -> SearchResult:
    """Symbols whose names match ``pattern`` in ``mode``; see the module docstring.
    ``limit`` None means all. Raises QueryError for an invalid regex."""
    sqlfuncs.install(conn)
    filters: list[SqlFilter] = []
    if mode == "regex":
        check_pattern(pattern, ignore_case=ignore_case)
        filters.append(regex_filter(f"{S}.name", pattern, IGNORECASE if ignore_case else 0))
    elif mode == "exact":
        filters.append(_exact(pattern, ignore_case))
    elif mode == "fuzzy":
        filters.append(_subsequence(pattern))
    if kind:
        filters.append(SqlFilter(f"{S}.kind = ?", (kind.lower(),)))
    if lang:
        filters.append(SqlFilter(f"{S}.language = ?", (lang.lower(),)))
    filters.append(scope_filter(scope))
    where = " AND ".join(f.sql for f in filters)
    params = [p for f in filters for p in f.params]
    if mode == "fuzzy":
        return _fuzzy(conn, pattern, where, params, limit)
    with sqlfuncs.regex_time_limit(pattern) if mode == "regex" else nullcontext():
        rows, total = fetch_counted(
            conn, symbol_columns(S, F), f"{FROM} WHERE {where} {ORDER}", params, limit
        )
    symbols = [SymbolRow.from_row(r) for r in rows]
    return SearchResult(symbols, None, total, len(symbols) < total)


def indexed_languages(conn: sqlite3.Connection) -> set[str]:
    """The languages the index holds files of (to tell "no such language" from "no match")."""
    return {row[0] for row in conn.execute("SELECT DISTINCT language FROM files")}


def _exact(pattern: str, ignore_case: bool) -> SqlFilter:
    if not ignore_case:
        return SqlFilter(f"({S}.name = ? OR {S}.qualified_name = ?)", (pattern, pattern))
    # Python's case-insensitive matching (Unicode-aware, unlike SQLite's NOCASE) is
    # character by character, so a match has the pattern's length: a C-speed filter.
    whole = r"\A" + re.escape(pattern) + r"\Z"
    n = len(pattern)
    return SqlFilter(
        f"((length({S}.name) = ? AND sqry_regexp(?, ?, {S}.name))"
        f" OR (length({S}.qualified_name) = ? AND sqry_regexp(?, ?, {S}.qualified_name)))",
        (n, whole, IGNORECASE, n, whole, IGNORECASE),
    )


def _subsequence(pattern: str) -> SqlFilter:
    """A cheap ``LIKE '%a%b%'`` pre-filter for fuzzy mode. SQLite's LIKE folds ASCII
    case only, so it is used only for ASCII patterns, where it is exactly the
    subsequence test (the score function decides for the others)."""
    if not pattern.isascii():
        return SqlFilter("(1 = 1)", ())
    chars = ["\\" + ch if ch in "%_\\" else ch for ch in pattern]
    return SqlFilter(f"({S}.name LIKE ? ESCAPE '\\')", ("%" + "%".join(chars) + "%",))


def _fuzzy(
    conn: sqlite3.Connection, pattern: str, where: str, params: list[object], limit: int | None
) -> SearchResult:
    scored = (
        f"(SELECT {symbol_columns(S, F)}, sqry_fuzzy(?, {S}.name) AS score {FROM} WHERE {where})"
    )
    # 1-based columns 6, 7, 8, 1 are path, start_line, start_column, id (symbol_columns).
    rest = f"FROM {scored} WHERE score IS NOT NULL ORDER BY score DESC, 6, 7, 8, 1"
    rows, total = fetch_counted(conn, "*", rest, [pattern, *params], limit)
    return SearchResult(
        [SymbolRow.from_row(r) for r in rows],
        [float(r[SYMBOL_COLUMN_COUNT]) for r in rows],
        total,
        len(rows) < total,
    )
