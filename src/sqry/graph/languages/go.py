"""Go: symbols and references from one ``.go`` file.

Decisions (documented here because users see their effects):

* **Module = package = directory.** Every file of a directory shares the module
  name, the directory's workspace-relative path (``internal/server``); files in the
  workspace root get ``.``. Qualified names join with ``.``: ``internal/server.Server.Start``,
  and root-package symbols drop the ``.`` prefix (``Server.Start``). The module
  symbol's *name* is the package clause's name (``server``).
* **Imports** keep the import path as written (``example.com/m/internal/util``);
  the alias is the name the file uses: the explicit one, else the path's last
  element (``util``), which is the package name by Go convention.
  :func:`import_module` maps a path under the module path of the nearest
  ``go.mod`` above the importing file to the directory it names; standard
  library and third-party paths leave the workspace (``None``).
* **Visibility**: exported (capitalised) names are ``public``; unexported ones are
  ``private`` — visible in their package only, which is this module, the same
  reach Rust's default privacy gets (``internal`` is reserved for wider-than-module
  restrictions such as ``pub(crate)``).
* **Embedding** (``struct { Base }``, ``interface { io.Reader }``) is recorded as
  ``inherits``: the outer type gets the embedded type's methods. Go has no
  declared ``implements`` (interfaces are satisfied structurally), so none is
  emitted.
* **Calls** on a method's receiver variable (``s.run()`` in ``func (s *S) ...``)
  are ``via_self``. A call through a parameter or local of a named type
  (``repo *Repo``, ``var s Server``, ``s := &Server{}``) is recorded as a call of
  that type's method (``Repo.Save``), when every binding of the name in the
  function says the same type (``FactsBuilder.bind_local``); through a field of
  a struct this file declares, too (``s.repo.Save()`` with ``repo *Repo``, or an
  embedded ``Repo``: ``FactsBuilder.declare_field_type``). Conversions to predeclared types (``int64(x)``) are not calls.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqry.graph.languages._facts_builder import (
    FactsBuilder,
    first_doc_line,
    header_text,
    leading_comments,
    node_text,
    one_line,
    unparenthesized,
    walk,
)
from sqry.graph.languages.base import (
    LanguageSpec,
    package_is_module,
    workspace_root,
    workspace_session,
)

if TYPE_CHECKING:
    import tree_sitter
    from tree_sitter import Node

    from sqry.graph.model import FileFacts

ROOT_MODULE = "."
MAX_CALLEE = 100  # a computed callee is kept as written, up to this length

#: Predeclared type names: ``T(x)`` with one of these is a conversion, not a call,
#: and a return type of one of these names nothing in the workspace.
#: What a local's scope can be: a block, the statements that open one, a case, a
#: function (see ``FactsBuilder.bind_local``).
SCOPES = frozenset(
    "block if_statement for_statement expression_switch_statement type_switch_statement "
    "select_statement expression_case type_case default_case communication_case "
    "func_literal function_declaration method_declaration".split()
)
PREDECLARED_TYPES = frozenset(
    "any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 "
    "int32 int64 rune string uint uint8 uint16 uint32 uint64 uintptr".split()
)
TYPE_KINDS = ("struct", "interface", "type")
#: Predeclared functions: a bare ``len(x)`` never means some workspace ``len``.
BUILTINS = frozenset(
    "append cap clear close complex copy delete imag len make max min new panic print "
    "println real recover".split()
)


def grammar() -> tree_sitter.Language:
    import tree_sitter
    import tree_sitter_go

    return tree_sitter.Language(tree_sitter_go.language())


def module_name(path: str) -> str:
    """The package directory of ``path`` (``.`` for the workspace root)."""
    return posixpath.dirname(path) or ROOT_MODULE


def qualify(module: str, name: str) -> str:
    """Join a package-level name onto its package (root-package names stand alone)."""
    return name if module == ROOT_MODULE else f"{module}.{name}"


def _read_module_line(go_mod: str) -> str | None:
    """The module path declared by the ``go.mod`` file ``go_mod``, or None."""
    try:
        with open(go_mod, encoding="utf-8") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "module":
                    return parts[1].strip('"')
    except (OSError, UnicodeDecodeError):
        return None
    return None


@lru_cache(maxsize=4096)
def _governing_module(root: str, directory: str, session: int) -> tuple[str, str] | None:
    """(module path, its directory) of the ``go.mod`` nearest above ``directory``.

    ``directory`` is workspace-relative (``""`` for the root); the search stops
    at the workspace root. Cached per ``session`` (:func:`workspace_session`):
    the resolver asks once per import per edge, so one build must read each
    ``go.mod`` once, but a later build in the same process must see an edit.
    """
    current = directory
    while True:
        declared = _read_module_line(os.path.join(root, current, "go.mod"))
        if declared is not None:
            return declared, current
        if not current:
            return None
        current = posixpath.dirname(current)


def import_module(path: str, spec: str) -> str | None:
    """The workspace directory an import path names, or None when it leaves the workspace.

    The module path comes from the ``go.mod`` governing the importing file (the
    nearest one above it inside the workspace, so several modules in one
    workspace work); an import path under it maps to the directory below that
    ``go.mod``. Outside an index build (no workspace root) nothing maps.
    """
    root = workspace_root()
    if root is None:
        return None
    found = _governing_module(root, posixpath.dirname(path), workspace_session())
    if found is None:
        return None
    mod_path, mod_dir = found
    if spec == mod_path:
        rest = ""
    elif spec.startswith(mod_path + "/"):
        rest = spec[len(mod_path) + 1 :]
    else:
        return None
    return posixpath.join(mod_dir, rest).rstrip("/") or ROOT_MODULE


def package_name(import_path: str) -> str:
    """The name an unaliased import binds: the path's last element.

    Go binds the imported package's *clause* name, which is by convention its
    last path element; a major-version suffix is not part of it
    (``github.com/x/y/v2`` binds ``y``, ``gopkg.in/yaml.v3`` binds ``yaml``).
    """
    parts = import_path.split("/")
    last = parts[-1]
    if len(parts) > 1 and len(last) > 1 and last[0] == "v" and last[1:].isdigit():
        last = parts[-2]
    if ".v" in last and last.rsplit(".v", 1)[1].isdigit():
        last = last.rsplit(".v", 1)[0]
    return last


def visibility(name: str) -> str:
    """Exported (upper-case initial) names are public; the rest stay in the package."""
    return "public" if name[:1].isupper() else "private"


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Where the walk is: what owns references and names new symbols."""

    scope: str  # qualified name children are named under
    parent: int  # local_id of the enclosing symbol
    owner: int  # local_id references are attributed to
    in_body: bool = False  # inside a function body: declarations there are locals
    receiver: str | None = None  # the method's receiver variable, for via_self
    type_params: frozenset[str] = frozenset()


