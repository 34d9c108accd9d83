"""Compile a parsed query to SQL over the index schema (``sqry.graph.schema``).

Queries run inside SQLite so a filter over ~100k symbols costs milliseconds and
memory stays flat: names use the ``symbols_name``/``symbols_qname`` indexes,
relations walk ``edges_target``/``edges_source``. Only regex tests call back into
Python (``sqry_regexp``, see :mod:`sqry.graph.query.sqlfuncs`).

Every predicate compiles to an expression that is never NULL (the columns it reads
are all NOT NULL in the schema), so ``NOT`` means
exactly "does not match" (SQL's three-valued logic would otherwise drop rows whose
parent is NULL or whose relation subquery sees a NULL ``target_id``).

The SQL stays shallow however deep the query nests, because SQLite's parser has a
fixed stack (``YYSTACKDEPTH``, 100 entries in common builds; "parser stack
overflow"): about 30 nested ``(a OR (...))`` or 11 nested ``IN (SELECT ...)`` fill
it, while the query language allows 64 levels. So chains of one operator are
flattened (``a OR (b OR c)`` is one n-ary ``OR``, ``NOT NOT x`` is ``x``), a
relation's nested query is evaluated bottom-up into a temporary table of ids
(``sqry_q3``; the relation then reads ``IN sqry_q3``), and a boolean subtree deeper
than :data:`_INLINE_DEPTH` becomes one too. Every table's SELECT and the outer
statement then nest only a bounded amount.

Tables, not common table expressions: SQLite plans a CTE by copying its body into
the statement that reads it, and for nested relations over ORs
(``callers:(name:a OR callers:(name:b OR ...))``) planning and running grew about
twofold per level — a 22-predicate query took minutes and gigabytes. A table is
filled once, in order, before the statement runs (:func:`execute.evaluate`), so
each level costs one pass however deep it is.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqry.graph.model import CLASS_KINDS
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

#: Boolean levels (AND/OR/NOT) kept inline in one SELECT before a subtree is hoisted
#: into a table. Each level costs up to ~3 of SQLite's 100 parser-stack entries; with
#: the deepest leaf (``imports:NAME`` with ``--unresolved``) inside the deepest
#: statement (``| top N parent | count``) 12 levels still fit when measured, so 6
#: leaves a wide margin (the limit tests in test_query_eval build such queries).
_INLINE_DEPTH = 6

#: Aliases of the outermost selection; every statement selects from them.
S, F = "s0", "f0"
#: What an adopted method's owner may be: a class-like type, or a Go named type
#: (``type Celsius float64`` has methods too)
_OWNER_KIND_LIST = "(" + ", ".join(f"'{kind}'" for kind in sorted(CLASS_KINDS | {"type"})) + ")"
FROM = f"FROM symbols {S} JOIN files {F} ON {F}.id = {S}.file_id"


class SqlFilter(Record):
    """A boolean SQL expression over :data:`S`/:data:`F` and its ``?`` parameters.

    ``tables`` are the temporary tables of ids it reads, each ``(name, SELECT,
    parameters)``, each listed after any it reads; they must be filled, in order,
    before a statement using the filter runs (:func:`execute.evaluate` does).
    """

    __slots__ = ("sql", "params", "tables")
    _defaults: ClassVar[dict[str, Any]] = {"tables": ()}
    sql: str
    params: tuple[object, ...]
    tables: tuple[tuple[str, str, tuple[object, ...]], ...]


def compile_filter(node: Node, *, unresolved: bool = False) -> SqlFilter:
    """SQL for ``node``. ``unresolved`` lets relation *names* also match the written
    text of unresolved edges (see the package docstring)."""
    compiler = _Compiler(unresolved)
    sql = compiler.node(flatten(node), S, F)
    return SqlFilter(sql, tuple(compiler.params), tuple(compiler.tables))


def sqlite_glob(pattern: str) -> str:
    """``pattern`` in SQLite's GLOB dialect: a class opened with the shell's ``[!``
    is negated, which SQLite spells ``[^`` (to SQLite ``[!h]`` means "``!`` or
    ``h``"). Everything else is the same in both: ``*``, ``?``, ``[abc]``, ``[a-z]``,
    ``[^abc]``, and a ``]`` right after the opening (``[]x]``, ``[!]x]``) is a
    member, not the end of the class."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        out.append(ch)
        i += 1
        if ch != "[":
            continue
        if i < n and pattern[i] in "!^":
            out.append("^")
            i += 1
        if i < n and pattern[i] == "]":  # a leading ] is a member
            out.append("]")
            i += 1
        end = pattern.find("]", i)
        if end < 0:  # unterminated: SQLite matches nothing; keep it as written
            out.append(pattern[i:])
            break
        out.append(pattern[i : end + 1])
        i = end + 1
    return "".join(out)


