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
from dataclasses import dataclass, field
from typing import Literal

from sqry.graph.query import sqlfuncs
from sqry.graph.query.compiler import FROM, F, S, scope_filter
from sqry.graph.query.errors import QueryError
from sqry.graph.query.execute import ORDER
from sqry.graph.query.regex import IGNORECASE, compile_regex
from sqry.graph.query.rows import SYMBOL_COLUMN_COUNT, SymbolRow, symbol_columns

SearchMode = Literal["regex", "exact", "fuzzy"]


@dataclass(slots=True)
class SearchResult:
    """Matches in output order; ``scores`` parallels ``symbols`` in fuzzy mode."""

    symbols: list[SymbolRow] = field(default_factory=list)
    scores: list[float] | None = None
    total: int = 0
    truncated: bool = False


def check_pattern(pattern: str, *, ignore_case: bool = False) -> None:
    """Raise QueryError (with the 1-based column) if ``pattern`` is not a valid regex."""
    try:
        compile_regex(pattern, IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise QueryError(
            f"invalid regex: {exc.msg}",
            (exc.pos or 0) + 1,
            "a valid Python regular expression",
            pattern,
            subject="pattern",
        ) from None


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
    """Symbols whose names match ``pattern`` in ``mode``; see the module docstring."""
    sqlfuncs.install(conn)
    conditions: list[str] = []
    params: list[object] = []
    if mode == "regex":
        check_pattern(pattern, ignore_case=ignore_case)
        conditions.append(f"sqry_regexp(?, ?, {S}.name)")
        params += [pattern, IGNORECASE if ignore_case else 0]
    elif mode == "exact":
        conditions.append(_exact(pattern, ignore_case, params))
    if kind:
        conditions.append(f"{S}.kind = ?")
        params.append(kind.lower())
    if lang:
        conditions.append(f"{S}.language = ?")
        params.append(lang.lower())
    scoped = scope_filter(scope)
    conditions.append(scoped.sql)
    params += scoped.params
    where = " AND ".join(conditions)
    if mode == "fuzzy":
        return _fuzzy(conn, pattern, where, params, limit)
    sql = f"SELECT {symbol_columns(S, F)} {FROM} WHERE {where} {ORDER}"
    rows = _fetch(conn, sql, params, limit)
    truncated = limit is not None and len(rows) > limit
    symbols = [SymbolRow.from_row(r) for r in rows[:limit]]
    total = _count(conn, where, params) if truncated else len(symbols)
    return SearchResult(symbols, None, total, truncated)


def _exact(pattern: str, ignore_case: bool, params: list[object]) -> str:
    if not ignore_case:
        params += [pattern, pattern]
        return f"({S}.name = ? OR {S}.qualified_name = ?)"
    # Python's case folding (Unicode-aware), not SQLite's ASCII-only NOCASE.
    whole = r"\A" + re.escape(pattern) + r"\Z"
    params += [whole, IGNORECASE, whole, IGNORECASE]
    return f"(sqry_regexp(?, ?, {S}.name) OR sqry_regexp(?, ?, {S}.qualified_name))"


def _fuzzy(
    conn: sqlite3.Connection, pattern: str, where: str, params: list[object], limit: int | None
) -> SearchResult:
    prefilter, like = _like_prefilter(pattern)
    scored = (
        f"SELECT * FROM (SELECT {symbol_columns(S, F)}, sqry_fuzzy(?, {S}.name) AS score"
        f" {FROM} WHERE {where}{prefilter}) WHERE score IS NOT NULL"
    )
    args = [pattern, *params, *like]
    # 1-based columns 6, 7, 8, 1 are path, start_line, start_column, id (symbol_columns).
    ordered = f"{scored} ORDER BY score DESC, 6, 7, 8, 1"
    rows = _fetch(conn, ordered, args, limit)
    truncated = limit is not None and len(rows) > limit
    kept = rows[:limit]
    total = len(kept)
    if truncated:
        total = int(conn.execute(f"SELECT count(*) FROM ({scored})", args).fetchone()[0])
    return SearchResult(
        [SymbolRow.from_row(r) for r in kept],
        [float(r[SYMBOL_COLUMN_COUNT]) for r in kept],
        total,
        truncated,
    )


def _like_prefilter(pattern: str) -> tuple[str, list[object]]:
    """A cheap ``LIKE '%a%b%'`` pre-filter (SQLite LIKE folds ASCII case only, so it is
    used only for ASCII patterns, where it is exactly the subsequence test)."""
    if not pattern.isascii():
        return "", []
    chars = ["\\" + ch if ch in "%_\\" else ch for ch in pattern]
    return f" AND {S}.name LIKE ? ESCAPE '\\'", ["%" + "%".join(chars) + "%"]


def _fetch(
    conn: sqlite3.Connection, sql: str, params: list[object], limit: int | None
) -> list[tuple]:
    if limit is None:
        return conn.execute(sql, params).fetchall()
    return conn.execute(f"{sql} LIMIT ?", (*params, limit + 1)).fetchall()


def _count(conn: sqlite3.Connection, where: str, params: list[object]) -> int:
    return int(conn.execute(f"SELECT count(*) {FROM} WHERE {where}", params).fetchone()[0])
