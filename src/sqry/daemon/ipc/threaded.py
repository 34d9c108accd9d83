"""Run an IpcServer on its own event loop in a background thread.

For embedding the IPC server in a process that is not the ``sqryd`` runner: the test
suite (real sockets, in-process server) and ``bench/ipc.py`` use it. It binds the
socket the same way the daemon does (``bind_listen_socket``), and a ``daemon/stop``
request behaves as in the daemon: the reply is sent, then ``shutdown(drain_secs)``
runs on the server's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from sqry import __version__
from sqry.daemon.ipc.busypoll import new_event_loop
from sqry.daemon.ipc.context import ServerContext
from sqry.daemon.ipc.methods import register_management_methods
from sqry.daemon.ipc.registry import MethodRegistry
from sqry.daemon.ipc.server import IpcServer

START_TIMEOUT_SECS = 10.0


class ThreadedServer:
    """An IpcServer serving ``socket_path`` from a daemon thread; a context manager.

    ``registry=None`` gives a registry with just the management methods; pass your
    own to add methods (tests register failing or gated ones). ``shutdown_requested``
    is set when a handler called ``ctx.request_shutdown()``; ``shutdown_done`` when the
    drain has finished.
    """

    def __init__(
        self,
        socket_path: str | os.PathLike[str],
        registry: MethodRegistry | None = None,
        config: Any = None,
        drain_secs: float = 5.0,
        daemon_version: str = __version__,
    ) -> None:
        if registry is None:
            registry = MethodRegistry()
            register_management_methods(registry)
        if config is None:
            from sqry.daemon.lifecycle.config import DaemonConfig

            config = DaemonConfig()
        self.socket_path = Path(socket_path)
        self.registry = registry
        self.drain_secs = drain_secs
        self.shutdown_requested = threading.Event()
        self.shutdown_done = threading.Event()
        self.loop = new_event_loop()
        self.ctx = ServerContext(
            config=config,
            socket_path=self.socket_path,
            pid=os.getpid(),
            daemon_version=daemon_version,
            started_monotonic=time.monotonic(),
            request_shutdown=self._request_shutdown,
        )
        self.server = IpcServer(self.ctx, registry)
        self._thread = threading.Thread(target=self._run_loop, name="ipc-server", daemon=True)
        self._shutdown_future: asyncio.Future[None] | None = None
        self._bound: tuple[int, int] | None = None

    # -- lifetime ----------------------------------------------------------------------

    def start(self) -> ThreadedServer:
        """Bind, start serving, and return once the socket accepts connections."""
        from sqry.daemon.lifecycle.runner import bind_listen_socket

        listener, self._bound = bind_listen_socket(os.fspath(self.socket_path))
        self._thread.start()
        try:
            self.call(self.server.serve(listener), timeout=START_TIMEOUT_SECS)
        except BaseException:
            listener.close()
            self.close()
            raise
        return self

    def shutdown(self, drain_secs: float | None = None, timeout: float | None = None) -> None:
        """Run ``IpcServer.shutdown`` (once) and wait for it to finish."""
        drain = self.drain_secs if drain_secs is None else drain_secs
        future = asyncio.run_coroutine_threadsafe(self._shutdown_once(drain), self.loop)
        future.result(timeout=timeout if timeout is not None else drain + 10)

    def close(self) -> None:
        """Shut down (short drain) if still serving, stop the loop, unlink the socket."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self.shutdown(drain_secs=min(self.drain_secs, 1.0))
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
        if not self._thread.is_alive() and not self.loop.is_closed():
            self.loop.close()
        self._unlink_own_socket()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """Run a coroutine on the server's loop from another thread and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call_soon(self, fn: Callable[[], Any]) -> None:
        """Schedule a plain callable on the server's loop (thread-safe)."""
        self.loop.call_soon_threadsafe(fn)

    # -- internals ---------------------------------------------------------------------

    def _unlink_own_socket(self) -> None:
        """Remove the socket path only if it is still the one we bound (not a successor's)."""
        with contextlib.suppress(OSError):
            st = os.lstat(self.socket_path)
            if (st.st_dev, st.st_ino) == self._bound:
                os.unlink(self.socket_path)

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _request_shutdown(self) -> None:
        """What the daemon runner does on daemon/stop: start the drain on the loop."""
        self.shutdown_requested.set()
        self.loop.create_task(self._shutdown_once(self.drain_secs))

    async def _shutdown_once(self, drain_secs: float) -> None:
        if self._shutdown_future is None:
            self._shutdown_future = self.loop.create_future()
            try:
                await self.server.shutdown(drain_secs)
            finally:
                self._shutdown_future.set_result(None)
                self.shutdown_done.set()
        else:
            await asyncio.shield(self._shutdown_future)