def flatten(node: Node) -> Node:
    """``node`` with same-operator chains merged (``a OR (b OR c)`` -> ``a OR b OR c``)
    and double negations dropped, down to relation targets: the same meaning (``NOT``
    is an exact complement, see above) with fewer levels of SQL nesting."""
    if isinstance(node, And | Or):
        items: list[Node] = []
        for item in map(flatten, node.items):
            items.extend(item.items if type(item) is type(node) else (item,))
        return type(node)(tuple(items))
    if isinstance(node, Not):
        inner = flatten(node.item)
        return inner.item if isinstance(inner, Not) else Not(inner)
    if isinstance(node, Relation) and not isinstance(node.target, Pattern):
        return Relation(node.relation, flatten(node.target))
    return node


def scope_filter(scope: str | None) -> SqlFilter:
    """Restrict to files at or under the workspace-relative path ``scope``."""
    compiler = _Compiler(False)
    return SqlFilter(compiler.path_under(f"{F}.path", scope or ""), tuple(compiler.params))


def regex_filter(column: str, pattern: str, bits: int) -> SqlFilter:
    """``column`` regex-searched by ``pattern`` (``re`` flag ``bits``), prefiltered."""
    compiler = _Compiler(False)
    return SqlFilter(compiler.regex(column, pattern, bits), tuple(compiler.params))


def adopted_owner(s: str, column: str = "qualified_name") -> str:
    """SQL: the qualified name of the class an *adopted* method ``s`` belongs to —
    one defined outside its type's body, stored under its module or namespace (a
    Go method in another file than its struct, a C++ out-of-class definition, a
    Rust ``impl`` elsewhere; ``parse.is_adopted``) — when the index has that
    class (of the method's language; C and C++ count as one); else NULL
    (``column``: which of the class's columns, default its
    qualified name). That class is the method's ``parent`` for queries and
    ``explain``, as it is for a method written inside its class."""
    return (
        f"(CASE WHEN {s}.kind = 'method' AND (SELECT a.kind FROM symbols a "
        f"WHERE a.id = {s}.parent_id) IN ('module', 'namespace') THEN (SELECT c.{column} "
        f"FROM symbols c WHERE c.qualified_name = sqry_owner({s}.qualified_name) "
        f"AND c.kind IN {_OWNER_KIND_LIST} AND (c.language = {s}.language OR "
        f"(c.language IN ('c', 'cpp') AND {s}.language IN ('c', 'cpp'))) "
        "ORDER BY c.id LIMIT 1) END)"
    )


def group_expression(field: str) -> str:
    """The SQL value a ``group_by``/``top`` stage groups on, over :data:`S`/:data:`F`."""
    if field == "lines":
        return f"({S}.end_line - {S}.start_line + 1)"
    if field == "parent":
        return (
            f"COALESCE({adopted_owner(S)}, "
            f"(SELECT p.qualified_name FROM symbols p WHERE p.id = {S}.parent_id))"
        )
    role, column = _COLUMNS[field]
    return f"{S if role == 's' else F}.{column}"


