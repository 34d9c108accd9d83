"""``sqry daemon start|stop|status``: thin wrappers over the client library."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Placeholder until the IPC client lands; owned by the IPC work."""
    p = sub.add_parser("daemon", help="manage the sqryd daemon")
    p.set_defaults(run=None)
