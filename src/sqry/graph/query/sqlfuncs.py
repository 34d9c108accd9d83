"""Python functions the compiled SQL calls, registered per connection.

SQLite has no regex engine and no fuzzy matcher; registering Python's keeps
matching semantics identical to what the parser validated (``re`` syntax) while
the filtering still runs inside SQLite, row by row, without loading the index
into Python.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

from sqry.graph.query.fuzzy import fuzzy_score
from sqry.graph.query.regex import compile_regex

#: Separators after which the last segment of a written name starts.
_SEPARATORS = re.compile(r"\.|::|->|/")


def _regexp(pattern: str, flags: int, text: str | None) -> int:
    """``re.search`` as an SQL predicate (1/0); NULL text never matches."""
    if text is None:
        return 0
    return 1 if compile_regex(pattern, flags).search(text) else 0


def last_segment(text: str | None) -> str | None:
    """``join`` for ``os.path.join``, ``f`` for ``crate::m::f``, ``m`` for ``this->m``."""
    if text is None:
        return None
    return _SEPARATORS.split(text)[-1]


_interrupted = False


def _noting_interrupts(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, noting a Ctrl-C that lands inside it: SQLite turns any
    exception of a Python function into "user-defined function raised
    exception", which would read as a broken index (see :func:`raise_if_interrupted`)."""

    def call(*args: Any) -> Any:
        global _interrupted
        try:
            return function(*args)
        except KeyboardInterrupt:
            _interrupted = True
            raise

    return call


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C hit one of these functions: call it
    where an ``sqlite3.Error`` from a query is caught, before blaming the index."""
    global _interrupted
    if _interrupted:
        _interrupted = False
        raise KeyboardInterrupt


def install(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Register ``sqry_regexp(pattern, flags, text)``, ``sqry_tail(text)`` and
    ``sqry_fuzzy(pattern, text)`` on ``conn``; idempotent. Returns ``conn``."""
    conn.create_function("sqry_regexp", 3, _noting_interrupts(_regexp), deterministic=True)
    conn.create_function("sqry_tail", 1, _noting_interrupts(last_segment), deterministic=True)
    conn.create_function("sqry_fuzzy", 2, _noting_interrupts(fuzzy_score), deterministic=True)
    return conn
