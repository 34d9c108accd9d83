"""systemd readiness over a real NOTIFY_SOCKET bound by the test (§5, §9)."""

from __future__ import annotations

import os
import signal
import socket
import uuid

import pytest

from helpers import SqrydEnv, socket_accepts, wait_until


class NotifyListener:
    """A datagram socket standing in for systemd's notify socket."""

    def __init__(self, env: SqrydEnv, abstract: bool) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"sqry-test-{uuid.uuid4().hex}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            path = str(env.dir / "notify.sock")
            self.sock.bind(path)
            self.address = path
        self.sock.settimeout(20)

    def next_message(self) -> dict[str, str]:
        data = self.sock.recv(65536).decode()
        return dict(line.split("=", 1) for line in data.splitlines() if "=" in line)

    def wait_for(self, key: str) -> tuple[dict[str, str], list[dict[str, str]]]:
        """Receive until a message carries ``key``; return it and everything before it."""
        seen = []
        while True:
            msg = self.next_message()
            if key in msg:
                return msg, seen
            seen.append(msg)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=[False, True], ids=["path", "abstract"])
def notify(request, sqryd_env: SqrydEnv):
    listener = NotifyListener(sqryd_env, abstract=request.param)
    try:
        yield listener
    finally:
        listener.close()


@pytest.mark.timeout(60)
def test_ready_only_after_the_socket_accepts_and_stopping_on_sigterm(
    sqryd_env: SqrydEnv, notify: NotifyListener
) -> None:
    env = sqryd_env.with_env(NOTIFY_SOCKET=notify.address)
    proc = sqryd_env.spawn("foreground", env=env)
    ready, before = notify.wait_for("READY")
    # Connect the moment READY arrives: it must already accept.
    assert socket_accepts(sqryd_env.socket), "READY=1 was sent before the socket accepted"
    assert ready["READY"] == "1"
    assert ready.get("MAINPID") == str(proc.pid)
    assert all("READY" not in m for m in before)

    proc.send_signal(signal.SIGTERM)
    stopping, _ = notify.wait_for("STOPPING")
    assert stopping["STOPPING"] == "1"
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert not sqryd_env.log.exists(), "under systemd the log goes to stderr, no file"
    assert "ready" in err.lower()


@pytest.mark.timeout(60)
def test_status_lines_and_watchdog(sqryd_env: SqrydEnv, notify: NotifyListener) -> None:
    env = sqryd_env.with_env(NOTIFY_SOCKET=notify.address, WATCHDOG_USEC="200000")
    proc = sqryd_env.spawn("foreground", env=env)
    ready, _ = notify.wait_for("READY")
    assert "ready" in ready.get("STATUS", ""), ready
    watchdogs = 0
    while watchdogs < 3:
        watchdogs += notify.next_message().get("WATCHDOG") == "1"
    proc.send_signal(signal.SIGTERM)
    stopping, _ = notify.wait_for("STATUS")
    assert "stopping" in stopping["STATUS"]
    proc.communicate(timeout=10)
    assert proc.returncode == 0
    wait_until(lambda: not os.path.exists(sqryd_env.socket), 5, message="socket removal")
