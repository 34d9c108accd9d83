"""The daemon's logging: JSON lines in a size-rotated file, or plain text on stderr.

Why hand-rolled rather than ``logging.handlers.RotatingFileHandler``: the
daemon must keep logging when a rotation fails (a full or read-only directory,
a name occupied by a directory), must never split a line across files, must
append with ``O_APPEND`` so other writers (fds 1/2 after a detached start,
a second process) never lose bytes, and must re-point fds 1/2 at the fresh
file after each rotation so tracebacks and ``faulthandler`` output land in the
current log. The stdlib handler does none of these.

Daemon-side only: never import this from the client path.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing (~4 ms per start)
if TYPE_CHECKING:
    from typing import Any

    from sqry.daemon.lifecycle.config import DaemonConfig

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_LEVEL_NUMBERS = {"trace": TRACE, "debug": logging.DEBUG, "info": logging.INFO}
_LEVEL_NUMBERS |= {"warn": logging.WARNING, "warning": logging.WARNING, "error": logging.ERROR}
_LEVEL_NAMES = {TRACE: "trace", logging.DEBUG: "debug", logging.INFO: "info"}
_LEVEL_NAMES |= {logging.WARNING: "warn", logging.ERROR: "error", logging.CRITICAL: "critical"}

_ROOT_LOGGER = "sqry"
_LOG_MODE = 0o600
# O_NONBLOCK: opening a FIFO for writing would otherwise block until a reader
# appears (forever, hanging startup); the regular-file check comes after the open.
# O_NOFOLLOW: a symlink is refused, not followed. Rotation renames the path, so a
# symlinked log would rotate the link, not the file; and in a shared directory a
# planted link could aim our appends at another of the user's files.
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
_RESERVED_FIELDS = frozenset({"ts", "level", "logger", "msg", "pid", "exc", "stack"})

_installed: list[logging.Handler] = []
_redirect_target: Path | None = None


def level_number(name: str) -> int:
    """Map a config/CLI level name (trace..error, case-insensitive) to a logging level."""
    try:
        return _LEVEL_NUMBERS[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown log level {name!r}") from None


def _level_name(levelno: int) -> str:
    return _LEVEL_NAMES.get(levelno) or logging.getLevelName(levelno).lower()


def _rfc3339_utc(created: float) -> str:
    """``2025-01-31T12:34:56.789Z``: sortable, unambiguous, millisecond precision."""
    whole = int(created)
    millis = int((created - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Fields passed with ``extra=``; names clashing with ours get an ``extra_`` prefix."""
    extras = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD_ATTRS or key.startswith("_"):
            continue
        extras[f"extra_{key}" if key in _RESERVED_FIELDS else key] = value
    return extras


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record, never containing a raw newline."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _rfc3339_utc(record.created),
            "level": _level_name(record.levelno),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process if record.process is not None else os.getpid(),
        }
        entry.update(_extra_fields(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=repr)


class TextFormatter(logging.Formatter):
    """Human-readable single line (plus traceback) for stderr and the journal."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_rfc3339_utc(record.created)} {_level_name(record.levelno)} {record.name}: "
        text += record.getMessage()
        extras = _extra_fields(record)
        if extras:
            text += " " + " ".join(f"{k}={v!r}" for k, v in extras.items())
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _open_log_fd(path: Path) -> int:
    """Open ``path`` for appending, 0600 whatever the umask; regular files only.

    Never blocks (see ``_OPEN_FLAGS``). A symlink, FIFO, socket or device at
    the path raises OSError whose ``strerror`` says what is wrong, for the
    caller's one-line warning.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS, _LOG_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(exc.errno, "it is a symlink; point log_file at the real file") from exc
        if exc.errno == errno.ENXIO:  # a FIFO without a reader (or a socket)
            raise OSError(exc.errno, "it is a FIFO or socket, not a regular file") from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"it is not a regular file ({_file_kind(info.st_mode)})")
        if stat.S_IMODE(info.st_mode) != _LOG_MODE:
            os.fchmod(fd, _LOG_MODE)
        os.set_blocking(fd, True)  # it is a regular file: the flag is moot, keep fds 1/2 plain
    except BaseException:
        os.close(fd)
        raise
    return fd


def _make_log_dir(path: Path) -> None:
    """Create the log file's missing parent directory (0700).

    An existing parent is left to the open: ``os.makedirs(..., exist_ok=True)``
    on a parent that is a regular file raises "File exists", hiding the real
    reason ("Not a directory") the open then reports.
    """
    if not os.path.lexists(path.parent):
        from sqry.daemon.lifecycle.paths import make_private_dirs

        make_private_dirs(str(path.parent))


