"""``sqryd start --detach``: the parent path, the child role, and auto-start (§4).

The lock is taken in the process the user started, *before* detaching, so a
held lock or an unsafe runtime dir is reported on the user's terminal. The
parent then re-executes Python as the daemon (``subprocess`` with ``pass_fds``
and ``start_new_session``: never a raw fork in a process that may have
threads), handing it exactly two fds — the locked lock file and the write end
of a ready pipe — named in four environment variables. The child adopts the
lock (same open file description, so the flock is shared, not re-taken), runs
the normal startup, and writes one line on the pipe: ``READY <pid>`` or
``ERROR <code> <message>``. Only after READY does the parent let go of its
handle, and it does so without ``LOCK_UN`` (that would unlock the shared open
file description under the child).

:func:`start_detached` is what clients call to auto-start a daemon.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import subprocess
import sys
import time
from collections import namedtuple
from collections.abc import Mapping
from pathlib import Path

from sqry.daemon.lifecycle.errors import (
    EX_SOFTWARE,
    EX_TEMPFAIL,
    EX_UNAVAILABLE,
    ConfigError,
    DaemonError,
    DaemonIoError,
    ReadyTimeout,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing (~4 ms per start)
if TYPE_CHECKING:
    from sqry.daemon.lifecycle.config import DaemonConfig
    from sqry.daemon.lifecycle.paths import RuntimePaths
    from sqry.daemon.lifecycle.pidfile import PidfileLock

ENV_LOCK_FD = "SQRYD_LOCK_FD"
ENV_READY_PIPE_FD = "SQRYD_READY_PIPE_FD"
ENV_PIDFILE_PATH = "SQRYD_PIDFILE_PATH"
ENV_LOCKFILE_PATH = "SQRYD_LOCKFILE_PATH"
HANDOFF_VARS = (ENV_LOCK_FD, ENV_READY_PIPE_FD, ENV_PIDFILE_PATH, ENV_LOCKFILE_PATH)

CONFIG_ENV_PREFIX = "SQRY_DAEMON_"
SERVICE_MANAGER_VARS = (
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
)
"""What systemd gives its service's main process; never meant for a detached daemon."""
MAX_READY_LINE = 64 * 1024
REAP_SECS = 5.0
LOG_TAIL_LINES = 3
HANDOFF_POLL_SECS = 0.02
PIDFILE_GRACE_SECS = 1.0


class ChildFailed(DaemonError):
    """The detached daemon reported or suffered a startup failure; carries its code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ---------------------------------------------------------------------------
# The ready pipe protocol (one line, written once)
# ---------------------------------------------------------------------------


class ReadyPipe:
    """The child's end of the ready pipe: says READY or ERROR exactly once, then closes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.used = False

    def ready(self, pid: int) -> None:
        self._send(f"READY {pid}\n")

    def error(self, code: int, message: str) -> None:
        self._send(f"ERROR {code} {' '.join(message.split())}\n")

    def _send(self, line: str) -> None:
        if self.used:
            return
        self.used = True
        data = line.encode("utf-8", "replace")[:MAX_READY_LINE]
        try:
            while data:
                data = data[os.write(self.fd, data) :]
        except OSError:
            pass  # the parent gave up (timeout) or died; nothing left to tell
        finally:
            with contextlib.suppress(OSError):
                os.close(self.fd)


# Plain named tuples, not dataclasses: ``start --detach`` imports this module on the
# critical path of every start, and ``dataclasses`` (with ``inspect``) costs ~10 ms.


class ReadyLine(namedtuple("ReadyLine", "kind pid code message", defaults=(0, 0, ""))):
    """What the parent read from the pipe: READY, ERROR, or nothing (EOF).

    ``kind`` is "ready" (with ``pid``), "error" (with ``code`` and ``message``) or "eof".
    """

    __slots__ = ()


def parse_ready_line(raw: bytes) -> ReadyLine:
    """Decode one ready-pipe line; anything unexpected is reported as an error line."""
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return ReadyLine("eof")
    word, _, rest = text.partition(" ")
    if word == "READY" and rest.strip().isdigit():
        return ReadyLine("ready", pid=int(rest))
    if word == "ERROR":
        code_text, _, message = rest.partition(" ")
        if code_text.isdigit():
            return ReadyLine("error", code=int(code_text), message=message)
    return ReadyLine("error", code=EX_SOFTWARE, message=f"unexpected ready-pipe line {text!r}")


