"""Helpers shared by every test that runs real ``sqryd`` processes.

Import from a test module as ``from helpers import ...`` (``tests/`` is on
``sys.path`` because ``tests/conftest.py`` lives there and ``tests/`` has no
``__init__.py``). The fixtures built on these live in ``tests/conftest.py``:

- ``sqryd_env``: a private, short runtime dir plus a scrubbed environment in
  which to run ``sqryd``/``sqry`` (see :class:`SqrydEnv`); every process
  started through it, and every process whose environment names its runtime
  dir, is SIGKILLed at teardown, even when the test fails.
- ``live_daemon``: a daemon started with ``sqryd start --detach`` in its own
  ``sqryd_env`` (see :class:`LiveDaemon`).

Waiting is always :func:`wait_until` (deadline polling), never a bare sleep.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SQRYD = [sys.executable, "-m", "sqry.daemon.lifecycle.cli"]
"""How tests run the ``sqryd`` command (same interpreter, no PATH lookup)."""
SQRY = [sys.executable, "-m", "sqry.cli.main"]
"""How tests run the ``sqry`` command."""

# Variables that would leak the developer's daemon or systemd into a test.
_SCRUBBED = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID")
_SCRUBBED_PREFIXES = ("SQRY_DAEMON_", "SQRYD_")


class WaitTimeout(AssertionError):
    """``wait_until`` ran out of time; the message says what was awaited."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    *,
    interval: float = 0.01,
    message: str | Callable[[], str] = "condition",
) -> T:
    """Poll ``predicate`` until it returns something truthy; return that value.

    Raises :class:`WaitTimeout` (an AssertionError) after ``timeout`` seconds.
    ``message`` (or a callable producing it, evaluated only on failure) says
    what was awaited, so the failure explains itself.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {text}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in (b"Z", b"X")


def read_pidfile(path: Path) -> int | None:
    """The pid in a pidfile, or None when absent/garbled (tests avoid the library here)."""
    try:
        text = Path(path).read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def lock_is_held(lock: Path) -> bool:
    """Whether some process holds a flock on ``lock`` (fresh open file description)."""
    import fcntl

    fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def fd_targets(pid: int) -> set[tuple[int, int]]:
    """(st_dev, st_ino) of every file ``pid`` has open, via /proc/<pid>/fd."""
    found: set[tuple[int, int]] = set()
    fd_dir = f"/proc/{pid}/fd"
    for name in os.listdir(fd_dir):
        with contextlib.suppress(OSError):
            st = os.stat(f"{fd_dir}/{name}")
            found.add((st.st_dev, st.st_ino))
    return found


def socket_accepts(path: Path) -> bool:
    """True when a plain connect() to the Unix socket succeeds."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(2)
        sock.connect(os.fspath(path))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def processes_mentioning(marker: str) -> list[int]:
    """Pids (ours excluded) whose environment or command line contains ``marker``.

    This is the safety net that finds detached daemons a test lost track of:
    each test's runtime dir is unique, so its daemons carry it in XDG_RUNTIME_DIR.
    """
    needle = marker.encode()
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{entry}/{part}", "rb") as fh:
                    if needle in fh.read():
                        found.append(int(entry))
                        break
            except OSError:
                continue
    return found


def stuck_connection(socket_path: Path) -> socket.socket:
    """A client whose replies the daemon cannot finish writing: it never reads them.

    Eight batches of 1000 ``daemon/status`` calls make ~2 MB of replies, far
    beyond the socket buffers, so the connection's worker waits for the peer to
    read and a drain has to wait for it (up to ``ipc_shutdown_drain_secs``).
    The caller closes it.
    """

    def frame(doc: object) -> bytes:
        body = json.dumps(doc).encode()
        return struct.pack("<I", len(body)) + body

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(10)
    conn.connect(str(socket_path))
    conn.sendall(frame({"client_version": "test", "protocol_version": 1}))
    (length,) = struct.unpack("<I", conn.recv(4))
    assert json.loads(conn.recv(length))["compatible"] is True
    batch = [{"jsonrpc": "2.0", "id": i, "method": "daemon/status"} for i in range(1000)]
    conn.sendall(frame(batch) * 8)
    readable, _, _ = select.select([conn], [], [], 10)
    assert readable, "the daemon started answering the batches"
    return conn


