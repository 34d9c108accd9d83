"""Binding references to definitions (graph.md §1, "Resolution"), language-agnostic.

Every ``calls``/``inherits``/``implements``/``returns`` edge carries its target
as written; :class:`Resolver` tries the rules below in order and records the one
that bound it in ``resolved_via``. A rule that finds the name but cannot finish
(the import leads outside the workspace, the chain ``a.b.c`` breaks at ``b``)
stops the search: falling through to a vaguer rule would bind the name to
something it provably is not. Two distinct candidates (different qualified
names) at one rule are an ambiguity: the edge stays unresolved with
``ambiguous_via``/``candidates`` recorded. Definitions sharing one qualified name
(``if``/``else`` variants, a property getter and setter, ``.py`` + ``.pyi``) are
one candidate: the first by (path, line, column).

1. ``self`` — only for ``via_self`` references: the member in the enclosing
   class, then in its bases depth-first in declaration order.
2. ``local`` — the scope chain: the source symbol, its parents, the file's
   module. A class scope is seen from its methods only when the language says
   so (``LanguageSpec.members_in_scope``).
3. ``import`` — an import alias equal to the first segment; else the longest
   prefix of the target that a whole-module import makes usable (``import
   a.b`` makes ``a`` and ``a.b`` usable); else the file's ``*`` imports. A
   ``*`` import of a module outside the workspace stops the search for any
   other unbound name (it could come from there).
4. ``package`` — a top-level definition in another file of the same module, or
   in a sibling module (same parent package).
5. ``unique`` — the only top-level definition of a bare name in the language, or
   the only definition whose qualified name ends with a dotted target.

``LanguageSpec.builtins`` never go to ``package``/``unique``; ``bound_locally``
references (parameters, locals) are never resolved.

After the first segment, a chain follows members: a module's top-level
definitions, then its submodules, then names it re-exports through its own
imports; a class's members, then (except while resolving ``inherits`` /
``implements`` edges themselves, so that their result never depends on the
order bases were resolved in) its bases' members.

All lookups go through :class:`SymbolTable`, which reads the index by name; the
same code therefore serves a full build (everything preloaded) and an
incremental one (only the names dirty edges need are read).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import NamedTuple

from sqry.graph.languages.base import LanguageSpec, all_languages
from sqry.graph.writer import edges_naming, temp_ids

CLASS_KINDS = frozenset({"class", "interface", "trait", "struct", "enum"})
INHERITANCE = ("inherits", "implements")
MAX_REEXPORT_DEPTH = 8
PRELOAD_MIN = 20000  # dirty edges; above this read the whole symbol table at once
BATCH = 20000  # edges resolved and written per round (bounded memory)


class Sym(NamedTuple):
    id: int
    kind: str
    name: str
    qname: str
    file_id: int
    parent_id: int | None
    parent_kind: str | None
    line: int
    column: int


class FileInfo(NamedTuple):
    path: str
    module: str
    language: str


class ImportRow(NamedTuple):
    target: str
    member: str | None
    alias: str | None
    line: int
    column: int


class EdgeRow(NamedTuple):
    id: int
    kind: str
    source_id: int
    target: str
    file_id: int
    member: str | None
    alias: str | None
    via_self: int
    bound_locally: int


class Resolution(NamedTuple):
    target_id: int | None
    via: str | None = None
    ambiguous_via: str | None = None
    candidates: int = 0


UNRESOLVED = Resolution(None)
EDGE_COLUMNS = "id, kind, source_id, target_text, file_id, member, alias, via_self, bound_locally"
_SYM_SELECT = (
    "SELECT s.id, s.kind, s.name, s.qualified_name, s.file_id, s.parent_id, p.kind, "
    "s.start_line, s.start_column FROM symbols s LEFT JOIN symbols p ON p.id = s.parent_id"
)


class FileImports(NamedTuple):
    """One file's imports, digested for the ``import`` rule."""

    aliases: dict[str, ImportRow]  # local name -> the (last) import binding it
    usable: frozenset[str]  # module names a whole-module import makes usable, with prefixes
    stars: tuple[str | None, ...]  # modules imported with ``*`` (None: cannot be known)


