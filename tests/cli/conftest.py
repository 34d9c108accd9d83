"""Fixtures for the ``sqry`` read-command tests (see ``cli_kit``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_kit import sample_index, shared_tmp_dir


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace root holding :func:`cli_kit.sample_index` (source dirs exist, empty)."""
    root = tmp_path / "ws"
    for directory in ("src/app/api", "tools"):
        (root / directory).mkdir(parents=True)
    sample_index(root).write()
    return root


@pytest.fixture
def shared_workspace() -> Iterator[Path]:
    """:func:`workspace` under /tmp where ``nobody`` may enter (for permission tests);
    removed afterwards whatever modes the test left behind."""
    base = shared_tmp_dir()
    root = base / "ws"
    for directory in ("src/app/api", "tools"):
        (root / directory).mkdir(parents=True)
    sample_index(root).write()
    try:
        yield root
    finally:
        base.chmod(0o755)
        for directory, subdirs, _ in os.walk(base):  # top-down: each made enterable first
            for name in subdirs:
                os.chmod(os.path.join(directory, name), 0o755)
        shutil.rmtree(base)
