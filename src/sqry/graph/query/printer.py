"""Print a parsed query back as canonical query text.

The output parses back to an equal tree, which makes it the normal form used in
logs and cache keys (and what the round-trip property test relies on): barewords
print as ``name~=/word/``, aliases as canonical fields, keywords in upper case.
"""

from __future__ import annotations

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

#: A value word may not contain these (see the lexer's value mode).
_UNSAFE_IN_WORD = frozenset("()|\"'")


def format_query(query: Query) -> str:
    """Canonical text of ``query``."""
    return format_node(query.where) + "".join(" | " + _stage(s) for s in query.stages)


def format_node(node: Node) -> str:
    """Canonical text of one filter node, parenthesised only where needed."""
    if isinstance(node, Match):
        return _pattern(node.field, node.pattern, "~=")
    if isinstance(node, Compare):
        return f"{node.field}{':' if node.op == '=' else node.op}{node.number}"
    if isinstance(node, Flag):
        return f"{node.field}:{'true' if node.value else 'false'}"
    if isinstance(node, Relation):
        if isinstance(node.target, Pattern):
            return _pattern(node.relation, node.target, ":")
        return f"{node.relation}:({format_node(node.target)})"
    if isinstance(node, Not):
        return "NOT " + _wrapped(node.item, (And, Or))
    if isinstance(node, And):
        return " AND ".join(_wrapped(item, (And, Or)) for item in node.items)
    if isinstance(node, Or):
        return " OR ".join(_wrapped(item, (Or,)) for item in node.items)
    raise TypeError(f"not a query node: {node!r}")


def _wrapped(node: Node, needs_parens: tuple[type, ...]) -> str:
    text = format_node(node)
    return f"({text})" if isinstance(node, needs_parens) else text


def _pattern(name: str, pattern: Pattern, regex_op: str) -> str:
    """``name:value`` or, for a regex, ``name<regex_op>/re/`` (relations only take ':')."""
    if pattern.mode == "regex":
        return f"{name}{regex_op}{regex_literal(pattern.text, pattern.flags)}"
    return f"{name}:{value_literal(pattern.text)}"


def value_literal(text: str) -> str:
    """``text`` as a bare word when the lexer would read it back unchanged, else quoted."""
    if (
        text
        and not text.startswith("/")
        and not any(ch.isspace() or ch in _UNSAFE_IN_WORD for ch in text)
    ):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def regex_literal(pattern: str, flags: str = "") -> str:
    """``/pattern/flags`` with bare slashes escaped; existing escapes kept as pairs."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append("\\/" if ch == "/" else ch)
        i += 1
    return "/" + "".join(out) + "/" + flags


def _stage(stage: Stage) -> str:
    if isinstance(stage, Count):
        return "count"
    if isinstance(stage, GroupBy):
        return f"group_by {stage.field}"
    if isinstance(stage, Top):
        return f"top {stage.n} {stage.field}"
    raise TypeError(f"not a stage: {stage!r}")
