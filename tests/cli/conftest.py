"""Fixtures for the ``sqry`` read-command tests (see ``cli_kit``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_kit import sample_index


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace root holding :func:`cli_kit.sample_index` (source dirs exist, empty)."""
    root = tmp_path / "ws"
    for directory in ("src/app/api", "tools"):
        (root / directory).mkdir(parents=True)
    sample_index(root).write()
    return root
