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
follows an option.
"""

from __future__ import annotations

import argparse
import os
import sys

from sqry import __version__

EXIT_USAGE = 2

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
        self._intermixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # parse_known_intermixed_args calls back into parse_known_args for its two
        # passes; those must be argparse's own.
        if self._subparsers is not None or self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False

    def error(self, message: str) -> None:  # type: ignore[override]
        """Report a usage error as one ``sqry: ...`` line naming the help to read; exit 2."""
        sys.stderr.write(f"sqry: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    untranslated_argparse()
    parser = build_parser(command_word(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write("sqry: interrupted\n")
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
