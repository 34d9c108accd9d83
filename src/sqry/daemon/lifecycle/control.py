"""``stop`` and ``status`` (lifecycle §6), shared by ``sqryd`` and ``sqry daemon``.

Both find the daemon through its socket, never through the pidfile alone: a
pidfile can outlive its daemon and name a pid the kernel has since given to an
unrelated process. ``stop --force`` signals a pid only after proving, through
``/proc/<pid>/fd``, that it holds the singleton lock, and signals through a
pidfd where the kernel has one so the proof cannot go stale between the check
and the kill.

This module is on the hot path of ``sqryd status``: socket/json via the client
library only, nothing heavy at import time.
"""

from __future__ import annotations

import json
import os
import stat
import time

from sqry.daemon.lifecycle.errors import (
    ConfigError,
    DaemonIoError,
    DaemonNotAnswering,
    NotRunning,
    RuntimeDirUnsafe,
    StopTimeout,
)

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~5 ms per call
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from sqry.daemon.lifecycle.config import DaemonConfig
    from sqry.daemon.lifecycle.paths import RuntimePaths

STOP_POLL_SECS = 0.1
FORCE_TERM_GRACE_SECS = 5.0
FORCE_KILL_GRACE_SECS = 5.0


# ---------------------------------------------------------------------------
# status
# ---------------------------------------------------------------------------


def daemon_status(cfg: DaemonConfig, *, env: Mapping[str, str]) -> dict[str, Any]:
    """Ask the daemon for ``daemon/status``; NotRunning (73) when nothing answers.

    When nothing answers but the lock is held, the daemon is between "took the
    lock" and "serves" (starting or stopping, or wedged): DaemonNotAnswering (75,
    retry later) says so instead of a false "not running". Never takes the lock
    (lifecycle §6) and touches no file: the lock is looked up in ``/proc/locks``;
    where that cannot be read, "not running" is all it says.
    """
    socket_path = cfg.socket_file(env)
    try:
        return _unwrap(_call(socket_path, "daemon/status"))
    except NotRunning:
        _raise_if_lock_held(cfg, env)
        raise


def _raise_if_lock_held(cfg: DaemonConfig, env: Mapping[str, str]) -> None:
    """DaemonNotAnswering when some process holds the lock (the socket refused us).

    Import-light unless the lock is held: the path is derived without pathlib,
    and the pidfile module (pathlib, logging) is loaded only to name the holder.
    """
    from sqry.daemon.lifecycle.lockprobe import flock_held
    from sqry.daemon.lifecycle.paths import _family_names

    directory, stem, socket_path = _family_names(cfg.socket_path, env)
    lock = os.path.join(directory, stem + ".lock")
    held = flock_held(lock)
    if held is None and not _regular_or_missing(lock):
        from sqry.daemon.lifecycle.pidfile import lock_is_free

        # a symlink or a directory: raises the error every command gives (with
        # the fix), before any flock could be taken
        lock_is_free(cfg.paths(env).lock)
    if not held:
        return
    from sqry.daemon.lifecycle.pidfile import read_pid

    paths = cfg.paths(env)
    raise DaemonNotAnswering(read_pid(paths.pid), socket_path, paths.lock)


