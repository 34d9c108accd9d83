"""The single writer of a build: applies per-file results inside one transaction.

:class:`IndexWriter` replaces a file's rows when its content changed, deletes
the rows of vanished files, and remembers what that changed for incremental
re-resolution (:meth:`IndexWriter.dirty_edges`):

- the ids of every symbol that was removed (edges pointing at them must rebind);
- the *names* whose set of definitions changed — compared as descriptors
  ``(name, qualified name, kind, parent kind, path, module, language,
  visibility)``, i.e. everything the resolver looks at except positions — plus the names an import
  alias binds, when a file's imports changed (re-exports), and a module's names
  when what a ``*`` import of it takes changed (its ``__all__``);
- the files whose content changed (all their edges are new and unresolved);
- per class of a changed file, its *shape* — kind, template flag and what its
  resolved bases were (:func:`class_shapes`) — so that resolution can tell the
  classes whose bases really changed from those merely re-parsed (a comment
  edit), whose subclasses need not be re-resolved (:class:`OldClasses`).

Every resolvable edge lists the names its resolution may look up in its
``lookup`` column, and every file the union of its edges' names in the
``file_names`` table (computed by :func:`sqry.graph.parse.lookup_names`), so the
edges a changed definition could rebind are found by name — files first, then
their edges — not by rescanning the workspace. Class hierarchies are handled in
:mod:`sqry.graph.resolve`.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqry.graph.model import CLASS_KINDS
from sqry.graph.parse import LOOKUP_SEPARATOR, FileResult

_LF = ord(LOOKUP_SEPARATOR)  # the lookup names separator, as SQL char() takes it

# Per file, the file-relative ids of the worker's rows become absolute in SQL
# (``? + base``; NULL + base is NULL for the module's parent), with the file id
# and language as literals: the rows go to SQLite as the worker made them, with
# no per-row Python work here (see :data:`sqry.graph.parse.SymbolRow`/``RefRow``).
_INSERT_SYMBOLS = (
    "INSERT INTO symbols (kind, name, qualified_name, start_line, start_column, end_line, "
    "end_column, parent_id, signature, visibility, is_async, is_static, doc, id, file_id, "
    "language) VALUES (?, ?, ?, ?, ?, ?, ?, ? + {base}, ?, ?, ?, ?, ?, ? + {base}, {file_id}, "
    "{language})"
)
_INSERT_EDGES = (
    "INSERT INTO edges (kind, source_id, target_text, line, column, member, alias, via_self, "
    "bound_locally, lookup, reexport, file_id) "
    "VALUES (?, ? + {base}, ?, ?, ?, ?, ?, ?, ?, ?, ?, {file_id})"
)
_OLD_DESCRIPTORS = (
    "SELECT s.name, s.qualified_name, s.kind, p.kind, f.path, f.module, f.language, "
    "s.visibility FROM symbols s JOIN files f ON f.id = s.file_id "
    "LEFT JOIN symbols p ON p.id = s.parent_id WHERE s.file_id = ?"
)
# Re-exporting imports (an alias, or ``*``) of a file, with its module's names:
# (alias, target, member, path, module, module symbol's name)
_REEXPORTS = (
    "SELECT e.alias, e.target_text, e.member, f.path, f.module, m.name FROM {edges} e "
    "JOIN files f ON f.id = e.file_id "
    "JOIN symbols m ON m.file_id = e.file_id AND m.parent_id IS NULL "
    "WHERE e.kind = 'imports' AND (e.alias IS NOT NULL OR e.member = '*')"
)
_OLD_IMPORTS = _REEXPORTS.format(edges="edges") + " AND e.file_id = ?"
# A file's listed star names (Python ``__all__``), in the shape of a ``*`` row of
# :data:`_REEXPORTS` (what it binds is looked up by the module's names alike).
_OLD_STAR_NAMES = (
    "SELECT NULL, f.star_names, '*', f.path, f.module, m.name FROM files f "
    "JOIN symbols m ON m.file_id = f.id AND m.parent_id IS NULL "
    "WHERE f.id = ? AND f.star_names IS NOT NULL"
)

#: Whether the symbol ``{0}`` is a (C++) class template: its signature starts
#: with its ``template<...>`` header (the extractor keeps it there).
TEMPLATE_SQL = "({0}.kind IN ('class', 'struct') AND substr({0}.signature, 1, 8) = 'template')"
_INHERITANCE_SQL = "('inherits', 'implements')"
_CLASS_KINDS_SQL = "(" + ", ".join(f"'{k}'" for k in sorted(CLASS_KINDS)) + ")"
# A type's identity as a base: (file id, qualified name, kind, template flag).
_IDENTITY = "{0}.file_id, {0}.qualified_name, {0}.kind, " + TEMPLATE_SQL
# Per class (in position order), its own identity and each resolved base's
# (in the order the resolver walks them: line, column); a base already deleted
# by this build has NULL columns and is looked up in ``OldClasses.types``.
_SHAPES = (
    f"SELECT c.id, {_IDENTITY.format('c')}, e.target_id, {_IDENTITY.format('t')} "
    "FROM symbols c LEFT JOIN edges e ON e.source_id = c.id "
    f"AND e.kind IN {_INHERITANCE_SQL} AND e.target_id IS NOT NULL "
    "LEFT JOIN symbols t ON t.id = e.target_id WHERE {where} "
    "ORDER BY c.start_line, c.start_column, c.id, e.line, e.column"
)
# The identities of a file's symbols that some inheritance edge binds.
_OLD_TYPES = (
    f"SELECT s.id, {_IDENTITY.format('s')} FROM symbols s WHERE s.file_id = ? AND EXISTS "
    f"(SELECT 1 FROM edges e WHERE e.target_id = s.id AND e.kind IN {_INHERITANCE_SQL})"
)

Identity = tuple[int, str, str, int]  # a type as a base: file id, qualified name, kind, template
#: What a class is to the classes deriving from it: its kind, template flag and
#: its resolved bases' identities in order. Equal shapes resolve alike.
Shape = tuple[str, int, tuple[Identity | None, ...]]
ClassKey = tuple[int, str]  # (file id, qualified name): a class across a re-parse


@dataclass(slots=True)
class OldClasses:
    """What the classes of the files a build re-parsed or deleted were before it.

    ``shapes``: per (file id, qualified name), the shapes of the classes so
    named, in position order. ``types``: the identity of every deleted symbol
    that an inheritance edge bound (the edge's old target id, gone by the time
    resolution compares).
    """

    shapes: dict[ClassKey, list[Shape]] = field(default_factory=dict)
    types: dict[int, Identity] = field(default_factory=dict)


def class_shapes(
    conn: sqlite3.Connection, where: str, params: tuple, types: dict[int, Identity]
) -> dict[int, tuple[ClassKey, Shape]]:
    """Per symbol matching ``where`` (over ``symbols c``), in position order: its
    key and shape. A base whose symbol is deleted takes its identity from
    ``types`` (None if unknown: it then differs from everything)."""
    found: dict[int, tuple[ClassKey, list]] = {}
    for cid, file_id, qname, kind, template, target, *base in conn.execute(
        _SHAPES.format(where=where), params
    ):
        entry = found.get(cid)
        if entry is None:
            entry = found[cid] = ((file_id, qname), [kind, template])
        if target is not None:
            entry[1].append(tuple(base) if base[0] is not None else types.get(target))
    return {cid: (key, (info[0], info[1], tuple(info[2:]))) for cid, (key, info) in found.items()}


def temp_ids(conn: sqlite3.Connection, name: str, ids: Iterable[int]) -> str:
    """Fill the temp table ``name`` with ``ids`` (for joins instead of huge IN lists)."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY)")
    conn.execute(f"DELETE FROM {name}")
    conn.executemany(f"INSERT OR IGNORE INTO {name} (id) VALUES (?)", ((i,) for i in ids))
    return name


