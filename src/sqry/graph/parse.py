"""Per-file work of a build: read, hash, parse, extract — run in worker processes.

:func:`process_chunk` is what the process pool runs. It returns compact
:class:`FileResult` values (tuples inside, no tree-sitter objects) because every
result is pickled back to the single writer in the main process. Parsers are
cached per process and per grammar.

Nothing here raises for a bad file: an unreadable file, invalid UTF-8 (without
a coding declaration that explains it), an extractor exception or a file that
blows the per-file time budget (``$SQRY_FILE_TIME_BUDGET_SECS``, default 20)
becomes a result with ``error`` set and no facts.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqry.graph.languages.base import LanguageSpec, all_languages, using_workspace
from sqry.graph.model import CLASS_KINDS
from sqry.graph.timebox import time_limit

if TYPE_CHECKING:
    import tree_sitter

    from sqry.graph.model import FileFacts, Reference

TIME_BUDGET_ENV = "SQRY_FILE_TIME_BUDGET_SECS"
DEFAULT_TIME_BUDGET = 20.0
MAX_TIME_BUDGET = 3600.0  # an hour for one file is no budget at all
UTF8_BOM = b"\xef\xbb\xbf"
BUDGET_ERROR = "took longer than the "  # how a file's error starts when it blew the budget
SCOPE_KINDS = frozenset({"module", "namespace"})  # their direct definitions are "top level"
_CODING = re.compile(rb"^[ \t\f]*[#/*;-].*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)

# (kind, name, qualified_name, start_line, start_column, end_line, end_column,
#  parent_local_id, signature, visibility, is_async, is_static, doc, local_id)
# -- in the column order the writer's INSERT binds them, ids file-relative
SymbolRow = tuple
# (kind, source_local_id, target, line, column, member, alias, via_self,
#  bound_locally, lookup, reexport) -- ``lookup``: the reference's lookup names
#  joined by LOOKUP_SEPARATOR (names are one line), stored in ``edges.lookup``;
#  in the column order the writer's INSERT binds them
RefRow = tuple
LOOKUP_SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class FileJob:
    """One file to (re)index; ``old_hash`` lets an unchanged file skip parsing."""

    path: str
    abspath: str
    language: str
    size: int = 0
    old_hash: str | None = None


@dataclass(slots=True)
class FileResult:
    """What one file contributes, ready for the writer.

    ``status``: ``parsed`` (facts present, maybe with a recovered ``error``),
    ``same`` (content hash unchanged: only size/mtime to refresh), ``failed``
    (``error`` set, no facts), ``gone`` (vanished since discovery).
    """

    path: str
    language: str
    status: str
    size: int = 0
    mtime_ns: int = 0
    hash: str = ""
    module: str = ""
    error: str | None = None
    symbols: list[SymbolRow] = field(default_factory=list)
    refs: list[RefRow] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # union of the refs' lookup names
    star_names: str | None = None  # FileFacts.star_names, newline-separated


class BudgetExceeded(Exception):
    """Raised by the timer signal when one file takes longer than its budget."""


_parsers: dict[object, tree_sitter.Parser] = {}


def _parser_for(spec: LanguageSpec, path: str) -> tree_sitter.Parser:
    """A cached parser for the grammar ``spec`` uses for ``path``."""
    import tree_sitter

    language = spec.grammar_for(path) if spec.grammar_for is not None else None
    key = (spec.name, id(language)) if language is not None else spec.name
    parser = _parsers.get(key)
    if parser is None:
        parser = tree_sitter.Parser(language if language is not None else spec.grammar())
        _parsers[key] = parser
    return parser


def time_budget() -> float:
    """The per-file budget in seconds: ``$SQRY_FILE_TIME_BUDGET_SECS`` or 20.

    Raises :class:`~sqry.graph.discovery.DiscoveryConfigError` for a value that is
    not a number of seconds in (0, :data:`MAX_TIME_BUDGET`]: a typo must not
    silently index with another budget, and the interval timer cannot take more.
    """
    raw = os.environ.get(TIME_BUDGET_ENV, "").strip()
    if not raw:
        return DEFAULT_TIME_BUDGET
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_TIME_BUDGET:  # also refuses nan
        from sqry.graph.discovery import DiscoveryConfigError

        raise DiscoveryConfigError(
            f"{TIME_BUDGET_ENV}={raw!r} is not a number of seconds in (0, {MAX_TIME_BUDGET:g}]; "
            f"unset it or set e.g. {TIME_BUDGET_ENV}={DEFAULT_TIME_BUDGET:g}"
        )
    return value


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def to_utf8(data: bytes) -> tuple[bytes | None, str | None]:
    """``data`` as UTF-8, transcoded if a coding declaration says so; else an error."""
    try:
        data.decode("utf-8")
        return data, None
    except UnicodeDecodeError as exc:
        bad = exc.start
    head = b"\n".join(data.split(b"\n", 2)[:2])
    match = _CODING.search(head)
    if match:
        codec = match.group(1).decode("ascii", "replace")
        try:
            return data.decode(codec).encode("utf-8"), None
        except (LookupError, UnicodeDecodeError):
            pass
    line = data.count(b"\n", 0, bad) + 1
    column = bad - (data.rfind(b"\n", 0, bad) + 1)
    return None, (
        f"invalid UTF-8 at line {line}, column {column + 1} (byte {bad}); "
        "save the file as UTF-8, or name its encoding in a comment on line 1 or 2 "
        "(e.g. '# coding: latin-1' or '/* coding: latin-1 */')"
    )


def is_adopted(kind: str, parent_kind: str | None) -> bool:
    """A method stored under a module or namespace: defined outside its type's body
    (a Go method, a C++ out-of-class definition, a Rust ``impl`` in another file
    than its type). Only its qualified name says which type it belongs to; the
    resolver finds it through that class, never as a module-level definition."""
    return kind == "method" and parent_kind in SCOPE_KINDS


def _owner_class(facts: FileFacts, local_id: int, sep: str) -> tuple[str, bool] | None:
    """(name, adopted) of the class code inside ``local_id`` sees as ``self``."""
    symbols = facts.symbols
    node: int | None = local_id
    while node is not None:
        sym = symbols[node]
        if sym.kind in CLASS_KINDS:
            return sym.name, False
        parent_kind = symbols[sym.parent].kind if sym.parent is not None else None
        if is_adopted(sym.kind, parent_kind):
            parts = sym.qualified_name.split(sep)
            return (parts[-2], True) if len(parts) > 1 else None
        node = sym.parent
    return None


def lookup_names(
    spec: LanguageSpec, facts: FileFacts, stars: tuple[str, ...]
) -> list[tuple[str, ...]]:
    """Per reference, the names its resolution may look up (for incremental re-indexing).

    The segments of the target, the import member, the imported module's name and
    its segments (also for a reference whose first segment an import alias binds), the
    enclosing class for ``via_self`` calls (and, for an adopted
    method, its class — see :func:`is_adopted`), and the modules this file
    star-imports (their appearance changes what an unbound name means). Empty for
    references that can never resolve (locally bound, not a plain name).

    A file repeats the same references many times (``len``, ``self.assertEqual``),
    so results are memoised on what they depend on; equal references then also
    share one tuple, which pickles once.
    """
    out: list[tuple[str, ...]] = []
    memo: dict[tuple, tuple[str, ...]] = {}
    members_in_scope = spec.members_in_scope
    bindings = _import_bindings(spec, facts)
    for ref in facts.references:
        if ref.bound_locally:
            out.append(())
            continue
        by_class = ref.via_self or members_in_scope or _names_super(spec, ref.target)
        owner_source = ref.source if by_class else -1
        key = (ref.kind == "imports", ref.target, ref.member, ref.via_self, owner_source)
        names = memo.get(key)
        if names is None:
            names = memo[key] = _reference_names(spec, facts, ref, stars, bindings)
        out.append(names)
    return out


def _reference_names(
    spec: LanguageSpec,
    facts: FileFacts,
    ref: Reference,
    stars: tuple[str, ...],
    bindings: dict[str, set[str]],
) -> tuple[str, ...]:
    """:func:`lookup_names` of one reference that is not locally bound."""
    sep = spec.separator
    names: set[str] = set(stars)
    if ref.kind == "imports":
        module = spec.import_module(facts.path, ref.target)
        if module:
            names.update(module.split(sep))
            # and whole: a module symbol may be named otherwise than its module's
            # last segment (Go's package clause for "b/c", C's "a.h", "geo/x.hpp")
            names.add(module)
        if ref.member and ref.member != "*":
            names.update(ref.member.split(sep))  # Java ``Circle.Builder``
    else:
        segments = ref.target.split(sep)
        if _names_super(spec, ref.target):
            segments = segments[1:]  # ``super().m``: ``m`` in the owner class's bases
        if not segments or not all(spec.is_identifier(s) for s in segments):
            return ()
        names.update(segments)
        # bound by an import alias: what that import names matters too (the
        # module of ``from . import a`` disappearing unbinds ``a.Base``)
        names.update(bindings.get(segments[0], ()))
        if ref.member:  # a Java anonymous class's supertype: its members come first
            names.update(ref.member.split(sep))
    via_class = ref.via_self or _names_super(spec, ref.target)
    if via_class or spec.members_in_scope:
        owner = _owner_class(facts, ref.source, sep)
        if owner is not None and (via_class or owner[1]):
            names.add(owner[0])
    names.discard("")
    names.discard("*")
    return tuple(sorted(names))


def _names_super(spec: LanguageSpec, target: str) -> bool:
    """Whether ``target`` starts at the enclosing class's bases (``super().m``)."""
    return bool(spec.super_heads) and target.split(spec.separator, 1)[0] in spec.super_heads


