"""Limits that keep one request from freezing or flooding the daemon (dispatch.py, protocol.py).

Batch size, batch fairness, over-size replies, the JSON value cap, deep nesting,
integers past Python's digit limit and read backpressure by bytes — all over real
sockets against the in-process server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading

import pytest
from ipc_cases import HUGE_DIGITS
from ipc_testkit import Harness, RawConn, header, is_error, request

from helpers import wait_until
from sqry.daemon.ipc.dispatch import BATCH_YIELD_EVERY, MAX_BATCH_ELEMENTS
from sqry.daemon.ipc.framing import MAX_FRAME_BYTES, encode_frame
from sqry.daemon.ipc.protocol import MAX_JSON_VALUES

pytestmark = pytest.mark.timeout(60)

MIB = 1024 * 1024


def status_ok(conn: RawConn, request_id: int = 7) -> None:
    reply = conn.request("daemon/status", request_id=request_id)
    assert reply["id"] == request_id and reply["result"]["result"]["pid"] > 0


def ipc_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "sqry.daemon.ipc" and r.levelno >= logging.ERROR]


# --- batch size ----------------------------------------------------------------------


def test_huge_batch_is_one_error_and_nothing_runs(ipc: Harness) -> None:
    """The reviewer's frame: 600,000 elements in 1.2 MB. It used to take ~40 s and
    ~900 MB and closed the connection with no reply."""
    body = b"[" + b",".join([b"0"] * 600_000) + b"]"
    with ipc.connect() as conn, ipc.connect() as bystander:
        conn.send_body(body)
        status_ok(bystander)  # answered meanwhile (IO timeout: 5 s)
        reply = conn.recv()
        assert type(reply) is dict and is_error(reply, -32600)
        assert reply["error"]["data"] == {
            "reason": f"batch too large (600000 elements, limit {MAX_BATCH_ELEMENTS}); "
            "split it into smaller batches"
        }
        status_ok(conn)  # the connection stays open


def test_batch_at_the_limit_is_served_one_over_is_not(ipc: Harness) -> None:
    with ipc.connect() as conn:
        full = conn.call([request("test/tick", i) for i in range(MAX_BATCH_ELEMENTS)])
        assert [r["id"] for r in full] == list(range(MAX_BATCH_ELEMENTS))
        assert ipc.probe.ticks == MAX_BATCH_ELEMENTS
        over = conn.call([request("test/tick", i) for i in range(MAX_BATCH_ELEMENTS + 1)])
        assert is_error(over, -32600)
        assert (
            f"({MAX_BATCH_ELEMENTS + 1} elements, limit {MAX_BATCH_ELEMENTS})"
            in (over["error"]["data"]["reason"])
        )
        assert ipc.probe.ticks == MAX_BATCH_ELEMENTS  # nothing of the refused batch ran


def test_other_connections_are_served_while_a_batch_runs(ipc: Harness) -> None:
    """The first element of a batch sends a request on another connection (from the
    server's loop, so it is queued while the batch is mid-way); that request must be
    answered before the batch ends: it sees fewer ticks than the batch holds."""
    with ipc.connect() as conn, ipc.connect() as other:
        ipc.probe.on_tick = lambda: other.send(request("test/ticks", "probe"))
        conn.send([request("test/tick", i) for i in range(MAX_BATCH_ELEMENTS)])
        seen = other.recv()
        batch = conn.recv()
    assert seen["id"] == "probe"
    assert 1 <= seen["result"]["result"] < MAX_BATCH_ELEMENTS
    # It was served at the first yield point, not at some arbitrary later one.
    assert seen["result"]["result"] <= 2 * BATCH_YIELD_EVERY
    assert [r["result"]["result"] for r in batch] == list(range(1, MAX_BATCH_ELEMENTS + 1))


def test_batch_of_notifications_and_requests_keeps_order_across_yields(ipc: Harness) -> None:
    items = [request("test/tick", i if i % 3 else None) for i in range(300)]
    with ipc.connect() as conn:
        reply = conn.call(items)
    assert [r["id"] for r in reply] == [i for i in range(300) if i % 3]
    assert ipc.probe.ticks == 300


# --- replies over the frame limit --------------------------------------------------------


def test_batch_reply_over_the_frame_limit_is_one_small_error(
    ipc: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    third = MAX_FRAME_BYTES // 3
    items = [request("test/big", i, {"size": third}) for i in range(1, 4)]
    items.append(request("test/tick", 4))
    with ipc.connect() as conn:
        conn.send(items)
        body = conn.recv_body()
        assert body is not None and len(body) < 1024
        reply = json.loads(body)
        assert type(reply) is dict and is_error(reply, -32603)
        reason = reply["error"]["data"]["reason"]
        assert "at element 3 of 4" in reason and "elements 4-4 were not run" in reason
        status_ok(conn)
    assert ipc.probe.ticks == 0  # the element after the overflow never ran
    assert len(ipc_errors(caplog)) == 1


def test_single_reply_over_the_frame_limit_keeps_its_id(
    ipc: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with ipc.connect() as conn:
        reply = conn.request("test/big", {"size": MAX_FRAME_BYTES + 1}, request_id=9)
        assert is_error(reply, -32603, 9)
        assert "frame limit" in reply["error"]["data"]["reason"]
        status_ok(conn)
    assert len(ipc_errors(caplog)) == 1


def test_reply_too_large_by_its_own_id_is_answered_without_it(
    ipc: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A valid string id just under the frame limit makes any reply too large, the
    error reply included: the client still gets an answer (``"id": null``), the
    connection stays usable and the one log line stays short."""
    huge_id = "x" * (MAX_FRAME_BYTES - 120)  # the request fits, its error reply would not
    with ipc.connect() as conn:
        reply = conn.request("test/big", {"size": 1000}, request_id=huge_id)
        assert is_error(reply, -32603, None)
        assert "frame limit" in reply["error"]["data"]["reason"]
        status_ok(conn)
    (logged,) = ipc_errors(caplog)
    assert len(logged.getMessage()) < 500
    assert f"({len(huge_id) + 2} characters)" in logged.getMessage()


def test_unencodable_batch_entries_are_logged_once(
    ipc: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with ipc.connect() as conn:
        reply = conn.call([request("test/unencodable", i) for i in range(200)])
    assert [r["id"] for r in reply] == list(range(200))
    assert all(is_error(r, -32603, r["id"]) for r in reply)
    errors = ipc_errors(caplog)
    assert len(errors) == 1 and "and 199 more" in errors[0].getMessage()


# --- what a frame may hold ------------------------------------------------------------


def test_frame_with_too_many_values_is_refused_and_the_connection_stays_open(
    ipc: Harness,
) -> None:
    values = b"[" + b",".join([b"[]"] * MAX_JSON_VALUES) + b"]"
    body = b'{"jsonrpc":"2.0","id":1,"method":"test/echo","params":{"value":' + values + b"}}"
    with ipc.connect() as conn:
        reply = conn.call_body(body)
        assert is_error(reply, -32600)
        assert f"limit {MAX_JSON_VALUES}" in reply["error"]["data"]["reason"]
        status_ok(conn)


def test_many_values_under_the_cap_are_decoded(ipc: Harness) -> None:
    count = MAX_JSON_VALUES // 2
    with ipc.connect() as conn:
        reply = conn.request("test/echo", {"value": [0] * count})
    assert reply["result"]["result"] == [0] * count


def test_big_string_full_of_commas_under_the_cap_is_decoded(ipc: Harness) -> None:
    text = "a," * (MAX_JSON_VALUES // 2)
    with ipc.connect() as conn:
        assert conn.request("test/echo", {"value": text})["result"]["result"] == text


def test_deep_nesting_is_refused_without_closing(ipc: Harness) -> None:
    depth = 100_000
    with ipc.connect() as conn:
        reply = conn.call_body(b"[" * depth + b"]" * depth)
        assert is_error(reply, -32600)
        assert "nested too deeply" in reply["error"]["data"]["reason"]
        status_ok(conn)


# --- integers past int()'s digit limit (4,300) ---------------------------------------------

HUGE = HUGE_DIGITS


@pytest.mark.parametrize("token", [HUGE, "-" + HUGE], ids=["positive", "negative"])
def test_huge_integer_id_is_invalid_request_and_the_connection_stays_open(
    ipc: Harness, token: str
) -> None:
    with ipc.connect() as conn:
        reply = conn.call_body(
            b'{"jsonrpc":"2.0","method":"daemon/status","id":' + token.encode() + b"}"
        )
        assert is_error(reply, -32600)
        assert '"id"' in reply["error"]["data"]["reason"]
        status_ok(conn)


def test_huge_integer_in_a_typed_field_is_invalid_params(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.call_body(
            b'{"jsonrpc":"2.0","id":3,"method":"test/typed","params":{"name":"n","count":'
            + HUGE.encode()
            + b"}}"
        )
        assert is_error(reply, -32602, 3)
        assert reply["error"]["data"]["reason"] == (
            "field 'count' must be an integer, got an integer of 5000 digits (too large to use)"
        )
        status_ok(conn)


def test_huge_integer_in_untyped_params_reaches_the_handler(ipc: Harness) -> None:
    """``test/echo`` takes Any: the handler gets the marker, and echoing it back cannot
    be encoded, which is answered -32603 for that id (the handler's business)."""
    with ipc.connect() as conn:
        reply = conn.call_body(
            b'{"jsonrpc":"2.0","id":4,"method":"test/echo","params":{"value":[1,'
            + HUGE.encode()
            + b"]}}"
        )
        assert is_error(reply, -32603, 4)
        assert "HugeInt" in reply["error"]["data"]["reason"]
        status_ok(conn)


def test_huge_integer_in_a_batch_element_id(ipc: Harness) -> None:
    with ipc.connect() as conn:
        reply = conn.call_body(
            b'[{"jsonrpc":"2.0","method":"test/tick","id":'
            + HUGE.encode()
            + b'},{"jsonrpc":"2.0","method":"test/tick","id":2}]'
        )
    assert is_error(reply[0], -32600) and reply[1]["id"] == 2
    assert ipc.probe.ticks == 1


def test_huge_integer_with_a_syntax_error_is_still_a_parse_error(ipc: Harness) -> None:
    with ipc.connect() as conn:
        conn.send_body(b'{"jsonrpc":"2.0","id":' + HUGE.encode() + b",}")
        reply = conn.recv()
        assert is_error(reply, -32700)
        assert "Exceeds the limit" not in reply["error"]["data"]["reason"]
        conn.assert_closed()


def test_huge_integer_in_the_hello_is_not_a_hello(ipc: Harness) -> None:
    with ipc.connect(hello=False) as conn:
        conn.send_body(b'{"client_version":"x","protocol_version":' + HUGE.encode() + b"}")
        reply = conn.recv()
        assert is_error(reply, -32600)
        assert reply["error"]["data"] == {"reason": "first frame must be a DaemonHello handshake"}
        conn.assert_closed()


# --- memory held per connection -----------------------------------------------------------


def test_reading_pauses_on_queued_bytes_not_only_on_frame_count(ipc: Harness) -> None:
    """A client pipelining big frames behind a busy request: the server stops reading
    once 16 MiB are queued (4 frames here, far below the 64-frame pause), and serves
    everything in order once the busy request finishes."""
    from sqry.daemon.ipc import server as server_module

    value = "v" * (5 * MIB)
    frames = encode_frame(request("test/gate", 0)) + b"".join(
        encode_frame(request("test/echo", i, {"value": value})) for i in range(1, 9)
    )

    def paused_with_queued_bytes() -> int | None:
        """Queued bytes of the connection once it has paused reading (read on the loop)."""

        async def read() -> int | None:
            for connection in ipc.server.server._connections:
                if connection._read_paused:
                    return connection._queued_bytes
            return None

        return ipc.server.call(read(), timeout=5)

    with ipc.connect() as conn:
        sender = threading.Thread(target=conn.send_raw, args=(frames,), daemon=True)
        sender.start()
        assert ipc.gate.entered.wait(10)
        queued = wait_until(paused_with_queued_bytes, 20, message="the server to pause reading")
        assert server_module._READ_PAUSE_BYTES <= queued < server_module._READ_PAUSE_BYTES + 6 * MIB
        ipc.gate.open()
        replies = [conn.recv() for _ in range(9)]
        sender.join(10)
    assert [r["id"] for r in replies] == list(range(9))
    assert all(r["result"]["result"] == value for r in replies[1:])


def test_a_big_frame_is_decoded_off_the_loop(ipc: Harness) -> None:
    """While one connection's ~55 MiB request is being decoded (a good part of a
    second), another connection is answered: the big body is decoded in a worker
    thread. On the loop, the other reply would come only after the big request's
    own reply had been written."""
    import select

    value = ["x" * 50] * (MAX_JSON_VALUES * 9 // 10)
    body = json.dumps(request("test/echo", 1, {"value": value})).encode()
    with ipc.connect() as big, ipc.connect() as other:
        big.send_body(body)
        status_ok(other)
        readable, _, _ = select.select([big.sock], [], [], 0)
        assert readable == [], "the big request was answered before the small one"
        assert big.recv()["result"]["result"] == value


# --- the budget of big frames over all connections --------------------------------


def test_big_frames_past_the_shared_budget_end_that_input_with_32003(ipc: Harness) -> None:
    """Frames of 1 MiB or more reserve their announced length until served, from
    one budget for all connections: clients announcing 64 MiB frames and sending
    them slowly (or never) hold at most the budget. The frame that does not fit
    ends its connection's input: what came before it is answered, then one
    -32003, then the close; other connections are served, and a finished big
    frame gives its share back. (Only lengths are announced: this costs no memory.)"""
    from sqry.daemon.ipc.server import FRAME_BUDGET_BYTES

    server = ipc.server.server
    holders = [ipc.connect() for _ in range(FRAME_BUDGET_BYTES // MAX_FRAME_BYTES)]
    try:
        for holder in holders:
            holder.send_raw(header(MAX_FRAME_BYTES) + b'{"jsonrpc": "2.0"')
        wait_until(lambda: server.frames_reserved == FRAME_BUDGET_BYTES, 5, message="reservations")
        with ipc.connect() as late, ipc.connect() as bystander:
            late.send_raw(encode_frame(request("daemon/status", 3)) + header(2 * MIB) + b"[")
            assert late.recv()["id"] == 3  # the frame before the one refused
            farewell = late.recv()
            assert is_error(farewell, -32003)
            assert farewell["error"]["data"]["requested_bytes"] == 2 * MIB
            assert farewell["error"]["data"]["limit_bytes"] == FRAME_BUDGET_BYTES
            late.assert_closed()
            status_ok(bystander)
        holders.pop().close()
        wait_until(lambda: server.frames_reserved < FRAME_BUDGET_BYTES, 5, message="the release")
        with ipc.connect() as retry:
            padding = b" " * (2 * MIB)
            body = json.dumps(request("daemon/status", 9)).encode() + padding
            assert retry.call_body(body)["id"] == 9
        assert server.frames_reserved == (len(holders)) * MAX_FRAME_BYTES
    finally:
        for holder in holders:
            holder.close()
    wait_until(lambda: server.frames_reserved == 0, 5, message="every share given back")


def test_a_big_frame_holds_its_share_until_decoded_and_eof_gives_it_back(ipc: Harness) -> None:
    """Complete big frames waiting for the (one) decoder still hold their bodies,
    so they still count; a frame cut short by EOF gives its share back at once."""
    server = ipc.server.server
    body = json.dumps(request("daemon/status", 5)).encode() + b" " * (2 * MIB)
    server.frame_budget = 2 * len(body)

    async def take_decoder() -> None:
        await server.big_decodes.acquire()

    async def give_decoder() -> None:
        server.big_decodes.release()

    ipc.server.call(take_decoder(), timeout=5)
    first, second, third = ipc.connect(), ipc.connect(), ipc.connect()
    try:
        first.send_body(body)
        second.send_body(body)  # with first's: the whole budget, both waiting to decode
        wait_until(lambda: server.frames_reserved == 2 * len(body), 5, message="both held")
        with contextlib.suppress(BrokenPipeError):  # closed before it all went out
            third.send_body(body)
        assert is_error(third.recv(), -32003)
        third.assert_closed()
        ipc.server.call(give_decoder(), timeout=5)
        assert first.recv()["id"] == 5 and second.recv()["id"] == 5
        wait_until(lambda: server.frames_reserved == 0, 5, message="given back once decoded")
        with ipc.connect() as cut:
            cut.send_raw(header(3 * MIB) + b"[")
            wait_until(lambda: server.frames_reserved == 3 * MIB, 5, message="reserved")
            cut.sock.shutdown(socket.SHUT_WR)  # EOF inside the frame
            wait_until(lambda: server.frames_reserved == 0, 5, message="given back at EOF")
            cut.assert_closed()
    finally:
        for conn in (first, second, third):
            conn.close()