_EMPTY: list[Sym] = []


class SymbolTable:
    """Name-keyed access to the index's symbols, files, imports and class bases.

    ``preload=True`` reads everything once (full builds); otherwise each name is
    read on first use and cached (incremental builds touch few names). Symbols
    are indexed by name, by (parent, name), by (file, name) and, for top-level
    definitions, by name — the four ways the rules look them up.
    """

    def __init__(self, conn: sqlite3.Connection, *, preload: bool) -> None:
        self.conn = conn
        self.complete = preload
        self._loaded: set[str] = set()
        self._named: dict[str, list[Sym]] = {}
        self._children: dict[tuple[int | None, str], list[Sym]] = {}
        self._in_file: dict[tuple[int, str], list[Sym]] = {}
        self._top: dict[str, list[Sym]] = {}
        self._by_id: dict[int, Sym] = {}
        self._files: dict[int, FileInfo] = {}
        self._imports: dict[int, list[ImportRow]] = {}
        self._digested: dict[int, FileImports] = {}
        self._modules: dict[str, list[Sym]] = {}
        self._bases: dict[int, list[int]] = {}
        self._bases_complete = False
        for fid, path, module, language in conn.execute(
            "SELECT id, path, module, language FROM files"
        ):
            self._files[fid] = FileInfo(path, module, language)
        if preload:
            self._preload()

    def _preload(self) -> None:
        for row in self.conn.execute(_SYM_SELECT):
            sym = Sym(*row)
            self._add(sym)
            if sym.parent_id is None:
                self._modules.setdefault(self._files[sym.file_id].module, []).append(sym)
        for fid in self._files:
            self._imports[fid] = []
        for fid, *rest in self.conn.execute(
            "SELECT file_id, target_text, member, alias, line, column FROM edges "
            "WHERE kind = 'imports' ORDER BY file_id, line, column"
        ):
            self._imports[fid].append(ImportRow(*rest))

    def _add(self, sym: Sym) -> None:
        name = sym.name
        self._named.setdefault(name, []).append(sym)
        self._children.setdefault((sym.parent_id, name), []).append(sym)
        self._in_file.setdefault((sym.file_id, name), []).append(sym)
        if sym.parent_kind == "module":
            self._top.setdefault(name, []).append(sym)
        self._by_id[sym.id] = sym

    def _ensure(self, name: str) -> None:
        if self.complete or name in self._loaded:
            return
        self._loaded.add(name)
        for row in self.conn.execute(_SYM_SELECT + " WHERE s.name = ?", (name,)):
            self._add(Sym(*row))

    def named(self, name: str) -> list[Sym]:
        self._ensure(name)
        return self._named.get(name, _EMPTY)

    def children(self, parent_id: int, name: str) -> list[Sym]:
        self._ensure(name)
        return self._children.get((parent_id, name), _EMPTY)

    def in_file(self, file_id: int, name: str) -> list[Sym]:
        self._ensure(name)
        return self._in_file.get((file_id, name), _EMPTY)

    def top_level(self, name: str) -> list[Sym]:
        self._ensure(name)
        return self._top.get(name, _EMPTY)

    def by_id(self, sym_id: int) -> Sym | None:
        sym = self._by_id.get(sym_id)
        if sym is None and not self.complete:
            row = self.conn.execute(_SYM_SELECT + " WHERE s.id = ?", (sym_id,)).fetchone()
            if row is not None:
                sym = self._by_id[sym_id] = Sym(*row)
        return sym

    def file(self, file_id: int) -> FileInfo:
        return self._files[file_id]

    def modules(self, qname: str) -> list[Sym]:
        """The module symbols (one per file) whose module name is ``qname``."""
        found = self._modules.get(qname)
        if found is not None or self.complete:
            return found or _EMPTY
        rows = [
            Sym(*r)
            for r in self.conn.execute(
                _SYM_SELECT + " JOIN files f ON f.id = s.file_id "
                "WHERE f.module = ? AND s.parent_id IS NULL",
                (qname,),
            )
        ]
        self._modules[qname] = rows
        return rows

    def imports(self, file_id: int) -> list[ImportRow]:
        found = self._imports.get(file_id)
        if found is None:
            found = [
                ImportRow(*r)
                for r in self.conn.execute(
                    "SELECT target_text, member, alias, line, column FROM edges "
                    "WHERE kind = 'imports' AND file_id = ? ORDER BY line, column",
                    (file_id,),
                )
            ]
            self._imports[file_id] = found
        return found

    def file_imports(self, file_id: int, spec: LanguageSpec) -> FileImports:
        """The file's imports digested once: aliases, usable module prefixes, stars."""
        found = self._digested.get(file_id)
        if found is not None:
            return found
        path, sep = self._files[file_id].path, spec.separator
        aliases: dict[str, ImportRow] = {}
        usable: set[str] = set()
        stars: list[str | None] = []
        for row in self.imports(file_id):
            if row.member == "*":
                stars.append(spec.import_module(path, row.target))
            elif row.alias is not None:
                aliases[row.alias] = row
            elif row.member is None:
                module = spec.import_module(path, row.target)
                parts = module.split(sep) if module else []
                usable.update(sep.join(parts[:k]) for k in range(1, len(parts) + 1))
        found = FileImports(aliases, frozenset(usable), tuple(stars))
        self._digested[file_id] = found
        return found

    def load_all_bases(self) -> None:
        """Read every resolved inheritance edge (call after they were resolved)."""
        self._bases.clear()
        for source, target in self.conn.execute(
            "SELECT source_id, target_id FROM edges WHERE kind IN ('inherits', 'implements') "
            "AND target_id IS NOT NULL ORDER BY source_id, line, column"
        ):
            self._bases.setdefault(source, []).append(target)
        self._bases_complete = True

    def forget_bases(self) -> None:
        """Drop cached bases (inheritance edges were just re-resolved)."""
        self._bases.clear()
        self._bases_complete = False

    def bases(self, class_id: int) -> list[int]:
        found = self._bases.get(class_id)
        if found is None:
            if self._bases_complete:
                return []
            found = [
                r[0]
                for r in self.conn.execute(
                    "SELECT target_id FROM edges WHERE source_id = ? AND kind IN "
                    "('inherits', 'implements') AND target_id IS NOT NULL ORDER BY line, column",
                    (class_id,),
                )
            ]
            self._bases[class_id] = found
        return found