# ---------------------------------------------------------------------------
# Parent path
# ---------------------------------------------------------------------------


def run_parent(
    cfg: DaemonConfig,
    *,
    config_path: str | None,
    log_level: str | None,
    env: Mapping[str, str],
) -> int:
    """Start the daemon in the background and return its pid once it is ready.

    Raises AlreadyRunning (75) when the lock is held, ChildFailed with the
    child's own code when its startup failed, ReadyTimeout (69) on timeout.

    The child runs in ``/`` and loads its config again, so it is handed every
    path as the parent resolved it, absolute: ``--config cfg.config_file``
    (the file actually loaded, so ``config_path`` itself is not needed) and
    ``absolute_path_vars``. A relative ``XDG_RUNTIME_DIR``/``TMPDIR`` is
    ignored by both (``paths.resolve_runtime_dir``).
    """
    del config_path  # cfg.config_file names the same file, already absolute
    from sqry.daemon.lifecycle.paths import prepare_start

    paths = cfg.paths(env)
    prepare_start(paths)
    lock = acquire_or_name_the_daemon(paths, float(cfg.auto_start_ready_timeout_secs))
    try:
        _warn_if_log_unusable(cfg, env)
        return _spawn_and_wait(cfg, lock, paths, log_level, env)
    except BaseException:
        lock.close()  # still WriteOwner: removes the pidfile, unlocks
        raise


def acquire_or_name_the_daemon(paths: RuntimePaths, timeout: float) -> PidfileLock:
    """``acquire_pidfile_lock``, retried while the pidfile does not name the daemon yet.

    The pidfile protocol (the seed) has the lock winner write its pid just
    after taking the lock (an fsync'ed write: milliseconds), and a ``start
    --detach`` launcher's child overwrite the launcher's pid a moment later. A
    loser reading the pidfile in between would say "already running" with
    ``pid=?``, a stale pid, or the launcher's, which exits right after. So we
    retry while the pid is missing or dead (for ``PIDFILE_GRACE_SECS``) or a
    launcher (``_is_launcher``; for ``timeout``, the ready timeout that bounds
    the launcher's own life). Either the pidfile then names the daemon, or the
    holder gave up and the lock is free for us. A live non-launcher holder (a
    running daemon) is reported at once.
    """
    from sqry.daemon.lifecycle.errors import AlreadyRunning
    from sqry.daemon.lifecycle.pidfile import acquire_pidfile_lock

    started = time.monotonic()
    while True:
        try:
            return acquire_pidfile_lock(paths)
        except AlreadyRunning as err:
            if time.monotonic() - started >= _patience_for(err.owner_pid, timeout):
                raise
        time.sleep(HANDOFF_POLL_SECS)


def _patience_for(pid: int | None, timeout: float) -> float:
    """How long a loser may wait for the pidfile to name the lock holder's daemon."""
    if pid is None or not _pid_exists(pid):
        return PIDFILE_GRACE_SECS  # the winner has not written its pid yet
    return timeout if _is_launcher(pid) else 0.0


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # EPERM: it exists, as another user's process
    return True


def _is_launcher(pid: int) -> bool:
    """Whether ``pid`` runs ``sqryd start --detach`` in the parent role (Linux ``/proc``).

    False where there is no /proc (macOS): the message may then name the
    launcher, as before, but nothing waits on a guess.
    """
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return False
    return b"--detach" in argv and b"--spawned-by-client" not in argv


def _warn_if_log_unusable(cfg: DaemonConfig, env: Mapping[str, str]) -> None:
    """Say on the user's terminal that the daemon's log file cannot be opened.

    Not fatal (lifecycle §5 step 2), but the child's own warning would go to
    its stderr, /dev/null, leaving the user with a silent daemon that logs
    nowhere. Checked once the lock is ours, so a loser (75) says nothing else.
    """
    from sqry.cli.stdio import write_stderr
    from sqry.daemon.lifecycle.logfile import probe_log_file

    warning = probe_log_file(cfg, detached_child_env(env))  # where the child will log
    if warning is not None:  # best effort: a full stderr must not cost the start
        write_stderr(f"sqryd: warning: {warning}\n")


