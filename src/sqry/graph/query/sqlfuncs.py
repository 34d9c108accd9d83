"""Python functions the compiled SQL calls, registered per connection.

SQLite has no regex engine and no fuzzy matcher; registering Python's keeps
matching semantics identical to what the parser validated (``re`` syntax) while
the filtering still runs inside SQLite, row by row, without loading the index
into Python.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def owner_name(qualified_name: str | None) -> str | None:
    """``geo::Circle`` for ``geo::Circle::area``, ``srv.Server`` for ``srv.Server.Start``:
    the qualified name without its last segment (None without a separator)."""
    if not qualified_name:
        return None
    sep = "::" if "::" in qualified_name else "."
    head, found, _ = qualified_name.rpartition(sep)
    return head if found and head else None


def name_segments(text: str) -> list[str]:
    """``["geo", "Circle", "area"]`` for ``geo::Circle::area`` or ``geo.Circle.area``."""
    return _SEPARATORS.split(text)


#: How long the regexes of one search or query may run over the index's names.
#: A plain pattern takes well under a second on the Python standard library;
#: nested repeats such as ``(\w+)+$`` backtrack exponentially on each name.
REGEX_TIME_LIMIT_SECS = 10.0


class RegexTooSlow(Exception):
    """Raised (by a timer signal) when a query's regexes run past the limit."""


_interrupted: BaseException | None = None


def _noting_interrupts(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, noting a Ctrl-C (or the regex timer) that lands inside it:
    SQLite turns any exception of a Python function into "user-defined
    function raised exception", which would read as a broken index (see
    :func:`raise_if_interrupted`)."""

    def call(*args: Any) -> Any:
        global _interrupted
        try:
            return function(*args)
        except (KeyboardInterrupt, RegexTooSlow) as exc:
            _interrupted = exc
            raise

    return call


def raise_if_interrupted() -> None:
    """Raise the KeyboardInterrupt (or RegexTooSlow) that hit one of these
    functions: call it where an ``sqlite3.Error`` from a query is caught,
    before blaming the index."""
    global _interrupted
    if _interrupted is not None:
        found, _interrupted = _interrupted, None
        raise found


@contextmanager
def regex_time_limit(pattern: str, subject: str = "pattern") -> Iterator[None]:
    """Run the block, a search or query whose SQL calls ``sqry_regexp``, within
    :data:`REGEX_TIME_LIMIT_SECS`; past it, a QueryError (exit 2, ``-32602``)
    blaming the regex of ``pattern`` rather than a hang or a broken index."""
    from sqry.graph.query.errors import QueryError
    from sqry.graph.timebox import time_limit

    try:
        with time_limit(REGEX_TIME_LIMIT_SECS, RegexTooSlow):
            try:
                yield
            except sqlite3.Error:
                raise_if_interrupted()
                raise
    except RegexTooSlow:
        raise QueryError(
            f"the regex ran over the index's names for more than {REGEX_TIME_LIMIT_SECS:g}s; "
            r"nested repeats such as (a+)+ or (\w+\w+)+ backtrack exponentially: "
            "simplify the pattern",
            1,
            "a regex without nested repeats",
            pattern,
            subject,
        ) from None


def install(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Register ``sqry_regexp(pattern, flags, text)``, ``sqry_tail(text)``,
    ``sqry_owner(qualified_name)`` and ``sqry_fuzzy(pattern, text)`` on ``conn``;
    idempotent. Returns ``conn``."""
    conn.create_function("sqry_regexp", 3, _noting_interrupts(_regexp), deterministic=True)
    conn.create_function("sqry_tail", 1, _noting_interrupts(last_segment), deterministic=True)
    conn.create_function("sqry_fuzzy", 2, _noting_interrupts(fuzzy_score), deterministic=True)
    conn.create_function("sqry_owner", 1, owner_name, deterministic=True)
    return conn
