"""Fixtures for client tests: the in-process IPC server from tests/daemon/ipc and fakes.

``tests/daemon/ipc`` holds the shared wire test kit (``ipc_testkit``); it is put on
``sys.path`` here the same way tests/conftest.py exposes ``helpers``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "daemon" / "ipc"))

from ipc_testkit import Harness, running_server, short_dir  # noqa: E402


@pytest.fixture
def ipc() -> Iterator[Harness]:
    with running_server() as harness:
        yield harness


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    with short_dir() as directory:
        yield directory
