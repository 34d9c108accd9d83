"""Entry point of the ``sqry`` command.

Each command family lives in its own module exposing ``register(subparsers)``;
the module must import nothing heavy at import time (tree-sitter, sqlite3,
asyncio) because every ``sqry`` call pays for what it imports. Heavy imports go
inside the command's run function.

Only the module that registers the invoked command is imported and registered
(:data:`COMMAND_MODULES`): ``sqry daemon status`` never builds the graph
commands' parsers. With no command word (``sqry``, ``sqry --help``) or an
unknown one, every module registers, so the help and the "invalid choice"
error list every command.

Options and positionals may be mixed in any order after the command
(``sqry graph callers SYMBOL --in FILE PATH``): a command's own parser parses
intermixed, which plain argparse does not do for an optional positional that
follows an option. ``--`` still ends the options wherever it stands: what follows
it is positional (``sqry search -- -x``, ``sqry search neg -- -x`` for a PATH -x).

Exit codes beyond the commands' own (0 results, 1 none, 2 usage, 3 no index, 4
ambiguous): :data:`EXIT_IO` when standard output cannot be written (disk full,
I/O error; a closed pipe is not an error), :data:`EXIT_INTERNAL` for an
unexpected exception — one ``sqry: internal error: ...`` line instead of a
traceback whose exit status 1 would read as "no results". ``SQRY_DEBUG=1`` prints
the traceback too. Both codes are sqryd's for the same causes.
"""

from __future__ import annotations

import argparse
import io
import os
import sys

from sqry import __version__
from sqry.cli.stdio import silence_stdout, write_stderr

EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_IO = 73

COMMAND_MODULES = {
    "index": "sqry.cli.index_cmd",
    "search": "sqry.cli.graph_cmds",
    "query": "sqry.cli.graph_cmds",
    "graph": "sqry.cli.graph_cmds",
    "explain": "sqry.cli.graph_cmds",
    "daemon": "sqry.cli.daemon_cmd",
}
"""Each ``sqry`` command and the module whose ``register`` adds it.

A command missing here still works (the full parser is built), just without the
start-up saving; ``tests/cli/test_cli_main.py`` checks the table is complete.
"""


_columns: int | None = None


