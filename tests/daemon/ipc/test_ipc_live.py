"""The wire rules against a real ``sqryd`` process (``sqryd start --detach``), not the
in-process server: id matrix, validation, batches and their limits, unknown methods,
stop-then-drain, and no file descriptor leaked by hundreds of bad connections.

Read-only checks share one daemon per module; tests that stop the daemon or count its
descriptors get their own (``live_daemon``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import pytest
from ipc_cases import HUGE_INVALID_IDS, INVALID_IDS, VALID_IDS, VALIDATION_ORDER
from ipc_testkit import (
    HELLO,
    RawConn,
    assert_no_fd_growth,
    header,
    idle_fd_count,
    is_error,
    request,
)

from helpers import LiveDaemon, SqrydEnv, lock_is_held, pid_alive, socket_accepts, wait_until
from sqry.daemon.ipc.dispatch import MAX_BATCH_ELEMENTS
from sqry.daemon.ipc.framing import MAX_FRAME_BYTES, encode_frame

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def shared() -> Iterator[LiveDaemon]:
    """One real daemon for the read-only checks of this module (killed at the end)."""
    env = SqrydEnv.create()
    try:
        daemon = LiveDaemon.start(env)
        yield daemon
        daemon.stop()
    finally:
        env.cleanup()


def connect(daemon: LiveDaemon, *, hello: bool = True) -> RawConn:
    conn = RawConn(str(daemon.socket))
    if hello:
        reply = conn.call(HELLO)
        assert reply["compatible"] is True and reply["envelope_version"] == 1
    return conn


def status_ok(conn: RawConn, daemon: LiveDaemon, request_id: int = 7) -> None:
    reply = conn.request("daemon/status", request_id=request_id)
    assert reply["id"] == request_id and reply["result"]["result"]["pid"] == daemon.pid


# --- ids and validation ---------------------------------------------------------------


@pytest.mark.parametrize(("token", "value"), VALID_IDS, ids=[t for t, _ in VALID_IDS])
def test_valid_ids_are_echoed_exactly(shared: LiveDaemon, token: str, value: object) -> None:
    with connect(shared) as conn:
        conn.send_body(b'{"jsonrpc":"2.0","method":"daemon/status","id":' + token.encode() + b"}")
        body = conn.recv_body()
    assert body is not None and b'"id":' + token.encode() + b"," in body
    reply = json.loads(body)
    assert reply["id"] == value and type(reply["id"]) is type(value)


@pytest.mark.parametrize(
    "token", INVALID_IDS + HUGE_INVALID_IDS, ids=INVALID_IDS + ["huge", "-huge"]
)
def test_invalid_ids_are_rejected_and_the_connection_stays_open(
    shared: LiveDaemon, token: str
) -> None:
    with connect(shared) as conn:
        reply = conn.call_body(
            b'{"jsonrpc":"2.0","method":"daemon/status","id":' + token.encode() + b"}"
        )
        assert is_error(reply, -32600) and '"id"' in reply["error"]["data"]["reason"]
        status_ok(conn, shared)


@pytest.mark.parametrize(("request_obj", "reason", "context"), VALIDATION_ORDER)
def test_validation_order(
    shared: LiveDaemon, request_obj: dict, reason: str, context: object
) -> None:
    with connect(shared) as conn:
        reply = conn.call(request_obj)
        assert is_error(reply, -32600)
        data = reply["error"]["data"]
        assert reason in data["reason"] and data.get("context") == context
        status_ok(conn, shared)


def test_unknown_method_and_unanswered_notifications(shared: LiveDaemon) -> None:
    with connect(shared) as conn:
        assert conn.request("no/such", request_id="q")["error"] == {
            "code": -32601,
            "message": "Method not found",
            "data": {"method": "no/such"},
        }
        conn.send(request("no/such", None))
        conn.send(request("daemon/status", None, {"bad": 1}))
        status_ok(conn, shared, 77)  # the very next frame answers id 77


def test_parse_error_closes_only_that_connection(shared: LiveDaemon) -> None:
    with connect(shared) as bystander, connect(shared) as conn:
        conn.send_body(b'{"jsonrpc": "2.0",')
        assert is_error(conn.recv(), -32700)
        conn.assert_closed()
        status_ok(bystander, shared)


# --- an oversize length after valid frames in the same read ---------------------------
# Every frame before the bad length is answered, in order; only then does the daemon
# close (ipc.md §1, §3). Each payload goes out in one sendall, so the daemon reads the
# valid frames and the bad length together.


def _replies_then_eof(conn: RawConn, count: int) -> list[object]:
    """Read ``count`` reply frames, then assert that the daemon closed the connection."""
    replies = [conn.recv() for _ in range(count)]
    conn.assert_closed()
    return replies


def test_hello_then_oversize_length_gets_the_hello_reply_then_eof(shared: LiveDaemon) -> None:
    with connect(shared, hello=False) as conn:
        conn.send_raw(encode_frame(HELLO) + header(0xFFFFFFFF))
        [reply] = _replies_then_eof(conn, 1)
    assert reply == {"compatible": True, "daemon_version": "0.1.0", "envelope_version": 1}


def test_hello_request_then_oversize_length_answers_both_then_eof(shared: LiveDaemon) -> None:
    with connect(shared, hello=False) as conn:
        conn.send_raw(
            encode_frame(HELLO) + encode_frame(request("daemon/status", 5)) + header(0xFFFFFFFF)
        )
        hello, status = _replies_then_eof(conn, 2)
    assert hello["compatible"] is True  # type: ignore[index]
    assert status["id"] == 5 and status["result"]["result"]["pid"] == shared.pid  # type: ignore[index]


def test_pipelined_requests_then_oversize_length_are_answered_in_order(shared: LiveDaemon) -> None:
    with connect(shared) as conn:
        conn.send_raw(
            b"".join(encode_frame(request("daemon/status", i)) for i in range(3))
            + header(MAX_FRAME_BYTES + 1)
        )
        replies = _replies_then_eof(conn, 3)
    assert [r["id"] for r in replies] == [0, 1, 2]  # type: ignore[index]


def test_oversize_length_after_an_answered_request_closes_without_reply(
    shared: LiveDaemon,
) -> None:
    with connect(shared) as conn:
        status_ok(conn, shared)
        conn.send_raw(header(0xFFFFFFFF))
        conn.assert_closed()


@pytest.mark.parametrize("protocol", ["lsp", "mcp"])
def test_shim_register_is_refused_and_the_other_protocol_is_never_read_as_frames(
    shared: LiveDaemon, protocol: str
) -> None:
    """After a ShimRegister the socket carries LSP/MCP framing: "Cont" must not be read
    as a 1.9 GB length that drops the refusal (ipc.md §2)."""
    with connect(shared, hello=False) as conn:
        conn.send_raw(
            encode_frame({"protocol": protocol, "pid": 1}) + b"Content-Length: 2\r\n\r\n{}"
        )
        [reply] = _replies_then_eof(conn, 1)
    assert reply == {
        "accepted": False,
        "reason": f"protocol {protocol} is not hosted by this daemon; "
        f"run the {protocol} server standalone",
    }


# --- batches ----------------------------------------------------------------------------


def test_mixed_batch(shared: LiveDaemon) -> None:
    with connect(shared) as conn:
        reply = conn.call(
            [
                request("daemon/status", 1),
                request("daemon/status", None),
                [request("daemon/status", 2)],
                {"jsonrpc": "1.0", "id": 3, "method": "x"},
                request("no/such", 4),
            ]
        )
    assert [r["id"] for r in reply] == [1, None, None, 4]
    assert reply[0]["result"]["result"]["pid"] == shared.pid
    assert is_error(reply[1], -32600) and is_error(reply[2], -32600)
    assert is_error(reply[3], -32601, 4)


def test_empty_and_notification_only_batches(shared: LiveDaemon) -> None:
    with connect(shared) as conn:
        empty = conn.call([])
        assert is_error(empty, -32600)
        assert empty["error"]["data"] == {"reason": "batch must contain at least one request"}
        conn.send([request("daemon/status", None), request("no/such", None)])
        status_ok(conn, shared, 88)


def test_batch_at_the_limit(shared: LiveDaemon) -> None:
    with connect(shared) as conn:
        reply = conn.call([request("daemon/status", i) for i in range(MAX_BATCH_ELEMENTS)])
    assert [r["id"] for r in reply] == list(range(MAX_BATCH_ELEMENTS))


def test_huge_batch_is_refused_fast_and_others_are_served(shared: LiveDaemon) -> None:
    """The reviewer's 600,000-element batch froze a real daemon for ~40 s."""
    with connect(shared) as conn, connect(shared) as bystander:
        conn.send_body(b"[" + b",".join([b"0"] * 600_000) + b"]")
        status_ok(bystander, shared)
        reply = conn.recv()  # RawConn's 5 s IO timeout bounds "fast"
        assert type(reply) is dict and is_error(reply, -32600)
        assert reply["error"]["data"]["reason"].startswith("batch too large (600000 elements")
        status_ok(conn, shared)