def _import_bindings(spec: LanguageSpec, facts: FileFacts) -> dict[str, set[str]]:
    """Per name an import binds (its alias), the names that import looks up."""
    sep = spec.separator
    found: dict[str, set[str]] = {}
    for ref in facts.references:
        if ref.kind == "imports" and ref.alias is not None:
            names = found.setdefault(ref.alias, set())
            module = spec.import_module(facts.path, ref.target)
            if module:
                names.update(module.split(sep))
                names.add(module)
            if ref.member:
                names.update(ref.member.split(sep))
    return found


def _star_modules(spec: LanguageSpec, facts: FileFacts) -> tuple[str, ...]:
    """Last segments of the modules the file imports with ``*``, and of the
    namespaces it opens (C++ ``using namespace``): whether such a namespace is
    in the workspace at all decides what any unbound name means."""
    found = set()
    opens = spec.opens_namespace
    for ref in facts.references:
        if ref.kind != "imports":
            continue
        if ref.member == "*" or (ref.member is None and opens is not None and opens(ref.target)):
            module = spec.import_module(facts.path, ref.target)
            if module:
                found.add(module.rsplit(spec.separator, 1)[-1])
    return tuple(sorted(found))


def facts_to_rows(
    spec: LanguageSpec, facts: FileFacts
) -> tuple[list[SymbolRow], list[RefRow], list[str]]:
    """Flatten :class:`FileFacts` into the tuples the writer inserts.

    Also returns every name the file's references look up: the index keeps those
    per file (``file_names``, a few per file) and each edge's own in a column,
    instead of one row per edge and name (several per edge).
    """
    symbols = [
        (
            s.kind,
            s.name,
            s.qualified_name,
            s.start_line,
            s.start_column,
            s.end_line,
            s.end_column,
            s.parent,
            s.signature,
            s.visibility,
            int(s.is_async),
            int(s.is_static),
            s.doc,
            local_id,
        )
        for local_id, s in enumerate(facts.symbols)
    ]
    names = lookup_names(spec, facts, _star_modules(spec, facts))
    joined: dict[tuple[str, ...], str] = {}
    for keys in names:
        if keys not in joined:
            joined[keys] = LOOKUP_SEPARATOR.join(keys)
    refs = [
        (
            r.kind,
            r.source,
            r.target,
            r.line,
            r.column,
            r.member,
            r.alias,
            int(r.via_self),
            int(r.bound_locally),
            joined[keys],
            int(r.reexport),
        )
        for r, keys in zip(facts.references, names, strict=True)
    ]
    return symbols, refs, sorted({name for keys in joined for name in keys})


