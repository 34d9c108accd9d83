"""Query-driven extraction: the scope bookkeeping JavaScript, TypeScript and Java share.

These extractors run ONE compiled query that captures every node type they
care about and visit the captures in document order. Two stacks of still-open
byte ranges replace a Python walk over every node (tree-sitter walks in C):

* the **symbol stack** gives each new symbol its parent and qualified name and
  each reference its source;
* the **binding stack** holds, per function-like node (named or anonymous), the
  local names it binds that are not symbols: parameters, local variables, catch
  and loop variables. A call whose first segment is one of them is marked
  ``bound_locally`` so the resolver never binds ``callback()`` to some global
  ``callback``. The check runs when the file is done, so a name declared after
  its use in the same function (hoisting, closures) still counts.

The same check types calls through a class's own fields: ``this.repo.save()``
(and in Java a bare ``repo.save()``) with a field declared ``Repo repo`` in the
class is a call of ``Repo.save`` (:meth:`ScopedFacts.declare_member`).

Symbol and reference records, one-line headers and doc comments come from
:mod:`sqry.graph.languages._facts_builder`, shared with the tree-walking
extractors. The leading underscore keeps this module out of the language registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqry.graph.languages._facts_builder import (
    EVERYWHERE,
    FactsBuilder,
    first_doc_line,
    leading_comments,
    scope_end,
    type_at,
)
from sqry.graph.model import CLASS_KINDS

if TYPE_CHECKING:
    import tree_sitter

    from sqry.graph.model import FileFacts, Reference

_query_cache: dict[tuple[object, tuple[str, ...]], tree_sitter.Query] = {}


def node_query(language: tree_sitter.Language, node_types: Iterable[str]) -> tree_sitter.Query:
    """A query capturing every node of the given types, compiled once per process.

    Types the grammar does not know are left out, so one handler table can serve
    sibling grammars (JavaScript, TypeScript and TSX) alike.
    """
    types = tuple(node_types)
    key = (language, types)
    query = _query_cache.get(key)
    if query is None:
        import tree_sitter

        known = [t for t in types if language.id_for_node_kind(t, True)]
        query = tree_sitter.Query(language, " ".join(f"({t}) @n" for t in known))
        _query_cache[key] = query
    return query


def captured_in_order(query: tree_sitter.Query, root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """All captured nodes, outer before inner, in document order."""
    import tree_sitter

    nodes = tree_sitter.QueryCursor(query).captures(root).get("n", [])
    nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
    return nodes


def text(node: tree_sitter.Node | None) -> str:
    """The node's source text (invalid UTF-8 replaced, never raising)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def block_doc(node: tree_sitter.Node, skip: frozenset[str] = frozenset()) -> str:
    """First line of the ``/** ... */`` comment directly above ``node``, or ``""``.

    Only JSDoc/Javadoc comments count: a ``//`` note or a plain ``/* */`` block
    above a declaration is not its documentation.
    """
    comments = leading_comments(node, skip)
    if not comments:
        return ""
    raw = text(comments[-1])
    return first_doc_line(raw) if raw.startswith("/**") and raw != "/**/" else ""


#: A binding scope's names, each with what its bindings said of its type.
#: per binding: (what it said of the type, "" nothing; the byte it is declared at;
#: the byte its scope ends at)
Bindings = dict[str, list[tuple[str, int, int]]]