def _spawn_and_wait(cfg, lock: PidfileLock, paths, log_level, env) -> int:
    """Spawn the child and act on its one ready-pipe line (or on its silence).

    The child is always dead and reaped before this returns or raises, except
    after READY: only then may the caller's WriteOwner handle unlock, since an
    unlock on the shared open file description would free the child's lock too.
    """
    timeout = float(cfg.auto_start_ready_timeout_secs)
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    try:
        try:
            child = _spawn_child(cfg, lock.fileno(), write_end, paths, log_level, env)
        finally:
            os.close(write_end)
        try:
            line = _read_ready_line(read_end, time.monotonic() + timeout)
        except BaseException:  # Ctrl-C, or a bug: the unready child must not outlive us
            _kill_and_reap(child)
            raise
    finally:
        os.close(read_end)
    if line is None:
        _kill_and_reap(child)
        raise ReadyTimeout.after(timeout, paths.socket)
    if line.kind == "ready":
        lock.hand_off_to_adopter()
        lock.close()  # Handoff: closes our fd only, no LOCK_UN, pidfile stays
        return line.pid
    status = _reap(child)
    if line.kind == "error":
        raise ChildFailed(line.message, line.code)
    raise ChildFailed(
        f"daemon {_describe_exit(status)} before it was ready on socket {paths.socket}"
        f"{_log_tail_note(cfg, env)}",
        EX_UNAVAILABLE,
    )


def _spawn_child(cfg, lock_fd: int, pipe_w: int, paths, log_level, env) -> subprocess.Popen:
    """Re-exec this Python as the daemon child, in its own session, stdio on /dev/null."""
    argv = [sys.executable, "-P", "-m", "sqry.daemon.lifecycle.cli", "start", "--detach"]
    argv.append("--spawned-by-client")
    if cfg.config_file:
        argv += ["--config", cfg.config_file]  # the file we loaded, already absolute
    if log_level:
        argv += ["--log-level", log_level]
    child_env = detached_child_env(env)
    child_env.update(absolute_path_vars(cfg, child_env))
    child_env.update(
        {
            ENV_LOCK_FD: str(lock_fd),
            ENV_READY_PIPE_FD: str(pipe_w),
            ENV_PIDFILE_PATH: str(paths.pid),
            ENV_LOCKFILE_PATH: str(paths.lock),
        }
    )
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(lock_fd, pipe_w),
            start_new_session=True,
            cwd="/",
            env=child_env,
        )
    except OSError as err:
        raise DaemonIoError(f"cannot start the daemon process {sys.executable}: {err}") from err


def absolute_path_vars(cfg: DaemonConfig, env: Mapping[str, str]) -> dict[str, str]:
    """``SQRY_DAEMON_SOCKET``/``SQRY_DAEMON_LOG_FILE`` from ``env``, as ``cfg`` resolved them.

    A relative value is resolved once, against the cwd of the process the user
    started (``config._path_value``). The child runs in ``/`` and reads the
    environment again, so it must get the absolute result, not the original
    text: otherwise it computes other paths than the parent and refuses the
    hand-off (or logs somewhere else). Only variables present in ``env`` are
    returned, so a value from the config file stays the file's.
    """
    from sqry.daemon.lifecycle.config import LOG_FILE_ENV, SOCKET_ENV

    resolved = {SOCKET_ENV: cfg.socket_path, LOG_FILE_ENV: cfg.log_file}
    return {name: value for name, value in resolved.items() if env.get(name) and value}


def detached_child_env(env: Mapping[str, str]) -> dict[str, str]:
    """The detached daemon's environment: ``env`` without the service manager's variables.

    A client auto-starting the daemon from inside a systemd service (or a user
    running ``start --detach`` there) carries that service's NOTIFY_SOCKET.
    The detached daemon is not the service's main process: with it, it would
    log to a stderr that is /dev/null instead of its log file, and send
    READY/MAINPID/STOPPING to someone else's service manager. Socket
    activation variables (LISTEN_*) name fds it does not have.
    """
    return {k: v for k, v in env.items() if k not in SERVICE_MANAGER_VARS}


def _read_ready_line(fd: int, deadline: float) -> ReadyLine | None:
    """Read until newline or EOF; None when the deadline passes first."""
    buf = b""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while b"\n" not in buf and len(buf) < MAX_READY_LINE:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        if not poller.poll(remaining * 1000):
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return parse_ready_line(buf.split(b"\n", 1)[0])


