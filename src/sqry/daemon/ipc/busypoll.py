"""The daemon's event loop: epoll that keeps polling for a moment after activity.

Why: on a virtual machine, a process sleeping in ``epoll_wait`` sits on a halted
virtual CPU, and waking it for the next request costs tens of microseconds, more
than serving a ``daemon/status`` does (measured here: a ping-pong between two
processes takes 18 us on one vCPU and 83 us across two). A client that sends its
next request right after reading a reply therefore finds the daemon asleep every
time. After an iteration that saw I/O, ``BusyPollSelector`` polls without sleeping
for up to ``SPIN_SECS`` before it blocks; the next request of an active client is
picked up by a CPU that never halted.

The cost is bounded and only paid under traffic: at most ``SPIN_SECS`` of CPU after
each burst of activity, nothing while the daemon is idle (a wake-up that brought no
I/O, such as a timer, does not start a spin).
"""

from __future__ import annotations

import asyncio
import selectors
import time
from typing import Any

SPIN_SECS = 0.0002
"""How long to keep polling after I/O: a persistent client's next request usually
comes within a few tens of microseconds, a reply being read and the next request sent."""


class BusyPollSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The platform's default selector, polling for up to SPIN_SECS before a blocking wait."""

    def __init__(self) -> None:
        super().__init__()
        self._active = False  # the last wait returned I/O: spin before the next one

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        if self._active and (timeout is None or timeout > 0):
            spin = SPIN_SECS if timeout is None else min(SPIN_SECS, timeout)
            deadline = time.perf_counter() + spin
            while True:
                ready = super().select(0)
                if ready:
                    return ready
                if time.perf_counter() >= deadline:
                    break
            if timeout is not None:
                timeout = max(timeout - spin, 0.0)
        ready = super().select(timeout)
        if ready:
            self._active = True
        elif timeout is None or timeout > 0:
            self._active = False  # a wait that found nothing: quiet now, sleep next time
        return ready


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A selector event loop on a BusyPollSelector (the daemon's and the test servers')."""
    return asyncio.SelectorEventLoop(BusyPollSelector())
