"""Wire-level behaviour of IpcServer over real Unix sockets (ipc.md §1–5)."""

from __future__ import annotations

import json

import pytest
from ipc_cases import INVALID_IDS, VALID_IDS, VALIDATION_ORDER
from ipc_testkit import HELLO, Harness, RawConn, header, is_error, request

from helpers import wait_until
from sqry.daemon.ipc.framing import MAX_FRAME_BYTES, encode_frame

pytestmark = pytest.mark.timeout(30)


def status_ok(conn: RawConn, request_id: int = 7) -> None:
    reply = conn.request("daemon/status", request_id=request_id)
    assert reply["id"] == request_id
    assert reply["result"]["result"]["pid"] > 0


# --- round trip and envelope -------------------------------------------------------


def test_round_trip_status_has_management_envelope(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.request("daemon/status", request_id=1)
    assert set(reply) == {"jsonrpc", "id", "result"}
    assert reply["jsonrpc"] == "2.0" and reply["id"] == 1
    assert reply["result"]["meta"] == {"stale": False, "daemon_version": "0.1.0"}


def test_workspace_meta_is_present_only_with_a_value(ipc: Harness) -> None:
    with ipc.connect() as conn:
        meta = conn.request("test/meta")["result"]["meta"]
    assert meta == {
        "stale": True,
        "daemon_version": "0.1.0",
        "workspace_state": "Loaded",
        "last_good_at": "2024-01-02T03:04:05Z",
    }
    assert "last_error" not in meta


def test_wire_bytes_are_compact_little_endian_frames(ipc: Harness) -> None:
    with ipc.connect() as conn:
        request = b'{"jsonrpc":"2.0","id":3,"method":"test/echo","params":{}}'
        conn.send_raw(len(request).to_bytes(4, "little") + request)
        raw_header = conn.sock.recv(4)
        body = conn.sock.recv(65536)
    assert int.from_bytes(raw_header, "little") == len(body)
    assert (
        body
        == b'{"jsonrpc":"2.0","id":3,"result":{"result":null,"meta":{"stale":false,"daemon_version":"0.1.0"}}}'
    )


def test_requests_split_across_reads_and_pipelined_are_answered_in_order(ipc: Harness) -> None:
    frames = b"".join(
        header(len(b)) + b
        for b in (
            json.dumps(
                {"jsonrpc": "2.0", "id": i, "method": "test/echo", "params": {"value": i}}
            ).encode()
            for i in range(50)
        )
    )
    with ipc.connect() as conn:
        for i in range(0, len(frames), 7):  # byte-dribble: every frame boundary is split
            conn.send_raw(frames[i : i + 7])
        replies = [conn.recv() for _ in range(50)]
    assert [r["id"] for r in replies] == list(range(50))
    assert [r["result"]["result"] for r in replies] == list(range(50))


# --- framing violations close only that connection -----------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(header(MAX_FRAME_BYTES + 1), id="oversize-length"),
        pytest.param(header(0xFFFFFFFF) + b"{}", id="max-u32-length"),
    ],
)
def test_oversize_length_closes_without_reply(ipc: Harness, payload: bytes) -> None:
    with ipc.connect() as bystander, ipc.connect() as bad:
        bad.send_raw(payload)
        bad.assert_closed()
        status_ok(bystander)
    with ipc.connect() as fresh:
        status_ok(fresh)


