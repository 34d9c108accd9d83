"""systemd readiness over a real NOTIFY_SOCKET bound by the test (§5, §9)."""

from __future__ import annotations

import contextlib
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
        self.raw_address = "\0" + self.address[1:] if abstract else self.address
        self._fillers: list[socket.socket] = []

    def fill_queue(self) -> None:
        """Fill our receive queue so the daemon's next notification blocks until we read.

        A datagram to a full AF_UNIX queue blocks the (blocking) sender, which
        freezes the daemon at that exact step of its shutdown. Each filler stops
        at its own send buffer or at the queue limit; a fresh filler that cannot
        send even once proves the queue itself is full.
        """
        while True:
            filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            filler.setblocking(False)
            filler.connect(self.raw_address)
            self._fillers.append(filler)
            sent = 0
            with contextlib.suppress(BlockingIOError):
                while True:
                    filler.send(b"filler")
                    sent += 1
            if sent == 0:
                return

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
        for filler in self._fillers:
            filler.close()
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
def test_ready_is_sent_only_once_the_socket_accepts(
    sqryd_env: SqrydEnv, notify: NotifyListener
) -> None:
    """§5: READY=1 after the socket accepts, proven with the daemon frozen inside
    its READY=1 send: our queue is full before it starts, so its first message
    (STATUS=starting) blocks until we read one filler; then READY=1 blocks in
    turn. Had READY=1 come before listen(), nothing would accept meanwhile."""
    notify.fill_queue()
    proc = sqryd_env.spawn("foreground", env=sqryd_env.with_env(NOTIFY_SOCKET=notify.address))
    notify.next_message()  # a filler: room for STATUS=starting, then READY=1 blocks
    wait_until(
        lambda: socket_accepts(sqryd_env.socket),
        20,
        message="the socket to accept while READY=1 is still unsent",
    )
    ready, before = notify.wait_for("READY")  # reading unblocks the daemon
    assert ready["READY"] == "1" and {"STATUS": "starting"} in before
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err


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


def connect_refused(path) -> bool:
    """True when a connect() to ``path`` is refused: the file is there, nobody listens."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1)  # a full listen backlog would otherwise block the connect
    try:
        probe.connect(str(path))
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        probe.close()
    return False


@pytest.mark.timeout(60)
def test_stops_accepting_before_sending_stopping(
    sqryd_env: SqrydEnv, notify: NotifyListener
) -> None:
    """§5: stop accepting first, then STOPPING=1.

    The daemon is frozen inside its STOPPING=1 send (our queue is full), so if it
    still accepted connections at that point the probe would never be refused.
    """
    proc = sqryd_env.spawn("foreground", env=sqryd_env.with_env(NOTIFY_SOCKET=notify.address))
    notify.wait_for("READY")
    notify.fill_queue()
    proc.send_signal(signal.SIGTERM)
    wait_until(
        lambda: connect_refused(sqryd_env.socket),
        15,
        interval=0.05,
        message="connections to be refused while STOPPING=1 is still unsent",
    )
    assert sqryd_env.socket.exists(), "the socket is unlinked only after the drain"
    stopping, _ = notify.wait_for("STOPPING")  # reading unblocks the daemon
    assert stopping["STOPPING"] == "1"
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert not sqryd_env.socket.exists()
