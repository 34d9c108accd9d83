"""Binding references to definitions (graph.md §1, "Resolution"), language-agnostic.

Every ``calls``/``inherits``/``implements``/``returns`` edge carries its target
as written; :class:`Resolver` tries the rules below in order and records the one
that bound it in ``resolved_via``. A rule that finds the name but cannot finish
(the import leads outside the workspace, the chain ``a.b.c`` breaks at ``b``)
stops the search: falling through to a vaguer rule would bind the name to
something it provably is not. Two distinct candidates (different qualified
names) at one rule are an ambiguity: the edge stays unresolved with
``ambiguous_via``/``candidates`` recorded. Definitions sharing one qualified name
(``if``/``else`` variants, a property getter and setter, ``.py`` + ``.pyi``, a
C++ namespace reopened in several files) are one candidate: the first by
(path, line, column).

1. ``self`` — only for ``via_self`` references: the member in the enclosing
   class, then in its bases depth-first in declaration order (Java/C++: all
   bases, as for a bare name below). A path from a
   module the file fixes (``LanguageSpec.rooted_heads``: Rust ``crate::a::f``,
   ``super::f``) is resolved first too, as the ``use`` of it would be (``import``).
2. ``local`` — the scope chain: the source symbol, its parents, the file's
   module. A class scope is seen from its methods only when the language says
   so (``LanguageSpec.members_in_scope``: Java, C++); there each class is
   searched with what it inherits before the next outer scope (the class scope
   hides outer classes, namespaces and imports), an inherited member binding
   as ``self``: ``twice()`` may mean ``this.twice()``. Its bases are all
   searched: a member another candidate overrides drops out, a class's member
   beats an interface's, two left are ambiguous. Not for a call in a Java
   anonymous class body (marked by ``member``), nor a C++ class template's
   template bases (two-phase lookup).
3. ``import`` — an import alias equal to the first segment; else the longest
   prefix of the target that a whole-module import makes usable (``import
   a.b`` makes ``a`` and ``a.b`` usable); else the file's ``*`` imports; else the
   namespaces it opens (C++ ``using namespace ns;``). A ``*`` import of a module
   outside the workspace stops the search for any other unbound name (it could
   come from there). An import written inside a function (or a Rust inline
   module) binds only there, and there before the ``local`` rule looks past
   that scope: it is that scope's own binding of the name.
4. ``package`` — a definition of an enclosing namespace written in another
   block or file (namespaces are open); else a top-level definition of another
   file of the same package, as the language defines it
   (``LanguageSpec.package_of``; languages without one skip this half).
5. ``unique`` — the only top-level definition of a bare name in the language, or
   the only definition whose qualified name ends with a dotted target.

``LanguageSpec.builtins`` never go to ``package``/``unique``; ``bound_locally``
references (parameters, locals) are never resolved. "Top level" means defined
directly in a module or a namespace (``ns::f`` is called as ``f`` inside ``ns``).

After the first segment, a chain follows members: a module's top-level
definitions, then its submodules, then names it re-exports through its own
imports; a namespace's definitions in every file that opens it; a class's
members, then (except while resolving ``inherits`` / ``implements`` edges
themselves, so that their result never depends on the order bases were
resolved in) its bases' members.

**Adopted members.** A method defined outside its type's body — a Go method, a
C++ out-of-class definition, a Rust ``impl`` in another file than its type — is
stored under the module or namespace it is written in; only its qualified name
says which type it belongs to. Such a method is never a definition of that
module or namespace (``Circle::Circle`` is not ``geo::Circle``); it is found as a
member of the class whose qualified name is its own minus the last segment, and
a call inside it sees that class as its ``self`` and (``members_in_scope``) as
an enclosing scope.

**Type edges.** ``returns``/``inherits``/``implements`` bind only what can name a
type — never a method (a C++ constructor is a method named like its class), a
field, an enum variant, a macro, a module or a namespace; a candidate of those
kinds is skipped as if it were not there. Classes, interfaces, traits, structs,
enums and type aliases qualify, and so do variables, constants and functions:
``Base = declarative_base()`` or ``const Base = mixin(X)`` define the base a
class extends, and an ES5 constructor function is a JavaScript class. Inside a
chain (``a.b.c``) a method is never taken for ``a`` or ``b``: a method has no
members.

All lookups go through :class:`SymbolTable`, which reads the index by name; the
same code therefore serves a full build (everything preloaded, or streamed in
by the writer as it writes) and an incremental one (only the names dirty edges
need are read).

Speed: a full build resolves every edge of the workspace, so the per-edge path
(:meth:`Resolver.resolve_rows`) is flat and memoises each distinct question
once; the cycle collector is paused meanwhile (``bench/resolve.py`` measures).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import NamedTuple

from sqry.graph.languages.base import LanguageSpec, all_languages
from sqry.graph.model import CLASS_KINDS
from sqry.graph.parse import SCOPE_KINDS, FileResult, is_adopted
from sqry.graph.store import can_fork, enter_build_child
from sqry.graph.writer import (
    TEMPLATE_SQL,
    OldClasses,
    Shape,
    class_shapes,
    edges_naming,
    temp_ids,
)

INHERITANCE = ("inherits", "implements")
TYPE_EDGES = frozenset({"returns", "inherits", "implements"})
#: Kinds a type edge never binds (see "Type edges" above).
NOT_TYPES = frozenset({"method", "field", "enum_variant", "macro", "module", "namespace"})
#: Kinds never taken for the non-final segment of a chain: they have no members.
NOT_CONTAINERS = frozenset({"method"})
NOTHING: frozenset[str] = frozenset()
MAX_REEXPORT_DEPTH = 8
PRELOAD_MIN = 20000  # dirty edges; above this read the whole symbol table at once
BATCH = 20000  # edges resolved and written per round (bounded memory)
FORK_ROUND = 1_000_000  # edges held in memory per round of forked resolution


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
    private: bool  # visibility "private": C/C++ ``static``, an unexported Go or JS name, ...


class FileInfo(NamedTuple):
    path: str
    module: str
    language: str
    star_names: frozenset[str] | None = None  # FileFacts.star_names (Python ``__all__``)


def star_names(stored: str | None) -> frozenset[str] | None:
    """``files.star_names`` (newline-separated; NULL when the file lists none) as a set."""
    if stored is None:
        return None
    return frozenset(stored.split("\n")) if stored else frozenset()


class ImportRow(NamedTuple):
    target: str
    member: str | None
    alias: str | None
    line: int
    column: int
    reexport: int = 0  # binds nothing in its own file (model.Reference.reexport)
    source: int = 0  # the symbol whose scope it is written in (a Rust inline module's ``use``)


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
new_edge = tuple.__new__  # ``new_edge(EdgeRow, row)``: a row as an EdgeRow, no per-field call
EDGE_COLUMNS = "id, kind, source_id, target_text, file_id, member, alias, via_self, bound_locally"
_SYM_SELECT = (
    "SELECT s.id, s.kind, s.name, s.qualified_name, s.file_id, s.parent_id, p.kind, "
    "s.start_line, s.start_column, s.visibility = 'private' "
    "FROM symbols s LEFT JOIN symbols p ON p.id = s.parent_id"
)


class FileImports(NamedTuple):
    """One file's imports, digested for the ``import`` rule."""

    aliases: dict[str, ImportRow]  # local name -> the (last) import binding it
    # local names several differently written imports bind (``import posixpath
    # as path`` and, elsewhere in the file, ``import ntpath as path``) -> those
    # imports: where they bind different symbols, a reference is ambiguous
    rebound: dict[str, tuple[ImportRow, ...]]
    usable: frozenset[str]  # module names a whole-module import makes usable, with prefixes
    stars: tuple[str | None, ...]  # modules imported with ``*`` (None: cannot be known)
    opened: tuple[str, ...]  # namespaces imported whole (``using namespace ns;``)
    exports: dict[str, ImportRow]  # name -> the export-only import re-exporting it


def _layer(outer: FileImports, inner: FileImports) -> FileImports:
    """``outer`` seen from inside a scope whose own imports are ``inner``: a name
    the inner imports bind (as an alias or a module) is theirs alone."""
    hidden = inner.aliases.keys() | inner.usable
    aliases = {k: v for k, v in outer.aliases.items() if k not in hidden}
    aliases.update(inner.aliases)
    rebound = {k: v for k, v in outer.rebound.items() if k not in hidden}
    rebound.update(inner.rebound)
    return FileImports(
        aliases,
        rebound,
        outer.usable | inner.usable,
        outer.stars + inner.stars,
        outer.opened + inner.opened,
        outer.exports | inner.exports,
    )


class Chain(NamedTuple):
    """The scopes a reference inside one symbol sees, innermost first."""

    scopes: tuple[Sym, ...]
    foreign: bool  # some scope (an adopted method's class) lives in another file
    namespaces: bool  # some scope is a namespace (the ``package`` rule searches it)
    adopted: bool  # some scope is an adopted method (its class is inserted after it)
    self_class: Sym | None  # the first class of the chain: what ``self`` means
    by_source: bool  # namespaces or adopted: results are memoised per source


_EMPTY: list[Sym] = []
SOURCE = object()  # :meth:`SymbolTable.binding_scope`: "key this reference by its source"
_NO_CHAIN = Chain((), False, False, False, None, False)
_QUALIFIED_KINDS = CLASS_KINDS | {"namespace"}
#: Class templates: a C++ ``class``/``struct`` whose signature starts with its
#: ``template<...>`` header (the extractor keeps it there).
_TEMPLATE_KINDS = frozenset({"class", "struct"})
_TEMPLATES_SELECT = "SELECT s.id FROM symbols s WHERE " + TEMPLATE_SQL.format("s")
_POSITION = itemgetter(3, 4)  # an ImportRow's (line, column)