def process_file(job: FileJob, budget: float) -> FileResult:
    """Read, hash, parse and extract one file (never raises for a bad file)."""
    spec = all_languages()[job.language]
    result = FileResult(job.path, job.language, "failed", module=spec.module_name(job.path))
    try:
        with open(job.abspath, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read()
    except FileNotFoundError:
        result.status = "gone"
        return result
    except OSError as exc:
        result.error = f"cannot read file: {exc.strerror}"
        return result
    result.size, result.mtime_ns, result.hash = st.st_size, st.st_mtime_ns, content_hash(data)
    if job.old_hash is not None and job.old_hash == result.hash:
        result.status = "same"
        return result
    # A byte-order mark is no content: without it, line 1's columns are the
    # ones an editor shows
    source, error = to_utf8(data.removeprefix(UTF8_BOM))
    if source is None:
        result.error = error
        return result
    try:
        with time_limit(budget, BudgetExceeded):
            tree = _parser_for(spec, job.path).parse(source)
            facts = spec.extract(tree, source, job.path, result.module)
            # The facts know better than the path: Java's declared package, a C++
            # header the C extractor handed to the C++ one (then resolved as C++).
            spec = all_languages().get(facts.language, spec)
            result.module, result.language = facts.module_name, spec.name
            result.symbols, result.refs, result.names = facts_to_rows(spec, facts)
            if facts.star_names is not None:
                result.star_names = "\n".join(facts.star_names)
    except BudgetExceeded:
        result.error = f"{BUDGET_ERROR}{budget:g}s per-file budget; skipped"
        return result
    except Exception as exc:  # an extractor bug must cost one file, not the build
        result.error = f"extractor failed: {type(exc).__name__}: {exc}"
        return result
    result.status = "parsed"
    result.error = facts.error
    return result


def process_chunk(root: str, jobs: list[FileJob], budget: float) -> list[FileResult]:
    """Process a chunk of files (the unit of work sent to a pool worker)."""
    with using_workspace(root):
        return [process_file(job, budget) for job in jobs]
