"""``idle_shutdown_minutes``: no client and no activity for that long → clean exit (beyond §5)."""

from __future__ import annotations

import socket

import pytest

from helpers import SqrydEnv, WaitTimeout, pid_alive, socket_accepts, wait_until


def start(env: SqrydEnv, idle_secs: str):
    proc = env.spawn("foreground", env=env.with_env(SQRYD_IDLE_SHUTDOWN_SECS=idle_secs))
    wait_until(
        lambda: socket_accepts(env.socket) or proc.poll() is not None, 20, message="daemon ready"
    )
    assert proc.poll() is None, proc.stderr.read()
    return proc


@pytest.mark.timeout(60)
def test_idle_daemon_shuts_down_cleanly(sqryd_env: SqrydEnv) -> None:
    env = sqryd_env.with_env(SQRYD_IDLE_SHUTDOWN_SECS="0.5")
    proc = sqryd_env.spawn("foreground", env=env)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert not sqryd_env.socket.exists() and not sqryd_env.pidfile.exists()
    assert "idle for" in sqryd_env.log.read_text()


@pytest.mark.timeout(60)
def test_an_open_connection_keeps_the_daemon_alive(sqryd_env: SqrydEnv) -> None:
    proc = start(sqryd_env, "2")  # the readiness probe itself counts as activity
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(sqryd_env.socket))
    try:
        # More than the idle limit passes with the connection open: the daemon must stay.
        with pytest.raises(WaitTimeout):
            wait_until(lambda: proc.poll() is not None, 3.0, message="daemon exit")
        assert pid_alive(proc.pid)
    finally:
        conn.close()
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


@pytest.mark.timeout(60)
def test_zero_disables_idle_shutdown(sqryd_env: SqrydEnv) -> None:
    proc = start(sqryd_env, "0")
    with pytest.raises(WaitTimeout):
        wait_until(lambda: proc.poll() is not None, 1.5, message="daemon exit")
    assert proc.poll() is None