class _GoExtractor:
    """One file's walk. Handlers are looked up by node type in :data:`_HANDLERS`."""

    def __init__(self, b: FactsBuilder, module: str) -> None:
        self.b = b
        self.module = module
        self.local_types: set[tuple[int, str]] = set()  # (function, type declared in it)

    def visit(self, node: Node, ctx: _Ctx) -> Any:
        handler = _HANDLERS.get(node.type)
        return handler(self, node, ctx) if handler is not None else ctx

    # -- helpers -----------------------------------------------------------

    def doc(self, node: Node) -> str:
        comments = leading_comments(node)
        return first_doc_line(self.b.text(comments[0])) if comments else ""

    def type_names(
        self, node: Node | None, skip: frozenset[str], arguments: bool = True
    ) -> list[tuple[str, Node]]:
        """Named types inside a type expression (``*pkg.T``, ``[]T``, ``map[K]V``...).

        ``arguments=False`` leaves type arguments out: embedding ``Base[Item]``
        inherits ``Base``, not ``Item``.
        """
        found: list[tuple[str, Node]] = []
        stack = [node] if node is not None else []
        while stack:
            current = stack.pop()
            if current.type == "type_identifier":
                name = self.b.text(current)
                if name not in PREDECLARED_TYPES and name not in skip:
                    found.append((name, current))
            elif current.type == "qualified_type":
                found.append((self.b.text(current), current))
            elif current.type == "type_arguments" and not arguments:
                continue
            else:
                stack.extend(reversed(current.named_children))
        return found

    def type_params(self, node: Node | None) -> frozenset[str]:
        if node is None:
            return frozenset()
        return frozenset(
            self.b.text(name)
            for decl in node.named_children
            for name in decl.children_by_field_name("name")
        )

    def returns(self, owner: int, result: Node | None, skip: frozenset[str]) -> None:
        for name, at in self.type_names(result, skip):
            self.b.add_reference("returns", owner, name, at)

    # -- declarations --------------------------------------------------------

    def source_file(self, node: Node, ctx: _Ctx) -> _Ctx:
        return ctx

    def function(self, node: Node, ctx: _Ctx) -> Any:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return ctx
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return ctx
        body = node.child_by_field_name("body")
        tparams = self.type_params(node.child_by_field_name("type_parameters"))
        local_id = self.b.add_symbol(
            "function",
            name,
            qualify(self.module, name),
            node,
            ctx.parent,
            signature=header_text(self.b.source, node, body),
            visibility=visibility(name),
            doc=self.doc(node),
        )
        self.returns(local_id, node.child_by_field_name("result"), tparams)
        self.bind_parameters(local_id, node, tparams)
        inner = replace(
            ctx, scope=qualify(self.module, name), parent=local_id, owner=local_id, in_body=True
        )
        return [(body, replace(inner, type_params=tparams))] if body is not None else None

    def method(self, node: Node, ctx: _Ctx) -> Any:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return ctx
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return ctx
        receiver, type_name, tparams = self.receiver(node.child_by_field_name("receiver"))
        owner = qualify(self.module, type_name) if type_name else self.module
        body = node.child_by_field_name("body")
        local_id = self.b.add_symbol(
            "method",
            name,
            f"{owner}.{name}" if type_name else qualify(self.module, name),
            node,
            ctx.parent,
            signature=header_text(self.b.source, node, body),
            visibility=visibility(name),
            doc=self.doc(node),
        )
        if type_name:
            self.b.adopt_later(local_id, owner)
        self.returns(local_id, node.child_by_field_name("result"), tparams)
        self.bind_parameters(local_id, node, tparams)
        inner = _Ctx(
            scope=f"{owner}.{name}",
            parent=local_id,
            owner=local_id,
            in_body=True,
            receiver=receiver,
            type_params=tparams,
        )
        return [(body, inner)] if body is not None else None

    def bind_parameters(self, owner: int, node: Node, tparams: frozenset[str]) -> None:
        """Receiver, parameters and named results are locals of the function."""
        ctx = _Ctx(scope="", parent=owner, owner=owner, type_params=tparams)
        for field in ("receiver", "parameters", "result"):
            params = node.child_by_field_name(field)
            if params is not None and params.type == "parameter_list":
                for decl in params.named_children:
                    self.parameter(decl, ctx)

    def parameter(self, node: Node, ctx: _Ctx) -> _Ctx:
        """A parameter (of a function or a ``func`` literal), or a ``var`` in a
        body, binds its names; typed by a named type (``repo *Repo``, ``var s
        Server``) or, for a ``var`` without one, by a literal (``var s = Server{}``)."""
        names = node.children_by_field_name("name")
        declared = None
        if node.type != "variadic_parameter_declaration":
            declared = self.local_type(node.child_by_field_name("type"), ctx)
            value = node.child_by_field_name("value")
            if value is not None and value.type == "expression_list":
                value = value.named_children[0] if value.named_child_count == 1 else None
            if declared is None and value is not None and len(names) == 1:
                declared = self.built_type(value, ctx)
        for name in names:
            self.b.bind_local(ctx.owner, self.b.text(name), declared, at=name, scopes=SCOPES)
        return ctx

    def short_var(self, node: Node, ctx: _Ctx) -> _Ctx:
        """``x, err := f()``, ``for k, v := range m``, ``case v := <-ch``; a name
        given a composite literal (``s := &Server{}``) is typed by it."""
        left = node.child_by_field_name("left")
        if left is None or not any(c.type == ":=" for c in node.children):
            return ctx
        names = left.named_children if left.type == "expression_list" else [left]
        values: list[Node | None] = [None] * len(names)
        right = node.child_by_field_name("right")
        if node.type == "short_var_declaration" and right is not None:
            given = right.named_children if right.type == "expression_list" else [right]
            if len(given) == len(names):
                values = list(given)
        for name, value in zip(names, values, strict=True):
            if name.type == "identifier":
                built = self.built_type(value, ctx) if value is not None else None
                self.b.bind_local(ctx.owner, self.b.text(name), built, at=name, scopes=SCOPES)
        return ctx

    def local_type(self, node: Node | None, ctx: _Ctx) -> str | None:
        """The named type a local is declared with (``Repo``, ``*Repo``,
        ``store.Repo``, ``Box[int]``); None for slices, maps, funcs, interfaces,
        predeclared types and the function's type parameters."""
        while node is not None and node.type in ("pointer_type", "parenthesized_type"):
            node = node.named_children[0] if node.named_child_count else None
        if node is not None and node.type == "generic_type":
            node = node.child_by_field_name("type")
        if node is None or node.type not in ("type_identifier", "qualified_type"):
            return None
        name = self.b.text(node)
        if name in PREDECLARED_TYPES or name in ctx.type_params:
            return None
        if (ctx.owner, name) in self.local_types:  # a type of the function's own
            return None
        return name

    def built_type(self, value: Node | None, ctx: _Ctx) -> str | None:
        """The type a value builds: ``Server{...}`` or ``&Server{...}``."""
        if value is not None and value.type == "unary_expression":
            operator = value.child_by_field_name("operator")
            if operator is None or self.b.text(operator) != "&":
                return None
            value = value.child_by_field_name("operand")
        if value is None or value.type != "composite_literal":
            return None
        return self.local_type(value.child_by_field_name("type"), ctx)

    def type_switch(self, node: Node, ctx: _Ctx) -> _Ctx:
        """``switch v := x.(type)`` binds ``v``."""
        for alias in node.children_by_field_name("alias"):
            for name in alias.named_children if alias.type == "expression_list" else [alias]:
                self.b.bind_local(ctx.owner, self.b.text(name))
        return ctx

    def receiver(self, params: Node | None) -> tuple[str | None, str, frozenset[str]]:
        """(receiver variable, receiver type name, receiver type parameters)."""
        if params is None:
            return None, "", frozenset()
        for decl in params.named_children:
            if decl.type != "parameter_declaration":
                continue
            var = decl.child_by_field_name("name")
            kind = decl.child_by_field_name("type")
            while kind is not None and kind.type in ("pointer_type", "parenthesized_type"):
                kind = kind.named_children[0] if kind.named_children else None
            tparams: frozenset[str] = frozenset()
            if kind is not None and kind.type == "generic_type":
                args = kind.child_by_field_name("type_arguments")
                if args is not None:
                    tparams = frozenset(self.b.text(arg) for arg in args.named_children)
                kind = kind.child_by_field_name("type")
            # a receiver's type is a named type; anything else is a parse of broken code
            type_name = (
                self.b.text(kind) if kind is not None and kind.type == "type_identifier" else ""
            )
            name = self.b.text(var) if var is not None else None
            return (None if name == "_" else name), type_name, tparams
        return None, "", frozenset()

    def type_declaration(self, node: Node, ctx: _Ctx) -> Any:
        if ctx.in_body:  # local types are not indexed, but calls inside them are;
            for spec in node.named_children:  # and they hide package types of their name
                name = spec.child_by_field_name("name")
                if name is not None:
                    self.local_types.add((ctx.owner, self.b.text(name)))
            return ctx
        specs = [c for c in node.named_children if c.type in ("type_spec", "type_alias")]
        for spec in specs:
            self.type_spec(spec, node if len(specs) == 1 else spec, ctx)
        return None

    def type_spec(self, spec: Node, span: Node, ctx: _Ctx) -> None:
        name_node = spec.child_by_field_name("name")
        body = spec.child_by_field_name("type")
        if name_node is None or body is None:
            return
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return
        kind = {"struct_type": "struct", "interface_type": "interface"}.get(body.type, "type")
        if spec.type == "type_alias":
            kind = "type"
        stop = None
        if kind != "type":
            stop = next(
                (c for c in body.children if c.type in ("field_declaration_list", "{")), None
            )
        signature = header_text(self.b.source, spec, stop)
        qname = qualify(self.module, name)
        local_id = self.b.add_symbol(
            kind,
            name,
            qname,
            span,
            ctx.parent,
            signature=f"type {signature}",
            visibility=visibility(name),
            doc=self.doc(span),
        )
        tparams = self.type_params(spec.child_by_field_name("type_parameters"))
        inner = _Ctx(scope=qname, parent=local_id, owner=local_id, type_params=tparams)
        if kind == "struct":
            self.struct_fields(body, inner)
        elif kind == "interface":
            self.interface_elems(body, inner)

    def struct_fields(self, struct: Node, ctx: _Ctx) -> None:
        fields = next(
            (c for c in struct.named_children if c.type == "field_declaration_list"), None
        )
        if fields is None:
            return
        for decl in fields.named_children:
            if decl.type != "field_declaration":
                continue
            names = decl.children_by_field_name("name")
            kind = decl.child_by_field_name("type")
            owner = self.b.facts.symbols[ctx.owner].name
            declared = self.local_type(kind, ctx)
            if not names:  # embedded: struct { Base } / struct { *pkg.Base }
                for target, at in self.type_names(kind, ctx.type_params, arguments=False):
                    self.b.add_reference("inherits", ctx.owner, target, at)
                if declared is not None:  # the field is named after the type
                    self.b.declare_field_type(owner, declared.rpartition(".")[2], declared)
                continue
            tag = decl.child_by_field_name("tag")
            signature = header_text(self.b.source, decl, tag)
            for name_node in names:
                name = self.b.text(name_node)
                if not name:  # a name the parser had to invent (syntax error)
                    continue
                self.b.declare_field_type(owner, name, declared)
                local_id = self.b.add_symbol(
                    "field",
                    name,
                    f"{ctx.scope}.{name}",
                    decl if len(names) == 1 else name_node,
                    ctx.parent,
                    signature=signature,
                    visibility=visibility(name),
                    doc=self.doc(decl),
                )
                if kind is not None and kind.type == "struct_type":
                    self.struct_fields(
                        kind, replace(ctx, scope=f"{ctx.scope}.{name}", parent=local_id)
                    )

    def interface_elems(self, iface: Node, ctx: _Ctx) -> None:
        for elem in iface.named_children:
            if elem.type == "method_elem":
                name_node = elem.child_by_field_name("name")
                if name_node is None:
                    continue
                name = self.b.text(name_node)
                if not name:  # a name the parser had to invent (syntax error)
                    continue
                local_id = self.b.add_symbol(
                    "method",
                    name,
                    f"{ctx.scope}.{name}",
                    elem,
                    ctx.parent,
                    signature=one_line(self.b.text(elem)),
                    visibility=visibility(name),
                    doc=self.doc(elem),
                )
                self.returns(local_id, elem.child_by_field_name("result"), ctx.type_params)
            elif elem.type == "type_elem" and len(elem.named_children) == 1:
                # `io.Reader` embeds; a union `~int | ~string` is a constraint, not a base.
                for target, at in self.type_names(elem, ctx.type_params, arguments=False):
                    self.b.add_reference("inherits", ctx.owner, target, at)

    def value_declaration(self, node: Node, ctx: _Ctx) -> Any:
        """``const``/``var`` at package level: one symbol per declared name."""
        if ctx.in_body:
            for spec in node.named_children:
                for inner in spec.named_children if spec.type == "var_spec_list" else [spec]:
                    self.parameter(inner, ctx)  # local: binds its names
            return ctx
        kind = "constant" if node.type == "const_declaration" else "variable"
        keyword = "const" if kind == "constant" else "var"
        specs: list[Node] = []
        for child in node.named_children:  # `var ( ... )` wraps its specs in a list
            specs.extend(child.named_children if child.type == "var_spec_list" else [child])
        specs = [s for s in specs if s.type in ("const_spec", "var_spec")]
        for spec in specs:
            span = node if len(specs) == 1 else spec
            names = [n for n in spec.children_by_field_name("name") if n.type == "identifier"]
            for name_node in names:
                name = self.b.text(name_node)
                if not name:  # a name the parser had to invent (syntax error)
                    continue
                if name == "_":
                    continue
                self.b.add_symbol(
                    kind,
                    name,
                    qualify(self.module, name),
                    span if len(names) == 1 else name_node,
                    ctx.parent,
                    signature=f"{keyword} {one_line(self.b.text(spec))}",
                    visibility=visibility(name),
                    doc=self.doc(span),
                )
        return ctx  # initialisers may call functions: attributed to the module

    def import_spec(self, node: Node, ctx: _Ctx) -> None:
        path_node = node.child_by_field_name("path")
        if path_node is None:
            return None
        target = self.b.text(path_node).strip('"`')
        alias_node = node.child_by_field_name("name")
        alias = self.b.text(alias_node) if alias_node is not None else package_name(target)
        member = None
        if alias == ".":  # dot import: every exported name enters the file scope
            alias, member = None, "*"
        elif alias == "_":  # blank import: for side effects, binds nothing
            alias = None
        self.b.add_reference("imports", 0, target, node, member=member, alias=alias)
        return None

    # -- references ------------------------------------------------------------

    def call(self, node: Node, ctx: _Ctx) -> _Ctx:
        callee = node.child_by_field_name("function")
        if callee is None:
            return ctx
        if callee.type in ("index_expression", "generic_type"):  # f[T](x)
            callee = callee.child_by_field_name("operand") or callee.child_by_field_name("type")
        if callee is None or unparenthesized(callee).type == "func_literal":
            return ctx  # an immediately called closure: its calls are the owner's
        if callee.type == "identifier" and self.b.text(callee) in PREDECLARED_TYPES:
            return ctx  # int64(x) converts, it calls nothing
        target = self.callee_text(callee)
        if target is None:  # f()(), m[k].Do(): kept as written, never resolved
            target = one_line(self.b.text(callee), MAX_CALLEE)
        written, via_self = target, False
        head, _, rest = target.partition(".")
        if ctx.receiver is not None and head == ctx.receiver and rest and "." not in rest:
            target, via_self = rest, True
        self.b.add_call(ctx.owner, target, node, via_self=via_self, receiver=(head, written))
        return ctx

    def conversion(self, node: Node, ctx: _Ctx) -> _Ctx:
        """``Map[int](x)`` parses as a conversion; a generic *function* call it may be."""
        kind = node.child_by_field_name("type")
        if kind is not None and kind.type == "generic_type":
            base = kind.child_by_field_name("type")
            if base is not None and base.type == "type_identifier":
                self.b.add_call(ctx.owner, self.b.text(base), node)
        return ctx

    def callee_text(self, node: Node) -> str | None:
        """``f``, ``pkg.F`` or ``a.b.c`` for a name path; None for computed callees."""
        if node.type == "identifier":
            return self.b.text(node)
        if node.type == "selector_expression":
            operand = node.child_by_field_name("operand")
            field = node.child_by_field_name("field")
            if operand is None or field is None:
                return None
            head = (
                self.callee_text(operand) if operand.type != "identifier" else self.b.text(operand)
            )
            return f"{head}.{self.b.text(field)}" if head else None
        return None


