"""``sqry search|query|graph|explain``: the read commands over a workspace index.

``PATH`` (default: the current directory) locates the index — the nearest
``.sqry/index.db`` at or above it — and, for ``search`` and ``query``, also
limits the answer to symbols defined at or under ``PATH``. ``graph`` and
``explain`` name one symbol (``SYMBOL`` = name or qualified name; ``--in FILE`` and
``--line N`` narrow it) and exit 4 with the candidates when it stays ambiguous.

Answers are computed in this process from the on-disk index. ``--no-daemon`` is
accepted by every read command so scripts can pin the in-process path; it is the
only path today (answering from a running ``sqryd`` comes later).

This module is imported on every ``sqry`` call, so it imports only argparse at
module level; the engine (sqlite3, re, the query package) loads inside the
command that needs it.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqry.cli.argtypes import nonempty
from sqry.cli.stdio import write_stderr

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from sqry.cli.output import Painter, Report
    from sqry.graph.query.execute import QueryResult
    from sqry.graph.query.rows import SymbolRow
    from sqry.graph.query.symbols import CallSite, UnresolvedCall
    from sqry.graph.store import IndexReader

DEFAULT_LIMIT = 100
MAX_LIMIT = 2**63 - 1
"""The largest ``--limit``: SQLite's largest integer (the limit reaches its SQL)."""
ITEM_COLUMNS = [
    "name",
    "qualified_name",
    "kind",
    "language",
    "file_path",
    "start_line",
    "start_column",
    "end_line",
    "end_column",
]
_NO_DAEMON_HELP = (
    "answer in this process, never from sqryd (today the only path; accepted so "
    "scripts keep working once daemon-backed answers land)"
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``search``, ``query``, ``graph`` and ``explain`` to the ``sqry`` parser."""
    _register_search(sub)
    _register_query(sub)
    _register_graph(sub)
    _register_explain(sub)


# -- argument parsing ----------------------------------------------------------------


def _limit(text: str) -> int:
    """argparse type for ``--limit``: a whole number up to :data:`MAX_LIMIT`, 0 = no limit."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_LIMIT:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 0 (no limit) to {MAX_LIMIT}, got {text!r}"
        )
    return int(text)


def _line(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a line number >= 1, got {text!r}")
    return int(text)


def _add_common(
    parser: argparse.ArgumentParser, path_help: str, default_path: str | None = "."
) -> None:
    from sqry.cli.output import add_format_flags

    parser.add_argument(
        "path",
        nargs="?",
        default=default_path,
        type=nonempty("a path"),
        metavar="PATH",
        help=path_help,
    )
    parser.add_argument(
        "--limit",
        type=_limit,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"show at most N results (default {DEFAULT_LIMIT}; 0 = all)",
    )
    parser.add_argument("--no-daemon", action="store_true", help=_NO_DAEMON_HELP)
    add_format_flags(parser)


def _add_symbol_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "symbol", type=nonempty("a symbol name"), metavar="SYMBOL", help="name or qualified name"
    )
    parser.add_argument(
        "--in", dest="in_file", metavar="FILE", help="only the symbol defined in FILE"
    )
    parser.add_argument(
        "--line", type=_line, metavar="N", help="only the symbol at (or around) line N"
    )


_SCOPE_HELP = "search the index containing PATH, only symbols under PATH (default: .)"
_LOCATE_HELP = (
    "use the index containing PATH (default: .); a PATH below the index root also "
    "limits the symbols SYMBOL may name to those defined under it"
)


def _register_search(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "search",
        help="find symbols by name",
        description="Find symbols whose name matches PATTERN, a Python regex searched "
        "anywhere in the name (not anchored).",
    )
    p.add_argument("pattern", metavar="PATTERN")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--exact", action="store_true", help="name or qualified name equals PATTERN")
    mode.add_argument(
        "--fuzzy",
        action="store_true",
        help="PATTERN's characters appear in order; best matches first (score in JSON)",
    )
    p.add_argument(
        "-k",
        "--kind",
        type=nonempty("a kind"),
        metavar="KIND",
        help="only this kind (function, class, ...)",
    )
    p.add_argument(
        "-l", "--lang", type=nonempty("a language"), metavar="LANG", help="only this language"
    )
    p.add_argument("-i", "--ignore-case", action="store_true", help="match case-insensitively")
    _add_common(p, _SCOPE_HELP)
    p.set_defaults(run=_search)


