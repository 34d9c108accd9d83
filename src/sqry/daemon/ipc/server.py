"""The asyncio IPC server: accepts connections and runs the per-connection state machine.

Built on the low-level ``asyncio.Protocol`` API rather than streams: frames are cut
straight out of ``data_received`` buffers, which keeps a round trip to a few tens of
microseconds. Each connection goes through:

1. accept → peer-credential check (refused peers get one -32600 frame, nothing read);
2. first frame → DaemonHello (or a ShimRegister, always refused: no shim host yet);
   a first frame not in within ``HELLO_TIMEOUT_SECS`` gets a -32600 and the close;
3. JSON-RPC frames, served strictly one at a time and in order by one worker task per
   connection. Parallelism comes from more connections (ipc.md §3).

Framing violations (oversize length, EOF inside a frame) close only that connection,
and like a clean EOF they end its input where they occur: every frame cut before them
is still answered, in order, before the close. Until the first frame has been served
nothing after it is cut, because a ShimRegister hands the rest of the stream to
another protocol (ipc.md §2).
Frames of 1 MiB or more reserve their announced length from a server-wide budget
(``FRAME_BUDGET_BYTES``) when their length prefix arrives, until they are decoded
(or dropped: EOF inside the frame, the connection closed):
a frame the budget cannot take ends that connection's input there (earlier frames
are still answered), answered with one -32003 "memory budget exceeded" before
the close, so any number of clients announcing huge frames hold a bounded amount
of memory and nothing they send can run the daemon out of it.
A correctly framed request that is too big to decode (``protocol.MAX_JSON_VALUES``,
nesting) gets one -32600 and the connection stays open; batch limits live in
``dispatch.py``. A body of 1 MiB or more is decoded in a worker thread, one at a
time, so a huge request does not stall the other connections. Memory held per
connection is bounded: reading pauses once 64
frames or 16 MiB of unanswered frames are queued, so a connection holds at most
the queue, one partly received frame and the frame being served.
``shutdown(drain_secs)`` stops accepting, lets each connection finish the request it is
serving, waits up to ``drain_secs`` and then force-closes whatever is left (ipc.md §7).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import deque
from typing import TYPE_CHECKING, Any

from sqry.daemon.ipc.dispatch import AfterSend, Dispatcher
from sqry.daemon.ipc.eager import start_eagerly
from sqry.daemon.ipc.framing import HEADER, HEADER_SIZE, MAX_FRAME_BYTES, encode_frame
from sqry.daemon.ipc.peercred import refusal_reason
from sqry.daemon.ipc.protocol import (
    MEMORY_BUDGET_EXCEEDED,
    REASON_FIRST_FRAME_NOT_JSON,
    REASON_NOT_HELLO,
    RequestRejected,
    decode_hello,
    error_response,
    frame_text,
    hello_reply,
    invalid_request,
    is_shim_register,
    parse_error,
    parse_json,
    parse_text,
    shim_reply,
)

if TYPE_CHECKING:
    from sqry.daemon.ipc.context import ServerContext
    from sqry.daemon.ipc.registry import MethodRegistry

log = logging.getLogger("sqry.daemon.ipc")

_READ_PAUSE_FRAMES = 64
"""Stop reading from a client that pipelines this many unanswered frames (backpressure)."""
_READ_RESUME_FRAMES = 8
_READ_PAUSE_BYTES = 16 * 1024 * 1024
"""...or this many bytes of them: 64 frames of 64 MiB would otherwise be 4 GiB held."""
_READ_RESUME_BYTES = 4 * 1024 * 1024
_RECV_BUFFER_BYTES = 256 * 1024
_ADOPT_BUFFER_BYTES = 64 * 1024
"""A buffered frame at least this big is handed over without copying (see data_received)."""
_FAIRNESS_BATCH = 16
"""Yield to the event loop after this many pipelined frames served back to back."""
_FORCE_CLOSE_GRACE_SECS = 1.0
"""After aborting leftover connections, how long to wait for their close callbacks."""
HELLO_TIMEOUT_SECS = 10.0
"""A connection whose first frame has not arrived by then is answered -32600 and
closed: a client that connects and says nothing would otherwise hold a descriptor
(and keep the daemon from its idle shutdown) forever. Real clients send the hello
right after connecting."""
FRAME_BUDGET_BYTES = 256 * 1024 * 1024
"""Bytes that big frames (``_BIG_FRAME_BYTES`` and more) being received or waiting
to be decoded may announce, over all connections: four frames of the 64 MiB maximum."""
_BIG_FRAME_BYTES = 1024 * 1024
"""Smaller frames are bounded per connection by the read pause; they reserve nothing."""
_THREAD_DECODE_BYTES = 1024 * 1024
"""A body at least this big is decoded in a worker thread, one at a time: decoding
64 MiB of JSON takes most of a second, which on the loop would stall every other
connection (the thread yields the GIL to the loop every few milliseconds)."""


class IpcServer:
    """Serves the daemon's method registry on an already bound, listening Unix socket."""

    def __init__(self, ctx: ServerContext, registry: MethodRegistry) -> None:
        self.ctx = ctx
        self.registry = registry
        self.dispatcher = Dispatcher(ctx, registry)
        self.owner_uid = os.geteuid()
        self.hello_timeout_secs = HELLO_TIMEOUT_SECS
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[_Connection] = set()
        self._no_connections = asyncio.Event()
        self._no_connections.set()
        self._stopping = False
        self.big_decodes = asyncio.Semaphore(1)  # bounds memory like decoding on the loop did
        self.frame_budget = FRAME_BUDGET_BYTES
        self.frames_reserved = 0  # announced bytes of big frames not decoded yet
        # One receive buffer for all connections: asyncio fills it and calls
        # buffer_updated synchronously, which copies the bytes out before the next read.
        self._recv_view = memoryview(bytearray(_RECV_BUFFER_BYTES))

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def serve(self, listen_sock: socket.socket) -> None:
        """Start accepting on ``listen_sock`` and return once accepting has begun.

        The socket must already be bound and listening (the daemon binds it while
        holding its lock). The server takes ownership: ``shutdown`` closes it, but does
        not unlink the path — that stays with the lifecycle code.
        """
        if self._server is not None:
            raise RuntimeError("IpcServer.serve() called twice")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(
            lambda: _Connection(self), sock=listen_sock, start_serving=True
        )

    async def shutdown(self, drain_secs: float) -> None:
        """Stop accepting, drain connections for up to ``drain_secs``, force-close the rest.

        Idle connections close at once; a connection serving a request closes right
        after writing that reply; frames queued behind it are not served. Safe to call
        more than once.
        """
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.begin_drain()
        try:
            await asyncio.wait_for(self._no_connections.wait(), timeout=max(drain_secs, 0))
        except TimeoutError:
            log.warning(
                "drain timeout (%gs): force-closing %d connection(s)",
                drain_secs,
                len(self._connections),
            )
            for conn in list(self._connections):
                conn.abort()
            try:
                await asyncio.wait_for(self._no_connections.wait(), _FORCE_CLOSE_GRACE_SECS)
            except TimeoutError:
                log.error("%d connection(s) did not report closing", len(self._connections))

    # -- bookkeeping used by _Connection ------------------------------------------

    def _track(self, conn: _Connection) -> None:
        self._connections.add(conn)
        self._no_connections.clear()
        self.ctx.open_connections += 1
        self.ctx.touch()

    def reserve_frame(self, length: int) -> bool:
        """Reserve ``length`` bytes of the frame budget for a big frame; False if it
        cannot take them."""
        if self.frames_reserved + length > self.frame_budget:
            return False
        self.frames_reserved += length
        return True

    def release_frames(self, length: int) -> None:
        self.frames_reserved -= length

    def _untrack(self, conn: _Connection) -> None:
        if conn in self._connections:
            self._connections.discard(conn)
            self.ctx.open_connections -= 1
            self.ctx.touch()
            if not self._connections:
                self._no_connections.set()