def test_too_many_values_is_refused_without_closing(shared: LiveDaemon) -> None:
    with connect(shared) as conn:
        body = b'{"jsonrpc":"2.0","id":1,"method":"daemon/status","params":{"v":['
        reply = conn.call_body(body + b",".join([b"{}"] * 1_100_000) + b"]}}")
        assert is_error(reply, -32600)
        assert "too large to decode" in reply["error"]["data"]["reason"]
        status_ok(conn, shared)


# --- stop, then drain -----------------------------------------------------------------


def test_stop_replies_then_the_socket_refuses_and_the_lock_is_freed(
    live_daemon: LiveDaemon,
) -> None:
    env = live_daemon.env
    with connect(live_daemon) as idle, connect(live_daemon) as conn:
        conn.send_raw(
            encode_frame(request("daemon/stop", 1)) + encode_frame(request("daemon/status", 2))
        )
        assert conn.recv() == {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {
                "result": {"scheduled": True},
                "meta": {"stale": False, "daemon_version": "0.1.0"},
            },
        }
        conn.assert_closed()  # id 2, queued behind the stop, is never served
        idle.assert_closed()  # the drain closes idle connections
    wait_until(lambda: not socket_accepts(env.socket), 20, message="the socket to refuse")
    wait_until(lambda: not lock_is_held(env.lock), 20, message="the lock to be released")
    wait_until(lambda: not pid_alive(live_daemon.pid), 20, message="the daemon to exit")


