"""Wire-level helpers for IPC tests: raw socket connections, a test method table, gates.

Shared by ``tests/daemon/ipc`` and ``tests/client`` (whose conftest puts this directory
on ``sys.path``). Everything talks over real Unix sockets to a real IpcServer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqry.daemon.ipc.framing import encode_frame, frame_bytes, recv_frame
from sqry.daemon.ipc.methods import register_management_methods
from sqry.daemon.ipc.protocol import Meta, Reply, RpcFailure
from sqry.daemon.ipc.registry import MethodRegistry
from sqry.daemon.ipc.threaded import ThreadedServer

HELLO = {"client_version": "test", "protocol_version": 1}
IO_TIMEOUT = 5.0


@contextmanager
def short_dir() -> Iterator[Path]:
    """A private temp dir short enough for Unix socket paths (107-byte limit)."""
    path = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Gate:
    """Holds a test method inside its handler until the test thread opens it.

    ``entered`` is set (thread-safe) once a request is inside the handler, so tests can
    wait for "in flight" without sleeping.
    """

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._opened: concurrent.futures.Future[None] = concurrent.futures.Future()

    async def wait(self) -> None:
        self.entered.set()
        await asyncio.wrap_future(self._opened)

    def open(self) -> None:
        if not self._opened.done():
            self._opened.set_result(None)


class Probe:
    """Counts ``test/tick`` calls; ``on_tick`` runs once, on the server's loop, at the next tick.

    Lets a test act *from inside* a running batch (e.g. send a request on another
    connection) and then read how far the batch had got when that request was served,
    which proves interleaving without any timing.
    """

    def __init__(self) -> None:
        self.ticks = 0
        self.on_tick: Callable[[], None] | None = None


@dataclass
class BigParams:
    size: int


@dataclass
class SlowParams:
    seconds: float


@dataclass
class Inner:
    flag: bool


@dataclass
class TypedParams:
    name: str
    count: int
    ratio: float = 1.0
    tags: list[str] | None = None
    mode: Literal["regex", "exact"] = "regex"
    inner: Inner | None = None


@dataclass
class EchoParams:
    value: Any = None


def build_registry(gate: Gate, probe: Probe | None = None) -> MethodRegistry:
    """Management methods plus test-only methods (never registered in the daemon)."""
    registry = MethodRegistry()
    register_management_methods(registry)
    probe = Probe() if probe is None else probe

    async def echo(ctx: Any, params: EchoParams) -> Any:
        return params.value

    async def boom(ctx: Any, params: None) -> Any:
        raise RuntimeError("kaboom from a test handler")

    async def gated(ctx: Any, params: None) -> Any:
        await gate.wait()
        return {"released": True}

    async def typed(ctx: Any, params: TypedParams) -> Any:
        return {"name": params.name, "count": params.count, "ratio": params.ratio}

    async def with_meta(ctx: Any, params: None) -> Reply:
        return Reply(
            {"ok": True},
            meta=Meta(stale=True, workspace_state="Loaded", last_good_at="2024-01-02T03:04:05Z"),
        )

    async def typed_failure(ctx: Any, params: None) -> Any:
        raise RpcFailure(-32004, "workspace not loaded", {"root": "/x", "hint": "load it"})

    async def unencodable(ctx: Any, params: None) -> Any:
        return {"a set": {1, 2}}

    async def tick(ctx: Any, params: None) -> int:
        probe.ticks += 1
        action, probe.on_tick = probe.on_tick, None
        if action is not None:
            action()
        return probe.ticks

    async def ticks(ctx: Any, params: None) -> int:
        return probe.ticks

    async def gate_then_ticks(ctx: Any, params: None) -> int:
        await gate.wait()
        return probe.ticks

    async def big(ctx: Any, params: BigParams) -> str:
        return "x" * params.size

    async def slow(ctx: Any, params: SlowParams) -> str:
        await asyncio.sleep(params.seconds)  # a daemon that takes its time to answer
        return "done"

    registry.register("test/echo", echo, EchoParams)
    registry.register("test/boom", boom)
    registry.register("test/gate", gated)
    registry.register("test/typed", typed, TypedParams)
    registry.register("test/meta", with_meta)
    registry.register("test/fail", typed_failure)
    registry.register("test/unencodable", unencodable)
    registry.register("test/tick", tick)
    registry.register("test/ticks", ticks)
    registry.register("test/gate_ticks", gate_then_ticks)
    registry.register("test/big", big, BigParams)
    registry.register("test/slow", slow, SlowParams)
    return registry


@dataclass
class Harness:
    """A running in-process server plus what tests need to drive it."""

    server: ThreadedServer
    gate: Gate
    socket_path: str
    probe: Probe

    def connect(self, *, hello: bool = True) -> RawConn:
        conn = RawConn(self.socket_path)
        if hello:
            reply = conn.call(HELLO)
            assert reply == {
                "compatible": True,
                "daemon_version": self.server.ctx.daemon_version,
                "envelope_version": 1,
            }
        return conn


@contextmanager
def running_server(drain_secs: float = 5.0, **kwargs: Any) -> Iterator[Harness]:
    """Start a ThreadedServer with the test registry in its own short dir; always stop it."""
    gate = Gate()
    probe = Probe()
    with short_dir() as directory:
        path = str(directory / "s.sock")
        server = ThreadedServer(path, build_registry(gate, probe), drain_secs=drain_secs, **kwargs)
        server.start()
        try:
            yield Harness(server, gate, path, probe)
        finally:
            gate.open()
            server.close()


class RawConn:
    """A raw client socket speaking frames by hand (so tests control every byte)."""

    def __init__(self, path: str, timeout: float = IO_TIMEOUT) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_body(self, body: bytes) -> None:
        self.sock.sendall(frame_bytes(body))

    def send(self, obj: Any) -> None:
        self.sock.sendall(encode_frame(obj))

    def recv_body(self) -> bytes | None:
        return recv_frame(self.sock)

    def recv(self) -> Any:
        import json

        body = recv_frame(self.sock)
        assert body is not None, "server closed the connection instead of replying"
        return json.loads(body)

    def call(self, obj: Any) -> Any:
        self.send(obj)
        return self.recv()

    def call_body(self, body: bytes) -> Any:
        """Send raw JSON bytes as one frame and return the decoded reply."""
        self.send_body(body)
        return self.recv()

    def request(self, method: str, params: Any = None, request_id: Any = 1) -> Any:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        return self.call(message)

    def assert_closed(self) -> None:
        """The server closed this connection: the next read is EOF (or a reset)."""
        try:
            data = self.sock.recv(1)
        except ConnectionResetError:
            return
        assert data == b"", f"expected EOF, got {data!r}"

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawConn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request(method: str, request_id: Any = 1, params: Any = None) -> dict[str, Any]:
    """A JSON-RPC request object (``request_id=None`` leaves the id out: a notification)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if request_id is not None:
        message["id"] = request_id
    if params is not None:
        message["params"] = params
    return message


