"""``sqry daemon start|stop|status``: the same lifecycle code ``sqryd`` runs.

``stop`` and ``status`` are :mod:`sqry.daemon.lifecycle.control` (one
implementation for both CLIs); ``start`` is the clients' auto-start,
:func:`sqry.daemon.lifecycle.detach.start_detached`, reported in words. Errors
print as ``sqry: <message>`` and exit with the lifecycle exit code (69/73/75/78...).

Imported by every ``sqry`` call: everything beyond argparse is imported inside
the command functions.
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing (~3 ms per call)
if TYPE_CHECKING:
    from collections.abc import Callable

    from sqry.daemon.lifecycle.config import DaemonConfig

PROG = "sqry"


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``sqry daemon`` and its subcommands to the ``sqry`` parser."""
    p = sub.add_parser("daemon", help="manage the sqryd daemon", description="manage sqryd")
    p.set_defaults(run=_missing_action)
    verbs = p.add_subparsers(  # explicit prog: no help formatter (shutil import) per call
        dest="daemon_command", metavar="ACTION", parser_class=type(p), prog=f"{PROG} daemon"
    )
    start = verbs.add_parser("start", help="start sqryd in the background unless it is running")
    start.set_defaults(run=_run_start)
    stop = verbs.add_parser("stop", help="stop the running sqryd")
    stop.add_argument(
        "--timeout-secs",
        default="15",
        metavar="N",
        help="how long to wait, 0 < N <= 86400 (default 15)",
    )
    stop.add_argument(
        "--force", action="store_true", help="signal the proven lock owner at the deadline"
    )
    stop.set_defaults(run=_run_stop)
    status = verbs.add_parser("status", help="show the running sqryd's state")
    status.add_argument("--json", action="store_true", help="print the status object as JSON")
    status.set_defaults(run=_run_status)
    for verb in (start, stop, status):
        verb.add_argument("--config", metavar="FILE", help="daemon.toml to use")


def _missing_action(_args: argparse.Namespace) -> int:
    """``sqry daemon`` alone: one line naming the actions (usage error, exit 2)."""
    print(
        f"{PROG}: daemon needs an action: start, stop or status (see '{PROG} daemon --help')",
        file=sys.stderr,
    )
    return 2


def _config(args: argparse.Namespace) -> DaemonConfig:
    from sqry.daemon.lifecycle.config import load_config

    return load_config(args.config, env=os.environ)


def _guarded(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A DaemonError anywhere in ``run`` — rendering its output included — becomes one
    ``sqry: <message>`` line and its lifecycle exit code.

    Everything else is left to ``sqry``'s ``main``, the one place that turns a
    failed write to stdout into 73, EPIPE into a quiet exit, and a bug into one
    ``internal error`` line (70) for every ``sqry`` command alike.
    """

    def wrapper(args: argparse.Namespace) -> int:
        from sqry.daemon.lifecycle.cli import report
        from sqry.daemon.lifecycle.errors import DaemonError

        try:
            return run(args)
        except DaemonError as err:
            return report(PROG, err)

    wrapper.__name__ = wrapper.__qualname__ = run.__name__
    wrapper.__doc__ = run.__doc__
    return wrapper


@_guarded
def _run_start(args: argparse.Namespace) -> int:
    from sqry.daemon.lifecycle.control import daemon_status
    from sqry.daemon.lifecycle.detach import daemon_answers, start_detached

    cfg = _config(args)
    socket = cfg.socket_file(os.environ)
    was_running = daemon_answers(socket)
    if not was_running:
        start_detached(cfg, env=os.environ)
    pid = daemon_status(cfg, env=os.environ).get("pid", "?")
    verb = "already running" if was_running else "started"
    print(f"sqryd {verb} (pid {pid}) on socket {socket}")
    return 0


@_guarded
def _run_stop(args: argparse.Namespace) -> int:
    from sqry.daemon.lifecycle.cli import parse_timeout_secs
    from sqry.daemon.lifecycle.control import stop_daemon

    hint = f"(see '{PROG} daemon stop --help')"
    timeout = parse_timeout_secs(args.timeout_secs, "--timeout-secs", hint)
    cfg = _config(args)
    stop_daemon(cfg, timeout_secs=timeout, force=args.force, env=os.environ, prog=PROG)
    print(f"sqryd stopped (socket {cfg.socket_file(os.environ)})")
    return 0


@_guarded
def _run_status(args: argparse.Namespace) -> int:
    from sqry.daemon.lifecycle.control import daemon_status, format_status, status_json

    result = daemon_status(_config(args), env=os.environ)
    sys.stdout.write((status_json(result) if args.json else format_status(result)) + "\n")
    return 0