# --- no descriptor leaks ------------------------------------------------------------------


def _bad_connections(path: str) -> list[Callable[[], None]]:
    """One function per kind of misbehaving client; each opens and abandons a connection."""

    def raw(data: bytes, *, hello: bool = False, half_close: bool = True) -> Callable[[], None]:
        def run() -> None:
            with RawConn(path) as conn:
                if hello:
                    conn.call(HELLO)
                conn.send_raw(data)
                if half_close:
                    conn.sock.shutdown(socket.SHUT_WR)
                _read_until_closed(conn.sock)

        return run

    return [
        raw(header(MAX_FRAME_BYTES + 1), hello=True, half_close=False),  # oversize length
        raw(header(MAX_FRAME_BYTES + 1)),  # oversize before the hello
        raw(b"\x10\x00", hello=True),  # truncated prefix
        raw(header(100) + b'{"jsonrpc":', hello=True),  # truncated body
        raw(encode_frame("garbage first frame"), half_close=False),
        raw(b"\xff\xfe not json at all"),
        raw(b"", hello=True),  # clean half-close after the hello
        raw(encode_frame(request("daemon/status", 1)), hello=True),  # request, then EOF
        raw(b""),  # connect and hang up
    ]


def _read_until_closed(sock: socket.socket) -> None:
    """Read whatever the daemon sends until it closes its side (bounded by the timeout)."""
    while True:
        try:
            if not sock.recv(65536):
                return
        except ConnectionResetError:
            return


def test_bad_connections_leak_no_descriptors(live_daemon: LiveDaemon) -> None:
    pid = live_daemon.pid
    baseline = idle_fd_count(str(live_daemon.socket), pid)
    kinds = _bad_connections(str(live_daemon.socket))
    for _ in range(40):  # 360 bad connections
        for make_trouble in kinds:
            make_trouble()
    assert_no_fd_growth(pid, baseline)
    with connect(live_daemon) as conn:
        status_ok(conn, live_daemon)