def _terminal_columns() -> int:
    """Width for help text: ``$COLUMNS``, else the terminal's, else 80 (found once).

    What ``shutil.get_terminal_size`` answers, without importing shutil (which
    drags in compression modules, ~8 ms). Cached because argparse builds a
    formatter for every ``add_argument`` call, not only for help.
    """
    global _columns
    if _columns is None:
        try:
            _columns = int(os.environ.get("COLUMNS", ""))
        except ValueError:
            _columns = 0
        if _columns <= 0:
            try:
                _columns = os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
            except (AttributeError, ValueError, OSError):
                _columns = 80
    return _columns


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout with the terminal width found cheaply (see above)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """argparse for ``sqry``: one-line usage errors, intermixed options, cheap help.

    A parser without subcommands (the one that ends a command line) parses with
    ``parse_known_intermixed_args``, so an option between two positionals never
    strands the second one. Subparsers inherit this class.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pass: int | None = None  # which intermixed pass is running, if any
        self._after_separator: list[str] | None = None  # the words after ``--``, if any

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._subparsers is not None:
            return super().parse_known_args(args, namespace)
        if self._pass is not None:
            # parse_known_intermixed_args calls back here for its two passes, which
            # must be argparse's own. Whether its first pass keeps or drops a ``--``
            # depends on whether a positional precedes it, so it never sees one: it
            # parses the options before ``--`` only, and the second pass gets its
            # leftovers (positionals, unknown options) followed by ``--`` and the
            # words after it, which stay positionals whatever they look like.
            self._pass += 1
            if args is not None and self._after_separator is not None:
                if self._pass == 1:
                    args = _split_at_separator(list(args))[0]
                else:
                    args = [*args, "--", *self._after_separator]
            return super().parse_known_args(args, namespace)
        args = list(sys.argv[1:] if args is None else args)
        self._after_separator = _split_at_separator(args)[1]
        self._pass = 0
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._pass = None

    def parse_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """argparse's, but words no parser took are blamed on the command that
        was given (``see 'sqry search --help'``), not on ``sqry`` itself."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            self._command_parser(parsed).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def _command_parser(self, parsed: argparse.Namespace) -> argparse.ArgumentParser:
        """The deepest (sub)parser the parsed command line went through."""
        parser: argparse.ArgumentParser = self
        while parser._subparsers is not None:
            action = parser._subparsers._group_actions[0]
            chosen = getattr(parsed, action.dest or "", None)
            choices = action.choices if isinstance(action.choices, dict) else {}
            if chosen not in choices:
                break
            parser = choices[chosen]
        return parser

    def error(self, message: str) -> None:  # type: ignore[override]
        """Report a usage error as one ``sqry: ...`` line naming the help to read; exit 2."""
        write_stderr(f"sqry: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


def _split_at_separator(args: list[str]) -> tuple[list[str], list[str] | None]:
    """The words before the first ``--`` and those after it (None without a ``--``)."""
    if "--" not in args:
        return args, None
    at = args.index("--")
    return args[:at], args[at + 1 :]


def untranslated_argparse() -> None:
    """Make argparse's message lookups identity functions, for this process.

    argparse passes each built-in string (group titles, the ``-h`` help, error
    templates) through ``gettext``, and every lookup walks the locale directories
    and imports ``locale`` (~2 ms per ``sqry`` call, ~16 lookups) although
    CPython ships no catalogue for them and sqry's own messages are English.
    Called by :func:`main` only, never at import, so a program that imports this
    module keeps its argparse untouched.
    """
    argparse._ = str  # type: ignore[attr-defined]
    argparse.ngettext = lambda singular, plural, n: singular if n == 1 else plural  # type: ignore[attr-defined]


def command_word(argv: list[str]) -> str | None:
    """The command named on the command line, or None when the full parser is needed.

    The only top-level options are ``--version`` (prints and exits, whatever the
    parser) and ``-h/--help`` (must list every command), so any other option
    before the command word, including abbreviations such as ``--he``, asks for
    the full parser.
    """
    for word in argv:
        if not word.startswith("-"):
            return word
        if word != "--version":
            return None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``sqry`` parser: with ``command`` known, only its module's commands."""
    parser = _Parser(prog="sqry", description="Semantic code search over a local code graph.")
    parser.add_argument("--version", action="version", version=f"sqry {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, prog=parser.prog
    )
    if command in COMMAND_MODULES:
        modules = [COMMAND_MODULES[command]]
    else:
        modules = list(dict.fromkeys(COMMAND_MODULES.values()))
    for name in modules:
        # __import__ rather than importlib.import_module: importlib is one more import.
        __import__(name, fromlist=("register",)).register(sub)
    return parser


class StdoutError(Exception):
    """Writing standard output failed (disk full, I/O error): ``cause`` says how.

    Not an ``OSError``, so a command's own ``except OSError`` (meant for the files
    it reads or writes) never mistakes it for its own failure.
    """

    def __init__(self, cause: OSError) -> None:
        super().__init__(cause.strerror or str(cause))
        self.cause = cause


class _Stdout(io.TextIOWrapper):
    """Standard output whose write failures raise :class:`StdoutError`.

    Installed by :func:`main` in front of the real stdout, so every command —
    whichever module prints — reports a full disk the same way, and the failure
    is told apart from the command's own I/O. A closed pipe stays a
    ``BrokenPipeError`` (quiet: ``sqry ... | head``).
    """

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc) from None

    def flush(self) -> None:
        try:
            super().flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutError(exc) from None


def _guard_stdout() -> None:
    """Put :class:`_Stdout` in front of the process's stdout (a real file only:
    a test harness's capture object is left alone)."""
    out = sys.stdout
    if type(out) is not io.TextIOWrapper:
        return
    out.flush()
    sys.stdout = _Stdout(
        out.buffer,
        encoding=out.encoding,
        errors=out.errors,
        line_buffering=out.line_buffering,
        write_through=out.write_through,
    )


def _internal_error(exc: Exception) -> int:
    """The last resort: one line naming the bug (the traceback with ``SQRY_DEBUG=1``)."""
    if os.environ.get("SQRY_DEBUG", "") not in ("", "0"):
        import traceback

        traceback.print_exc()
    message = str(exc).replace("\n", " ")
    write_stderr(f"sqry: internal error: {type(exc).__name__}: {message} (please report)\n")
    return EXIT_INTERNAL


def _parse_and_run(argv: list[str]) -> int:
    """Parse ``argv`` and run its command; argparse's own exits (``--help``,
    ``--version``, usage errors) become return codes, so :func:`main` flushes
    and reports their output like any command's."""
    parser = build_parser(command_word(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return int(args.run(args) or 0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    untranslated_argparse()
    _guard_stdout()
    try:
        code = _parse_and_run(argv)
        sys.stdout.flush()  # a full disk is reported here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        write_stderr("sqry: interrupted\n")
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        silence_stdout()
        return 0
    except StdoutError as exc:
        silence_stdout()
        write_stderr(f"sqry: cannot write to standard output: {exc}\n")
        return EXIT_IO
    except Exception as exc:  # noqa: BLE001 - the last resort, see _internal_error
        return _internal_error(exc)


if __name__ == "__main__":
    raise SystemExit(main())
