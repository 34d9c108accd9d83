"""Property tests: garbage never kills the server, and every reply is conformant.

Each example opens a fresh connection, throws arbitrary bytes or JSON at it and reads
everything the server sends until it closes; then a new connection must still get a
``daemon/status`` reply. Runs against the in-process server and against a live
``sqryd`` (tests/conftest.py's ``live_daemon``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ipc_conformance import check_first_reply, check_rpc_reply, read_all_frames
from ipc_testkit import HELLO, RawConn, running_server

from sqry.daemon.ipc.framing import encode_frame, frame_bytes

pytestmark = pytest.mark.timeout(300)

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Methods that are safe to hit at random: never stop the server, never block forever.
SAFE_METHODS = [
    "daemon/status",
    "test/echo",
    "test/boom",
    "test/typed",
    "test/meta",
    "test/fail",
    "no/such",
    "",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)

request_like = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0", 2.0, None]) | json_values,
        "method": st.sampled_from(SAFE_METHODS) | json_values,
        "id": st.integers(min_value=-(2**65), max_value=2**65) | json_values,
        "params": st.sampled_from([None, {}, [], {"value": 1}, {"name": "n", "count": 1}])
        | json_values,
    },
)

documents = request_like | st.lists(request_like | json_values, max_size=4) | json_values


def _write_then_half_close(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may already have closed on a bad length: that is allowed


def _still_serving(path: str) -> None:
    with RawConn(path) as conn:
        assert conn.call(HELLO)["compatible"] is True
        reply = conn.request("daemon/status", request_id=424242)
        assert reply["id"] == 424242 and reply["result"]["result"]["pid"] > 0


def _garbage_after_hello(path: str, data: bytes) -> None:
    with RawConn(path) as conn:
        assert conn.call(HELLO)["compatible"] is True
        _write_then_half_close(conn.sock, data)
        for reply in read_all_frames(conn.sock):
            check_rpc_reply(reply)
    _still_serving(path)


def _garbage_as_first_frame(path: str, data: bytes) -> None:
    with RawConn(path) as conn:
        _write_then_half_close(conn.sock, data)
        frames = read_all_frames(conn.sock)
        assert len(frames) <= 1 or frames[0].get("compatible") is True
        if frames:
            check_first_reply(frames[0])
        for reply in frames[1:]:
            check_rpc_reply(reply)
    _still_serving(path)


def _documents_after_hello(path: str, docs: list[Any]) -> None:
    """Framed JSON documents; a sentinel request proves what was (not) answered."""
    with RawConn(path) as conn:
        assert conn.call(HELLO)["compatible"] is True
        for doc in docs:
            conn.send(doc)
            conn.send({"jsonrpc": "2.0", "id": "sentinel", "method": "daemon/status"})
            first = conn.recv()
            check_rpc_reply(first)
            if type(first) is list or first.get("id") != "sentinel":
                sentinel = conn.recv()
                assert type(sentinel) is dict and sentinel.get("id") == "sentinel", sentinel
    _still_serving(path)


frame_streams = st.lists(
    st.one_of(
        st.binary(max_size=64).map(frame_bytes),
        documents.map(lambda d: frame_bytes(json.dumps(d).encode())),
        st.binary(max_size=64),
    ),
    max_size=4,
).map(b"".join)


@pytest.fixture(scope="module")
def module_server() -> Iterator[str]:
    with running_server() as harness:
        yield harness.socket_path


@SETTINGS
@given(data=frame_streams)
def test_in_process_garbage_after_hello(module_server: str, data: bytes) -> None:
    _garbage_after_hello(module_server, data)


@SETTINGS
@given(data=frame_streams | st.binary(max_size=128))
def test_in_process_garbage_as_first_frame(module_server: str, data: bytes) -> None:
    _garbage_as_first_frame(module_server, data)


@SETTINGS
@given(docs=st.lists(documents, min_size=1, max_size=4))
def test_in_process_json_documents(module_server: str, docs: list[Any]) -> None:
    _documents_after_hello(module_server, docs)


# --- the same properties against a live sqryd -------------------------------------------

LIVE_SETTINGS = settings(SETTINGS, max_examples=60)


@LIVE_SETTINGS
@given(data=frame_streams)
def test_live_garbage_after_hello(live_daemon: Any, data: bytes) -> None:
    _garbage_after_hello(str(live_daemon.socket), data)


@LIVE_SETTINGS
@given(data=frame_streams | st.binary(max_size=128))
def test_live_garbage_as_first_frame(live_daemon: Any, data: bytes) -> None:
    _garbage_as_first_frame(str(live_daemon.socket), data)


@LIVE_SETTINGS
@given(docs=st.lists(documents, min_size=1, max_size=4))
def test_live_json_documents(live_daemon: Any, docs: list[Any]) -> None:
    _documents_after_hello(str(live_daemon.socket), docs)


def test_encode_frame_is_what_tests_send() -> None:
    assert encode_frame(HELLO) == frame_bytes(json.dumps(HELLO, separators=(",", ":")).encode())
