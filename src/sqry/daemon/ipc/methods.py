"""Management methods every daemon serves: ``daemon/status`` and ``daemon/stop`` (ipc.md §6).

Workspace methods (``daemon/load``, ``daemon/search``, ...) belong to the graph-serving
work and register themselves on the same MethodRegistry.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from sqry.daemon.ipc.protocol import Reply

if TYPE_CHECKING:
    from sqry.daemon.ipc.context import ServerContext
    from sqry.daemon.ipc.registry import MethodRegistry

WORKSPACE_STATUS_FIELDS = (
    "index_root",
    "state",
    "pinned",
    "current_bytes",
    "high_water_bytes",
    "last_good_at",
    "last_error",
    "retry_count",
    "watching",
)
"""Attributes each ``ctx.workspaces`` entry exposes; one status row is built from them."""


def _wire(value: Any) -> Any:
    return str(value) if isinstance(value, PurePath) else value


def workspace_row(ws: Any) -> dict[str, Any]:
    """One ``workspaces[]`` entry of ``daemon/status`` (nullable fields stay null here)."""
    return {name: _wire(getattr(ws, name)) for name in WORKSPACE_STATUS_FIELDS}


async def daemon_status(ctx: ServerContext, _params: None) -> dict[str, Any]:
    """Identity, uptime, memory and one row per workspace, sorted by root."""
    rows = sorted((workspace_row(ws) for ws in ctx.workspaces), key=lambda r: r["index_root"])
    return {
        "uptime_seconds": ctx.uptime_seconds(),
        "daemon_version": ctx.daemon_version,
        "pid": ctx.pid,
        "socket": str(ctx.socket_path),
        "memory": ctx.memory().to_wire(),
        "workspaces": rows,
    }


async def daemon_stop(ctx: ServerContext, _params: None) -> Reply:
    """Schedule a graceful shutdown; the reply is written before the drain starts.

    ``request_shutdown`` runs as the reply's after-send callback, i.e. only after the
    ``{scheduled: true}`` frame has been handed to the transport, so the caller always
    gets its answer even though this very connection is drained next. The requesting
    connection closes after the reply: the daemon is going away, and frames pipelined
    behind the stop must not be served in the window before the drain begins.
    """
    return Reply({"scheduled": True}, after_send=ctx.request_shutdown, close_after=True)


def register_management_methods(registry: MethodRegistry) -> None:
    """Register ``daemon/status`` and ``daemon/stop`` (both take no params)."""
    registry.register("daemon/status", daemon_status)
    registry.register("daemon/stop", daemon_stop)