class _Stop(Exception):
    """A rule found the name but cannot bind it: the search ends unresolved."""


class Resolver:
    """Applies the rules of the module docstring to one edge at a time."""

    def __init__(self, table: SymbolTable, languages: dict[str, LanguageSpec]) -> None:
        self.table = table
        self.languages = languages
        self._memo: dict[tuple, Resolution] = {}

    def forget(self) -> None:
        """Drop memoised answers (bounded memory: called between batches)."""
        self._memo.clear()

    # -- candidates

    def _order(self, sym: Sym) -> tuple[str, int, int]:
        return (self.table.file(sym.file_id).path, sym.line, sym.column)

    def _pick(self, candidates: list[Sym], rule: str) -> Resolution | Sym | None:
        """One symbol, an ambiguity, or None when there is no candidate."""
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        by_qname: dict[str, Sym] = {}
        for sym in candidates:
            kept = by_qname.get(sym.qname)
            if kept is None or self._order(sym) < self._order(kept):
                by_qname[sym.qname] = sym
        if len(by_qname) > 1:
            return Resolution(None, None, rule, len(by_qname))
        return next(iter(by_qname.values()))

    # -- members

    def member(
        self, owner: Sym, name: str, use_bases: bool, sep: str, depth: int = 0
    ) -> Sym | None:
        """``owner.name``: a module's definition/submodule/re-export, a class's member."""
        if owner.kind == "module":
            return self._module_member(owner.qname, name, use_bases, sep, depth)
        if owner.kind in CLASS_KINDS:
            return self._class_member(owner, name, use_bases, set())
        return None

    def _module_member(
        self, module: str, name: str, use_bases: bool, sep: str, depth: int
    ) -> Sym | None:
        table = self.table
        mods = table.modules(module)
        if not mods:
            return None
        found: list[Sym] = []
        for mod in mods:
            found.extend(table.children(mod.id, name))
        picked = self._pick(found, "import")
        if isinstance(picked, Sym):
            return picked
        picked = self._pick(table.modules(f"{module}{sep}{name}"), "import")
        if isinstance(picked, Sym):
            return picked
        if depth >= MAX_REEXPORT_DEPTH:
            return None
        for mod in mods:  # re-exported: ``from .impl import name`` in the module itself
            for row in reversed(table.imports(mod.file_id)):
                if row.alias == name:
                    return self.binding(mod.file_id, row, use_bases, depth + 1)
        return None

    def _class_member(self, cls: Sym, name: str, use_bases: bool, seen: set[int]) -> Sym | None:
        seen.add(cls.id)
        picked = self._pick(self.table.children(cls.id, name), "self")
        if isinstance(picked, Sym):
            return picked
        if not use_bases:
            return None
        for base_id in self.table.bases(cls.id):
            base = self.table.by_id(base_id)
            if base is None or base.id in seen or base.kind not in CLASS_KINDS:
                continue
            found = self._class_member(base, name, use_bases, seen)
            if found is not None:
                return found
        return None

    def follow(
        self, start: Sym, rest: list[str], via: str, use_bases: bool, sep: str
    ) -> Resolution:
        """Walk ``rest`` from ``start``; a break in the chain stops unresolved."""
        sym: Sym | None = start
        for name in rest:
            sym = self.member(sym, name, use_bases, sep) if sym is not None else None
            if sym is None:
                raise _Stop
        assert sym is not None
        return Resolution(sym.id, via, None, 1)

    def binding(self, file_id: int, row: ImportRow, use_bases: bool, depth: int = 0) -> Sym | None:
        """What an import binds: the module, or its member (None if outside the workspace)."""
        info = self.table.file(file_id)
        spec = self.languages.get(info.language)
        if spec is None:
            return None
        module = spec.import_module(info.path, row.target)
        if module is None:
            return None
        if row.member is None or row.member == "*":
            picked = self._pick(self.table.modules(module), "import")
            return picked if isinstance(picked, Sym) else None
        return self._module_member(module, row.member, use_bases, spec.separator, depth)

    # -- rules

    def resolve(self, edge: EdgeRow) -> Resolution:
        if edge.bound_locally and edge.kind != "imports":
            return UNRESOLVED
        key = (
            edge.kind,
            edge.source_id,
            edge.target,
            edge.member,
            edge.alias,
            edge.via_self,
            edge.file_id,
        )
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._resolve(edge)
        return found

    def _resolve(self, edge: EdgeRow) -> Resolution:
        info = self.table.file(edge.file_id)
        spec = self.languages.get(info.language)
        if spec is None:
            return UNRESOLVED
        if edge.kind == "imports":
            return self._resolve_import_edge(edge, info, spec)
        segments = edge.target.split(spec.separator)
        if not all(s.isidentifier() for s in segments):
            return UNRESOLVED
        use_bases = edge.kind not in INHERITANCE
        try:
            if edge.via_self:
                return self._rule_self(edge, segments, use_bases, spec)
            for rule in (
                self._rule_local,
                self._rule_import,
                self._rule_package,
                self._rule_unique,
            ):
                outcome = rule(edge, segments, use_bases, spec, info)
                if outcome is not None:
                    return outcome
        except _Stop:
            return UNRESOLVED
        return UNRESOLVED

    def _resolve_import_edge(self, edge: EdgeRow, info: FileInfo, spec: LanguageSpec) -> Resolution:
        row = ImportRow(edge.target, edge.member, edge.alias, 0, 0)
        sym = self.binding(edge.file_id, row, True)
        if sym is None and edge.member not in (None, "*"):
            module = spec.import_module(info.path, edge.target)
            picked = self._pick(self.table.modules(module), "import") if module else None
            sym = picked if isinstance(picked, Sym) else None
        return Resolution(sym.id, "import", None, 1) if sym is not None else UNRESOLVED

    def _rule_self(
        self, edge: EdgeRow, segments: list[str], use_bases: bool, spec: LanguageSpec
    ) -> Resolution:
        sym = self.table.by_id(edge.source_id)
        while sym is not None and sym.kind not in CLASS_KINDS:
            sym = self.table.by_id(sym.parent_id) if sym.parent_id is not None else None
        if sym is None:
            return UNRESOLVED
        found = self._class_member(sym, segments[0], True, set())
        if found is None:
            return UNRESOLVED
        return self.follow(found, segments[1:], "self", use_bases, spec.separator)

    def _rule_local(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
    ) -> Resolution | None:
        head = segments[0]
        if not self.table.in_file(edge.file_id, head):
            return None
        scope = self.table.by_id(edge.source_id)
        first = True
        while scope is not None:
            if first or spec.members_in_scope or scope.kind not in CLASS_KINDS:
                picked = self._pick(self.table.children(scope.id, head), "local")
                if isinstance(picked, Sym):
                    return self.follow(picked, segments[1:], "local", use_bases, spec.separator)
            first = False
            scope = self.table.by_id(scope.parent_id) if scope.parent_id is not None else None
        return None

    def _rule_import(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
    ) -> Resolution | None:
        digest = self.table.file_imports(edge.file_id, spec)
        head, sep = segments[0], spec.separator
        row = digest.aliases.get(head)
        if row is not None:
            target = self.binding(edge.file_id, row, use_bases)
            if target is None:
                raise _Stop
            return self.follow(target, segments[1:], "import", use_bases, sep)
        if digest.usable:
            for k in range(len(segments), 0, -1):
                prefix = sep.join(segments[:k])
                if prefix in digest.usable:
                    picked = self._pick(self.table.modules(prefix), "import")
                    if isinstance(picked, Resolution):
                        return picked
                    if picked is None:
                        raise _Stop  # the module is outside the workspace
                    return self.follow(picked, segments[k:], "import", use_bases, sep)
        if not digest.stars:
            return None
        external_star = False
        candidates: list[Sym] = []
        for module in digest.stars:
            mods = self.table.modules(module) if module else _EMPTY
            if not mods:
                external_star = True
            for mod in mods:
                candidates.extend(self.table.children(mod.id, head))
        picked = self._pick(candidates, "import")
        if isinstance(picked, Resolution):
            return picked
        if picked is not None:
            return self.follow(picked, segments[1:], "import", use_bases, sep)
        if external_star:
            raise _Stop
        return None

    def _rule_package(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
    ) -> Resolution | None:
        head, sep = segments[0], spec.separator
        if head in spec.builtins:
            return None
        top = self.table.top_level(head)
        if not top:
            return None
        parent = info.module.rsplit(sep, 1)[0] if sep in info.module else ""
        files = self.table.file
        candidates = []
        for sym in top:
            if sym.file_id == edge.file_id:
                continue
            other = files(sym.file_id)
            if other.language != info.language:
                continue
            other_parent = other.module.rsplit(sep, 1)[0] if sep in other.module else ""
            if other.module == info.module or other_parent == parent:
                candidates.append(sym)
        picked = self._pick(candidates, "package")
        if picked is None or isinstance(picked, Resolution):
            return picked
        return self.follow(picked, segments[1:], "package", use_bases, sep)

    def _rule_unique(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
    ) -> Resolution | None:
        sep = spec.separator
        files = self.table.file
        if len(segments) == 1:
            if segments[0] in spec.builtins:
                return None
            pool = self.table.top_level(segments[0])
            candidates = [s for s in pool if files(s.file_id).language == info.language]
        else:
            suffix = sep + edge.target
            candidates = [
                s
                for s in self.table.named(segments[-1])
                if (s.qname.endswith(suffix) or s.qname == edge.target)
                and files(s.file_id).language == info.language
            ]
        picked = self._pick(candidates, "unique")
        if picked is None or isinstance(picked, Resolution):
            return picked
        return Resolution(picked.id, "unique", None, 1)


