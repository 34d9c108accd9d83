"""Interrupting a block that runs too long: one file's parse, one regex search.

Python cannot stop a running ``re`` match or tree-sitter parse from outside,
but both return to the interpreter often enough for a signal handler to run
(``re`` checks for signals every few thousand steps). :func:`time_limit` arms
``SIGALRM`` (``ITIMER_REAL``) to raise a given exception inside the block. Only
the main thread receives signals, so elsewhere the block runs unbounded.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def time_limit(seconds: float, error: type[BaseException]) -> Iterator[None]:
    """Raise ``error()`` inside the block once it has run ``seconds`` (main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise error

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
