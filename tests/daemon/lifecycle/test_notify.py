"""sd_notify over real datagram sockets, by path and in the abstract namespace."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqry.daemon.lifecycle.notify import Notifier, sd_notify


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest) -> Iterator[tuple[socket.socket, str]]:
    """A bound SOCK_DGRAM socket and the NOTIFY_SOCKET value that reaches it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.settimeout(10)
    base = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        if request.param == "path":
            address = str(base / "notify")
            sock.bind(address)
            yield sock, address
        else:
            name = f"sqry-test-{os.getpid()}-{base.name}"
            sock.bind("\0" + name)
            yield sock, "@" + name
    finally:
        sock.close()
        shutil.rmtree(base, ignore_errors=True)


def receive(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_sd_notify_delivers_one_datagram(listener: tuple[socket.socket, str]) -> None:
    sock, address = listener
    assert sd_notify("STATUS=hello", {"NOTIFY_SOCKET": address}) is True
    assert receive(sock) == "STATUS=hello"


def test_notifier_messages(listener: tuple[socket.socket, str]) -> None:
    sock, address = listener
    notifier = Notifier({"NOTIFY_SOCKET": address})
    assert notifier.enabled
    assert notifier.ready(4321, status="serving on /r/s.sock")
    assert receive(sock) == "READY=1\nMAINPID=4321\nSTATUS=serving on /r/s.sock"
    assert notifier.stopping()
    assert receive(sock) == "STOPPING=1"
    assert notifier.status("two\nlines")
    assert receive(sock) == "STATUS=two lines", "a newline must not start a new assignment"
    assert notifier.watchdog()
    assert receive(sock) == "WATCHDOG=1"


@pytest.mark.parametrize("value", [None, "", "vsock:2:1234", "relative/path"])
def test_unset_or_unsupported_socket_is_false(value: str | None) -> None:
    env = {} if value is None else {"NOTIFY_SOCKET": value}
    assert sd_notify("READY=1", env) is False
    assert Notifier(env).ready(1) is False


def test_a_notifier_that_cannot_send_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    with caplog.at_level("WARNING", logger="sqry.daemon.lifecycle.notify"):
        assert notifier.ready(1) is False
        assert notifier.watchdog() is False
        assert notifier.stopping() is False
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot notify the service manager at NOTIFY_SOCKET={tmp_path / 'gone'} "
        "(No such file or directory); carrying on without it"
    ]


def test_unreachable_socket_is_false_not_an_exception(tmp_path: Path) -> None:
    assert sd_notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False
    assert sd_notify("READY=1", {"NOTIFY_SOCKET": "@sqry-no-such-abstract-socket"}) is False


def test_stream_socket_at_the_address_is_false() -> None:
    base = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        stream.bind(str(base / "s"))
        stream.listen()
        assert sd_notify("READY=1", {"NOTIFY_SOCKET": str(base / "s")}) is False
    finally:
        stream.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid())}, 1.5),
        ({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "abc"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "x"}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert Notifier(env).watchdog_interval_secs() == expected