class ScopedFacts:
    """Symbols and references of one file, parented by the still-open symbol.

    Call :meth:`advance` with each captured node before handling it: it closes
    the symbols and binding scopes that ended before the node, so
    :attr:`current` is then the innermost symbol enclosing it.
    """

    def __init__(
        self,
        root: tree_sitter.Node,
        source: bytes,
        path: str,
        language: str,
        module_name: str,
        module_label: str,
        *,
        bare_members: bool = False,
        scopes: frozenset[str] = frozenset(),
    ) -> None:
        """``bare_members``: a bare name can be a field of the enclosing classes
        (Java), not only ``this.name`` (JavaScript, TypeScript). ``scopes``: the
        node types a local's scope can be (a block, a loop, the function; see
        :meth:`bind`)."""
        self.out = FactsBuilder(
            source, path, language, module_name, root, module_label=module_label
        )
        self._bare_members = bare_members
        self._scopes = scopes
        # class local id -> its fields -> what their declarations and, apart,
        # their assignments said of the field's type ("" when nothing)
        self._members: dict[int, dict[str, tuple[list[str], list[str]]]] = {}
        self._inheriting: set[int] = set()  # classes with bases: they inherit fields
        self._symbols = self.out.facts.symbols
        self._root = root
        # Open symbols: (end_byte, local_id, id of the node owning the body).
        self._stack: list[tuple[int, int, int]] = [(root.end_byte + 1, 0, root.id)]
        # Open binding scopes: (end_byte, id of the function-like node, names, the
        # names of this scope and every enclosing one, innermost last). Names map
        # to what each binding of them said of their type ("" when nothing).
        names: Bindings = {}
        self._bindings: list[tuple[int, int, Bindings, tuple[Bindings, ...]]] = [
            (root.end_byte + 1, root.id, names, (names,))
        ]
        # a call through a name, the byte it starts at, the binding scopes it sees, and
        # whether the fields of the class around it are in scope (not in an anonymous class)
        self._pending: list[tuple[Reference, int, tuple[Bindings, ...], bool]] = []
        self._type_params: dict[int, frozenset[str]] = {}

    # -- scope tracking -------------------------------------------------------

    def advance(self, node: tree_sitter.Node) -> None:
        """Close every open symbol and binding scope that ends before ``node``."""
        start = node.start_byte
        stack = self._stack
        while len(stack) > 1 and stack[-1][0] <= start:
            stack.pop()
        bindings = self._bindings
        while len(bindings) > 1 and bindings[-1][0] <= start:
            bindings.pop()

    @property
    def current(self) -> int:
        """``local_id`` of the innermost open symbol."""
        return self._stack[-1][1]

    @property
    def current_owner(self) -> int:
        """Id of the syntax node holding the innermost open symbol's members."""
        return self._stack[-1][2]

    def open_bindings(self, owner: tree_sitter.Node) -> None:
        """Start the binding scope of a function-like node (named or anonymous)."""
        names: Bindings = {}
        chain = self._bindings[-1][3] + (names,)
        self._bindings.append((owner.end_byte, owner.id, names, chain))

    def bind(
        self,
        names: Iterable[str],
        owner: tree_sitter.Node | None = None,
        type_name: str | None = None,
        *,
        at: tree_sitter.Node | None = None,
    ) -> None:
        """Record local names of the innermost binding scope (of ``owner`` if given).

        With ``owner``, names are dropped unless that node's scope is the
        innermost one: parameters of a body-less signature bind nothing.
        ``type_name``: the class the binding declares or builds (``Repo r``,
        ``const r = new Repo()``), if it says, with ``at`` where it is declared: a
        call through a local whose every binding names the same class, was
        declared before it and has it in its scope (the nearest ancestor of ``at``
        of a ``scopes`` type), is a call of that class's member (see :meth:`finish`).
        """
        top = self._bindings[-1]
        if owner is None or top[1] == owner.id:
            start, end = 0, EVERYWHERE
            if at is not None:
                start, end = at.start_byte, scope_end(at, self._scopes)
            for name in names:
                top[2].setdefault(name, []).append((type_name or "", start, end))

    def declare_member(
        self, owner: int, name: str, type_name: str | None, *, assigned: bool = False
    ) -> None:
        """A field ``name`` of class ``owner`` (its local id), declared with the
        class ``type_name`` (``Repo repo;``, ``repo: Repo``) or, with ``assigned``,
        given a value that class builds (``this.repo = new Repo()``); None: the
        declaration or value says nothing of a class.

        A call through the field — ``this.repo.save()``, in Java also a bare
        ``repo.save()`` that no local shadows — becomes a call of that class's
        member (``Repo.save``) when the field's declarations all name that class
        or, without a declaration, all its assignments do (call
        :meth:`note_member` for a value that counts for neither, ``null``).
        ``this.repo`` is the innermost class's own field or nothing; a bare
        ``repo`` the class does not declare is looked up in the classes around
        it, but never past one with bases: it may inherit a field of that name
        the file cannot see.
        """
        said = self.note_member(owner, name)
        said[1 if assigned else 0].append(type_name or "")

    def note_member(self, owner: int, name: str) -> tuple[list[str], list[str]]:
        """Make ``name`` a field of class ``owner`` without saying anything of its
        type (``this.repo = null``); return what was said so far."""
        return self._members.setdefault(owner, {}).setdefault(name, ([], []))

    def declare_inheriting(self, owner: int) -> None:
        """Class ``owner`` has bases (see :meth:`declare_member`)."""
        self._inheriting.add(owner)

    def declare_type_params(self, local_id: int, names: Iterable[str]) -> None:
        """Type parameters (``<T>``) a generic class or function introduces."""
        found = frozenset(names)
        if found:
            self._type_params[local_id] = found

    def is_type_param(self, name: str, local_id: int) -> bool:
        """Whether ``name`` is a type variable of ``local_id`` or an enclosing symbol.

        A ``returns``/``inherits`` edge to ``T`` would otherwise bind to any
        class that happens to be called ``T``.
        """
        symbol_id: int | None = local_id
        while symbol_id is not None:
            if name in self._type_params.get(symbol_id, ()):
                return True
            symbol_id = self._symbols[symbol_id].parent
        return False

    # -- output ---------------------------------------------------------------

    def qualify(self, parent: int, name: str) -> str:
        base = self._symbols[parent].qualified_name
        return f"{base}.{name}" if base else name

    def add_symbol(
        self,
        kind: str,
        name: str,
        span: tree_sitter.Node,
        *,
        start: tree_sitter.Node | None = None,
        owner: tree_sitter.Node | None = None,
        parent: int | None = None,
        scope: bool = True,
        signature: str = "",
        visibility: str = "public",
        is_async: bool = False,
        is_static: bool = False,
        doc: str = "",
    ) -> int:
        """Record a symbol covering ``span`` (its first line taken from ``start``).

        ``owner`` is the node whose body holds the symbol's members (default
        ``span``). With ``scope`` the symbol encloses what follows in its range.
        """
        parent_id = self.current if parent is None else parent
        first = start if start is not None else span
        local_id = self.out.add_symbol(
            kind,
            name,
            self.qualify(parent_id, name),
            first,
            parent_id,
            span_end=span,
            signature=signature,
            visibility=visibility,
            is_async=is_async,
            is_static=is_static,
            doc=doc,
        )
        if scope:
            self._stack.append((span.end_byte, local_id, (owner or span).id))
        return local_id

    def add_ref(
        self,
        kind: str,
        target: str,
        at: tree_sitter.Node,
        *,
        source: int | None = None,
        member: str | None = None,
        alias: str | None = None,
        via_self: bool = False,
    ) -> Reference:
        """Record an unresolved reference written at ``at``."""
        return self.out.add_reference(
            kind,
            self.current if source is None else source,
            target,
            at,
            member=member,
            alias=alias,
            via_self=via_self,
        )

    def add_use(
        self, kind: str, target: str, at: tree_sitter.Node, *, members: bool = True
    ) -> None:
        """A call-like reference whose first name may be a local binding, or (with
        ``members``: ``this`` is the enclosing named class's instance) a field
        of the class around it (see :meth:`declare_member`)."""
        ref = self.add_ref(kind, target, at)
        self._pending.append((ref, at.start_byte, self._bindings[-1][3], members))

    def finish(self) -> FileFacts:
        """Mark references through local bindings; return the file's facts.

        A member call through a local whose bindings all name one class
        (``Repo r = ...; r.save()``) becomes a call of that class's member
        (``Repo.save``) instead, for the resolver to bind like one written so;
        so does one through a field of the enclosing class (:meth:`declare_member`).
        """
        for ref, at, scopes, members in self._pending:
            head, dot, rest = ref.target.partition(".")
            for names in reversed(scopes):
                types = names.get(head)
                if types is None:
                    continue
                known = type_at(types, at)
                if dot and known:
                    ref.target = f"{known}.{rest}"
                else:
                    ref.bound_locally = True
                break
            else:
                if dot and members and self._members:
                    typed = self._through_field(ref.source, head, rest)
                    if typed is not None:
                        ref.target = typed
        return self.out.finish((), self._root)  # also records a syntax error, if any

    def _through_field(self, source: int, head: str, rest: str) -> str | None:
        """``Repo.save`` for ``this.repo.save`` (or a bare ``repo.save``) written
        in symbol ``source``, when ``repo`` is a field typed ``Repo``; else None."""
        owner = self.class_around(source)
        via_this = head == "this"
        if via_this:  # the innermost class's own field, or nothing
            head, dot, rest = rest.partition(".")
            if not dot:  # ``this.m()``: a call of the class's own method
                return None
        elif not self._bare_members:
            return None
        while owner is not None:
            said = self._members.get(owner, {}).get(head)
            if said is not None:
                declared, assigned = said
                known = _agreed(declared or assigned)
                return f"{known}.{rest}" if known else None
            if via_this or owner in self._inheriting:
                return None
            owner = self.class_around(self._symbols[owner].parent)
        return None

    def class_around(self, local_id: int | None) -> int | None:
        """The innermost class-like symbol at or above ``local_id``."""
        symbols = self._symbols
        while local_id is not None and symbols[local_id].kind not in CLASS_KINDS:
            local_id = symbols[local_id].parent
        return local_id


def _agreed(types: list[str]) -> str:
    """The class every binding named, or "" when one said nothing or they differ
    (or there are none)."""
    known = types[0] if types else ""
    return known if known and all(t == known for t in types) else ""
