"""Turn query text into tokens, each with its 0-based offset for error carets.

Lexing is modal: right after an operator (``:``, ``~=``, ``>``...) a *value* is
read, and a value word may contain characters that separate terms elsewhere
(``qname:crate::net::connect``, ``path:src/*.py``), ending only at whitespace,
a parenthesis, ``|`` or a quote. Everywhere else a word also stops at an operator
so ``kind:function`` splits into field, operator and value without spaces.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from sqry.graph.query.errors import QueryError
from sqry.graph.query.fields import REGEX_FLAGS
from sqry.graph.query.record import Record

TokenKind = Literal["WORD", "STRING", "REGEX", "OP", "LPAREN", "RPAREN", "PIPE", "EOF"]

_PUNCT: dict[str, TokenKind] = {"(": "LPAREN", ")": "RPAREN", "|": "PIPE"}
_QUOTES = "\"'"
#: Characters that end a word in term position (besides whitespace and ``~=``).
_TERM_STOP = frozenset("()|\"':<>=")
#: Characters that end a value word (besides whitespace).
_VALUE_STOP = frozenset("()|\"'")


class Token(Record):
    """One token. ``text`` is decoded (quotes and escapes removed); ``pos``/``end``
    are 0-based offsets into the query; ``flags`` only for REGEX."""

    __slots__ = ("kind", "text", "pos", "end", "flags")
    _defaults: ClassVar[dict[str, Any]] = {"flags": ""}
    kind: TokenKind
    text: str
    pos: int
    end: int
    flags: str

    def describe(self) -> str:
        """How the token is named in error messages."""
        if self.kind == "EOF":
            return "the end of the query"
        if self.kind == "STRING":
            return f"the quoted value {self.text!r}"
        if self.kind == "REGEX":
            return f"the regex /{self.text}/{self.flags}"
        return f"'{self.text}'"


def tokenize(query: str) -> list[Token]:
    """All tokens of ``query`` ending with an EOF token; raises QueryError on bad lexemes."""
    return _Lexer(query).run()


class _Lexer:
    def __init__(self, query: str) -> None:
        self.q = query
        self.i = 0
        self.tokens: list[Token] = []

    def fail(self, message: str, offset: int, expected: str) -> QueryError:
        return QueryError(message, offset + 1, expected, self.q)

    def run(self) -> list[Token]:
        value_next = False
        while True:
            self._skip_space()
            if self.i >= len(self.q):
                self.tokens.append(Token("EOF", "", self.i, self.i))
                return self.tokens
            token = self._value() if value_next else self._term()
            self.tokens.append(token)
            value_next = token.kind == "OP"

    def _skip_space(self) -> None:
        while self.i < len(self.q) and self.q[self.i].isspace():
            self.i += 1

    def _term(self) -> Token:
        q, start = self.q, self.i
        ch = q[start]
        if ch in _PUNCT:
            self.i += 1
            return Token(_PUNCT[ch], ch, start, self.i)
        if ch in _QUOTES:
            return self._string()
        if ch == "/":
            return self._regex()
        for op in (">=", "<=", "~=", ":", ">", "<"):
            if q.startswith(op, start):
                self.i += len(op)
                return Token("OP", op, start, self.i)
        if ch == "=":
            raise self.fail(
                "unexpected '=': use ':' for equality, e.g. name:main", start, "':' or '~='"
            )
        return self._word(_TERM_STOP, stop_at_tilde_eq=True)

    def _value(self) -> Token:
        q, start = self.q, self.i
        ch = q[start]
        if ch in _PUNCT:
            self.i += 1
            return Token(_PUNCT[ch], ch, start, self.i)
        if ch in _QUOTES:
            return self._string()
        if ch == "/":
            return self._regex()
        return self._word(_VALUE_STOP, stop_at_tilde_eq=False)

    def _word(self, stop: frozenset[str], *, stop_at_tilde_eq: bool) -> Token:
        q, start = self.q, self.i
        i = start
        while i < len(q) and not q[i].isspace() and q[i] not in stop:
            if stop_at_tilde_eq and q.startswith("~=", i):
                break
            i += 1
        self.i = i
        return Token("WORD", q[start:i], start, i)

    def _string(self) -> Token:
        """A quoted value; ``\\`` escapes the quote and itself, other escapes stay
        as written so ``name~="a\\.b"`` keeps its regex escape."""
        q, start = self.q, self.i
        quote = q[start]
        out: list[str] = []
        i = start + 1
        while i < len(q):
            ch = q[i]
            if ch == "\\" and i + 1 < len(q):
                nxt = q[i + 1]
                out.append(nxt if nxt in (quote, "\\") else ch + nxt)
                i += 2
                continue
            if ch == quote:
                self.i = i + 1
                return Token("STRING", "".join(out), start, self.i)
            out.append(ch)
            i += 1
        raise self.fail(
            f"unterminated string starting at column {start + 1}",
            start,
            f"a closing {quote}",
        )

    def _regex(self) -> Token:
        """``/pattern/flags``; ``\\/`` is a literal slash, other escapes pass to ``re``."""
        q, start = self.q, self.i
        out: list[str] = []
        i = start + 1
        while i < len(q):
            ch = q[i]
            if ch == "\\" and i + 1 < len(q):
                nxt = q[i + 1]
                out.append("/" if nxt == "/" else ch + nxt)
                i += 2
                continue
            if ch == "/":
                return self._regex_flags(start, "".join(out), i + 1)
            out.append(ch)
            i += 1
        raise self.fail(f"unterminated regex starting at column {start + 1}", start, "a closing /")

    def _regex_flags(self, start: int, pattern: str, i: int) -> Token:
        q = self.q
        flags_start = i
        while i < len(q) and (q[i].isalnum() or q[i] == "_"):
            if q[i] not in REGEX_FLAGS:
                raise self.fail(
                    f"unknown regex flag '{q[i]}'", i, f"one of the flags {', '.join(REGEX_FLAGS)}"
                )
            if q[i] in q[flags_start:i]:  # /a/ii is a typo, not a stronger flag
                raise self.fail(f"repeated regex flag '{q[i]}'", i, "each flag at most once")
            i += 1
        self.i = i
        flags = "".join(sorted(q[flags_start:i]))
        return Token("REGEX", pattern, start, i, flags)
