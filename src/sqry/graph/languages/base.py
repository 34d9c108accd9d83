"""The contract between the indexing core and one language module.

Each module in :mod:`sqry.graph.languages` (other than this one) defines a
module-level ``LANGUAGE = LanguageSpec(...)``. :func:`all_languages` finds them by
walking the package, so adding a ninth language means adding one module and
nothing else.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tree_sitter is imported lazily: the client path never needs it
    import tree_sitter

    from sqry.graph.model import FileFacts


@dataclass(frozen=True)
class LanguageSpec:
    """What the core needs to know about one language.

    ``grammar`` returns the tree-sitter ``Language`` (called once per process).
    ``extract(tree, source, path, module_name)`` walks a parsed tree and returns the
    file's :class:`~sqry.graph.model.FileFacts`; ``source`` is the raw bytes.
    ``module_name(path)`` maps a workspace-relative POSIX path to the qualified
    name of the file's module symbol. ``import_module(path, spec)`` maps an import
    specifier as written in ``path`` to the module name it refers to (relative
    specifiers made absolute), or ``None`` when it leaves the workspace or cannot
    be known. ``separator`` joins qualified-name segments (``.`` or ``::``).
    ``grammar_for(path)`` optionally picks a different grammar by file name (TSX).

    ``module_name`` and ``import_module`` must depend only on their arguments
    and the workspace: the resolver calls them in whatever process and working
    directory it runs in. A language that needs a workspace file to answer (Go's
    ``go.mod``) reads it under :func:`workspace_root`, never under
    ``os.getcwd()``, caches it per :func:`workspace_session`, and names it in
    ``config_files`` (below) so that a change re-indexes the language.

    Knobs tune the language-agnostic resolver (:mod:`sqry.graph.resolve`):
    ``builtins`` are names the language provides without a definition in the
    workspace (Python's ``len``, ``print``); a bare call to one that is not
    defined locally or imported stays unresolved instead of binding to a
    same-named definition elsewhere through the ``package``/``unique`` rules.
    ``members_in_scope`` says whether code inside a method sees its class's
    members by bare name (Java, C++, C#: ``foo()`` may mean ``this.foo()``);
    Python sets it False because there a bare ``foo()`` in a method never means
    the method ``self.foo``.

    ``package_of(path, module_name)`` gives the key of the package a file belongs
    to for the ``package`` rule: files with equal keys see each other's top-level
    definitions without an import (Java: the declared package; Go: the package
    directory). ``None`` (the default) means the language has no such rule —
    a file sees only what it defines or imports (Python and JS/TS modules, C/C++
    files), and
    a wrong guess is worse than no edge.
    ``is_identifier(segment)`` says whether one segment of a reference target can
    name a definition (JS ``#private`` and ``$``-names are not Python identifiers).
    ``dialects`` are the other languages the extractor may report in
    ``FileFacts.language`` (C hands plainly-C++ ``.h`` headers to the C++
    extractor): a file stored under one of them was still indexed by this spec.
    ``imports_qualify`` says whether a whole-module import makes the module's
    name and its prefixes usable as qualifiers (Python ``import a.b`` makes
    ``a.b.f()`` work); False for C, whose ``#include "log.h"`` binds no name (so
    ``log()`` is not taken for a member of a module ``log``).
    ``star_exports(name, declared)`` says whether a ``*`` import of a module
    takes ``name`` — ``declared`` being the names the module lists for that
    (``FileFacts.star_names``: Python's ``__all__``), None when it lists none —
    both into the importing file and, re-exported, into its module (Python's
    ``from .impl import *`` in a package ``__init__``: ``__all__`` or else the
    public names; JS/TS ``export * from "./impl"``: all but ``default``; Rust
    ``use m::*``: everything, ``m``'s ``pub use`` re-exports included).
    ``None`` (the default): a ``*`` import binds every name the module defines
    but re-exports nothing (Java on-demand imports, Go dot-imports).
    ``rooted_heads`` are first segments that make a reference path start at a
    module the file fixes rather than at a name in scope (Rust ``crate::a::f``,
    ``super::f``, ``self::f``): the resolver makes such a path absolute with
    ``import_module`` — as a ``use`` of it — before any other rule, since no
    name can shadow those keywords. Empty (the default): the language has none.
    ``super_heads`` are first segments that name the enclosing class's bases
    (Python ``super()``, Java and JS/TS ``super``): ``super().m()`` binds the ``m``
    the class inherits, never its own. Empty (the default): the language has none.
    ``exports_listed``: another module imports a module's own definitions by
    name only when its file lists them in ``FileFacts.star_names`` (JS/TS: an
    ES module's exports under their own names; a file that lists none, a
    script, exports everything). False (the default): every top-level
    definition is importable (Python's ``from m import _x`` works).
    ``later_definition_wins``: of several definitions of one qualified name in
    a file, the last one written is what references bind (Python: a later
    ``def f`` replaces an earlier one, an ``@overload`` stub's implementation
    comes last). False (the default): the first (C++/Java/TS overloads and
    declarations all name one function; the first is where it is described).
    ``private_shared(path)`` says whether the private definitions of the file
    at ``path`` still reach other files (a C/C++ header's ``static inline``
    functions are every includer's); elsewhere a private definition is no
    ``unique`` candidate outside its own file.
    ``opens_namespace(target)`` says whether a whole-module import of ``target``
    opens a namespace (C++ ``using namespace std;``): one the workspace does not
    define may supply any name, so a name nothing else binds stays unresolved
    there, as under a ``*`` import of a module outside the workspace.
    ``package_hides_stars``: a definition of the file's own package comes
    before what its ``*`` imports bring (Java: single-type imports, then the
    package, then on-demand imports).
    ``uncallable``: kinds a call never binds, in languages where a call can only
    mean a method or function (Java, whose fields, constants and enum constants
    live apart from its methods, so a getter ``size()`` and a field ``size``
    coexist; Rust, whose ``s.len()`` is always the method, a field being called
    as ``(s.f)()``): a candidate of those kinds is skipped as if absent. Empty
    (the default): a field may hold something callable.
    ``config_files`` names the workspace files the hooks read (Go: ``go.mod``),
    looked for in the directory of every file of the language and its
    ancestors: when their contents change, every file of the language is
    re-indexed (what its hooks answered may have changed).
    """

    name: str
    extensions: tuple[str, ...]
    grammar: Callable[[], tree_sitter.Language]
    extract: Callable[[tree_sitter.Tree, bytes, str, str], FileFacts]
    module_name: Callable[[str], str]
    import_module: Callable[[str, str], str | None]
    separator: str = "."
    shebangs: tuple[str, ...] = ()
    grammar_for: Callable[[str], tree_sitter.Language] | None = None
    builtins: frozenset[str] = frozenset()
    members_in_scope: bool = True
    package_of: Callable[[str, str], str] | None = None
    is_identifier: Callable[[str], bool] = str.isidentifier
    dialects: tuple[str, ...] = ()
    imports_qualify: bool = True
    star_exports: Callable[[str, frozenset[str] | None], bool] | None = None
    rooted_heads: frozenset[str] = frozenset()
    super_heads: frozenset[str] = frozenset()
    exports_listed: bool = False
    later_definition_wins: bool = False
    config_files: tuple[str, ...] = ()
    private_shared: Callable[[str], bool] | None = None
    opens_namespace: Callable[[str], bool] | None = None
    package_hides_stars: bool = False
    uncallable: frozenset[str] = frozenset()


def package_is_module(path: str, module_name: str) -> str:
    """``package_of`` for languages whose module *is* the package (Java's declared
    package, Go's package directory): files of one module see each other."""
    return module_name


_WORKSPACE_ROOT: ContextVar[str | None] = ContextVar("sqry_workspace_root", default=None)
_WORKSPACE_SESSION: ContextVar[int] = ContextVar("sqry_workspace_session", default=0)
_SESSIONS = itertools.count(1)


def workspace_root() -> str | None:
    """Absolute path of the workspace being indexed, or None outside a build.

    Set by the engine around extraction and resolution (in the main process and
    in every worker), so language hooks can read workspace files such as
    ``go.mod`` without depending on the current directory.
    """
    return _WORKSPACE_ROOT.get()


def workspace_session() -> int:
    """A number that is new each time :func:`using_workspace` is entered.

    A hook that caches what it read from a workspace file (Go's ``go.mod``)
    keys the cache on it: one build then reads the file once, while the next
    build in the same long-lived process (sqryd, the library API) sees an edit
    made in between instead of the old content.
    """
    return _WORKSPACE_SESSION.get()


@contextmanager
def using_workspace(root: str) -> Iterator[None]:
    """Make :func:`workspace_root` answer ``root`` for the duration of the block
    (and :func:`workspace_session` a fresh number)."""
    token = _WORKSPACE_ROOT.set(root)
    session = _WORKSPACE_SESSION.set(next(_SESSIONS))
    try:
        yield
    finally:
        _WORKSPACE_SESSION.reset(session)
        _WORKSPACE_ROOT.reset(token)


@cache
def all_languages() -> dict[str, LanguageSpec]:
    """Every language module in this package, by language name."""
    import sqry.graph.languages as pkg

    found: dict[str, LanguageSpec] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        spec = getattr(module, "LANGUAGE", None)
        if isinstance(spec, LanguageSpec):
            found[spec.name] = spec
    return found


@cache
def language_names() -> frozenset[str]:
    """The names of the supported languages, without importing their modules.

    A language's module is named after it (``python.py`` holds the ``python``
    spec; ``tests/graph/test_discovery.py`` checks this matches
    :func:`all_languages`), so listing the package is enough. For checking a
    user's ``--lang`` cheaply: importing the modules loads every grammar.
    """
    import sqry.graph.languages as pkg

    return frozenset(
        info.name
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_") and info.name != "base"
    )


@cache
def language_for_extension(ext: str) -> LanguageSpec | None:
    """The language that claims file extension ``ext`` (with the dot, lower case)."""
    for spec in all_languages().values():
        if ext in spec.extensions:
            return spec
    return None
