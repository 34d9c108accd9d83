"""The vocabulary of the query language: fields, relations, stages and their types.

Parser and compiler both read these tables, so adding a field means one entry here
and one column expression in :mod:`sqry.graph.query.compiler`.
"""

from __future__ import annotations

from typing import Literal

FieldType = Literal["text", "enum", "bool", "int"]

#: The graph's symbol kinds and visibilities, as in :mod:`sqry.graph.model`. Kept
#: here, not imported, because that module builds dataclasses (``inspect`` and
#: ~20 ms) and every ``sqry`` query imports this one; a test asserts they agree.
SYMBOL_KINDS = frozenset(
    "module function method class interface trait struct enum enum_variant type "
    "constant variable field macro namespace".split()
)
VISIBILITIES = frozenset({"public", "private", "protected", "internal"})

#: Canonical field name -> type. ``enum`` fields hold lower-case words and match
#: case-insensitively; ``text`` fields match case-sensitively.
FIELDS: dict[str, FieldType] = {
    "kind": "enum",
    "name": "text",
    "qname": "text",
    "path": "text",
    "lang": "enum",
    "visibility": "enum",
    "async": "bool",
    "static": "bool",
    "parent": "text",
    "doc": "text",
    "signature": "text",
    "lines": "int",
}

ALIASES: dict[str, str] = {"file": "path", "language": "lang"}

#: Relation -> (edge kind, which end of the edge is selected). "source" relations
#: select the symbols an edge starts from (``callers:X`` = sources of calls into X);
#: "target" relations select where edges from X lead (``callees:X``).
RELATIONS: dict[str, tuple[str, Literal["source", "target"]]] = {
    "callers": ("calls", "source"),
    "callees": ("calls", "target"),
    "imports": ("imports", "source"),
    "imported_by": ("imports", "target"),
    "inherits": ("inherits", "source"),
    "implements": ("implements", "source"),
    "returns": ("returns", "source"),
}

STAGES = ("count", "group_by", "top")
KEYWORDS = frozenset({"and", "or", "not"})
REGEX_FLAGS = "imsx"

#: Values an ``enum`` field may take when compared with ``:`` (None: computed
#: when asked — language names are the language modules', listed without
#: importing them by :func:`sqry.graph.languages.base.language_names`).
ENUM_VALUES: dict[str, frozenset[str] | None] = {
    "kind": SYMBOL_KINDS,
    "visibility": VISIBILITIES,
    "lang": None,
}

MAX_QUERY_BYTES = 10 * 1024
MAX_PREDICATES = 100
#: Nesting of parentheses/NOT/relations; bounds the parser's recursion.
MAX_DEPTH = 64
#: Upper bound for integers so they always fit SQLite's 64-bit INTEGER.
MAX_INT = 2**63 - 1


def canonical_field(word: str) -> str | None:
    """The canonical field for ``word`` (case-insensitive, aliases resolved), or None."""
    lowered = word.lower()
    lowered = ALIASES.get(lowered, lowered)
    return lowered if lowered in FIELDS else None


def field_list() -> str:
    """Every accepted field spelling, for error messages."""
    return ", ".join([*FIELDS, *ALIASES])