def _open_log_path(path: Path) -> int:
    """``_open_log_fd`` after ``_make_log_dir``."""
    _make_log_dir(path)
    return _open_log_fd(path)


def _cannot_open(dest: object, exc: BaseException) -> str:
    """``cannot open log file <dest>: <reason>``: the start of every open-failure warning."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return f"cannot open log file {dest}: {reason}"


def probe_log_file(cfg: DaemonConfig, env: Mapping[str, str]) -> str | None:
    """Open (creating it) and close the log file a detached daemon will use.

    Returns the warning to print when it cannot be opened, else None. For
    ``start --detach``: the daemon's own warning goes to its stderr, which is
    /dev/null, so the process the user started must check and say it.
    """
    try:
        dest = cfg.log_destination(env)
        if dest is None:
            return None
        os.close(_open_log_path(dest))
    except (OSError, ValueError) as exc:
        return (
            f"{_cannot_open(dest, exc)}; the detached daemon will run without a log "
            "(fix log_file or SQRY_DAEMON_LOG_FILE)"
        )
    return None


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a file"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _point_std_streams_at(fd: int) -> None:
    """dup2 ``fd`` onto 1 and 2, flushing Python's buffers first so nothing is lost."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os.dup2(fd, 1)
    os.dup2(fd, 2)