# -- driving a build's resolution


def _edge_batches(conn, where: str, params: tuple = ()) -> Iterator[list[EdgeRow]]:  # noqa: ANN001
    """Edges matching ``where`` in id order, a batch at a time (bounded memory)."""
    last = 0
    while True:
        rows = conn.execute(
            f"SELECT {EDGE_COLUMNS} FROM edges WHERE id > ? AND ({where}) ORDER BY id LIMIT {BATCH}",
            (last, *params),
        ).fetchall()
        if not rows:
            return
        yield [EdgeRow(*r) for r in rows]
        last = rows[-1][0]


def _write_resolutions(conn, results: list[tuple[Resolution, int]], *, all_rows: bool) -> None:  # noqa: ANN001
    conn.executemany(
        "UPDATE edges SET target_id = ?, resolved_via = ?, ambiguous_via = ?, candidates = ? "
        "WHERE id = ?",
        [
            (res.target_id, res.via, res.ambiguous_via, res.candidates, edge_id)
            for res, edge_id in results
            if all_rows or res.target_id is not None or res.ambiguous_via is not None
        ],
    )


def _resolve_edges(
    conn, resolver: Resolver, batches: Iterator[list[EdgeRow]], *, fresh: bool
) -> set[int]:  # noqa: ANN001
    """Resolve and store every edge of ``batches``; return the source ids seen."""
    sources: set[int] = set()
    for batch in batches:
        resolver.forget()
        results = [(resolver.resolve(edge), edge.id) for edge in batch]
        sources.update(edge.source_id for edge in batch)
        _write_resolutions(conn, results, all_rows=not fresh)
    return sources


