"""What a protocol-conformant reply looks like, checked strictly (ipc.md §2–4).

Used by the property tests to judge every frame a server sends back to garbage.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

from sqry.daemon.ipc.framing import HEADER, MAX_FRAME_BYTES

HELLO_REPLY_KEYS = {"compatible", "daemon_version", "envelope_version"}
SHIM_REPLY_KEYS = {"accepted", "reason"}
META_OPTIONAL = {"workspace_state", "last_good_at", "last_error"}


def _valid_id(value: Any) -> bool:
    return value is None or type(value) is str or (type(value) is int and -(2**63) <= value < 2**64)


def check_response(reply: Any) -> None:
    """One JSON-RPC response object: success with an envelope, or an error."""
    assert type(reply) is dict, reply
    assert reply.get("jsonrpc") == "2.0", reply
    assert "id" in reply and _valid_id(reply["id"]), reply
    if "error" in reply:
        assert set(reply) == {"jsonrpc", "id", "error"}, reply
        error = reply["error"]
        assert type(error) is dict and set(error) <= {"code", "message", "data"}, reply
        assert type(error["code"]) is int and type(error["message"]) is str, reply
        if "data" in error:
            assert type(error["data"]) is dict and error["data"], reply
        if error["code"] in (-32700, -32600):
            assert reply["id"] is None, reply
            assert type(error["data"]["reason"]) is str, reply
        if error["code"] == -32601:
            assert set(error["data"]) == {"method"}, reply
    else:
        assert set(reply) == {"jsonrpc", "id", "result"}, reply
        envelope = reply["result"]
        assert type(envelope) is dict and set(envelope) == {"result", "meta"}, reply
        meta = envelope["meta"]
        assert type(meta["stale"]) is bool and type(meta["daemon_version"]) is str, reply
        assert set(meta) <= {"stale", "daemon_version"} | META_OPTIONAL, reply
        assert all(value is not None for value in meta.values()), reply


def check_rpc_reply(reply: Any) -> None:
    """A frame after the hello: one response, or a non-empty array of them."""
    if type(reply) is list:
        assert reply, "an empty batch reply must never be sent"
        for entry in reply:
            check_response(entry)
    else:
        check_response(reply)


def check_first_reply(reply: Any) -> None:
    """The answer to a first frame: hello reply, shim reply, or a -32600."""
    if type(reply) is dict and set(reply) == HELLO_REPLY_KEYS:
        assert type(reply["compatible"]) is bool and reply["envelope_version"] == 1
    elif type(reply) is dict and set(reply) == SHIM_REPLY_KEYS:
        assert reply["accepted"] is False and type(reply["reason"]) is str
    else:
        check_response(reply)
        assert reply["error"]["code"] == -32600


def read_all_frames(sock: socket.socket, timeout: float = 20.0) -> list[Any]:
    """Read frames until the server closes; every frame must be complete JSON."""
    deadline = time.monotonic() + timeout
    buf = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        buf += chunk
    frames = []
    offset = 0
    while offset < len(buf):
        assert len(buf) - offset >= 4, "server sent a truncated length prefix"
        (length,) = HEADER.unpack_from(buf, offset)
        assert length <= MAX_FRAME_BYTES
        body = buf[offset + 4 : offset + 4 + length]
        assert len(body) == length, "server sent a truncated frame"
        frames.append(json.loads(body))
        offset += 4 + length
    return frames
