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
