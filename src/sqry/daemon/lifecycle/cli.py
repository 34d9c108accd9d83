"""Entry point of the ``sqryd`` command (lifecycle spec §3).

This module is imported by every ``sqryd`` invocation, including the cheap
ones (``status``, ``stop``) whose whole-process time is a benchmark target
(<= 3x a bare ``python -c pass``). So the command line is parsed from a small
table by :func:`gnu_getopt`, a copy of ``getopt.gnu_getopt``'s rules, instead of
argparse (its import plus building nine subparsers cost ~11 ms per call) or getopt
itself (which imports gettext and locale, ~5 ms, for its error messages); and the
asyncio runner, the detach machinery and the unit printers are imported inside the
command that needs them.

Every failure the user can cause is a :class:`DaemonError`: it is printed as one
``sqryd: <message>`` line on stderr and the process exits with its code (usage
errors: 2).
"""

from __future__ import annotations

import os
import sys

from sqry import __version__
from sqry.cli.stdio import silence_stdout, write_stderr
from sqry.daemon.lifecycle.errors import (
    EX_OK,
    EX_SOFTWARE,
    DaemonError,
    DaemonIoError,
    UsageError,
)

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~3 ms per call
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sqry.daemon.lifecycle.config import DaemonConfig

PROG = "sqryd"
DEFAULT_COMMAND = "foreground"
HELP_HINT = f"(see '{PROG} --help')"
COLUMN = 24  # --help: where descriptions start


class Option:
    """One ``--long`` option: a flag, or one that takes a value (``metavar`` set)."""

    __slots__ = ("name", "help", "metavar", "convert", "hidden")

    def __init__(
        self,
        name: str,
        help: str,
        metavar: str | None = None,
        convert: Callable[[str, str], object] | None = None,
        hidden: bool = False,
    ) -> None:
        self.name = name
        self.help = help
        self.metavar = metavar
        self.convert = convert
        self.hidden = hidden

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    @property
    def getopt_spec(self) -> str:
        return self.name + ("=" if self.metavar else "")

    @property
    def usage(self) -> str:
        return f"--{self.name}" + (f" {self.metavar}" if self.metavar else "")


class Command:
    """One subcommand: its handler, one-line summary, own options, required ones."""

    __slots__ = ("name", "handler", "summary", "options", "required")

    def __init__(
        self,
        name: str,
        handler: Callable[[Args, Mapping[str, str]], int],
        summary: str,
        options: tuple[Option, ...] = (),
        required: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.handler = handler
        self.summary = summary
        self.options = options
        self.required = required


class Args:
    """Parsed command line; every option's attribute exists with its default."""

    def __init__(self, command: Command) -> None:
        self.command = command.name
        self.handler = command.handler
        self.config: str | None = None
        self.log_level: str | None = None
        self.detach = self.print_pid = self.spawned_by_client = False
        self.force = self.json = False
        self.timeout_secs = 15.0
        self.user: str | None = None


MAX_TIMEOUT_SECS = 86400.0
"""Upper bound of ``--timeout-secs`` (one day): larger values overflow socket timeouts."""


def parse_timeout_secs(text: str, option: str, hint: str = HELP_HINT) -> float:
    """A ``--timeout-secs`` value: decimal seconds, 0 < t <= 86400, else UsageError (2).

    Only plain ASCII decimals (``15``, ``2.5``, ``.5``; ``config.parse_decimal``)
    are accepted: ``float()`` alone also takes ``inf``, ``nan``, ``1e10`` (which
    overflows ``socket.settimeout``), ``1_0`` and non-ASCII digits. Shared by
    ``sqryd stop`` and ``sqry daemon stop``.
    """
    from sqry.daemon.lifecycle.config import parse_decimal

    value = parse_decimal(text)
    if value is not None and 0 < value <= MAX_TIMEOUT_SECS:
        return value
    raise UsageError(
        f"{option} expects a number of seconds greater than 0 and at most "
        f"{MAX_TIMEOUT_SECS:g}, got {text!r} {hint}"
    )


def _log_level(text: str, option: str) -> str:
    """``--log-level``: a bad value on the command line is a usage error (2), not 78."""
    from sqry.daemon.lifecycle.config import LOG_LEVELS, normalize_log_level

    level = normalize_log_level(text)
    if level is None:
        raise UsageError(
            f"{option} expects one of {', '.join(LOG_LEVELS)} (or warning), got {text!r} "
            f"{HELP_HINT}"
        )
    return level


GLOBAL_OPTIONS = (
    Option(
        "config",
        "daemon.toml to use (default: $SQRY_DAEMON_CONFIG, then ~/.config/sqry/daemon.toml)",
        "FILE",
    ),
    Option(
        "log-level",
        "log level; beats $SQRY_DAEMON_LOG_LEVEL and the config file",
        "LEVEL",
        _log_level,
    ),
)


def load_cli_config(args: Args, env: Mapping[str, str]) -> DaemonConfig:
    """Load the config the way every subcommand does: file < env < CLI flags."""
    from sqry.daemon.lifecycle.config import load_config

    return load_config(args.config, env=env, log_level=args.log_level)


def become_daemon_process() -> None:
    """Prepare this process to become the daemon; call before importing the runner.

    asyncio imports ``ssl`` at load time only to offer TLS transports. The daemon
    serves a Unix socket and never speaks TLS, yet loading OpenSSL is about a
    third of asyncio's import cost (~34 ms of CPU measured here) on every daemon
    start. Marking ``ssl`` unavailable makes asyncio take its documented no-ssl
    path. Only ever done in the process that is about to run the daemon.
    """
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]