class SymbolTable:
    """Name-keyed access to the index's symbols, files, imports and class bases.

    ``preload=True`` reads everything once (full builds); otherwise each name is
    read on first use and cached (incremental builds touch few names). Symbols
    are indexed by name, by (parent, name), by qualified name and, for top-level
    definitions, by name — the ways the rules look them up — and (file, name)
    pairs are kept for the ``local`` rule's quick "not defined here" exit.
    Adopted members (see the module doc) are left out of the (parent, name) and
    top-level indexes: they are reached by qualified name only. Only what the
    qualified lookups ask for is indexed by qualified name: classes (an adopted
    method's owner), namespaces and what they define, adopted members.
    """

    def __init__(self, conn: sqlite3.Connection, *, preload: bool, streamed: bool = False) -> None:
        """``streamed``: start empty; the build's writer adds every file it writes
        (:meth:`add_file`), so a full build never reads its symbols back."""
        self.conn = conn
        self.complete = preload or streamed
        self._loaded: set[str] = set()
        self._named: defaultdict[str, list[Sym]] = defaultdict(list)
        self._children: defaultdict[tuple[int | None, str], list[Sym]] = defaultdict(list)
        self._file_names: set[tuple[int, str]] = set()
        self._top: defaultdict[str, list[Sym]] = defaultdict(list)
        self._qualified: defaultdict[str, list[Sym]] = defaultdict(list)
        self._adopted: set[str] = set()  # names of adopted members
        self._by_id: dict[int, Sym] = {}
        self._files: dict[int, FileInfo] = {}
        self._package_keys: dict[int, str | None] = {}
        self._by_package: dict[tuple[str, str], defaultdict[tuple[str, str | None], list[Sym]]] = {}
        self._imports: dict[int, list[ImportRow]] = {}
        self._import_targets: dict[tuple[int, str], str | None] = {}
        # (file, scope or None for the file's own) -> that group's imports digested
        self._digested: dict[tuple[int, int | None], FileImports] = {}
        self._layered: dict[tuple[int, tuple[int, ...]], FileImports] = {}
        self._import_groups: dict[int, dict[int | None, list[ImportRow]]] = {}
        self._modules: dict[str, list[Sym]] = {}
        self._bases: dict[int, list[int]] = {}
        self._bases_complete = False
        self._templates: dict[int, bool] = {}  # class id -> a C++ class template (all if complete)
        if streamed:
            return
        for fid, path, module, language, stars in conn.execute(
            "SELECT id, path, module, language, star_names FROM files"
        ):
            self._files[fid] = FileInfo(path, module, language, star_names(stars))
        if preload:
            self._preload()

    def add_file(self, file_id: int, result: FileResult, base: int) -> None:
        """Index a file the writer just wrote (symbol ids ``base + local id``);
        the streamed twin of :meth:`_preload`, same indexes in the same order.
        Runs once per symbol of the workspace in the build's writer: flat, and
        reads rows by position."""
        module = result.module
        self._files[file_id] = FileInfo(
            result.path, module, result.language, star_names(result.star_names)
        )
        new, symbols = tuple.__new__, result.symbols
        named, children, top = self._named, self._children, self._top
        qualified, by_id, file_names = self._qualified, self._by_id, self._file_names
        qualified_kinds, scope_kinds = _QUALIFIED_KINDS, SCOPE_KINDS
        sym_id = base - 1
        for row in symbols:
            sym_id += 1
            kind, name, parent = row[0], row[1], row[7]
            if parent is None:
                sym = new(
                    Sym,
                    (sym_id, kind, name, row[2], file_id, None, None, row[3], row[4], False),
                )
                by_id[sym_id] = sym
                named[name].append(sym)
                file_names.add((file_id, name))
                self._modules.setdefault(module, []).append(sym)
                continue
            parent_kind = symbols[parent][0]
            sym = new(
                Sym,
                (
                    sym_id,
                    kind,
                    name,
                    row[2],
                    file_id,
                    base + parent,
                    parent_kind,
                    row[3],
                    row[4],
                    row[9] == "private",
                ),
            )
            by_id[sym_id] = sym
            named[name].append(sym)
            file_names.add((file_id, name))
            if kind == "module":  # inline (Rust ``mod x { ... }``): a module too
                self._modules.setdefault(row[2], []).append(sym)
            if parent_kind in scope_kinds:
                if kind == "method":  # adopted
                    self._adopted.add(name)
                    qualified[row[2]].append(sym)
                    continue
                top[name].append(sym)
            children[base + parent, name].append(sym)
            if kind in qualified_kinds or parent_kind == "namespace":
                qualified[row[2]].append(sym)
                if kind in _TEMPLATE_KINDS and row[8].startswith("template"):
                    self._templates[sym_id] = True
        imports = [
            new(ImportRow, (ref[2], ref[5], ref[6], ref[3], ref[4], ref[10], ref[1] + base))
            for ref in result.refs
            if ref[0] == "imports"
        ]
        imports.sort(key=_POSITION)
        self._imports[file_id] = imports

    def _preload(self) -> None:
        """Everything at once: :meth:`_add` inlined, since it runs per symbol."""
        new, files, modules = tuple.__new__, self._files, self._modules
        named, children, top = self._named, self._children, self._top
        qualified, by_id, file_names = self._qualified, self._by_id, self._file_names
        for row in self.conn.execute(_SYM_SELECT):
            sym = new(Sym, row)
            sym_id, kind, name, qname, file_id, parent_id, parent_kind = row[:7]
            by_id[sym_id] = sym
            named[name].append(sym)
            file_names.add((file_id, name))
            if parent_kind is None:
                modules.setdefault(files[file_id].module, []).append(sym)
                continue
            if kind == "module":  # inline (Rust ``mod x { ... }``): a module too
                modules.setdefault(qname, []).append(sym)
            if kind == "method" and parent_kind in SCOPE_KINDS:  # adopted
                self._adopted.add(name)
                qualified[qname].append(sym)
                continue
            children[parent_id, name].append(sym)
            if parent_kind in SCOPE_KINDS:
                top[name].append(sym)
            if kind in _QUALIFIED_KINDS or parent_kind == "namespace":
                qualified[qname].append(sym)
        self._templates.update((r[0], True) for r in self.conn.execute(_TEMPLATES_SELECT))
        imports = self._imports
        for file_id in files:
            imports[file_id] = []
        for row in self.conn.execute(
            "SELECT file_id, target_text, member, alias, line, column, reexport, source_id "
            "FROM edges WHERE kind = 'imports' ORDER BY file_id, line, column"
        ):
            imports[row[0]].append(new(ImportRow, row[1:]))

    def _add(self, sym: Sym) -> None:
        """Index one symbol (read by name in an incremental build); see :meth:`_preload`."""
        name, kind, parent_kind = sym.name, sym.kind, sym.parent_kind
        self._by_id[sym.id] = sym
        self._named[name].append(sym)
        self._file_names.add((sym.file_id, name))
        if parent_kind is None:
            return
        if is_adopted(kind, parent_kind):
            self._adopted.add(name)
            self._qualified[sym.qname].append(sym)
            return
        self._children[sym.parent_id, name].append(sym)
        if parent_kind in SCOPE_KINDS:
            self._top[name].append(sym)
        if kind in _QUALIFIED_KINDS or parent_kind == "namespace":
            self._qualified[sym.qname].append(sym)

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

    def top_level(self, name: str) -> list[Sym]:
        self._ensure(name)
        return self._top.get(name, _EMPTY)

    def qualified(self, qname: str, name: str) -> list[Sym]:
        """The classes, namespaces, namespace definitions and adopted members whose
        qualified name is ``qname`` (their name being ``name``)."""
        self._ensure(name)
        return self._qualified.get(qname, _EMPTY)

    def may_define_locally(self, file_id: int, name: str) -> bool:
        """Whether the ``local`` rule could bind ``name`` in the file: the file
        defines it, or some adopted member (whose class may be in scope) has it."""
        if not self.complete:
            self._ensure(name)
        return (file_id, name) in self._file_names or name in self._adopted

    def top_level_by_package(
        self, name: str, spec: LanguageSpec
    ) -> dict[tuple[str, str | None], list[Sym]]:
        """:meth:`top_level` of ``spec``'s language grouped by (language, package
        key), computed once per name and language."""
        found = self._by_package.get((name, spec.name))
        if found is None:
            found = self._by_package[name, spec.name] = defaultdict(list)
            for sym in self.top_level(name):
                language = self._files[sym.file_id].language
                if language == spec.name:
                    found[language, self.package_key(sym.file_id, spec)].append(sym)
        return found

    def local_names(self) -> tuple[set[tuple[int, str]], set[str]]:
        """The (file, name) pairs defined and the names of adopted members, for
        :meth:`binding_scope`'s quick exits (complete tables only)."""
        assert self.complete
        return self._file_names, self._adopted

    def binding_scope(
        self, file_id: int, name: str, scopes: tuple[Sym, ...], outer_classes: bool
    ) -> int | object | None:
        """Where the ``local`` rule would look ``name`` up first, for memo keys:
        the id of the innermost scope of ``scopes`` with a child so named (outer
        class scopes only if ``outer_classes``); None when the file defines no
        such name; :data:`SOURCE` when an adopted member has it (then the class
        scopes of the chain may hold it without it being their child)."""
        if not self.complete:
            self._ensure(name)
        if name in self._adopted:
            return SOURCE
        if (file_id, name) not in self._file_names:
            return None
        children = self._children
        for index, scope in enumerate(scopes):
            if index and not outer_classes and scope.kind in CLASS_KINDS:
                continue
            if (scope.id, name) in children:
                return scope.id
        return None

    def has_adopted(self, name: str) -> bool:
        """Whether some adopted member (see the module doc) is named ``name``."""
        self._ensure(name)
        return name in self._adopted

    def is_template(self, class_id: int) -> bool:
        """Whether the class ``class_id`` is a class template (``template<...>``)."""
        found = self._templates.get(class_id)
        if found is None:
            if self.complete:
                return False
            row = self.conn.execute(
                _TEMPLATES_SELECT.replace("WHERE", "WHERE s.id = ? AND"), (class_id,)
            ).fetchone()
            found = self._templates[class_id] = row is not None
        return found

    def by_id(self, sym_id: int) -> Sym | None:
        sym = self._by_id.get(sym_id)
        if sym is None and not self.complete:
            row = self.conn.execute(_SYM_SELECT + " WHERE s.id = ?", (sym_id,)).fetchone()
            if row is not None:
                sym = self._by_id[sym_id] = Sym(*row)
        return sym

    def file(self, file_id: int) -> FileInfo:
        return self._files[file_id]

    def package_key(self, file_id: int, spec: LanguageSpec) -> str | None:
        """The file's package for the ``package`` rule (``LanguageSpec.package_of``)."""
        try:
            return self._package_keys[file_id]
        except KeyError:
            info = self._files[file_id]
            key = spec.package_of(info.path, info.module) if spec.package_of else None
            self._package_keys[file_id] = key
            return key

    def star_exports(self, spec: LanguageSpec, module: str, name: str) -> bool:
        """Whether a ``*`` import of ``module`` takes ``name`` (``spec.star_exports``
        asked with the names the module's files list, if every one lists them)."""
        if spec.star_exports is None:
            return True
        declared: frozenset[str] | None = frozenset()
        for mod in self.modules(module):
            listed = self._files[mod.file_id].star_names if mod.parent_id is None else None
            if listed is None:
                declared = None
                break
            declared |= listed
        return spec.star_exports(name, declared)

    def modules(self, qname: str) -> list[Sym]:
        """The module symbols whose module name is ``qname``: one per file, and
        the inline modules so named (Rust ``mod net { ... }`` in ``lib.rs`` is
        ``crate::net`` as much as ``src/net.rs`` would be; its members are its
        children)."""
        found = self._modules.get(qname)
        if found is not None or self.complete:
            return found or _EMPTY
        rows = [
            Sym(*r)
            for r in self.conn.execute(
                _SYM_SELECT + " JOIN files f ON f.id = s.file_id "
                "WHERE f.module = ? AND s.parent_id IS NULL "
                "UNION ALL " + _SYM_SELECT + " WHERE s.qualified_name = ? AND s.kind = 'module' "
                "AND s.parent_id IS NOT NULL",
                (qname, qname),
            )
        ]
        self._modules[qname] = rows
        return rows

    def namespaces(self, qname: str, sep: str, language: str) -> list[Sym]:
        """The ``namespace`` symbols named ``qname`` (one per block that opens it)."""
        return [
            s
            for s in self.qualified(qname, qname.rsplit(sep, 1)[-1])
            if s.kind == "namespace" and self._files[s.file_id].language == language
        ]

    def imports(self, file_id: int) -> list[ImportRow]:
        found = self._imports.get(file_id)
        if found is None:
            found = [
                ImportRow(*r)
                for r in self.conn.execute(
                    "SELECT target_text, member, alias, line, column, reexport, source_id FROM edges "
                    "WHERE kind = 'imports' AND file_id = ? ORDER BY line, column",
                    (file_id,),
                )
            ]
            self._imports[file_id] = found
        return found

    def module_of(self, file_id: int, spec: LanguageSpec, target: str) -> str | None:
        """``spec.import_module`` for an import written in the file, asked once."""
        key = (file_id, target)
        try:
            return self._import_targets[key]
        except KeyError:
            found = self._import_targets[key] = spec.import_module(
                self._files[file_id].path, target
            )
            return found

    def import_groups(self, file_id: int) -> dict[int | None, list[ImportRow]]:
        """The file's imports by the scope they are written in: None for the
        file's own (written at top level, binding in the whole file), else the
        id of the function, block or inline module whose scope alone they bind
        in (Python's ``import`` inside a ``def``, Rust's ``use`` in a ``fn`` or
        a ``mod``, C++'s ``using`` in a function, a ``require`` in a function)."""
        found = self._import_groups.get(file_id)
        if found is None:
            found = self._import_groups[file_id] = {}
            for row in self.imports(file_id):
                owner = self.by_id(row.source)
                scope = row.source if owner is not None and owner.parent_id is not None else None
                found.setdefault(scope, []).append(row)
        return found

    def file_imports(
        self, file_id: int, spec: LanguageSpec, visible: tuple[int, ...] = ()
    ) -> FileImports:
        """The imports a reference sees, digested once: the file's own, then those
        of each scope of ``visible`` (its enclosing scopes with imports, innermost
        first), an inner scope's binding of a name hiding an outer one's. (A
        Python class body's imports are seen from its methods too: a rare
        imprecision kept for the simpler rule.)"""
        found = self._layered.get((file_id, visible))
        if found is not None:
            return found
        found = self._group_imports(file_id, spec, None)
        for scope in reversed(visible):
            found = _layer(found, self._group_imports(file_id, spec, scope))
        self._layered[file_id, visible] = found
        return found

    def scope_binds(self, file_id: int, spec: LanguageSpec, scope: int, name: str) -> bool:
        """Whether imports written in ``scope`` (not at top level) bind ``name``."""
        if scope not in self.import_groups(file_id):
            return False
        digest = self._group_imports(file_id, spec, scope)
        return name in digest.aliases or name in digest.usable or bool(digest.opened)

    def _group_imports(self, file_id: int, spec: LanguageSpec, scope: int | None) -> FileImports:
        """One group of :meth:`import_groups` digested for the ``import`` rule."""
        found = self._digested.get((file_id, scope))
        if found is not None:
            return found
        info = self._files[file_id]
        sep = spec.separator
        aliases: dict[str, ImportRow] = {}
        bound: dict[str, dict[tuple[str, str | None], ImportRow]] = {}
        usable: set[str] = set()
        stars: list[str | None] = []
        opened: list[str] = []
        exports: dict[str, ImportRow] = {}
        for row in self.import_groups(file_id).get(scope, ()):
            if row.reexport:  # exports only: binds nothing the file's own code sees
                if row.alias is not None:
                    exports[row.alias] = row
                continue
            if row.member == "*":
                stars.append(self.module_of(file_id, spec, row.target))
            elif row.alias is not None:
                aliases[row.alias] = row
                bound.setdefault(row.alias, {})[row.target, row.member] = row
            elif row.member is None:
                module = self.module_of(file_id, spec, row.target)
                parts = module.split(sep) if module and spec.imports_qualify else []
                usable.update(sep.join(parts[:k]) for k in range(1, len(parts) + 1))
                if module and not self.modules(module):
                    if self.namespaces(module, sep, info.language):
                        opened.append(module)
                    elif spec.opens_namespace is not None and spec.opens_namespace(row.target):
                        stars.append(None)  # ``using namespace std;``: outside the workspace
        rebound = {alias: tuple(rows.values()) for alias, rows in bound.items() if len(rows) > 1}
        found = FileImports(
            aliases, rebound, frozenset(usable), tuple(stars), tuple(opened), exports
        )
        self._digested[file_id, scope] = found
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


