"""Compile a parsed query to SQL over the index schema (``sqry.graph.schema``).

Queries run inside SQLite so a filter over ~100k symbols costs milliseconds and
memory stays flat: names use the ``symbols_name``/``symbols_qname`` indexes,
relations walk ``edges_target``/``edges_source``. Only regex tests call back into
Python (``sqry_regexp``, see :mod:`sqry.graph.query.sqlfuncs`).

Every predicate compiles to an expression that is never NULL (the columns it reads
are all NOT NULL in the schema), so ``NOT`` means
exactly "does not match" (SQL's three-valued logic would otherwise drop rows whose
parent is NULL or whose relation subquery sees a NULL ``target_id``).
"""

from __future__ import annotations

from sqry.graph.query.fields import FIELDS, RELATIONS
from sqry.graph.query.nodes import (
    And,
    Compare,
    Flag,
    Match,
    Node,
    Not,
    Or,
    Pattern,
    Relation,
)
from sqry.graph.query.record import Record
from sqry.graph.query.regex import IGNORECASE, caseless_literal, flag_bits, required_literal

#: Field -> (table alias role, column). Role "s" is symbols, "f" is files.
_COLUMNS: dict[str, tuple[str, str]] = {
    "kind": ("s", "kind"),
    "name": ("s", "name"),
    "qname": ("s", "qualified_name"),
    "lang": ("s", "language"),
    "visibility": ("s", "visibility"),
    "doc": ("s", "doc"),
    "signature": ("s", "signature"),
    "path": ("f", "path"),
    "async": ("s", "is_async"),
    "static": ("s", "is_static"),
}

#: Aliases of the outermost selection; every statement selects from them.
S, F = "s0", "f0"
FROM = f"FROM symbols {S} JOIN files {F} ON {F}.id = {S}.file_id"


class SqlFilter(Record):
    """A boolean SQL expression over :data:`S`/:data:`F` and its ``?`` parameters."""

    __slots__ = ("sql", "params")
    sql: str
    params: tuple[object, ...]


def compile_filter(node: Node, *, unresolved: bool = False) -> SqlFilter:
    """SQL for ``node``. ``unresolved`` lets relation *names* also match the written
    text of unresolved edges (see the package docstring)."""
    compiler = _Compiler(unresolved)
    sql = compiler.node(node, S, F)
    return SqlFilter(sql, tuple(compiler.params))


def scope_filter(scope: str | None) -> SqlFilter:
    """Restrict to files at or under the workspace-relative path ``scope``."""
    compiler = _Compiler(False)
    return SqlFilter(compiler.path_under(f"{F}.path", scope or ""), tuple(compiler.params))


def regex_filter(column: str, pattern: str, bits: int) -> SqlFilter:
    """``column`` regex-searched by ``pattern`` (``re`` flag ``bits``), prefiltered."""
    compiler = _Compiler(False)
    return SqlFilter(compiler.regex(column, pattern, bits), tuple(compiler.params))


def group_expression(field: str) -> str:
    """The SQL value a ``group_by``/``top`` stage groups on, over :data:`S`/:data:`F`."""
    if field == "lines":
        return f"({S}.end_line - {S}.start_line + 1)"
    if field == "parent":
        return f"(SELECT p.qualified_name FROM symbols p WHERE p.id = {S}.parent_id)"
    role, column = _COLUMNS[field]
    return f"{S if role == 's' else F}.{column}"


