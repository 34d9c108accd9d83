"""The foreground daemon: startup, serving, and graceful shutdown (lifecycle §5).

Startup runs in the spec's order so every failure maps to one exit code:
config (78, done by the caller) → logging (warning only) → runtime dir + lock
(75/77) → components + signal handlers (70) → preload pinned workspaces (logged,
never fatal) → bind the socket (78 for a non-socket file, 70 for an unusable
directory) → signal ready (systemd, ready marker, ready pipe) → accept. One
deviation: the socket path length (78) and the runtime dir (77) are checked
*before* logging (``paths.prepare_start``, shared by every start path), because
the default log file lives in the runtime dir and nothing may be created before
those checks pass. ``faulthandler`` is enabled once logging is set up, so a hard
crash dumps its traceback to fd 2: the log file after a detached start.

Shutdown (§5 order): stop accepting, ``STOPPING=1``, cancel background work,
drain connections (``IpcServer.shutdown``), unlink the socket *while still
holding the lock* (only if it is still the file we bound), remove the ready
marker, and release the lock last (closing the lock handle removes the pidfile
first). Whoever holds the lock may clean up the name; nobody else.

Testing knobs (environment, read once at startup; not for production use):

- ``SQRYD_SELF_CHECK_SECS``: period of the self-check (default 5 s).
- ``SQRYD_IDLE_SHUTDOWN_SECS``: idle-shutdown threshold in seconds; overrides
  ``idle_shutdown_minutes`` so tests need not wait minutes. ``0`` disables.
- ``SQRYD_TEST_STARTUP_DELAY_SECS``: stall startup this long before binding the
  socket, standing in for a slow preload, so tests can exercise the ready
  timeout and a child dying before it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqry import __version__
from sqry.daemon.lifecycle.errors import (
    EX_OK,
    ConfigError,
    DaemonError,
    SignalSetupError,
    SocketSetupError,
)

if TYPE_CHECKING:
    from sqry.daemon.lifecycle.config import DaemonConfig
    from sqry.daemon.lifecycle.detach import ReadyPipe
    from sqry.daemon.lifecycle.notify import Notifier
    from sqry.daemon.lifecycle.paths import RuntimePaths
    from sqry.daemon.lifecycle.pidfile import PidfileLock

log = logging.getLogger(__name__)

SELF_CHECK_ENV = "SQRYD_SELF_CHECK_SECS"
IDLE_SECS_ENV = "SQRYD_IDLE_SHUTDOWN_SECS"
STARTUP_DELAY_ENV = "SQRYD_TEST_STARTUP_DELAY_SECS"
DEFAULT_SELF_CHECK_SECS = 5.0
LISTEN_BACKLOG = 128
SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def run_foreground(
    cfg: DaemonConfig,
    *,
    env: Mapping[str, str],
    lock: PidfileLock | None = None,
    ready_pipe: ReadyPipe | None = None,
) -> int:
    """Run the daemon until it is asked to stop; return the exit code (0).

    ``lock`` is given in the detached child, which adopted the lock its parent
    took; otherwise this acquires it. Startup failures raise a DaemonError. When
    the lock was adopted and the daemon never became ready, the lock is left
    alone: the parent still holds its WriteOwner handle and cleans up after
    reading the child's ERROR line (unlocking here would free the shared lock
    while the parent still believes it owns the name).
    """
    from sqry.daemon.lifecycle.detach import acquire_or_name_the_daemon
    from sqry.daemon.lifecycle.logfile import setup_logging
    from sqry.daemon.lifecycle.paths import prepare_start

    knobs = Knobs.from_env(cfg, env)
    paths = cfg.paths(env)
    # Socket path length (78) and the runtime dir (77) are checked before anything
    # is created: the default log file lives in the runtime dir, so this comes a
    # step earlier than §5 lists it.
    prepare_start(paths)
    setup_logging(cfg, detached=ready_pipe is not None, env=env)  # warns, never raises
    owns_cleanup = lock is None
    if lock is None:  # a loser names the daemon, not a launcher mid hand-off
        lock = acquire_or_name_the_daemon(paths, float(cfg.auto_start_ready_timeout_secs))
    _enable_faulthandler()  # only the lock holder writes to the daemon's log from here
    log.info("sqryd %s starting (pid %d, socket %s)", __version__, os.getpid(), paths.socket)
    daemon = Daemon(cfg, paths, env, knobs, ready_pipe)
    try:
        from sqry.daemon.ipc.busypoll import new_event_loop

        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            code = runner.run(daemon.run())
    except BaseException as err:
        _log_startup_failure(err)
        if owns_cleanup or daemon.became_ready:
            lock.close()
        raise
    lock.close()
    log.info("sqryd stopped")
    return code


@dataclass(frozen=True)
class Knobs:
    """Timings read once at startup (config plus the documented test knobs)."""

    drain_secs: float
    self_check_secs: float
    idle_secs: float
    startup_delay_secs: float = 0.0

    @classmethod
    def from_env(cls, cfg: DaemonConfig, env: Mapping[str, str]) -> Knobs:
        idle = float(cfg.idle_shutdown_minutes) * 60.0
        if env.get(IDLE_SECS_ENV):
            idle = _env_seconds(env, IDLE_SECS_ENV, allow_zero=True)
        check = DEFAULT_SELF_CHECK_SECS
        if env.get(SELF_CHECK_ENV):
            check = _env_seconds(env, SELF_CHECK_ENV, allow_zero=False)
        delay = 0.0
        if env.get(STARTUP_DELAY_ENV):
            delay = _env_seconds(env, STARTUP_DELAY_ENV, allow_zero=True)
        return cls(float(cfg.ipc_shutdown_drain_secs), check, idle, delay)


def _env_seconds(env: Mapping[str, str], name: str, *, allow_zero: bool) -> float:
    """Parse a seconds knob; a bad value is a config error naming the variable."""
    from sqry.daemon.lifecycle.config import parse_decimal

    text = env[name]
    value = parse_decimal(text)
    if value is None or (value == 0 and not allow_zero) or value > 86400 * 365:
        expected = "from 0" if allow_zero else "more than 0"
        raise ConfigError(
            f"{name}={text!r} is not a number of seconds (expected {expected} up to "
            f"{86400 * 365}, e.g. 0.5)"
        )
    return value


def _enable_faulthandler() -> None:
    """Dump the Python traceback of a hard crash (SIGSEGV, SIGABRT, ...) to fd 2.

    After a detached start fd 2 is the log file, and rotation keeps it there
    (``logfile`` re-points fds 1/2 at the fresh file), so the dump lands in the
    current log; in the foreground it goes to the terminal or the journal.
    """
    import faulthandler

    try:
        faulthandler.enable(file=sys.stderr, all_threads=True)
    except (OSError, ValueError, RuntimeError) as err:  # e.g. stderr closed
        log.warning("cannot enable faulthandler: %s", err)
        return
    log.info("faulthandler enabled: a hard crash dumps its traceback to fd 2")


def _log_startup_failure(err: BaseException) -> None:
    if isinstance(err, DaemonError):
        log.error("startup failed: %s", err)
    elif not isinstance(err, KeyboardInterrupt | SystemExit):
        log.exception("daemon crashed")


@dataclass
class Daemon:
    """One daemon run inside one event loop: its components and background tasks."""

    cfg: DaemonConfig
    paths: RuntimePaths
    env: Mapping[str, str]
    knobs: Knobs
    ready_pipe: ReadyPipe | None
    became_ready: bool = False
    _stop: asyncio.Event | None = None
    _stop_reason: str = ""
    _bound: tuple[int, int] | None = None
    _ready_marker: tuple[int, int] | None = None
    _stale_marker: str | None = None  # a previous daemon's marker, renamed until ours exists
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def run(self) -> int:
        """Steps 4–7 of startup, serve until asked to stop, then shut down."""
        from sqry.daemon.lifecycle.notify import Notifier

        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._stale_marker = _set_aside_stale_ready_marker(self.paths.ready)
        try:
            notifier = Notifier(self.env)
            notifier.status("starting")
            ctx, server = self._build_components()
            self._install_signal_handlers(loop)
            loop.set_exception_handler(_LoopErrorLog().handle)
            _raise_open_files_limit()
            await self._preload_pinned_workspaces()
            if self._stop.is_set():  # a signal during startup: never bind, never say ready
                log.info("not starting to serve: %s during startup", self._stop_reason)
                return EX_OK
            listener = self._bind()
            self._signal_ready(notifier)
            try:
                await server.serve(listener)  # returns once accepting; the server owns it now
            except BaseException:
                listener.close()
                raise
            self._start_background(notifier, ctx)
            await self._stop.wait()
            await self._shutdown(notifier, server)
        finally:
            self._remove_name()  # also drops the set-aside marker on every early exit
        return EX_OK

    # -- startup -----------------------------------------------------------

    def _build_components(self):
        """Step 4: the IPC context, method registry and server."""
        from sqry.daemon.ipc.context import ServerContext
        from sqry.daemon.ipc.methods import register_management_methods
        from sqry.daemon.ipc.registry import MethodRegistry
        from sqry.daemon.ipc.server import IpcServer

        ctx = ServerContext(
            config=self.cfg,
            socket_path=self.paths.socket,
            pid=os.getpid(),
            daemon_version=__version__,
            started_monotonic=time.monotonic(),
            request_shutdown=self.request_shutdown,
        )
        registry = MethodRegistry()
        register_management_methods(registry)
        return ctx, IpcServer(ctx, registry)

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        """SIGTERM/SIGINT/SIGHUP all mean "shut down gracefully" (no hot reload)."""
        try:
            for sig in SHUTDOWN_SIGNALS:
                loop.add_signal_handler(sig, self._on_signal, sig)
        except (OSError, RuntimeError, ValueError) as err:
            raise SignalSetupError(f"cannot install signal handlers: {err}") from err

    def _on_signal(self, sig: signal.Signals) -> None:
        """First signal: graceful shutdown. Later ones (or one after daemon/stop): ignored."""
        name = signal.Signals(sig).name
        if self._stop is not None and self._stop.is_set():
            log.warning("received %s while already shutting down; ignored", name)
            return
        self.request_shutdown(f"received {name}")

    async def _preload_pinned_workspaces(self) -> None:
        """Step 5: nothing to load until the graph engine serves workspaces."""
        if self.knobs.startup_delay_secs:
            log.info("testing knob: stalling startup %gs", self.knobs.startup_delay_secs)
            with contextlib.suppress(TimeoutError):  # a stop request ends the stall
                await asyncio.wait_for(self._stop.wait(), self.knobs.startup_delay_secs)
        roots = self.cfg.preload_roots()
        if roots:
            log.info("pinned workspaces not preloaded (no graph engine yet): %s", ", ".join(roots))

    def _bind(self) -> socket.socket:
        """Step 6: bind and listen; remember the inode so we only ever unlink our own."""
        listener, self._bound = bind_listen_socket(str(self.paths.socket))
        log.info("listening on %s", self.paths.socket)
        return listener

    def _signal_ready(self, notifier: Notifier) -> None:
        """Step 7: the socket already accepts (listen backlog); now say so."""
        pid = os.getpid()
        notifier.ready(pid, status=f"ready; serving on {self.paths.socket}")
        self._ready_marker = _touch(str(self.paths.ready))
        _discard(self._stale_marker)
        if self.ready_pipe is not None:
            self.ready_pipe.ready(pid)
        self.became_ready = True
        log.info("ready (pid %d)", pid)

    def _start_background(self, notifier: Notifier, ctx) -> None:
        interval = notifier.watchdog_interval_secs()
        if interval:
            self._tasks.append(asyncio.create_task(_watchdog(notifier, interval)))
        self._tasks.append(asyncio.create_task(self._self_check_loop()))
        if self.knobs.idle_secs > 0:
            log.info("idle shutdown after %gs without clients", self.knobs.idle_secs)
            self._tasks.append(asyncio.create_task(self._idle_loop(ctx)))

    # -- running -----------------------------------------------------------

    def request_shutdown(self, reason: str = "daemon/stop request") -> None:
        """Start a graceful shutdown; callable from handlers, signals and checks."""
        if self._stop is None or self._stop.is_set():
            return
        self._stop_reason = reason
        log.info("shutting down: %s", reason)
        self._stop.set()

    async def _self_check_loop(self) -> None:
        """Shut down when our name was taken away (beyond): see :func:`self_check`."""
        runs = 0
        while True:
            await asyncio.sleep(self.knobs.self_check_secs)
            problem = self_check(self.paths, os.getpid(), self._bound)
            runs += 1
            if problem:
                log.warning("self-check failed: %s", problem)
                self.request_shutdown(f"self-check: {problem}")
                return
            log.debug("self-check #%d passed", runs)

    async def _idle_loop(self, ctx) -> None:
        """Shut down after ``idle_secs`` without a connection or any activity."""
        idle = self.knobs.idle_secs
        tick = max(0.05, min(idle / 4, 5.0))
        while True:
            await asyncio.sleep(tick)
            quiet_for = ctx.idle_seconds()  # 0 while any connection is open
            log.debug("idle check: quiet for %.2fs (limit %gs)", quiet_for, idle)
            if quiet_for >= idle:
                self.request_shutdown(f"idle for {quiet_for:.0f}s (limit {idle:g}s)")
                return

    # -- shutdown ----------------------------------------------------------

    async def _shutdown(self, notifier: Notifier, server) -> None:
        """§5 order: stop accepting, STOPPING=1, cancel background work, drain.

        ``IpcServer.shutdown`` is one call for the first and the last step (stop
        accepting, then drain). Started eagerly, it runs synchronously up to its
        first wait: the listener is closed (new clients are refused) and idle
        connections are closed before STOPPING=1 goes out; the drain then
        proceeds while background work is cancelled, and is awaited last.
        """
        from sqry.daemon.ipc.eager import start_eagerly

        drain = start_eagerly(server.shutdown(self.knobs.drain_secs))
        log.info("stopped accepting; draining connections (up to %gs)", self.knobs.drain_secs)
        notifier.stopping()
        notifier.status(f"stopping: {self._stop_reason}")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if drain is not None:
            await drain
        _ignore_shutdown_signals(asyncio.get_running_loop())

    def _remove_name(self) -> None:
        """Unlink our socket and ready marker, each only if it is still the file we made.

        After a self-check failure the names may belong to a newer daemon (its
        runtime dir recreated under ours); removing its files would take it down too.
        """
        _unlink_if_same(self.paths.socket, self._bound)
        _unlink_if_same(self.paths.ready, self._ready_marker)
        _discard(self._stale_marker)


def _set_aside_stale_ready_marker(path) -> str | None:
    """Rename a ready marker found at startup out of the way; return its new name.

    It is a killed daemon's (or a displaced one's), and must not claim that we are
    ready while we start. It is renamed rather than removed, and removed only once
    our own marker exists (:func:`_discard`): while it exists, ours cannot get its
    inode number, and a displaced daemon still running identifies its marker by
    inode when it cleans up (:func:`_unlink_if_same`).
    """
    aside = f"{path}.{os.getpid()}.stale"
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        os.rename(path, aside)
    except OSError:
        return None  # none there (the usual case), or not a file we may move
    log.info("set aside the ready marker %s a previous daemon left", path)
    return aside


def _discard(path: str | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _ignore_shutdown_signals(loop: asyncio.AbstractEventLoop) -> None:
    """Keep ignoring SIGTERM/SIGINT/SIGHUP for the rest of the process's life.

    Closing the event loop resets its signal handlers to the defaults, so a
    second SIGTERM during the final cleanup (socket, pidfile, lock) would kill
    the process with status -15 instead of letting it exit 0. The main thread
    blocks the signals while the loop's handler is swapped for SIG_IGN, so no
    signal meets the default disposition in between (a pending one is then
    discarded by SIG_IGN).
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, SHUTDOWN_SIGNALS)
    try:
        for sig in SHUTDOWN_SIGNALS:
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SHUTDOWN_SIGNALS)