_NO_SCOPES: frozenset[int] = frozenset()
_SEARCHING = object()  # Resolver._module_member: a module whose search is under way


class _Stop(Exception):
    """A rule found the name but cannot bind it: the search ends unresolved."""


class Resolver:
    """Applies the rules of the module docstring to one edge at a time."""

    def __init__(self, table: SymbolTable, languages: dict[str, LanguageSpec]) -> None:
        self.table = table
        self.languages = languages
        self._memo: dict[tuple, Resolution] = {}
        self._chains: dict[int, Chain] = {}
        self._owners: dict[int, Sym | None] = {}
        self._roots: dict[int, str] = {}  # file id -> its module root (see _root)
        self._templated: dict[int, bool] = {}  # class id -> in a class template
        self._file_keys: dict[
            int, tuple[str, bool, frozenset[str], frozenset[str], frozenset[int]]
        ] = {}
        self._bindings: dict[tuple, Sym | None] = {}  # what an import alias binds, per batch
        self._specs: dict[int, tuple[FileInfo, LanguageSpec | None]] = {}
        # a function of the table alone: kept across batches (one entry per target)
        self._unique: dict[tuple[str, str, frozenset[str]], Resolution | None] = {}

    def forget(self) -> None:
        """Drop memoised answers (bounded memory: called between batches).

        Scope chains, owners and per-file facts stay: there is at most one per
        symbol or file, like the table itself, and every batch needs them again.
        """
        self._memo.clear()
        self._bindings.clear()

    # -- candidates

    def _order(self, sym: Sym) -> tuple[str, int, int]:
        """Which of several definitions of one qualified name binds: the first
        file by path (``m.py`` before its ``m.pyi`` stub), in it the first one
        written, or the last where a later definition replaces an earlier one
        (``LanguageSpec.later_definition_wins``: Python)."""
        info = self.table.file(sym.file_id)
        spec = self.languages.get(info.language)
        if spec is not None and spec.later_definition_wins:
            return (info.path, -sym.line, -sym.column)
        return (info.path, sym.line, sym.column)

    def _pick(
        self, candidates: list[Sym], rule: str, exclude: frozenset[str] = NOTHING
    ) -> Resolution | Sym | None:
        """One symbol, an ambiguity, or None when there is no candidate.

        Candidates of an ``exclude``d kind do not count (see "Type edges").
        """
        if exclude:
            candidates = [c for c in candidates if c.kind not in exclude]
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        qnames = {sym.qname for sym in candidates}
        if len(qnames) > 1:
            return Resolution(None, None, rule, len(qnames))
        return min(candidates, key=self._order)

    def _same_language(self, candidates: list[Sym], language: str) -> list[Sym]:
        files = self.table.file
        return [s for s in candidates if files(s.file_id).language == language]

    def _scope(
        self, qname: str, sep: str, language: str, near: int | None = None
    ) -> Resolution | Sym | None:
        """The module named ``qname`` (seen from the file ``near``: see
        :meth:`_same_root`), else the namespace (C++ ``using namespace``)."""
        found = self.table.modules(qname)
        if near is not None and len(found) > 1:
            found = self._same_root(found, near)
        return self._pick(found or self.table.namespaces(qname, sep, language), "import")

    def _same_root(self, mods: list[Sym], file_id: int) -> list[Sym]:
        """The modules of ``mods`` under the same root as the file ``file_id``,
        in a language with ``rooted_heads`` (Rust): every crate of a workspace
        names its modules ``crate::...``, and a path written in one crate never
        reaches another crate's namesake. Other languages: ``mods`` unchanged."""
        spec = self._file_spec(file_id)[1]
        if spec is None or not spec.rooted_heads:
            return mods
        root = self._root(file_id, spec.separator)
        return [m for m in mods if self._root(m.file_id, spec.separator) == root]

    def _root(self, file_id: int, sep: str) -> str:
        """The directory a file's module names are rooted at: its directory less
        the segments its module name accounts for (``b/src/net/tcp.rs``,
        ``crate::net::tcp`` → ``b/src``; ``b/src/lib.rs``, ``crate`` → ``b/src``)."""
        found = self._roots.get(file_id)
        if found is None:
            info = self.table.file(file_id)
            *dirs, name = info.path.split("/")
            inner = info.module.split(sep)[1:]
            if inner and name.rpartition(".")[0] == inner[-1]:
                inner = inner[:-1]  # ``tcp.rs`` names ``tcp`` itself
            if inner and dirs[-len(inner) :] == inner:
                dirs = dirs[: -len(inner)]
            found = self._roots[file_id] = "/".join(dirs)
        return found

    # -- members

    def member(
        self,
        owner: Sym,
        name: str,
        use_bases: bool,
        sep: str,
        depth: int = 0,
        exclude: frozenset[str] = NOTHING,
    ) -> Sym | None:
        """``owner.name``: a module's definition/submodule/re-export, a class's or
        a namespace's member."""
        if owner.kind == "module":
            return self._module_member(
                owner.qname, name, use_bases, sep, depth, exclude, near=owner.file_id
            )
        if owner.kind in CLASS_KINDS:
            return self._class_member(owner, name, use_bases, set(), sep, exclude)
        if owner.kind == "namespace":
            return self._namespace_member(owner, name, sep, exclude)
        return None

    def _module_member(
        self,
        module: str,
        name: str,
        use_bases: bool,
        sep: str,
        depth: int,
        exclude: frozenset[str] = NOTHING,
        searched: dict[str, Sym | None | object] | None = None,
        near: int | None = None,
        own: bool = False,
    ) -> Sym | None:
        """``module.name``. ``own``: asked from inside the module (its own export
        rows: ``export default d`` names its unexported ``d``), so what it does not
        export counts too. ``searched``: per module this lookup already reached
        through ``*`` imports, its answer (or :data:`_SEARCHING` while it is being
        searched: a cycle answers None there). Each module is searched once — else
        barrels that ``export *`` from each other make the search exponential —
        and answers alike on every path that reaches it."""
        table = self.table
        mods = table.modules(module)
        if near is not None and len(mods) > 1:
            mods = self._same_root(mods, near)
        if not mods:
            return None
        # ``export { name } from "./x"``: what the module exports as ``name``,
        # even when it also defines a (then private) ``name`` of its own — at
        # any depth: past the cap (a re-export cycle) the answer is no edge,
        # never that private namesake
        for mod in mods:
            if mod.parent_id is not None:
                continue  # an inline module: the file's imports are not its own
            spec = self._file_spec(mod.file_id)[1]
            row = table.file_imports(mod.file_id, spec).exports.get(name) if spec else None
            if row is not None:
                if depth >= MAX_REEXPORT_DEPTH:
                    return None
                return self.binding(mod.file_id, row, use_bases, depth + 1, exclude)
        found: list[Sym] = []
        for mod in mods:
            if own or self._exports(mod, name):
                found.extend(table.children(mod.id, name))
        picked = self._pick(found, "import", exclude)
        if isinstance(picked, Sym):
            return picked
        submodules = table.modules(f"{module}{sep}{name}")
        if near is not None and len(submodules) > 1:
            submodules = self._same_root(submodules, near)
        picked = self._pick(submodules, "import", exclude)
        if isinstance(picked, Sym):
            return picked
        if depth >= MAX_REEXPORT_DEPTH:
            return None
        for mod in mods:  # re-exported: ``from .impl import name`` in the module itself
            # (its own imports: those in its body, not in its functions' bodies)
            rows = [
                row
                for row in table.imports(mod.file_id)
                if row.alias == name and row.source == mod.id
            ]
            if rows:
                bound = {
                    self.binding(mod.file_id, row, use_bases, depth + 1, exclude)
                    for row in {(row.target, row.member): row for row in rows}.values()
                }
                # several imports binding it to different things (``os.path``): none
                return bound.pop() if len(bound) == 1 else None
        # ``from .impl import *``, ``export * from "./impl"``: through every one;
        # two that give different definitions export neither (ES; for Python the
        # last would win — rare, and no edge beats a wrong one)
        through_star: Sym | None = None
        searched = {} if searched is None else searched
        searched[module] = _SEARCHING
        for mod in mods:
            spec = self._file_spec(mod.file_id)[1]
            if spec is None or spec.star_exports is None:
                continue
            for row in table.imports(mod.file_id):
                if row.member != "*" or row.source != mod.id:  # its own, as above
                    continue
                source = table.module_of(mod.file_id, spec, row.target)
                if source is None or not table.star_exports(spec, source, name):
                    continue
                if source in searched:
                    known = searched[source]
                    sym = known if isinstance(known, Sym) else None
                else:
                    searched[source] = _SEARCHING
                    sym = searched[source] = self._module_member(
                        source, name, use_bases, sep, depth + 1, exclude, searched
                    )
                if sym is None:
                    continue
                if through_star is not None and through_star.qname != sym.qname:
                    return None
                through_star = through_star or sym
        return through_star

    def _exports(self, mod: Sym, name: str) -> bool:
        """Whether the module ``mod`` lets others import its own ``name``
        (``LanguageSpec.exports_listed``: an ES module's unexported function,
        or one exported only as ``default``, is not importable by its name)."""
        if mod.parent_id is not None:
            return True
        info, spec = self._file_spec(mod.file_id)
        if spec is None or not spec.exports_listed or info.star_names is None:
            return True
        return name in info.star_names

    def _class_member(
        self,
        cls: Sym,
        name: str,
        use_bases: bool,
        seen: set[int],
        sep: str,
        exclude: frozenset[str] = NOTHING,
    ) -> Sym | None:
        seen.add(cls.id)
        table = self.table
        found = table.children(cls.id, name)
        if table.has_adopted(name):
            language = table.file(cls.file_id).language
            adopted = [
                s
                for s in table.qualified(f"{cls.qname}{sep}{name}", name)
                if is_adopted(s.kind, s.parent_kind) and table.file(s.file_id).language == language
            ]
            found = found + adopted if adopted else found
        picked = self._pick(found, "self", exclude)
        if isinstance(picked, Sym):
            return picked
        if not use_bases:
            return None
        for base_id in table.bases(cls.id):
            base = table.by_id(base_id)
            if base is None or base.id in seen or base.kind not in CLASS_KINDS:
                continue
            found_in_base = self._class_member(base, name, use_bases, seen, sep, exclude)
            if found_in_base is not None:
                return found_in_base
        return None

    def _inherited(
        self, cls: Sym, name: str, sep: str, exclude: frozenset[str], *, bare: bool
    ) -> Resolution | Sym | None:
        """The member ``name`` that ``cls`` inherits (its own members left out),
        where methods see their class's members (Java, C++): looked up through
        every direct base, not the first that has one, since a language like
        these rejects (or overrides) what two bases both give. A member another
        candidate's class overrides drops out (a sub-interface's default method,
        a derived class's redefinition), and a class's member beats an
        interface's default (Java); two or more left are an ambiguity at
        ``self``. ``bare``: the name is written without ``this`` — then the
        template bases of a class template are not searched (C++ two-phase
        lookup never looks a non-dependent name up in a dependent base)."""
        found = self._inherited_candidates(cls, name, sep, exclude, bare, {cls.id})
        if len(found) > 1:
            return Resolution(None, None, "self", len(found))
        return found[0][0] if found else None

    def _inherited_candidates(
        self,
        cls: Sym,
        name: str,
        sep: str,
        exclude: frozenset[str],
        bare: bool,
        path: set[int],
    ) -> list[tuple[Sym, Sym]]:
        """(member, class defining it) pairs for :meth:`_inherited`, one per
        qualified name; ``path``: the classes being searched (a cycle stops)."""
        table = self.table
        found: dict[str, tuple[Sym, Sym]] = {}
        dependent = bare and self._in_template(cls)
        for base_id in table.bases(cls.id):
            base = table.by_id(base_id)
            if base is None or base.id in path or base.kind not in CLASS_KINDS:
                continue
            if dependent and table.is_template(base.id):
                continue  # ``D<T> : Base<T>``: unknown until instantiated
            own = self._class_member(base, name, False, set(), sep, exclude)
            if own is not None:
                pairs = [(own, base)]
            else:
                path.add(base.id)
                pairs = self._inherited_candidates(base, name, sep, exclude, bare, path)
                path.discard(base.id)
            for pair in pairs:
                found.setdefault(pair[0].qname, pair)
        if len(found) <= 1:
            return list(found.values())
        return self._most_specific(list(found.values()))

    def _most_specific(self, pairs: list[tuple[Sym, Sym]]) -> list[tuple[Sym, Sym]]:
        """Drop the members another pair's class overrides (it derives from
        theirs), then interface members if a class's member remains (Java: a
        superclass method beats an interface default)."""
        kept = [
            (sym, owner)
            for sym, owner in pairs
            if not any(o.id != owner.id and self._derives(o, owner.id) for _, o in pairs)
        ]
        if any(owner.kind != "interface" for _, owner in kept):
            kept = [(sym, owner) for sym, owner in kept if owner.kind != "interface"]
        return kept

    def _derives(self, cls: Sym, ancestor_id: int) -> bool:
        """Whether ``cls`` inherits, directly or not, from the class ``ancestor_id``."""
        table = self.table
        seen = {cls.id}
        frontier = [cls.id]
        while frontier:
            for base_id in table.bases(frontier.pop()):
                if base_id == ancestor_id:
                    return True
                if base_id not in seen:
                    seen.add(base_id)
                    frontier.append(base_id)
        return False

    def _in_template(self, cls: Sym) -> bool:
        """Whether ``cls`` or a class around it is a (C++) class template."""
        found = self._templated.get(cls.id)
        if found is None:
            table = self.table
            sym: Sym | None = cls
            found = False
            while sym is not None and sym.kind in CLASS_KINDS:
                if table.is_template(sym.id):
                    found = True
                    break
                sym = table.by_id(sym.parent_id) if sym.parent_id is not None else None
            self._templated[cls.id] = found
        return found

    def _namespace_member(
        self, ns: Sym, name: str, sep: str, exclude: frozenset[str] = NOTHING
    ) -> Sym | None:
        """``ns::name`` in any block or file that opens the namespace."""
        found = self._namespace_candidates(
            ns.qname, name, sep, self.table.file(ns.file_id).language
        )
        picked = self._pick(found, "import", exclude)
        return picked if isinstance(picked, Sym) else None

    def _namespace_candidates(self, ns: str, name: str, sep: str, language: str) -> list[Sym]:
        found = self.table.qualified(f"{ns}{sep}{name}", name)
        return [
            s for s in self._same_language(found, language) if not is_adopted(s.kind, s.parent_kind)
        ]

    def follow(
        self,
        start: Sym,
        rest: list[str],
        via: str,
        use_bases: bool,
        sep: str,
        final: frozenset[str] = NOTHING,
    ) -> Resolution:
        """Walk ``rest`` from ``start``; a break in the chain stops unresolved.

        ``final``: kinds the last symbol must not have (see "Type edges").
        """
        sym: Sym | None = start
        last = len(rest) - 1
        for index, name in enumerate(rest):
            exclude = final if index == last else NOT_CONTAINERS
            sym = self.member(sym, name, use_bases, sep, exclude=exclude) if sym else None
            if sym is None:
                raise _Stop
        assert sym is not None
        if sym.kind in final:
            raise _Stop
        return Resolution(sym.id, via, None, 1)

    def binding(
        self,
        file_id: int,
        row: ImportRow,
        use_bases: bool,
        depth: int = 0,
        exclude: frozenset[str] = NOTHING,
    ) -> Sym | None:
        """What an import binds: the module (or namespace), or its member — which
        may be dotted (Java ``Circle.Builder``, ``Shape.EPSILON``); None if outside
        the workspace. ``exclude``: kinds the bound symbol must not have."""
        info, spec = self._file_spec(file_id)
        if spec is None:
            return None
        sep = spec.separator
        module = self.table.module_of(file_id, spec, row.target)
        if module is None:
            return None
        if row.member is None or row.member == "*":
            picked = self._scope(module, sep, info.language, file_id)
            return picked if isinstance(picked, Sym) and picked.kind not in exclude else None
        first, *rest = row.member.split(sep)
        head_exclude = NOT_CONTAINERS if rest else exclude
        if self.table.modules(module):
            sym = self._module_member(
                module,
                first,
                use_bases,
                sep,
                depth,
                head_exclude,
                near=file_id,
                own=module == info.module,
            )
        else:
            scope = self._scope(module, sep, info.language)
            sym = (
                self._namespace_member(scope, first, sep, head_exclude)
                if isinstance(scope, Sym)
                else None
            )
        for index, name in enumerate(rest):
            if sym is None:
                return None
            inner = exclude if index == len(rest) - 1 else NOT_CONTAINERS
            sym = self.member(sym, name, use_bases, sep, depth, inner)
        return sym

    # -- scopes

    def owner_class(self, sym: Sym, sep: str) -> Sym | None:
        """The class an adopted method belongs to, by its qualified name."""
        if sym.id in self._owners:
            return self._owners[sym.id]
        owner = None
        suffix = f"{sep}{sym.name}"
        if sym.qname.endswith(suffix):
            qname = sym.qname[: -len(suffix)]
            language = self.table.file(sym.file_id).language
            found = [
                s
                for s in self.table.qualified(qname, qname.rsplit(sep, 1)[-1])
                if s.kind in CLASS_KINDS and self.table.file(s.file_id).language == language
            ]
            picked = self._pick(found, "self")
            owner = picked if isinstance(picked, Sym) else None
        self._owners[sym.id] = owner
        return owner

    def chain(self, source_id: int, sep: str) -> Chain:
        """The scopes seen from inside ``source_id``: itself, its parents up to the
        module, with an adopted method's class right after the method. Built on
        the (cached) chain of the parent: siblings share everything above them."""
        found = self._chains.get(source_id)
        if found is not None:
            return found
        sym = self.table.by_id(source_id)
        if sym is None:
            return _NO_CHAIN
        above = _NO_CHAIN if sym.parent_id is None else self.chain(sym.parent_id, sep)
        scopes: tuple[Sym, ...] = (sym,)
        foreign, namespaces, self_class = above.foreign, above.namespaces, above.self_class
        adopted = above.adopted
        kind = sym.kind
        if kind in CLASS_KINDS:
            self_class = sym
        elif kind == "namespace":
            namespaces = True
        elif is_adopted(kind, sym.parent_kind):
            adopted = True
            owner = self.owner_class(sym, sep)
            if owner is not None:
                scopes = (sym, owner, *self._enclosing_classes(owner))
                self_class = owner
                foreign = foreign or owner.file_id != sym.file_id
        found = Chain(
            scopes + above.scopes, foreign, namespaces, adopted, self_class, namespaces or adopted
        )
        self._chains[source_id] = found
        return found

    def _enclosing_classes(self, cls: Sym) -> tuple[Sym, ...]:
        """The classes around ``cls``, innermost first (C++ ``Outer`` of
        ``Outer::In``): a member of ``In`` defined out of class, maybe in another
        file, sees their members as the class body itself would."""
        found: list[Sym] = []
        parent = self.table.by_id(cls.parent_id) if cls.parent_id is not None else None
        while parent is not None and parent.kind in CLASS_KINDS:
            found.append(parent)
            parent = self.table.by_id(parent.parent_id) if parent.parent_id is not None else None
        return tuple(found)

    # -- rules

    def resolve_rows(
        self, rows: list[tuple], *, keep_unresolved: bool
    ) -> tuple[list[tuple], list[tuple]]:
        """Resolve a batch of ``EDGE_COLUMNS`` rows into ``UPDATE`` parameters
        (see :func:`_write_resolutions`): ``(target id, rule, edge id)`` per bound
        edge, ``(ambiguous rule, candidates, edge id)`` per unbound one — only the
        ambiguous ones unless ``keep_unresolved``.

        Edges are memoised by what their resolution depends on, so each distinct
        question is answered once:

        - an import by (file, specifier, member, alias);
        - a ``self`` reference by (kind, target, class);
        - another reference by (kind, target, the innermost visible scope with a
          child named like its first segment): the ``local`` rule binds there,
          and every chain reaching that scope first sees the same scopes beyond
          it. With no such scope, by (kind, target, file): the ``import``,
          ``package`` and ``unique`` rules look at the file only. Inside a class
          of a ``members_in_scope`` language the class is part of the key too
          (the second ``self`` rule looks at its bases). Chains with
          namespaces (searched by ``package``) or adopted methods (their class
          inserted), and names of adopted members, are keyed by the source.

        This loop runs once per edge of the workspace: it stays flat on purpose.
        """
        memo, resolve, chains, files = self._memo, self._resolve, self._chains, self._file_keys
        binding_scope = self.table.binding_scope
        # complete table: names no file defines and no adopted member has are
        # answered here, without a call (most references name something elsewhere)
        file_names, adopted = self.table.local_names() if self.table.complete else (None, None)
        bound: list[tuple] = []
        unbound: list[tuple] = []
        for row in rows:
            edge_id, kind, source_id, target, file_id, member, alias, via_self, local = row
            if kind == "imports":
                key: tuple = (file_id, target, member, alias)
            elif local:
                if keep_unresolved:
                    unbound.append((None, 0, edge_id))
                continue
            else:
                sep, outer_classes, free_builtins, supers, scoped = files.get(
                    file_id
                ) or self._file_key(file_id)
                scopes = chains.get(source_id) or self.chain(source_id, sep)
                head = target.split(sep, 1)[0]
                if via_self or head in supers:
                    owner = scopes.self_class
                    key = (kind, target, -1 if owner is None else owner.id, "self", member)
                elif scopes.by_source:
                    key = (kind, target, source_id, "source")
                else:
                    if (
                        file_names is not None
                        and (file_id, head) not in file_names
                        and head not in adopted
                    ):
                        scope = None
                    else:
                        scope = binding_scope(file_id, head, scopes.scopes, outer_classes)
                    inside = scopes.self_class if outer_classes else None
                    if scope is None:
                        if inside is None and target in free_builtins:  # no rule binds it
                            if keep_unresolved:
                                unbound.append((None, 0, edge_id))
                            continue
                        key = (kind, target, file_id, "file")
                    elif scope is SOURCE:
                        key = (kind, target, source_id, "source")
                    else:
                        key = (kind, target, scope, "scope")
                    if inside is not None:  # what its bases inherit may bind it
                        # (not for a call marked as in an anonymous class body)
                        # (a supertype of its own: ``member``)
                        key = (*key, inside.id) if member is None else (*key, inside.id, member)
                    if scoped:  # imports written in the scopes around it bind too
                        visible = tuple(s.id for s in scopes.scopes if s.id in scoped)
                        if visible:
                            key = (*key, "imports", visible)
            found = memo.get(key)
            if found is None:
                found = memo[key] = resolve(new_edge(EdgeRow, row))
            if found.target_id is not None:
                bound.append((found.target_id, found.via, edge_id))
            elif keep_unresolved or found is not UNRESOLVED:
                unbound.append((found.ambiguous_via, found.candidates, edge_id))
        return bound, unbound

    def _file_key(
        self, file_id: int
    ) -> tuple[str, bool, frozenset[str], frozenset[str], frozenset[int]]:
        """What :meth:`resolve_rows` needs of a file: its language's separator,
        whether outer class scopes are visible, the builtins the file leaves
        alone — no import binds them and no ``*``/namespace import could: a
        reference naming one of those, defined nowhere in the file, can only stay
        unresolved (``package`` and ``unique`` never bind builtins) —, its
        language's ``super_heads`` (answered per class, like ``self``) and the
        scopes with imports of their own (:meth:`SymbolTable.import_groups`)."""
        spec = self._file_spec(file_id)[1]
        if spec is None:
            found = self._file_keys[file_id] = (".", False, NOTHING, NOTHING, _NO_SCOPES)
            return found
        scoped = frozenset(s for s in self.table.import_groups(file_id) if s is not None)
        digest = self.table.file_imports(file_id, spec, tuple(scoped))  # all of them
        free = NOTHING
        if not (digest.stars or digest.opened):
            free = spec.builtins - digest.aliases.keys() - digest.usable
        found = self._file_keys[file_id] = (
            spec.separator,
            spec.members_in_scope,
            free,
            spec.super_heads,
            scoped,
        )
        return found

    def _import_scopes(self, edge: EdgeRow, sep: str) -> tuple[int, ...]:
        """The scopes around ``edge`` (innermost first) with imports of their own."""
        scoped = (self._file_keys.get(edge.file_id) or self._file_key(edge.file_id))[4]
        if not scoped:
            return ()
        return tuple(s.id for s in self.chain(edge.source_id, sep).scopes if s.id in scoped)

    def _file_spec(self, file_id: int) -> tuple[FileInfo, LanguageSpec | None]:
        """The file and its language's spec (asked for every edge resolved)."""
        found = self._specs.get(file_id)
        if found is None:
            info = self.table.file(file_id)
            found = self._specs[file_id] = (info, self.languages.get(info.language))
        return found

    def _resolve(self, edge: EdgeRow) -> Resolution:
        info, spec = self._file_spec(edge.file_id)
        if spec is None:
            return UNRESOLVED
        if edge.kind == "imports":
            return self._resolve_import_edge(edge, info, spec)
        segments = edge.target.split(spec.separator)
        use_bases = edge.kind not in INHERITANCE
        if edge.kind in TYPE_EDGES:
            final = NOT_TYPES
        else:
            final = spec.uncallable if edge.kind == "calls" else NOTHING
        via_super = segments[0] in spec.super_heads and len(segments) > 1
        if not all(map(spec.is_identifier, segments[1:] if via_super else segments)):
            return UNRESOLVED
        try:
            if via_super:
                return self._rule_super(edge, segments[1:], use_bases, spec, final)
            if edge.via_self:
                return self._rule_self(edge, segments, use_bases, spec, final)
            for rule in _RULES:
                outcome = rule(self, edge, segments, use_bases, spec, info, final)
                if outcome is not None:
                    return outcome
        except _Stop:
            return UNRESOLVED
        return UNRESOLVED

    def _resolve_import_edge(self, edge: EdgeRow, info: FileInfo, spec: LanguageSpec) -> Resolution:
        member = edge.member
        if member is not None and member.endswith(f"{spec.separator}*"):
            member = member[:-2]  # Java ``import static p.Util.*``: the class
        row = ImportRow(edge.target, member, edge.alias, 0, 0)
        sym = self.binding(edge.file_id, row, True)
        if sym is None and member not in (None, "*"):
            module = self.table.module_of(edge.file_id, spec, edge.target)
            picked = (
                self._scope(module, spec.separator, info.language, edge.file_id) if module else None
            )
            sym = picked if isinstance(picked, Sym) else None
        return Resolution(sym.id, "import", None, 1) if sym is not None else UNRESOLVED

    @staticmethod
    def _head_exclude(segments: list[str], final: frozenset[str]) -> frozenset[str]:
        return final if len(segments) == 1 else NOT_CONTAINERS

    def _rule_self(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        final: frozenset[str],
    ) -> Resolution:
        sep = spec.separator
        cls = self.chain(edge.source_id, sep).self_class
        if cls is None:
            return UNRESOLVED
        found = self._member_of(cls, segments, use_bases, spec, final)
        return UNRESOLVED if found is None else found

    def _member_of(
        self,
        cls: Sym,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        final: frozenset[str],
    ) -> Resolution | None:
        """``segments`` as a member of ``cls``, bound as ``self``: its own member,
        then what it inherits; None when it has no member so named."""
        sep = spec.separator
        exclude = self._head_exclude(segments, final)
        if not spec.members_in_scope:  # (Python: the first base in order wins, as the MRO)
            found = self._class_member(cls, segments[0], True, set(), sep, exclude)
        else:
            found = self._class_member(cls, segments[0], False, set(), sep, exclude)
            if found is None:
                picked = self._inherited(cls, segments[0], sep, exclude, bare=False)
                if isinstance(picked, Resolution):
                    return picked
                found = picked
        if found is None:
            return None
        return self.follow(found, segments[1:], "self", use_bases, sep, final)

    def _rule_super(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        final: frozenset[str],
    ) -> Resolution:
        """``super().m()`` / ``super.m()``: the ``m`` the enclosing class inherits,
        never its own — for Python the first base (in order) that has one, as
        the MRO would find; where methods see their class's members (Java, JS)
        what :meth:`_inherited` finds. Recorded as ``self``."""
        if edge.member is not None:
            return UNRESOLVED  # written in a Java anonymous class body
        sep = spec.separator
        cls = self.chain(edge.source_id, sep).self_class
        if cls is None:
            return UNRESOLVED
        exclude = self._head_exclude(segments, final)
        found: Sym | None = None
        if spec.members_in_scope:
            picked = self._inherited(cls, segments[0], sep, exclude, bare=False)
            if isinstance(picked, Resolution):
                return picked
            found = picked
        else:
            for base_id in self.table.bases(cls.id):
                base = self.table.by_id(base_id)
                if base is not None and base.kind in CLASS_KINDS:
                    found = self._class_member(base, segments[0], True, {cls.id}, sep, exclude)
                    if found is not None:
                        break
        if found is None:
            return UNRESOLVED
        return self.follow(found, segments[1:], "self", use_bases, sep, final)

    def _rule_rooted(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
        final: frozenset[str],
    ) -> Resolution | None:
        """A path from a module the file fixes (``LanguageSpec.rooted_heads``:
        Rust ``crate::net::connect``, ``super::connect``): made absolute as a
        ``use`` of it would be, then the longest prefix naming a module (file or
        inline) leads to the rest. No name in scope can shadow such a head, and
        a path that does not lead anywhere is no other rule's either."""
        if segments[0] not in spec.rooted_heads or len(segments) < 2:
            return None
        sep = spec.separator
        absolute = self.table.module_of(edge.file_id, spec, edge.target)
        parts = absolute.split(sep) if absolute else []
        for k in range(len(parts) - 1, 0, -1):
            picked = self._scope(sep.join(parts[:k]), sep, info.language, edge.file_id)
            if isinstance(picked, Resolution):
                return picked
            if picked is not None:
                return self.follow(picked, parts[k:], "import", use_bases, sep, final)
        raise _Stop

    def _rule_local(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
        final: frozenset[str],
    ) -> Resolution | None:
        """The scope chain, innermost first. Where methods see their class's
        members (``members_in_scope``) each class is searched with what it
        inherits before the next outer scope: ``twice()`` in ``Circle.area`` is
        ``this.twice()`` when ``Circle`` inherits one, whatever a file, a
        namespace or an import outside the class calls ``twice`` (Java: the
        class scope hides static imports; C++: class scope before namespace
        scope). An own member binds as ``local``, an inherited one as ``self``.
        Never for ``inherits``/``implements`` edges (``use_bases`` False: their
        result must not depend on other bases) nor for a call in a Java
        anonymous class body (``member`` set, see :mod:`~sqry.graph.languages.java`):
        that class's own supertype, unseen, would come first."""
        head, sep, table = segments[0], spec.separator, self.table
        if edge.member is not None and edge.kind == "calls" and spec.members_in_scope:
            outcome = self._anonymous_supertype_member(edge, segments, use_bases, spec, final)
            if outcome is not None:
                return outcome
        chain = self.chain(edge.source_id, sep)
        local = chain.foreign or table.may_define_locally(edge.file_id, head)
        inherit = (
            use_bases
            and spec.members_in_scope
            and chain.self_class is not None
            and edge.member is None
        )
        if not (local or inherit):
            return None
        exclude = self._head_exclude(segments, final)
        scoped = self._import_scopes(edge, sep)
        for index, scope in enumerate(chain.scopes):
            if (
                scoped
                and scope.id in scoped
                and table.scope_binds(edge.file_id, spec, scope.id, head)
            ):
                # an import written in this scope binds the name here, before
                # any outer definition (Python's ``from m import f`` in a ``def``)
                outcome = self._rule_import(edge, segments, use_bases, spec, info, final)
                if outcome is not None:
                    return outcome
            if scope.kind in CLASS_KINDS:
                if index and not spec.members_in_scope:
                    continue
                found = (
                    self._class_member(scope, head, False, set(), sep, exclude) if local else None
                )
                if found is None and inherit:
                    picked = self._inherited(scope, head, sep, exclude, bare=True)
                    if isinstance(picked, Resolution):
                        return picked
                    if picked is not None:
                        return self.follow(picked, segments[1:], "self", use_bases, sep, final)
            elif local:
                picked = self._pick(table.children(scope.id, head), "local", exclude)
                if isinstance(picked, Resolution):
                    continue  # several same-named in one scope: an outer one may still bind
                found = picked
                if found is None and scope.kind == "namespace":
                    # a namespace is open: its members from other blocks and files
                    # are in scope here too, before anything outside it
                    picked = self._pick(
                        self._namespace_candidates(scope.qname, head, sep, info.language),
                        "package",
                        exclude,
                    )
                    if isinstance(picked, Resolution):
                        return picked
                    if picked is not None:
                        return self.follow(picked, segments[1:], "package", use_bases, sep, final)
            else:
                continue
            if found is not None:
                return self.follow(found, segments[1:], "local", use_bases, sep, final)
        return None

    def _anonymous_supertype_member(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        final: frozenset[str],
    ) -> Resolution | None:
        """A bare ``m()`` in a Java anonymous class body (``member``: its supertype
        as written): when that supertype is a workspace class with (or inheriting)
        an ``m``, that ``m`` is the one called (javac), never the enclosing
        class's. None when the supertype is not found or has no ``m``: then the
        enclosing scopes decide (the supertype may be outside the workspace)."""
        found = self._resolve(
            edge._replace(kind="inherits", target=edge.member, member=None, via_self=0)
        )
        supertype = self.table.by_id(found.target_id) if found.target_id is not None else None
        if supertype is None or supertype.kind not in CLASS_KINDS:
            return None
        return self._member_of(supertype, segments, use_bases, spec, final)

    def _rule_import(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
        final: frozenset[str],
    ) -> Resolution | None:
        head, sep = segments[0], spec.separator
        digest = self.table.file_imports(edge.file_id, spec, self._import_scopes(edge, sep))
        exclude = self._head_exclude(segments, final)
        row = digest.aliases.get(head)
        if row is not None:
            targets = {
                self._bound(edge.file_id, other, use_bases, exclude)
                for other in digest.rebound.get(head, (row,))
            }
            if len(targets) > 1:  # imports bind it to different things: no edge
                return Resolution(None, None, "import", len(targets))
            (target,) = targets
            if target is None:
                raise _Stop
            return self.follow(target, segments[1:], "import", use_bases, sep, final)
        if digest.usable:
            outside = False
            for k in range(len(segments), 0, -1):
                prefix = sep.join(segments[:k]) if k > 1 else head
                if prefix in digest.usable:
                    picked = self._scope(prefix, sep, info.language, edge.file_id)
                    if isinstance(picked, Resolution):
                        return picked
                    if picked is None:
                        # no such module here; a shorter prefix may still hold it
                        # as a member (``import os.path``: ``path`` is ``os``'s alias
                        # of ``posixpath``)
                        outside = True
                        continue
                    return self.follow(picked, segments[k:], "import", use_bases, sep, final)
            if outside:
                raise _Stop  # the module is outside the workspace
        if not (digest.stars or digest.opened):
            return None
        if spec.package_hides_stars:  # Java: a same-package class hides ``import a.*``'s
            outcome = self._rule_package(edge, segments, use_bases, spec, info, final)
            if outcome is not None:
                return outcome
        candidates: list[Sym] = []
        external_star = False
        for module in digest.stars:
            mods = self.table.modules(module) if module else _EMPTY
            if not mods:
                external_star = True
            elif spec.star_exports is not None:  # Python: what ``__all__`` or the
                # public names give, also what the module imports or takes by ``*``
                if self.table.star_exports(spec, module, head):
                    found = self._module_member(
                        module, head, use_bases, sep, 0, exclude, near=edge.file_id
                    )
                    if found is not None:
                        candidates.append(found)
                continue
            for mod in mods:
                candidates.extend(self.table.children(mod.id, head))
        for ns in digest.opened:
            candidates.extend(self._namespace_candidates(ns, head, sep, info.language))
        picked = self._pick(candidates, "import", exclude)
        if isinstance(picked, Resolution):
            return picked
        if picked is not None:
            return self.follow(picked, segments[1:], "import", use_bases, sep, final)
        if external_star:
            raise _Stop
        return None

    def _bound(
        self, file_id: int, row: ImportRow, use_bases: bool, exclude: frozenset[str]
    ) -> Sym | None:
        """:meth:`binding`, memoised per (file, import, use_bases, exclude)."""
        key = (file_id, row, use_bases, exclude)
        target = self._bindings.get(key, self)
        if target is self:
            target = self._bindings[key] = self.binding(file_id, row, use_bases, exclude=exclude)
        return target  # type: ignore[return-value]

    def _rule_package(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
        final: frozenset[str],
    ) -> Resolution | None:
        head, sep, table = segments[0], spec.separator, self.table
        exclude = self._head_exclude(segments, final)
        chain = self.chain(edge.source_id, sep)
        for scope in chain.scopes if chain.namespaces else ():
            if scope.kind == "namespace":  # open: other blocks and files add to it
                found = self._namespace_candidates(scope.qname, head, sep, info.language)
                picked = self._pick(found, "package", exclude)
                if isinstance(picked, Sym):
                    return self.follow(picked, segments[1:], "package", use_bases, sep, final)
        if spec.package_of is None or head in spec.builtins:
            return None
        key = (info.language, table.package_key(edge.file_id, spec))
        candidates = [
            sym
            for sym in table.top_level_by_package(head, spec).get(key, _EMPTY)
            if sym.file_id != edge.file_id
        ]
        picked = self._pick(candidates, "package", exclude)
        if picked is None or isinstance(picked, Resolution):
            return picked
        return self.follow(picked, segments[1:], "package", use_bases, sep, final)

    def _rule_unique(
        self,
        edge: EdgeRow,
        segments: list[str],
        use_bases: bool,
        spec: LanguageSpec,
        info: FileInfo,
        final: frozenset[str],
    ) -> Resolution | None:
        key = (info.language, edge.target, final)
        found = self._unique.get(key, self)
        if found is self:
            found = self._unique[key] = self._unique_rule(edge, segments, spec, info, final)
        if type(found) is list:  # some candidates are private to their file
            found = self._unique_pick(
                [s for s in found if not s.private or s.file_id == edge.file_id], final
            )
        return found

    def _unique_rule(
        self,
        edge: EdgeRow,
        segments: list[str],
        spec: LanguageSpec,
        info: FileInfo,
        final: frozenset[str],
    ) -> Resolution | list[Sym] | None:
        """The ``unique`` rule proper: a function of (language, target, kinds),
        except that a private definition (a C ``static`` function, one in a C++
        anonymous namespace, an unexported Go name, a Rust item without ``pub``)
        is no candidate outside its own file: then the candidates are returned
        for :meth:`_rule_unique` to filter per file. A C/C++ header's ``static
        inline`` functions are every includer's (``LanguageSpec.private_shared``)."""
        sep = spec.separator
        if segments[0] in spec.builtins:  # ``Math.max`` in Java is java.lang's
            return None
        if len(segments) == 1:
            # a namespace's member is reached from outside it only through a
            # qualifier or a ``using`` (the ``import`` rule), never by bare name
            candidates = [
                s
                for s in self._same_language(self.table.top_level(segments[0]), info.language)
                if s.parent_kind != "namespace"
            ]
        else:
            suffix = sep + edge.target
            candidates = [
                s
                for s in self._same_language(self.table.named(segments[-1]), info.language)
                if s.qname.endswith(suffix) or s.qname == edge.target
            ]
        shared = spec.private_shared
        if any(s.private for s in candidates):
            candidates = [
                s._replace(private=False)
                if s.private and shared is not None and shared(self.table.file(s.file_id).path)
                else s
                for s in candidates
            ]
            if any(s.private for s in candidates):
                return candidates
        return self._unique_pick(candidates, final)

    def _unique_pick(self, candidates: list[Sym], final: frozenset[str]) -> Resolution | None:
        picked = self._pick(candidates, "unique", final)
        if picked is None or isinstance(picked, Resolution):
            return picked
        return Resolution(picked.id, "unique", None, 1)


