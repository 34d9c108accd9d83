"""Entry point of the ``sqryd`` command (lifecycle spec §3).

This module is imported by every ``sqryd`` invocation, including the cheap
ones (``status``, ``stop``, ``print-config``) whose whole-process time is a
benchmark target. It therefore imports only argparse/os/sys and the light
lifecycle modules at the top; the asyncio runner, the detach machinery and the
unit printers are imported inside the command that needs them.

Every failure the user can cause is a :class:`DaemonError`: it is printed as one
``sqryd: <message>`` line on stderr and the process exits with its code.
"""

from __future__ import annotations

import argparse
import os
import sys

from sqry import __version__
from sqry.daemon.lifecycle.errors import EX_OK, DaemonError, UsageError

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~5 ms per call
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sqry.daemon.lifecycle.config import DaemonConfig

    Handler = Callable[[argparse.Namespace, Mapping[str, str]], int]

PROG = "sqryd"


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors become a one-line :class:`UsageError` (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{PROG} --help')")


def _add_globals(parser: argparse.ArgumentParser, *, in_subcommand: bool) -> None:
    """Accept the global flags both before and after the subcommand.

    In subparsers the default is SUPPRESS so a flag given before the subcommand
    is not overwritten by the subparser's default.
    """
    default = argparse.SUPPRESS if in_subcommand else None
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="daemon.toml to use (default: $SQRY_DAEMON_CONFIG, then ~/.config/sqry/daemon.toml)",
    )
    parser.add_argument(
        "--log-level",
        metavar="LEVEL",
        default=default,
        help="log level (beats $SQRY_DAEMON_LOG_LEVEL and the config file)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole ``sqryd`` command line; each subcommand sets ``handler``."""
    parser = _Parser(prog=PROG, description="The sqry daemon: keeps code graphs warm.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _add_globals(parser, in_subcommand=False)
    parser.set_defaults(handler=_cmd_foreground)
    # An explicit prog keeps argparse from building a help formatter now, which
    # would import shutil (and bz2, lzma) on every call: ~8 ms of `sqryd status`.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, prog=PROG)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_globals(p, in_subcommand=True)
        p.set_defaults(handler=handler)
        return p

    start = add("start", _cmd_start, "run the daemon (foreground unless --detach)")
    start.add_argument(
        "--detach", action="store_true", help="run in the background; return once ready"
    )
    start.add_argument(
        "--print-pid", action="store_true", help="with --detach: print the daemon's pid"
    )
    start.add_argument("--spawned-by-client", action="store_true", help=argparse.SUPPRESS)
    add("foreground", _cmd_foreground, "run the daemon in the foreground")
    stop = add("stop", _cmd_stop, "ask the running daemon to stop and wait until it has")
    stop.add_argument(
        "--timeout-secs",
        type=_positive_float,
        default=15.0,
        metavar="N",
        help="how long to wait (default 15)",
    )
    stop.add_argument(
        "--force",
        action="store_true",
        help="at the deadline, SIGTERM then SIGKILL the process that provably holds the lock",
    )
    status = add("status", _cmd_status, "show the running daemon's state")
    status.add_argument("--json", action="store_true", help="print the status object as JSON")
    add("print-config", _cmd_print_config, "print the effective config as TOML")
    add("install-systemd-user", _cmd_unit, "print a systemd user unit")
    system = add("install-systemd-system", _cmd_unit, "print a systemd system unit template")
    system.add_argument("--user", required=True, metavar="NAME", help="account to run as")
    add("install-launchd", _cmd_unit, "print a launchd agent plist")
    return parser


def _positive_float(text: str) -> float:
    """argparse type for ``--timeout-secs``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def load_cli_config(args: argparse.Namespace, env: Mapping[str, str]) -> DaemonConfig:
    """Load the config the way every subcommand does: file < env < CLI flags."""
    from sqry.daemon.lifecycle.config import load_config

    return load_config(args.config, env=env, log_level=args.log_level)


def _cmd_foreground(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle.runner import run_foreground

    return run_foreground(load_cli_config(args, env), env=env)


def _cmd_start(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if args.spawned_by_client:
        if not args.detach:
            raise UsageError(f"--spawned-by-client requires --detach (see '{PROG} --help')")
        from sqry.daemon.lifecycle.detach import run_child

        return run_child(args.config, args.log_level, env=env)
    if args.print_pid and not args.detach:
        raise UsageError(f"--print-pid requires --detach (see '{PROG} --help')")
    if not args.detach:
        return _cmd_foreground(args, env)
    from sqry.daemon.lifecycle.detach import run_parent

    pid = run_parent(
        load_cli_config(args, env), config_path=args.config, log_level=args.log_level, env=env
    )
    if args.print_pid:
        print(pid)
    return EX_OK


def _cmd_stop(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle.control import stop_daemon

    stop_daemon(
        load_cli_config(args, env), timeout_secs=args.timeout_secs, force=args.force, env=env
    )
    return EX_OK


def _cmd_status(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle.control import daemon_status, format_status, status_json

    result = daemon_status(load_cli_config(args, env), env=env)
    print(status_json(result) if args.json else format_status(result))
    return EX_OK


def _cmd_print_config(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle.config import to_toml

    sys.stdout.write(to_toml(load_cli_config(args, env)))
    return EX_OK


def _cmd_unit(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle import units

    cfg = load_cli_config(args, env)
    exe = sqryd_executable()
    if args.command == "install-systemd-user":
        text = units.systemd_user_unit(cfg, exe)
    elif args.command == "install-systemd-system":
        text = units.systemd_system_unit(cfg, exe, args.user)
    else:
        text = units.launchd_plist(cfg, exe)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EX_OK


def sqryd_executable() -> str:
    """Absolute path of the ``sqryd`` script that unit files should run.

    Prefer the script installed beside this interpreter (the venv's own), so a
    unit never picks up some other ``sqryd`` earlier on PATH.
    """
    import shutil

    beside = os.path.join(os.path.dirname(sys.executable), PROG)
    if os.access(beside, os.X_OK):
        return os.path.abspath(beside)
    found = shutil.which(PROG)
    if found:
        return os.path.abspath(found)
    raise DaemonError(
        f"cannot find the {PROG} executable beside {sys.executable} or on PATH; "
        "install sqry (pip install sqry) and retry"
    )


def report(prog: str, err: DaemonError) -> int:
    """Print ``<prog>: <message>`` (one line) on stderr; return the exit code."""
    message = " ".join(str(err).split("\n"))
    sys.stderr.write(f"{prog}: {message}\n")
    sys.stderr.flush()
    return err.exit_code


def main(argv: list[str] | None = None) -> int:
    """Run one ``sqryd`` command; return its exit code (never raises for user errors)."""
    env = os.environ
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args, env))
    except DaemonError as err:
        return report(PROG, err)
    except SystemExit as done:  # --help / --version
        return done.code if isinstance(done.code, int) else EX_OK
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        return EX_OK


if __name__ == "__main__":
    sys.exit(main())
