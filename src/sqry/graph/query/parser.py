"""Recursive-descent parser for the query language of graph.md §3.

Grammar (keywords, field, relation and stage names are case-insensitive)::

    query     := or ( "|" stage )*
    or        := and ( OR and )*
    and       := not ( [AND] not )*          -- juxtaposition is AND
    not       := NOT not | "(" or ")" | predicate | bareword
    predicate := FIELD op value | RELATION ":" "(" or ")" | RELATION ":" value
    op        := ":" | "~=" | ">" | "<" | ">=" | "<="
    value     := word | "quoted" | 'quoted' | /regex/flags | integer | true | false
    bareword  := word                           -- means name~=/word/
    stage     := count | group_by FIELD | top N FIELD

Everything a query can get wrong is found here, with its position, so the
compiler never fails: fields and operators are checked against their types, regexes
are compiled, enum values are checked, limits are enforced.
"""

from __future__ import annotations

from sqry.graph.query.errors import QueryError
from sqry.graph.query.fields import (
    ENUM_VALUES,
    FIELDS,
    KEYWORDS,
    MAX_DEPTH,
    MAX_INT,
    MAX_PREDICATES,
    MAX_QUERY_BYTES,
    RELATIONS,
    canonical_field,
    field_list,
)
from sqry.graph.query.lexer import Token, tokenize
from sqry.graph.query.nodes import (
    And,
    Compare,
    Count,
    Flag,
    GroupBy,
    Match,
    Node,
    Not,
    Or,
    Pattern,
    Query,
    Relation,
    Stage,
    Top,
)
from sqry.graph.query.regex import flag_bits, regex_problem

_GLOB_CHARS = frozenset("*?[")
_TERM = "a predicate (FIELD:VALUE, a name, NOT or '(')"


def parse(query: str) -> Query:
    """Parse ``query`` into a :class:`Query`; raise :class:`QueryError` on any mistake."""
    _check_length(query)
    return _Parser(query, tokenize(query)).parse()


def unescape_slashes(pattern: str) -> str:
    """``pattern`` with each escaped slash ``\\/`` written as ``/``.

    ``re`` reads both the same, so this changes no match; it gives each regex one
    spelling, which is what lets the printer round-trip it through ``/.../``.
    """
    if "\\/" not in pattern:
        return pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        pair = pattern[i : i + 2]
        if pair == "\\/":
            out.append("/")
        elif pair[:1] == "\\" and len(pair) == 2:
            out.append(pair)
        else:
            out.append(pattern[i])
            i += 1
            continue
        i += 2
    return "".join(out)


def _check_length(query: str) -> None:
    encoded = query.encode("utf-8", "surrogatepass")
    if len(encoded) <= MAX_QUERY_BYTES:
        return
    # Column of the first character that does not fit in the byte budget.
    column = len(encoded[:MAX_QUERY_BYTES].decode("utf-8", "ignore")) + 1
    raise QueryError(
        f"query is {len(encoded)} bytes long; the limit is {MAX_QUERY_BYTES} bytes (10 KiB)",
        column,
        "a shorter query",
        query,
    )