def fd_count(pid: int) -> int:
    """Open file descriptors of ``pid`` (``/proc/<pid>/fd``)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def idle_fd_count(path: str, pid: int) -> int:
    """Descriptors of the server process ``pid`` with none of our connections open.

    Measured around a connection of our own: once the server has closed its side (and
    we ours), the count is below what it was while the connection was open. Works for
    a live daemon and for the in-process server (then ``pid`` is this process).
    """
    from helpers import wait_until

    with RawConn(path) as conn:
        assert conn.call(HELLO)["compatible"] is True
        assert "result" in conn.request("daemon/status")
        with_one = fd_count(pid)
    return wait_until(
        lambda: (n := fd_count(pid)) < with_one and n,
        10,
        message="the server to close our connection",
    )


def assert_no_fd_growth(pid: int, baseline: int) -> None:
    """Wait (bounded) until ``pid`` holds no more descriptors than ``baseline``."""
    from helpers import wait_until

    wait_until(
        lambda: fd_count(pid) <= baseline,
        10,
        message=lambda: f"server descriptors back to {baseline} (now {fd_count(pid)})",
    )


def header(length: int) -> bytes:
    return struct.pack("<I", length)


def is_error(reply: Any, code: int, request_id: Any = None) -> bool:
    return (
        reply.get("jsonrpc") == "2.0"
        and reply.get("id") == request_id
        and type(reply.get("id")) is type(request_id)
        and reply["error"]["code"] == code
    )


def sock_env(path: str) -> dict[str, str]:
    """Environment pointing sqry clients at ``path``."""
    env = dict(os.environ)
    env["SQRY_DAEMON_SOCKET"] = path
    return env
