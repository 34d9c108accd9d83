"""DaemonClient against a real in-process server and scripted fakes (ipc.md §8)."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from client_fake_daemon import GOOD_HELLO, FakeDaemon, hello_then
from ipc_testkit import Harness

from sqry.client import (
    ClientError,
    ConnectionLost,
    ConnectTimeout,
    DaemonClient,
    EnvelopeVersionMismatch,
    HandshakeTimeout,
    HelloEof,
    HelloRejected,
    NotRunning,
    ProtocolError,
    RequestTimeout,
    RpcError,
)

pytestmark = pytest.mark.timeout(30)


# --- happy path ---------------------------------------------------------------------


def test_connect_request_and_envelope(ipc: Harness) -> None:
    with DaemonClient.connect(ipc.socket_path) as client:
        assert client.daemon_version == "0.1.0"
        status = client.request("daemon/status")
        assert status["pid"] == os.getpid() and status["socket"] == ipc.socket_path
        envelope = client.request_envelope("test/meta")
        assert envelope == {
            "result": {"ok": True},
            "meta": {
                "stale": True,
                "daemon_version": "0.1.0",
                "workspace_state": "Loaded",
                "last_good_at": "2024-01-02T03:04:05Z",
            },
        }
        assert client.request("test/echo", {"value": [1, "two"]}) == [1, "two"]
    assert client.closed


def test_ids_increase_and_are_checked(sock_dir: Path) -> None:
    path = str(sock_dir / "f.sock")
    with FakeDaemon(path, hello_then(GOOD_HELLO)) as fake, DaemonClient.connect(path) as client:
        assert [client.request("m") for _ in range(3)] == [1, 2, 3]
        client.notify("n", {"a": 1})
        assert client.request("m") == 4
    requests = [r for r in fake.received[1:] if r is not None]  # None: the final EOF
    assert [r.get("id") for r in requests] == [1, 2, 3, None, 4]
    assert requests[3] == {"jsonrpc": "2.0", "method": "n", "params": {"a": 1}}
    assert fake.received[0] == {"client_version": "0.1.0", "protocol_version": 1}


def test_wrong_reply_id_is_a_protocol_error(sock_dir: Path) -> None:
    path = str(sock_dir / "f.sock")

    def script(conn: socket.socket, fake: FakeDaemon) -> None:
        fake.recv(conn)
        fake.send(conn, GOOD_HELLO)
        fake.recv(conn)
        fake.send(conn, {"jsonrpc": "2.0", "id": 99, "result": {"result": 1, "meta": {}}})
        fake.release.wait(10)

    with FakeDaemon(path, script), DaemonClient.connect(path) as client:
        with pytest.raises(ProtocolError, match=r"reply id 99 != request id 1"):
            client.request("m")
        assert client.closed


@pytest.mark.parametrize("error", [{"code": "x", "message": "m"}, "oops", {"message": "m"}])
def test_a_malformed_error_reply_is_a_protocol_error(sock_dir: Path, error: Any) -> None:
    path = str(sock_dir / "f.sock")

    def script(conn: socket.socket, fake: FakeDaemon) -> None:
        fake.recv(conn)
        fake.send(conn, GOOD_HELLO)
        fake.recv(conn)
        fake.send(conn, {"jsonrpc": "2.0", "id": 1, "error": error})
        fake.release.wait(10)

    with FakeDaemon(path, script), DaemonClient.connect(path) as client:
        with pytest.raises(ProtocolError, match=r"error reply to m is malformed"):
            client.request("m")


def test_rpc_errors_are_typed(ipc: Harness) -> None:
    with DaemonClient.connect(ipc.socket_path) as client:
        with pytest.raises(RpcError) as info:
            client.request("test/fail")
        assert (info.value.code, info.value.message) == (-32004, "workspace not loaded")
        assert info.value.data == {"root": "/x", "hint": "load it"}
        with pytest.raises(RpcError) as info:
            client.request("no/such")
        assert info.value.code == -32601 and info.value.data == {"method": "no/such"}
        with pytest.raises(
            RpcError, match=r"^daemon/status: Invalid params \(-32602\): unknown field 'x'"
        ):
            client.request("daemon/status", {"x": 1})
        assert client.request("daemon/status")["pid"] == os.getpid()  # still usable


def test_request_timeout_closes_the_client(ipc: Harness) -> None:
    client = DaemonClient.connect(ipc.socket_path)
    with pytest.raises(RequestTimeout, match=rf"test/gate on sqryd socket {ipc.socket_path}"):
        client.request("test/gate", timeout=0.2)
    assert client.closed
    with pytest.raises(ConnectionLost, match="is closed"):
        client.request("daemon/status")


def test_waiting_for_a_slow_reply_sleeps_instead_of_spinning(ipc: Harness) -> None:
    """The client polls for a fast reply only briefly (REPLY_SPIN_SECS), then sleeps.

    CPU is that of the waiting thread alone; a client that spun through the wait
    would use about as much CPU as the wait is long.
    """
    with DaemonClient.connect(ipc.socket_path) as client:
        for _ in range(3):  # the first wait spins briefly, later ones not at all
            wall, cpu = time.perf_counter(), time.thread_time()
            assert client.request("test/slow", {"seconds": 0.3}) == "done"
            assert time.perf_counter() - wall >= 0.3
            assert time.thread_time() - cpu < 0.05
        assert client.request("daemon/status")["pid"] == os.getpid()  # fast ones still work


def test_connection_lost_when_the_server_goes_away(ipc: Harness) -> None:
    import threading

    client = DaemonClient.connect(ipc.socket_path)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.request("test/gate")
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert ipc.gate.entered.wait(5)
    ipc.server.shutdown(drain_secs=0.2)
    thread.join(10)
    assert len(errors) == 1 and isinstance(errors[0], ConnectionLost)
    assert ipc.socket_path in str(errors[0])


# --- connect failures ------------------------------------------------------------------


def test_not_running_when_no_socket(sock_dir: Path) -> None:
    path = str(sock_dir / "missing.sock")
    with pytest.raises(NotRunning) as info:
        DaemonClient.connect(path)
    assert path in str(info.value) and info.value.socket_path == path


def test_not_running_when_socket_is_stale(sock_dir: Path) -> None:
    path = str(sock_dir / "stale.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)  # bound, never listening: connect is refused
    try:
        with pytest.raises(NotRunning, match="refused"):
            DaemonClient.connect(path)
    finally:
        dead.close()


def test_not_running_when_path_is_a_regular_file(sock_dir: Path) -> None:
    path = sock_dir / "file.sock"
    path.write_text("")
    with pytest.raises(NotRunning):
        DaemonClient.connect(str(path))


def test_connect_timeout_when_backlog_is_full(sock_dir: Path) -> None:
    path = str(sock_dir / "full.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(0)
    fillers = []
    try:
        while True:  # fill the accept queue; nobody ever accepts
            filler = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            filler.setblocking(False)
            fillers.append(filler)
            try:
                filler.connect(path)
            except BlockingIOError:
                break
            except OSError as exc:
                assert exc.errno == errno.EAGAIN
                break
        with pytest.raises(ConnectTimeout, match=rf"{path} timed out after 0.2s"):
            DaemonClient.connect(path, connect_timeout=0.2)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def _silent(conn: socket.socket, fake: FakeDaemon) -> None:
    fake.recv(conn)
    fake.release.wait(10)


def _close_after_hello(conn: socket.socket, fake: FakeDaemon) -> None:
    fake.recv(conn)
    conn.close()


@pytest.mark.parametrize(
    ("script", "error", "fragment"),
    [
        (_silent, HandshakeTimeout, "did not answer the handshake within 0.2s"),
        (_close_after_hello, HelloEof, "closed the connection during the handshake"),
        (
            hello_then({"compatible": True, "daemon_version": "9.9", "envelope_version": 2}),
            EnvelopeVersionMismatch,
            "uses envelope version 2",
        ),
        (
            # envelope_version is checked before compatible
            hello_then({"compatible": False, "daemon_version": "9.9", "envelope_version": 3}),
            EnvelopeVersionMismatch,
            "uses envelope version 3",
        ),
        (
            hello_then({"compatible": False, "daemon_version": "9.9", "envelope_version": 1}),
            HelloRejected,
            "does not speak protocol version 1",
        ),
        (
            hello_then(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {
                        "code": -32600,
                        "message": "Invalid Request",
                        "data": {"reason": "peer uid 7 is not the daemon owner"},
                    },
                }
            ),
            HelloRejected,
            "rejected the connection: peer uid 7 is not the daemon owner",
        ),
        (
            hello_then({"hello": "there"}),
            HelloRejected,
            "the handshake reply lacks compatible, daemon_version, envelope_version: whatever "
            "serves this socket does not speak sqryd's protocol",
        ),
    ],
    ids=["silent", "eof", "envelope", "envelope-first", "incompatible", "refused", "shapeless"],
)
def test_handshake_failures(
    sock_dir: Path, script: Any, error: type[ClientError], fragment: str
) -> None:
    path = str(sock_dir / "f.sock")
    with FakeDaemon(path, script):
        with pytest.raises(error) as info:
            DaemonClient.connect(path, handshake_timeout=0.2)
    assert fragment in str(info.value)
    assert path in str(info.value)


def test_import_is_light() -> None:
    """``import sqry.client`` must not pull in asyncio, sqlite3, tree_sitter, logging..."""
    code = (
        "import sys; import sqry.client; "
        "heavy = {'asyncio', 'sqlite3', 'tree_sitter', 'logging', 'threading', 'concurrent', "
        "'dataclasses', 'typing_extensions', 'pathlib', 'tomllib', 'sqry.daemon.lifecycle', "
        "'typing', 'inspect', 'socket', 'selectors'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_bad_config_is_a_one_line_client_error(
    sock_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = sock_dir / "nope.toml"
    monkeypatch.setenv("SQRY_DAEMON_CONFIG", str(missing))
    with pytest.raises(ClientError) as info:
        DaemonClient.connect()
    message = str(info.value)
    assert message.startswith("cannot locate the sqryd socket: config file")
    assert str(missing) in message and "\n" not in message