# The rules after ``self``, in order (plain functions: bound methods kept on the
# resolver would make it a reference cycle, freed only by the cycle collector).
_RULES = (
    Resolver._rule_rooted,
    Resolver._rule_local,
    Resolver._rule_import,
    Resolver._rule_package,
    Resolver._rule_unique,
)


# -- driving a build's resolution


def _edge_batches(conn, where: str, params: tuple = ()) -> Iterator[list[tuple]]:  # noqa: ANN001
    """Edge rows (``EDGE_COLUMNS``) matching ``where`` in id order, a batch at a
    time (bounded memory)."""
    last = 0
    while True:
        rows = conn.execute(
            f"SELECT {EDGE_COLUMNS} FROM edges WHERE id > ? AND ({where}) ORDER BY id LIMIT {BATCH}",
            (last, *params),
        ).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _write_resolutions(conn, bound: list[tuple], unbound: list[tuple]) -> None:  # noqa: ANN001
    """Store ``Resolver.resolve_rows`` output, one ``UPDATE`` per edge (bound and
    unbound edges apart: fewer parameters to bind for the many bound ones)."""
    conn.executemany(
        "UPDATE edges SET target_id = ?, resolved_via = ?, ambiguous_via = NULL, "
        "candidates = 1 WHERE id = ?",
        bound,
    )
    conn.executemany(
        "UPDATE edges SET target_id = NULL, resolved_via = NULL, ambiguous_via = ?, "
        "candidates = ? WHERE id = ?",
        unbound,
    )


