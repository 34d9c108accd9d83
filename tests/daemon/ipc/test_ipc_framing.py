"""Frame encoding and the blocking frame reader, over real socket pairs (ipc.md §1)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from sqry.daemon.ipc.framing import (
    MAX_FRAME_BYTES,
    FrameReader,
    FrameTooLarge,
    TruncatedFrame,
    encode_frame,
    frame_bytes,
    recv_frame,
    send_frame,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.settimeout(5)
    b.settimeout(5)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_encode_is_compact_utf8_little_endian() -> None:
    frame = encode_frame({"a": [1, "é"], "b": None})
    body = '{"a":[1,"é"],"b":null}'.encode()
    assert frame == struct.pack("<I", len(body)) + body


def test_lone_surrogates_fall_back_to_ascii_escapes() -> None:
    frame = encode_frame({"s": "\ud800"})
    assert frame[4:] == b'{"s":"\\ud800"}'


def test_nan_is_not_json() -> None:
    with pytest.raises(ValueError):
        encode_frame({"x": float("nan")})


def test_max_frame_constant() -> None:
    assert MAX_FRAME_BYTES == 67_108_864


def test_oversize_body_is_a_local_error() -> None:
    with pytest.raises(FrameTooLarge, match="67108864"):
        frame_bytes(b"x" * (MAX_FRAME_BYTES + 1))
    assert len(frame_bytes(b"x" * MAX_FRAME_BYTES)) == MAX_FRAME_BYTES + 4


def test_round_trip(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    send_frame(a, {"k": 1})
    send_frame(a, [])
    assert recv_frame(b) == b'{"k":1}'
    assert recv_frame(b) == b"[]"


def test_round_trip_in_dribbled_pieces(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    frame = encode_frame({"long": "y" * 10_000})
    for i in range(0, len(frame), 333):
        a.sendall(frame[i : i + 333])
    assert recv_frame(b) == frame[4:]


def test_clean_eof_at_boundary_is_none(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    send_frame(a, 1)
    a.shutdown(socket.SHUT_WR)
    assert recv_frame(b) == b"1"
    assert recv_frame(b) is None


@pytest.mark.parametrize("partial", [b"\x05", b"\x05\x00\x00", b"\x05\x00\x00\x00ab"])
def test_eof_mid_frame_raises(pair: tuple[socket.socket, socket.socket], partial: bytes) -> None:
    a, b = pair
    a.sendall(partial)
    a.shutdown(socket.SHUT_WR)
    with pytest.raises(TruncatedFrame, match="middle of a frame"):
        recv_frame(b)


def test_oversize_announced_length_raises(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    a.sendall(struct.pack("<I", MAX_FRAME_BYTES + 1))
    with pytest.raises(FrameTooLarge, match="67108865"):
        recv_frame(b)


def test_empty_body(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    a.sendall(b"\x00\x00\x00\x00")
    assert recv_frame(b) == b""


# --- FrameReader, spinning before it blocks (the client's reply read) -----------------


@pytest.fixture
def blocking_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A pair in blocking mode, as the client's socket is between timed requests."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_spinning_read_takes_frames_already_there(
    blocking_pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = blocking_pair
    a.sendall(encode_frame(1) + encode_frame([2]))
    reader = FrameReader(b)
    assert reader.read(spin_secs=0.01) == b"1"
    assert reader.read(spin_secs=0.01) == b"[2]"  # from the buffer, no recv at all


def test_spinning_read_falls_back_to_blocking_for_a_late_frame(
    blocking_pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = blocking_pair
    frame = encode_frame({"late": True})
    a.sendall(frame[:3])  # part of the prefix now, the rest after the spin has ended
    late_write = threading.Timer(0.1, a.sendall, args=(frame[3:],))
    late_write.start()
    try:
        assert FrameReader(b).read(spin_secs=0.001) == b'{"late":true}'
    finally:
        late_write.join()


def test_spinning_read_sees_eof(blocking_pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = blocking_pair
    a.shutdown(socket.SHUT_WR)
    assert FrameReader(b).read(spin_secs=0.01) is None


def test_spinning_read_sees_eof_mid_frame(
    blocking_pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = blocking_pair
    a.sendall(b"\x05\x00\x00\x00ab")
    a.shutdown(socket.SHUT_WR)
    with pytest.raises(TruncatedFrame, match="middle of a frame"):
        FrameReader(b).read(spin_secs=0.01)
