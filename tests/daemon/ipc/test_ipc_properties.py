"""Property tests: garbage never kills the server, and every reply is conformant.

Each example opens a fresh connection, throws arbitrary bytes or JSON at it and reads
everything the server sends until it closes; then a new connection must still get a
``daemon/status`` reply, and the server must hold no more file descriptors than before
the example (a leaked socket per bad connection would slowly kill a long-lived daemon).
Batches come small (up to 4 elements, mixed with other documents) and large (hundreds
of elements, each reply entry checked against its request). Runs against the
in-process server and against a live ``sqryd`` (tests/conftest.py's ``live_daemon``).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ipc_conformance import check_first_reply, check_rpc_reply, read_all_frames
from ipc_testkit import HELLO, RawConn, assert_no_fd_growth, idle_fd_count, running_server

from sqry.daemon.ipc.framing import HEADER, MAX_FRAME_BYTES, encode_frame, frame_bytes

pytestmark = pytest.mark.timeout(300)

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
BIG_SETTINGS = settings(SETTINGS, max_examples=40)

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

# Big batches: mostly well-formed requests (so most elements are served), with invalid
# elements of every kind in between. Drawn from flat strategies: hundreds of recursive
# json_values per example would make hypothesis spend seconds generating each one.
INVALID_ELEMENTS = [
    None,
    0,
    -1,
    1.5,
    "",
    "x",
    True,
    [],
    [{}],
    {},
    {"jsonrpc": "2.0"},
    {"jsonrpc": "1.0", "id": 1, "method": "daemon/status"},
    {"jsonrpc": "2.0", "id": 1.5, "method": "daemon/status"},
    {"jsonrpc": "2.0", "id": True, "method": "daemon/status"},
    {"jsonrpc": "2.0", "id": 2**64, "method": "daemon/status"},
    {"jsonrpc": "2.0", "id": 1, "method": ""},
    {"jsonrpc": "2.0", "id": 1, "method": 5},
    {"jsonrpc": "2.0", "id": 1, "method": "x", "params": 3},
    [{"jsonrpc": "2.0", "id": 1, "method": "daemon/status"}],
]
batch_elements = st.builds(
    lambda method, request_id, params: {
        "jsonrpc": "2.0",
        "method": method,
        **({} if request_id is None else {"id": request_id}),
        **({} if params is None else {"params": params}),
    },
    st.sampled_from(SAFE_METHODS),
    st.none() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(max_size=8),
    st.sampled_from([None, {}, [], {"value": 1}, {"name": "n", "count": 1}, {"bad": 1}]),
) | st.sampled_from(INVALID_ELEMENTS)
big_batches = st.lists(batch_elements, min_size=100, max_size=400)


def _write_then_half_close(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may already have closed on a bad length: that is allowed


class Target:
    """A server under test: its socket, its process, and its descriptor count at rest."""

    def __init__(self, path: str, pid: int) -> None:
        self.path = path
        self.pid = pid
        self.baseline = idle_fd_count(path, pid)

    def check_after_example(self) -> None:
        """Still serving, and no descriptor left behind by the example."""
        with RawConn(self.path) as conn:
            assert conn.call(HELLO)["compatible"] is True
            reply = conn.request("daemon/status", request_id=424242)
            assert reply["id"] == 424242 and reply["result"]["result"]["pid"] > 0
        assert_no_fd_growth(self.pid, self.baseline)


def _garbage_after_hello(target: Target, data: bytes) -> None:
    with RawConn(target.path) as conn:
        assert conn.call(HELLO)["compatible"] is True
        _write_then_half_close(conn.sock, data)
        for reply in read_all_frames(conn.sock):
            check_rpc_reply(reply)
    target.check_after_example()


def _garbage_as_first_frame(target: Target, data: bytes) -> None:
    with RawConn(target.path) as conn:
        _write_then_half_close(conn.sock, data)
        frames = read_all_frames(conn.sock)
        assert len(frames) <= 1 or frames[0].get("compatible") is True
        if frames:
            check_first_reply(frames[0])
        for reply in frames[1:]:
            check_rpc_reply(reply)
    target.check_after_example()


def _documents_after_hello(target: Target, docs: list[Any]) -> None:
    """Framed JSON documents; a sentinel request proves what was (not) answered."""
    with RawConn(target.path) as conn:
        assert conn.call(HELLO)["compatible"] is True
        for doc in docs:
            conn.send(doc)
            conn.send({"jsonrpc": "2.0", "id": "sentinel", "method": "daemon/status"})
            first = conn.recv()
            check_rpc_reply(first)
            if type(first) is list or first.get("id") != "sentinel":
                sentinel = conn.recv()
                assert type(sentinel) is dict and sentinel.get("id") == "sentinel", sentinel
    target.check_after_example()


def check_batch_reply(items: list[Any], reply: Any) -> None:
    """A batch reply is conformant *and* matches its request, entry by entry.

    Entries come in request order, one per element that is not a notification; an
    entry with a non-null id answers the next element carrying that id; null-id
    entries are the -32600s of invalid elements.
    """
    check_rpc_reply(reply)
    assert type(reply) is list and len(reply) <= len(items), (len(reply), len(items))
    position = 0
    for entry in reply:
        if entry["id"] is None:
            assert entry["error"]["code"] == -32600, entry
            continue
        while position < len(items) and not (
            type(items[position]) is dict
            and items[position].get("id") == entry["id"]
            and type(items[position].get("id")) is type(entry["id"])
        ):
            position += 1
        assert position < len(items), f"reply id {entry['id']!r} matches no request in order"
        position += 1


def _big_batch(target: Target, items: list[Any]) -> None:
    with RawConn(target.path) as conn:
        assert conn.call(HELLO)["compatible"] is True
        conn.send(items)
        conn.send({"jsonrpc": "2.0", "id": "sentinel", "method": "daemon/status"})
        first = conn.recv()
        if type(first) is dict and first.get("id") == "sentinel":
            assert all(
                type(i) is dict and i.get("id") is None and i.get("jsonrpc") == "2.0" for i in items
            ), "a batch with answerable elements got no reply"
        else:
            check_batch_reply(items, first)
            sentinel = conn.recv()
            assert sentinel.get("id") == "sentinel", sentinel
    target.check_after_example()


def _requests_then_bad_length(
    target: Target, with_hello: bool, ids: list[int], length: int, tail: bytes
) -> None:
    """Valid frames and a bad length in one write: every frame before the bad length is
    answered, in order, and only then is the connection closed (ipc.md §1, §3)."""
    stream = b"".join(
        encode_frame({"jsonrpc": "2.0", "id": i, "method": "test/echo", "params": {"value": i}})
        for i in ids
    )
    with RawConn(target.path) as conn:
        if with_hello:
            conn.send_raw(encode_frame(HELLO) + stream + HEADER.pack(length) + tail)
        else:
            assert conn.call(HELLO)["compatible"] is True
            conn.send_raw(stream + HEADER.pack(length) + tail)
        frames = read_all_frames(conn.sock)
    if with_hello:
        assert frames and frames.pop(0)["compatible"] is True
    assert [(f["id"], f["result"]["result"]) for f in frames] == [(i, i) for i in ids]
    target.check_after_example()


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


@pytest.fixture
def in_process(module_server: str) -> Target:
    """The in-process server lives in this very process: its descriptors are ours."""
    return Target(module_server, os.getpid())


@pytest.fixture
def live(live_daemon: Any) -> Target:
    return Target(str(live_daemon.socket), live_daemon.pid)


@SETTINGS
@given(data=frame_streams)
def test_in_process_garbage_after_hello(in_process: Target, data: bytes) -> None:
    _garbage_after_hello(in_process, data)


@SETTINGS
@given(data=frame_streams | st.binary(max_size=128))
def test_in_process_garbage_as_first_frame(in_process: Target, data: bytes) -> None:
    _garbage_as_first_frame(in_process, data)


@SETTINGS
@given(docs=st.lists(documents, min_size=1, max_size=4))
def test_in_process_json_documents(in_process: Target, docs: list[Any]) -> None:
    _documents_after_hello(in_process, docs)


@BIG_SETTINGS
@given(items=big_batches)
def test_in_process_big_batches(in_process: Target, items: list[Any]) -> None:
    _big_batch(in_process, items)


@SETTINGS
@given(
    with_hello=st.booleans(),
    ids=st.lists(st.integers(min_value=0, max_value=2**32), max_size=8),
    length=st.integers(min_value=MAX_FRAME_BYTES + 1, max_value=2**32 - 1),
    tail=st.binary(max_size=32),
)
def test_in_process_frames_before_a_bad_length_are_all_answered(
    in_process: Target, with_hello: bool, ids: list[int], length: int, tail: bytes
) -> None:
    _requests_then_bad_length(in_process, with_hello, ids, length, tail)


# --- the same properties against a live sqryd -------------------------------------------

LIVE_SETTINGS = settings(SETTINGS, max_examples=60)


@LIVE_SETTINGS
@given(data=frame_streams)
def test_live_garbage_after_hello(live: Target, data: bytes) -> None:
    _garbage_after_hello(live, data)


@LIVE_SETTINGS
@given(data=frame_streams | st.binary(max_size=128))
def test_live_garbage_as_first_frame(live: Target, data: bytes) -> None:
    _garbage_as_first_frame(live, data)


@LIVE_SETTINGS
@given(docs=st.lists(documents, min_size=1, max_size=4))
def test_live_json_documents(live: Target, docs: list[Any]) -> None:
    _documents_after_hello(live, docs)


@BIG_SETTINGS
@given(items=big_batches)
def test_live_big_batches(live: Target, items: list[Any]) -> None:
    _big_batch(live, items)


def test_encode_frame_is_what_tests_send() -> None:
    assert encode_frame(HELLO) == frame_bytes(json.dumps(HELLO, separators=(",", ":")).encode())