class RotatingJsonFileHandler(logging.Handler):
    """Append JSON lines to ``path``; rotate by size to ``path.1`` .. ``path.<keep>``.

    ``logging.Handler.handle`` serialises ``emit`` under the handler lock, so a
    line is written whole by one ``write`` (``O_APPEND``) and rotation never
    races a writer of this process. A failed rotation is reported once, then
    logging continues in the current file and rotation is retried at the next
    line that crosses the threshold.
    """

    def __init__(self, path: Path | str, max_bytes: int, keep: int) -> None:
        super().__init__()
        if max_bytes <= 0 or keep < 1:
            raise ValueError("max_bytes must be > 0 and keep >= 1")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.keep = keep
        self.redirect_std = False
        self._failure_reported = False
        self._write_error_reported = False
        self._reopen_pending = False
        self.setFormatter(JsonLineFormatter())
        self._fd = _open_log_fd(self.path)

    def fileno(self) -> int:
        return self._fd

    def redirect_std_streams(self) -> None:
        """Point fds 1/2 at the current file now and after every rotation."""
        with self._lock_ctx():
            self.redirect_std = True
            if self._fd >= 0:
                _point_std_streams_at(self._fd)

    def _lock_ctx(self) -> threading.RLock:
        assert self.lock is not None
        return self.lock  # type: ignore[return-value]

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8", "backslashreplace")
            self.write_line(line)
        except Exception:
            self.handleError(record)

    def write_line(self, line: bytes) -> None:
        """Write one complete line, rotating first if it would cross the threshold."""
        with self._lock_ctx():
            if self._fd < 0:
                raise ValueError("log handler is closed")
            if self._needs_rotation(len(line)):
                self._rotate()
            _write_all(self._fd, line)

    def _needs_rotation(self, incoming: int) -> bool:
        if self._reopen_pending:
            return True
        size = os.fstat(self._fd).st_size  # includes other appenders (fds 1/2, processes)
        return size > 0 and size + incoming > self.max_bytes

    def _rotate(self) -> None:
        if not self._reopen_pending:
            try:
                self._shift_files()
            except OSError as exc:
                self._report(f"log rotation of {self.path} failed ({exc}); still writing to it")
                return
        try:
            fresh = _open_log_fd(self.path)
        except OSError as exc:
            self._reopen_pending = True
            self._report(f"cannot reopen log file {self.path} after rotation ({exc})")
            return
        old, self._fd = self._fd, fresh
        self._reopen_pending = False
        if self.redirect_std:
            _point_std_streams_at(fresh)
        os.close(old)
        self._failure_reported = False

    def _slot(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")

    def _shift_files(self) -> None:
        """Free slot ``.1`` and move the live file there; the oldest beyond ``keep`` drops.

        Only the run of occupied slots below the first free one moves up, so a
        retry after a half-done rotation (``.1`` already moved, the live file
        not) just renames the live file: retries never push generations out.
        Every slot is checked first, so an obstruction (say a directory named
        ``.1``) aborts before anything moved.
        """
        first_free = self.keep  # all occupied: .keep is overwritten, i.e. dropped
        for index in range(self.keep, 0, -1):
            slot = self._slot(index)
            try:
                mode = os.lstat(slot).st_mode
            except FileNotFoundError:
                first_free = index
                continue
            if not stat.S_ISREG(mode):
                raise OSError(errno.EEXIST, f"{slot} is in the way and is not a regular file")
        for index in range(first_free - 1, 0, -1):
            os.replace(self._slot(index), self._slot(index + 1))
        if os.path.lexists(self.path):
            os.replace(self.path, self._slot(1))

    def _report(self, message: str) -> None:
        """Tell the operator once per failure episode: in the log, and on stderr."""
        if self._failure_reported:
            return
        self._failure_reported = True
        record = logging.LogRecord(__name__, logging.ERROR, __file__, 0, message, (), None)
        try:
            _write_all(self._fd, (self.format(record) + "\n").encode("utf-8", "backslashreplace"))
        except OSError:
            pass
        if not self.redirect_std:  # otherwise fd 2 *is* this file
            try:
                sys.stderr.write(f"sqryd: warning: {message}\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging API
        """One line on stderr instead of a traceback per failed record (e.g. disk full)."""
        if self._write_error_reported:
            return
        self._write_error_reported = True
        exc = sys.exc_info()[1]
        try:
            sys.stderr.write(f"sqryd: warning: cannot write log file {self.path}: {exc}\n")
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        with self._lock_ctx():
            fd, self._fd = self._fd, -1
            if fd >= 0:
                os.close(fd)
        super().close()


def setup_logging(
    cfg: DaemonConfig, *, detached: bool, env: Mapping[str, str] = os.environ
) -> None:
    """Configure the ``sqry`` logger tree for the daemon. Never raises.

    File logging when ``cfg.log_destination(env)`` names a file, stderr
    otherwise. A file that cannot be opened is a warning on stderr and a
    fallback to stderr logging: losing the log file must not stop the daemon.
    ``detached`` re-points fds 1/2 at the log file (and keeps them following
    rotations), since the detached daemon's stdio is /dev/null.
    """
    logger = logging.getLogger(_ROOT_LOGGER)
    teardown_logging()
    try:
        level = level_number(cfg.log_level)
    except ValueError:
        level = logging.INFO
    logger.setLevel(level)
    handler = _file_handler_or_none(cfg, env)
    if handler is None:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(TextFormatter())
        _install(logger, stream)
        return
    _install(logger, handler)
    if detached or (_redirect_target is not None and _redirect_target == handler.path):
        try:
            handler.redirect_std_streams()
        except OSError as exc:
            sys.stderr.write(f"sqryd: warning: cannot redirect stdout/stderr to the log: {exc}\n")


def _file_handler_or_none(
    cfg: DaemonConfig, env: Mapping[str, str]
) -> RotatingJsonFileHandler | None:
    dest = cfg.log_destination(env)
    if dest is None:
        return None
    try:
        _make_log_dir(dest)
        return RotatingJsonFileHandler(dest, cfg.log_max_bytes, cfg.log_keep_rotations)
    except (OSError, ValueError) as exc:
        sys.stderr.write(
            f"sqryd: warning: {_cannot_open(dest, exc)}; logging to stderr instead "
            "(set log_file or SQRY_DAEMON_LOG_FILE)\n"
        )
        return None


def _install(logger: logging.Logger, handler: logging.Handler) -> None:
    logger.addHandler(handler)
    _installed.append(handler)


def teardown_logging() -> None:
    """Remove and close the handlers ``setup_logging`` installed (idempotent)."""
    logger = logging.getLogger(_ROOT_LOGGER)
    while _installed:
        handler = _installed.pop()
        logger.removeHandler(handler)
        try:
            handler.close()
        except OSError:
            pass


def redirect_std_streams(path: Path | str) -> bool:
    """Send fds 1/2 to the log file ``path`` so tracebacks and faulthandler land there.

    Called by the detached daemon early, possibly before ``setup_logging``;
    when a handler for ``path`` is (or later gets) installed, it keeps fds 1/2
    pointed at the current file across rotations. Returns False (after a
    warning on the old stderr) when the file cannot be opened: not fatal.
    """
    global _redirect_target
    path = Path(path)
    _redirect_target = path
    for handler in _installed:
        if isinstance(handler, RotatingJsonFileHandler) and handler.path == path:
            handler.redirect_std_streams()
            return True
    try:
        fd = _open_log_path(path)
    except OSError as exc:
        sys.stderr.write(f"sqryd: warning: cannot redirect stdout/stderr to {path}: {exc}\n")
        return False
    try:
        _point_std_streams_at(fd)
    finally:
        os.close(fd)
    return True
