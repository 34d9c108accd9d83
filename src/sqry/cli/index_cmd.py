"""``sqry index [PATH] [--force] [--hidden] [--follow]``: build or update an index.

Prints a progress bar on stderr when stderr is a terminal, then one summary line
on stdout::

    indexed 1790 files (12 changed), 89022 symbols, 612345 edges in 4.21s, 3 errors

followed (on stderr) by the first few per-file errors and discovery warnings,
each with its path. Exit codes: 0 built (per-file errors do not fail a build), 2
usage errors (bad PATH, malformed setting), 3 no usable index: an incompatible
one without ``--force``, or ``.sqry``/``.sqry/index.db`` being the wrong kind of
file or not writable (the message names the path and what to do). These are
sqry's documented codes (0 results, 1 none, 2 usage, 3 no usable index, 4
ambiguous); a system-style 73 would be one more code for the same "no index".

Imported by every ``sqry`` call, so the engine is imported inside :func:`run`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from sqry.cli.argtypes import nonempty
from sqry.cli.stdio import write_stderr

EXIT_USAGE = 2
EXIT_NO_INDEX = 3
SHOW_ERRORS = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "index",
        help="build or update the code index of a directory",
        description="Build or update the index in PATH/.sqry/index.db (incremental unless --force).",
    )
    p.add_argument(
        "path",
        nargs="?",
        default=None,
        type=nonempty("a directory"),
        metavar="PATH",
        help="workspace root (default: the nearest indexed directory at or above ., else .)",
    )
    p.add_argument("--force", action="store_true", help="rebuild from scratch")
    p.add_argument("--hidden", action="store_true", help="also index hidden files and directories")
    p.add_argument("--follow", action="store_true", help="follow symbolic links")
    p.set_defaults(run=run)


class _ProgressBar:
    """A one-line progress bar on a terminal stderr, redrawn at most 10 times a second."""

    def __init__(self) -> None:
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = width * done // max(total, 1)
        # the last file parsed, resolution and index creation follow (seconds on
        # a large workspace): say so instead of sitting at a full bar
        then = ", resolving references" if done == total else ""
        write_stderr(
            f"\rindexing [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{then}\x1b[K"
        )
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            write_stderr("\r\x1b[K")


def _fail(message: str, code: int) -> int:
    write_stderr(f"sqry: {message}\n")
    return code


def _sqlite_failure(path: str, exc: Exception) -> str:
    """One line for a write SQLite refused; a lock held outside sqry is the usual cause."""
    where = os.path.join(os.path.realpath(path), ".sqry", "index.db")
    if "locked" in str(exc):
        return (
            f"the index {where} is locked by another program ({exc}); "
            "close whatever holds it open for writing and run 'sqry index' again"
        )
    return f"cannot write the index {where}: {exc}; check its permissions and free space"


def _unusable_path(path_arg: str) -> str | None:
    """Why PATH cannot be indexed, if it cannot even be looked at (missing, a name
    too long, not searchable, the current directory deleted); None otherwise.

    Checked before the build so these are usage errors naming PATH, not "cannot
    write the index" advice about permissions and free space.
    """
    from sqry.cli.output import path_problem

    try:
        os.stat(os.path.realpath(path_arg))
    except OSError as exc:
        return path_problem(exc)
    return None


def _default_root() -> str:
    """Where a bare ``sqry index`` builds: the index the queries here would read.

    That is the nearest indexed directory at or above ``.``, as for every other
    command; only where there is none does ``.`` become a new root. Building a
    second index in a subdirectory of an indexed tree would take over that subtree
    for the queries and leave the outer index stale for it without a word, so that
    takes an explicit PATH (``sqry index .``).
    """
    from sqry.graph.store import BadIndexLocation, find_index_root

    try:
        found = find_index_root(".")
    except (BadIndexLocation, OSError):
        return "."  # the build names what is wrong if it is here; above, it is not ours
    if found is None or str(found) == os.path.realpath("."):
        return "."
    write_stderr(
        f"sqry: updating the index of {found}, the nearest one above the current "
        "directory ('sqry index .' would build a separate one here)\n"
    )
    return str(found)


def _say_waiting(root: str) -> Callable[[], None]:
    """The ``on_wait`` of a build: one line saying why ``sqry index`` seems to hang."""

    def say() -> None:
        write_stderr(f"sqry: another 'sqry index' is running on {root}; waiting for it to finish\n")

    return say


def run(args: argparse.Namespace) -> int:
    import sqlite3

    from sqry.graph.discovery import DiscoveryConfigError
    from sqry.graph.index import build_index
    from sqry.graph.store import BadIndexLocation, IncompatibleIndex

    if args.path is None:
        args.path = _default_root()
    problem = _unusable_path(args.path)
    if problem:
        return _fail(f"cannot index {args.path!r}: {problem}", EXIT_USAGE)
    bar = _ProgressBar() if sys.stderr is not None and sys.stderr.isatty() else None
    try:
        report = build_index(
            args.path,
            force=args.force,
            hidden=args.hidden,
            follow=args.follow,
            progress=bar,
            on_wait=_say_waiting(os.path.realpath(args.path)),
        )
    except (FileNotFoundError, NotADirectoryError) as exc:
        return _fail(f"cannot index {args.path!r}: {exc.args[-1] if exc.args else exc}", EXIT_USAGE)
    except DiscoveryConfigError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except (IncompatibleIndex, BadIndexLocation) as exc:
        return _fail(str(exc), EXIT_NO_INDEX)
    except sqlite3.OperationalError as exc:
        return _fail(_sqlite_failure(args.path, exc), EXIT_NO_INDEX)
    except sqlite3.DatabaseError as exc:  # rows contradicting each other: edited or damaged
        root = os.path.realpath(args.path)
        return _fail(
            f"the index {root}/.sqry/index.db is inconsistent ({exc}), so this build "
            f"was rolled back; rebuild it with: sqry index --force {root}",
            EXIT_NO_INDEX,
        )
    except OSError as exc:
        where = exc.filename or args.path
        return _fail(
            f"cannot write the index under {where}: {exc.strerror or exc}; "
            "check the directory's permissions or free space",
            EXIT_NO_INDEX,
        )
    finally:
        if bar is not None:
            bar.clear()
    deleted = f", {report.deleted} deleted" if report.deleted else ""
    print(
        f"indexed {report.files} {'file' if report.files == 1 else 'files'} "
        f"({report.changed} changed{deleted}), "
        f"{report.symbols} symbols, {report.edges} edges in {report.seconds:.2f}s, "
        f"{report.errors} {'error' if report.errors == 1 else 'errors'}"
    )
    problems = [f"{p}: {m}" for p, m in report.file_errors]
    problems += [f"{w.path}: {w.message}" for w in report.warnings]
    for line in problems[:SHOW_ERRORS]:
        write_stderr(f"  {line}\n")
    if len(problems) > SHOW_ERRORS:
        write_stderr(f"  ... and {len(problems) - SHOW_ERRORS} more\n")
    return 0