def _reap(child: subprocess.Popen) -> int:
    """Wait briefly for a failed child to exit; kill it if it lingers. Returns its status."""
    try:
        return child.wait(timeout=REAP_SECS)
    except subprocess.TimeoutExpired:
        return _kill_and_reap(child)


def _kill_and_reap(child: subprocess.Popen) -> int:
    """SIGKILL exactly our child (unreaped, so its pid cannot have been reused)."""
    with contextlib.suppress(ProcessLookupError):
        child.kill()
    return child.wait()


def _describe_exit(status: int) -> str:
    if status < 0:
        import signal

        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by {name}"
    return f"exited with status {status}"


def _log_tail_note(cfg: DaemonConfig, env: Mapping[str, str]) -> str:
    """``; last log lines (<path>): a | b | c`` or an empty string when there is no log."""
    dest = cfg.log_destination(detached_child_env(env))  # where the child logs
    if dest is None:
        return ""
    try:
        lines = _tail_lines(str(dest))
    except OSError:
        return f"; no readable log at {dest}"
    tail = " | ".join(line.strip() for line in lines if line.strip())
    return f"; last log lines ({dest}): {tail}" if tail else f"; the log {dest} is empty"


def _tail_lines(path: str) -> list[str]:
    """Last lines of a regular file; never blocks (a FIFO configured as the log would)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return []
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - 8192))
        return fh.read().decode("utf-8", "replace").splitlines()[-LOG_TAIL_LINES:]


# ---------------------------------------------------------------------------
# Child role
# ---------------------------------------------------------------------------


class Handoff(namedtuple("Handoff", "lock_fd pipe_fd pidfile lockfile")):
    """The four values the parent passes to the child in the environment: the two
    inherited fds (ints) and the pidfile and lock file paths (strs)."""

    __slots__ = ()


def run_child(config_path: str | None, log_level: str | None, *, env: Mapping[str, str]) -> int:
    """The hidden ``start --detach --spawned-by-client`` role: become the daemon.

    Any startup failure is written to the ready pipe as ``ERROR <code> <msg>``
    and the process exits at once with that code *without* closing the adopted
    lock: the parent still holds its WriteOwner handle and removes the pidfile
    and unlocks after reading the line. Unlocking here could let a third
    process take the name while the parent still cleans it up.
    """
    pipe_fd = _pipe_fd_or_none(env)
    try:
        handoff = read_handoff(env)
    except DaemonError as err:
        if pipe_fd is not None:
            ReadyPipe(pipe_fd).error(err.exit_code, str(err))
        raise
    pipe = ReadyPipe(handoff.pipe_fd)
    scrub_handoff(handoff)
    for name in SERVICE_MANAGER_VARS:  # the parent drops them; a hand-made child must too
        os.environ.pop(name, None)
    try:
        lock, cfg = _adopt_and_configure(handoff, config_path, log_level)
        from sqry.daemon.lifecycle.runner import run_foreground

        return run_foreground(cfg, env=os.environ, lock=lock, ready_pipe=pipe)
    except BaseException as err:
        if pipe.used:
            raise  # the daemon was up; its own shutdown path already cleaned up
        code, message = _failure_of(err)
        pipe.error(code, message)
        _flush_std_streams()
        os._exit(code)


def _adopt_and_configure(handoff: Handoff, config_path, log_level):
    from sqry.daemon.lifecycle.config import load_config
    from sqry.daemon.lifecycle.logfile import redirect_std_streams
    from sqry.daemon.lifecycle.pidfile import PidfileLock

    try:
        lock = PidfileLock.adopt(handoff.lock_fd, Path(handoff.pidfile), Path(handoff.lockfile))
    except DaemonError as err:
        raise DaemonIoError(f"{ENV_LOCK_FD}={handoff.lock_fd}: {err}") from err
    cfg = load_config(config_path, env=os.environ, log_level=log_level)
    paths = cfg.paths(os.environ)
    if str(paths.pid) != handoff.pidfile or str(paths.lock) != handoff.lockfile:
        raise DaemonIoError(
            f"{ENV_PIDFILE_PATH}/{ENV_LOCKFILE_PATH} ({handoff.pidfile}, {handoff.lockfile}) "
            f"do not match the configured pidfile and lock ({paths.pid}, {paths.lock})"
        )
    # only now: a pid written to a path the config does not name would be left
    # behind by a child that stops here (no parent cleans up after a hand-made one)
    lock.write_pid(os.getpid())
    dest = cfg.log_destination(os.environ)
    if dest is not None:
        redirect_std_streams(dest)  # tracebacks and faulthandler output land in the log
    return lock, cfg


def _failure_of(err: BaseException) -> tuple[int, str]:
    if isinstance(err, DaemonError):
        return err.exit_code, str(err)
    import traceback

    traceback.print_exc()  # stderr is the log file by now (or /dev/null)
    return EX_SOFTWARE, f"internal error during daemon startup: {type(err).__name__}: {err}"


def _flush_std_streams() -> None:
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _pipe_fd_or_none(env: Mapping[str, str]) -> int | None:
    """The ready pipe fd if it is usable, so even env errors can be reported on it."""
    try:
        return _fd_var(env, ENV_READY_PIPE_FD, want_fifo=True)
    except DaemonError:
        return None


def read_handoff(env: Mapping[str, str]) -> Handoff:
    """Validate the four hand-off variables; any problem is exit 73 naming the variable.

    That the lock fd really is the lock file is checked by ``PidfileLock.adopt``.
    """
    pipe_fd = _fd_var(env, ENV_READY_PIPE_FD, want_fifo=True)
    lock_fd = _fd_var(env, ENV_LOCK_FD, want_fifo=False)
    pidfile = _path_var(env, ENV_PIDFILE_PATH)
    lockfile = _path_var(env, ENV_LOCKFILE_PATH)
    return Handoff(lock_fd, pipe_fd, pidfile, lockfile)


def scrub_handoff(handoff: Handoff) -> None:
    """Nothing the daemon spawns may inherit the lock, the pipe, or their names."""
    for name in HANDOFF_VARS:
        os.environ.pop(name, None)
    os.set_inheritable(handoff.lock_fd, False)
    os.set_inheritable(handoff.pipe_fd, False)


_MAX_FD = 2**31 - 1


def _fd_var(env: Mapping[str, str], name: str, *, want_fifo: bool) -> int:
    text = env.get(name)
    if text is None:
        raise DaemonIoError(
            f"{name} is not set; the detached daemon must be started by 'sqryd start --detach'"
        )
    # ASCII digits only (str.isdigit also takes '²', which int() refuses) and in C int
    # range: os.fstat overflows on more
    if not (text.isascii() and text.isdigit()) or int(text) > _MAX_FD:
        raise DaemonIoError(f"{name}={text!r} is not a file descriptor number")
    fd = int(text)
    try:
        st = os.fstat(fd)
    except OSError as err:
        raise DaemonIoError(f"{name}={fd} is not an open file descriptor ({err.strerror})") from err
    if want_fifo != stat.S_ISFIFO(st.st_mode) or (not want_fifo and not stat.S_ISREG(st.st_mode)):
        kind = "a pipe" if want_fifo else "a regular file"
        raise DaemonIoError(f"{name}={fd} is not {kind}")
    return fd


def _path_var(env: Mapping[str, str], name: str) -> str:
    text = env.get(name)
    if not text:
        raise DaemonIoError(
            f"{name} is not set; the detached daemon must be started by 'sqryd start --detach'"
        )
    if not os.path.isabs(text):
        raise DaemonIoError(f"{name}={text!r} is not an absolute path")
    return text


# ---------------------------------------------------------------------------
# Auto-start for clients
# ---------------------------------------------------------------------------


def start_detached(cfg: DaemonConfig, *, env: Mapping[str, str] | None = None) -> None:
    """Make sure a daemon answers on ``cfg``'s socket, starting one if needed.

    Concurrent auto-starters serialise on the bootstrap lock; the first starts
    the daemon through ``sqryd start --detach`` in a subprocess (the parent path,
    never the child role, so the daemon is reparented away from a long-lived
    client and never becomes its zombie), the rest find the socket answering.
    Raises a DaemonError when no daemon answers in the end.

    "Already running" (75) is success only while its lock holder lives: one
    that was shutting down (draining its last clients after ``daemon/stop``)
    never answers again, so once the lock is free the start is tried again,
    within the same ready timeout.
    """
    from sqry.daemon.lifecycle.paths import prepare_start
    from sqry.daemon.lifecycle.pidfile import lock_is_free

    env = os.environ if env is None else env
    paths = cfg.paths(env)
    prepare_start(paths)
    timeout = float(cfg.auto_start_ready_timeout_secs)
    with _bootstrap_lock(str(paths.bootstrap_lock), timeout):
        if daemon_answers(paths.socket):
            return
        deadline = time.monotonic() + timeout
        _run_detach_subprocess(cfg, paths, env, timeout)
        while not daemon_answers(paths.socket):
            if time.monotonic() >= deadline:
                raise ReadyTimeout.after(timeout, paths.socket)
            if lock_is_free(paths.lock):  # no daemon, none starting: the holder left
                _run_detach_subprocess(cfg, paths, env, max(deadline - time.monotonic(), 1.0))
            else:
                time.sleep(0.02)


@contextlib.contextmanager
def _bootstrap_lock(path: str, timeout: float):
    """Exclusive flock on the bootstrap lock file (0600, never unlinked), waited
    for up to ``timeout`` (the ready timeout: a wedged auto-starter must not
    hang every other client) and then ReadyTimeout-like 69."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    except OSError as err:
        raise DaemonIoError(f"cannot open bootstrap lock {path}: {err.strerror}") from err
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ReadyTimeout(
                        f"another process has held the bootstrap lock {path} for over "
                        f"{timeout:g}s without a daemon answering; retry, or see which "
                        f"process holds it with 'fuser -v {path}'"
                    ) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)


