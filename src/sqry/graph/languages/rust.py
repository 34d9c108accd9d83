"""Rust: symbols and references from one ``.rs`` file.

Decisions (documented here because users see their effects):

* **Module names** follow the crate layout: ``src/lib.rs`` and ``src/main.rs`` are
  ``crate``; ``src/a/b.rs`` and ``src/a/b/mod.rs`` are ``crate::a::b`` (the last
  ``src`` directory of the path marks the crate, so ``crates/x/src/a.rs`` is
  ``crate::a`` too — crates of one workspace share the ``crate`` prefix). A file
  outside any ``src`` directory (``tests/it.rs``, ``build.rs``) is its own crate
  root named after its path: ``tests::it``.
* **Inline** ``mod x { ... }`` is a ``module`` symbol, like a file module; ``mod x;``
  is an ``imports`` reference to ``self::x`` binding ``x`` (``x::f()`` then
  goes through it, as through ``use self::x;``).
* **``use`` trees** are flattened: ``use a::{b, c as d, e::*}`` gives ``a``/``b``,
  ``a``/``c`` as ``d`` and ``a::e``/``*`` (target/member). ``self``/``super`` paths in
  an inline module are made absolute here, since :func:`import_module` only
  knows the file — and so are those of calls and types (``super::f()`` in
  ``mod deep`` of ``crate::net`` calls ``crate::net::f``). Paths starting with
  ``crate``/``super``/``self`` are ``rooted_heads``: the resolver makes them
  absolute with :func:`import_module` and looks the modules (file or inline) up.
* **Visibility**: ``pub`` → public; ``pub(crate)``, ``pub(super)``, ``pub(in p)`` →
  internal; none or ``pub(self)`` → private. Trait items and trait-impl items are
  public (as reachable as the trait); enum variants take the enum's.
* **Kinds**: ``fn`` inside ``impl``/``trait`` → ``method`` (``is_static`` when it
  takes no ``self``); ``const`` → ``constant``; ``static`` → ``constant`` with
  ``is_static``; ``macro_rules!`` → ``macro`` (public when ``#[macro_export]``).
* **Relations**: supertraits are ``inherits``; ``impl Trait for Type`` is
  ``implements`` from ``Type`` — only when this file defines ``Type``, since the
  edge needs a local source. ``self.m()`` and ``Self::m()`` are ``via_self``; macro
  invocations are calls to the macro (``sq!`` → ``sq``); inside the arguments of
  the standard expression macros (``assert!``, ``println!``, ``vec!``...) calls
  are read off the tokens (``f(...)``, ``a::f(...)``, ``x.f(...)``). A call
  through a parameter or ``let`` of a named type (``repo: &Repo``, ``let r: Repo``,
  ``let r = Repo { .. }``) is recorded as ``Repo::save`` when every binding of the
  name in the function agrees (``FactsBuilder.bind_local``); ``let r =
  Repo::new()`` is not read (what ``new`` returns is not known here). Through a
  field of a struct this file declares, too: ``self.repo.save()`` in its ``impl``,
  ``s.repo.save()`` with ``s: &Service`` (``FactsBuilder.owner_field_call``).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace
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
from sqry.graph.languages.base import LanguageSpec

if TYPE_CHECKING:
    import tree_sitter
    from tree_sitter import Node

    from sqry.graph.model import FileFacts

SEP = "::"
TYPE_KINDS = ("struct", "enum", "trait", "type")
#: Crates that are never in the workspace: their imports leave it.
EXTERNAL_ROOTS = frozenset({"std", "core", "alloc", "proc_macro", "test"})
#: Prelude constructors: ``Some(x)`` builds a value, it calls nothing of ours.
PRELUDE_CONSTRUCTORS = frozenset({"Some", "None", "Ok", "Err"})
_GENERIC_ARGS = re.compile(r"<[^<>]*>")
_ATTRIBUTES = frozenset({"attribute_item"})
MAX_CALLEE = 100  # a computed callee is kept as written, up to this length
#: Standard macros whose arguments are expressions: calls inside them are read.
EXPRESSION_MACROS = frozenset(
    "assert assert_eq assert_ne debug_assert debug_assert_eq debug_assert_ne dbg eprint "
    "eprintln format format_args panic print println todo unimplemented unreachable vec "
    "write writeln".split()
)
#: What a local's scope can be (see ``FactsBuilder.bind_local``).
SCOPES = frozenset(
    "block function_item closure_expression for_expression if_expression while_expression "
    "loop_expression match_arm".split()
)
PRIMITIVE_TYPES = frozenset(
    "bool char str String i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64".split()
)
#: Prelude functions and std macros: a bare ``drop(x)`` / ``vec![]`` is never ours.
BUILTINS = frozenset(
    "drop assert assert_eq assert_ne cfg column compile_error concat dbg debug_assert "
    "debug_assert_eq debug_assert_ne env eprint eprintln file format format_args include "
    "include_bytes include_str line matches module_path option_env panic print println "
    "stringify todo unimplemented unreachable vec write writeln".split()
)


def grammar() -> tree_sitter.Language:
    import tree_sitter
    import tree_sitter_rust

    return tree_sitter.Language(tree_sitter_rust.language())


def module_name(path: str) -> str:
    """``crate::a::b`` for ``src/a/b.rs`` / ``src/a/b/mod.rs``; ``crate`` for the roots."""
    parts = path.split("/")
    stem = posixpath.splitext(parts[-1])[0]
    parts[-1] = stem
    if "src" not in parts[:-1]:
        return SEP.join(p for p in parts if p)
    inner = parts[len(parts) - 1 - parts[::-1].index("src") :][1:]
    if inner in (["lib"], ["main"]):
        return "crate"
    if inner and inner[-1] == "mod":
        inner = inner[:-1]
    return SEP.join(["crate", *inner])


def import_module(path: str, spec: str) -> str | None:
    """Make a ``use`` path absolute: ``crate::``/``self::``/``super::`` against ``path``.

    Other first segments are, since Rust 2018, either an external crate or a name
    in the current module; the latter is assumed (an external crate then simply
    matches nothing in the workspace), except for the standard crates.
    """
    module = module_name(path)
    segments = spec.split(SEP)
    head = segments[0]
    if head in EXTERNAL_ROOTS or not head:
        return None
    if head == "crate":
        root = "crate" if module.startswith("crate") else module.split(SEP)[0]
        return SEP.join([root, *segments[1:]])
    base = module.split(SEP)
    while segments and segments[0] == "super":
        if len(base) <= 1:
            return None
        base = base[:-1]
        segments = segments[1:]
    if segments and segments[0] == "self":
        segments = segments[1:]
    return SEP.join(base + segments)


def strip_generics(text: str) -> str:
    """``Vec::<u8>::new`` → ``Vec::new``; ``Point<T>`` → ``Point`` (nested too)."""
    previous = None
    while previous != text:
        previous, text = text, _GENERIC_ARGS.sub("", text)
    return text.replace("::::", SEP).replace(" ", "").rstrip(":")


def visibility_of(node: Node, source: bytes) -> str:
    for child in node.children:
        if child.type == "visibility_modifier":
            text = node_text(source, child).replace(" ", "")
            if text == "pub":
                return "public"
            return "private" if text == "pub(self)" else "internal"
    return "private"


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Where the walk is: what owns references and names new symbols."""

    scope: str  # qualified name children are named under
    module: str  # the (inline) module path, for self::/super:: in `use`
    parent: int
    owner: int  # local_id references are attributed to
    container: str = ""  # "impl", "trait_impl" or "trait" when directly inside one
    self_type: str = ""  # qualified name of the impl's type (for `Self`)
    in_body: bool = False
    type_params: frozenset[str] = frozenset()
    member_visibility: str = ""  # forced visibility of trait / trait-impl items


