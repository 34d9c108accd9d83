"""daemon/stop and IpcServer.shutdown: reply first, drain in-flight work, force-close (ipc.md §7)."""

from __future__ import annotations

import pytest
from ipc_testkit import Harness, RawConn, running_server

from helpers import socket_accepts, wait_until
from sqry.daemon.ipc.framing import encode_frame

pytestmark = pytest.mark.timeout(30)


def test_stop_replies_then_drains_and_in_flight_request_finishes() -> None:
    with running_server(drain_secs=30) as ipc:
        busy = ipc.connect()
        busy.send({"jsonrpc": "2.0", "id": 1, "method": "test/gate"})
        assert ipc.gate.entered.wait(5)

        stopper = ipc.connect()
        reply = stopper.request("daemon/stop", request_id=2)
        assert reply == {
            "jsonrpc": "2.0",
            "id": 2,
            "result": {
                "result": {"scheduled": True},
                "meta": {"stale": False, "daemon_version": "0.1.0"},
            },
        }
        assert ipc.server.shutdown_requested.wait(5)
        stopper.assert_closed()  # idle connection closed by the drain
        wait_until(lambda: not socket_accepts(ipc.socket_path), 5, message="accept loop to stop")

        # The gated request is still being served, so the drain cannot have finished.
        assert not ipc.server.shutdown_done.is_set()
        ipc.gate.open()
        assert busy.recv() == {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {
                "result": {"released": True},
                "meta": {"stale": False, "daemon_version": "0.1.0"},
            },
        }
        busy.assert_closed()
        assert ipc.server.shutdown_done.wait(5)
        busy.close()
        stopper.close()


def test_frames_queued_behind_stop_are_not_served() -> None:
    with running_server() as ipc, ipc.connect() as conn:
        conn.send_raw(
            encode_frame({"jsonrpc": "2.0", "id": 1, "method": "daemon/stop"})
            + encode_frame({"jsonrpc": "2.0", "id": 2, "method": "daemon/status"})
        )
        first = conn.recv()
        assert first["id"] == 1 and first["result"]["result"] == {"scheduled": True}
        # id 2 may have been read already, but a draining connection serves nothing more.
        conn.assert_closed()
        assert ipc.server.shutdown_done.wait(10)


def test_stop_as_notification_still_stops() -> None:
    with running_server() as ipc, ipc.connect() as conn:
        conn.send({"jsonrpc": "2.0", "method": "daemon/stop"})
        conn.assert_closed()
        assert ipc.server.shutdown_done.wait(10)


def test_drain_force_closes_after_drain_secs() -> None:
    with running_server() as ipc:
        busy = ipc.connect()
        busy.send({"jsonrpc": "2.0", "id": 1, "method": "test/gate"})
        assert ipc.gate.entered.wait(5)
        ipc.server.shutdown(drain_secs=0.3)  # the gate is never opened
        busy.assert_closed()  # no reply: the in-flight request was abandoned
        assert ipc.server.ctx.open_connections == 0
        busy.close()


def test_shutdown_closes_idle_connections_and_refuses_new_ones(ipc: Harness) -> None:
    idle = [ipc.connect() for _ in range(3)]
    ipc.server.shutdown(drain_secs=5)
    for conn in idle:
        conn.assert_closed()
        conn.close()
    with pytest.raises(ConnectionRefusedError):
        RawConn(ipc.socket_path)
    ipc.server.shutdown(drain_secs=5)  # idempotent
