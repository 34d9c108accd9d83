"""BusyPollSelector: polls for a moment after I/O, never while the daemon is quiet."""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from sqry.daemon.ipc import busypoll
from sqry.daemon.ipc.busypoll import BusyPollSelector, new_event_loop

pytestmark = pytest.mark.timeout(30)

QUIET_CPU_SECS = 0.02
"""CPU a blocking wait may use at most: far below any of the waits' lengths, so a
selector that spun through them would fail by a wide margin."""


@pytest.fixture
def watched() -> Iterator[tuple[BusyPollSelector, socket.socket, socket.socket]]:
    reader, writer = socket.socketpair()
    selector = BusyPollSelector()
    selector.register(reader, selectors.EVENT_READ)
    try:
        yield selector, reader, writer
    finally:
        selector.close()
        reader.close()
        writer.close()


def timed_select(selector: BusyPollSelector, timeout: float) -> tuple[list, float, float]:
    """select(timeout) -> (ready, wall seconds, CPU seconds of this thread)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    ready = selector.select(timeout)
    return ready, time.perf_counter() - wall, time.thread_time() - cpu


def test_a_quiet_selector_sleeps_instead_of_spinning(watched) -> None:
    selector, _, _ = watched
    ready, wall, cpu = timed_select(selector, 0.2)
    assert ready == []
    assert wall >= 0.19
    assert cpu < QUIET_CPU_SECS


def test_io_starts_one_spin_and_a_quiet_wait_ends_it(
    watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(busypoll, "SPIN_SECS", 0.1)
    selector, reader, writer = watched
    writer.send(b"x")
    assert [key.fileobj for key, _ in selector.select(None)] == [reader]
    reader.recv(1)

    ready, wall, cpu = timed_select(selector, 0.5)  # after I/O: spins first, then sleeps
    assert ready == []
    assert wall >= 0.49  # the spin counts against the timeout, it does not extend it
    assert cpu >= 0.05  # the 0.1 s spin ran on the CPU
    assert cpu < 0.1 + QUIET_CPU_SECS  # ... and only the spin did

    ready, _, cpu = timed_select(selector, 0.2)  # that wait found nothing: no spin now
    assert ready == []
    assert cpu < QUIET_CPU_SECS


def test_the_spin_returns_io_that_arrives_during_it(
    watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(busypoll, "SPIN_SECS", 5.0)
    selector, reader, writer = watched
    writer.send(b"x")
    selector.select(None)
    reader.recv(1)
    late_write = threading.Timer(0.05, writer.send, args=(b"y",))  # lands mid-spin
    late_write.start()
    try:
        ready, wall, _ = timed_select(selector, None)
    finally:
        late_write.join()
    assert [key.fileobj for key, _ in ready] == [reader]
    assert wall < 5.0  # returned on the byte, not at the end of the spin


def test_the_daemon_loop_serves_on_a_busypoll_selector() -> None:
    loop = new_event_loop()
    try:
        assert isinstance(loop._selector, BusyPollSelector)  # type: ignore[attr-defined]
        reader, writer = socket.socketpair()
        with reader, writer:

            async def echo_once() -> bytes:
                writer.send(b"ping")
                return await loop.sock_recv(reader, 4)

            reader.setblocking(False)
            assert loop.run_until_complete(echo_once()) == b"ping"
    finally:
        loop.close()