_HANDLERS = {
    "source_file": _GoExtractor.source_file,
    "function_declaration": _GoExtractor.function,
    "method_declaration": _GoExtractor.method,
    "type_declaration": _GoExtractor.type_declaration,
    "const_declaration": _GoExtractor.value_declaration,
    "var_declaration": _GoExtractor.value_declaration,
    "import_spec": _GoExtractor.import_spec,
    "parameter_declaration": _GoExtractor.parameter,
    "variadic_parameter_declaration": _GoExtractor.parameter,
    "short_var_declaration": _GoExtractor.short_var,
    "range_clause": _GoExtractor.short_var,
    "receive_statement": _GoExtractor.short_var,
    "type_switch_statement": _GoExtractor.type_switch,
    "call_expression": _GoExtractor.call,
    "type_conversion_expression": _GoExtractor.conversion,
    "comment": lambda self, node, ctx: None,
}


def extract(tree: tree_sitter.Tree, source: bytes, path: str, module: str) -> FileFacts:
    """Walk one parsed Go file; never raises on a syntax error (partial facts)."""
    root = tree.root_node
    clause = next((c for c in root.named_children if c.type == "package_clause"), None)
    package = ""
    if clause is not None and clause.named_children:
        package = node_text(source, clause.named_children[0])
        if not package.isidentifier():  # error recovery can swallow junk into the name
            package = ""
    if package.endswith("_test") and path.endswith("_test.go"):
        # an external test package (``package calc_test`` beside ``package calc``):
        # a package of its own, seeing ``calc`` only through an import
        module = package if module == ROOT_MODULE else f"{module}_test"
    doc = ""
    if clause is not None:
        comments = leading_comments(clause)
        doc = first_doc_line(node_text(source, comments[0])) if comments else ""
    b = FactsBuilder(
        source,
        path,
        "go",
        module,
        root,
        module_label=package or posixpath.basename(module),
        doc=doc,
        signature=f"package {package}" if package else "",
    )
    extractor = _GoExtractor(b, module)
    walk(root, _Ctx(scope=module, parent=0, owner=0), extractor.visit)
    return b.finish(TYPE_KINDS, root)


LANGUAGE = LanguageSpec(
    name="go",
    extensions=(".go",),
    grammar=grammar,
    extract=extract,
    module_name=module_name,
    import_module=import_module,
    separator=".",
    builtins=BUILTINS,
    members_in_scope=False,  # a bare f() in a method never means the receiver's f
    package_of=package_is_module,  # the package directory
    config_files=("go.mod",),  # import_module reads the module path from it
)
