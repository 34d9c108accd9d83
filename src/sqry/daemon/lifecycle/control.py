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
import time

from sqry.daemon.lifecycle.errors import ConfigError, DaemonIoError, NotRunning, StopTimeout

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

    Takes no lock and touches no file.
    """
    socket_path = cfg.socket_file(env)
    return _unwrap(_call(socket_path, "daemon/status"))


def status_json(result: Mapping[str, Any]) -> str:
    """``status --json``: the result object, stable key order for diffs and scripts."""
    return json.dumps(result, indent=2, sort_keys=True)


def format_status(result: Mapping[str, Any]) -> str:
    """Human ``status``: a small header block, then one row per workspace."""
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
    cfg: DaemonConfig, *, timeout_secs: float, force: bool, env: Mapping[str, str]
) -> None:
    """Send ``daemon/stop`` and wait until the socket refuses and the lock is free.

    NotRunning (73) when nothing answers and nobody holds the lock. A daemon
    that holds the lock but does not answer (already draining, or wedged) is
    waited for like any other. At the deadline: StopTimeout (69), or with
    ``force`` signals to the proven lock owner.
    """
    from sqry.daemon.lifecycle.pidfile import lock_is_free

    paths = cfg.paths(env)
    deadline = time.monotonic() + timeout_secs
    unheard = ""
    try:
        _call(paths.socket, "daemon/stop", timeout=timeout_secs, wait_secs=timeout_secs)
    except NotRunning:
        if lock_is_free(paths.lock):
            raise
        unheard = " (it holds the lock but does not accept connections)"
    except DaemonIoError as err:
        unheard = f" (it did not answer: {err})"
    if _wait_stopped(paths, deadline):
        return
    if force:
        _force_stop(paths, timeout_secs)
        return
    hint = "; 'stop --force' signals the process holding the lock"
    raise StopTimeout(f"{StopTimeout.after(timeout_secs)}{unheard}{hint}")


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


def _force_stop(paths: RuntimePaths, timeout_secs: float) -> None:
    """SIGTERM, then SIGKILL, the pidfile's pid — only while it provably holds the lock."""
    import signal

    from sqry.daemon.lifecycle.pidfile import read_pid

    pid = read_pid(paths.pid)
    for sig, grace in (
        (signal.SIGTERM, FORCE_TERM_GRACE_SECS),
        (signal.SIGKILL, FORCE_KILL_GRACE_SECS),
    ):
        if is_stopped(paths):
            return
        if pid is None or not _signal_if_lock_owner(pid, paths.lock, sig):
            raise StopTimeout(
                f"daemon did not stop within {timeout_secs:g}s and was not signalled: "
                f"pid {pid if pid is not None else '?'} from {paths.pid} does not hold the lock "
                f"{paths.lock}"
            )
        if _wait_stopped(paths, time.monotonic() + grace):
            return
    raise StopTimeout(
        f"daemon did not stop within {timeout_secs:g}s, even after SIGKILL to pid {pid}"
    )


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
    from sqry.client.errors import ClientError, SocketPathTooLong
    from sqry.client.errors import NotRunning as ClientNotRunning

    try:
        conn = DaemonClient.connect(
            socket_path=socket_path,
            connect_timeout=min(wait_secs, 5.0),
            handshake_timeout=min(wait_secs, 5.0),
            auto_start=False,
        )
    except ClientNotRunning as err:
        raise NotRunning(socket_path) from err
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
