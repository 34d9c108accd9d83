"""DaemonClient against real sqryd processes: socket resolution, auto-start, restart."""

from __future__ import annotations

import os
from typing import Any

import pytest

from helpers import (
    LiveDaemon,
    SqrydEnv,
    pid_alive,
    read_pidfile,
    socket_accepts,
    stuck_connection,
    wait_until,
)
from sqry.client import DaemonClient, NotRunning
from sqry.daemon.ipc.threaded import ThreadedServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def in_env(sqryd_env: SqrydEnv, monkeypatch: pytest.MonkeyPatch) -> SqrydEnv:
    """Make this process see the test's environment (runtime dir, empty config)."""
    for key in list(os.environ):
        if key.startswith(("SQRY_DAEMON_", "SQRYD_")) or key == "NOTIFY_SOCKET":
            monkeypatch.delenv(key)
    for key in ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(key, sqryd_env.env[key])
    return sqryd_env


def _stop(client: DaemonClient, env: SqrydEnv) -> None:
    client.request("daemon/stop")
    client.close()
    wait_until(lambda: not socket_accepts(env.socket), 20, message="the daemon to stop")


def test_default_socket_is_resolved_like_the_daemon(live_daemon: LiveDaemon, in_env: Any) -> None:
    with DaemonClient.connect() as client:
        status = client.request("daemon/status")
    assert status["socket"] == str(live_daemon.socket)
    assert status["pid"] == live_daemon.pid


def test_not_running_names_the_resolved_socket(in_env: SqrydEnv) -> None:
    with pytest.raises(NotRunning) as info:
        DaemonClient.connect()
    assert str(in_env.socket) in str(info.value)


def test_real_auto_start(in_env: SqrydEnv) -> None:
    client = DaemonClient.connect(auto_start=True)
    try:
        pid = client.request("daemon/status")["pid"]
        in_env.track(pid)
        assert pid != os.getpid() and pid_alive(pid)
        assert read_pidfile(in_env.pidfile) == pid
    finally:
        _stop(client, in_env)
    wait_until(lambda: not pid_alive(pid), 20, message="the auto-started daemon to exit")


def test_real_restart_on_version_mismatch(in_env: SqrydEnv) -> None:
    """An old-version daemon on our socket is stopped and replaced by a real sqryd."""
    in_env.runtime.mkdir(mode=0o700, exist_ok=True)
    old = ThreadedServer(in_env.socket, daemon_version="0.0.9-old", drain_secs=1).start()
    try:
        client = DaemonClient.connect(restart_on_version_mismatch=True)
        try:
            assert old.shutdown_done.is_set()
            status = client.request("daemon/status")
            in_env.track(status["pid"])
            assert client.daemon_version == status["daemon_version"] == "0.1.0"
            assert status["pid"] != os.getpid()
        finally:
            _stop(client, in_env)
    finally:
        old.close()


def test_auto_start_waits_out_a_draining_daemon_and_starts_a_new_one(in_env: SqrydEnv) -> None:
    """``start --detach`` answers "already running" (75) while a stopped daemon
    drains a client that never reads; once that daemon is gone the auto-start
    must start a new one, not wait for the old socket until its timeout."""
    config = in_env.dir / "config" / "sqry" / "daemon.toml"
    config.parent.mkdir(parents=True)
    config.write_text("ipc_shutdown_drain_secs = 2\nauto_start_ready_timeout_secs = 30\n")
    old = LiveDaemon.start(in_env)
    stuck = stuck_connection(in_env.socket)
    try:
        with DaemonClient.connect() as client:
            assert client.request("daemon/stop") == {"scheduled": True}
        wait_until(lambda: not socket_accepts(in_env.socket), 20, message="the old socket to go")
        assert pid_alive(old.pid)  # still draining the stuck client
        client = DaemonClient.connect(auto_start=True)
    finally:
        stuck.close()
    try:
        pid = client.request("daemon/status")["pid"]
        in_env.track(pid)
        assert pid != old.pid and read_pidfile(in_env.pidfile) == pid
        assert not pid_alive(old.pid)
    finally:
        _stop(client, in_env)