def self_check(paths: RuntimePaths, pid: int, bound: tuple[int, int] | None) -> str | None:
    """Why this daemon no longer owns its name, or None when all is well.

    The runtime dir vanishing (tmp cleaners, ``systemctl --user`` restarts),
    the pidfile naming another process, or our socket being replaced all mean
    clients can no longer reach us through the name; holding on would only make
    the next auto-start fail.
    """
    from sqry.daemon.lifecycle.pidfile import read_pid

    if not os.path.isdir(paths.runtime_dir):
        return f"runtime dir {paths.runtime_dir} is gone"
    try:
        owner = read_pid(paths.pid, raise_errors=True)
    except FileNotFoundError:
        return f"pidfile {paths.pid} was removed"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return f"pidfile {paths.pid} was replaced by a symbolic link"
        # out of file descriptors, memory, ...: nothing says the name is not ours
        log.warning("self-check: cannot read pidfile %s (%s); checking again later", paths.pid, err)
        return None
    if owner is None:
        return f"pidfile {paths.pid} no longer holds a pid"
    if owner != pid:
        return f"pidfile {paths.pid} names pid {owner} instead of ours ({pid})"
    if bound is not None:
        try:
            st = os.lstat(paths.socket)
        except FileNotFoundError:
            return f"socket {paths.socket} was removed"
        if (st.st_dev, st.st_ino) != bound:
            return f"socket {paths.socket} was replaced by another file"
    return None


