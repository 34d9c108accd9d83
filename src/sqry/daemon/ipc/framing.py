"""Length-prefixed JSON frames: the byte-level layer of the sqryd wire protocol (ipc.md §1).

A frame is a 4-byte little-endian unsigned length (not counting itself) followed by
exactly that many bytes of UTF-8 JSON. This module is stdlib-only (struct, json) because
the client imports it on every ``sqry`` invocation; the asyncio server does its own
incremental parsing but shares the constants and the encoder defined here.
"""

from __future__ import annotations

import json
import socket
import struct

MAX_FRAME_BYTES = 64 * 1024 * 1024
"""Largest body a frame may carry (64 MiB); larger lengths are a protocol violation."""

HEADER = struct.Struct("<I")
HEADER_SIZE = HEADER.size

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_compact_ascii = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode


class FrameTooLarge(ValueError):
    """A frame body exceeds MAX_FRAME_BYTES (when writing, or as announced by a peer)."""


class TruncatedFrame(ConnectionError):
    """The peer closed the stream inside a frame's length prefix or body."""


def dumps(obj: object) -> bytes:
    """Serialise ``obj`` as compact UTF-8 JSON.

    Non-ASCII text is written as UTF-8 for compactness; strings holding lone surrogates
    (which JSON can carry as ``\\ud800`` escapes but UTF-8 cannot encode) fall back to
    ASCII escapes, so echoing any decoded value back can never fail. NaN/Infinity are
    rejected (``ValueError``) because they are not JSON.
    """
    text = _compact(obj)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _compact_ascii(obj).encode("ascii")


def frame_bytes(body: bytes) -> bytes:
    """Prefix an already-serialised body with its length, enforcing the size limit."""
    if len(body) > MAX_FRAME_BYTES:
        raise FrameTooLarge(
            f"frame body is {len(body)} bytes, more than the {MAX_FRAME_BYTES}-byte limit"
        )
    return HEADER.pack(len(body)) + body


def encode_frame(obj: object) -> bytes:
    """Serialise ``obj`` into one complete frame (raises FrameTooLarge past 64 MiB)."""
    return frame_bytes(dumps(obj))


def send_frame(sock: socket.socket, obj: object) -> None:
    """Write one frame to a blocking socket (one ``sendall``, so one syscall when small)."""
    sock.sendall(encode_frame(obj))


def _recv_exact(sock: socket.socket, n: int, *, at_boundary: bool) -> bytes | None:
    """Read exactly ``n`` bytes; None on EOF before the first byte when ``at_boundary``."""
    chunk = sock.recv(n)
    if len(chunk) == n:
        return chunk
    if not chunk:
        if at_boundary:
            return None
        raise TruncatedFrame("connection closed in the middle of a frame")
    buf = bytearray(chunk)
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise TruncatedFrame("connection closed in the middle of a frame")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> bytes | None:
    """Read one frame body from a blocking socket.

    Returns None on a clean EOF at a frame boundary. Raises TruncatedFrame on EOF inside
    the prefix or body and FrameTooLarge when the announced length exceeds the limit
    (the stream cannot be resynchronised after either, so the caller should close).
    Socket timeouts propagate as ``TimeoutError``.
    """
    header = _recv_exact(sock, HEADER_SIZE, at_boundary=True)
    if header is None:
        return None
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise FrameTooLarge(
            f"peer announced a {length}-byte frame, more than the {MAX_FRAME_BYTES}-byte limit"
        )
    if length == 0:
        return b""
    body = _recv_exact(sock, length, at_boundary=False)
    assert body is not None  # at_boundary=False never returns None
    return body
