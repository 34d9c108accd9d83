"""Extraction shared by JavaScript (incl. JSX) and TypeScript (incl. TSX).

The TypeScript grammars extend the JavaScript one, so one handler table serves
both; node types a grammar lacks are simply not queried.

Decisions, stated once here (tests pin each of them):

* **Modules.** A file's module is its path without the extension, an ``index``
  file standing for its directory: ``src/util.ts`` → ``src/util``,
  ``src/ui/index.tsx`` → ``src/ui``, ``types.d.ts`` → ``types``. Relative import
  specifiers map the same way from the importing file (``./util``,
  ``./util.js``, ``../x``, ``./dir`` → ``dir``'s index). Bare specifiers
  (``react``, ``@scope/pkg``, tsconfig path aliases) live outside the workspace
  (``node_modules`` is never indexed), so they map to ``None``. Qualified names
  are ``<module>.<Class>.<member>``: ``src/util.Stack.push``.
* **Kinds.** Classes (also ``const X = class {}``), functions (declarations,
  overload signatures, and arrow/function expressions bound by ``const``/``let``/
  ``var`` at any depth), methods (also constructors, accessors, abstract and
  interface method signatures, and class fields holding an arrow/function:
  ``onClick = () => {}`` is called as ``this.onClick()``), ``field`` (class
  fields, interface properties, TS constructor parameter properties),
  ``interface``, ``type``, ``enum``/``enum_variant``, ``namespace`` (TS
  ``namespace``/``module``/``declare module 'x'``), and ``constant``
  (``const``)/``variable`` (``let``/``var``) only at module or namespace
  level. ``export default`` of an anonymous class/function is named ``default``.
* **Visibility.** Class members: ``#name`` and TS ``private`` → private, TS
  ``protected`` → protected, else public. Module-level declarations in an ES
  module are public when exported and private otherwise; in a script/CommonJS
  file (no ``import``/``export``) they are public. Namespace members follow
  ``export`` (ambient ``declare`` namespaces export everything). Declarations
  inside function bodies are private.
* **References.** ``calls``: ``f()``, ``a.b.c()``, ``new C()``, and rendering a
  component in JSX (``<Widget/>``, ``<ui.Card>``; lower-case intrinsic tags
  are not calls). ``this.m()`` is ``via_self`` (target ``m``) only where
  ``this`` is a named class's instance or the class itself, i.e. inside its
  methods or field initialisers and not under a nested ``function``; there
  ``this.repo.save()`` is ``Repo.save`` when the class's field ``repo`` is
  declared ``Repo`` or, undeclared, always assigned ``new Repo()``
  (``_treekit.ScopedFacts.declare_member``). Calls on
  computed receivers (``f().g()``, ``a[0]()``) are skipped: their target cannot
  be named. ``imports``: ES imports (default import: ``member='default'``;
  ``import * as ns``: whole module, ``alias='ns'``), ``require()`` and
  ``import()``. The resolver finds a module's members among its imports'
  aliases, so a re-export (``export ... from``) is an import whose ``alias``
  is the exported name: ``export {a as b} from './x'`` → ``member='a'``,
  ``alias='b'``; ``export {a} from './x'`` → both ``a``; ``export * as ns
  from './x'`` → whole module, ``alias='ns'``; ``export * from './x'`` →
  ``member='*'`` (string names like ``"a-b"`` lose their quotes). An export
  under another name (``export default log``, ``export default function log``,
  ``export {a as b}``) is an import of the file's own module (``./<stem>``,
  ``member`` the local name, ``alias`` the exported one), so a default import
  resolves to the default-exported symbol the way re-exports do; the resolver
  looks through ``export *`` too (:func:`star_exports`: all but ``default``;
  a name two of them give differently is exported by neither). All these
  export-only imports are flagged ``reexport`` (``model.Reference``): they bind
  nothing in the re-exporting file itself. A re-export wins over a private
  namesake. What an ES module exports under its own name is listed in
  ``FileFacts.star_names`` (``LanguageSpec.exports_listed``): a named import
  takes nothing else (no unexported function, no ``export default function
  d`` as ``d``). ``inherits``: class ``extends`` and interface ``extends`` (an
  interface extending an interface inherits it); ``implements``: TS class
  ``implements``. ``returns``: the
  declared return type's named type (generic arguments and array suffixes
  dropped, ``T | null``/``T | undefined`` → ``T``; ``void``, ``never``,
  predicates and anonymous types give no edge).
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from sqry.graph.languages._facts_builder import one_line
from sqry.graph.languages._treekit import (
    ScopedFacts,
    block_doc,
    captured_in_order,
    node_query,
    text,
)

if TYPE_CHECKING:
    import tree_sitter

    from sqry.graph.model import FileFacts

JS_EXTENSIONS = (".js", ".jsx", ".mjs", ".cjs")
TS_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts")
_DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")

#: Globals every JavaScript runtime provides (ECMAScript, browsers, Node): a bare
#: ``fetch()`` or ``new Map()`` the file neither defines nor imports is the
#: runtime's, never a same-named workspace function found by the unique rule.
BUILTINS = frozenset(
    """require module exports globalThis window document navigator console process Buffer
    setTimeout clearTimeout setInterval clearInterval setImmediate clearImmediate
    queueMicrotask requestAnimationFrame cancelAnimationFrame structuredClone fetch alert
    confirm prompt atob btoa eval isNaN isFinite parseInt parseFloat encodeURI decodeURI
    encodeURIComponent decodeURIComponent Object Function Array String Number Boolean
    Symbol BigInt Date RegExp Error TypeError RangeError SyntaxError ReferenceError
    EvalError URIError AggregateError Promise Map Set WeakMap WeakSet WeakRef Proxy Reflect
    JSON Math Intl ArrayBuffer SharedArrayBuffer DataView Int8Array Uint8Array
    Uint8ClampedArray Int16Array Uint16Array Int32Array Uint32Array Float32Array
    Float64Array BigInt64Array BigUint64Array URL URLSearchParams TextEncoder TextDecoder
    AbortController Event EventTarget CustomEvent Blob File FormData Headers Request
    Response WebSocket Worker Node Element HTMLElement SVGElement Document
    DocumentFragment ShadowRoot Window Text Comment Attr NodeList HTMLCollection Range
    Selection Storage Cache CacheStorage Location History Navigator Screen Performance
    Crypto Image Audio Notification MutationObserver IntersectionObserver ResizeObserver
    MessageChannel MessagePort BroadcastChannel ReadableStream WritableStream
    TransformStream KeyboardEvent MouseEvent PointerEvent FocusEvent InputEvent
    DOMParser XMLHttpRequest FileReader""".split()
)

# ``a.b?.c``/``this.#x`` written without spaces, comments or non-ASCII names.
_PLAIN_CHAIN = re.compile(rb"[A-Za-z_$#][\w$]*(?:\??\.#?[A-Za-z_$][\w$]*)*")

_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_CLASS_VALUES = frozenset({"class", "class_expression"})
# Nodes that wrap a declaration without being a scope of their own.
_WRAPPERS = frozenset({"export_statement", "ambient_declaration", "expression_statement"})
_NAMESPACES = frozenset({"internal_module", "module"})
# A plain function rebinds ``this``; an arrow function does not.
_THIS_BOUNDARIES = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "generator_function",
        "generator_function_declaration",
    }
)
_THIS_HOSTS = frozenset(
    {"method_definition", "field_definition", "public_field_definition", "class_static_block"}
)
_MEMBER_CONTAINERS = frozenset({"class_body", "interface_body"})
_NULLISH = frozenset({"undefined", "null"})
#: What a local's scope can be (see ``ScopedFacts.bind``): a block, the statements
#: that declare a variable for their body, a case, a function.
SCOPES = frozenset(
    "statement_block for_statement for_in_statement catch_clause switch_case switch_default "
    "arrow_function function_expression function_declaration generator_function "
    "generator_function_declaration method_definition class_static_block".split()
)
# Built-in types name nothing in the workspace: no ``returns`` edge to them.
_PRIMITIVE_TYPES = _NULLISH | {
    "void",
    "never",
    "any",
    "unknown",
    "string",
    "number",
    "boolean",
    "bigint",
    "symbol",
    "object",
}
# Function-like nodes: each opens a scope of local bindings (see _treekit).
_FUNCTION_LIKE = _THIS_BOUNDARIES | {"arrow_function", "method_definition", "class_static_block"}
_DECORATOR = frozenset({"decorator"})


# -- module naming ------------------------------------------------------------


def _strip_extension(path: str) -> str:
    for suffix in _DECLARATION_SUFFIXES + JS_EXTENSIONS + TS_EXTENSIONS:
        if path.endswith(suffix) and len(path) > len(suffix):
            return path[: -len(suffix)]
    return path


def is_identifier(segment: str) -> bool:
    """A name a definition can have: ``$``-names and ``#private`` members included."""
    return segment.removeprefix("#").replace("$", "_").isidentifier()