_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_RESOURCE_WARNING_EVERY_SECS = 60.0


class _LoopErrorLog:
    """The event loop's exception handler: errors as JSON log lines, not stderr text.

    asyncio reports what it catches itself (a failed ``accept``, a callback that
    raised) through its own logger; without this those reports bypass the daemon's
    JSON-lines log and land as raw tracebacks. Running out of file descriptors is
    expected under a connection flood: asyncio then pauses accepting for a second
    and retries, so it gets one warning a minute saying what to do, not a traceback
    a second.
    """

    def __init__(self) -> None:
        self._last_resource_warning = -_RESOURCE_WARNING_EVERY_SECS

    def handle(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        message = context.get("message", "unexpected error in the event loop")
        if isinstance(exc, OSError) and exc.errno in _RESOURCE_ERRNOS:
            now = time.monotonic()
            if now - self._last_resource_warning >= _RESOURCE_WARNING_EVERY_SECS:
                self._last_resource_warning = now
                log.warning(
                    "%s (%s): new clients wait until some connections close; "
                    "raise the open-files limit (LimitNOFILE=, ulimit -n) if this is normal load",
                    message,
                    exc.strerror or exc,
                )
            return
        log.error("event loop: %s", message, exc_info=exc)


def _raise_open_files_limit() -> None:
    """Lift the soft open-files limit to the hard one: every client holds a descriptor.

    The usual soft limit (1024) is low for a daemon any number of editors and agents
    connect to; the hard limit is what the administrator allows. The event loop uses
    epoll, so descriptors above 1024 are fine.
    """
    import resource

    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        # "unlimited" is not a valid soft value for this limit: take a generous one
        target = max(soft, 65536) if hard == resource.RLIM_INFINITY else hard
        if soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (OSError, ValueError) as err:
        log.warning("cannot raise the open-files limit: %s", err)


def bind_listen_socket(path: str) -> tuple[socket.socket, tuple[int, int]]:
    """Bind a 0600 Unix socket at ``path`` and listen; the caller holds the lock.

    Holding the singleton lock proves no live daemon owns a socket found at the
    path, so a socket there is stale and is unlinked. Anything else is a user's
    file: refuse and leave it untouched. Returns the socket and the (st_dev,
    st_ino) of the file bound, taken before listen() so no client (or anyone
    reacting to one) can have replaced it yet.
    """
    _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # no window in which the socket is group/world accessible
    try:
        sock.bind(path)
        os.chmod(path, 0o600)
        bound = os.lstat(path)
        sock.listen(LISTEN_BACKLOG)
    except OSError as err:
        sock.close()
        directory = os.path.dirname(path) or "."
        raise SocketSetupError(
            f"cannot listen on socket {path}: {err.strerror or err}; make sure {directory} "
            "exists and is writable by you, or set SQRY_DAEMON_SOCKET to a path in such a directory"
        ) from err
    finally:
        os.umask(old_umask)
    sock.setblocking(False)
    return sock, (bound.st_dev, bound.st_ino)


def _remove_stale_socket(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise SocketSetupError(f"cannot inspect socket path {path}: {err.strerror}") from err
    if not stat.S_ISSOCK(st.st_mode):
        raise ConfigError(
            f"{path} exists and is not a socket; refusing to replace it: "
            "move it away or set SQRY_DAEMON_SOCKET to another path"
        )
    listener = _live_listener(path)
    if listener is not None:
        raise ConfigError(
            f"another program{listener} is listening on socket {path}; refusing to take it "
            "over: stop that program (an older sqryd whose lock file was removed counts too), "
            "or set SQRY_DAEMON_SOCKET to another path"
        )
    log.info("removing stale socket %s", path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise SocketSetupError(f"cannot remove stale socket {path}: {err.strerror}") from err


def _live_listener(path: str) -> str | None:
    """None when the socket at ``path`` is stale (connect refused); else who listens.

    Holding the lock proves no *sqryd that holds this lock* listens there, but
    not that nobody does: a daemon whose lock file was deleted, or any other
    program, may. Unlinking its socket would silently cut it off from its
    clients. The probe is a non-blocking connect: ECONNREFUSED means stale;
    success or a full backlog (EAGAIN) means live; any other error (e.g.
    EACCES on someone else's socket) is treated as live, since only a file we
    can prove dead may be removed. Returns ``" (pid N)"`` when the kernel tells
    the listener's pid (SO_PEERCRED), else ``""``.
    """
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.setblocking(False)
        probe.connect(path)
    except ConnectionRefusedError:
        return None
    except FileNotFoundError:
        return None  # gone meanwhile: nothing to remove
    except OSError:
        return ""
    else:
        return _peer_pid_text(probe)
    finally:
        probe.close()


def _peer_pid_text(sock: socket.socket) -> str:
    """``" (pid N)"`` for a connected Unix socket's peer on Linux, else ``""``."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return ""
    try:
        pid = int.from_bytes(sock.getsockopt(socket.SOL_SOCKET, option, 12)[:4], sys.byteorder)
    except OSError:
        return ""
    return f" (pid {pid})" if pid > 0 else ""


def _touch(path: str) -> tuple[int, int] | None:
    """Create a fresh ready marker; return its identity, or None (logged) when that fails.

    Always a new inode (temp file + rename), never the existing file reopened:
    the identity is what lets shutdown remove only *our* marker. Truncating a
    marker left by a displaced daemon would give both daemons the same inode,
    and the displaced one would delete ours when its self-check made it leave.
    A failure is not fatal: readiness is also visible on the socket.
    """
    tmp = f"{path}.{os.getpid()}.tmp"
    with contextlib.suppress(OSError):  # left by a crashed daemon that had our pid
        os.unlink(tmp)
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
        )
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as err:
        log.warning("cannot create ready marker %s: %s", path, err.strerror)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return None
    return (st.st_dev, st.st_ino)


def _unlink_if_same(path, identity: tuple[int, int] | None) -> None:
    """Unlink ``path`` only if it is still the file whose (st_dev, st_ino) we recorded."""
    if identity is None:
        return
    with contextlib.suppress(OSError):
        st = os.lstat(path)
        if (st.st_dev, st.st_ino) == identity:
            os.unlink(path)


async def _watchdog(notifier: Notifier, interval: float) -> None:
    """Keep systemd's watchdog fed while the event loop is healthy."""
    while True:
        notifier.watchdog()
        await asyncio.sleep(interval)