def _regular_or_missing(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def status_json(result: Mapping[str, Any]) -> str:
    """``status --json``: the result object, stable key order for diffs and scripts."""
    return json.dumps(result, indent=2, sort_keys=True)


def format_status(result: Mapping[str, Any]) -> str:
    """Human ``status``: a small header block, then one row per workspace.

    Missing fields print as ``?`` (an older daemon may not send them); a field
    of the wrong type is a protocol error (DaemonIoError, 73), checked up front
    so rendering cannot fail halfway with a traceback.
    """
    check_status(result)
    memory = result.get("memory") or {}
    lines = [
        f"sqryd {result.get('daemon_version', '?')} is running",
        f"  pid:     {result.get('pid', '?')}",
        f"  uptime:  {_duration(result.get('uptime_seconds'))}",
        f"  socket:  {result.get('socket', '?')}",
        f"  memory:  {_mib(memory.get('current_bytes'))} used / "
        f"{_mib(memory.get('limit_bytes'))} limit",
    ]
    workspaces = result.get("workspaces") or []
    if not workspaces:
        lines.append("  workspaces: none loaded")
        return "\n".join(lines)
    lines.append("  workspaces:")
    width = max(len(str(w.get("state", "?"))) for w in workspaces)
    for ws in workspaces:
        pinned = "  (pinned)" if ws.get("pinned") else ""
        state = str(ws.get("state", "?"))
        lines.append(f"    {state:<{width}}  {ws.get('index_root', '?')}{pinned}")
    return "\n".join(lines)


_MAX_COUNT = 2**63 - 1
"""Largest byte count or second count accepted (the daemon sends u64-ish values)."""
_TOP_FIELDS = {
    "daemon_version": "a string",
    "pid": "a pid",
    "uptime_seconds": "a count",
    "socket": "a string",
    "memory": "an object",
    "workspaces": "an array",
}
_MEMORY_FIELDS = {"current_bytes": "a count", "limit_bytes": "a count"}
_WORKSPACE_FIELDS = {"index_root": "a string", "state": "a string", "pinned": "a boolean"}


def check_status(result: Mapping[str, Any]) -> None:
    """Raise DaemonIoError (73) naming the first status field :func:`format_status` cannot show."""
    _check_fields(result, _TOP_FIELDS, "")
    _check_fields(result.get("memory") or {}, _MEMORY_FIELDS, "memory.")
    for index, ws in enumerate(result.get("workspaces") or []):
        key = f"workspaces[{index}]"
        if not isinstance(ws, dict):
            raise _malformed(key, ws, "an object")
        _check_fields(ws, _WORKSPACE_FIELDS, key + ".")


def _check_fields(table: Mapping[str, Any], fields: Mapping[str, str], prefix: str) -> None:
    for name, kind in fields.items():
        value = table.get(name)
        if value is not None and not _is_kind(value, kind):
            raise _malformed(prefix + name, value, kind)


def _is_kind(value: Any, kind: str) -> bool:
    """JSON type checks; counts must be finite, non-negative, and fit 63 bits."""
    if kind == "a string":
        return isinstance(value, str)
    if kind == "a boolean":
        return isinstance(value, bool)
    if kind == "an object":
        return isinstance(value, dict)
    if kind == "an array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if kind == "a pid":
        return isinstance(value, int) and value > 0
    return 0 <= value <= _MAX_COUNT  # also False for NaN


def _malformed(key: str, value: Any, kind: str) -> DaemonIoError:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return DaemonIoError(
        f"malformed daemon/status reply: {key} is {shown}, expected {kind}; is another "
        "program or a different sqryd version on the socket? ('status --json' shows the "
        "raw reply)"
    )


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _mib(value: Any) -> str:
    if not isinstance(value, int | float):
        return "?"
    return f"{value / (1024 * 1024):.1f} MiB"


# ---------------------------------------------------------------------------
# stop
# ---------------------------------------------------------------------------


def stop_daemon(
    cfg: DaemonConfig,
    *,
    timeout_secs: float,
    force: bool,
    env: Mapping[str, str],
    prog: str = "sqryd",
) -> None:
    """Send ``daemon/stop`` and wait until the socket refuses and the lock is free.

    NotRunning (73) only when, at the first look, nothing answers and nobody
    holds the lock. A lock holder that does not answer yet (still starting,
    already draining, or wedged) is waited for; whenever its socket answers
    before a ``daemon/stop`` was acknowledged, the request is (re)sent, so a
    daemon that was still starting when ``stop`` began is stopped as soon as
    it serves. At the deadline: StopTimeout (69), or with ``force`` signals to
    the proven lock owner, saying so on stderr as ``<prog>: ...`` lines.
    """
    paths = cfg.paths(env)
    deadline = time.monotonic() + timeout_secs
    unheard = _send_stop(paths.socket, timeout_secs)
    if unheard == _NOT_ACCEPTING and _nobody_holds(paths.lock):
        raise NotRunning(paths.socket)
    unheard = _resend_until_stopped(paths, deadline, unheard)
    if unheard is _STOPPED:
        return
    if force:
        _force_stop(paths, timeout_secs, prog)
        return
    if _nobody_holds(paths.lock):  # something listens there, but no sqryd of this socket
        raise StopTimeout(
            f"{StopTimeout.after(timeout_secs)}{unheard or ''}: no process holds the lock "
            f"{paths.lock}, so what accepts on {paths.socket} is not this socket's sqryd; "
            "stop that program, or remove the socket file if nothing should listen there"
        )
    hint = "; 'stop --force' signals the process holding the lock"
    raise StopTimeout(f"{StopTimeout.after(timeout_secs)}{unheard or ''}{hint}")


_NOT_ACCEPTING = " (it holds the lock but does not accept connections)"


def _nobody_holds(lockfile) -> bool:  # noqa: ANN001
    """The first look of ``stop``: the flock probe lifecycle §6 describes (the later
    polls use it too). Not ``/proc/locks``: it can miss a held lock (see
    :mod:`~sqry.daemon.lifecycle.lockprobe`), and ``stop`` must not call a daemon
    that is still shutting down "not running"."""
    from sqry.daemon.lifecycle.pidfile import lock_is_free

    return lock_is_free(lockfile)


def _send_stop(socket_path, wait_secs: float) -> str | None:
    """Send ``daemon/stop`` once; None when acknowledged, else why it was not heard.

    The reason is worded for the timeout message (``_NOT_ACCEPTING`` when the
    socket refused the connection).
    """
    try:
        _call(socket_path, "daemon/stop", timeout=wait_secs, wait_secs=wait_secs)
    except NotRunning:
        return _NOT_ACCEPTING
    except DaemonIoError as err:
        return f" (it did not answer: {err})"
    return None


_STOPPED = "stopped"


def _resend_until_stopped(paths: RuntimePaths, deadline: float, unheard: str | None) -> str | None:
    """Poll until stopped (return ``_STOPPED``) or the deadline (return why it was not heard).

    ``unheard`` is None once a ``daemon/stop`` was acknowledged; until then,
    every poll that finds the socket accepting sends it again (the daemon was
    starting, or dropped the connection before answering).
    """
    while not is_stopped(paths):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return unheard
        if unheard is not None and socket_accepts(paths.socket):
            unheard = _send_stop(paths.socket, remaining)
        time.sleep(max(min(STOP_POLL_SECS, deadline - time.monotonic()), 0.0))
    return _STOPPED


def _wait_stopped(paths: RuntimePaths, deadline: float) -> bool:
    """Poll every 100 ms until stopped (socket refuses AND lock free) or the deadline."""
    while True:
        if is_stopped(paths):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(STOP_POLL_SECS)


def is_stopped(paths: RuntimePaths) -> bool:
    """Both halves of "stopped": nobody accepts on the socket and nobody holds the lock."""
    from sqry.daemon.lifecycle.pidfile import lock_is_free

    return not socket_accepts(paths.socket) and lock_is_free(paths.lock)


def socket_accepts(socket_path) -> bool:
    """True when a connect() to the socket succeeds (no handshake: cheap and read-only)."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(1.0)
        sock.connect(os.fspath(socket_path))
    except OSError:  # missing path, refused, timeout: nobody accepts
        return False
    finally:
        sock.close()
    return True


def _force_stop(paths: RuntimePaths, timeout_secs: float, prog: str) -> None:
    """SIGTERM, then SIGKILL, the pidfile's pid — only while it provably holds the lock."""
    import signal

    from sqry.cli.stdio import write_stderr
    from sqry.daemon.lifecycle.pidfile import read_pid

    pid = read_pid(paths.pid)
    waited = f"did not stop within {timeout_secs:g}s"
    elsewhere = None if pid is None else _socket_served_instead(pid, os.fspath(paths.socket))
    if elsewhere is not None and not is_stopped(paths):
        raise StopTimeout(
            f"daemon {waited} and was not signalled: pid {pid}, which holds the lock "
            f"{paths.lock}, serves the socket {elsewhere}, not {paths.socket} (both "
            f"sockets' files are named after one stem); stop it with "
            f"'SQRY_DAEMON_SOCKET={elsewhere} {prog} stop', and give each socket its own stem"
        )
    for sig, grace in (
        (signal.SIGTERM, FORCE_TERM_GRACE_SECS),
        (signal.SIGKILL, FORCE_KILL_GRACE_SECS),
    ):
        if is_stopped(paths):
            return
        if pid is None or not _signal_if_lock_owner(pid, paths.lock, sig):
            raise StopTimeout(
                f"daemon {waited} and was not signalled: "
                f"pid {pid if pid is not None else '?'} from {paths.pid} does not hold the lock "
                f"{paths.lock}"
            )
        # say what was done to which process: a forced stop is never silent
        write_stderr(
            f"{prog}: daemon {waited}; sent {signal.Signals(sig).name} to pid {pid} "
            f"(it holds the lock {paths.lock})\n"
        )
        waited = f"was still running {grace:g}s after {signal.Signals(sig).name}"
        if _wait_stopped(paths, time.monotonic() + grace):
            return
    raise StopTimeout(
        f"daemon did not stop within {timeout_secs:g}s, even after SIGKILL to pid {pid}"
    )


def _socket_served_instead(pid: int, socket_path: str) -> str | None:
    """The Unix socket path ``pid`` listens on when that is not ``socket_path``.

    A lock proves who holds it, not which socket that daemon serves: the
    sockets ``/x/foo`` and ``/x/foo.sock`` share ``/x/foo.lock``, and ``stop
    --force`` for one must not kill the other's daemon. Read from ``/proc``
    (the pid's socket inodes, ``/proc/net/unix``'s listening entries); None
    when it listens on ``socket_path``, on nothing yet (still starting), or
    ``/proc`` cannot tell.
    """
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:  # closed meanwhile
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        with open("/proc/net/unix", encoding="utf-8", errors="surrogateescape") as table:
            next(table, None)
            served = [
                fields[7].rstrip("\n")
                for fields in (line.split(maxsplit=7) for line in table)
                if len(fields) == 8 and fields[6] in inodes and int(fields[3], 16) & _ACCEPTING
            ]
    except (OSError, ValueError):
        return None
    if not served or socket_path in served:
        return None
    return served[0]


_ACCEPTING = 0x10000  # __SO_ACCEPTCON in /proc/net/unix's Flags: a listening socket


def _signal_if_lock_owner(pid: int, lock, sig: int) -> bool:
    """Send ``sig`` to ``pid`` only if it holds ``lock``; False when it does not.

    The pidfd is opened *before* the check, so the signal goes to the process
    that was checked: if it died and the pid was reused meanwhile, the send
    fails (gone) instead of hitting the newcomer.
    """
    import signal

    from sqry.daemon.lifecycle.pidfile import pid_holds_lock

    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            return True  # already gone: nothing to signal, the wait will see it stopped
        except OSError:
            pidfd = None
    try:
        if not pid_holds_lock(pid, lock):
            return False
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, sig)
        else:
            os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return True
    finally:
        if pidfd is not None:
            os.close(pidfd)


