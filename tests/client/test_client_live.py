"""DaemonClient against real sqryd processes: socket resolution, auto-start, restart."""

from __future__ import annotations

import os
from typing import Any

import pytest

from helpers import LiveDaemon, SqrydEnv, pid_alive, read_pidfile, socket_accepts, wait_until
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
