"""``sqryd start`` in the foreground: singleton, signals, stale state, socket setup (§5, §9)."""

from __future__ import annotations

import os
import signal
import socket

import pytest

from helpers import (
    SqrydEnv,
    lock_is_held,
    pid_alive,
    read_pidfile,
    socket_accepts,
    wait_until,
)

DRAIN_SECS = 5


def start_foreground(env: SqrydEnv, *args: str, **kw):
    """Start ``sqryd start`` and wait until its socket accepts."""
    proc = env.spawn("start", *args, **kw)
    wait_until(
        lambda: socket_accepts(env.socket) or proc.poll() is not None,
        20,
        message="the foreground daemon's socket",
    )
    assert proc.poll() is None, f"daemon exited {proc.returncode}: {proc.stderr.read()}"
    return proc


def finish(proc, timeout: float) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


@pytest.mark.timeout(60)
def test_second_start_exits_75_naming_the_first_pid(sqryd_env: SqrydEnv) -> None:
    first = start_foreground(sqryd_env)
    second = sqryd_env.run("start")
    assert second.returncode == 75
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("sqryd: sqryd is already running (pid=")
    assert f"(pid={first.pid})" in lines[0]
    assert str(sqryd_env.socket) in lines[0] and str(sqryd_env.lock) in lines[0]
    assert first.poll() is None, "the running daemon must be unaffected"
    assert read_pidfile(sqryd_env.pidfile) == first.pid


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_shuts_down_cleanly(sqryd_env: SqrydEnv, sig: signal.Signals) -> None:
    proc = start_foreground(sqryd_env)
    lock_inode = os.stat(sqryd_env.lock).st_ino
    ready = sqryd_env.runtime / "sqryd.ready"
    wait_until(ready.exists, 10, message="the ready marker (touched just after listen)")
    proc.send_signal(sig)
    code, err = finish(proc, DRAIN_SECS + 2)
    assert code == 0, err
    assert not sqryd_env.socket.exists(), "the socket must be unlinked at shutdown"
    assert not sqryd_env.pidfile.exists(), "the pidfile must be removed at shutdown"
    assert not (sqryd_env.runtime / "sqryd.ready").exists()
    assert os.stat(sqryd_env.lock).st_ino == lock_inode, "the lock file is never unlinked"
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
def test_sigterm_during_an_open_connection_still_exits_within_drain(sqryd_env: SqrydEnv) -> None:
    proc = start_foreground(sqryd_env)
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle.connect(str(sqryd_env.socket))  # never says hello
    try:
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc, DRAIN_SECS + 2)
    finally:
        idle.close()
    assert code == 0, err
    assert not sqryd_env.socket.exists()


@pytest.mark.timeout(60)
def test_sigkill_leaves_stale_files_and_the_next_start_reclaims_them(sqryd_env: SqrydEnv) -> None:
    first = start_foreground(sqryd_env)
    lock_inode = os.stat(sqryd_env.lock).st_ino
    first.kill()
    first.wait(10)
    assert read_pidfile(sqryd_env.pidfile) == first.pid, "SIGKILL leaves the pidfile"
    assert sqryd_env.socket.exists(), "SIGKILL leaves the socket file"
    assert not socket_accepts(sqryd_env.socket)

    second = start_foreground(sqryd_env)
    assert second.pid != first.pid
    assert read_pidfile(sqryd_env.pidfile) == second.pid
    assert os.stat(sqryd_env.lock).st_ino == lock_inode, "same lock-file inode"
    second.send_signal(signal.SIGTERM)
    assert finish(second, DRAIN_SECS + 2)[0] == 0


@pytest.mark.timeout(60)
def test_non_socket_file_at_the_socket_path_is_refused_and_untouched(sqryd_env: SqrydEnv) -> None:
    sqryd_env.runtime.mkdir(mode=0o700)
    sqryd_env.socket.write_text("precious\n")
    done = sqryd_env.run("start")
    assert done.returncode == 78, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sqryd: "), done.stderr
    assert str(sqryd_env.socket) in lines[0] and "not a socket" in lines[0]
    assert sqryd_env.socket.read_text() == "precious\n"
    assert not sqryd_env.pidfile.exists(), "a failed start removes its pidfile"
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
def test_socket_modes_and_pidfile(sqryd_env: SqrydEnv) -> None:
    proc = start_foreground(sqryd_env)
    assert os.stat(sqryd_env.socket).st_mode & 0o777 == 0o600
    assert os.stat(sqryd_env.runtime).st_mode & 0o777 == 0o700
    assert read_pidfile(sqryd_env.pidfile) == proc.pid
    assert pid_alive(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert finish(proc, DRAIN_SECS + 2)[0] == 0