class _Parser:
    def __init__(self, query: str, tokens: list[Token]) -> None:
        self.q = query
        self.toks = tokens
        self.k = 0
        self.predicates = 0

    # -- token helpers -------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.toks[min(self.k + ahead, len(self.toks) - 1)]

    def advance(self) -> Token:
        tok = self.toks[self.k]
        self.k = min(self.k + 1, len(self.toks) - 1)
        return tok

    def previous(self) -> Token | None:
        return self.toks[self.k - 1] if self.k > 0 else None

    def fail(self, message: str, offset: int, expected: str) -> QueryError:
        return QueryError(message, offset + 1, expected, self.q)

    def is_keyword(self, tok: Token, keyword: str) -> bool:
        return tok.kind == "WORD" and tok.text.lower() == keyword

    # -- filter --------------------------------------------------------------

    def parse(self) -> Query:
        where = self.or_(0)
        stages: list[Stage] = []
        while self.peek().kind == "PIPE":
            self.advance()
            stages.append(self.stage(stages))
        tok = self.peek()
        if tok.kind == "RPAREN":
            raise self.fail("unmatched ')'", tok.pos, "the end of the query")
        if tok.kind != "EOF":
            raise self.fail(
                f"unexpected {tok.describe()}; expected AND, OR, '|' or the end of the query",
                tok.pos,
                "AND, OR, '|' or the end of the query",
            )
        return Query(where, tuple(stages))

    def or_(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(
                f"query nests deeper than {MAX_DEPTH} levels", self.peek().pos, "less nesting"
            )
        items = [self.and_(depth)]
        while self.is_keyword(self.peek(), "or"):
            self.advance()
            items.append(self.and_(depth))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self, depth: int) -> Node:
        items = [self.not_(depth)]
        while True:
            tok = self.peek()
            if self.is_keyword(tok, "and"):
                self.advance()
            elif not self.starts_term(tok):
                break
            items.append(self.not_(depth))
        return items[0] if len(items) == 1 else And(tuple(items))

    def starts_term(self, tok: Token) -> bool:
        """Whether ``tok`` begins another term (juxtaposition means AND)."""
        if tok.kind == "WORD":
            return tok.text.lower() not in ("and", "or")
        return tok.kind in ("LPAREN", "STRING", "REGEX")

    def not_(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(
                f"query nests deeper than {MAX_DEPTH} levels", self.peek().pos, "less nesting"
            )
        tok = self.peek()
        if self.is_keyword(tok, "not") and self.peek(1).kind != "OP":
            self.advance()
            return Not(self.not_(depth + 1))
        if tok.kind == "LPAREN":
            self.advance()
            inner = self.or_(depth + 1)
            self.close_paren(tok)
            return inner
        if tok.kind == "WORD" and tok.text.lower() not in KEYWORDS:
            if self.peek(1).kind == "OP":
                return self.predicate(depth)
            return self.bareword()
        raise self.term_error(tok)

    def close_paren(self, opening: Token) -> None:
        tok = self.peek()
        if tok.kind != "RPAREN":
            raise self.fail(
                f"expected ')' to close the '(' at column {opening.pos + 1}, found {tok.describe()}",
                tok.pos,
                "')'",
            )
        self.advance()

    def term_error(self, tok: Token) -> QueryError:
        """The error for a token that cannot start a term, phrased for that token."""
        prev = self.previous()
        if tok.kind == "EOF":
            message = (
                f"expected a predicate after {prev.describe()}"
                if prev
                else "empty query; expected a predicate such as kind:function or a name"
            )
        elif tok.kind == "STRING":
            message = 'a quoted value needs a field in front, e.g. name:"..."'
        elif tok.kind == "REGEX":
            message = "a /regex/ needs a field in front, e.g. name~=/.../"
        elif tok.kind == "OP":
            message = f"expected a field name before '{tok.text}'"
        else:
            message = f"expected a predicate before {tok.describe()}"
        return self.fail(message, tok.pos, _TERM)

    def count_predicate(self, tok: Token) -> None:
        self.predicates += 1
        if self.predicates > MAX_PREDICATES:
            raise self.fail(
                f"too many predicates: the limit is {MAX_PREDICATES}",
                tok.pos,
                f"at most {MAX_PREDICATES} predicates",
            )

    def bareword(self) -> Node:
        tok = self.advance()
        self.count_predicate(tok)
        self.check_regex(tok.text, "", tok.pos)
        return Match("name", Pattern("regex", unescape_slashes(tok.text)))

    # -- predicates ----------------------------------------------------------

    def predicate(self, depth: int) -> Node:
        word = self.advance()
        op = self.advance()
        lowered = word.text.lower()
        if lowered in RELATIONS:
            return self.relation(lowered, word, op, depth)
        field = canonical_field(word.text)
        if field is None:
            raise self.fail(
                f"unknown field '{word.text}'; fields are {field_list()}"
                f" and relations are {', '.join(RELATIONS)}",
                word.pos,
                f"a field ({field_list()}) or a relation ({', '.join(RELATIONS)})",
            )
        self.count_predicate(word)
        ftype = FIELDS[field]
        if ftype == "bool":
            return self.flag(field, word, op)
        if ftype == "int":
            return self.compare(field, word, op)
        if op.text not in (":", "~="):
            raise self.fail(
                f"'{op.text}' compares numbers and '{word.text}' is not numeric",
                op.pos,
                "':' or '~='",
            )
        pattern = self.pattern(word, op)
        if ftype == "enum" and pattern.mode == "eq":
            self.check_enum(field, pattern.text, self.toks[self.k - 1])
        return Match(field, pattern)

    def relation(self, name: str, word: Token, op: Token, depth: int) -> Node:
        if op.text != ":":
            raise self.fail(
                f"relation '{word.text}' takes ':', not '{op.text}'",
                op.pos,
                f"{name}:NAME or {name}:(QUERY)",
            )
        self.count_predicate(word)
        opening = self.peek()
        if opening.kind == "LPAREN":
            self.advance()
            inner = self.or_(depth + 1)
            self.close_paren(opening)
            return Relation(name, inner)
        return Relation(name, self.pattern(word, op))

    def value_token(self, word: Token, op: Token) -> Token:
        tok = self.peek()
        if tok.kind in ("WORD", "STRING", "REGEX"):
            return self.advance()
        hint = "; parentheses only follow a relation" if tok.kind == "LPAREN" else ""
        raise self.fail(
            f"expected a value after '{word.text}{op.text}'{hint}",
            tok.pos,
            'a value: a word, a "quoted" string, a /regex/, a number, true or false',
        )

    def pattern(self, word: Token, op: Token) -> Pattern:
        """The text pattern after ``FIELD:``/``FIELD~=`` (also a relation's name value)."""
        tok = self.value_token(word, op)
        if tok.kind == "REGEX" or op.text == "~=":
            start = tok.pos + (0 if tok.kind == "WORD" else 1)
            self.check_regex(tok.text, tok.flags, start)
            return Pattern("regex", unescape_slashes(tok.text), tok.flags)
        mode = "glob" if _GLOB_CHARS & set(tok.text) else "eq"
        return Pattern(mode, tok.text)

    def check_regex(self, pattern: str, flags: str, offset: int) -> None:
        problem = regex_problem(pattern, flag_bits(flags))
        if problem is not None:
            message, at = problem
            raise self.fail(message, offset + at, "a valid Python regular expression")

    def check_enum(self, field: str, value: str, tok: Token) -> None:
        allowed = ENUM_VALUES.get(field)
        if allowed is None and field == "lang":
            from sqry.graph.languages.base import language_names

            allowed = language_names()
        if allowed is not None and value.lower() not in allowed:
            raise self.fail(
                f"unknown {field} '{value}'; expected one of {', '.join(sorted(allowed))}",
                tok.pos,
                f"one of {', '.join(sorted(allowed))}",
            )

    def flag(self, field: str, word: Token, op: Token) -> Node:
        if op.text != ":":
            raise self.fail(f"'{word.text}' takes ':true' or ':false'", op.pos, "':'")
        tok = self.peek()
        if tok.kind != "WORD" or tok.text.lower() not in ("true", "false"):
            raise self.fail(
                f"expected true or false after '{word.text}:'", tok.pos, "true or false"
            )
        self.advance()
        return Flag(field, tok.text.lower() == "true")

    def compare(self, field: str, word: Token, op: Token) -> Node:
        if op.text == "~=":
            raise self.fail(
                f"'~=' matches text and '{word.text}' is a number",
                op.pos,
                "':', '>', '<', '>=' or '<='",
            )
        tok = self.peek()
        number = self.integer(tok, f"'{word.text}{op.text}'")
        self.advance()
        return Compare(field, "=" if op.text == ":" else op.text, number)  # type: ignore[arg-type]

    def integer(self, tok: Token, after: str) -> int:
        if tok.kind != "WORD" or not (tok.text.isascii() and tok.text.isdigit()):
            raise self.fail(f"expected a whole number after {after}", tok.pos, "a whole number")
        value = int(tok.text)
        if value > MAX_INT:
            raise self.fail(f"number too large: {tok.text}", tok.pos, f"at most {MAX_INT}")
        return value

    # -- stages --------------------------------------------------------------

    def stage(self, before: list[Stage]) -> Stage:
        tok = self.advance()
        name = tok.text.lower() if tok.kind == "WORD" else ""
        if before and isinstance(before[-1], Count):
            raise self.fail("'count' must be the last stage", tok.pos, "the end of the query")
        if name == "count":
            stage: Stage = Count()
        elif name in ("group_by", "top"):
            if before:
                raise self.fail(
                    f"'{tok.text}' needs symbols, but the stage before it produced groups",
                    tok.pos,
                    "count",
                )
            stage = self.grouping(name, tok)
        else:
            raise self.fail(
                (f"unknown stage {tok.describe()}" if name else "expected a stage after '|'")
                + "; stages are count, group_by FIELD and top N FIELD",
                tok.pos,
                "count, group_by FIELD or top N FIELD",
            )
        nxt = self.peek()
        if nxt.kind not in ("PIPE", "EOF"):
            raise self.fail(
                f"unexpected {nxt.describe()} after the '{name}' stage",
                nxt.pos,
                "'|' or the end of the query",
            )
        return stage

    def grouping(self, name: str, tok: Token) -> Stage:
        n = 0
        if name == "top":
            number = self.peek()
            n = self.integer(number, "'top'")
            if n < 1:
                raise self.fail("'top' needs a number of at least 1", number.pos, "a number >= 1")
            self.advance()
        word = self.peek()
        field = canonical_field(word.text) if word.kind == "WORD" else None
        if field is None:
            after = f"'top {n}'" if name == "top" else f"'{tok.text}'"
            raise self.fail(
                f"expected a field after {after}, found {word.describe()}; fields are {field_list()}",
                word.pos,
                f"a field ({field_list()})",
            )
        self.advance()
        return Top(n, field) if name == "top" else GroupBy(field)
