"""Fixtures for IPC tests: an in-process IpcServer on a real Unix socket.

The server runs on its own event loop in a background thread (``ThreadedServer``),
bound in a fresh short ``/tmp/sqXXXX`` dir per test, and is always shut down.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ipc_testkit import Harness, running_server


@pytest.fixture
def ipc() -> Iterator[Harness]:
    with running_server() as harness:
        yield harness