class _Compiler:
    def __init__(self, unresolved: bool) -> None:
        self.unresolved = unresolved
        self.params: list[object] = []
        self.aliases = 0

    def fresh(self, prefix: str) -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases}"

    def node(self, node: Node, s: str, f: str) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.node(item, s, f) for item in node.items) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.node(item, s, f) for item in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.node(node.item, s, f)})"
        if isinstance(node, Match):
            return self.match(node, s, f)
        if isinstance(node, Compare):
            self.params.append(node.number)
            return f"(({s}.end_line - {s}.start_line + 1) {node.op} ?)"
        if isinstance(node, Flag):
            return f"({s}.{_COLUMNS[node.field][1]} {'!=' if node.value else '='} 0)"
        if isinstance(node, Relation):
            return self.relation(node, s)
        raise TypeError(f"not a query node: {node!r}")

    # -- fields --------------------------------------------------------------

    def match(self, node: Match, s: str, f: str) -> str:
        if node.field == "parent":
            p = self.fresh("p")
            named = self.named(node.pattern, p)
            return (
                f"({s}.parent_id IS NOT NULL AND {s}.parent_id IN "
                f"(SELECT {p}.id FROM symbols {p} WHERE {named}))"
            )
        role, column = _COLUMNS[node.field]
        target = f"{s if role == 's' else f}.{column}"
        if node.field == "path" and node.pattern.mode == "eq":
            return self.path_under(target, node.pattern.text)
        return self.text(target, node.pattern, fold=FIELDS[node.field] == "enum")

    def text(self, column: str, pattern: Pattern, *, fold: bool = False) -> str:
        """``column`` equals / globs / regex-searches the pattern. ``fold``: the column
        holds lower-case enum words, so compare case-insensitively."""
        if pattern.mode == "regex":
            return self.regex(
                column, pattern.text, flag_bits(pattern.flags) | (IGNORECASE if fold else 0)
            )
        self.params.append(pattern.text.lower() if fold else pattern.text)
        return f"({column} {'=' if pattern.mode == 'eq' else 'GLOB'} ?)"

    def regex(self, column: str, pattern: str, bits: int) -> str:
        """``re.search`` in Python, behind a C-speed test for a literal every match must
        contain (``instr``, or ASCII ``LIKE`` when case-insensitive), so most rows never
        reach the Python callback."""
        prefilter = ""
        if bits & IGNORECASE:
            literal = caseless_literal(pattern, bits)
            if literal:
                escaped = "".join("\\" + ch if ch in "%_\\" else ch for ch in literal)
                self.params.append(f"%{escaped}%")
                prefilter = f"{column} LIKE ? ESCAPE '\\' AND "
        else:
            literal = required_literal(pattern, bits)
            if literal:
                self.params.append(literal)
                prefilter = f"instr({column}, ?) > 0 AND "
        self.params.extend((pattern, bits))
        return f"({prefilter}sqry_regexp(?, ?, {column}))"

    def named(self, pattern: Pattern, alias: str) -> str:
        """Symbol ``alias`` is named by the pattern: its name or its qualified name matches."""
        by_name = self.text(f"{alias}.name", pattern)
        by_qname = self.text(f"{alias}.qualified_name", pattern)
        return f"({by_name} OR {by_qname})"

    def path_under(self, column: str, value: str) -> str:
        """The file is ``value`` or lies under the directory ``value``."""
        value = value.removeprefix("./").rstrip("/")
        if value in ("", "."):
            return "(1 = 1)"
        self.params.extend((value, len(value) + 1, value + "/"))
        return f"({column} = ? OR substr({column}, 1, ?) = ?)"

    # -- relations -----------------------------------------------------------

    def relation(self, node: Relation, s: str) -> str:
        edge_kind, end = RELATIONS[node.relation]
        ids = self.target_ids(node.target)
        e = self.fresh("e")
        if end == "target":
            return (
                f"({s}.id IN (SELECT {e}.target_id FROM edges {e} WHERE {e}.kind = '{edge_kind}'"
                f" AND {e}.target_id IS NOT NULL AND {e}.source_id IN ({ids})))"
            )
        if edge_kind == "imports":
            ids = f"{ids} UNION {self.defined_in_modules(node.target)}"
        resolved = (
            f"{s}.id IN (SELECT {e}.source_id FROM edges {e} WHERE {e}.kind = '{edge_kind}'"
            f" AND {e}.target_id IN ({ids}))"
        )
        if not (self.unresolved and isinstance(node.target, Pattern)):
            return f"({resolved})"
        u = self.fresh("u")
        written = self.written(node.target, f"{u}.target_text")
        return (
            f"({resolved} OR {s}.id IN (SELECT {u}.source_id FROM edges {u}"
            f" WHERE {u}.kind = '{edge_kind}' AND {u}.target_id IS NULL AND {written}))"
        )

    def target_ids(self, target: Pattern | Node) -> str:
        """SELECT of the ids a relation's value stands for."""
        if isinstance(target, Pattern):
            t = self.fresh("t")
            return f"SELECT {t}.id FROM symbols {t} WHERE {self.named(target, t)}"
        s, f = self.fresh("s"), self.fresh("f")
        where = self.node(target, s, f)
        return (
            f"SELECT {s}.id FROM symbols {s} JOIN files {f} ON {f}.id = {s}.file_id WHERE {where}"
        )

    def defined_in_modules(self, target: Pattern | Node) -> str:
        """SELECT of every symbol defined in the files of the module symbols among the
        target's ids: ``from m import x`` resolves to ``x``, yet it imports ``m``."""
        x, m = self.fresh("x"), self.fresh("m")
        return (
            f"SELECT {x}.id FROM symbols {x} WHERE {x}.file_id IN (SELECT {m}.file_id"
            f" FROM symbols {m} WHERE {m}.kind = 'module' AND {m}.id IN ({self.target_ids(target)}))"
        )

    def written(self, pattern: Pattern, column: str) -> str:
        """An unresolved edge's written target matches: a plain name equals the whole
        text or its last segment (``join`` matches ``os.path.join``); globs and
        regexes test the whole text."""
        if pattern.mode != "eq":
            return self.text(column, pattern)
        name = pattern.text
        # substr() in C narrows to texts ending in the name before the Python callback.
        self.params.extend((name, len(name), name, name))
        return f"({column} = ? OR (substr({column}, -?) = ? AND sqry_tail({column}) = ?))"
