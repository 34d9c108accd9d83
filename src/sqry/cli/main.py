"""Entry point of the ``sqry`` command.

Each command family lives in its own module exposing ``register(subparsers)``;
the module must import nothing heavy at import time (tree-sitter, sqlite3,
asyncio) because every ``sqry`` call pays for what this file imports. Heavy
imports go inside the command's run function.
"""

from __future__ import annotations

import argparse
import sys

from sqry import __version__
from sqry.cli import daemon_cmd, graph_cmds, index_cmd

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one ``sqry: ...`` line, exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"sqry: {message} (see 'sqry --help')\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sqry", description="Semantic code search over a local code graph.")
    parser.add_argument("--version", action="version", version=f"sqry {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    index_cmd.register(sub)
    graph_cmds.register(sub)
    daemon_cmd.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
