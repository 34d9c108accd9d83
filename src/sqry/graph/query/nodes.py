"""The parsed form of a query: a filter tree plus ``|`` stages.

Nodes are frozen and compare by value so a pretty-printed query parses back to an
equal tree (the round-trip property the tests check). Sugar is removed while
parsing: aliases become canonical field names, a bareword becomes
``name~=/word/`` and parentheses leave no node behind, so every later stage sees
one spelling of each meaning.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from sqry.graph.query.record import Record

#: How a text value is compared: exact, SQLite GLOB (``* ? [...]``) or Python regex search.
MatchMode = Literal["eq", "glob", "regex"]
CompareOp = Literal["=", ">", "<", ">=", "<="]


class Pattern(Record):
    """A text value and how it matches; ``flags`` are regex flag letters (``imsx``)."""

    __slots__ = ("mode", "text", "flags")
    _defaults: ClassVar[dict[str, Any]] = {"flags": ""}
    mode: MatchMode
    text: str
    flags: str


class Match(Record):
    """``FIELD:value`` / ``FIELD~=value`` on a text field (canonical field name)."""

    __slots__ = ("field", "pattern")
    field: str
    pattern: Pattern


class Compare(Record):
    """``lines OP n``; ``lines:n`` is stored as ``=``."""

    __slots__ = ("field", "op", "number")
    field: str
    op: CompareOp
    number: int


class Flag(Record):
    """``async:true`` / ``static:false``."""

    __slots__ = ("field", "value")
    field: str
    value: bool


class Relation(Record):
    """``RELATION:value`` (``target`` is a Pattern on name/qname) or ``RELATION:(query)``."""

    __slots__ = ("relation", "target")
    relation: str
    target: Pattern | Node


class Not(Record):
    __slots__ = ("item",)
    item: Node


class And(Record):
    __slots__ = ("items",)
    items: tuple[Node, ...]


class Or(Record):
    __slots__ = ("items",)
    items: tuple[Node, ...]


Node = Match | Compare | Flag | Relation | Not | And | Or


class Count(Record):
    """``| count``: the number of rows coming in."""

    __slots__ = ()


class GroupBy(Record):
    """``| group_by FIELD``: one row per distinct value with its count."""

    __slots__ = ("field",)
    field: str


class Top(Record):
    """``| top N FIELD``: the N most frequent values of FIELD."""

    __slots__ = ("n", "field")
    n: int
    field: str


Stage = Count | GroupBy | Top


class Query(Record):
    __slots__ = ("where", "stages")
    _defaults: ClassVar[dict[str, Any]] = {"stages": ()}
    where: Node
    stages: tuple[Stage, ...]
