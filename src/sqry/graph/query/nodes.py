"""The parsed form of a query: a filter tree plus ``|`` stages.

Nodes are frozen and compare by value so a pretty-printed query parses back to an
equal tree (the round-trip property the tests check). Sugar is removed while
parsing: aliases become canonical field names, a bareword becomes
``name~=/word/`` and parentheses leave no node behind, so every later stage sees
one spelling of each meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: How a text value is compared: exact, SQLite GLOB (``* ? [...]``) or Python regex search.
MatchMode = Literal["eq", "glob", "regex"]
CompareOp = Literal["=", ">", "<", ">=", "<="]


@dataclass(frozen=True, slots=True)
class Pattern:
    """A text value and how it matches; ``flags`` are regex flag letters (``imsx``)."""

    mode: MatchMode
    text: str
    flags: str = ""


@dataclass(frozen=True, slots=True)
class Match:
    """``FIELD:value`` / ``FIELD~=value`` on a text field (canonical field name)."""

    field: str
    pattern: Pattern


@dataclass(frozen=True, slots=True)
class Compare:
    """``lines OP n``; ``lines:n`` is stored as ``=``."""

    field: str
    op: CompareOp
    number: int


@dataclass(frozen=True, slots=True)
class Flag:
    """``async:true`` / ``static:false``."""

    field: str
    value: bool


@dataclass(frozen=True, slots=True)
class Relation:
    """``RELATION:value`` (``target`` is a Pattern on name/qname) or ``RELATION:(query)``."""

    relation: str
    target: Pattern | Node


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


Node = Match | Compare | Flag | Relation | Not | And | Or


@dataclass(frozen=True, slots=True)
class Count:
    """``| count``: the number of rows coming in."""


@dataclass(frozen=True, slots=True)
class GroupBy:
    """``| group_by FIELD``: one row per distinct value with its count."""

    field: str


@dataclass(frozen=True, slots=True)
class Top:
    """``| top N FIELD``: the N most frequent values of FIELD."""

    n: int
    field: str


Stage = Count | GroupBy | Top


@dataclass(frozen=True, slots=True)
class Query:
    where: Node
    stages: tuple[Stage, ...] = ()