def _subclass_closure(conn, classes: set[int]) -> set[int]:  # noqa: ANN001
    """``classes`` and every class that inherits from one of them, transitively."""
    seen = set(classes)
    frontier = set(classes)
    while frontier:
        table = temp_ids(conn, "t_frontier", frontier)
        found = {
            r[0]
            for r in conn.execute(
                f"SELECT e.source_id FROM {table} t JOIN edges e ON e.target_id = t.id "
                "WHERE e.kind IN ('inherits', 'implements')"
            )
        }
        frontier = found - seen
        seen |= frontier
    return seen


def resolve_full(conn: sqlite3.Connection) -> None:
    """Resolve every edge of a freshly written index (nothing resolved yet)."""
    resolver = Resolver(SymbolTable(conn, preload=True), all_languages())
    kinds = "kind IN ('inherits', 'implements')"
    _resolve_edges(conn, resolver, _edge_batches(conn, kinds), fresh=True)
    resolver.table.load_all_bases()
    # Locally bound references never resolve: a fresh build need not even read them.
    others = "kind NOT IN ('contains', 'inherits', 'implements') AND bound_locally = 0"
    _resolve_edges(conn, resolver, _edge_batches(conn, others), fresh=True)


def resolve_incremental(conn: sqlite3.Connection, dirty: set[int], new_classes: list[int]) -> None:
    """Re-resolve the ``dirty`` edges after an incremental build, and what they imply.

    ``new_classes``: ids of the class symbols the build wrote (their subclasses'
    ``self`` lookups may bind differently now).
    """
    table = SymbolTable(conn, preload=len(dirty) > PRELOAD_MIN)
    resolver = Resolver(table, all_languages())
    ids = temp_ids(conn, "t_dirty", dirty)
    inherit_where = f"kind IN ('inherits', 'implements') AND id IN (SELECT id FROM {ids})"
    classes = _resolve_edges(conn, resolver, _edge_batches(conn, inherit_where), fresh=False)
    classes.update(new_classes)
    closure = _subclass_closure(conn, classes)
    names_table = temp_ids(conn, "t_closure", closure)
    class_names = {
        r[0]
        for r in conn.execute(f"SELECT s.name FROM {names_table} t JOIN symbols s ON s.id = t.id")
    }
    dirty |= edges_naming(conn, class_names)
    ids = temp_ids(conn, "t_dirty", dirty)
    table.forget_bases()
    if table.complete:
        table.load_all_bases()
    others = f"kind NOT IN ('contains', 'inherits', 'implements') AND id IN (SELECT id FROM {ids})"
    _resolve_edges(conn, resolver, _edge_batches(conn, others), fresh=False)
