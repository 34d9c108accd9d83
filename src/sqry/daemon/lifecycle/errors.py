"""Typed daemon errors, each carrying the process exit code the CLI must use.

Every failure a user can cause or meet (a held lock, a bad config, an unsafe
runtime dir, ...) is one of these, so the CLI can print ``sqryd: <str(err)>``
on one line and exit with ``err.exit_code`` without a traceback. The exit codes
follow ``sysexits.h`` so scripts and service managers can tell "retry later"
(75) from "fix your config" (78).

This module is imported by the client path (``sqryd status`` pays for every
import here), so it imports nothing at all: ``pathlib`` alone costs more than
the rest of a status call. The ``Path`` attributes below are built on access.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing (~3 ms per call)
if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path

EX_OK = 0
EX_USAGE = 2
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CANTCREAT = 73
EX_TEMPFAIL = 75
EX_NOPERM = 77
EX_CONFIG = 78


class DaemonError(Exception):
    """Base of all expected daemon failures.

    ``str(err)`` is the complete one-line message for the user, without the
    ``sqryd:`` prefix (the CLI adds it, so library callers can reuse the text).
    """

    exit_code: int = EX_SOFTWARE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(DaemonError):
    """Wrong command-line usage (bad flag combination, missing argument)."""

    exit_code = EX_USAGE


class ReadyTimeout(DaemonError):
    """The daemon did not signal readiness in time (``start --detach``)."""

    exit_code = EX_UNAVAILABLE

    @classmethod
    def after(cls, seconds: float, socket: PathLike[str] | str) -> ReadyTimeout:
        """Build the standard message so every caller words it the same way."""
        return cls(f"daemon did not become ready within {_secs(seconds)}s on socket {socket}")


class StopTimeout(DaemonError):
    """The daemon did not exit in time after ``daemon/stop``."""

    exit_code = EX_UNAVAILABLE

    @classmethod
    def after(cls, seconds: float) -> StopTimeout:
        """Build the standard message so every caller words it the same way."""
        return cls(f"daemon did not stop within {_secs(seconds)}s")


class InternalError(DaemonError):
    """A bug or an impossible state: nothing the user can fix."""

    exit_code = EX_SOFTWARE


class SignalSetupError(DaemonError):
    """Installing the daemon's signal handlers failed."""

    exit_code = EX_SOFTWARE


class SocketSetupError(DaemonError):
    """Binding or listening on the daemon socket failed."""

    exit_code = EX_SOFTWARE


class DaemonIoError(DaemonError):
    """A file-system or OS call failed (cannot create, open, write, lock...)."""

    exit_code = EX_CANTCREAT


class NotRunning(DaemonError):
    """No daemon answers on the socket (``status``/``stop``)."""

    exit_code = EX_CANTCREAT

    def __init__(self, socket: PathLike[str] | str) -> None:
        self._socket = socket
        super().__init__(f"daemon is not running (socket {socket})")

    @property
    def socket(self) -> Path:
        return _as_path(self._socket)


class DaemonNotAnswering(DaemonError):
    """The lock is held but nothing accepts on the socket (``status``): retry later.

    Seen while a daemon is starting (it took the lock, has not bound yet) or
    stopping (it closed the socket, has not released the lock yet), and for a
    wedged lock holder. Not "not running": a ``start`` now would fail with 75.
    """

    exit_code = EX_TEMPFAIL

    def __init__(
        self, owner_pid: int | None, socket: PathLike[str] | str, lock: PathLike[str] | str
    ) -> None:
        self.owner_pid = owner_pid
        pid_text = "?" if owner_pid is None else str(owner_pid)
        super().__init__(
            f"daemon is starting or stopping: pid {pid_text} holds the lock {lock} but "
            f"nothing accepts connections on socket {socket} yet; retry in a moment "
            "(if it persists, 'stop --force' ends it)"
        )


class AlreadyRunning(DaemonError):
    """Another process holds the singleton lock.

    ``owner_pid`` is read best-effort from the pidfile and may be None; it is
    for the message only and must never be signalled on its own authority.
    """

    exit_code = EX_TEMPFAIL

    def __init__(
        self, owner_pid: int | None, socket: PathLike[str] | str, lock: PathLike[str] | str
    ) -> None:
        self.owner_pid = owner_pid
        self._socket = socket
        self._lock = lock
        pid_text = "?" if owner_pid is None else str(owner_pid)
        super().__init__(
            f"sqryd is already running (pid={pid_text}) on socket {socket} (lock: {lock})"
        )

    @property
    def socket(self) -> Path:
        return _as_path(self._socket)

    @property
    def lock(self) -> Path:
        return _as_path(self._lock)


class RuntimeDirUnsafe(DaemonError):
    """The runtime dir is owned by someone else or shared/writable by others."""

    exit_code = EX_NOPERM


class ConfigError(DaemonError):
    """Invalid configuration: file, environment, socket path, or unit options."""

    exit_code = EX_CONFIG


class UnsupportedPlatform(DaemonError):
    """The daemon needs POSIX primitives (flock, Unix sockets, setsid)."""

    exit_code = EX_UNAVAILABLE


def _as_path(value: PathLike[str] | str) -> Path:
    """``Path(value)``, importing pathlib only when someone asks for a Path."""
    from pathlib import Path

    return Path(value)


def _secs(seconds: float) -> str:
    """Render 10.0 as ``10`` and 2.5 as ``2.5`` in messages."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
