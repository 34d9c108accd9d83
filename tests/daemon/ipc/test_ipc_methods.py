"""daemon/status result shape and memory/workspace reporting (ipc.md §6)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from ipc_testkit import Harness, running_server

from sqry.daemon.lifecycle.config import DaemonConfig

pytestmark = pytest.mark.timeout(30)


@dataclass
class FakeWorkspace:
    """Stands in for the graph engine's workspace objects (attribute protocol only)."""

    index_root: Path
    state: str
    current_bytes: int
    high_water_bytes: int
    pinned: bool = False
    last_good_at: str | None = None
    last_error: str | None = None
    retry_count: int = 0
    watching: bool = True


def test_status_shape(ipc: Harness) -> None:
    with ipc.connect() as conn:
        result = conn.request("daemon/status")["result"]["result"]
    assert set(result) == {
        "uptime_seconds",
        "daemon_version",
        "pid",
        "socket",
        "memory",
        "workspaces",
    }
    assert type(result["uptime_seconds"]) is int and result["uptime_seconds"] >= 0
    assert result["daemon_version"] == "0.1.0"
    assert result["pid"] == os.getpid()
    assert result["socket"] == ipc.socket_path
    assert result["memory"] == {
        "limit_bytes": 2048 * 1024 * 1024,
        "current_bytes": 0,
        "reserved_bytes": 0,
        "high_water_bytes": 0,
    }
    assert result["workspaces"] == []


def test_memory_limit_comes_from_config() -> None:
    with running_server(config=DaemonConfig(memory_limit_mb=64)) as ipc, ipc.connect() as conn:
        memory = conn.request("daemon/status")["result"]["result"]["memory"]
    assert memory["limit_bytes"] == 64 * 1024 * 1024


def test_workspaces_sorted_by_root_and_summed(ipc: Harness) -> None:
    ipc.server.ctx.workspaces.extend(
        [
            FakeWorkspace(Path("/src/zeta"), "Loaded", 300, 400, pinned=True),
            FakeWorkspace(Path("/src/alpha"), "Failed", 0, 50, last_error="parse failed"),
            FakeWorkspace(Path("/src/mid"), "Loading", 100, 100),
        ]
    )
    with ipc.connect() as conn:
        result = conn.request("daemon/status")["result"]["result"]
    assert [w["index_root"] for w in result["workspaces"]] == [
        "/src/alpha",
        "/src/mid",
        "/src/zeta",
    ]
    assert result["workspaces"][0] == {
        "index_root": "/src/alpha",
        "state": "Failed",
        "pinned": False,
        "current_bytes": 0,
        "high_water_bytes": 50,
        "last_good_at": None,
        "last_error": "parse failed",
        "retry_count": 0,
        "watching": True,
    }
    assert result["memory"]["current_bytes"] == 400
    assert result["memory"]["high_water_bytes"] == 400
    ipc.server.ctx.workspaces.pop(0)  # zeta unloaded: current drops, high water stays
    with ipc.connect() as conn:
        memory = conn.request("daemon/status")["result"]["result"]["memory"]
    assert memory["current_bytes"] == 100 and memory["high_water_bytes"] == 400
