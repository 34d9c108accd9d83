"""Shared machinery of the tree-walking extractors (Go, Rust, C, C++).

Each of those language modules walks the parsed tree once, in source order, and
records what it meets through a :class:`FactsBuilder`. The builder owns the
bookkeeping every language needs the same way — ``local_id`` numbering, the
module symbol at ``local_id`` 0, 1-based lines, one-line signatures, parents that
are only known after the whole file was seen — so the language modules keep only
what is really language specific.

The leading underscore keeps this module out of the language registry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from sqry.graph.model import FileFacts, Reference, Symbol

if TYPE_CHECKING:
    from tree_sitter import Node

Ctx = TypeVar("Ctx")

#: Longest signature kept. Declarations such as ``var table = map[...]{...}`` can
#: run for hundreds of lines; a signature is a one-line header, not the body.
MAX_SIGNATURE = 200

_SPACES = re.compile(r"\s+")
# Strings, char literals and the line comments of the C-like languages that end
# before the text does, leftmost first, so a ``//`` inside ``"http://x"`` is part
# of its string, never a comment; a Rust lifetime (``'a``) is no char literal (one
# character, then a closing quote). Only a line comment with more text after it
# could swallow that text once the lines are joined; block comments cannot.
_C_LIKE_TOKENS = re.compile(
    r'"(?:\\.|[^"\\])*"|`[^`]*`|\'(?:\\.|[^\'\\])\'|//[^\n]*(?=\n)', re.DOTALL
)
_HEAD = re.compile(r"[^.:]*")  # a target's first segment, for every separator


# a dropped comment (NUL) with its spaces, before a closer or the end: no space left
_DROPPED_BEFORE_CLOSER = re.compile(r"\s*\0\s*(?=[),\]>;]|\Z)")


def one_line(text: str, limit: int = MAX_SIGNATURE, *, code: bool = True) -> str:
    """Collapse all whitespace runs to one space and cap the length.

    In ``code`` (not in prose: a doc line keeps its ``http://``), ``//`` comments
    that end a line go first (not inside strings): a header split over lines may
    note a parameter (``items: Vec<T>, // the items``), and joined into one line
    such a note would comment out the rest of it.
    """
    if code and "//" in text and "\n" in text:
        text = _DROPPED_BEFORE_CLOSER.sub("", _C_LIKE_TOKENS.sub(_keep_literals, text))
        text = text.replace("\0", " ")
    flat = _SPACES.sub(" ", text).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


def _keep_literals(token: re.Match[str]) -> str:
    """A string or char literal as it is; a line comment as a NUL, which
    :data:`_DROPPED_BEFORE_CLOSER` removes before a closing bracket or comma
    (``char c // x`` + newline + ``)`` → ``char c)``) and ``one_line`` turns
    into a space elsewhere."""
    found = token.group()
    return "\0" if found[0] == "/" else found


EVERYWHERE = 1 << 62  # the end of a scope that holds the whole file


def scope_end(node: Node, scopes: frozenset[str]) -> int:
    """Where the scope of a binding at ``node`` ends: the end byte of its nearest
    ancestor of a type in ``scopes`` (a block, a loop, the function); the whole
    file when none is found."""
    up = node.parent
    while up is not None:
        if up.type in scopes:
            return up.end_byte
        up = up.parent
    return EVERYWHERE


def type_at(bindings: list[tuple[str, int, int]], at: int) -> str:
    """The type a local has at byte ``at``, from its ``(type, declared at, scope
    end)`` bindings: the one they all name, when every one was declared before
    ``at`` and holds it in its scope; else "" (a binding that said nothing, another
    type, or one the call is outside of: typing there would invent an edge)."""
    typed = bindings[0][0]
    if typed and all(t == typed and start <= at < end for t, start, end in bindings):
        return typed
    return ""


def node_text(source: bytes, node: Node) -> str:
    """The source text of ``node`` (tolerant of invalid UTF-8: sources are untrusted)."""
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def header_text(source: bytes, start: Node, stop: Node | None) -> str:
    """Source from the start of ``start`` up to (not including) ``stop``, one line.

    This is how signatures are cut: a declaration's header ends where its body
    (or field list, or initializer list) begins.
    """
    end = stop.start_byte if stop is not None else start.end_byte
    text = source[start.start_byte : end].decode("utf-8", "replace")
    return one_line(text).rstrip(" {=;:")


def walk(root: Node, ctx: Ctx, visit: Callable[[Node, Ctx], Any]) -> None:
    """Visit every named node under ``root`` once, depth first, in source order.

    ``visit(node, ctx)`` returns what the node's children get: a context (all
    named children get it), a list of ``(child, context)`` pairs (the visitor
    chose the children itself, e.g. to track C++ access specifiers), or ``None``
    to skip the subtree. An explicit stack, not recursion: generated code nests
    expressions deeper than Python's recursion limit.

    Leaves (nodes without named children: identifiers, literals, comments) are
    never visited — nothing an extractor handles is a leaf, and they are about
    half of all nodes.
    """
    stack: list[tuple[Node, Ctx]] = [(root, ctx)]
    while stack:
        node, node_ctx = stack.pop()
        result = visit(node, node_ctx)
        if result is None:
            continue
        if isinstance(result, list):
            stack.extend(reversed(result))
        else:
            stack.extend(
                (child, result)
                for child in reversed(node.named_children)
                if child.named_child_count
            )


def unparenthesized(node: Node) -> Node:
    """``((f))`` → ``f``: what a parenthesized expression wraps."""
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return node


def leading_comments(node: Node, skip: frozenset[str] = frozenset()) -> list[Node]:
    """The comment nodes directly above ``node``, top to bottom.

    A comment belongs to the block when it ends on the line just above the next
    thing (no blank line between); sibling node types in ``skip`` (attributes such
    as Rust's ``#[derive]``) are stepped over, as documentation sits above them.
    """
    found: list[Node] = []
    line = node.start_point[0]
    prev = node.prev_sibling
    while prev is not None:
        if prev.type in skip:
            line = prev.start_point[0]
        elif "comment" in prev.type and prev.end_point[0] >= line - 1:
            before = prev.prev_sibling
            if (
                before is not None
                and before.end_point[0] == prev.start_point[0]
                and before.end_point[1] > 0  # preprocessor lines end after their newline
                and "comment" not in before.type
            ):
                break  # a trailing comment of the code before it, not a doc
            found.append(prev)
            line = prev.start_point[0]
        else:
            break
        prev = prev.prev_sibling
    found.reverse()
    return found


def first_doc_line(comment: str) -> str:
    """The first non-empty line of a comment, without comment markers.

    Handles ``//``, ``///``, ``//!``, ``/* */``, ``/** */``, ``/*! */`` and the
    leading ``*`` of block-comment continuation lines.
    """
    text = comment.strip()
    if text.startswith("/*"):
        text = text[2:]
        if text.endswith("*/"):
            text = text[:-2]
        text = text.lstrip("*!")
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("//"):
            line = line[2:].lstrip("/!")
        line = line.lstrip("*").strip()
        if line:
            return one_line(line, code=False)
    return ""


def syntax_error(root: Node) -> str:
    """Where the first syntax error is (tree-sitter recovers; what parsed is kept).

    Descends through the first erroneous child at every level down to the
    innermost error: when recovery fails badly tree-sitter wraps a whole region
    (even the whole file) in one ERROR node, whose start (often line 1) says
    nothing; the innermost one is where parsing actually went wrong.
    """
    node = root
    while True:
        inner = next((c for c in node.children if c.has_error or c.is_missing), None)
        if inner is None:
            break
        node = inner
    if node is root and not (root.is_error or root.is_missing):
        return "syntax error (the rest of the file is indexed)"
    row, col = node.start_point
    what = f"missing {node.type}" if node.is_missing else "syntax error"
    return f"{what} at line {row + 1}, column {col + 1} (the rest of the file is indexed)"


class FactsBuilder:
    """Collects one file's symbols and references while its tree is walked."""

    __slots__ = (
        "source",
        "facts",
        "_pending_parents",
        "_pending_sources",
        "_by_qname",
        "_locals",
        "_local_types",
        "_member_separator",
        "_field_types",
        "_owner_field_calls",
        "_calls",
        "_rebound",
        "_through_self",
    )

    def __init__(
        self,
        source: bytes,
        path: str,
        language: str,
        module_name: str,
        root: Node,
        *,
        module_label: str,
        doc: str = "",
        signature: str = "",
        member_separator: str = ".",
    ) -> None:
        """``member_separator``: what joins a type and its member in a call target
        (``Repo.Save`` in Go, ``Repo::save`` in Rust), for calls through typed locals."""
        self.source = source
        self.facts = FileFacts(path=path, language=language, module_name=module_name)
        self._pending_parents: list[tuple[int, str]] = []
        self._pending_sources: list[tuple[Reference, str]] = []
        self._by_qname: dict[str, int] = {}
        self._locals: dict[int, set[str]] = {}
        # (owner, name) -> per binding: (what it said of the type, "" nothing; the
        # byte it is declared at; the byte its scope ends at)
        self._local_types: dict[tuple[int, str], list[tuple[str, int, int]]] = {}
        self._member_separator = member_separator
        self._field_types: dict[tuple[str, str], str] = {}  # (type, field) -> field's type
        self._owner_field_calls: list[tuple[Reference, str]] = []  # see owner_field_call
        self._calls: list[tuple[Reference, int]] = []  # each call and where it starts (byte)
        self._rebound: set[tuple[int, str]] = set()  # (owner, name) bound more than once
        # via_self calls written through a receiver variable: (call, variable, as written)
        self._through_self: list[tuple[Reference, str, str]] = []
        self.facts.symbols.append(
            Symbol(
                local_id=0,
                kind="module",
                name=module_label,
                qualified_name=module_name,
                start_line=root.start_point[0] + 1,
                start_column=root.start_point[1],
                end_line=root.end_point[0] + 1,
                end_column=root.end_point[1],
                parent=None,
                signature=signature,
                doc=doc,
            )
        )

    def text(self, node: Node) -> str:
        return node_text(self.source, node)

    def add_symbol(
        self,
        kind: str,
        name: str,
        qualified_name: str,
        span: Node,
        parent: int,
        *,
        signature: str = "",
        visibility: str = "public",
        is_async: bool = False,
        is_static: bool = False,
        doc: str = "",
        span_end: Node | None = None,
    ) -> int:
        """Record a definition spanning ``span`` (to ``span_end`` when given)."""
        end = span_end if span_end is not None else span
        local_id = len(self.facts.symbols)
        self.facts.symbols.append(
            Symbol(
                local_id=local_id,
                kind=kind,
                name=name,
                qualified_name=qualified_name,
                start_line=span.start_point[0] + 1,
                start_column=span.start_point[1],
                end_line=end.end_point[0] + 1,
                end_column=end.end_point[1],
                parent=parent,
                signature=signature,
                visibility=visibility,
                is_async=is_async,
                is_static=is_static,
                doc=doc,
            )
        )
        # First definition wins: later same-named ones (C++ overloads, Rust impls
        # split over several blocks) never steal an adoption meant for a type.
        self._by_qname.setdefault(f"{kind} {qualified_name}", local_id)
        return local_id

    def add_reference(
        self,
        kind: str,
        source: int,
        target: str,
        at: Node,
        *,
        member: str | None = None,
        alias: str | None = None,
        via_self: bool = False,
    ) -> Reference:
        ref = Reference(
            kind=kind,
            source=source,
            target=target,
            line=at.start_point[0] + 1,
            column=at.start_point[1],
            member=member,
            alias=alias,
            via_self=via_self,
        )
        if target:  # an empty name is one the parser invented to recover: not recorded
            self.facts.references.append(ref)
        return ref

    def add_call(
        self,
        source: int,
        target: str,
        at: Node,
        *,
        via_self: bool = False,
        receiver: tuple[str, str] | None = None,
    ) -> None:
        """A ``calls`` reference; ``bound_locally`` is decided in :meth:`finish`.

        ``receiver``: for a ``via_self`` call written through a named receiver
        variable (Go's ``r.Save()`` in ``func (r *Repo)``), (variable, the call
        as written): if the function binds that name again anywhere (``for _, r
        := range list``), the call may be on something else and is not ``via_self``.
        """
        ref = self.add_reference("calls", source, target, at, via_self=via_self)
        self._calls.append((ref, at.start_byte))
        if via_self and receiver is not None:
            self._through_self.append((ref, *receiver))

    def bind_local(
        self,
        owner: int,
        name: str,
        type_name: str | None = None,
        *,
        at: Node | None = None,
        scopes: frozenset[str] = frozenset(),
    ) -> None:
        """``name`` is a parameter or local variable of function ``owner`` (not a symbol).

        A call whose target starts with such a name (``cb()``, ``conn.Close()``) is
        marked ``bound_locally`` so the resolver never binds it to a global.
        Function-wide, not block-scoped: a false "local" only costs an edge.
        But typing is scoped: the call is recorded as one of the type's member
        (``repo.Save()`` -> ``Repo.Save``) only when every binding of the name in
        the function gave it that type (``type_name``: Go's ``repo *Repo``), was
        declared (``at``) before the call, and has the call inside its scope (the
        nearest ancestor of ``at`` whose node type is in ``scopes``: a block, a
        ``for``, the function): a local of another block, or one declared later,
        may be another thing than the name at the call — a typed edge there
        would be invented, not missed.
        """
        names = self._locals.setdefault(owner, set())
        if name in names:
            self._rebound.add((owner, name))
        names.add(name)
        start, end = 0, EVERYWHERE
        if at is not None:
            start, end = at.start_byte, scope_end(at, scopes)
        self._local_types.setdefault((owner, name), []).append((type_name or "", start, end))

    def declare_field_type(self, owner: str, field: str, type_name: str | None) -> None:
        """Field ``field`` of the type named ``owner`` in this file holds a
        ``type_name`` (Go's ``repo *Repo`` in ``type Service struct``; an embedded
        ``Base`` is a field ``Base`` of type ``Base``): a call through a typed local
        and that field (``s.repo.Save()`` with ``s`` a ``Service``) is recorded as
        a call of ``Repo.Save``."""
        if type_name:
            self._field_types[owner, field] = type_name

    def owner_field_call(self, ref: Reference, owner: str) -> None:
        """``ref`` is a call through a field of ``self`` (``self.repo.save()``,
        target ``self.repo.save``) in a method of the type ``owner``: when this file
        declares that field's type (:meth:`declare_field_type`), it becomes a call
        of that type's member (``Repo::save``); else it stays as written."""
        self._owner_field_calls.append((ref, owner))

    def _through_fields(self, target: str) -> str:
        """``Repo.Save`` for ``Service.repo.Save`` (see :meth:`declare_field_type`)."""
        sep = self._member_separator
        parts = target.split(sep)
        while len(parts) > 2 and (parts[0], parts[1]) in self._field_types:
            parts[:2] = [self._field_types[parts[0], parts[1]]]
        return sep.join(parts)

    def adopt_later(self, local_id: int, owner_qname: str) -> None:
        """Re-parent ``local_id`` under the type ``owner_qname`` if this file defines it.

        Go methods and Rust ``impl`` blocks name their type, which may be defined
        further down the file (or in another file, in which case the module stays
        the parent). Resolved in :meth:`finish`.
        """
        self._pending_parents.append((local_id, owner_qname))

    def source_later(self, ref: Reference, owner_qname: str) -> None:
        """Make the type ``owner_qname`` the source of ``ref`` once the file is seen.

        For Rust's ``impl Trait for Type``: the type may be defined below the impl.
        When this file does not define it, the reference is dropped in
        :meth:`finish` — attributing it to the module would claim the module
        implements the trait, a wrong edge, which is worse than a missing one.
        """
        self._pending_sources.append((ref, owner_qname))

    def find_type(self, qualified_name: str, kinds: Iterable[str]) -> int | None:
        """``local_id`` of a symbol of one of ``kinds`` named ``qualified_name``, if any."""
        for kind in kinds:
            found = self._by_qname.get(f"{kind} {qualified_name}")
            if found is not None:
                return found
        return None

    def finish(self, type_kinds: Iterable[str], root: Node) -> FileFacts:
        """Apply what waited for the whole file; record a syntax error; return the facts."""
        for ref, variable, written in self._through_self:
            if (ref.source, variable) in self._rebound:  # maybe not the receiver
                ref.via_self, ref.target = False, written
        for ref, at in self._calls:
            names = self._locals.get(ref.source)
            if not names or ref.via_self:
                continue
            head = _HEAD.match(ref.target)[0]
            if head in names:
                rest = ref.target[len(head) :]
                if rest.startswith("::"):  # a path (``cache::helper``): never the local
                    continue
                types = self._local_types[ref.source, head]
                typed = type_at(types, at)
                if rest.startswith(".") and typed:
                    # a call of the type's member: ``repo.save`` -> ``Repo::save``
                    sep = self._member_separator
                    ref.target = sep.join([typed, *rest[1:].split(".")])
                    if self._field_types:
                        ref.target = self._through_fields(ref.target)
                else:
                    ref.bound_locally = True
        for ref, owner in self._owner_field_calls:
            _self, _, rest = ref.target.partition(".")
            field, dot, tail = rest.partition(".")
            held = self._field_types.get((owner, field)) if dot else None
            if held is not None:
                sep = self._member_separator
                ref.target = self._through_fields(sep.join([held, *tail.split(".")]))
        if root.has_error:
            self.facts.error = syntax_error(root)
        kinds = tuple(type_kinds)
        for local_id, owner in self._pending_parents:
            found = self.find_type(owner, kinds)
            if found is not None and found != local_id:
                self.facts.symbols[local_id].parent = found
        orphans: set[int] = set()
        for ref, owner in self._pending_sources:
            found = self.find_type(owner, kinds)
            if found is None:
                orphans.add(id(ref))
            else:
                ref.source = found
        if orphans:
            refs = self.facts.references
            self.facts.references = [r for r in refs if id(r) not in orphans]
        return self.facts