def star_exports(name: str, _declared: frozenset[str] | None) -> bool:
    """What ``export * from "./m"`` re-exports: every export of ``m`` but its default."""
    return name != "default"


def module_name(path: str) -> str:
    """``src/util.ts`` → ``src/util``; ``src/ui/index.jsx`` → ``src/ui``."""
    stem = _strip_extension(path)
    head, _, tail = stem.rpartition("/")
    return head if tail == "index" and head else stem


def import_module(path: str, spec: str) -> str | None:
    """The module a specifier written in ``path`` names, ``None`` outside the tree."""
    if not (spec.startswith(("./", "../")) or spec in (".", "..")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
    if joined == ".." or joined.startswith("../"):
        return None
    return "index" if joined == "." else module_name(joined)


# -- small syntax helpers -------------------------------------------------------


def _has_token(node: tree_sitter.Node, token: str) -> bool:
    """Whether an anonymous keyword child (``async``, ``static``) is present."""
    return any(child.type == token for child in node.children)


def _dotted(node: tree_sitter.Node | None) -> str | None:
    """``a.b.c`` for a chain of plain names, ``None`` for computed expressions."""
    if node is None:
        return None
    raw = node.text or b""
    if _PLAIN_CHAIN.fullmatch(raw):  # the common case, without a walk down the chain
        return raw.replace(b"?", b"").decode("ascii")
    kind = node.type
    if kind in (
        "identifier",
        "property_identifier",
        "private_property_identifier",
        "type_identifier",
        "this",
        "super",
    ):
        return text(node)
    if kind in ("member_expression", "nested_identifier", "nested_type_identifier"):
        left = node.child_by_field_name("object") or node.child_by_field_name("module")
        right = node.child_by_field_name("property") or node.child_by_field_name("name")
        head = _dotted(left)
        return f"{head}.{text(right)}" if head is not None and right is not None else None
    return None


def _union_members(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    members: list[tree_sitter.Node] = []
    for child in node.named_children:
        members.extend(_union_members(child) if child.type == "union_type" else [child])
    return members


def _type_name(node: tree_sitter.Node | None) -> str | None:
    """The named type a type or heritage expression refers to (see module doc)."""
    if node is None:
        return None
    kind = node.type
    if kind in ("type_annotation", "parenthesized_type", "array_type"):
        return _type_name(node.named_child(0)) if node.named_child_count else None
    if kind == "generic_type":
        return _type_name(node.child_by_field_name("name"))
    if kind in ("predefined_type", "identifier", "type_identifier"):
        return text(node)
    if kind == "union_type":
        named = [
            m for m in _union_members(node) if m.type != "literal_type" and text(m) not in _NULLISH
        ]
        return _type_name(named[0]) if len(named) == 1 else None
    return _dotted(node)


def _type_params(node: tree_sitter.Node) -> list[str]:
    """Names of the ``<T, U>`` type parameters a declaration introduces."""
    params = node.child_by_field_name("type_parameters")
    if params is None:
        return []
    return [
        text(p.child_by_field_name("name"))
        for p in params.named_children
        if p.type == "type_parameter"
    ]


def _string_value(node: tree_sitter.Node | None) -> str | None:
    """The contents of a string literal node (quotes removed)."""
    if node is None or node.type != "string":
        return None
    raw = text(node)
    return raw[1:-1] if len(raw) >= 2 else None


def _export_name(node: tree_sitter.Node) -> str:
    """A name in an export list: ``a``, ``default``, or a string (``"a-b"`` → ``a-b``)."""
    quoted = _string_value(node)
    return text(node) if quoted is None else quoted


def _header_start(node: tree_sitter.Node) -> tree_sitter.Node:
    """The first child after leading decorators (where the header is written)."""
    first = node.child(0)
    if first is None or first.type != "decorator":
        return node
    for child in node.children:
        if child.type != "decorator":
            return child
    return node


def _slice(source: bytes, start: int, end: int) -> str:
    """``source[start:end]`` as one line, without a dangling ``=``/``;``/``,``."""
    return one_line(source[start:end].decode("utf-8", "replace")).rstrip(";,= ")


def _body_start(fn: tree_sitter.Node) -> int:
    body = fn.child_by_field_name("body")
    return body.start_byte if body is not None else fn.end_byte


def _header(source: bytes, node: tree_sitter.Node, stop: tree_sitter.Node | None) -> str:
    """Declaration text from its first non-decorator token up to ``stop``."""
    end = stop.start_byte if stop is not None else node.end_byte
    return _slice(source, _header_start(node).start_byte, end)


def _bound_names(pattern: tree_sitter.Node) -> list[tuple[tree_sitter.Node, str | None]]:
    """Identifiers a destructuring pattern binds, each with the key it reads."""
    found: list[tuple[tree_sitter.Node, str | None]] = []
    for child in pattern.named_children:
        kind = child.type
        if kind in ("identifier", "shorthand_property_identifier_pattern"):
            found.append((child, text(child)))
        elif kind == "pair_pattern":
            key, value = child.child_by_field_name("key"), child.child_by_field_name("value")
            if value is not None and value.type == "identifier":
                found.append((value, text(key)))
            elif value is not None:
                found.extend(_bound_names(value))
        elif kind in ("rest_pattern", "object_pattern", "array_pattern", "assignment_pattern"):
            inner = child.child_by_field_name("left") if kind == "assignment_pattern" else child
            if inner is not None and inner.type == "identifier":
                found.append((inner, None))
            elif inner is not None:
                found.extend((n, None) for n, _ in _bound_names(inner))
    return found


def _binding_names(node: tree_sitter.Node | None) -> list[str]:
    """Every name a parameter, parameter list or destructuring pattern binds."""
    if node is None:
        return []
    kind = node.type
    if kind in ("identifier", "shorthand_property_identifier_pattern"):
        return [text(node)]
    if kind in ("formal_parameters", "object_pattern", "array_pattern", "rest_pattern"):
        return [name for child in node.named_children for name in _binding_names(child)]
    field = _PATTERN_FIELDS.get(kind)
    return _binding_names(node.child_by_field_name(field)) if field else []


_PATTERN_FIELDS = {
    "required_parameter": "pattern",
    "optional_parameter": "pattern",
    "assignment_pattern": "left",
    "object_assignment_pattern": "left",
    "pair_pattern": "value",
}


def _prescan(root: tree_sitter.Node) -> tuple[bool, set[str], set[str]]:
    """Whether the file is an ES module, the local names ``export {a, b as c}``
    and ``export default a`` export, and those of them exported under their own
    name (``a``, not ``b``).

    Only the program's direct children are read: exports are top-level syntax.
    """
    is_module = False
    exported: set[str] = set()
    own_name: set[str] = set()
    for child in root.named_children:
        if child.type == "import_statement":
            is_module = True
        elif child.type == "export_statement":
            is_module = True
            if child.child_by_field_name("source") is not None:
                continue
            value = child.child_by_field_name("value")
            if value is not None and value.type == "identifier":
                exported.add(text(value))
            for clause in child.named_children:
                if clause.type == "export_clause":
                    for spec in clause.named_children:
                        name = spec.child_by_field_name("name")
                        if name is None:
                            continue
                        exported.add(text(name))
                        alias = spec.child_by_field_name("alias")
                        if alias is None or _export_name(alias) == _export_name(name):
                            own_name.add(_export_name(name))
    return is_module, exported, own_name


# -- the extractor --------------------------------------------------------------


class _Extractor:
    """Turns one parsed JS/TS file into facts; one instance per file."""

    def __init__(
        self, tree: tree_sitter.Tree, source: bytes, path: str, language: str, module: str
    ) -> None:
        self.source = source
        self.path = path
        self.tree = tree
        self.root = tree.root_node
        # The module symbol is named by its whole path: a file stem would collide
        # with the component or class it exports (``Button.tsx`` → ``Button``).
        self.b = ScopedFacts(self.root, source, path, language, module, module, scopes=SCOPES)
        self.is_module, self.exported, self.own_name = _prescan(self.root)
        # top-level names ``export function f`` (not ``export default``) exports
        self.declared_exports: set[str] = set()
        self.consumed: set[int] = set()  # require() calls already recorded as imports
        self.typed = language == "typescript"
        self.class_nodes: set[int] = set()  # nodes that own a class symbol

    def run(self) -> FileFacts:
        """Visit every captured node once, in document order."""
        handlers = _HANDLERS
        advance = self.b.advance
        for node in captured_in_order(node_query(self.tree.language, handlers), self.root):
            advance(node)
            kind = node.type
            if kind in _FUNCTION_LIKE:
                self.b.open_bindings(node)
            handlers[kind](self, node)
        facts = self.b.finish()
        if self.is_module:
            facts.star_names = self._importable(facts)
        return facts

    def _importable(self, facts: FileFacts) -> tuple[str, ...]:
        """What another module may import from this ES module by name (kept in
        ``FileFacts.star_names``; ``LanguageSpec.exports_listed``): its exported
        top-level definitions, less those exported only under another name
        (``export default function d``, ``export {g as h}``: ``d`` and ``g``
        are not importable as such; ``default`` and ``h`` are found through
        the export's own import row)."""
        renamed = {
            ref.member
            for ref in facts.references
            if ref.reexport and ref.alias is not None and ref.member != ref.alias
        }
        renamed -= self.own_name | self.declared_exports
        return tuple(
            sorted(
                {
                    sym.name
                    for sym in facts.symbols
                    if sym.parent == 0 and sym.visibility == "public" and sym.name not in renamed
                }
            )
        )

    # -- declaration context --------------------------------------------------

    def _outer(self, node: tree_sitter.Node) -> tuple[tree_sitter.Node, bool]:
        """The node with its export/declare wrappers, and whether it is exported."""
        exported = False
        while node.parent is not None and node.parent.type in _WRAPPERS:
            node = node.parent
            exported = exported or node.type == "export_statement"
        return node, exported

    def _decl_context(self, node: tree_sitter.Node) -> str:
        """Where a declaration lives: ``top``, ``namespace``, ``ambient`` or ``local``."""
        outer, _ = self._outer(node)
        parent = outer.parent
        if parent is None or parent.type == "program":
            return "top"
        if parent.type == "statement_block" and parent.parent is not None:
            holder = parent.parent
            if holder.type == "ambient_declaration":
                return "ambient"
            if holder.type in _NAMESPACES:
                declared = holder.parent is not None and holder.parent.type == "ambient_declaration"
                return "ambient" if declared else "namespace"
        return "local"

    def _decl_visibility(self, node: tree_sitter.Node, name: str) -> str:
        """Visibility of a module/namespace-level declaration (see module doc)."""
        outer, exported = self._outer(node)
        if exported:
            if outer.type == "export_statement" and not any(
                child.type == "default" for child in outer.children
            ):
                self.declared_exports.add(name)
            return "public"
        context = self._decl_context(node)
        if context == "top":
            return "public" if not self.is_module or name in self.exported else "private"
        return "public" if context == "ambient" else "private"

    def _doc(self, node: tree_sitter.Node) -> str:
        outer, _ = self._outer(node)
        return block_doc(outer, _DECORATOR)

    def _member_of_current(self, node: tree_sitter.Node) -> bool:
        """Whether ``node`` sits directly in the body of the innermost open symbol.

        Keeps object-literal methods and anonymous-class members from being
        taken for members of an enclosing named class.
        """
        body = node.parent
        return (
            body is not None
            and body.type in _MEMBER_CONTAINERS
            and body.parent is not None
            and body.parent.id == self.b.current_owner
        )

    # -- declarations ---------------------------------------------------------

    def on_class(self, node: tree_sitter.Node) -> None:
        name = node.child_by_field_name("name")
        if name is not None:
            self._class(node, text(name), node, node)

    def _class(
        self, node: tree_sitter.Node, name: str, span: tree_sitter.Node, decl: tree_sitter.Node
    ) -> None:
        """A class symbol for class node ``node`` bound to ``name``.

        ``span`` is the range it covers (a ``const`` declarator for a class
        expression) and ``decl`` the statement carrying export and doc.
        """
        body = node.child_by_field_name("body")
        if span.type == "variable_declarator":
            signature = self._binding_header(span, body)
        else:
            signature = _header(self.source, node, body)
        class_id = self.b.add_symbol(
            "class",
            name,
            span,
            start=_header_start(span),
            owner=node,
            signature=signature,
            visibility="public"
            if decl.type == "export_statement"
            else self._decl_visibility(decl, name),
            doc=self._doc(decl),
        )
        self.class_nodes.add(node.id)
        self.b.declare_type_params(class_id, _type_params(node))
        for heritage in node.named_children:
            if heritage.type == "class_heritage":
                self._heritage(heritage, class_id)

    def _heritage(self, heritage: tree_sitter.Node, class_id: int) -> None:
        for clause in heritage.named_children:
            if clause.type != "implements_clause" and clause.type != "comment":
                self.b.declare_inheriting(class_id)  # it may inherit fields
            if clause.type == "extends_clause":
                for value in clause.children_by_field_name("value"):
                    self._base("inherits", value, class_id)
            elif clause.type == "implements_clause":
                for value in clause.named_children:
                    self._base("implements", value, class_id)
            elif clause.type != "comment":  # JavaScript: the expression itself
                self._base("inherits", clause, class_id)

    def _base(self, kind: str, node: tree_sitter.Node, source: int) -> None:
        name = _type_name(node)
        if name is not None:
            self.b.add_ref(kind, name, node, source=source)

    def on_interface(self, node: tree_sitter.Node) -> None:
        name = text(node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        iface = self.b.add_symbol(
            "interface",
            name,
            node,
            signature=_header(self.source, node, body),
            visibility=self._decl_visibility(node, name),
            doc=self._doc(node),
        )
        self.b.declare_type_params(iface, _type_params(node))
        for clause in node.named_children:
            if clause.type == "extends_type_clause":
                for value in clause.children_by_field_name("type"):
                    self._base("inherits", value, iface)

    def on_type_alias(self, node: tree_sitter.Node) -> None:
        name = text(node.child_by_field_name("name"))
        self.b.add_symbol(
            "type",
            name,
            node,
            signature=_header(self.source, node, node.child_by_field_name("value")),
            visibility=self._decl_visibility(node, name),
            doc=self._doc(node),
        )

    def on_enum(self, node: tree_sitter.Node) -> None:
        name = text(node.child_by_field_name("name"))
        body = node.child_by_field_name("body")
        enum_id = self.b.add_symbol(
            "enum",
            name,
            node,
            signature=_header(self.source, node, body),
            visibility=self._decl_visibility(node, name),
            doc=self._doc(node),
        )
        for member in body.named_children if body is not None else ():
            name_node = (
                member.child_by_field_name("name") if member.type == "enum_assignment" else member
            )
            if name_node is None or name_node.type == "comment":
                continue
            variant = _string_value(name_node) or text(name_node)
            self.b.add_symbol(
                "enum_variant",
                variant,
                member,
                parent=enum_id,
                scope=False,
                signature=one_line(text(member)),
                doc=block_doc(member),
            )

    def on_namespace(self, node: tree_sitter.Node) -> None:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return
        quoted = _string_value(name_node)  # declare module 'x': a global declaration
        name = quoted or "".join(text(name_node).split())
        self.b.add_symbol(
            "namespace",
            name,
            node,
            signature=_header(self.source, node, node.child_by_field_name("body")),
            visibility="public" if quoted else self._decl_visibility(node, name),
            doc=self._doc(node),
        )

    def on_function(self, node: tree_sitter.Node) -> None:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return
        name = text(name_node)
        fn = self.b.add_symbol(
            "function",
            name,
            node,
            signature=_header(self.source, node, node.child_by_field_name("body")),
            visibility=self._decl_visibility(node, name),
            is_async=_has_token(node, "async"),
            doc=self._doc(node),
        )
        self._returns(node, fn)

    def _returns(self, fn_node: tree_sitter.Node, fn: int) -> None:
        """The ``returns`` edge of a function (none to primitives or type variables)."""
        self.b.declare_type_params(fn, _type_params(fn_node))
        annotation = fn_node.child_by_field_name("return_type")
        if annotation is None or annotation.type != "type_annotation":
            return  # none written, or a type predicate (``x is T``, ``asserts x``)
        name = _type_name(annotation)
        if name is not None and name not in _PRIMITIVE_TYPES and not self.b.is_type_param(name, fn):
            self.b.add_ref("returns", name, annotation.named_child(0) or annotation, source=fn)

    def on_method(self, node: tree_sitter.Node) -> None:
        if not self._member_of_current(node):
            return
        name = text(node.child_by_field_name("name"))
        class_id = self.b.current
        method = self.b.add_symbol(
            "method",
            name,
            node,
            start=_header_start(node),
            signature=_header(self.source, node, node.child_by_field_name("body")),
            visibility=self._member_visibility(node, name),
            is_async=_has_token(node, "async"),
            is_static=_has_token(node, "static"),
            doc=block_doc(node, _DECORATOR),
        )
        self._returns(node, method)
        if name == "constructor":
            self._parameter_properties(node, class_id)

    def _member_visibility(self, node: tree_sitter.Node, name: str) -> str:
        if name.startswith("#"):
            return "private"
        for child in node.named_children:
            if child.type == "accessibility_modifier":
                return text(child)
        return "public"

    def _parameter_properties(self, ctor: tree_sitter.Node, class_id: int) -> None:
        """TS ``constructor(private x: T)`` declares field ``x`` on the class."""
        params = ctor.child_by_field_name("parameters")
        for param in params.named_children if params is not None else ():
            if param.type not in ("required_parameter", "optional_parameter"):
                continue
            if not any(c.type in ("accessibility_modifier", "readonly") for c in param.children):
                continue
            pattern = param.child_by_field_name("pattern")
            if pattern is None or pattern.type != "identifier":
                continue
            name = text(pattern)
            self.b.declare_member(
                class_id, name, self._local_type(param.child_by_field_name("type"))
            )
            self.b.add_symbol(
                "field",
                name,
                param,
                start=_header_start(param),
                parent=class_id,
                scope=False,
                signature=_header(self.source, param, param.child_by_field_name("value")),
                visibility=self._member_visibility(param, name),
            )

    def on_field(self, node: tree_sitter.Node) -> None:
        if not self._member_of_current(node):
            return
        name_node = node.child_by_field_name("name") or node.child_by_field_name("property")
        if name_node is None:
            return
        name = text(name_node)
        value = node.child_by_field_name("value")
        is_fn = value is not None and value.type in _FUNCTION_VALUES
        stop = value.child_by_field_name("body") if is_fn else value
        owner = self.b.current
        symbol = self.b.add_symbol(
            "method" if is_fn else "field",
            name,
            node,
            start=_header_start(node),
            signature=_header(self.source, node, stop),
            visibility=self._member_visibility(node, name),
            is_async=is_fn and _has_token(value, "async"),
            is_static=_has_token(node, "static"),
            doc=block_doc(node, _DECORATOR),
        )
        if is_fn:
            self._returns(value, symbol)
        elif not _has_token(node, "static"):  # ``this.x`` in a method is no static field
            self._field_value(owner, name, node.child_by_field_name("type"), value)

    def _field_value(
        self,
        owner: int,
        name: str,
        annotation: tree_sitter.Node | None,
        value: tree_sitter.Node | None,
        *,
        assigned: bool = False,
    ) -> None:
        """What a field declaration (``repo: Repo``, ``repo = new Repo()``) or an
        assignment (``this.repo = new Repo()``) says of field ``name``'s class,
        for calls through it (:meth:`ScopedFacts.declare_member`); a
        ``null``/``undefined`` value says nothing."""
        if annotation is not None:
            self.b.declare_member(owner, name, self._local_type(annotation))
        elif value is None or text(value) in _NULLISH:
            self.b.note_member(owner, name)
        else:
            self.b.declare_member(owner, name, self._built_class(value), assigned=True)

    def _this_assignment(self, node: tree_sitter.Node) -> None:
        """``this.repo = value`` in a class's method: see :meth:`_field_value`; a
        compound one (``this.repo ??= other``) says nothing known of the class."""
        left = node.child_by_field_name("left")
        if left is None or left.type != "member_expression":
            return
        target = left.child_by_field_name("object")
        prop = left.child_by_field_name("property")
        if target is None or target.type != "this" or prop is None:
            return
        if prop.type != "property_identifier" or not self._instance_this(node):
            return
        owner = self.b.class_around(self.b.current)
        if owner is None:
            return
        if node.type == "augmented_assignment_expression":
            self.b.declare_member(owner, text(prop), None, assigned=True)
        else:
            value = node.child_by_field_name("right")
            self._field_value(owner, text(prop), None, value, assigned=True)

    def _instance_this(self, node: tree_sitter.Node) -> bool:
        """Whether ``this`` at ``node`` is an instance of the named class around it:
        not in a plain ``function``, nor in a static method (there it is the class)."""
        if not self._this_is_class(node):
            return False
        symbols = self.b.out.facts.symbols
        local_id: int | None = self.b.current
        while local_id is not None and symbols[local_id].kind != "method":
            local_id = symbols[local_id].parent
        return local_id is None or not symbols[local_id].is_static

    def on_assignment(self, node: tree_sitter.Node) -> None:
        """CommonJS and prototype definitions written as top-level assignments.

        ``module.exports = class Agent {}`` / ``= function name() {}`` define
        ``Agent``/``name``; ``exports.f = ...`` and ``module.exports.f = ...``
        define ``f``; ``Foo.prototype.m = function () {}`` defines method ``m``
        of this file's ``Foo`` (``Foo.m = ...`` a static one). Other
        assignments define nothing; one of ``this.x`` in a class may say what
        class ``x`` holds (:meth:`_this_assignment`).
        """
        self._this_assignment(node)
        statement = node.parent
        if statement is None or statement.type != "expression_statement":
            return
        if statement.parent is None or statement.parent.type != "program":
            return
        value = node.child_by_field_name("right")
        if value is None or value.type not in _FUNCTION_VALUES | _CLASS_VALUES:
            return
        target = _dotted(node.child_by_field_name("left")) or ""
        parts = target.split(".")
        parent: int | None = None
        if target == "module.exports":
            name = text(value.child_by_field_name("name"))
        elif (
            len(parts) == 2
            and parts[0] == "exports"
            or len(parts) == 3
            and target.startswith("module.exports.")
        ):
            name = parts[-1]
        elif len(parts) == 3 and parts[1] == "prototype" or len(parts) == 2:
            name = parts[-1]
            parent = self.b.out.find_type(self.b.qualify(0, parts[0]), ("class", "function"))
            if parent is None:
                return  # a property of something this file does not define
        else:
            return
        if not name:
            return
        if value.type in _CLASS_VALUES:
            self._class(value, name, node, statement)
            return
        fn = self.b.add_symbol(
            "method" if parent is not None else "function",
            name,
            node,
            owner=value,
            parent=parent,
            signature=_slice(self.source, node.start_byte, _body_start(value)),
            is_async=_has_token(value, "async"),
            is_static=parent is not None and len(parts) == 2,
            doc=block_doc(statement),
        )
        self._returns(value, fn)

    def on_variables(self, node: tree_sitter.Node) -> None:
        """``const``/``let``/``var``: functions and classes anywhere, data at top level."""
        keyword = text(node.child_by_field_name("kind")) or "var"
        context = self._decl_context(node)
        for declarator in node.named_children:
            if declarator.type != "variable_declarator":
                continue
            self.b.advance(declarator)  # close the previous declarator's scope
            name_node = declarator.child_by_field_name("name")
            value = declarator.child_by_field_name("value")
            if name_node is None or self._require_binding(name_node, value):
                continue
            if name_node.type != "identifier":
                if context == "local":
                    self.b.bind(_binding_names(name_node))
                else:
                    for bound, _ in _bound_names(name_node):
                        self._data(node, keyword, bound, bound, None, context)
                continue
            name = text(name_node)
            if value is not None and value.type in _FUNCTION_VALUES:
                self._bound_function(node, declarator, name, value)
            elif value is not None and value.type in _CLASS_VALUES:
                self._class(value, name, declarator, node)
            elif context != "local":
                self._data(node, keyword, declarator, name_node, value, context)
            else:
                # TypeScript holds a local to its declared or inferred type; plain
                # JavaScript only a ``const`` to what it was built as
                declared = self._local_type(declarator.child_by_field_name("type"))
                if declared is None and (self.typed or keyword == "const"):
                    declared = self._built_class(value)
                self.b.bind((name,), type_name=declared, at=name_node)

    def _binding_header(self, declarator: tree_sitter.Node, stop: tree_sitter.Node | None) -> str:
        """``const name = <value up to stop>`` for one declarator of a statement."""
        keyword = text(declarator.parent.child_by_field_name("kind")) or "var"
        end = stop.start_byte if stop is not None else declarator.end_byte
        return f"{keyword} {_slice(self.source, declarator.start_byte, end)}"

    def _bound_function(
        self,
        statement: tree_sitter.Node,
        declarator: tree_sitter.Node,
        name: str,
        value: tree_sitter.Node,
    ) -> None:
        fn = self.b.add_symbol(
            "function",
            name,
            declarator,
            owner=value,
            signature=self._binding_header(declarator, value.child_by_field_name("body")),
            visibility=self._decl_visibility(statement, name),
            is_async=_has_token(value, "async"),
            doc=self._doc(statement),
        )
        self._returns(value, fn)

    def _data(
        self,
        statement: tree_sitter.Node,
        keyword: str,
        span: tree_sitter.Node,
        name_node: tree_sitter.Node,
        value: tree_sitter.Node | None,
        context: str,
    ) -> None:
        name = text(name_node)
        if span is name_node:  # a name bound by destructuring
            signature = f"{keyword} {name}"
        else:
            signature = self._binding_header(span, value)
        self.b.add_symbol(
            "constant" if keyword == "const" else "variable",
            name,
            span,
            scope=span is not name_node,
            signature=signature,
            visibility=self._decl_visibility(statement, name),
            doc=self._doc(statement),
        )

    # -- imports ----------------------------------------------------------------

    def _require_binding(self, name_node: tree_sitter.Node, value: tree_sitter.Node | None) -> bool:
        """``const x = require('m')`` / ``const {a: b} = require('m')`` / ``require('m').y``.

        Records the imports and tells the caller no symbol is made for them.
        """
        member: str | None = None
        call = value
        if call is not None and call.type == "member_expression":
            member = text(call.child_by_field_name("property"))
            call = call.child_by_field_name("object")
        spec = _require_spec(call)
        if spec is None:
            return False
        self.consumed.add(call.id)
        if name_node.type == "identifier":
            self.b.add_ref("imports", spec, name_node, member=member, alias=text(name_node))
        elif member is None:
            for bound, key in _bound_names(name_node):
                self.b.add_ref("imports", spec, bound, member=key, alias=text(bound))
        else:
            self.b.add_ref("imports", spec, call, member=member)
        return True

    def on_import(self, node: tree_sitter.Node) -> None:
        source = node.child_by_field_name("source")
        for child in node.named_children:
            if child.type == "import_require_clause":  # TS: import x = require('m')
                spec = _string_value(child.child_by_field_name("source"))
                name = child.named_child(0)
                if spec is not None and name is not None:
                    self.b.add_ref("imports", spec, name, alias=text(name))
                return
        spec = _string_value(source)
        if spec is None:
            return
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is None:
            self.b.add_ref("imports", spec, source)
            return
        for part in clause.named_children:
            if part.type == "identifier":
                self.b.add_ref("imports", spec, part, member="default", alias=text(part))
            elif part.type == "namespace_import":
                alias = next((c for c in part.named_children if c.type == "identifier"), None)
                self.b.add_ref("imports", spec, part, alias=text(alias) or None)
            elif part.type == "named_imports":
                for item in part.named_children:
                    if item.type != "import_specifier":
                        continue
                    member = text(item.child_by_field_name("name"))
                    alias = item.child_by_field_name("alias")
                    self.b.add_ref(
                        "imports", spec, item, member=member, alias=text(alias) if alias else member
                    )

    def on_export(self, node: tree_sitter.Node) -> None:
        spec = _string_value(node.child_by_field_name("source"))
        if spec is not None:
            self._reexport(node, spec)
            return
        self._export_aliases(node)
        value = node.child_by_field_name("value")
        if value is None:
            return
        if value.type in _CLASS_VALUES and value.child_by_field_name("name") is None:
            self._class(value, "default", value, node)
        elif value.type in _FUNCTION_VALUES and value.child_by_field_name("name") is None:
            fn = self.b.add_symbol(
                "function",
                "default",
                value,
                signature=_header(self.source, value, value.child_by_field_name("body")),
                is_async=_has_token(value, "async"),
                doc=self._doc(node),
            )
            self._returns(value, fn)

    def _export_aliases(self, node: tree_sitter.Node) -> None:
        """Exports under another name: ``export default log``, ``export {a as b}``.

        ES defines ``export default log`` as ``export {log as default}``. Both are
        recorded as an import of the file's own module (``member`` the local
        name, ``alias`` the exported one), the shape the resolver follows for
        re-exports, so ``import log from './util'`` binds to ``log``.
        """
        own = "./" + posixpath.basename(_strip_extension(self.path))
        default = any(child.type == "default" for child in node.children)
        value = node.child_by_field_name("value")
        declaration = node.child_by_field_name("declaration")
        refs = []
        if default and value is not None and value.type == "identifier":
            refs.append(self.b.add_ref("imports", own, value, member=text(value), alias="default"))
        elif default and declaration is not None:
            name = declaration.child_by_field_name("name")
            if name is not None:
                refs.append(
                    self.b.add_ref("imports", own, name, member=text(name), alias="default")
                )
        for clause in node.named_children:
            if clause.type != "export_clause":
                continue
            for item in clause.named_children:
                name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                if name is None or alias is None:
                    continue
                member, exported = _export_name(name), _export_name(alias)
                if exported != member:
                    refs.append(self.b.add_ref("imports", own, item, member=member, alias=exported))
        for ref in refs:
            ref.reexport = True  # an export binds no name in the file itself

    def _reexport(self, node: tree_sitter.Node, spec: str) -> None:
        """``export ... from 'm'``: imports of ``m`` whose alias is the exported name.

        The resolver finds a module's members among its imports' aliases (a
        module re-exports what it imports under a name), so ``export {a as b}
        from './x'`` is member ``a`` with alias ``b``, ``export {a} from './x'``
        member and alias ``a``, ``export * as ns from './x'`` the whole module
        with alias ``ns``, and ``export * from './x'`` member ``*``.
        """
        clause = next(
            (c for c in node.named_children if c.type in ("export_clause", "namespace_export")),
            None,
        )
        refs = []
        if clause is None:
            source = node.child_by_field_name("source")
            refs.append(self.b.add_ref("imports", spec, source, member="*"))
        elif clause.type == "namespace_export":
            name = next(
                (c for c in clause.named_children if c.type in ("identifier", "string")), None
            )
            alias = _export_name(name) if name is not None else None
            refs.append(self.b.add_ref("imports", spec, clause, alias=alias))
        else:
            for item in clause.named_children:
                name = item.child_by_field_name("name")
                if item.type != "export_specifier" or name is None:
                    continue
                alias = item.child_by_field_name("alias")
                member = _export_name(name)
                exported = member if alias is None else _export_name(alias)
                refs.append(self.b.add_ref("imports", spec, item, member=member, alias=exported))
        for ref in refs:
            ref.reexport = True  # ``export ... from`` binds no name in the file itself

    # -- calls --------------------------------------------------------------------

    def on_call(self, node: tree_sitter.Node) -> None:
        callee = node.child_by_field_name("function")
        if callee is None or callee.type == "super":
            return
        if callee.type == "import" or (callee.type == "identifier" and text(callee) == "require"):
            if node.id not in self.consumed:
                spec = _require_spec(node)
                if spec is not None:
                    self.b.add_ref("imports", spec, node)
            return
        target = _dotted(callee)
        if target is None:
            return
        of_class = target.startswith("this.") and self._this_is_class(node)
        if of_class and target.count(".") == 1:
            self.b.add_ref("calls", target[5:], node, via_self=True)
        else:  # ``this.repo.save()``: maybe through a typed field
            members = of_class and self._instance_this(node)
            self.b.add_use("calls", target, node, members=members)

    def _this_is_class(self, node: tree_sitter.Node) -> bool:
        """Whether ``this`` at ``node`` is a named class's instance (or the class)."""
        up = node.parent
        while up is not None:
            if up.type in _THIS_HOSTS:
                body = up.parent
                owner = body.parent if body is not None else None
                return (
                    owner is not None and body.type == "class_body" and owner.id in self.class_nodes
                )
            if up.type in _THIS_BOUNDARIES:
                return False
            up = up.parent
        return False

    def on_new(self, node: tree_sitter.Node) -> None:
        target = _dotted(node.child_by_field_name("constructor"))
        if target is not None and not target.startswith("this."):
            self.b.add_use("calls", target, node)

    def on_jsx(self, node: tree_sitter.Node) -> None:
        """Rendering ``<Widget/>`` calls the component; ``<div>`` is not a call."""
        name = node.child_by_field_name("name")
        target = _dotted(name)
        if target is None or target.startswith("this."):
            return
        if "." in target or target[:1].isupper():
            self.b.add_use("calls", target, name)

    # -- local bindings (never symbols; see _treekit) ---------------------------

    def on_parameters(self, node: tree_sitter.Node) -> None:
        for param in node.named_children:
            pattern = param.child_by_field_name("pattern")
            if pattern is not None and pattern.type == "identifier":  # TS ``repo: Repo``
                declared = self._local_type(param.child_by_field_name("type"))
                self.b.bind((text(pattern),), owner=node.parent, type_name=declared, at=pattern)
            else:
                self.b.bind(_binding_names(param), owner=node.parent)

    def _local_type(self, node: tree_sitter.Node | None) -> str | None:
        """The class a TypeScript annotation names, for calls through the local it
        types (``repo: Repo`` → ``repo.save()`` is ``Repo.save``): a plain or
        generic class type, maybe ``| null``/``| undefined``; not an array, a
        built-in type or a type parameter."""
        if node is not None and node.type == "type_annotation" and node.named_child_count:
            node = node.named_child(0)
        if node is not None and node.type == "union_type":
            named = [m for m in _union_members(node) if text(m) not in _NULLISH]
            node = named[0] if len(named) == 1 else None
        if node is not None and node.type == "generic_type":
            node = node.child_by_field_name("name")
        if node is None or node.type not in ("type_identifier", "nested_type_identifier"):
            return None
        name = _dotted(node)
        if name is None or self.b.is_type_param(name, self.b.current):
            return None
        return name

    def _built_class(self, value: tree_sitter.Node | None) -> str | None:
        """``new Repo(...)``: the class it builds (capitalised, as classes are named)."""
        if value is None or value.type != "new_expression":
            return None
        name = _dotted(value.child_by_field_name("constructor"))
        if name is None or not name.rsplit(".", 1)[-1][:1].isupper():
            return None
        return name

    def on_function_value(self, node: tree_sitter.Node) -> None:
        """An arrow/function expression: ``x => ...`` names its one parameter directly."""
        param = node.child_by_field_name("parameter")
        if param is not None:
            self.b.bind(_binding_names(param), owner=node)

    def on_catch(self, node: tree_sitter.Node) -> None:
        self.b.bind(_binding_names(node.child_by_field_name("parameter")))

    def on_for_in(self, node: tree_sitter.Node) -> None:
        """``for (const x of xs)``: ``x`` is local to the enclosing function."""
        self.b.bind(_binding_names(node.child_by_field_name("left")))


def _require_spec(call: tree_sitter.Node | None) -> str | None:
    """The module string of ``require('m')`` / ``import('m')``, else ``None``."""
    if call is None or call.type != "call_expression":
        return None
    callee = call.child_by_field_name("function")
    if callee is None or not (
        callee.type == "import" or (callee.type == "identifier" and text(callee) == "require")
    ):
        return None
    args = call.child_by_field_name("arguments")
    first = args.named_child(0) if args is not None and args.named_child_count else None
    return _string_value(first)


_HANDLERS = {
    "class_declaration": _Extractor.on_class,
    "abstract_class_declaration": _Extractor.on_class,
    "interface_declaration": _Extractor.on_interface,
    "type_alias_declaration": _Extractor.on_type_alias,
    "enum_declaration": _Extractor.on_enum,
    "internal_module": _Extractor.on_namespace,
    "module": _Extractor.on_namespace,
    "function_declaration": _Extractor.on_function,
    "generator_function_declaration": _Extractor.on_function,
    "function_signature": _Extractor.on_function,
    "method_definition": _Extractor.on_method,
    "method_signature": _Extractor.on_method,
    "abstract_method_signature": _Extractor.on_method,
    "field_definition": _Extractor.on_field,
    "public_field_definition": _Extractor.on_field,
    "property_signature": _Extractor.on_field,
    "lexical_declaration": _Extractor.on_variables,
    "variable_declaration": _Extractor.on_variables,
    "assignment_expression": _Extractor.on_assignment,
    "augmented_assignment_expression": _Extractor._this_assignment,
    "import_statement": _Extractor.on_import,
    "export_statement": _Extractor.on_export,
    "call_expression": _Extractor.on_call,
    "new_expression": _Extractor.on_new,
    "jsx_opening_element": _Extractor.on_jsx,
    "jsx_self_closing_element": _Extractor.on_jsx,
    "formal_parameters": _Extractor.on_parameters,
    "arrow_function": _Extractor.on_function_value,
    "function_expression": _Extractor.on_function_value,
    "function": _Extractor.on_function_value,
    "generator_function": _Extractor.on_function_value,
    "class_static_block": _Extractor.on_function_value,
    "catch_clause": _Extractor.on_catch,
    "for_in_statement": _Extractor.on_for_in,
}


def extract(
    tree: tree_sitter.Tree, source: bytes, path: str, module: str, language: str
) -> FileFacts:
    """Facts for one JavaScript or TypeScript file (``language`` names which)."""
    return _Extractor(tree, source, path, language, module).run()