class _Compiler:
    def __init__(self, unresolved: bool) -> None:
        self.unresolved = unresolved
        self.params: list[object] = []
        self.aliases = 0
        #: Tables of ids in definition order: (name, SELECT, its parameters).
        self.tables: list[tuple[str, str, tuple[object, ...]]] = []

    def fresh(self, prefix: str) -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases}"

    def node(self, node: Node, s: str, f: str, depth: int = 0) -> str:
        """``node`` over symbol alias ``s`` and file alias ``f``; ``depth`` counts the
        boolean levels already open in the current SELECT."""
        if isinstance(node, And | Or | Not) and depth >= _INLINE_DEPTH:
            return f"({s}.id IN {self.define(node)})"
        if isinstance(node, And | Or):
            joiner = " AND " if isinstance(node, And) else " OR "
            return "(" + joiner.join(self.node(item, s, f, depth + 1) for item in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.node(node.item, s, f, depth + 1)})"
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
        if node.field == "parent":  # the adopted owner, else the enclosing symbol
            p, q = self.fresh("p"), self.fresh("p")
            owner = adopted_owner(s)
            lexical = self.named(node.pattern, p)
            adopted = self.named(node.pattern, q)
            return (
                f"({s}.parent_id IS NOT NULL AND CASE WHEN {owner} IS NULL THEN "
                f"{s}.parent_id IN (SELECT {p}.id FROM symbols {p} WHERE {lexical}) ELSE "
                f"{owner} IN (SELECT {q}.qualified_name FROM symbols {q} WHERE {adopted}) END)"
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
        value = pattern.text.lower() if fold else pattern.text
        if pattern.mode == "eq":
            self.params.append(value)
            return f"({column} = ?)"
        self.params.append(sqlite_glob(value))
        return f"({column} GLOB ?)"

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
            ids = self.imported_ids(ids)
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
        return f"SELECT id FROM {self.define(target)}"

    def define(self, node: Node) -> str:
        """The name of a table holding the ids of the symbols ``node`` selects,
        compiled in a SELECT of its own (nesting starts over there). Tables it needs
        are defined first, so each one only reads earlier ones."""
        outer, self.params = self.params, []
        try:
            s, f = self.fresh("s"), self.fresh("f")
            where = self.node(node, s, f)
            name = self.fresh("sqry_q")
            self.tables.append(
                (
                    name,
                    f"SELECT {s}.id FROM symbols {s} JOIN files {f} ON {f}.id = {s}.file_id"
                    f" WHERE {where}",
                    tuple(self.params),
                )
            )
        finally:
            self.params = outer
        return name

    def imported_ids(self, ids: str) -> str:
        """SELECT of the ids in ``ids`` plus every symbol defined in the file of a
        module among them: ``from m import x`` resolves to ``x``, yet it imports
        ``m``. ``ids`` appears once; SQLite runs the OR below as
        two index lookups per id (rowid, ``symbols_file``)."""
        m, x = self.fresh("m"), self.fresh("x")
        return (
            f"SELECT {x}.id FROM symbols {m} JOIN symbols {x} ON {x}.id = {m}.id"
            f" OR ({m}.kind = 'module' AND {x}.file_id = {m}.file_id) WHERE {m}.id IN ({ids})"
        )

    def written(self, pattern: Pattern, column: str) -> str:
        """An unresolved edge's written target matches: a plain name equals the whole
        text or its last segment (``join`` matches ``os.path.join``), and so does a
        glob match either (``jo*`` matches ``os.path.join`` too: a glob is never
        narrower than a name it covers); a regex searches the whole text."""
        if pattern.mode == "regex":
            return self.text(column, pattern)
        if pattern.mode != "eq":
            return f"({self.text(column, pattern)} OR {self.text(f'sqry_tail({column})', pattern)})"
        name = pattern.text
        # substr() in C narrows to texts ending in the name before the Python callback.
        self.params.extend((name, len(name), name, name))
        return f"({column} = ? OR (substr({column}, -?) = ? AND sqry_tail({column}) = ?))"
