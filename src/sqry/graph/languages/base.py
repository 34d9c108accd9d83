"""The contract between the indexing core and one language module.

Each module in :mod:`sqry.graph.languages` (other than this one) defines a
module-level ``LANGUAGE = LanguageSpec(...)``. :func:`all_languages` finds them by
walking the package, so adding a ninth language means adding one module and
nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
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
def language_for_extension(ext: str) -> LanguageSpec | None:
    """The language that claims file extension ``ext`` (with the dot, lower case)."""
    for spec in all_languages().values():
        if ext in spec.extensions:
            return spec
    return None
