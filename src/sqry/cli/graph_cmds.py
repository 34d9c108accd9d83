"""``sqry index|search|query|graph|explain``: placeholder, owned by the graph work."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    return None
