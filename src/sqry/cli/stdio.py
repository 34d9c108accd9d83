"""Best-effort standard streams, shared by the ``sqry`` and ``sqryd`` commands.

Both report their own failures on stderr and must never trip over a closed or
full stream while doing so. Only ``os`` and ``sys``: every CLI call imports this.
"""

from __future__ import annotations

import os
import sys


def write_stderr(text: str) -> None:
    """Write and flush ``text`` on stderr; with stderr closed or full there is
    nobody left to tell, so a failure is ignored."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null (after EPIPE or a failed write), so
    the interpreter's flush at exit neither fails again nor prints "Exception
    ignored" after the command's own message."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):  # no real stdout: nothing to flush
        pass
