"""Run a query against an open index connection and shape the answer.

The result has one of three shapes, decided by the stages: ``symbols`` (no stage),
``count`` (``| count`` last) or ``groups`` (``group_by``/``top``). Symbol rows come
in a stable order (path, line, column) so repeated runs, and the daemon and
in-process paths, list the same items in the same order.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, ClassVar, Literal

from sqry.graph.query import sqlfuncs
from sqry.graph.query.compiler import (
    FROM,
    F,
    S,
    SqlFilter,
    compile_filter,
    group_expression,
    scope_filter,
)
from sqry.graph.query.errors import QueryError
from sqry.graph.query.nodes import Count, GroupBy, Query, Top
from sqry.graph.query.parser import parse
from sqry.graph.query.record import Record
from sqry.graph.query.rows import SymbolRow, symbol_columns

ORDER = f"ORDER BY {F}.path, {S}.start_line, {S}.start_column, {S}.id"


class Group(Record):
    """One ``group_by``/``top`` row: a field value and how many symbols have it."""

    __slots__ = ("value", "count")
    value: object
    count: int


class QueryResult(Record):
    """What a query produced. ``total`` counts all matches (symbols or groups) even
    when ``truncated`` by the limit; ``count`` is set for the ``count`` shape."""

    __slots__ = ("shape", "symbols", "groups", "group_field", "count", "total", "truncated")
    _defaults: ClassVar[dict[str, Any]] = {
        "symbols": (),
        "groups": (),
        "group_field": None,
        "count": None,
        "total": 0,
        "truncated": False,
    }
    shape: Literal["symbols", "count", "groups"]
    symbols: list[SymbolRow]
    groups: list[Group]
    group_field: str | None
    count: int | None
    total: int
    truncated: bool

    @property
    def empty(self) -> bool:
        """No result at all (``count`` of 0 counts as empty, like ``grep -c``)."""
        return self.total == 0


def run_query(
    conn: sqlite3.Connection,
    query: str | Query,
    *,
    scope: str | None = None,
    limit: int | None = None,
    unresolved: bool = False,
) -> QueryResult:
    """Evaluate ``query`` (text or parsed) on ``conn``.

    ``scope``: only symbols in files at or under this workspace-relative path.
    ``limit``: at most this many symbols/groups (None = all).
    ``unresolved``: relation names also match unresolved edges' written text.
    Raises :class:`~sqry.graph.query.errors.QueryError` for a bad query text, and
    for SQL SQLite finds too complex (which the compiler should never emit for a
    query within the limits); any other ``sqlite3.Error`` is the index's problem.
    """
    parsed = parse(query) if isinstance(query, str) else query
    sqlfuncs.install(conn)
    where = _and(compile_filter(parsed.where, unresolved=unresolved), scope_filter(scope))
    text = query if isinstance(query, str) else ""
    limited = (
        sqlfuncs.regex_time_limit(text, "query") if "sqry_regexp" in where.sql else nullcontext()
    )
    try:
        with limited, _tables_filled(conn, where):
            return _evaluate(conn, parsed, where, limit)
    except sqlite3.OperationalError as exc:
        sqlfuncs.raise_if_interrupted()
        if not _TOO_COMPLEX.search(str(exc)):
            raise  # the index's problem (locked, corrupt, wrong schema), not the query's
        raise QueryError(
            f"query is too complex for SQLite ({exc}); use fewer nested parentheses,"
            " NOTs or relations, or split it into several queries",
            1,
            "a simpler query",
            query if isinstance(query, str) else "",
        ) from None


#: SQLite's messages for a statement beyond its compile-time limits (parser stack,
#: expression depth, joins, terms, pattern length): the query's fault, reported as
#: a QueryError, never as a broken index. The compiler keeps every query the
#: language's own limits allow below them; this is the net under that promise.
_TOO_COMPLEX = re.compile(
    r"parser stack overflow|too large|too many|too complex|tables in a join", re.IGNORECASE
)


@contextmanager
def _tables_filled(conn: sqlite3.Connection, where: SqlFilter) -> Iterator[None]:
    """Fill the temporary tables ``where`` reads, in order (see the compiler's
    module doc for why tables), and drop them afterwards. They live in the
    connection's own temp database: a read-only index file is fine, and the
    reader's ``PRAGMA query_only`` (which refuses temp tables too) is lifted only
    while they are made and dropped. The names are fixed per query (``sqry_q1``...):
    one connection runs one query at a time."""
    if not where.tables:
        yield
        return
    # One read transaction around the tables and the statements that read them:
    # each statement would otherwise see the index as of its own start, and a
    # build committing in between would mix two states.
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    made: list[str] = []
    try:
        with _temp_writes(conn):
            for name, select, params in where.tables:
                conn.execute(f"CREATE TEMP TABLE {name} AS {select}", params)
                made.append(name)
        yield
    finally:
        with _temp_writes(conn):
            for name in made:
                conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
        if own:
            conn.execute("ROLLBACK")  # nothing to keep: it only read


@contextmanager
def _temp_writes(conn: sqlite3.Connection) -> Iterator[None]:
    """``PRAGMA query_only`` off for the block (restored after), for temp tables."""
    guarded = conn.execute("PRAGMA query_only").fetchone()[0]
    if guarded:
        conn.execute("PRAGMA query_only = 0")
    try:
        yield
    finally:
        if guarded:
            conn.execute("PRAGMA query_only = 1")


def _evaluate(
    conn: sqlite3.Connection, parsed: Query, where: SqlFilter, limit: int | None
) -> QueryResult:
    stages = parsed.stages
    grouping = stages[0] if stages and isinstance(stages[0], GroupBy | Top) else None
    counted = bool(stages) and isinstance(stages[-1], Count)
    if grouping is None:
        if counted:
            n = _scalar(conn, f"SELECT count(*) {FROM} WHERE {where.sql}", where.params)
            return QueryResult("count", count=n, total=n)
        return _symbols(conn, where, limit)
    groups_sql = _groups_sql(grouping.field, where)
    cap = grouping.n if isinstance(grouping, Top) else None
    if counted:
        capped = f"{groups_sql} LIMIT {cap}" if cap is not None else groups_sql
        n = _scalar(conn, f"SELECT count(*) FROM ({capped})", where.params)
        return QueryResult("count", count=n, total=n)
    return _groups(conn, groups_sql, where, grouping.field, _min(cap, limit), cap)


def _and(a: SqlFilter, b: SqlFilter) -> SqlFilter:
    """Both filters (their tables never clash: only ``compile_filter`` makes any)."""
    return SqlFilter(f"{a.sql} AND {b.sql}", a.params + b.params, a.tables + b.tables)


def _scalar(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> int:
    """The single value ``sql`` selects."""
    return int(conn.execute(sql, tuple(params)).fetchone()[0])


def _symbols(conn: sqlite3.Connection, where: SqlFilter, limit: int | None) -> QueryResult:
    rest = f"{FROM} WHERE {where.sql} {ORDER}"
    rows, total = fetch_counted(conn, symbol_columns(S, F), rest, where.params, limit)
    symbols = [SymbolRow.from_row(r) for r in rows]
    return QueryResult("symbols", symbols=symbols, total=total, truncated=len(symbols) < total)


def fetch_counted(
    conn: sqlite3.Connection,
    columns: str,
    rest: str,
    params: Sequence[object],
    limit: int | None,
) -> tuple[list[tuple], int]:
    """Rows of ``SELECT columns rest`` (``rest`` = FROM ... ORDER BY ...), at most
    ``limit``, and how many there are in all — from one pass: ``count(*) OVER ()``
    rides along as the last column, so a truncated answer costs no second scan."""
    if limit == 0:
        sql = f"SELECT count(*) FROM (SELECT {columns} {rest})"
        return [], _scalar(conn, sql, params)
    sql = f"SELECT {columns}, count(*) OVER () {rest}"
    if limit is not None:
        sql += " LIMIT ?"
        params = (*params, limit)
    rows = conn.execute(sql, tuple(params)).fetchall()
    return rows, int(rows[0][-1]) if rows else 0


def _groups_sql(group_field: str, where: SqlFilter) -> str:
    value = group_expression(group_field)
    return (
        f"SELECT {value} AS value, count(*) AS n {FROM} WHERE {where.sql}"
        " GROUP BY value ORDER BY n DESC, value"
    )


def _groups(
    conn: sqlite3.Connection,
    sql: str,
    where: SqlFilter,
    group_field: str,
    limit: int | None,
    cap: int | None,
) -> QueryResult:
    """Groups of ``sql`` (which uses ``where``); ``cap`` is ``top N``'s N (asked for,
    so not "truncated"), ``limit`` the caller's limit (reported as truncation when it
    cuts)."""
    rows = _limited(conn, sql, where, limit)
    truncated = limit is not None and len(rows) > limit and limit != cap
    kind = _group_value_kind(group_field)
    groups = [Group(kind(value), int(n)) for value, n in rows[:limit]]
    total = len(groups)
    if truncated:
        total = _scalar(conn, f"SELECT count(*) FROM ({sql})", where.params)
        total = total if cap is None else min(cap, total)
    return QueryResult(
        "groups", groups=groups, group_field=group_field, total=total, truncated=truncated
    )


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _group_value_kind(group_field: str):  # noqa: ANN202 - a converter
    """How a grouped SQL value is presented: booleans as booleans, NULL parents as None."""
    if group_field in ("async", "static"):
        return bool
    return lambda value: value


def _limited(
    conn: sqlite3.Connection, sql: str, where: SqlFilter, limit: int | None
) -> list[tuple]:
    """Rows of ``sql`` (which uses ``where`` and ends in its ORDER BY), at most
    ``limit + 1`` of them so truncation can be detected."""
    if limit is None:
        return conn.execute(sql, where.params).fetchall()
    # (SQLite integers are 64-bit: the largest --limit plus one would not fit)
    return conn.execute(f"{sql} LIMIT ?", (*where.params, min(limit + 1, 2**63 - 1))).fetchall()