def _register_query(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "query",
        help="select symbols with the query language",
        description="Select symbols with the query language, e.g. "
        "'kind:function AND callers:authenticate | count'.",
    )
    p.add_argument("expr", metavar="EXPR")
    p.add_argument(
        "--unresolved",
        action="store_true",
        help="relation names also match unresolved edges by the target text as written",
    )
    _add_common(p, _SCOPE_HELP)
    p.set_defaults(run=_query)


def _register_graph(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graph", help="direct callers or callees of a symbol, with call sites")
    graph_sub = p.add_subparsers(dest="direction", metavar="callers|callees")
    graph_sub.required = True
    for direction, text in (
        ("callers", "symbols that call SYMBOL, one line per call site"),
        ("callees", "symbols SYMBOL calls, one line per call site"),
    ):
        d = graph_sub.add_parser(direction, help=text, description=text.capitalize() + ".")
        _add_symbol_args(d)
        _add_common(d, _LOCATE_HELP, default_path=None)
        d.set_defaults(run=_graph)


def _register_explain(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="definition, signature, doc, callers and callees of a symbol",
        description="Show a symbol's definition, signature, doc, callers and callees.",
    )
    _add_symbol_args(p)
    _add_common(p, _LOCATE_HELP, default_path=None)
    p.set_defaults(run=_explain)


# -- failure handling ----------------------------------------------------------------


class _Fail(Exception):
    """An expected failure: the message (and detail lines) to print and the exit code."""

    def __init__(self, code: int, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn expected failures into ``sqry: ...`` on stderr and an exit code, never a traceback."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        import sqlite3

        from sqry.cli import output
        from sqry.graph.query.errors import QueryError

        try:
            return run(args)
        except _Fail as failure:
            output.error(failure.message)
            for line in failure.details:
                write_stderr(line + "\n")
            return failure.code
        except QueryError as exc:
            output.error(exc.render())
            return output.EXIT_USAGE
        except sqlite3.Error as exc:
            from sqry.graph.query.sqlfuncs import raise_if_interrupted

            raise_if_interrupted()  # Ctrl-C inside a regex: "interrupted", exit 130
            output.error(f"cannot read the index: {exc}; rebuild it with 'sqry index --force'")
            return output.EXIT_NO_INDEX

    return wrapper


# -- opening the index ---------------------------------------------------------------


class _Workspace:
    """An open index: its root, the connection, and the ``PATH`` scope inside it.

    A context manager around a command's reading, which must end before the
    command prints anything: an index the user cannot write is read without
    SQLite's locks (:attr:`IndexReader.immutable`), so its owner's build may
    change it mid-read. On leaving, such a read is checked and its answer — or
    its failure: a damaged page, "no symbol named ..." — replaced by the "run
    the command again" error (exit 3) if the index changed; a SQLite error on it
    is that error too (its user could not rebuild the index anyway).
    """

    def __init__(
        self, reader: IndexReader, scope: str | None, show_path: Callable[[str], str]
    ) -> None:
        self.reader = reader
        self.root = reader.root
        self.conn: sqlite3.Connection = reader.conn
        self.scope = scope
        self.show_path = show_path  # index path -> as printed (output.path_display)

    def __enter__(self) -> _Workspace:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: object, tb: object) -> None:
        import sqlite3

        from sqry.cli.output import EXIT_NO_INDEX
        from sqry.graph.store import IndexBeingWritten

        try:
            if kind is not None and not issubclass(kind, Exception):
                return  # KeyboardInterrupt, SystemExit: nothing to check
            if self.reader.immutable and kind is not None and issubclass(kind, sqlite3.Error):
                raise IndexBeingWritten(self.reader.path.parent)
            self.reader.check_unchanged()
        except IndexBeingWritten as changed:
            raise _Fail(EXIT_NO_INDEX, str(changed)) from None
        finally:
            self.reader.close()


def _open_workspace(path_arg: str) -> _Workspace:
    """Find the index at or above ``path_arg`` and open it (exit 2/3 when impossible).

    The single place the read commands reach the index; opening and version checks
    are the engine's (:mod:`sqry.graph.store`).
    """
    import os
    import shlex

    from sqry.cli.output import EXIT_NO_INDEX, path_display
    from sqry.graph.store import (
        BadIndexLocation,
        IncompatibleIndex,
        NoIndex,
        find_index_root,
        open_index,
    )

    target = _existing_path(path_arg)
    try:
        root = find_index_root(target)
    except BadIndexLocation as exc:
        raise _Fail(EXIT_NO_INDEX, str(exc)) from None
    if root is None:
        where = target if target.is_dir() else target.parent  # `sqry index` takes a directory
        raise _Fail(
            EXIT_NO_INDEX, f"no index at {target}: run 'sqry index {shlex.quote(str(where))}'"
        )
    try:
        reader = open_index(root)
    except (NoIndex, IncompatibleIndex, BadIndexLocation) as exc:
        raise _Fail(EXIT_NO_INDEX, str(exc)) from None
    scope = target.relative_to(reader.root).as_posix()
    show_path = path_display(reader.root, absolute=os.path.isabs(path_arg))
    return _Workspace(reader, None if scope == "." else scope, show_path)


def _existing_path(path_arg: str) -> Path:
    """``PATH`` made absolute, or exit 2 naming why it cannot be used (missing, a
    name too long, a directory on the way not searchable, the current directory
    deleted)."""
    import errno
    from pathlib import Path

    from sqry.cli.output import EXIT_USAGE, path_problem

    try:
        target = Path(path_arg).resolve()
        target.stat()
    except OSError as exc:
        if exc.errno == errno.ENOENT and exc.filename is not None:
            raise _Fail(EXIT_USAGE, f"no such file or directory: {path_arg}") from None
        raise _Fail(EXIT_USAGE, f"cannot use {path_arg!r}: {path_problem(exc)}") from None
    return target


# -- search and query ----------------------------------------------------------------


@_guarded
def _search(args: argparse.Namespace) -> int:
    from sqry.cli.output import EXIT_USAGE
    from sqry.graph.query.fields import SYMBOL_KINDS
    from sqry.graph.query.search import check_pattern, search_symbols

    if args.kind and args.kind.lower() not in SYMBOL_KINDS:
        raise _Fail(
            EXIT_USAGE,
            f"unknown kind '{args.kind}' for --kind; expected one of {', '.join(sorted(SYMBOL_KINDS))}",
        )
    mode = "exact" if args.exact else "fuzzy" if args.fuzzy else "regex"
    if mode == "regex":
        check_pattern(args.pattern, ignore_case=args.ignore_case)
    with _open_workspace(args.path) as ws:
        _check_scope(ws, args.path)
        if args.lang:
            _check_language(ws, args.lang)
        result = search_symbols(
            ws.conn,
            args.pattern,
            mode=mode,
            kind=args.kind,
            lang=args.lang,
            ignore_case=args.ignore_case,
            scope=ws.scope,
            limit=args.limit or None,
        )
    items = [s.item() for s in result.symbols]
    if result.scores is not None:
        for item, score in zip(items, result.scores, strict=True):
            item["score"] = score
    return _emit_symbols(ws, args, result.symbols, items, result.total, result.truncated)


def _check_scope(ws: _Workspace, path_arg: str) -> None:
    """A PATH under the index root that holds no indexed file is named as such
    (1), not answered with a silent "no results": it is usually skipped on
    purpose (``venv``, ``node_modules``, an ignore file)."""
    from sqry.cli.output import EXIT_NO_RESULTS

    if ws.scope is None:
        return
    found = ws.conn.execute(
        "SELECT 1 FROM files WHERE path = ? OR substr(path, 1, ?) = ? LIMIT 1",
        (ws.scope, len(ws.scope) + 1, ws.scope + "/"),
    ).fetchone()
    if found is None:
        raise _Fail(
            EXIT_NO_RESULTS,
            f"no indexed files under {path_arg} in the index at {ws.root} (skipped by a "
            "default exclusion or an ignore file, or no supported language there)",
        )


def _check_language(ws: _Workspace, lang: str) -> None:
    """A ``--lang`` sqry does not support is a usage error (2) listing those it does;
    a supported one the index holds no files of is named as such (1), not answered
    with a silent "no results"."""
    from sqry.cli.output import EXIT_NO_RESULTS, EXIT_USAGE
    from sqry.graph.languages.base import language_names
    from sqry.graph.query.search import indexed_languages

    supported = language_names()
    if lang.lower() not in supported:
        raise _Fail(
            EXIT_USAGE,
            f"unknown language '{lang}' for --lang; expected one of {', '.join(sorted(supported))}",
        )
    known = indexed_languages(ws.conn)
    if lang.lower() not in known:
        raise _Fail(
            EXIT_NO_RESULTS,
            f"no '{lang}' files in the index at {ws.root}"
            f" (it holds: {', '.join(sorted(known)) or 'no files'})",
        )


@_guarded
def _query(args: argparse.Namespace) -> int:
    from sqry.graph.query.execute import run_query
    from sqry.graph.query.parser import parse

    parsed = parse(args.expr)
    with _open_workspace(args.path) as ws:
        _check_scope(ws, args.path)
        result = run_query(
            ws.conn, parsed, scope=ws.scope, limit=args.limit or None, unresolved=args.unresolved
        )
    if result.shape == "symbols":
        items = [s.item() for s in result.symbols]
        return _emit_symbols(ws, args, result.symbols, items, result.total, result.truncated)
    if result.shape == "count":
        return _emit_count(args, result.count or 0)
    return _emit_groups(args, result)


def _symbol_line(painter: Painter, symbol: SymbolRow) -> str:
    location = painter.location(symbol.path, symbol.start_line, symbol.start_column)
    return f"{location}  {painter.kind(symbol.kind)}  {painter.name(symbol.qualified_name)}"


def _emit_symbols(
    ws: _Workspace,
    args: argparse.Namespace,
    symbols: list[SymbolRow],
    items: list[dict[str, Any]],
    total: int,
    truncated: bool,
) -> int:
    from sqry.cli.output import Report

    report = Report(
        document={"items": items, "total": total, "truncated": truncated},
        rows=items,
        text=lambda painter: [_symbol_line(painter, s) for s in symbols],
        columns=ITEM_COLUMNS,
        show_path=ws.show_path,
    )
    return _finish(args, report, len(items), total, truncated)


def _emit_count(args: argparse.Namespace, count: int) -> int:
    from sqry.cli.output import EXIT_NO_RESULTS, EXIT_OK, Report, emit

    row = {"count": count}
    emit(Report(document=row, rows=[row], text=lambda _: [str(count)]), args.format)
    return EXIT_OK if count else EXIT_NO_RESULTS


def _emit_groups(args: argparse.Namespace, result: QueryResult) -> int:
    from sqry.cli.output import Report

    rows = [{"value": g.value, "count": g.count} for g in result.groups]
    width = max((len(str(g.count)) for g in result.groups), default=1)

    def text(painter: Painter) -> list[str]:
        return [
            f"{painter.number(str(g.count).rjust(width))}  {painter.plain(_group_label(g.value))}"
            for g in result.groups
        ]

    report = Report(
        document={
            "field": result.group_field,
            "groups": rows,
            "total": result.total,
            "truncated": result.truncated,
        },
        rows=rows,
        text=text,
        columns=["value", "count"],
    )
    return _finish(args, report, len(rows), result.total, result.truncated, "groups")


def _group_label(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _finish(
    args: argparse.Namespace,
    report: Report,
    shown: int,
    total: int,
    truncated: bool,
    what: str = "results",
) -> int:
    from sqry.cli.output import EXIT_NO_RESULTS, EXIT_OK, emit, truncation_note

    emit(report, args.format)
    if truncated:
        truncation_note(shown, total, what)
    return EXIT_OK if shown else EXIT_NO_RESULTS


# -- graph and explain ---------------------------------------------------------------


@_guarded
def _graph(args: argparse.Namespace) -> int:
    from sqry.cli.output import Report, error
    from sqry.graph.query.symbols import call_sites

    with _open_workspace(args.path or ".") as ws:
        symbol = _resolve_symbol(ws, args)
        sites = call_sites(ws.conn, symbol.id, args.direction)
    total = len(sites)
    shown = sites[: args.limit] if args.limit else sites
    rows = [_site_row(site) for site in shown]
    report = Report(
        document={
            "symbol": symbol.item(),
            "direction": args.direction,
            "items": rows,
            "total": total,
            "truncated": len(shown) < total,
        },
        rows=rows,
        text=lambda painter: [_site_line(painter, site) for site in shown],
        columns=[*ITEM_COLUMNS, "call_path", "call_line", "call_column"],
        show_path=ws.show_path,
    )
    if not sites:
        what = "callers of" if args.direction == "callers" else "calls from"
        error(f"no resolved {what} {symbol.qualified_name}")
    return _finish(args, report, len(rows), total, len(shown) < total, "call sites")


def _site_row(site: CallSite) -> dict[str, Any]:
    return {
        **site.symbol.item(),
        "call_path": site.path,
        "call_line": site.line,
        "call_column": site.column,
        "resolved_via": site.resolved_via,
    }


def _site_line(painter: Painter, site: CallSite) -> str:
    location = painter.location(site.path, site.line, site.column)
    return (
        f"{location}  {painter.kind(site.symbol.kind)}  {painter.name(site.symbol.qualified_name)}"
    )


def _resolve_symbol(ws: _Workspace, args: argparse.Namespace) -> SymbolRow:
    """The one symbol ``args.symbol`` names (with ``--in``/``--line``), or exit 1/4."""
    from sqry.cli.output import EXIT_AMBIGUOUS, EXIT_NO_RESULTS, escape_control
    from sqry.graph.query.symbols import find_symbols

    in_file = _workspace_relative(ws, args.in_file) if args.in_file else None
    # only a PATH the user gave narrows: without one, SYMBOL names any symbol of the index
    under = ws.scope if args.path is not None else None
    if under is not None:
        _check_scope(ws, args.path)
    found = find_symbols(ws.conn, args.symbol, in_file=in_file, line=args.line, under=under)
    if len(found) == 1:
        return found[0]
    where = "".join(
        [
            f" under {args.path}" if under is not None else "",
            f" in {args.in_file}" if args.in_file else "",
            f" at line {args.line}" if args.line else "",
        ]
    )
    if not found:
        import shlex

        from sqry.graph.query.sqlfuncs import last_segment
        from sqry.graph.query.symbols import any_file_named

        if in_file and not any_file_named(ws.conn, in_file):
            raise _Fail(
                EXIT_NO_RESULTS,
                f"--in {args.in_file}: no indexed file in the index at {ws.root} has that "
                "path; give the file's path (from here or from the root) or its last "
                "part, e.g. --in app.py",
            )

        # search matches names: a qualified one's last segment is what to look for
        name = last_segment(args.symbol) or args.symbol
        raise _Fail(
            EXIT_NO_RESULTS,
            f"no symbol named '{args.symbol}'{where} in the index at {ws.root};"
            f" try: sqry search {shlex.quote(name)}",
        )
    candidates = tuple(
        escape_control(f"  {ws.show_path(s.path)}:{s.start_line} {s.kind} {s.qualified_name}")
        for s in found
    )
    qualified = [s.qualified_name for s in found]
    # a qualified name names one only if no other candidate has it and it is not
    # the name asked (``json`` the module beside methods called ``json``)
    ways = []
    if len(set(qualified)) == len(qualified) and args.symbol not in qualified:
        ways.append("its qualified name")
    if not args.in_file and len({s.path for s in found}) > 1:
        ways.append("--in FILE")
    if not args.line:
        ways.append("--line N")
    hint = "name one with " + _either(ways) if ways else "these cannot be told apart"
    raise _Fail(
        EXIT_AMBIGUOUS,
        f"'{args.symbol}'{where} is ambiguous: {len(found)} symbols match",
        (*candidates, hint),
    )


def _either(ways: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return ways[0] if len(ways) == 1 else ", ".join(ways[:-1]) + " or " + ways[-1]


def _workspace_relative(ws: _Workspace, path_arg: str) -> str:
    """``--in FILE`` as a workspace-relative path when it names an existing file under
    the root (relative to the current directory); otherwise as typed, which
    :func:`~sqry.graph.query.symbols.find_symbols` also matches as a path suffix."""
    from pathlib import Path

    try:
        candidate = Path(path_arg).resolve()
        exists = candidate.exists()
    except OSError:  # too long, not searchable, no current directory: not a file here
        return path_arg
    if exists and candidate.is_relative_to(ws.root):
        return candidate.relative_to(ws.root).as_posix()
    return path_arg


@_guarded
def _explain(args: argparse.Namespace) -> int:
    from sqry.cli.output import EXIT_OK, emit
    from sqry.graph.query.symbols import call_sites, parent_of, unresolved_calls

    with _open_workspace(args.path or ".") as ws:
        symbol = _resolve_symbol(ws, args)
        parent = parent_of(ws.conn, symbol)
        callers = call_sites(ws.conn, symbol.id, "callers")
        callees = call_sites(ws.conn, symbol.id, "callees")
        unresolved = unresolved_calls(ws.conn, symbol.id)
    view = _ExplainView(symbol, parent, callers, callees, unresolved, args.limit or None)
    emit(view.report(ws.show_path), args.format)
    return EXIT_OK


class _ExplainView:
    """Everything ``sqry explain`` shows about one symbol, in every output format."""

    def __init__(
        self,
        symbol: SymbolRow,
        parent: SymbolRow | None,
        callers: list[CallSite],
        callees: list[CallSite],
        unresolved: list[UnresolvedCall],
        limit: int | None,
    ) -> None:
        self.symbol = symbol
        self.parent = parent
        self.callers = callers
        self.callees = callees
        self.unresolved = unresolved
        self.limit = limit

    def shown(self, items: list) -> list:
        """The first ``limit`` items (explain shows each list cut to ``--limit``)."""
        return items[: self.limit] if self.limit else items

    def title(self, what: str, items: list) -> str:
        """``callers (3)``, or ``callers (100 of 250)`` when ``--limit`` cut the list."""
        shown = len(self.shown(items))
        return f"{what} ({shown} of {len(items)})" if shown < len(items) else f"{what} ({shown})"

    def definition(self) -> dict[str, Any]:
        return {
            **self.symbol.details(),
            "parent": self.parent.qualified_name if self.parent else None,
        }

    def unresolved_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "target_text": u.target_text,
                "call_path": u.path,
                "call_line": u.line,
                "call_column": u.column,
                "ambiguous_via": u.ambiguous_via,
                "candidates": u.candidates,
            }
            for u in self.shown(self.unresolved)
        ]

    def report(self, show_path: Callable[[str], str]) -> Report:
        from sqry.cli.output import Report

        callers = [_site_row(s) for s in self.shown(self.callers)]
        callees = [_site_row(s) for s in self.shown(self.callees)]
        unresolved = self.unresolved_rows()
        rows = [
            {"role": "definition", **self.definition()},
            *({"role": "caller", **r} for r in callers),
            *({"role": "callee", **r} for r in callees),
            *({"role": "unresolved_call", **r} for r in unresolved),
        ]
        document = {
            "symbol": self.definition(),
            "callers": callers,
            "callees": callees,
            "unresolved_calls": unresolved,
            "totals": {
                "callers": len(self.callers),
                "callees": len(self.callees),
                "unresolved_calls": len(self.unresolved),
            },
        }
        return Report(document=document, rows=rows, text=self.text, show_path=show_path)

    def text(self, painter: Painter) -> list[str]:
        s = self.symbol
        traits = [s.language, s.visibility]
        traits += [t for t, on in (("async", s.is_async), ("static", s.is_static)) if on]
        lines = [
            f"{painter.kind(s.kind)} {painter.name(s.qualified_name)}"
            f"  ({painter.plain(', '.join(traits))})",
            f"  defined at  {painter.location(s.path, s.start_line, s.start_column)}"
            f"-{s.end_line}:{s.end_column + 1}",
        ]
        if s.signature:
            lines.append(f"  signature   {painter.plain(s.signature)}")
        if s.doc:
            lines.append(f"  doc         {painter.plain(s.doc)}")
        if self.parent:
            parent = f"{self.parent.kind} {self.parent.qualified_name}"
            lines.append(f"  parent      {painter.plain(parent)}")
        for title, sites in (("callers", self.callers), ("callees", self.callees)):
            lines.append(painter.heading(self.title(title, sites)))
            lines += [
                f"  {_site_line(painter, site)}  {painter.plain(f'({site.resolved_via})')}"
                for site in self.shown(sites)
            ]
        if self.unresolved:
            lines.append(painter.heading(self.title("unresolved calls", self.unresolved)))
            lines += [
                f"  {painter.location(u.path, u.line, u.column)}  {painter.plain(u.target_text)}"
                + (painter.plain(f"  ({_ambiguity(u)})") if u.ambiguous_via else "")
                for u in self.shown(self.unresolved)
            ]
        return lines


def _ambiguity(call: UnresolvedCall) -> str:
    """``ambiguous: 2 candidates by the unique rule``: why a call is left unbound."""
    return f"ambiguous: {call.candidates} candidates by the {call.ambiguous_via} rule"