def _cmd_foreground(args: Args, env: Mapping[str, str]) -> int:
    become_daemon_process()
    from sqry.daemon.lifecycle.runner import run_foreground

    return run_foreground(load_cli_config(args, env), env=env)


def _cmd_start(args: Args, env: Mapping[str, str]) -> int:
    if args.spawned_by_client:
        if not args.detach:
            raise UsageError(f"--spawned-by-client requires --detach (see '{PROG} --help')")
        become_daemon_process()
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
        try:
            write_stdout(f"{pid}\n")
        except DaemonIoError as err:
            raise DaemonIoError(f"daemon is running with pid {pid}, but {err}") from err
    return EX_OK


def _cmd_stop(args: Args, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle.control import stop_daemon

    stop_daemon(
        load_cli_config(args, env), timeout_secs=args.timeout_secs, force=args.force, env=env
    )
    return EX_OK


def _cmd_status(args: Args, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle.control import daemon_status, format_status, status_json

    result = daemon_status(load_cli_config(args, env), env=env)
    write_stdout((status_json(result) if args.json else format_status(result)) + "\n")
    return EX_OK


def _cmd_print_config(args: Args, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle.config import to_toml

    write_stdout(to_toml(_startable_config(args, env)))
    return EX_OK


def _startable_config(args: Args, env: Mapping[str, str]) -> DaemonConfig:
    """The effective config, refused (78) as ``start`` would refuse it: a configured
    socket path too long for a Unix socket, naming a directory or another
    socket's file. Printing it, or a unit that runs it, would only defer the error."""
    from sqry.daemon.lifecycle.paths import check_socket_names_a_file, check_socket_path

    cfg = load_cli_config(args, env)
    if cfg.socket_path is not None:
        socket = cfg.socket_file(env)
        check_socket_path(socket)
        check_socket_names_a_file(socket)
    return cfg


def _cmd_unit(args: Args, env: Mapping[str, str]) -> int:
    from sqry.daemon.lifecycle import units

    cfg = _startable_config(args, env)
    exe = sqryd_executable()
    if args.command == "install-systemd-user":
        text = units.systemd_user_unit(cfg, exe)
    elif args.command == "install-systemd-system":
        text = units.systemd_system_unit(cfg, exe, args.user)
    else:
        text = units.launchd_plist(cfg, exe)
    write_stdout(text if text.endswith("\n") else text + "\n")
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


def _commands() -> dict[str, Command]:
    """The command table: parsing, usage errors and ``--help`` all come from it."""
    table = (
        Command(
            "start",
            _cmd_start,
            "run the daemon (in the foreground unless --detach)",
            (
                Option("detach", "run in the background; return once it is ready"),
                Option("print-pid", "with --detach: print the daemon's pid"),
                Option("spawned-by-client", "internal: the detached child role", hidden=True),
            ),
        ),
        Command("foreground", _cmd_foreground, "run the daemon in the foreground (the default)"),
        Command(
            "stop",
            _cmd_stop,
            "ask the running daemon to stop and wait until it has",
            (
                Option(
                    "timeout-secs",
                    "how long to wait, 0 < N <= 86400 (default 15)",
                    "N",
                    parse_timeout_secs,
                ),
                Option("force", "at the deadline, SIGTERM then SIGKILL the proven lock owner"),
            ),
        ),
        Command(
            "status",
            _cmd_status,
            "show the running daemon's state",
            (Option("json", "print the status object as JSON"),),
        ),
        Command("print-config", _cmd_print_config, "print the effective config as TOML"),
        Command("install-systemd-user", _cmd_unit, "print a systemd user unit"),
        Command(
            "install-systemd-system",
            _cmd_unit,
            "print a systemd system unit template (sqryd@.service)",
            (Option("user", "the account to run the daemon as", "NAME"),),
            required=("user",),
        ),
        Command("install-launchd", _cmd_unit, "print a launchd agent plist"),
    )
    return {command.name: command for command in table}


def parse_args(argv: list[str]) -> Args | str:
    """Parse ``argv``; return Args, or the text to print for --help/--version.

    Options may come before or after the command. Raises UsageError (exit 2)
    with a one-line message for anything wrong.
    """
    commands = _commands()
    every = {o.name: o for c in commands.values() for o in c.options}
    every.update((o.name, o) for o in GLOBAL_OPTIONS)
    specs = [o.getopt_spec for o in every.values()] + ["help", "version"]
    try:
        pairs, positional = gnu_getopt(argv, "h", specs)
    except ValueError as err:
        raise UsageError(f"{err} {HELP_HINT}") from None
    command = _pick_command(commands, positional)
    names = [opt.lstrip("-") for opt, _ in pairs]
    if "version" in names:
        return f"{PROG} {__version__}\n"
    if "help" in names or "h" in names:
        return _help(commands, command if positional else None)
    args = Args(command)
    allowed = {o.name for o in command.options} | {o.name for o in GLOBAL_OPTIONS}
    for opt, value in pairs:
        name = opt[2:]
        if name not in allowed:
            raise UsageError(f"option {opt} is not valid for '{PROG} {command.name}' {HELP_HINT}")
        option = every[name]
        setattr(args, option.attr, _value(option, opt, value))
    for name in command.required:
        if getattr(args, name.replace("-", "_")) is None:
            raise UsageError(f"'{PROG} {command.name}' needs --{name} {HELP_HINT}")
    return args


def gnu_getopt(
    argv: list[str], shortopts: str, longopts: list[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """``getopt.gnu_getopt`` without its gettext import: same rules, same messages.

    Options and positionals may be mixed (unless ``POSIXLY_CORRECT`` is set: then
    the first positional ends the options); ``--`` ends the options; a long option
    may be abbreviated to a unique prefix and takes its value as ``--name=value``
    or as the next argument. Raises ValueError with getopt's wording.
    """
    opts: list[tuple[str, str]] = []
    positional: list[str] = []
    options_first = "POSIXLY_CORRECT" in os.environ
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            positional += args
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            name, takes_value = _long_option(name, longopts)
            if takes_value and not eq:
                if not args:
                    raise ValueError(f"option --{name} requires argument")
                value = args.pop(0)
            elif eq and not takes_value:
                raise ValueError(f"option --{name} must not have an argument")
            opts.append((f"--{name}", value))
        elif arg.startswith("-") and arg != "-":
            for index, letter in enumerate(arg[1:], start=1):
                spec = shortopts.find(letter)
                if letter == ":" or spec < 0:
                    raise ValueError(f"option -{letter} not recognized")
                if shortopts.startswith(":", spec + 1):  # takes a value: the rest, or next
                    value = arg[index + 1 :] or (args.pop(0) if args else None)
                    if value is None:
                        raise ValueError(f"option -{letter} requires argument")
                    opts.append((f"-{letter}", value))
                    break
                opts.append((f"-{letter}", ""))
        elif options_first:
            positional += [arg, *args]
            break
        else:
            positional.append(arg)
    return opts, positional


def _long_option(name: str, longopts: list[str]) -> tuple[str, bool]:
    """The long option ``name`` names (exactly, or as a unique prefix) and whether
    it takes a value (``name=`` in ``longopts``)."""
    matches = [spec for spec in longopts if spec.startswith(name)]
    if not matches:
        raise ValueError(f"option --{name} not recognized")
    if name in matches:
        return name, False
    if f"{name}=" in matches:
        return name, True
    if len(matches) > 1:
        raise ValueError(f"option --{name} not a unique prefix")
    full = matches[0]
    return full.removesuffix("="), full.endswith("=")


def _pick_command(commands: dict[str, Command], positional: list[str]) -> Command:
    if not positional:
        return commands[DEFAULT_COMMAND]
    name, *extra = positional
    if name not in commands:
        raise UsageError(f"unknown command {name!r}; commands: {', '.join(commands)} {HELP_HINT}")
    if extra:
        raise UsageError(f"unexpected argument {extra[0]!r} after '{name}' {HELP_HINT}")
    return commands[name]


def _value(option: Option, spelled: str, value: str) -> object:
    if option.metavar is None:
        return True
    return option.convert(value, spelled) if option.convert else value


def _help(commands: dict[str, Command], command: Command | None) -> str:
    """``--help`` text for the whole tool, or for one command."""

    def rows(options) -> list[str]:
        return [f"  {o.usage:<{COLUMN}} {o.help}" for o in options if not o.hidden]

    globals_ = [*rows(GLOBAL_OPTIONS), f"  {'--version':<{COLUMN}} print the version and exit"]
    globals_.append(
        f"  {'-h, --help':<{COLUMN}} show this help ('{PROG} COMMAND --help' for one command)"
    )
    if command is None:
        lines = [
            f"usage: {PROG} [--config FILE] [--log-level LEVEL] [COMMAND] [OPTIONS]",
            "",
            "The sqry daemon: keeps code graphs loaded and fresh for sqry clients.",
            "",
            "commands:",
            *(f"  {c.name:<{COLUMN}} {c.summary}" for c in commands.values()),
            "",
            "global options (before or after the command):",
            *globals_,
        ]
    else:
        own = [f"[{o.usage}]" for o in command.options if not o.hidden]
        usage = " ".join([PROG, command.name, *own, "[--config FILE] [--log-level LEVEL]"])
        lines = [
            f"usage: {usage}",
            "",
            command.summary,
        ]
        if rows(command.options):
            lines += ["", "options:", *rows(command.options)]
        lines += ["", "global options:", *globals_]
    return "\n".join(lines) + "\n"


def report(prog: str, err: DaemonError) -> int:
    """Print ``<prog>: <message>`` (one line) on stderr; return the exit code."""
    message = " ".join(str(err).split("\n"))
    write_stderr(f"{prog}: {message}\n")
    return err.exit_code


def report_internal(prog: str, err: BaseException) -> int:
    """Last resort for a bug: one ``<prog>: internal error: ...`` line, exit 70.

    Worded like ``sqry``'s own last resort. A traceback is no help to a user,
    but it is to whoever fixes the bug: it goes to the daemon's log when this
    process has one (the daemon roles log through the ``sqry`` logger), and the
    line says so; otherwise ``SQRY_DEBUG=1`` prints it, as for ``sqry``.
    """
    where = "; details in the log" if _log_traceback(err) else ""
    if not where and os.environ.get("SQRY_DEBUG", "") not in ("", "0"):
        import traceback

        traceback.print_exception(err)
    detail = " ".join(str(err).split())
    write_stderr(f"{prog}: internal error: {type(err).__name__}: {detail} (please report{where})\n")
    return EX_SOFTWARE


def _log_traceback(err: BaseException) -> bool:
    """Log ``err`` with its traceback if logging was set up; True when it was."""
    logging = sys.modules.get("logging")  # never imported just for this
    if logging is None:
        return False
    logger = logging.getLogger("sqry")
    if not logger.handlers:
        return False
    logger.error("internal error", exc_info=err)
    return True


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush; a failure is DaemonIoError (73), one line.

    Flushing here, not at interpreter exit, is what turns ENOSPC (``> /dev/full``)
    or a closed fd 1 (``sys.stdout`` is None) into a message and an exit code
    instead of a traceback. BrokenPipeError passes through: the reader left, and
    ``main`` exits quietly.
    """
    out = sys.stdout
    if out is None:
        raise DaemonIoError("cannot write to standard output: it is closed")
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as err:  # ValueError: write to a closed file object
        reason = getattr(err, "strerror", None) or str(err)
        raise DaemonIoError(f"cannot write to standard output: {reason}") from err


def main(argv: list[str] | None = None) -> int:
    """Run one ``sqryd`` command; return its exit code (never raises, never a traceback).

    Expected failures are DaemonErrors (their own code); anything else is a bug,
    reported by :func:`report_internal` (70).
    """
    env = os.environ
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        if isinstance(args, str):
            write_stdout(args)
            return EX_OK
        return int(args.handler(args, env))
    except DaemonError as err:
        return report(PROG, err)
    except KeyboardInterrupt:
        write_stderr(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        silence_stdout()
        return EX_OK
    except Exception as err:
        return report_internal(PROG, err)


if __name__ == "__main__":
    sys.exit(main())