class _RustExtractor:
    def __init__(self, b: FactsBuilder, file_module: str) -> None:
        self.b = b
        self.file_module = file_module
        # per module body (node id): the type/module names it defines and its
        # ``use`` declarations, read once however many ``impl``s it holds
        self._bodies: dict[int, tuple[set[str], list[Node]]] = {}

    def visit(self, node: Node, ctx: _Ctx) -> Any:
        handler = _HANDLERS.get(node.type)
        return handler(self, node, ctx) if handler is not None else ctx

    # -- helpers -----------------------------------------------------------

    def doc(self, node: Node) -> str:
        for comment in leading_comments(node, _ATTRIBUTES):
            text = self.b.text(comment)
            if is_outer_doc(text):
                return first_doc_line(text)
        return ""

    def visibility(self, node: Node, ctx: _Ctx) -> str:
        return ctx.member_visibility or visibility_of(node, self.b.source)

    def type_params(self, node: Node | None) -> frozenset[str]:
        if node is None:
            return frozenset()
        names = set()
        for param in node.named_children:
            name = param.child_by_field_name("name")
            if name is None and param.named_children:
                name = param.named_children[0]
            if name is not None:
                names.add(self.b.text(name))
        return frozenset(names)

    def type_names(
        self, node: Node | None, ctx: _Ctx, arguments: bool = True
    ) -> list[tuple[str, Node]]:
        """Named types in a type expression; primitives and type parameters left out.

        ``arguments=False`` leaves generic arguments out: ``trait Wrap:
        Conv<Item>`` inherits ``Conv``, not ``Item``.
        """
        found: list[tuple[str, Node]] = []
        stack = [node] if node is not None else []
        while stack:
            current = stack.pop()
            kind = current.type
            if kind == "type_identifier":
                name = self.b.text(current)
                if name == "Self" and ctx.self_type:
                    found.append((ctx.self_type, current))
                elif name not in ctx.type_params and name != "Self":
                    found.append((name, current))
            elif kind == "scoped_type_identifier":
                found.append((self.rooted(strip_generics(self.b.text(current)), ctx), current))
            elif kind == "type_arguments" and not arguments:
                continue
            elif kind == "type_binding":  # Iterator<Item = T>: the binding's name is no type
                bound = current.child_by_field_name("type")
                if bound is not None:
                    stack.append(bound)
            elif kind not in ("lifetime", "primitive_type"):
                stack.extend(reversed(current.named_children))
        return found

    def path_name(self, node: Node | None) -> str:
        """A type path as written, generic arguments and references removed."""
        while node is not None and node.type in ("reference_type", "pointer_type"):
            node = node.child_by_field_name("type")
        if node is None:
            return ""
        if node.type == "generic_type":
            node = node.child_by_field_name("type")
        return strip_generics(self.b.text(node)) if node is not None else ""

    def self_type_qname(self, type_path: str, ctx: _Ctx, impl: Node) -> str:
        """Where methods of ``impl type_path`` are named: where the type is.

        ``crate::a::T`` and ``self::``/``super::`` paths name it; a first segment
        a ``use`` beside the ``impl`` binds to a path in this crate stands for
        that path (``use crate::model::User; impl User`` names the methods
        ``crate::model::User::new``: the resolver finds them as ``User``'s
        members), unless this module defines a type or module of that name;
        else the type is taken to be in this module (``impl T``, ``impl a::T``
        → ``<module>::T``).
        """
        segments = type_path.split(SEP)
        if segments[0] == "crate":
            return type_path
        if segments[0] in ("self", "super"):
            return SEP.join(self.absolute_in(segments, ctx.module))
        defined, uses = self.body_items(impl.parent)
        if segments[0] not in defined:
            for item in uses:
                bound = self.use_binding(item, segments[0], ctx)
                if bound is not None:
                    return SEP.join(bound + segments[1:])
        return f"{ctx.module}{SEP}{segments[-1]}"

    def body_items(self, body: Node | None) -> tuple[set[str], list[Node]]:
        """The type and module names ``body`` defines, and its ``use`` items."""
        if body is None:
            return set(), []
        found = self._bodies.get(body.id)
        if found is None:
            defined: set[str] = set()
            uses: list[Node] = []
            for item in body.named_children:
                if item.type == "use_declaration":
                    uses.append(item)
                elif item.type in _TYPE_ITEM_KINDS or item.type == "mod_item":
                    name = item.child_by_field_name("name")
                    if name is not None:
                        defined.add(self.b.text(name))
            found = self._bodies[body.id] = (defined, uses)
        return found

    def use_binding(self, node: Node, name: str, ctx: _Ctx) -> list[str] | None:
        """The absolute path (in this crate) the ``use`` ``node`` binds ``name`` to."""
        found: list[list[str]] = []
        argument = node.child_by_field_name("argument")
        stack = [(argument, [])] if argument is not None else []
        while stack:
            tree, prefix = stack.pop()
            kind = tree.type
            if kind == "use_as_clause":
                path, alias = tree.child_by_field_name("path"), tree.child_by_field_name("alias")
                if path is not None and alias is not None and self.b.text(alias) == name:
                    found.append(prefix + self.segments(path))
            elif kind in ("scoped_use_list", "use_list"):
                path = tree.child_by_field_name("path") if kind == "scoped_use_list" else None
                inner = prefix + (self.segments(path) if path is not None else [])
                items = tree.child_by_field_name("list") if kind == "scoped_use_list" else tree
                stack.extend((item, inner) for item in (items.named_children if items else []))
            elif kind != "use_wildcard":
                segments = prefix + self.segments(tree)
                if segments and segments[-1] == name:
                    found.append(segments)
        for segments in found:
            if segments[0] in ("crate", "self", "super"):
                return self.absolute_in(segments, ctx.module)
        return None

    # -- items ---------------------------------------------------------------

    def function(self, node: Node, ctx: _Ctx) -> Any:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return ctx
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return ctx
        body = node.child_by_field_name("body")
        params = node.child_by_field_name("parameters")
        in_type = ctx.container in ("impl", "trait_impl", "trait")
        takes_self = params is not None and any(
            c.type == "self_parameter" for c in params.named_children
        )
        modifiers = next((c for c in node.children if c.type == "function_modifiers"), None)
        is_async = modifiers is not None and "async" in self.b.text(modifiers).split()
        tparams = ctx.type_params | self.type_params(node.child_by_field_name("type_parameters"))
        qname = f"{ctx.scope}{SEP}{name}"
        local_id = self.b.add_symbol(
            "method" if in_type else "function",
            name,
            qname,
            node,
            ctx.parent,
            signature=header_text(self.b.source, node, body),
            visibility=self.visibility(node, ctx),
            is_async=is_async,
            is_static=in_type and not takes_self,
            doc=self.doc(node),
        )
        if in_type and ctx.container != "trait":
            self.b.adopt_later(local_id, ctx.scope)
        inner = replace(ctx, type_params=tparams)
        for target, at in self.type_names(node.child_by_field_name("return_type"), inner):
            self.b.add_reference("returns", local_id, target, at)
        for param in params.named_children if params is not None else []:
            if param.type == "parameter":
                declared = self.local_type(param.child_by_field_name("type"), inner)
                self.bind_pattern(param.child_by_field_name("pattern"), local_id, declared)
        if body is None:
            return None
        inner = replace(
            inner,
            scope=qname,
            parent=local_id,
            owner=local_id,
            container="",
            in_body=True,
            member_visibility="",
        )
        return [(body, inner)]

    def type_item(self, node: Node, ctx: _Ctx) -> Any:
        """struct / enum / union / trait / type alias."""
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return ctx
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return ctx
        kind = _TYPE_ITEM_KINDS[node.type]
        if node.type == "type_item" and ctx.container in ("impl", "trait_impl"):
            return None  # associated types of impls would repeat per impl; not indexed
        body = node.child_by_field_name("body")
        qname = f"{ctx.scope}{SEP}{name}"
        vis = self.visibility(node, ctx)
        local_id = self.b.add_symbol(
            kind,
            name,
            qname,
            node,
            ctx.parent,
            signature=header_text(self.b.source, node, body),
            visibility=vis,
            doc=self.doc(node),
        )
        tparams = ctx.type_params | self.type_params(node.child_by_field_name("type_parameters"))
        inner = replace(
            ctx,
            scope=qname,
            parent=local_id,
            owner=local_id,
            container="",
            type_params=tparams,
            member_visibility="",
        )
        if node.type == "trait_item":
            bounds = node.child_by_field_name("bounds")
            for target, at in self.type_names(bounds, inner, arguments=False):
                self.b.add_reference("inherits", local_id, target, at)
            inner = replace(inner, container="trait", member_visibility=vis)
            return [(body, inner)] if body is not None else None
        if node.type == "enum_item" and body is not None:
            self.variants(body, replace(inner, member_visibility=vis))
        elif body is not None and body.type == "field_declaration_list":
            self.fields(body, inner)
        return None

    def variants(self, body: Node, ctx: _Ctx) -> None:
        for variant in body.named_children:
            if variant.type != "enum_variant":
                continue
            name_node = variant.child_by_field_name("name")
            if name_node is None:
                continue
            name = self.b.text(name_node)
            if not name:  # a name the parser had to invent (syntax error)
                continue
            fields = variant.child_by_field_name("body")
            local_id = self.b.add_symbol(
                "enum_variant",
                name,
                f"{ctx.scope}{SEP}{name}",
                variant,
                ctx.parent,
                signature=one_line(self.b.text(variant)),
                visibility=ctx.member_visibility,
                doc=self.doc(variant),
            )
            if fields is not None and fields.type == "field_declaration_list":
                self.fields(fields, replace(ctx, scope=f"{ctx.scope}{SEP}{name}", parent=local_id))

    def fields(self, body: Node, ctx: _Ctx) -> None:
        owner = ctx.scope.rpartition(SEP)[2]
        for decl in body.named_children:
            name_node = decl.child_by_field_name("name")
            if decl.type != "field_declaration" or name_node is None:
                continue
            name = self.b.text(name_node)
            if not name:  # a name the parser had to invent (syntax error)
                continue
            declared = self.local_type(decl.child_by_field_name("type"), ctx)
            self.b.declare_field_type(ctx.scope, name, declared)  # as ``self``'s type
            if ctx.module == self.file_module:  # as a local's: a bare name means this
                self.b.declare_field_type(owner, name, declared)  # one only at the top
            self.b.add_symbol(
                "field",
                name,
                f"{ctx.scope}{SEP}{name}",
                decl,
                ctx.parent,
                signature=one_line(self.b.text(decl)),
                visibility=ctx.member_visibility or visibility_of(decl, self.b.source),
                doc=self.doc(decl),
            )

    def impl(self, node: Node, ctx: _Ctx) -> Any:
        type_path = self.path_name(node.child_by_field_name("type"))
        body = node.child_by_field_name("body")
        if body is None or not all(part.isidentifier() for part in type_path.split(SEP)):
            return ctx  # no type we can name (`impl<T> X for (A, B)`, or a syntax error)
        tparams = ctx.type_params | self.type_params(node.child_by_field_name("type_parameters"))
        self_qname = self.self_type_qname(type_path, ctx, node)
        trait = node.child_by_field_name("trait")
        if trait is not None:
            trait_path = self.rooted(self.path_name(trait), ctx)
            ref = self.b.add_reference("implements", ctx.owner, trait_path, trait)
            self.b.source_later(ref, self_qname)
        inner = replace(
            ctx,
            scope=self_qname,
            container="trait_impl" if trait is not None else "impl",
            self_type=self_qname,
            type_params=tparams,
            member_visibility="public" if trait is not None else "",
        )
        return [(body, inner)]

    def constant(self, node: Node, ctx: _Ctx) -> Any:
        if ctx.in_body:
            return ctx
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return ctx
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return ctx
        value = node.child_by_field_name("value")
        qname = f"{ctx.scope}{SEP}{name}"
        local_id = self.b.add_symbol(
            "constant",
            name,
            qname,
            node,
            ctx.parent,
            signature=header_text(self.b.source, node, value),
            visibility=self.visibility(node, ctx),
            is_static=node.type == "static_item",
            doc=self.doc(node),
        )
        if ctx.container in ("impl", "trait_impl"):
            self.b.adopt_later(local_id, ctx.scope)
        return [(value, ctx)] if value is not None else None

    def macro_definition(self, node: Node, ctx: _Ctx) -> Any:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return None
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return None
        exported = self.has_attribute(node, "macro_export")
        self.b.add_symbol(
            "macro",
            name,
            f"{ctx.scope}{SEP}{name}",
            node,
            ctx.parent,
            signature=f"macro_rules! {name}",
            visibility="public" if exported else "private",
            doc=self.doc(node),
        )
        return None

    def has_attribute(self, node: Node, name: str) -> bool:
        prev = node.prev_named_sibling
        while prev is not None and (prev.type == "attribute_item" or "comment" in prev.type):
            if prev.type == "attribute_item" and name in self.b.text(prev):
                return True
            prev = prev.prev_named_sibling
        return False

    def module_item(self, node: Node, ctx: _Ctx) -> Any:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return ctx
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return ctx
        body = node.child_by_field_name("body")
        if body is None:  # `mod x;`: the module lives in its own file
            target = (
                f"self{SEP}{name}" if ctx.module == self.file_module else f"{ctx.module}{SEP}{name}"
            )
            self.b.add_reference("imports", ctx.owner, target, node, alias=name)
            return None
        qname = f"{ctx.scope}{SEP}{name}"
        doc = self.doc(node) or self.inner_doc(body)
        local_id = self.b.add_symbol(
            "module",
            name,
            qname,
            node,
            ctx.parent,
            signature=header_text(self.b.source, node, body),
            visibility=visibility_of(node, self.b.source),
            doc=doc,
        )
        inner = _Ctx(scope=qname, module=qname, parent=local_id, owner=local_id)
        return [(body, inner)]

    def inner_doc(self, body: Node) -> str:
        """First ``//!`` line at the top of a module body (or a file)."""
        for child in body.children:
            if "comment" in child.type:
                text = self.b.text(child)
                if text.startswith(("//!", "/*!")):
                    return first_doc_line(text)
            elif child.type not in ("{", "attribute_item", "inner_attribute_item"):
                break
        return ""

    # -- imports ---------------------------------------------------------------

    def use(self, node: Node, ctx: _Ctx) -> None:
        argument = node.child_by_field_name("argument")
        if argument is not None:
            self.use_tree(argument, [], ctx, node)
        return None

    def use_tree(self, node: Node, prefix: list[str], ctx: _Ctx, at: Node) -> None:
        kind = node.type
        if kind == "use_as_clause":
            path = node.child_by_field_name("path")
            alias = node.child_by_field_name("alias")
            if path is not None:
                self.emit_use(
                    prefix + self.segments(path), ctx, at, self.b.text(alias) if alias else None
                )
        elif kind == "use_wildcard":
            path = node.named_children[0] if node.named_children else None
            segments = prefix + (self.segments(path) if path is not None else [])
            self.emit_use([*segments, "*"], ctx, at, None)
        elif kind in ("scoped_use_list", "use_list"):
            path = node.child_by_field_name("path") if kind == "scoped_use_list" else None
            inner = prefix + (self.segments(path) if path is not None else [])
            items = node.child_by_field_name("list") if kind == "scoped_use_list" else node
            for item in items.named_children if items is not None else []:
                self.use_tree(item, inner, ctx, at)
        else:
            self.emit_use(prefix + self.segments(node), ctx, at, None)

    def segments(self, node: Node) -> list[str]:
        return [s for s in strip_generics(self.b.text(node)).split(SEP) if s]

    def emit_use(self, segments: list[str], ctx: _Ctx, at: Node, alias: str | None) -> None:
        if segments and segments[-1] == "self":  # `a::{self}` imports `a` itself
            segments = segments[:-1]
        if not segments:
            return
        segments = self.absolute(segments, ctx)
        if segments[-1] == "*":
            target, member = SEP.join(segments[:-1]), "*"
        elif len(segments) == 1:
            target, member = segments[0], None
        else:
            target, member = SEP.join(segments[:-1]), segments[-1]
            alias = alias or member
        if alias == "_":
            alias = None
        self.b.add_reference("imports", ctx.owner, target, at, member=member, alias=alias)

    def absolute(self, segments: list[str], ctx: _Ctx) -> list[str]:
        """Inside an inline module, rewrite ``self``/``super`` against that module."""
        if ctx.module == self.file_module:
            return segments
        return self.absolute_in(segments, ctx.module)

    @staticmethod
    def absolute_in(segments: list[str], module: str) -> list[str]:
        """``segments`` with a leading ``self``/``super`` rewritten against ``module``."""
        if segments[0] not in ("self", "super"):
            return segments
        base = module.split(SEP)
        rest = segments
        while rest and rest[0] == "super" and len(base) > 1:
            base, rest = base[:-1], rest[1:]
        if rest and rest[0] == "self":
            rest = rest[1:]
        return base + rest

    def rooted(self, path: str, ctx: _Ctx) -> str:
        """A call's or type's path with ``self``/``super`` made absolute inside an
        inline module (as :meth:`absolute` does for ``use``); else as written."""
        if ctx.module == self.file_module or not path.startswith(("self::", "super::")):
            return path
        return SEP.join(self.absolute(path.split(SEP), ctx))

    def extern_crate(self, node: Node, ctx: _Ctx) -> None:
        name = node.child_by_field_name("name")
        alias = node.child_by_field_name("alias")
        if name is not None:
            self.b.add_reference(
                "imports",
                ctx.owner,
                self.b.text(name),
                node,
                alias=self.b.text(alias) if alias is not None else None,
            )
        return None

    # -- calls -------------------------------------------------------------------

    def call(self, node: Node, ctx: _Ctx) -> _Ctx:
        callee = node.child_by_field_name("function")
        if callee is not None and callee.type == "generic_function":
            callee = callee.child_by_field_name("function")
        if callee is None:
            return ctx
        if unparenthesized(callee).type == "closure_expression":
            return ctx  # an immediately called closure: its calls are the owner's
        target, via_self = self.callee(callee)
        if target is None:  # f()(), v[0](): kept as written, never resolved
            target = one_line(self.b.text(callee), MAX_CALLEE)
        else:
            target = self.rooted(target, ctx)
        if target not in PRELUDE_CONSTRUCTORS:
            self.b.add_call(ctx.owner, target, node, via_self=via_self)
            if ctx.self_type and target.startswith("self.") and target.count(".") >= 2:
                self.b.owner_field_call(self.b.facts.references[-1], ctx.self_type)
        return ctx

    def callee(self, node: Node) -> tuple[str | None, bool]:
        kind = node.type
        if kind == "identifier":
            return self.b.text(node), False
        if kind == "scoped_identifier":
            path = node.child_by_field_name("path")
            if path is not None and path.type == "bracketed_type":
                return None, False  # <T as Trait>::f: needs type inference
            text = strip_generics(self.b.text(node))
            if text.startswith("Self::") and text.count(SEP) == 1:
                return text[len("Self::") :], True
            if text.startswith("self::"):
                text = text[len("self::") :]
            return text, False
        if kind == "field_expression":
            value = node.child_by_field_name("value")
            field = node.child_by_field_name("field")
            if value is None or field is None:
                return None, False
            if value.type == "self":
                return self.b.text(field), True
            head = self.value_path(value)
            return (f"{head}.{self.b.text(field)}" if head else None), False
        return None, False

    def value_path(self, node: Node) -> str | None:
        """``a`` or ``a.b.c`` for a receiver that is a plain name path."""
        if node.type in ("identifier", "self"):
            return self.b.text(node)
        if node.type == "field_expression":
            value = node.child_by_field_name("value")
            field = node.child_by_field_name("field")
            head = self.value_path(value) if value is not None else None
            return f"{head}.{self.b.text(field)}" if head and field is not None else None
        return None

    def macro_call(self, node: Node, ctx: _Ctx) -> None:
        macro = node.child_by_field_name("macro")
        if macro is None:
            return None
        name = self.rooted(strip_generics(self.b.text(macro)), ctx)
        self.b.add_call(ctx.owner, name, node)
        if name in EXPRESSION_MACROS:
            for child in node.named_children:
                if child.type == "token_tree":
                    self.token_tree_calls(child, ctx)
        return None

    def token_tree_calls(self, tree: Node, ctx: _Ctx) -> None:
        """Calls inside the arguments of ``assert!``, ``println!``, ``vec!``...

        tree-sitter keeps macro arguments as a flat token tree, so calls there are
        read off the tokens: a name path (``f``, ``a::f``, ``x.f``, ``self.f``)
        directly followed by a parenthesised group. Nested expression macros are
        read too; other macros' arguments are not code we can read.
        """
        tokens = tree.children
        for index, token in enumerate(tokens):
            if token.type != "token_tree":
                continue
            if token.child_count and token.children[0].type == "(" and index:
                path = self.token_path(tokens, index - 1)
                if path is not None:
                    target, start = path
                    via_self = False
                    for prefix in ("self.", "Self::"):
                        rest = target[len(prefix) :]
                        if target.startswith(prefix) and rest.isidentifier():
                            target, via_self = rest, True
                    if target not in PRELUDE_CONSTRUCTORS:
                        target = target if via_self else self.rooted(target, ctx)
                        self.b.add_call(ctx.owner, target, start, via_self=via_self)
            name = tokens[index - 2] if index > 1 and tokens[index - 1].type == "!" else None
            if name is not None and name.type == "identifier":  # a nested `m!(...)`
                macro = self.b.text(name)
                self.b.add_call(ctx.owner, macro, name)
                if macro not in EXPRESSION_MACROS:
                    continue
            self.token_tree_calls(token, ctx)

    def token_path(self, tokens: list[Node], last: int) -> tuple[str, Node] | None:
        """The name path ending at ``tokens[last]`` and its first token, if any."""
        if tokens[last].type not in ("identifier", "self", "super", "crate"):
            return None
        first = last
        while (
            first >= 2
            and tokens[first - 1].type in (".", "::")
            and tokens[first - 2].type in ("identifier", "self", "super", "crate")
        ):
            first -= 2
        if first >= 1 and tokens[first - 1].type in (".", "::", "!"):
            return None  # `x.y().f(...)` or `m!(...)`: not a name path
        text = "".join(self.b.text(t) for t in tokens[first : last + 1])
        return text, tokens[first]

    # -- local bindings ------------------------------------------------------------

    def bind_pattern(self, pattern: Node | None, owner: int, type_name: str | None = None) -> None:
        """Every name a pattern binds (``(a, mut b)``, ``Point { x, y: z }``, ``Some(v)``);
        ``type_name`` types a pattern that is one name (``repo: &Repo``, ``mut r``)."""
        if pattern is not None and pattern.type == "mut_pattern" and pattern.named_child_count:
            pattern = pattern.named_children[0]
        if pattern is not None and pattern.type == "identifier":
            self.b.bind_local(owner, self.b.text(pattern), type_name, at=pattern, scopes=SCOPES)
            return
        stack = [pattern] if pattern is not None else []
        while stack:
            current = stack.pop()
            if current.type in ("identifier", "shorthand_field_identifier"):
                self.b.bind_local(owner, self.b.text(current))
            elif current.type in ("scoped_identifier", "field_identifier"):
                continue  # a path (`Shape::Circle`) or a field label, not a binding
            else:
                kept = current.named_children
                if current.type in ("tuple_struct_pattern", "struct_pattern"):
                    kind = current.child_by_field_name("type")
                    kept = [c for c in kept if kind is None or c.id != kind.id]
                stack.extend(kept)

    def binding(self, node: Node, ctx: _Ctx) -> _Ctx:
        """``let``, ``for``, ``if let``/``while let`` and match arms bind their pattern;
        ``let r: Repo = ...`` and ``let r = Repo { .. }`` type it."""
        declared = None
        if node.type == "let_declaration":
            declared = self.local_type(node.child_by_field_name("type"), ctx)
            value = node.child_by_field_name("value")
            if declared is None and value is not None and value.type == "struct_expression":
                declared = self.local_type(value.child_by_field_name("name"), ctx)
        self.bind_pattern(node.child_by_field_name("pattern"), ctx.owner, declared)
        return ctx

    def local_type(self, node: Node | None, ctx: _Ctx) -> str | None:
        """The named type a local is declared with (``Repo``, ``&mut Repo``,
        ``store::Repo``, ``Repo<T>``), for calls through it (``FactsBuilder.bind_local``);
        None for primitives, tuples, slices, trait objects, ``Self`` and type parameters."""
        while node is not None and node.type == "reference_type":
            node = node.child_by_field_name("type")
        if node is not None and node.type == "generic_type":
            node = node.child_by_field_name("type")
        if node is None or node.type not in ("type_identifier", "scoped_type_identifier"):
            return None
        name = self.b.text(node)
        if name in ctx.type_params or name == "Self" or name in PRIMITIVE_TYPES:
            return None
        return self.rooted(name, ctx)

    def match_pattern(self, node: Node, ctx: _Ctx) -> _Ctx:
        self.bind_pattern(node, ctx.owner)
        return ctx

    def closure_parameters(self, node: Node, ctx: _Ctx) -> _Ctx:
        for param in node.named_children:
            pattern = param.child_by_field_name("pattern") if param.type == "parameter" else param
            self.bind_pattern(pattern, ctx.owner)
        return ctx


