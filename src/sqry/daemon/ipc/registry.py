"""Method table of the daemon: name → async handler + params spec.

Adding a method (``daemon/load``, ``daemon/search``, a graph tool) means writing an
async handler and calling ``registry.register(...)`` — the router never changes.

Handler contract::

    async def handler(ctx: ServerContext, params: MyParams | None) -> payload | Reply

* ``params`` is already decoded and validated against the registered dataclass (or
  None for a method registered without params).
* Return a JSON-serialisable payload: the server wraps it as ``{"result": payload,
  "meta": {"stale": false, "daemon_version": ...}}``. Return
  ``sqry.daemon.ipc.protocol.Reply(payload, meta=Meta(...))`` to send workspace meta
  (``stale``, ``workspace_state``, ``last_good_at``, ``last_error``), or with
  ``after_send=`` to act once the reply is written.
* Raise ``RpcFailure(code, message, data)`` for a typed error (-32001 not ready,
  -32004 not loaded, ...). Any other exception is logged with its traceback and
  answered -32603; the connection and the daemon keep going.
* Handlers run on the daemon's event loop, which serves every connection. Anything
  CPU-heavy or blocking (parsing, SQLite, graph traversal) must be offloaded —
  ``return await asyncio.to_thread(work, ...)`` for I/O-bound or GIL-releasing work,
  or a process pool via ``loop.run_in_executor`` for pure-Python CPU work — so other
  clients keep getting answers meanwhile.
* A handler that suspends is cancelled (``CancelledError`` at its ``await``) when its
  client disconnects or the shutdown drain times out. Work that must complete anyway
  (a build whose result other clients will use) belongs in its own task, awaited
  through ``asyncio.shield``.
* Handlers that never suspend run synchronously inside the socket read callback (no
  Task is created, see ``eager.py``); that is why they must be quick.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqry.daemon.ipc.params import check_params_spec, decode_params

if TYPE_CHECKING:
    from sqry.daemon.ipc.context import ServerContext

Handler = Callable[["ServerContext", Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Method:
    """One registered method: its handler and how to decode its params."""

    name: str
    handler: Handler
    params: type | None

    def decode(self, raw: Any) -> Any:
        """Typed params for the handler, or RpcFailure(-32602) naming what is wrong."""
        return decode_params(self.params, raw)


class MethodRegistry:
    """Name → Method lookup; one instance per server."""

    def __init__(self) -> None:
        self._methods: dict[str, Method] = {}

    def register(self, name: str, handler: Handler, params: type | None = None) -> None:
        """Add a method. ``params`` is a dataclass type, or None for "takes no params".

        Registering a name twice is a programming error and raises ValueError, so two
        features cannot silently shadow each other's method.
        """
        if not name:
            raise ValueError("method name must not be empty")
        if name in self._methods:
            raise ValueError(f"method {name!r} is already registered")
        check_params_spec(params)
        self._methods[name] = Method(name, handler, params)

    def get(self, name: str) -> Method | None:
        return self._methods.get(name)

    def names(self) -> list[str]:
        return sorted(self._methods)

    def __contains__(self, name: object) -> bool:
        return name in self._methods