def _run_detach_subprocess(
    cfg: DaemonConfig, paths, env: Mapping[str, str], timeout: float
) -> None:
    """Run ``sqryd start --detach`` with exactly ``cfg``.

    ``cfg`` may not come from any file (a client pointed at an explicit socket
    edits it), so it travels as a private TOML file, and the SQRY_DAEMON_*
    variables are dropped: they were merged into ``cfg`` already and would
    otherwise override the file (environment beats file).
    """
    from sqry.daemon.lifecycle.config import to_toml

    try:
        text = to_toml(cfg)  # first: a failure must leave no file behind
    except ConfigError as err:
        raise ConfigError(
            f"cannot auto-start the daemon for socket {paths.socket}: {err}; start it with "
            "'sqryd start --detach' instead, which reads these settings itself"
        ) from err
    cfg_file = f"{paths.bootstrap_lock}.{os.getpid()}.toml"
    argv = [sys.executable, "-P", "-m", "sqry.daemon.lifecycle.cli", "start", "--detach"]
    try:
        fd = os.open(
            cfg_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
        )
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        proc = subprocess.run(
            [*argv, "--config", cfg_file],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={k: v for k, v in env.items() if not k.startswith(CONFIG_ENV_PREFIX)},
            timeout=timeout + 30,
        )
    except subprocess.TimeoutExpired as err:
        raise ReadyTimeout.after(timeout, paths.socket) from err
    except OSError as err:
        raise DaemonIoError(
            f"cannot write the daemon's settings to {cfg_file}: {err.strerror or err}"
        ) from err
    finally:
        with contextlib.suppress(OSError):
            os.unlink(cfg_file)
    if proc.returncode in (0, EX_TEMPFAIL):
        return
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    message = (
        lines[-1].removeprefix("sqryd: ")
        if lines
        else f"sqryd start --detach exited {proc.returncode}"
    )
    raise ChildFailed(message, proc.returncode if proc.returncode > 0 else EX_UNAVAILABLE)


def daemon_answers(socket_path) -> bool:
    """True when something completes a hello on the socket (even an incompatible daemon).

    A path too long for a Unix socket raises ConfigError (78): nothing can
    listen there, and calling that "not running" would invite a doomed start.
    """
    from sqry.client import DaemonClient
    from sqry.client.errors import ClientError, SocketPathTooLong
    from sqry.client.errors import NotRunning as ClientNotRunning

    try:
        client = DaemonClient.connect(socket_path=socket_path, auto_start=False)
    except ClientNotRunning:
        return False
    except SocketPathTooLong as err:  # nothing can listen there: a config error, not "up"
        from sqry.daemon.lifecycle.errors import ConfigError

        raise ConfigError(str(err)) from err
    except ClientError:  # timeouts, version mismatch: a daemon is there, just not usable
        return True
    client.close()
    return True