def is_outer_doc(text: str) -> bool:
    """``///`` and ``/** */`` document the item below (``////`` and ``/***`` do not)."""
    if text.startswith("///"):
        return not text.startswith("////")
    return text.startswith("/**") and not text.startswith(("/***", "/**/"))


_TYPE_ITEM_KINDS = {
    "struct_item": "struct",
    "union_item": "struct",
    "enum_item": "enum",
    "trait_item": "trait",
    "type_item": "type",
}


_HANDLERS = {
    "function_item": _RustExtractor.function,
    "function_signature_item": _RustExtractor.function,
    **{kind: _RustExtractor.type_item for kind in _TYPE_ITEM_KINDS},
    "impl_item": _RustExtractor.impl,
    "const_item": _RustExtractor.constant,
    "static_item": _RustExtractor.constant,
    "macro_definition": _RustExtractor.macro_definition,
    "mod_item": _RustExtractor.module_item,
    "use_declaration": _RustExtractor.use,
    "extern_crate_declaration": _RustExtractor.extern_crate,
    "let_declaration": _RustExtractor.binding,
    "for_expression": _RustExtractor.binding,
    "let_condition": _RustExtractor.binding,
    "match_pattern": _RustExtractor.match_pattern,
    "closure_parameters": _RustExtractor.closure_parameters,
    "call_expression": _RustExtractor.call,
    "macro_invocation": _RustExtractor.macro_call,
    "line_comment": lambda self, node, ctx: None,
    "block_comment": lambda self, node, ctx: None,
    "attribute_item": lambda self, node, ctx: None,
    "inner_attribute_item": lambda self, node, ctx: None,
}