@dataclass
class SqrydEnv:
    """A private runtime dir and environment for one test, plus process bookkeeping.

    ``dir`` is short (``/tmp/sqXXXXXXXX``) because Unix socket paths are capped
    at 107 bytes. ``env`` points XDG_RUNTIME_DIR at ``dir`` and
    XDG_CONFIG_HOME at an empty ``dir/config`` so no user config or daemon leaks
    in. ``runtime`` is ``dir/sqry``, where the default socket, lock and pidfile live.
    """

    dir: Path
    env: dict[str, str]
    procs: list[subprocess.Popen] = field(default_factory=list)
    pids: set[int] = field(default_factory=set)

    @classmethod
    def create(cls) -> SqrydEnv:
        base = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _SCRUBBED and not k.startswith(_SCRUBBED_PREFIXES)
        }
        (base / "config").mkdir()
        env["XDG_RUNTIME_DIR"] = str(base)
        env["XDG_CONFIG_HOME"] = str(base / "config")
        env["PYTHONUNBUFFERED"] = "1"
        return cls(base, env)

    @property
    def runtime(self) -> Path:
        return self.dir / "sqry"

    @property
    def socket(self) -> Path:
        return self.runtime / "sqryd.sock"

    @property
    def lock(self) -> Path:
        return self.runtime / "sqryd.lock"

    @property
    def pidfile(self) -> Path:
        return self.runtime / "sqryd.pid"

    @property
    def log(self) -> Path:
        return self.runtime / "sqryd.log"

    def with_env(self, **overrides: str | None) -> dict[str, str]:
        """A copy of ``env`` with overrides applied (None removes a variable)."""
        env = dict(self.env)
        for key, value in overrides.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(
        self,
        *args: str,
        cmd: Sequence[str] = SQRYD,
        timeout: float = 30,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``sqryd ARGS`` (or ``cmd``) to completion, capturing text output."""
        proc = self.spawn(*args, cmd=cmd, env=env)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(
                f"{' '.join(args)} did not finish within {timeout}s; stderr: {err}"
            ) from None
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def spawn(
        self,
        *args: str,
        cmd: Sequence[str] = SQRYD,
        env: Mapping[str, str] | None = None,
        **popen: Any,
    ) -> subprocess.Popen:
        """Start ``sqryd ARGS`` without waiting; it is killed at teardown."""
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
        popen.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(
            [*cmd, *args], env=dict(self.env if env is None else env), text=True, **popen
        )
        self.procs.append(proc)
        return proc

    def track(self, pid: int) -> None:
        """Kill ``pid`` at teardown too (a detached daemon is not our child)."""
        self.pids.add(pid)

    def cleanup(self, deadline_secs: float = 20.0) -> None:
        """SIGKILL everything this test started or that uses its runtime dir; remove the dir.

        Order matters. First the processes we started directly (and the sessions
        of tracked daemons) die and are reaped, so no ``start --detach`` parent is
        left to spawn a daemon after we looked. Then scan again and again until
        no process mentions the dir and no lock file under it is held: a daemon
        born between two scans is caught by the next one. Only then is the dir
        removed, so ``rmtree`` never races a live daemon.
        """
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            with contextlib.suppress(Exception):
                proc.communicate(timeout=5)
        marker = str(self.dir)
        # Tracked daemons (and their sessions) go first, but only while they still
        # carry our dir: a pid that died long ago may belong to anyone by now.
        for pid in self.pids & set(processes_mentioning(marker)):
            _kill_session(pid)

        def nothing_left() -> bool:
            """One scan: kill whatever still mentions the dir or holds a lock under it."""
            held = self.held_locks()
            strays = set(processes_mentioning(marker)) | lock_holders(held)
            for pid in strays:
                _kill_session(pid)
            for pid in strays:
                with contextlib.suppress(WaitTimeout):
                    wait_until(lambda p=pid: not pid_alive(p), 5, message=f"pid {pid} to die")
            return not strays and not held

        # At the deadline, rmtree anyway; whatever is left is reported by the next
        # test's scan.
        with contextlib.suppress(WaitTimeout):
            wait_until(nothing_left, deadline_secs, message=f"no process using {marker}")
        shutil.rmtree(self.dir, ignore_errors=True)

    def held_locks(self) -> list[Path]:
        """Lock files under the dir that some process still holds (sockets' families)."""
        held = []
        for lock in self.dir.rglob("*.lock"):
            with contextlib.suppress(OSError):
                if lock.is_file() and lock_is_held(lock):
                    held.append(lock)
        return held


def lock_holders(locks: Sequence[Path]) -> set[int]:
    """Pids (ours excluded) with an open fd on any of ``locks``, found through /proc/*/fd."""
    inodes = set()
    for lock in locks:
        with contextlib.suppress(OSError):
            st = os.stat(lock)
            inodes.add((st.st_dev, st.st_ino))
    if not inodes:
        return set()
    holders = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if fd_targets(int(entry)) & inodes:
                holders.add(int(entry))
    return holders


def _kill_session(pid: int) -> None:
    """SIGKILL ``pid`` and, if it leads its own session (a detached daemon), its session."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getsid(pid) == pid and pid != os.getsid(0):
            os.killpg(pid, signal.SIGKILL)  # a session leader's pgid is its pid
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


@dataclass
class LiveDaemon:
    """A daemon started by ``sqryd start --detach --print-pid`` inside ``env``."""

    env: SqrydEnv
    pid: int

    @property
    def socket(self) -> Path:
        return self.env.socket

    @classmethod
    def start(cls, env: SqrydEnv, *extra: str, timeout: float = 30) -> LiveDaemon:
        done = env.run("start", "--detach", "--print-pid", *extra, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(
                f"sqryd start --detach exited {done.returncode}: {done.stderr.strip()}"
            )
        pid = int(done.stdout.strip())
        env.track(pid)
        return cls(env, pid)

    def stop(self) -> subprocess.CompletedProcess[str]:
        return self.env.run("stop", "--timeout-secs", "10")