def _resolve_edges(conn, resolver: Resolver, batches: Iterator[list[tuple]], *, fresh: bool) -> int:  # noqa: ANN001
    """Resolve and store every edge of ``batches``; return how many there were."""
    count = 0
    for batch in batches:
        resolver.forget()
        _write_resolutions(conn, *resolver.resolve_rows(batch, keep_unresolved=not fresh))
        count += len(batch)
    return count


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


def _edges_inside(conn: sqlite3.Connection, classes: set[int]) -> set[int]:
    """The resolvable edges written inside ``classes`` (their methods, nested
    classes...) in languages whose methods see members by bare name.

    A bare ``twice()`` there may bind to what a base inherits (the second
    ``self`` rule), yet its lookup names say nothing of the class: when the
    class's bases change in another file, nothing else would make it dirty.
    """
    languages = sorted(n for n, s in all_languages().items() if s.members_in_scope)
    if not classes or not languages:
        return set()
    table = temp_ids(conn, "t_inside", classes)
    marks = ", ".join("?" * len(languages))
    return {
        r[0]
        for r in conn.execute(
            "WITH RECURSIVE inside(id) AS ("
            f" SELECT t.id FROM {table} t JOIN symbols s ON s.id = t.id"
            f" JOIN files f ON f.id = s.file_id WHERE f.language IN ({marks})"
            " UNION SELECT s.id FROM inside i JOIN symbols s ON s.parent_id = i.id)"
            " SELECT e.id FROM inside i JOIN edges e ON e.source_id = i.id"
            " WHERE e.kind NOT IN ('contains', 'imports', 'inherits', 'implements')"
            " AND e.bound_locally = 0",
            languages,
        )
    }


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Pause Python's cycle collector for the block.

    Resolution allocates millions of short-lived tuples next to a symbol table of
    every definition; each full collection re-traverses that table (about a
    third of the CPU time on the stdlib). Nothing here builds reference cycles,
    so reference counting alone frees what the block drops.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def resolve_full(
    conn: sqlite3.Connection,
    table: SymbolTable | None = None,
    *,
    workers: int = 1,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Resolve every edge of a freshly written index (nothing resolved yet).

    ``table``: the symbols, if the writer streamed them into one (see
    :meth:`SymbolTable.add_file`); else they are read from the index.
    ``workers`` > 1 resolves in that many forked processes (see
    :func:`_resolve_forked`); ``meanwhile`` then runs in this process while they
    work (the build recreates its secondary indexes there) — else it runs first.
    """
    with _without_cycle_collector():
        _resolve_full(conn, table or SymbolTable(conn, preload=True), workers, meanwhile)


def _resolve_full(
    conn: sqlite3.Connection,
    table: SymbolTable,
    workers: int,
    meanwhile: Callable[[], None] | None,
) -> None:
    resolver = Resolver(table, all_languages())
    kinds = "kind IN ('inherits', 'implements')"
    _resolve_edges(conn, resolver, _edge_batches(conn, kinds), fresh=True)
    resolver.table.load_all_bases()
    # Locally bound references never resolve: a fresh build need not even read them.
    others = "kind NOT IN ('contains', 'inherits', 'implements') AND bound_locally = 0"
    batches = _edge_batches(conn, others)
    if workers > 1 and can_fork():
        _resolve_forked(conn, resolver, batches, workers, meanwhile)
        return
    if meanwhile is not None:
        meanwhile()
    _resolve_edges(conn, resolver, batches, fresh=True)


def _resolve_forked(
    conn: sqlite3.Connection,
    resolver: Resolver,
    batches: Iterator[list[tuple]],
    workers: int,
    meanwhile: Callable[[], None] | None,
) -> None:
    """Resolve ``batches`` in ``workers`` forked children; write the results here.

    A full build's resolution is pure computation over the symbol table, which
    is complete in memory by now: children forked at this point share it
    copy-on-write, so nothing is sent to them. Each answers its share of the
    batches into a pipe; this process meanwhile runs ``meanwhile`` (index
    creation) and then writes the answers — the only SQLite writer stays this
    process, and the children never touch the inherited connection (they end
    with ``os._exit``). A single batch is resolved here (no fork pays for
    itself on a workspace that small), and never more children than batches. Batches are taken a round of at most
    :data:`FORK_ROUND` edges at a time (bounded memory: the round's rows are
    held in memory). A child that fails (killed, out of memory) has its share
    resolved here instead, so the result never depends on it.
    """
    pending = meanwhile
    exhausted = False
    while not exhausted:
        round_batches, exhausted = _take_round(batches)
        if len(round_batches) <= 1:  # forking for one batch costs more than it saves
            if pending is not None:
                pending()
                pending = None
            _resolve_edges(conn, resolver, iter(round_batches), fresh=True)
            continue
        shares = [round_batches[k::workers] for k in range(min(workers, len(round_batches)))]
        children: list[_Child | None] = []
        try:
            for share in shares:
                children.append(_Child.fork(resolver, share))
            if pending is not None:
                pending()
                pending = None
            for child, share in zip(children, shares, strict=True):
                answers = child.collect() if child is not None else None
                if answers is None:  # no child, or it failed: its share is done here
                    answers = [_resolve_batch(resolver, batch) for batch in share]
                for bound, unbound in answers:
                    _write_resolutions(conn, bound, unbound)
        finally:
            for child in children:
                if child is not None:
                    child.abandon()


def _take_round(batches: Iterator[list[tuple]]) -> tuple[list[list[tuple]], bool]:
    """The next batches holding up to :data:`FORK_ROUND` edges, and whether
    ``batches`` is exhausted."""
    taken: list[list[tuple]] = []
    held = 0
    for batch in batches:
        taken.append(batch)
        held += len(batch)
        if held >= FORK_ROUND:
            return taken, False
    return taken, True


def _resolve_batch(resolver: Resolver, batch: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    resolver.forget()
    return resolver.resolve_rows(batch, keep_unresolved=False)


class _Child:
    """A forked resolution child and the read end of the pipe it answers into.

    ``pid`` and ``read_fd`` are cleared once reaped and closed, so a failure
    anywhere in the parent never signals a reaped (maybe reused) pid or closes
    a descriptor twice.
    """

    def __init__(self, pid: int, read_fd: int) -> None:
        self.pid: int | None = pid
        self.read_fd: int | None = read_fd

    @classmethod
    def fork(cls, resolver: Resolver, share: list[list[tuple]]) -> _Child | None:
        """Fork a child that resolves ``share`` and pickles the answers into a
        pipe; None when the system refuses a pipe or a process (the parent then
        resolves the share itself)."""
        try:
            read_fd, write_fd = os.pipe()
        except OSError:
            return None
        builder = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid:
            os.close(write_fd)
            return cls(pid, read_fd)
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent ends it
            enter_build_child(builder)
            os.close(read_fd)
            resolver.table.conn = None  # type: ignore[assignment]  # never the parent's
            answers = [_resolve_batch(resolver, batch) for batch in share]
            data = pickle.dumps(answers, pickle.HIGHEST_PROTOCOL)
            with open(write_fd, "wb") as pipe:
                pipe.write(data)
            code = 0
        except Exception as exc:  # the parent redoes the share: one line says why
            sys.stderr.write(
                f"sqry: a resolution worker failed ({type(exc).__name__}: {exc}); "
                "its share is resolved in the main process\n"
            )
        finally:
            os._exit(code)

    def collect(self) -> list[tuple[list[tuple], list[tuple]]] | None:
        """The child's answers, or None if it failed (killed, out of memory)."""
        assert self.pid is not None and self.read_fd is not None
        read_fd, self.read_fd = self.read_fd, None
        with open(read_fd, "rb") as pipe:
            data = pipe.read()
        pid, self.pid = self.pid, None
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        return pickle.loads(data)  # complete: the child exits 0 only after writing it all

    def abandon(self) -> None:
        """Close, kill and reap whatever of the child is left (the parent failed)."""
        if self.read_fd is not None:
            os.close(self.read_fd)
            self.read_fd = None
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = None


def resolve_incremental(
    conn: sqlite3.Connection, dirty: set[int], new_classes: list[int], old: OldClasses
) -> int:
    """Re-resolve the ``dirty`` edges after an incremental build, and what they
    imply; return how many edges were re-resolved.

    ``new_classes``: ids of the class symbols the build wrote; ``old``: what the
    classes of the re-parsed and deleted files were (see :func:`_reshaped`).
    """
    with _without_cycle_collector():
        return _resolve_incremental(conn, dirty, new_classes, old)


def _resolve_incremental(
    conn: sqlite3.Connection, dirty: set[int], new_classes: list[int], old: OldClasses
) -> int:
    table = SymbolTable(conn, preload=len(dirty) > PRELOAD_MIN)
    resolver = Resolver(table, all_languages())
    ids = temp_ids(conn, "t_dirty", dirty)
    inherit_where = f"kind IN ('inherits', 'implements') AND id IN (SELECT id FROM {ids})"
    kept = {  # classes of unchanged files with a base to re-resolve
        r[0]
        for r in conn.execute(
            f"SELECT e.source_id FROM {ids} t JOIN edges e ON e.id = t.id "
            "WHERE e.kind IN ('inherits', 'implements')"
        )
    }.difference(new_classes)
    before = _shapes_of(conn, kept, old)
    count = _resolve_edges(conn, resolver, _edge_batches(conn, inherit_where), fresh=False)
    closure = _subclass_closure(conn, _reshaped(conn, before, new_classes, old))
    names_table = temp_ids(conn, "t_closure", closure)
    class_names = {
        r[0]
        for r in conn.execute(f"SELECT s.name FROM {names_table} t JOIN symbols s ON s.id = t.id")
    }
    dirty |= edges_naming(conn, class_names)
    dirty |= _edges_inside(conn, closure)
    ids = temp_ids(conn, "t_dirty", dirty)
    table.forget_bases()
    if table.complete:
        table.load_all_bases()
    others = f"kind NOT IN ('contains', 'inherits', 'implements') AND id IN (SELECT id FROM {ids})"
    return count + _resolve_edges(conn, resolver, _edge_batches(conn, others), fresh=False)


def _shapes_of(
    conn: sqlite3.Connection, classes: Iterable[int], old: OldClasses
) -> dict[int, Shape]:
    """The :data:`~sqry.graph.writer.Shape` of each of ``classes`` as the index
    holds it now (bases deleted by this build: as ``old`` recorded them)."""
    table = temp_ids(conn, "t_shapes", classes)
    where = f"c.id IN (SELECT id FROM {table})"
    return {cid: shape for cid, (_key, shape) in class_shapes(conn, where, (), old.types).items()}


def _reshaped(
    conn: sqlite3.Connection, before: dict[int, Shape], new_classes: list[int], old: OldClasses
) -> set[int]:
    """The classes whose shape (kind, template flag, resolved bases) changed: what
    may resolve otherwise in them and their subclasses. Call once inheritance
    edges are re-resolved.

    ``before``: the shapes of classes of unchanged files whose bases were just
    re-resolved. A re-parsed class is compared with the ones its file had under
    its qualified name (position order; none: it is new). Re-parsing alone
    changes nothing here — a comment edit in a base class leaves its thousands
    of subclasses alone; a member it gained or lost is a changed name, and
    edges bound to its old symbols were dirty anyway (see
    :meth:`~sqry.graph.writer.IndexWriter.dirty_edges`).
    """
    changed = {cid for cid, shape in _shapes_of(conn, before, old).items() if before[cid] != shape}
    table = temp_ids(conn, "t_shapes", new_classes)
    where = f"c.id IN (SELECT id FROM {table})"
    by_key: dict[tuple[int, str], list[tuple[int, Shape]]] = {}
    for cid, (key, shape) in class_shapes(conn, where, (), old.types).items():
        by_key.setdefault(key, []).append((cid, shape))
    for key, found in by_key.items():
        if [shape for _cid, shape in found] != old.shapes.get(key):
            changed.update(cid for cid, _shape in found)
    return changed
