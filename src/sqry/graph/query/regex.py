"""The one way queries and searches compile regexes: Python ``re``, cached, quiet.

Parser, name search and the SQL callback all go through :func:`compile_regex`, so
a pattern is validated with exactly the engine that later runs it, and
``re``'s FutureWarnings ("possible nested set") never leak onto a user's terminal.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

_FLAG_BITS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
IGNORECASE = re.IGNORECASE


def flag_bits(flags: str) -> int:
    """The ``re`` flag bits for flag letters such as ``"im"``."""
    bits = 0
    for letter in flags:
        bits |= _FLAG_BITS[letter]
    return bits


@lru_cache(maxsize=256)
def compile_regex(pattern: str, bits: int = 0) -> re.Pattern[str]:
    """``re.compile`` without warnings; raises ``re.error`` (and, for absurd
    patterns, OverflowError/RecursionError) like it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.compile(pattern, bits)


def regex_problem(pattern: str, bits: int = 0) -> tuple[str, int] | None:
    """Why ``pattern`` is not a usable regex, as (message, 0-based offset), or None.

    The one place a user's regex is validated (query ``/.../`` values and ``sqry
    search``): besides ``re.error``, which knows the offending position, absurd
    patterns make ``re`` raise OverflowError (a repeat count over its limit) or
    RecursionError (groups nested hundreds deep), which carry no position and
    must not reach the user as tracebacks either.
    """
    try:
        compile_regex(pattern, bits)
    except re.error as exc:
        return f"invalid regex: {exc.msg}", exc.pos or 0
    except RecursionError:
        return "invalid regex: nested too deeply for Python's regex compiler", 0
    except (OverflowError, ValueError) as exc:
        return f"invalid regex: {exc}", 0
    return None


_SPECIAL = frozenset(".^$*+?{}[]\\|()")
_OPTIONAL_AFTER = frozenset("*?{")


def required_literal(pattern: str, bits: int = 0) -> str | None:
    """The longest run of plain characters every match of ``pattern`` must contain.

    Lets SQL skip most rows with a cheap ``instr()`` before calling back into
    Python for the real regex test. Conservative by design: no answer (None) for
    case-insensitive or verbose patterns, alternation or inline flags; nothing
    inside groups or classes counts; a character followed by ``*``, ``?`` or
    ``{`` is optional and ends the run; ``\\.`` counts as ``.``, other escapes end
    a run.
    """
    if bits & (re.IGNORECASE | re.VERBOSE) or "|" in pattern or "(?" in pattern:
        return None
    runs: list[str] = []
    run: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        literal, width = _atom(pattern, i)
        if pattern[i] == "(":
            depth += 1
        elif pattern[i] == ")":
            depth = max(0, depth - 1)
        following = pattern[i + width : i + width + 1]
        if literal is not None and depth == 0 and following not in _OPTIONAL_AFTER:
            run.append(literal)
        elif run:
            runs.append("".join(run))
            run = []
        if following == "+" and run:
            runs.append("".join(run))
            run = []
        i += width
    runs.append("".join(run))
    return max(runs, key=len) or None


#: ASCII letters that ``re`` also matches, case-insensitively, to a non-ASCII letter
#: (İ ı ſ K): SQLite's ASCII-only LIKE would miss those.
_UNICODE_CASE_PARTNERS = frozenset("iIsSkK")


def caseless_literal(pattern: str, bits: int) -> str | None:
    """For a case-insensitive pattern: the longest run of ASCII characters every match
    contains in some case, safe for SQLite's ASCII-only case-insensitive ``LIKE``."""
    literal = required_literal(pattern, bits & ~re.IGNORECASE)
    if not literal:
        return None
    runs = re.split(r"[^\x00-\x7f]|[iIsSkK]", literal)
    return max(runs, key=len) or None


def _atom(pattern: str, i: int) -> tuple[str | None, int]:
    """(the literal character at ``i`` or None, how many characters the atom spans)."""
    ch = pattern[i]
    if ch == "\\":
        nxt = pattern[i + 1 : i + 2]
        return (nxt if nxt and not nxt.isalnum() and nxt != "_" else None), 2
    if ch == "[":
        return None, _span(pattern, i, "]", classes=True)
    if ch == "{":
        return None, _span(pattern, i, "}", classes=False)
    return (None if ch in _SPECIAL else ch), 1


def _span(pattern: str, start: int, closer: str, *, classes: bool) -> int:
    """Length of the bracketed part starting at ``start`` (to the end if unclosed)."""
    i = start + 1
    if classes:
        if pattern[i : i + 1] == "^":
            i += 1
        if pattern[i : i + 1] == "]":
            i += 1
    while i < len(pattern) and pattern[i] != closer:
        i += 2 if pattern[i] == "\\" else 1
    return min(i + 1, len(pattern)) - start
