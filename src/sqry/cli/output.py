"""How the read commands (search, query, graph, explain) print their answers.

Four formats, one per flag: grep-like text (default), ``--json`` (one document),
``--jsonl`` (one item per line), ``--csv`` (a header and one row per item). A
command builds a :class:`Report` once; :func:`emit` renders it, so every command
offers every format with the same item shapes.

Text lines read ``path:line:col  kind  qualified_name``. In text the column is
1-based, as editors and compilers print it (``vim``/VS Code jump to it); in
JSON/CSV fields the stored 0-based ``start_column``/``call_column`` are kept
unchanged, so machine consumers get the index's values. Colour only on a TTY and
never when ``NO_COLOR`` is set to anything non-empty.

Text output escapes control characters in everything taken from the index
(:func:`escape_control`: newline as ``\\n``, ESC as ``\\x1b``): a file named
``e\\x1b[31mred.py`` in an untrusted repository must not drive the terminal, and
a newline in a name must not split one result into two lines. Every painted
field is escaped by :class:`Painter`; unpainted index text goes through
:meth:`Painter.plain`. JSON and CSV keep the values as stored (their own quoting
makes them unambiguous).

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return) are prefixed with ``'``: a symbol name or
docstring from an untrusted repository must not execute on a double-click.

Exit codes: :data:`EXIT_OK` results, :data:`EXIT_NO_RESULTS` none,
:data:`EXIT_USAGE` usage or query error, :data:`EXIT_NO_INDEX` no (usable) index,
:data:`EXIT_AMBIGUOUS` a symbol name matching several symbols.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TextIO

from sqry.cli.stdio import write_stderr
from sqry.graph.query.record import Record

EXIT_OK = 0
EXIT_NO_RESULTS = 1
EXIT_USAGE = 2
EXIT_NO_INDEX = 3
EXIT_AMBIGUOUS = 4

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))} | {
    ord("\n"): "\\n",
    ord("\t"): "\\t",
    ord("\r"): "\\r",
}


def escape_control(text: str) -> str:
    """``text`` with C0/C1 control characters and DEL shown as backslash escapes."""
    return text.translate(_ESCAPES)


def add_format_flags(parser: argparse.ArgumentParser) -> None:
    """``--json`` / ``--jsonl`` / ``--csv`` (mutually exclusive) into ``args.format``."""
    group = parser.add_mutually_exclusive_group()
    group.set_defaults(format="text")
    group.add_argument(
        "--json", dest="format", action="store_const", const="json", help="one JSON document"
    )
    group.add_argument(
        "--jsonl", dest="format", action="store_const", const="jsonl", help="one JSON item a line"
    )
    group.add_argument(
        "--csv", dest="format", action="store_const", const="csv", help="CSV with a header row"
    )


def _as_stored(path: str) -> str:
    return path


def path_display(root: str | os.PathLike[str], absolute: bool) -> Callable[[str], str]:
    """How text output shows an index path (stored relative to the index ``root``).

    As grep, rg and git grep do, so a printed path opens from where the command
    ran (a shell, Vim's quickfix): relative to the current directory, or absolute
    when the user gave PATH as an absolute path. Inside the root that drops the
    directories between it and ``.`` (``acme/Shape.java`` from ``java/com``) and
    climbs with ``..`` to files elsewhere; outside it, it prefixes the way there.
    """
    root = os.fspath(root)
    if absolute:
        return lambda path: os.path.join(root, path)
    try:
        here = os.path.relpath(os.getcwd(), root)
    except OSError:  # the current directory is gone: nothing is relative to it
        return lambda path: os.path.join(root, path)
    if here == ".":
        return _as_stored
    if here == ".." or here.startswith("../"):  # outside the root: the way there first
        way = os.path.relpath(root)
        return lambda path: f"{way}/{path}"
    inside = here + "/"
    return lambda path: (
        path[len(inside) :]
        if path.startswith(inside)
        else os.path.relpath(os.path.join(root, path))
    )


class Painter:
    """ANSI colouring that turns itself off when it must (not a TTY, ``NO_COLOR``),
    and the way paths are shown (:func:`path_display`; as stored by default)."""

    def __init__(self, enabled: bool, show_path: Callable[[str], str] | None = None) -> None:
        self.enabled = enabled
        self._show_path = show_path or _as_stored

    @classmethod
    def for_stream(cls, stream: TextIO, show_path: Callable[[str], str] | None = None) -> Painter:
        isatty = getattr(stream, "isatty", None)
        return cls(bool(isatty and isatty()) and not os.environ.get("NO_COLOR"), show_path)

    def _sgr(self, code: str, text: str) -> str:
        text = escape_control(text)
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def plain(self, text: str) -> str:
        """Uncoloured index text, escaped like every painted field."""
        return escape_control(text)

    def path(self, text: str) -> str:
        """An index path (relative to the index root) as the user should see it."""
        return self._sgr("35", self._show_path(text))

    def number(self, text: str) -> str:
        return self._sgr("32", text)

    def kind(self, text: str) -> str:
        return self._sgr("36", text)

    def name(self, text: str) -> str:
        return self._sgr("1", text)

    def heading(self, text: str) -> str:
        return self._sgr("1;4", text)

    def location(self, path: str, line: int, column0: int) -> str:
        """``path:line:col`` with the 0-based column printed 1-based."""
        return f"{self.path(path)}:{self.number(str(line))}:{self.number(str(column0 + 1))}"


class Report(Record):
    """One answer in every format.

    ``document`` is the ``--json`` output; ``rows`` are the flat items for
    ``--jsonl``/``--csv`` (CSV columns: ``columns``, or the keys of the rows in
    first-seen order); ``text`` renders the default output with a :class:`Painter`
    whose paths ``show_path`` turns into what the user should see (JSON and CSV keep
    the stored, root-relative ones).
    """

    __slots__ = ("document", "rows", "text", "columns", "show_path")
    _defaults: ClassVar[dict[str, Any]] = {"columns": (), "show_path": None}
    document: dict[str, Any]
    rows: list[dict[str, Any]]
    text: Callable[[Painter], Iterable[str]]
    columns: list[str]
    show_path: Callable[[str], str] | None


def emit(report: Report, fmt: str, out: TextIO | None = None) -> None:
    """Write ``report`` to ``out`` (stdout) in format ``fmt``."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(report.document, ensure_ascii=False) + "\n")
    elif fmt == "jsonl":
        for row in report.rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        _write_csv(report, out)
    else:
        painter = Painter.for_stream(out, report.show_path)
        for line in report.text(painter):
            out.write(line + "\n")
    out.flush()


def csv_cell(value: Any) -> str:
    """One CSV cell: formula-looking text defused with ``'``, booleans as words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _write_csv(report: Report, out: TextIO) -> None:
    import csv

    columns = list(report.columns)
    for row in report.rows:
        columns += [key for key in row if key not in columns]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in report.rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])


def error(message: str) -> None:
    """One ``sqry: ...`` line on stderr: the shape of every expected failure."""
    write_stderr(f"sqry: {message}\n")


def path_problem(exc: OSError) -> str:
    """Why a PATH given on the command line cannot be used, for ``cannot ... PATH: <this>``.

    The cases a user can act on get words that say what to do; a current
    directory deleted under the shell shows up as ``FileNotFoundError`` from
    ``getcwd`` and is named as such, since "does not exist" about ``.`` misleads.
    """
    import errno

    if isinstance(exc, FileNotFoundError) and _cwd_is_gone():
        return "the current directory no longer exists; cd to an existing directory first"
    if exc.errno == errno.ENOENT:
        return "it does not exist"
    if exc.errno == errno.ENAMETOOLONG:
        return "a name in it is longer than the file system allows"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied (check the permissions of the directories on the way)"
    if exc.errno == errno.ENOTDIR:
        return "a component of it is not a directory"
    return exc.strerror or str(exc)


def _cwd_is_gone() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return True
    return False


def truncation_note(shown: int, total: int, what: str = "results") -> None:
    """Tell (on stderr, so pipes stay clean) that ``--limit`` cut the answer."""
    error(f"showing {shown} of {total} {what}; use --limit N (0 for all) to see more")