def extract(tree: tree_sitter.Tree, source: bytes, path: str, module: str) -> FileFacts:
    """Walk one parsed Rust file; never raises on a syntax error (partial facts)."""
    root = tree.root_node
    label = module.split(SEP)[-1]
    b = FactsBuilder(source, path, "rust", module, root, module_label=label, member_separator=SEP)
    extractor = _RustExtractor(b, module)
    b.facts.symbols[0].doc = extractor.inner_doc(root)
    walk(root, _Ctx(scope=module, module=module, parent=0, owner=0), extractor.visit)
    return b.finish(TYPE_KINDS, root)


def star_exports(name: str, declared: frozenset[str] | None) -> bool:
    """What ``use m::*`` takes from ``m``: every name, its ``pub use`` re-exports
    included (``use crate::prelude::*``), the way preludes are used."""
    return True


LANGUAGE = LanguageSpec(
    name="rust",
    extensions=(".rs",),
    grammar=grammar,
    extract=extract,
    module_name=module_name,
    import_module=import_module,
    separator=SEP,
    builtins=BUILTINS,
    members_in_scope=False,  # a bare f() in a method never means self.f()
    rooted_heads=frozenset({"crate", "super", "self"}),
    package_of=None,  # a module is one file: another file's names need a `use`
    star_exports=star_exports,
    uncallable=frozenset({"field"}),  # ``self.len()`` is the method, never field ``len``
)