def test_oversize_length_behind_an_in_flight_request_answers_what_came_before(
    ipc: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Id 1 waits at the gate while id 2 and a bad length arrive in one read: id 2 was
    framed correctly, so it is answered after id 1, and only then is the connection
    closed (a violation used to drop every frame still queued)."""
    with ipc.connect() as conn:
        conn.send(request("test/gate", 1))
        assert ipc.gate.entered.wait(5)
        conn.send_raw(encode_frame(request("test/echo", 2, {"value": "b"})) + header(0xFFFFFFFF))
        wait_until(lambda: "4294967295-byte frame" in caplog.text, 5, message="the bad length")
        ipc.gate.open()
        first, second = conn.recv(), conn.recv()
        conn.assert_closed()
    assert first["id"] == 1 and first["result"]["result"] == {"released": True}
    assert second["id"] == 2 and second["result"]["result"] == "b"


def test_hello_request_and_half_close_in_one_write_are_all_answered(ipc: Harness) -> None:
    with ipc.connect(hello=False) as conn:
        conn.send_raw(encode_frame(HELLO) + encode_frame(request("daemon/status", 3)))
        conn.sock.shutdown(1)
        assert conn.recv()["compatible"] is True
        assert conn.recv()["id"] == 3
        conn.assert_closed()


def test_bytes_after_a_shim_register_are_never_served_as_frames(ipc: Harness) -> None:
    """After a ShimRegister the socket belongs to MCP/LSP (ipc.md §2): even bytes that
    happen to form a valid sqry frame are not answered; the refusal comes, then EOF."""
    with ipc.connect(hello=False) as conn:
        conn.send_raw(
            encode_frame({"protocol": "mcp", "pid": 1}) + encode_frame(request("test/tick", 1))
        )
        assert conn.recv()["accepted"] is False
        conn.assert_closed()
    assert ipc.probe.ticks == 0


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"\x10\x00", id="truncated-prefix"),
        pytest.param(header(100) + b'{"jsonrpc":', id="truncated-body"),
    ],
)
def test_truncated_frame_then_eof_closes_only_that_connection(ipc: Harness, payload: bytes) -> None:
    with ipc.connect() as bystander, ipc.connect() as bad:
        bad.send_raw(payload)
        bad.sock.shutdown(1)  # SHUT_WR: EOF inside the frame
        bad.assert_closed()
        status_ok(bystander)


def test_oversize_first_frame_closes_before_hello(ipc: Harness) -> None:
    with ipc.connect(hello=False) as conn:
        conn.send_raw(header(MAX_FRAME_BYTES + 1))
        conn.assert_closed()
    with ipc.connect() as fresh:
        status_ok(fresh)


def test_clean_eof_after_hello(ipc: Harness) -> None:
    conn = ipc.connect()
    conn.sock.shutdown(1)
    conn.assert_closed()
    conn.close()
    with ipc.connect() as fresh:
        status_ok(fresh)


def test_request_then_half_close_still_gets_its_reply(ipc: Harness) -> None:
    with ipc.connect() as conn:
        conn.send({"jsonrpc": "2.0", "id": 1, "method": "daemon/status"})
        conn.sock.shutdown(1)
        assert conn.recv()["id"] == 1
        conn.assert_closed()


def test_a_connection_that_never_says_hello_is_answered_and_closed(ipc: Harness) -> None:
    ipc.server.server.hello_timeout_secs = 0.3
    with ipc.connect(hello=False) as silent:
        assert silent.recv() == {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": -32600,
                "message": "Invalid Request",
                "data": {"reason": "no handshake within 0.3s of connecting; send a DaemonHello"},
            },
        }
        silent.assert_closed()
    with ipc.connect() as greeted:  # a hello in time: the timeout no longer applies
        slow = greeted.request("test/slow", {"seconds": 0.6})
        assert slow["result"]["result"] == "done"
        status_ok(greeted)


# --- first frame --------------------------------------------------------------------


def test_hello_incompatible_protocol_replies_then_closes(ipc: Harness) -> None:
    with ipc.connect(hello=False) as conn:
        reply = conn.call({"client_version": "x", "protocol_version": 2})
        assert reply == {"compatible": False, "daemon_version": "0.1.0", "envelope_version": 1}
        conn.assert_closed()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe", b'{"client_version": "x"', b"NaN"],
    ids=["text", "bad-utf8", "truncated-json", "nan"],
)
def test_first_frame_not_json(ipc: Harness, body: bytes) -> None:
    with ipc.connect(hello=False) as conn:
        conn.send_body(body)
        reply = conn.recv()
        assert is_error(reply, -32600)
        assert reply["error"]["data"] == {
            "reason": "first frame must be DaemonHello or ShimRegister"
        }
        conn.assert_closed()


@pytest.mark.parametrize(
    "frame",
    [
        {"client_version": "x", "protocol_version": 1, "extra": 1},
        {"client_version": "x"},
        {"protocol_version": 1},
        {"client_version": 1, "protocol_version": 1},
        {"client_version": "x", "protocol_version": True},
        {"client_version": "x", "protocol_version": 1.0},
        {"client_version": "x", "protocol_version": "1"},
        {"protocol": "mcp"},
        [HELLO],
        "hello",
        None,
        {"jsonrpc": "2.0", "id": 1, "method": "daemon/status"},
    ],
)
def test_first_frame_not_a_strict_hello(ipc: Harness, frame: object) -> None:
    with ipc.connect(hello=False) as conn:
        reply = conn.call(frame)
        assert is_error(reply, -32600)
        assert reply["error"]["data"] == {"reason": "first frame must be a DaemonHello handshake"}
        conn.assert_closed()
    with ipc.connect() as fresh:
        status_ok(fresh)


def test_hello_protocol_version_as_float_token_is_rejected(ipc: Harness) -> None:
    with ipc.connect(hello=False) as conn:
        conn.send_body(b'{"client_version":"x","protocol_version":1e0}')
        assert is_error(conn.recv(), -32600)
        conn.assert_closed()


@pytest.mark.parametrize("protocol", ["mcp", "lsp"])
def test_valid_shim_register_is_refused_because_not_hosted(ipc: Harness, protocol: str) -> None:
    with ipc.connect(hello=False) as conn:
        reply = conn.call({"protocol": protocol, "pid": 1234})
        assert reply["accepted"] is False
        assert f"protocol {protocol} is not hosted by this daemon" in reply["reason"]
        assert set(reply) == {"accepted", "reason"}
        conn.assert_closed()


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        ({"protocol": "grpc", "pid": 1}, '"mcp" or "lsp"'),
        ({"protocol": "mcp", "pid": -1}, "unsigned 32-bit"),
        ({"protocol": "mcp", "pid": 2**32}, "unsigned 32-bit"),
        ({"protocol": "mcp", "pid": "1"}, "unsigned 32-bit"),
        ({"protocol": "mcp", "pid": True}, "unsigned 32-bit"),
        ({"protocol": "mcp", "pid": 1, "x": 0}, "unknown field(s) in ShimRegister: x"),
    ],
)
def test_invalid_shim_register(ipc: Harness, frame: dict, fragment: str) -> None:
    with ipc.connect(hello=False) as conn:
        reply = conn.call(frame)
        assert reply["accepted"] is False
        assert fragment in reply["reason"]
        conn.assert_closed()


# --- JSON-RPC after the hello --------------------------------------------------------


def test_parse_error_replies_then_closes(ipc: Harness) -> None:
    with ipc.connect() as conn:
        conn.send_body(b'{"jsonrpc": "2.0",')
        reply = conn.recv()
        assert is_error(reply, -32700)
        assert reply["error"]["message"] == "Parse error"
        assert reply["error"]["data"]["reason"]
        conn.assert_closed()


@pytest.mark.parametrize("body", [b"1", b'"s"', b"null", b"true"])
def test_non_object_non_array_is_invalid_and_connection_stays_open(
    ipc: Harness, body: bytes
) -> None:
    with ipc.connect() as conn:
        conn.send_body(body)
        reply = conn.recv()
        assert is_error(reply, -32600)
        assert reply["error"]["data"] == {"reason": "request must be an object or array"}
        status_ok(conn)


@pytest.mark.parametrize(("token", "value"), VALID_IDS, ids=[t for t, _ in VALID_IDS])
def test_valid_ids_are_echoed_exactly(ipc: Harness, token: str, value: object) -> None:
    with ipc.connect() as conn:
        conn.send_body(b'{"jsonrpc":"2.0","method":"test/echo","id":' + token.encode() + b"}")
        body = conn.recv_body()
    assert b'"id":' + token.encode() + b"," in body
    reply = json.loads(body)
    assert reply["id"] == value and type(reply["id"]) is type(value)
    assert "result" in reply


@pytest.mark.parametrize("token", INVALID_IDS)
def test_invalid_ids_are_rejected(ipc: Harness, token: str) -> None:
    with ipc.connect() as conn:
        conn.send_body(b'{"jsonrpc":"2.0","method":"test/echo","id":' + token.encode() + b"}")
        reply = conn.recv()
        assert is_error(reply, -32600)
        assert reply["error"]["message"] == "Invalid Request"
        assert '"id"' in reply["error"]["data"]["reason"]
        status_ok(conn)


@pytest.mark.parametrize(("request_obj", "reason", "context"), VALIDATION_ORDER)
def test_validation_order(ipc: Harness, request_obj: dict, reason: str, context: object) -> None:
    with ipc.connect() as conn:
        reply = conn.call(request_obj)
        assert is_error(reply, -32600)
        data = reply["error"]["data"]
        assert reason in data["reason"]
        assert data.get("context") == context
        assert ("context" in data) == (context is not None)
        status_ok(conn)


def test_unknown_method(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.request("no/such", request_id="q")
    assert is_error(reply, -32601, "q")
    assert reply["error"] == {
        "code": -32601,
        "message": "Method not found",
        "data": {"method": "no/such"},
    }


@pytest.mark.parametrize("params", [None, {}])
def test_no_params_method_accepts_absent_null_or_empty(ipc: Harness, params: object) -> None:
    with ipc.connect() as conn:
        message = {"jsonrpc": "2.0", "id": 1, "method": "daemon/status", "params": params}
        assert "result" in conn.call(message)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"x": 1}, "unknown field 'x'"),
        ([], "takes no params"),
        ([1], "takes no params"),
    ],
)
def test_no_params_method_rejects_anything_else(ipc: Harness, params: object, reason: str) -> None:
    with ipc.connect() as conn:
        reply = conn.request("daemon/status", params, request_id=4)
    assert is_error(reply, -32602, 4)
    assert reply["error"]["message"] == "Invalid params"
    assert reason in reply["error"]["data"]["reason"]


def test_typed_params_decoded_over_the_wire(ipc: Harness) -> None:
    with ipc.connect() as conn:
        ok = conn.request("test/typed", {"name": "n", "count": 2, "ratio": 3})
        assert ok["result"]["result"] == {"name": "n", "count": 2, "ratio": 3.0}
        bad = conn.request("test/typed", {"name": "n", "count": True}, request_id=2)
        assert is_error(bad, -32602, 2)
        assert bad["error"]["data"] == {"reason": "field 'count' must be an integer, got a boolean"}


def test_typed_rpc_failure_from_handler(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.request("test/fail", request_id=9)
    assert reply["error"] == {
        "code": -32004,
        "message": "workspace not loaded",
        "data": {"root": "/x", "hint": "load it"},
    }


def test_handler_exception_is_internal_error_and_server_keeps_serving(
    ipc: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with ipc.connect() as conn:
        reply = conn.request("test/boom", request_id=5)
        assert is_error(reply, -32603, 5)
        data = reply["error"]["data"]
        assert data["kind"] == "internal"
        assert "kaboom" in data["reason"]
        status_ok(conn)  # same connection still served
    with ipc.connect() as other:
        status_ok(other)
    logged = [r for r in caplog.records if r.name == "sqry.daemon.ipc" and r.exc_info]
    assert logged and "kaboom" in str(logged[0].exc_info[1])


def test_unencodable_result_becomes_internal_error(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.request("test/unencodable", request_id=6)
        assert is_error(reply, -32603, 6)
        assert "could not be encoded" in reply["error"]["data"]["reason"]
        status_ok(conn)


def test_data_is_omitted_when_empty(ipc: Harness) -> None:
    with ipc.connect() as conn:
        conn.send({"jsonrpc": "2.0", "id": 1, "method": "test/echo", "params": {"value": [1]}})
        assert conn.recv()["result"]["result"] == [1]
    # every standard error above carries data; RpcFailure without data must omit it
    from sqry.daemon.ipc.protocol import RpcFailure, failure_response

    assert failure_response(1, RpcFailure(-32001, "x")) == {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": -32001, "message": "x"},
    }


# --- notifications ------------------------------------------------------------------


@pytest.mark.parametrize(
    "notification",
    [
        {"jsonrpc": "2.0", "method": "daemon/status"},
        {"jsonrpc": "2.0", "method": "daemon/status", "id": None},
        {"jsonrpc": "2.0", "method": "no/such/method"},
        {"jsonrpc": "2.0", "method": "test/boom"},
        {"jsonrpc": "2.0", "method": "daemon/status", "params": {"bad": 1}},
    ],
    ids=["plain", "null-id", "unknown-method", "raising", "bad-params"],
)
def test_notifications_are_never_answered(ipc: Harness, notification: dict) -> None:
    with ipc.connect() as conn:
        conn.send(notification)
        # The very next frame must be the reply to this request, proving none was sent.
        status_ok(conn, request_id=77)


def test_notification_is_dispatched(ipc: Harness) -> None:
    with ipc.connect() as conn:
        conn.send({"jsonrpc": "2.0", "method": "test/gate"})
        assert ipc.gate.entered.wait(5), "notification was not dispatched"
        ipc.gate.open()
        status_ok(conn)


# --- batches ------------------------------------------------------------------------


def test_batch_of_three(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.call(
            [
                {"jsonrpc": "2.0", "id": 1, "method": "test/echo", "params": {"value": "a"}},
                {"jsonrpc": "2.0", "id": 2, "method": "no/such"},
                {"jsonrpc": "2.0", "id": 3, "method": "test/echo", "params": {"value": "c"}},
            ]
        )
    assert [r["id"] for r in reply] == [1, 2, 3]
    assert reply[0]["result"]["result"] == "a"
    assert reply[1]["error"]["code"] == -32601
    assert reply[2]["result"]["result"] == "c"


def test_batch_mixed_with_notification_and_invalid_entries(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.call(
            [
                {"jsonrpc": "2.0", "id": 1, "method": "daemon/status"},
                {"jsonrpc": "2.0", "method": "daemon/status"},
                [{"jsonrpc": "2.0", "id": 2, "method": "daemon/status"}],
                {"jsonrpc": "1.0", "id": 3, "method": "x"},
                5,
                {"jsonrpc": "2.0", "id": 4, "method": "daemon/status"},
            ]
        )
    assert len(reply) == 5
    assert reply[0]["id"] == 1 and "result" in reply[0]
    assert is_error(reply[1], -32600) and "array" in reply[1]["error"]["data"]["reason"]
    assert is_error(reply[2], -32600) and reply[2]["error"]["data"]["context"] == "1.0"
    assert is_error(reply[3], -32600)
    assert reply[4]["id"] == 4 and "result" in reply[4]


def test_batch_of_only_notifications_gets_no_frame(ipc: Harness) -> None:
    with ipc.connect() as conn:
        conn.send(
            [
                {"jsonrpc": "2.0", "method": "daemon/status"},
                {"jsonrpc": "2.0", "method": "no/such"},
                {"jsonrpc": "2.0", "method": "test/boom"},
            ]
        )
        status_ok(conn, request_id=88)


def test_empty_batch(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.call([])
        assert isinstance(reply, dict)
        assert is_error(reply, -32600)
        assert reply["error"]["data"] == {"reason": "batch must contain at least one request"}
        status_ok(conn)


def test_batch_with_only_a_nested_array(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.call([[]])
        assert isinstance(reply, list) and len(reply) == 1
        assert is_error(reply[0], -32600)
        status_ok(conn)


# --- connections --------------------------------------------------------------------


def test_connections_are_served_in_parallel(ipc: Harness) -> None:
    """A request blocked in a handler on one connection does not stall another."""
    with ipc.connect() as blocked, ipc.connect() as other:
        blocked.send({"jsonrpc": "2.0", "id": 1, "method": "test/gate"})
        assert ipc.gate.entered.wait(5)
        status_ok(other)
        ipc.gate.open()
        assert blocked.recv()["result"]["result"] == {"released": True}


def test_one_connection_is_served_in_order_one_at_a_time(ipc: Harness) -> None:
    """Positive proof, no negative wait: both frames go out in one write, so the server
    holds id 2 queued while id 1 waits at the gate; id 1 reports how many ticks ran
    before it was released. A server running id 2 alongside id 1 would have ticked."""
    with ipc.connect() as conn:
        conn.send_raw(
            encode_frame(request("test/gate_ticks", 1)) + encode_frame(request("test/tick", 2))
        )
        assert ipc.gate.entered.wait(5)
        ipc.gate.open()
        first, second = conn.recv(), conn.recv()
    assert first["id"] == 1 and first["result"]["result"] == 0  # id 2 had not run
    assert second["id"] == 2 and second["result"]["result"] == 1


def test_activity_counters(ipc: Harness) -> None:
    ctx = ipc.server.ctx
    assert ctx.open_connections == 0
    with ipc.connect() as conn:
        status_ok(conn)
        assert ctx.open_connections == 1
        assert ctx.idle_seconds() == 0.0
    from helpers import wait_until

    wait_until(lambda: ctx.open_connections == 0, 5, message="connection to be untracked")


# --- large frames and backpressure ----------------------------------------------------------


def test_multi_megabyte_frames_round_trip(ipc: Harness) -> None:
    big = "x" * (3 * 1024 * 1024) + "é"
    with ipc.connect() as conn:
        reply = conn.request("test/echo", {"value": big}, request_id=1)
        assert reply["result"]["result"] == big
        status_ok(conn)


def test_client_that_does_not_read_is_throttled_not_dropped(
    ipc: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pipelined requests with big replies to a client that is not reading: the server
    pauses (write backpressure, then stops reading), and once the client reads, every
    reply arrives intact and in order."""
    import threading

    from helpers import wait_until
    from sqry.daemon.ipc import server as server_module

    paused = threading.Event()
    original = server_module._Connection.pause_writing

    def recording_pause(self: object) -> None:
        paused.set()
        original(self)  # type: ignore[arg-type]

    monkeypatch.setattr(server_module._Connection, "pause_writing", recording_pause)
    value = "y" * 256 * 1024
    count = 100  # ~25 MiB of replies
    frames = b"".join(
        header(len(b)) + b
        for b in (
            json.dumps(
                {"jsonrpc": "2.0", "id": i, "method": "test/echo", "params": {"value": value}}
            ).encode()
            for i in range(count)
        )
    )
    with ipc.connect() as conn:
        sender = threading.Thread(target=conn.send_raw, args=(frames,), daemon=True)
        sender.start()
        wait_until(paused.is_set, 10, message="the server to pause writing")
        ids = []
        for _ in range(count):
            reply = conn.recv()
            assert reply["result"]["result"] == value
            ids.append(reply["id"])
        sender.join(10)
        assert ids == list(range(count))
    with ipc.connect() as other:
        status_ok(other)