# ---------------------------------------------------------------------------
# the one IPC call site
# ---------------------------------------------------------------------------


def _call(socket_path, method: str, timeout: float | None = None, wait_secs: float = 5.0) -> Any:
    """One request on a fresh connection; client failures become lifecycle errors.

    ``wait_secs`` caps connect and handshake (a wedged daemon accepts but never
    answers), so ``stop --timeout-secs 1`` does not wait out the 5 s default.
    """
    from sqry.client import DaemonClient
    from sqry.client.errors import ClientError, ForeignDaemon, SocketPathTooLong
    from sqry.client.errors import NotRunning as ClientNotRunning

    try:
        conn = DaemonClient.connect(
            socket_path=socket_path,
            connect_timeout=min(wait_secs, 5.0),
            handshake_timeout=min(wait_secs, 5.0),
            auto_start=False,
        )
    except ClientNotRunning as err:
        from sqry.daemon.lifecycle.paths import check_socket_names_a_file

        check_socket_names_a_file(socket_path)  # a directory: 78, as for start
        raise NotRunning(socket_path) from err
    except ForeignDaemon as err:  # 77, like a runtime dir another user owns
        raise RuntimeDirUnsafe(str(err)) from err
    except SocketPathTooLong as err:  # the client words it like paths.check_socket_path
        raise ConfigError(str(err)) from err
    except ClientError as err:  # handshake timeout, version mismatch, ...
        raise DaemonIoError(str(err)) from err
    try:
        return conn.request(method, None, timeout=timeout)
    except ClientError as err:
        raise DaemonIoError(f"{method} failed: {err}") from err
    finally:
        conn.close()


def _unwrap(reply: Any) -> dict[str, Any]:
    """The status payload (the client already strips the ``{result, meta}`` envelope)."""
    if not isinstance(reply, dict):
        raise DaemonIoError(f"daemon/status returned {type(reply).__name__}, expected an object")
    return reply