def temp_names(conn: sqlite3.Connection, names: Iterable[str]) -> str:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS t_names (name TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM t_names")
    conn.executemany("INSERT OR IGNORE INTO t_names (name) VALUES (?)", ((n,) for n in names))
    return "t_names"


class IndexWriter:
    """Writes results into the open transaction of ``conn`` and tracks the changes."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        track: bool,
        sink: Callable[[int, FileResult, int], None] | None = None,
    ) -> None:
        self.conn = conn
        self.track = track  # False for a build from empty: everything is dirty anyway
        # told (file id, result, first symbol id) of every file written: a full
        # build streams the symbols into the resolver's table instead of re-reading
        self.sink = sink
        self.next_symbol = (conn.execute("SELECT max(id) FROM symbols").fetchone()[0] or 0) + 1
        self.old_files: dict[str, tuple[int, int, int, str, str]] = {
            path: (fid, size, mtime, digest, language)
            for fid, path, size, mtime, digest, language in conn.execute(
                "SELECT id, path, size, mtime_ns, hash, language FROM files"
            )
        }
        self.changed_files: set[int] = set()
        self.removed_symbols: list[int] = []
        self.old_descriptors: Counter[tuple] = Counter()
        self.new_descriptors: Counter[tuple] = Counter()
        self.old_bindings: Counter[tuple] = Counter()
        self.new_bindings: Counter[tuple] = Counter()
        self.new_classes: list[int] = []
        self.old_classes = OldClasses()
        self.parsed = 0

    # -- removal

    def _forget_contents(self, file_id: int) -> None:
        """Delete a file's symbols and edges, remembering what they defined."""
        conn = self.conn
        if self.track:
            self.old_descriptors.update(conn.execute(_OLD_DESCRIPTORS, (file_id,)))
            self.old_bindings.update(conn.execute(_OLD_IMPORTS, (file_id,)))
            self.old_bindings.update(conn.execute(_OLD_STAR_NAMES, (file_id,)))
            self.removed_symbols.extend(
                r[0] for r in conn.execute("SELECT id FROM symbols WHERE file_id = ?", (file_id,))
            )
            self._remember_classes(file_id)
        conn.execute("DELETE FROM file_names WHERE file_id = ?", (file_id,))
        conn.execute("DELETE FROM edges WHERE file_id = ?", (file_id,))
        conn.execute("DELETE FROM symbols WHERE file_id = ?", (file_id,))

    def _remember_classes(self, file_id: int) -> None:
        """Record the file's classes' shapes and its types' identities (see
        :class:`OldClasses`) before its rows go. A base in a file forgotten
        earlier in this build is found in ``types``, one forgotten later is
        still in the index: either way, the identity it had before the build."""
        old = self.old_classes
        old.types.update((r[0], r[1:]) for r in self.conn.execute(_OLD_TYPES, (file_id,)))
        where = f"c.file_id = ? AND c.kind IN {_CLASS_KINDS_SQL}"
        for key, shape in class_shapes(self.conn, where, (file_id,), old.types).values():
            old.shapes.setdefault(key, []).append(shape)

    def delete_file(self, path: str) -> None:
        old = self.old_files.get(path)
        if old is None:
            return
        self._forget_contents(old[0])
        self.conn.execute("DELETE FROM files WHERE id = ?", (old[0],))

    # -- results

    def apply(self, result: FileResult) -> None:
        """Write one file's result (see :class:`~sqry.graph.parse.FileResult`)."""
        old = self.old_files.get(result.path)
        if result.status == "gone":
            self.delete_file(result.path)
            return
        if result.status == "same" and old is not None:
            self.conn.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                (result.size, result.mtime_ns, old[0]),
            )
            return
        self.parsed += 1
        row = (
            result.language,
            result.size,
            result.mtime_ns,
            result.hash,
            result.module,
            result.error,
            result.star_names,
        )
        if old is not None:
            file_id = old[0]
            self._forget_contents(file_id)
            self.conn.execute(
                "UPDATE files SET language = ?, size = ?, mtime_ns = ?, hash = ?, module = ?, "
                "error = ?, star_names = ? WHERE id = ?",
                (*row, file_id),
            )
        else:
            file_id = self.conn.execute(
                "INSERT INTO files (path, language, size, mtime_ns, hash, module, error, "
                "star_names) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (result.path, *row),
            ).lastrowid
        self.changed_files.add(file_id)
        self._insert_facts(file_id, result)

    def _insert_facts(self, file_id: int, result: FileResult) -> None:
        base = self.next_symbol
        if self.sink is not None:
            self.sink(file_id, result, base)
        language = result.language
        symbols = result.symbols
        refs = result.refs
        self.next_symbol += len(symbols)
        literal = "'" + language.replace("'", "''") + "'"
        self.conn.executemany(
            _INSERT_SYMBOLS.format(base=base, file_id=file_id, language=literal), symbols
        )
        self.conn.executemany(_INSERT_EDGES.format(base=base, file_id=file_id), refs)
        self.conn.executemany(
            "INSERT INTO file_names (file_id, name) VALUES (?, ?)",
            [(file_id, name) for name in result.names],
        )
        if self.track:
            path, module = result.path, result.module
            self.new_descriptors.update(
                (
                    s[1],
                    s[2],
                    s[0],
                    None if s[7] is None else symbols[s[7]][0],
                    path,
                    module,
                    language,
                    s[9],
                )
                for s in symbols
            )
            if symbols:  # a file that failed to parse has none (and no references)
                module_label = symbols[0][1]
                self.new_bindings.update(
                    (r[6], r[2], r[5], path, module, module_label)
                    for r in refs
                    if r[0] == "imports" and (r[6] is not None or r[5] == "*")
                )
                if result.star_names is not None:
                    self.new_bindings[
                        (None, result.star_names, "*", path, module, module_label)
                    ] += 1
            self.new_classes.extend(base + i for i, s in enumerate(symbols) if s[0] in CLASS_KINDS)

    def add_contains_edges(self) -> None:
        """``contains`` edges (parent -> child) for every symbol of the changed files."""
        ids = temp_ids(self.conn, "t_changed_files", self.changed_files)
        self.conn.execute(
            "INSERT INTO edges (kind, source_id, target_id, target_text, file_id, line, column) "
            "SELECT 'contains', parent_id, id, name, file_id, start_line, start_column "
            f"FROM symbols WHERE parent_id IS NOT NULL AND file_id IN (SELECT id FROM {ids}) "
            "ORDER BY id"
        )

    # -- what needs re-resolution

    def changed_names(self) -> set[str]:
        """Names whose definitions (or re-exporting import aliases) changed; for a
        module symbol also its module name, which is what imports look up (see
        :func:`sqry.graph.parse.lookup_names`)."""
        changed = (self.old_descriptors - self.new_descriptors) + (
            self.new_descriptors - self.old_descriptors
        )
        names = {d[0] for d in changed}
        names |= {d[5] for d in changed if d[3] is None}
        rebound = (self.old_bindings - self.new_bindings) + (self.new_bindings - self.old_bindings)
        names |= reexported_names(rebound)
        return names

    def dirty_edges(self) -> set[int]:
        """Resolvable edges that may bind differently after this build's changes."""
        conn = self.conn
        dirty: set[int] = set()
        files = temp_ids(conn, "t_changed_files", self.changed_files)
        dirty.update(
            r[0]
            for r in conn.execute(
                f"SELECT id FROM edges WHERE file_id IN (SELECT id FROM {files}) "
                "AND kind != 'contains'"
            )
        )
        removed = temp_ids(conn, "t_removed", self.removed_symbols)
        dirty.update(
            r[0]
            for r in conn.execute(
                f"SELECT e.id FROM {removed} t JOIN edges e ON e.target_id = t.id "
                "WHERE e.kind != 'contains'"
            )
        )
        # An import that looks a changed name up may bind otherwise now, and so
        # may what it re-exports (its alias; for ``*`` its whole module), which
        # other imports look up in turn: to a fixpoint.
        names = self.changed_names()
        seen: set[str] = set()
        while names:
            found = edges_naming(conn, names)
            dirty |= found
            seen |= names
            table = temp_ids(conn, "t_found", found)
            rows = conn.execute(
                _REEXPORTS.format(edges=f"{table} t JOIN edges") + " AND e.id = t.id"
            )
            names = reexported_names(rows) - seen
        return dirty


def reexported_names(rows: Iterable[tuple]) -> set[str]:
    """Names that what the :data:`_REEXPORTS` ``rows`` bind is looked up by: an
    alias; for a ``*`` import, its module's name and its module symbol's."""
    names: set[str] = set()
    for alias, _target, member, _path, module, label in rows:
        if alias is not None:
            names.add(alias)
        if member == "*":
            names.update((module, label))
    return names


def edges_naming(conn: sqlite3.Connection, names: Iterable[str]) -> set[int]:
    """Edges whose resolution looks up any of ``names``.

    Per name, the files that look it up come from ``file_names``; their edges are
    then picked by their own ``lookup`` list. CROSS JOIN fixes that order (names,
    then files, then edges by ``edges_file``); the planner would otherwise scan
    every edge.
    """
    table = temp_names(conn, names)
    return {
        r[0]
        for r in conn.execute(
            f"SELECT e.id FROM {table} t CROSS JOIN file_names n CROSS JOIN edges e "
            "WHERE n.name = t.name AND e.file_id = n.file_id AND e.lookup != '' "
            f"AND instr(char({_LF}) || e.lookup || char({_LF}), "
            f"char({_LF}) || t.name || char({_LF})) > 0"
        )
    }
