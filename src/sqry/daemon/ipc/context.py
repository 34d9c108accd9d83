"""Shared state every IPC handler receives: config, identity, activity and memory figures.

The daemon process builds one ServerContext and hands it to IpcServer; handlers read it,
the server keeps the activity fields current, and the lifecycle runner reads those to
implement ``idle_shutdown_minutes``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqry.daemon.lifecycle.config import DaemonConfig

MIB = 1024 * 1024


@dataclass
class MemorySnapshot:
    """The ``memory`` object of ``daemon/status`` (ipc.md §6), in bytes."""

    limit_bytes: int
    current_bytes: int
    reserved_bytes: int
    high_water_bytes: int

    def to_wire(self) -> dict[str, int]:
        return {
            "limit_bytes": self.limit_bytes,
            "current_bytes": self.current_bytes,
            "reserved_bytes": self.reserved_bytes,
            "high_water_bytes": self.high_water_bytes,
        }


@dataclass
class ServerContext:
    """Everything a handler may need, owned by the daemon process.

    ``workspaces`` is empty until the graph-serving work fills it; each entry must
    expose the attributes listed in ``sqry.daemon.ipc.methods.WORKSPACE_STATUS_FIELDS``.
    Memory accounting follows from it: current bytes are the sum of the workspaces'
    ``current_bytes`` and ``reserved_bytes`` is whatever a loader has reserved for a
    build in progress — so with no workspaces all three figures are honestly 0 and only
    the limit (from ``config.memory_limit_mb``) is non-zero.

    ``open_connections`` and ``last_activity_monotonic`` are maintained by IpcServer
    (every accepted connection, every request and every close touches them) so the
    daemon can shut down after ``idle_shutdown_minutes`` with no client.
    """

    config: DaemonConfig
    socket_path: Path
    pid: int
    daemon_version: str
    started_monotonic: float
    request_shutdown: Callable[[], None]
    workspaces: list[Any] = field(default_factory=list)
    reserved_bytes: int = 0
    high_water_bytes: int = 0
    open_connections: int = 0
    last_activity_monotonic: float = field(default_factory=time.monotonic)

    def uptime_seconds(self) -> int:
        return int(time.monotonic() - self.started_monotonic)

    def idle_seconds(self) -> float:
        """Seconds since the last IPC activity; 0 while any connection is open."""
        if self.open_connections:
            return 0.0
        return time.monotonic() - self.last_activity_monotonic

    def touch(self) -> None:
        """Record IPC activity now (called by the server; cheap on the hot path)."""
        self.last_activity_monotonic = time.monotonic()

    def memory(self) -> MemorySnapshot:
        """Current memory figures; also ratchets the daemon-wide high-water mark."""
        current = sum(int(getattr(ws, "current_bytes", 0)) for ws in self.workspaces)
        self.high_water_bytes = max(self.high_water_bytes, current + self.reserved_bytes)
        return MemorySnapshot(
            limit_bytes=int(self.config.memory_limit_mb) * MIB,
            current_bytes=current,
            reserved_bytes=self.reserved_bytes,
            high_water_bytes=self.high_water_bytes,
        )
