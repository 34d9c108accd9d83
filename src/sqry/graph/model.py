"""Plain data that flows from a language extractor to the indexer.

A language module turns one parsed file into a :class:`FileFacts`: the symbols it
defines and the *unresolved* references it makes (calls, imports, bases, return
types). Resolution to target symbols happens later, across the whole workspace,
so extractors never look outside their own file. Everything here must be
picklable: facts travel from the parsing process pool to the single writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SYMBOL_KINDS = frozenset(
    "module function method class interface trait struct enum enum_variant type "
    "constant variable field macro namespace".split()
)
#: Kinds whose members a ``self``/``this`` call and a field reach.
CLASS_KINDS = frozenset({"class", "interface", "trait", "struct", "enum"})
VISIBILITIES = frozenset({"public", "private", "protected", "internal"})
REF_KINDS = frozenset({"calls", "imports", "inherits", "implements", "returns"})
EDGE_KINDS = REF_KINDS | {"contains"}
RESOLVED_VIA = ("local", "import", "self", "package", "unique")


@dataclass(slots=True)
class Symbol:
    """One definition. ``local_id`` is its index in ``FileFacts.symbols``.

    Lines are 1-based, columns 0-based (tree-sitter points + 1 on the row).
    ``parent`` is the ``local_id`` of the enclosing symbol; ``None`` only for the
    file's root ``module`` symbol, which every file has at ``local_id`` 0.
    """

    local_id: int
    kind: str
    name: str
    qualified_name: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    parent: int | None = None
    signature: str = ""
    visibility: str = "public"
    is_async: bool = False
    is_static: bool = False
    doc: str = ""


@dataclass(slots=True)
class Reference:
    """An unresolved use of a name, kept as written so later changes can bind it.

    ``kind``: one of :data:`REF_KINDS`.
    ``source``: ``local_id`` of the symbol the reference appears in (the module
    symbol for file-level code).
    ``target``: the name as written, normalised to the language's separator
    removed of call syntax: ``foo``, ``os.path.join``, ``Base``, ``pkg::mod::f``.
    For ``imports`` it is the module specifier as written (``os.path``,
    ``./util``, ``fmt``, ``crate::a::b``, ``java.util.List``, ``stdio.h``).
    ``member``: for imports of one name out of a module (``from m import x``,
    ``import {x} from "m"``), that name; ``None`` for whole-module imports.
    ``alias``: the local name the import binds (``np`` in ``import numpy as np``;
    ``x`` in ``from m import x``); ``None`` when it binds nothing new.
    ``via_self``: the call's receiver is the enclosing method's own instance or
    class (``self.m()``, ``cls.m()``, ``this.m()``, ``this->m()``, a Go method's
    receiver variable, Rust ``self.m()``/``Self::m()``); ``target`` then holds
    only the member name.
    ``bound_locally``: the first segment of ``target`` names a local binding the
    extractor does not model as a symbol (a parameter, a local variable, a loop
    or ``with`` target) in the nearest scope that binds it. The resolver then
    never binds the reference through imports, package or unique lookups: a
    parameter ``callback`` must not resolve to some global ``callback``.
    ``reexport``: an import that binds nothing in its own file, only exports
    (JS/TS ``export {a} from "./x"``, ``export * from``, ``export {a as b}``):
    the resolver follows it for the module's members, never for the file's own
    references.
    """

    kind: str
    source: int
    target: str
    line: int
    column: int
    member: str | None = None
    alias: str | None = None
    via_self: bool = False
    bound_locally: bool = False
    reexport: bool = False


@dataclass(slots=True)
class FileFacts:
    """Everything one file contributes to the graph, before resolution."""

    path: str  # workspace-relative, POSIX separators
    language: str
    module_name: str  # qualified name of the file's root module symbol
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    error: str | None = None  # recorded per file; never fails the build
    # The names a ``*`` import of this file's module takes, when the file lists
    # them (Python's literal ``__all__``); None: the language's rule decides
    # (``LanguageSpec.star_exports``). For JS/TS, what an ES module exports under
    # its own name (``LanguageSpec.exports_listed``).
    star_names: tuple[str, ...] | None = None
