"""gitignore semantics, written out: which paths a tree of ignore files excludes.

Discovery (:mod:`sqry.graph.discovery`) stacks one :class:`IgnoreLevel` per
directory that holds ignore files (``.git/info/exclude``, ``.gitignore``,
``.sqryignore``) and asks :meth:`IgnoreStack.ignored` about every entry it meets.

The rules are git's (``gitignore(5)``), because users expect sqry to skip what
git skips:

- blank lines and ``#`` comments are ignored; ``\\#`` and ``\\!`` start literal
  patterns; trailing spaces are dropped unless escaped (``\\ ``);
- ``!pat`` re-includes what an earlier pattern excluded (but nothing inside an
  excluded directory: discovery never descends into one);
- ``pat/`` matches directories only;
- a pattern with a ``/`` at its start or middle is anchored to the directory of
  its ignore file; without one it matches a name at any depth below it;
- ``*`` and ``?`` never match ``/``; ``[...]`` classes (``[!...]``/``[^...]``
  negated, ranges, ``[:alpha:]``-style names); ``\\x`` is a literal ``x``;
- ``**/`` leading, ``/**`` trailing and ``/**/`` inner match any number of
  directories; other ``**`` are plain ``*``.

Precedence, highest first: deeper directories over shallower ones; within one
directory ``.sqryignore`` over ``.gitignore`` over ``.git/info/exclude``; within
one file the last matching line wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled pattern line; ``regex`` matches a path relative to the file's dir."""

    pattern: str
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def _strip_trailing_spaces(line: str) -> str:
    """Drop trailing spaces that are not escaped with a backslash."""
    end = len(line)
    while end > 0 and line[end - 1] == " ":
        backslashes = 0
        i = end - 2
        while i >= 0 and line[i] == "\\":
            backslashes += 1
            i -= 1
        if backslashes % 2 == 1:  # "\ " keeps this space and everything before it
            break
        end -= 1
    return line[:end]


def _translate_class(pattern: str, start: int) -> tuple[str, int] | None:
    """Translate the ``[...]`` starting at ``pattern[start]``; None if unterminated."""
    i = start + 1
    negate = False
    if i < len(pattern) and pattern[i] in "!^":
        negate = True
        i += 1
    parts: list[str] = []
    first = True
    while i < len(pattern):
        ch = pattern[i]
        if ch == "]" and not first:
            body = "".join(parts)
            return (f"[^/{body}]" if negate else f"(?!/)[{body}]"), i + 1
        first = False
        if ch == "[" and pattern.startswith("[:", i):
            close = pattern.find(":]", i + 2)
            name = pattern[i + 2 : close] if close != -1 else ""
            if name in _POSIX_CLASSES:
                parts.append(_POSIX_CLASSES[name])
                i = close + 2
                continue
        if ch == "\\" and i + 1 < len(pattern):
            i += 1
            ch = pattern[i]
        if ch == "-" and parts and i + 1 < len(pattern) and pattern[i + 1] != "]":
            parts.append("-")
        else:
            parts.append(re.escape(ch))
        i += 1
    return None


def _translate(pattern: str) -> str:
    """Translate a glob body (no ``!``, no trailing ``/``) to a regex source."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            j = i
            while j < n and pattern[j] == "*":
                j += 1
            stars = j - i
            at_start = i == 0 or pattern[i - 1] == "/"
            at_end = j == n or pattern[j] == "/"
            if stars >= 2 and at_start and at_end:
                if j == n:  # trailing "/**" (or a lone "**"): everything below
                    out.append(".*")
                    i = j
                else:  # "**/" leading or "/**/" inner: zero or more directories
                    out.append("(?:.*/)?")
                    i = j + 1
                continue
            out.append("[^/]*")
            i = j
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            translated = _translate_class(pattern, i)
            if translated is None:
                out.append(re.escape(ch))
                i += 1
            else:
                out.append(translated[0])
                i = translated[1]
        elif ch == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


def compile_line(line: str) -> Rule | None:
    """Compile one line of an ignore file; None for blanks and comments."""
    line = line.rstrip("\r\n")
    if not line or line.startswith("#"):
        return None
    body = _strip_trailing_spaces(line)
    negated = False
    if body.startswith("!"):
        negated = True
        body = body[1:]
    elif body.startswith("\\!") or body.startswith("\\#"):
        body = body[1:]
    dir_only = False
    if body.endswith("/") and not body.endswith("\\/"):
        dir_only = True
        body = body.rstrip("/")
    if not body:
        return None
    anchored = "/" in body
    body = body.lstrip("/")
    if not body:
        return None
    source = _translate(body)
    if not anchored and not source.startswith("(?:.*/)?"):
        source = "(?:.*/)?" + source
    return Rule(line, re.compile(source + r"\Z", re.DOTALL), negated, dir_only)


def parse_rules(text: str) -> tuple[Rule, ...]:
    """All rules of one ignore file's text, in file order."""
    rules = (compile_line(line) for line in text.splitlines())
    return tuple(rule for rule in rules if rule is not None)


@dataclass(frozen=True, slots=True)
class IgnoreLevel:
    """The rules that apply below one directory (``base``: root-relative, '' = root).

    ``rules`` are in ascending precedence: ``.git/info/exclude`` first, then
    ``.gitignore``, then ``.sqryignore``, each in file order.
    """

    base: str
    rules: tuple[Rule, ...]

    def decide(self, rel_path: str, is_dir: bool) -> bool | None:
        """True (ignored), False (re-included) or None (no rule here matches)."""
        if self.base:
            if not rel_path.startswith(self.base + "/"):
                return None
            rel_path = rel_path[len(self.base) + 1 :]
        for rule in reversed(self.rules):
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(rel_path):
                return not rule.negated
        return None


@dataclass(frozen=True, slots=True)
class IgnoreStack:
    """The ignore levels in force for one directory, shallowest first (immutable)."""

    levels: tuple[IgnoreLevel, ...] = ()

    def push(self, level: IgnoreLevel) -> IgnoreStack:
        """A stack with ``level`` added as the deepest (most precedent) one."""
        if not level.rules:
            return self
        return IgnoreStack((*self.levels, level))

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        """Whether ``rel_path`` (root-relative, POSIX) is excluded."""
        for level in reversed(self.levels):
            decision = level.decide(rel_path, is_dir)
            if decision is not None:
                return decision
        return False
