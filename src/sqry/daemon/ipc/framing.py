"""Length-prefixed JSON frames: the byte-level layer of the sqryd wire protocol (ipc.md §1).

A frame is a 4-byte little-endian unsigned length (not counting itself) followed by
exactly that many bytes of UTF-8 JSON. This module is stdlib-only (struct, json) because
the client imports it on every ``sqry`` invocation; the asyncio server does its own
incremental parsing but shares the constants and the encoder defined here.
"""

from __future__ import annotations

import json
import struct
import time
from _socket import MSG_DONTWAIT

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing; socket costs ~4 ms
if TYPE_CHECKING:
    import socket

MAX_FRAME_BYTES = 64 * 1024 * 1024
"""Largest body a frame may carry (64 MiB); larger lengths are a protocol violation."""

HEADER = struct.Struct("<I")
HEADER_SIZE = HEADER.size

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_compact_ascii = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode


def _reusable_c_encoder() -> object | None:
    """CPython's C encoder built once (``JSONEncoder.encode`` rebuilds it on every call).

    It runs without a circular-reference check (``markers=None``): a cyclic value then
    ends in RecursionError, which callers treat like any other unencodable value.
    Returns None on interpreters without the C accelerator.
    """
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    basestring = getattr(encoder, "c_encode_basestring", None)
    if make is None or basestring is None:
        return None

    def default(value: object) -> object:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    return make(None, default, basestring, None, ":", ",", False, False, False)


_c_encoder = _reusable_c_encoder()


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
    text = "".join(_c_encoder(obj, 0)) if _c_encoder is not None else _compact(obj)  # type: ignore[operator]
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


class FrameReader:
    """Buffered frame reader for one blocking socket: usually a single recv() per reply.

    ``recv_frame`` reads exactly the prefix then exactly the body (two syscalls, no
    state), which suits one-off exchanges; a client doing thousands of round trips uses
    this instead. Never mix the two on one socket: bytes buffered here are invisible
    to ``recv_frame``.
    """

    __slots__ = ("_sock", "_buf")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()

    def read(self, spin_secs: float = 0.0) -> bytes | None:
        """Same contract as ``recv_frame``: body, None at a clean EOF, or raise.

        ``spin_secs > 0`` polls the socket without sleeping for up to that long before
        the first blocking recv (see ``_recv_spinning``); on a socket with a timeout
        set the first poll already waits up to the timeout, so the spin is moot there.
        """
        buf = self._buf
        need = HEADER_SIZE
        while True:
            if len(buf) >= HEADER_SIZE:
                (length,) = HEADER.unpack_from(buf)
                if length > MAX_FRAME_BYTES:
                    raise FrameTooLarge(
                        f"peer announced a {length}-byte frame, more than the "
                        f"{MAX_FRAME_BYTES}-byte limit"
                    )
                need = HEADER_SIZE + length
                if len(buf) >= need:
                    body = bytes(buf[HEADER_SIZE:need])
                    del buf[:need]
                    return body
            size = max(65536, need - len(buf))
            if spin_secs > 0:
                chunk = self._recv_spinning(size, spin_secs)
                spin_secs = 0.0
            else:
                chunk = self._sock.recv(size)
            if not chunk:
                if buf:
                    raise TruncatedFrame("connection closed in the middle of a frame")
                return None
            buf += chunk

    def _recv_spinning(self, size: int, spin_secs: float) -> bytes:
        """recv(), first polling with MSG_DONTWAIT for up to ``spin_secs``.

        Why spin: on a virtual machine a process that sleeps in recv() is woken by an
        interrupt to a halted virtual CPU, which costs tens of microseconds on each
        side of a round trip (measured here: a ping-pong across two vCPUs takes 83 us
        against 18 us on one). A reply that comes back within the spin is picked up by
        a CPU that never halted. The spin burns at most ``spin_secs`` of CPU per call.
        """
        recv = self._sock.recv
        deadline = time.perf_counter() + spin_secs
        while True:
            try:
                return recv(size, MSG_DONTWAIT)
            except BlockingIOError:
                if time.perf_counter() >= deadline:
                    return recv(size)


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
