"""Name one symbol, then walk its direct call edges (``sqry graph``, ``sqry explain``).

A symbol is named by its qualified name or its plain name, both at once; a file
(``in_file``) and a line (``line``) narrow the candidates. More than one candidate
left is *ambiguity*, which callers report rather than guess — a wrong answer is
worse than a question back.

Call edges are the resolved ones (``target_id`` set). Unresolved calls made by a
symbol are listed separately by :func:`unresolved_calls` with the text as written,
so nothing is silently bound to a guess and nothing is silently hidden.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from sqry.graph.query.record import Record
from sqry.graph.query.rows import SymbolRow, symbol_columns

_FROM = "FROM symbols s JOIN files f ON f.id = s.file_id"
_ORDER = "ORDER BY f.path, s.start_line, s.start_column, s.id"


class CallSite(Record):
    """``symbol`` (the caller, or the callee) and where the call is written."""

    __slots__ = ("symbol", "path", "line", "column", "resolved_via")
    symbol: SymbolRow
    path: str
    line: int
    column: int
    resolved_via: str  # the rule that bound the call (graph.md §1)


class UnresolvedCall(Record):
    """A call from the symbol whose target could not be bound, as written."""

    __slots__ = ("target_text", "path", "line", "column", "ambiguous_via", "candidates")
    target_text: str
    path: str
    line: int
    column: int
    # the rule that found several candidates (their number), or None (0): the
    # call is ambiguous rather than unknown
    ambiguous_via: str | None
    candidates: int


def find_symbols(
    conn: sqlite3.Connection,
    ref: str,
    *,
    in_file: str | None = None,
    line: int | None = None,
    under: str | None = None,
) -> list[SymbolRow]:
    """Candidates for ``ref``: every symbol whose qualified name *or* name equals it;
    failing both, every symbol whose qualified name ends with ``ref``'s segments.

    The two are pooled, not tried in turn: a top-level symbol's qualified name is a
    plain word (the module of ``main.py`` is ``main``), so letting qualified names
    win would hide every function called ``main`` behind that module, even from
    ``--line``. A ref with a separator (``main.main``, ``geo::Circle``) can only
    equal qualified names anyway, so it names what it always named.

    ``in_file``: a workspace-relative path, or a trailing part of one at a ``/``
    boundary (``app.py`` matches ``src/app.py``). ``line``: keep the candidates that
    start on that line, else the innermost one whose span contains it. ``under``: a
    workspace-relative directory (or file) the symbol must be defined in.
    """
    found = _narrowed(_by(conn, "(s.qualified_name = ? OR s.name = ?)", ref, ref), in_file, under)
    if not found:  # nothing of that (qualified) name where asked: shortened names then
        found = _narrowed(_by_trailing_segments(conn, ref), in_file, under)
    return _at_line(found, line) if line is not None else found


def _narrowed(
    candidates: list[SymbolRow], in_file: str | None, under: str | None
) -> list[SymbolRow]:
    """The ``candidates`` defined under ``under`` and in ``in_file`` (when given)."""
    if under is not None:
        inside = under + "/"
        candidates = [c for c in candidates if c.path == under or c.path.startswith(inside)]
    if in_file:
        candidates = [c for c in candidates if names_file(in_file, c.path)]
    return candidates


def _by_trailing_segments(conn: sqlite3.Connection, ref: str) -> list[SymbolRow]:
    """Symbols whose qualified name ends with the segments of ``ref``, for a ``ref``
    of several segments that is no symbol's name: ``Service.run`` names
    ``com.acme.Service.run`` the way a reader would shorten it. Segments are
    compared whole and either separator may be written (``Circle.area`` names
    ``geo::Circle::area``); only asked when nothing matches ``ref`` exactly, so a
    full name never competes with the longer names it ends."""
    from sqry.graph.query.sqlfuncs import name_segments

    wanted = name_segments(ref)
    if len(wanted) < 2 or not all(wanted):
        return []
    return [
        c
        for c in _by(conn, "s.name = ?", wanted[-1])
        if name_segments(c.qualified_name)[-len(wanted) :] == wanted
    ]


def names_file(in_file: str, path: str) -> bool:
    """Whether ``--in`` ``in_file`` names the indexed ``path``: equal to it, or a
    trailing part of it at a ``/`` boundary (``app.py`` names ``src/app.py``)."""
    wanted = in_file.removeprefix("./")
    return path == wanted or path.endswith("/" + wanted)


def any_file_named(conn: sqlite3.Connection, in_file: str) -> bool:
    """Whether ``in_file`` names any indexed file (see :func:`names_file`)."""
    return any(names_file(in_file, path) for (path,) in conn.execute("SELECT path FROM files"))


def _by(conn: sqlite3.Connection, condition: str, *values: str) -> list[SymbolRow]:
    sql = f"SELECT {symbol_columns()} {_FROM} WHERE {condition} {_ORDER}"
    return [SymbolRow.from_row(r) for r in conn.execute(sql, values)]


def _at_line(candidates: list[SymbolRow], line: int) -> list[SymbolRow]:
    starting = [c for c in candidates if c.start_line == line]
    if starting:
        return starting
    containing = [c for c in candidates if c.start_line <= line <= c.end_line]
    if not containing:
        return []
    innermost = min(c.lines for c in containing)
    return [c for c in containing if c.lines == innermost]


def call_sites(
    conn: sqlite3.Connection, symbol_id: int, direction: Literal["callers", "callees"]
) -> list[CallSite]:
    """Direct resolved callers of (or callees from) ``symbol_id``, one per call site,
    ordered by where the call is written."""
    other, this = (
        ("source_id", "target_id") if direction == "callers" else ("target_id", "source_id")
    )
    sql = (
        f"SELECT {symbol_columns()}, cf.path, e.line, e.column, e.resolved_via FROM edges e"
        f" JOIN symbols s ON s.id = e.{other} JOIN files f ON f.id = s.file_id"
        " JOIN files cf ON cf.id = e.file_id"
        f" WHERE e.kind = 'calls' AND e.{this} = ? AND e.target_id IS NOT NULL"
        " ORDER BY cf.path, e.line, e.column, s.id"
    )
    return [
        CallSite(SymbolRow.from_row(r), r[-4], r[-3] or 0, r[-2] or 0, r[-1] or "")
        for r in conn.execute(sql, (symbol_id,))
    ]


def unresolved_calls(conn: sqlite3.Connection, symbol_id: int) -> list[UnresolvedCall]:
    """Calls made by ``symbol_id`` that resolution left unbound, in source order."""
    sql = (
        "SELECT e.target_text, cf.path, e.line, e.column, e.ambiguous_via, e.candidates"
        " FROM edges e JOIN files cf ON cf.id = e.file_id"
        " WHERE e.kind = 'calls' AND e.source_id = ? AND e.target_id IS NULL"
        " ORDER BY cf.path, e.line, e.column"
    )
    return [
        UnresolvedCall(text, path, line or 0, column or 0, via, count if via else 0)
        for text, path, line, column, via, count in conn.execute(sql, (symbol_id,))
    ]


def parent_of(conn: sqlite3.Connection, symbol: SymbolRow) -> SymbolRow | None:
    """The enclosing symbol, or None for a module; for a method defined outside
    its type's body, that type (:func:`~sqry.graph.query.compiler.adopted_owner`),
    the parent ``parent:`` queries see too."""
    if symbol.parent_id is None:
        return None
    from sqry.graph.query import sqlfuncs
    from sqry.graph.query.compiler import adopted_owner

    sqlfuncs.install(conn)  # adopted_owner calls sqry_owner
    owner = f"(SELECT {adopted_owner('o', 'id')} FROM symbols o WHERE o.id = ?)"
    row = conn.execute(
        f"SELECT {symbol_columns()} {_FROM} WHERE s.id = COALESCE({owner}, ?)",
        (symbol.id, symbol.parent_id),
    )
    found = row.fetchone()
    return SymbolRow.from_row(found) if found else None
