"""Python functions the compiled SQL calls, registered per connection.

SQLite has no regex engine and no fuzzy matcher; registering Python's keeps
matching semantics identical to what the parser validated (``re`` syntax) while
the filtering still runs inside SQLite, row by row, without loading the index
into Python.
"""

from __future__ import annotations

import re
import sqlite3

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


def install(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Register ``sqry_regexp(pattern, flags, text)``, ``sqry_tail(text)`` and
    ``sqry_fuzzy(pattern, text)`` on ``conn``; idempotent. Returns ``conn``."""
    conn.create_function("sqry_regexp", 3, _regexp, deterministic=True)
    conn.create_function("sqry_tail", 1, last_segment, deterministic=True)
    conn.create_function("sqry_fuzzy", 2, fuzzy_score, deterministic=True)
    return conn
