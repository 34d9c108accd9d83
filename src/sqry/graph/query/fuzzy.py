"""Fuzzy name matching for ``sqry search --fuzzy``.

A name matches when the pattern's characters appear in it in order
(case-insensitive). Among matches, the score prefers what people mean when they
type an abbreviation: characters that hit the start of a word (``gu`` ->
``get_user``, ``getUser``), runs of consecutive characters, and names not much
longer than the pattern. Scores are in (0, 1]; an exact case-insensitive match
scores 1.0. The empty pattern is a subsequence of every name, so it matches them
all, equally, with score 0.0 — as the empty regex matches every name in
``sqry search``'s default mode.
"""

from __future__ import annotations

_BOUNDARY = 2.0  # a hit on the first character of a word
_RUN = 1.5  # a hit right after the previous hit
_HIT = 1.0


def fuzzy_score(pattern: str, name: str) -> float | None:
    """Score of ``name`` for ``pattern``, or None when it is not a subsequence."""
    if not pattern:
        return 1.0 if not name else 0.0
    p, n = pattern.casefold(), name.casefold()
    if len(p) != len(pattern) or len(n) != len(name):
        # casefold changed the length (ß -> ss): fall back to the simpler lower().
        p, n = pattern.lower(), name.lower()
    if p == n:
        return 1.0
    if len(p) > len(n):
        return None
    best = _best_alignment(p, n, _boundaries(name if len(name) == len(n) else n))
    if best is None:
        return None
    perfect = _HIT + _BOUNDARY + (len(p) - 1) * (_HIT + _BOUNDARY + _RUN)
    coverage = len(p) / len(n)
    return round(0.99 * (0.8 * best / perfect + 0.2 * coverage), 6)


def _boundaries(name: str) -> list[bool]:
    """Whether each character starts a word (after ``_ - . : / $``, a camelCase hump,
    a letter/digit change, or at the start)."""
    marks = []
    for i, ch in enumerate(name):
        if i == 0:
            marks.append(True)
            continue
        prev = name[i - 1]
        marks.append(
            prev in "_-.:/$ "
            or (prev.islower() and ch.isupper())
            or (prev.isalpha() != ch.isalpha() and ch.isalnum())
        )
    return marks


def _best_alignment(p: str, n: str, starts: list[bool]) -> float | None:
    """Highest total bonus over all ways to place ``p`` in ``n`` in order (dynamic programming)."""
    neg = float("-inf")
    # prev_end[j]: best score of p[:i] with p[i-1] matched exactly at n[j];
    prev_end = [neg] * len(n)
    for j, ch in enumerate(n):
        if ch == p[0]:
            prev_end[j] = _HIT + (_BOUNDARY if starts[j] else 0.0)
    for i in range(1, len(p)):
        cur = [neg] * len(n)
        best_before = neg  # best prev_end[k] for k < j - 1
        for j in range(1, len(n)):
            if j >= 2:
                best_before = max(best_before, prev_end[j - 2])
            if n[j] != p[i]:
                continue
            bonus = _HIT + (_BOUNDARY if starts[j] else 0.0)
            candidates = [best_before + bonus, prev_end[j - 1] + bonus + _RUN]
            cur[j] = max(candidates)
        prev_end = cur
    best = max(prev_end, default=neg)
    return None if best == neg else best