class _Connection(asyncio.BufferedProtocol):
    """One client connection: frame cutting, hello, and the in-order request worker.

    A BufferedProtocol reading into the server's shared receive buffer: the plain
    Protocol API allocates a fresh 256 KiB bytes object per read (an mmap/munmap pair
    with glibc), which cost more than the whole request handling.
    """

    def __init__(self, server: IpcServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._frames: deque[bytes | bytearray] = deque()
        self._queued_bytes = 0  # total size of the frames in _frames
        self._worker: asyncio.Task[None] | None = None  # set only while suspended
        self._running = False  # a worker (eager or Task) is serving frames
        self._greeted = False
        self._closing = False  # no further frames will be served
        self._draining = False  # shutdown: close after the in-flight request
        self._input_ended = False  # peer EOF or a bad length: close once the queue is answered
        self._await_mode = False  # the first frame is queued: later bytes may not be sqry frames
        self._input_open = True
        self._read_paused = False
        self._write_ready: asyncio.Future[None] | None = None
        self._hello_timer: asyncio.TimerHandle | None = None
        self._reserved = 0  # frame budget this connection holds (see FRAME_BUDGET_BYTES)
        self._head_reserved = 0  # the share the partly received frame in _buf holds
        self._farewell: dict[str, Any] | None = None  # sent once the input's end is reached

    # -- asyncio.Protocol callbacks -------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._server._track(self)
        reason = refusal_reason(transport.get_extra_info("socket"), self._server.owner_uid)
        if reason is not None:
            log.warning("refused connection: %s", reason)
            self._write_and_close(invalid_request(reason))
        elif self._server.stopping:
            self._close()
        else:
            self._hello_timer = asyncio.get_running_loop().call_later(
                self._server.hello_timeout_secs, self._hello_overdue
            )

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._server._recv_view

    def buffer_updated(self, nbytes: int) -> None:
        # Copy out at once: the shared buffer is reused by the next read on any connection.
        self.data_received(bytes(self._server._recv_view[:nbytes]))

    def data_received(self, data: bytes) -> None:
        """Cut complete frames out of the byte stream and queue them for the worker."""
        if not self._input_open:
            return
        if not self._buf and not self._await_mode and len(data) >= HEADER_SIZE:
            # Fast path: a read holding exactly one whole frame needs no buffering.
            (length,) = HEADER.unpack_from(data)
            if len(data) == HEADER_SIZE + length and length < _BIG_FRAME_BYTES:
                self._queue_frame(data[HEADER_SIZE:])
                self._kick()
                return
        self._buf += data
        self._cut_frames()
        self._kick()

    def eof_received(self) -> bool:
        self._input_ended = True
        if self._buf and not self._await_mode:
            log.debug("peer closed inside a frame (%d bytes pending)", len(self._buf))
            self._drop_partial()
        if not self._running and not self._frames:
            return False  # nothing left to answer: let the transport close
        return True  # keep the write side open until queued requests are answered

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_hello_timer()
        self._closing = True
        self._stop_input()
        if self._reserved:
            self._server.release_frames(self._reserved)
            self._reserved = 0
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._wake_writer()
        self._server._untrack(self)

    def pause_writing(self) -> None:
        if self._write_ready is None:
            self._write_ready = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake_writer()

    # -- frame cutting ---------------------------------------------------------------

    def _cut_frames(self) -> None:
        """Move every complete frame in ``_buf`` to the queue, up to a bad length.

        Stops early while the first frame waits to be served (``_await_mode``): its
        kind decides whether the bytes after it are sqry frames at all. Does not start
        the worker; callers ``_kick`` afterwards.
        """
        buf = self._buf
        offset = 0
        while not self._await_mode and len(buf) - offset >= HEADER_SIZE:
            (length,) = HEADER.unpack_from(buf, offset)
            if length > MAX_FRAME_BYTES:
                log.warning("peer announced a %d-byte frame; closing the connection", length)
                self._protocol_violation()
                return
            if length >= _BIG_FRAME_BYTES and not (offset == 0 and self._head_reserved):
                if not self._server.reserve_frame(length):
                    self._over_budget(length)
                    return
                self._reserved += length
                self._head_reserved = length
            end = offset + HEADER_SIZE + length
            if len(buf) < end:
                break
            if offset == 0 and end == len(buf) and length >= _ADOPT_BUFFER_BYTES:
                # A big frame that fills the buffer exactly: hand the buffer itself over
                # (dropping the prefix from a bytearray's front is O(1)) instead of
                # holding the frame twice. Returning drops our reference before the
                # caller's _kick may run the worker, which frees the body once decoded.
                del buf[:HEADER_SIZE]
                self._buf = bytearray()
                self._queue_frame(buf)
                return
            # One copy through a memoryview (a bytearray slice would copy twice).
            self._queue_frame(bytes(memoryview(buf)[offset + HEADER_SIZE : end]))
            offset = end
        if offset:
            del buf[:offset]

    def _queue_frame(self, frame: bytes | bytearray) -> None:
        """Queue one cut frame; the first one holds back cutting until it is served."""
        self._head_reserved = 0  # a big frame's share moves with it to the queue
        self._frames.append(frame)
        self._queued_bytes += len(frame)
        if not self._greeted:
            self._await_mode = True
            self._cancel_hello_timer()  # the first frame is in: it is served, not timed

    def _hello_overdue(self) -> None:
        self._hello_timer = None
        if self._greeted or self._frames or self._running or self._closing:
            return
        secs = self._server.hello_timeout_secs
        log.info("closing a connection that sent no handshake within %gs", secs)
        self._input_open = False  # a late hello is not served either
        self._write_and_close(
            invalid_request(f"no handshake within {secs:g}s of connecting; send a DaemonHello")
        )

    def _cancel_hello_timer(self) -> None:
        timer, self._hello_timer = self._hello_timer, None
        if timer is not None:
            timer.cancel()

    # -- shutdown hooks used by IpcServer ------------------------------------------------

    def begin_drain(self) -> None:
        """Finish the request being served (if any), serve nothing more, then close."""
        self._draining = True
        self._stop_input()
        if not self._running:
            self._close()

    def abort(self) -> None:
        """Force-close now, cancelling an in-flight handler."""
        self._closing = True
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        if self._transport is not None:
            self._transport.abort()

    # -- the worker ------------------------------------------------------------------

    def _kick(self) -> None:
        """Start the worker if frames are waiting and none is running.

        The worker is started eagerly (see ``eager.py``): a request whose handler never
        waits is answered inside this very ``data_received`` call, with no Task.
        """
        if not self._frames:
            return
        if not self._read_paused and (
            len(self._frames) >= _READ_PAUSE_FRAMES or self._queued_bytes >= _READ_PAUSE_BYTES
        ):
            self._read_paused = True
            self._transport.pause_reading()  # type: ignore[union-attr]
        if not self._running and not self._draining:
            self._running = True
            self._worker = start_eagerly(self._work())

    async def _work(self) -> None:
        """Serve queued frames in order, one at a time, until none are left."""
        served = 0
        try:
            while self._frames and not self._closing and not self._draining:
                # The popped frame is passed straight in: _serve_frame holds the only
                # reference, so a big body is freed as soon as it has been decoded.
                if not await self._serve_frame(self._pop_frame()):
                    self._close()
                    return
                if self._write_ready is not None:
                    await self._write_ready
                served += 1
                if served % _FAIRNESS_BATCH == 0:
                    await asyncio.sleep(0)  # let other connections in between pipelined frames
            if self._draining or self._input_ended:
                self._end_input()
        except Exception:
            log.exception("connection worker failed; closing the connection")
            self._close()
        finally:
            self._running = False
            self._worker = None

    def _pop_frame(self) -> bytes | bytearray:
        """Take the next queued frame, resuming reads once the queue is short again."""
        frame = self._frames.popleft()
        self._queued_bytes -= len(frame)
        if (
            self._read_paused
            and len(self._frames) <= _READ_RESUME_FRAMES
            and self._queued_bytes <= _READ_RESUME_BYTES
        ):
            self._read_paused = False
            self._transport.resume_reading()  # type: ignore[union-attr]
        return frame

    async def _serve_frame(self, frame: bytes | bytearray) -> bool:
        """Answer one frame; False means close the connection afterwards."""
        self._server.ctx.touch()
        size = len(frame)
        if not self._greeted:
            try:
                return self._serve_first_frame(frame)
            finally:
                self._release(size)
        big = size >= _THREAD_DECODE_BYTES
        box = [frame]  # from here on the box holds the body's only reference
        del frame
        try:
            if big:
                async with self._server.big_decodes:
                    doc = await asyncio.to_thread(_decode, box)
            else:
                doc = _decode(box)
        except RequestRejected as rejected:  # framing is intact: answer and go on
            self._write(encode_frame(invalid_request(rejected.reason)))
            return True
        except ValueError as exc:
            self._write(encode_frame(parse_error(str(exc))))
            return False
        finally:  # the body is decoded (or refused) and dropped: its share goes
            self._release(size)
        after_send = AfterSend()
        reply = await self._server.dispatcher.reply_frame(doc, after_send)
        del doc
        if reply is not None and not self._closing:
            self._write(reply)
        for callback in after_send.callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-send callback failed")
        return not after_send.close

    def _serve_first_frame(self, frame: bytes | bytearray) -> bool:
        """Route the first frame: DaemonHello, ShimRegister, or a -32600 and close."""
        try:
            doc = parse_json(frame)
        except (ValueError, RequestRejected):
            self._write(encode_frame(invalid_request(REASON_FIRST_FRAME_NOT_JSON)))
            return False
        if is_shim_register(doc):
            # No MCP/LSP host lives in this daemon yet: every registration is refused
            # (MAX_SHIM_CONNECTIONS applies once a host exists).
            self._write(encode_frame(shim_reply(doc)))
            return False
        hello = decode_hello(doc)
        if hello is None:
            self._write(encode_frame(invalid_request(REASON_NOT_HELLO)))
            return False
        reply = hello_reply(hello, self._server.ctx.daemon_version)
        self._write(encode_frame(reply))
        self._greeted = reply["compatible"]
        if self._greeted:
            # The bytes held back behind the hello are sqry frames: cut them now (the
            # worker running this serves them next; _kick only applies backpressure).
            self._await_mode = False
            self._cut_frames()
            self._kick()
        return self._greeted

    # -- transport helpers -----------------------------------------------------------

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _write_and_close(self, reply: Any) -> None:
        self._write(encode_frame(reply))
        self._close()

    def _close(self) -> None:
        """Close after flushing anything already written."""
        self._closing = True
        self._stop_input()
        if self._transport is not None:
            self._transport.close()

    def _protocol_violation(self, farewell: dict[str, Any] | None = None) -> None:
        """Framing is lost at a bad length: the input ends there, as at an EOF.

        Every frame before the bad length was framed correctly, so it stays queued and
        is answered in order (the request being served too); then the worker closes
        the connection. The bad frame itself gets no reply — but ``farewell``, when
        given, is sent after the last answer — and nothing after its length is
        buffered or read into a frame.
        """
        self._input_open = False
        self._input_ended = True
        self._drop_partial()
        self._farewell = farewell
        if not self._running and not self._frames:
            self._end_input()

    def _release(self, size: int) -> None:
        """Give back a big frame's share of the frame budget once it is decoded; not
        twice (``connection_lost`` gives back everything left, meanwhile too)."""
        if size >= _BIG_FRAME_BYTES and self._reserved >= size:
            self._reserved -= size
            self._server.release_frames(size)

    def _drop_partial(self) -> None:
        """Forget the partly received frame in ``_buf``, and its share of the budget."""
        self._buf.clear()
        reserved, self._head_reserved = self._head_reserved, 0
        self._release(reserved)

    def _over_budget(self, length: int) -> None:
        """A big frame the frame budget cannot take: end the input before it."""
        server = self._server
        log.warning(
            "peer announced a %d-byte frame while %d bytes of big frames are pending "
            "(budget %d); closing the connection",
            length,
            server.frames_reserved,
            server.frame_budget,
        )
        reserved = server.frames_reserved
        data = {
            "limit_bytes": server.frame_budget,
            "current_bytes": reserved,
            "reserved_bytes": reserved,
            "retained_bytes": 0,
            "requested_bytes": length,
            "reason": f"{length}-byte frame while other large frames hold {reserved} of the "
            f"{server.frame_budget} bytes the daemon buffers for them; retry when they are done",
        }
        self._protocol_violation(
            error_response(None, MEMORY_BUDGET_EXCEEDED, "memory budget exceeded", data)
        )

    def _end_input(self) -> None:
        """Every frame before the input's end is answered: say goodbye and close."""
        farewell, self._farewell = self._farewell, None
        if farewell is not None and not self._closing and not self._draining:
            self._write(encode_frame(farewell))
        self._close()

    def _stop_input(self) -> None:
        """Serve no further frames from this peer."""
        self._input_open = False
        self._drop_partial()
        self._frames.clear()
        self._queued_bytes = 0

    def _wake_writer(self) -> None:
        waiter, self._write_ready = self._write_ready, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _decode(box: list[bytes | bytearray]) -> Any:
    """The JSON document of the frame in ``box`` (see ``protocol.frame_text`` and
    ``parse_text``), emptying it: the body is freed once it has become text,
    before the text is parsed, so the body, its text and the values are never
    all alive at once."""
    text = frame_text(box.pop())
    return parse_text(text)
