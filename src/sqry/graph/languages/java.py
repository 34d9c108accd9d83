"""Java: symbols and references from one ``.java`` file.

Decisions (tests pin each of them):

* **Module = package.** A file's module is its ``package`` declaration, so every
  file of a package shares the module name and same-package names resolve by the
  ``package`` rule; qualified names are ``com.acme.App.run``, nested types
  ``com.acme.App.Inner.run``. A file without a package declaration is in the
  unnamed package: module name ``""`` and qualified names without a prefix.
  :func:`module_name` can only guess from the path (the directory below a
  ``java/`` source root); :func:`extract` reports the declared package.
* **Kinds.** ``class`` (also records), ``interface`` (also ``@interface``),
  ``enum``/``enum_variant``, ``method`` (annotation elements too; constructors are
  methods named ``<init>``, as the JVM names them: named after their class they
  would shadow it, and every ``Circle`` written inside ``Circle`` would bind to
  a constructor instead of the class), ``field`` (also record
  components), ``constant`` (fields declared ``static final`` and interface
  fields, which are implicitly so). Local classes are symbols under their
  method; anonymous classes and lambdas are not: what they contain belongs to
  the enclosing symbol.
* **Visibility.** As written; no modifier means package-private → ``internal``,
  except members of interfaces/annotations and enum constants (``public``) and
  local classes (``private``).
* **References.** ``calls``: ``m()``, ``obj.m()``, ``Util.max()``,
  ``new Foo()`` (to ``Foo``), ``this(...)``/``super(...)`` in a constructor
  (to the class, or the superclass as written); ``this.m()`` is ``via_self`` unless ``this`` is
  an anonymous class's instance. A bare ``m()`` written in an anonymous class
  body keeps that class's supertype as written in ``member`` (``Base``): the
  class is no symbol, so the call belongs to the enclosing method; the
  resolver looks ``m`` up in that supertype first (when the workspace has it)
  and never binds such a call to a member the enclosing classes inherit; nor
  a ``super.m()`` there. ``super.m()`` elsewhere binds the ``m`` the class
  inherits (``LanguageSpec.super_heads``). A call through a local or parameter
  of a declared class (``Repo repo``, ``var r = new Repo()``, ``for (Repo r : rs)``,
  ``try (Repo r = ...)``, ``o instanceof Repo r``) is recorded as a
  call of that class's member (``Repo.save``; see ``_treekit.ScopedFacts.bind``);
  so is one through a field or record component of the class (``Repo repo;``,
  ``repo.save()`` or ``this.repo.save()``), but not in an anonymous class body,
  whose supertype may have a field of that name (``ScopedFacts.declare_member``).
  A call binds a method (or, for ``new``, a class), never a field, constant or
  enum constant of that name (``LanguageSpec.uncallable``): a getter ``size()``
  and its field ``size`` coexist. A record's implicit accessor (``p.x()``) has
  no method to bind and stays unresolved. Calls on
  computed receivers (``a().b()``) and anonymous-class instantiations are skipped. ``imports``: target as written
  (``java.util.List``, ``java.util.*``, ``java.lang.Math.max``); ``member`` is
  the part below the package (``List``, ``Outer.Inner``, ``Math.max``, ``*``,
  ``Util.*``), ``alias`` the simple name it binds (``None`` for wildcards).
  The package is the segments before the first capitalised one (Java naming
  convention): :func:`import_module` maps ``java.util.List`` → ``java.util``.
  ``inherits``: ``extends`` of classes and of interfaces; ``implements``:
  ``implements`` of classes, enums and records. ``returns``: the declared
  return type's class (generic arguments and array dimensions dropped);
  ``void``, primitives and type variables give no edge.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from sqry.graph.languages._facts_builder import one_line
from sqry.graph.languages._treekit import (
    ScopedFacts,
    block_doc,
    captured_in_order,
    node_query,
    text,
)
from sqry.graph.languages.base import LanguageSpec, package_is_module

if TYPE_CHECKING:
    import tree_sitter

    from sqry.graph.model import FileFacts

_TYPE_KINDS = {
    "class_declaration": "class",
    "record_declaration": "class",
    "interface_declaration": "interface",
    "annotation_type_declaration": "interface",
    "enum_declaration": "enum",
}
#: What a local's scope can be (see ``ScopedFacts.bind``): a block, the statements
#: that declare a variable for their body, a switch case, a lambda, a method.
SCOPES = frozenset(
    "block constructor_body for_statement enhanced_for_statement catch_clause "
    "try_with_resources_statement if_statement while_statement do_statement "
    "switch_block_statement_group switch_rule lambda_expression method_declaration "
    "constructor_declaration compact_constructor_declaration".split()
)
_MEMBER_BODIES = frozenset(
    {"class_body", "interface_body", "annotation_type_body", "enum_body_declarations"}
)
_PUBLIC_BY_DEFAULT = frozenset({"interface_declaration", "annotation_type_declaration"})
_FUNCTION_LIKE = frozenset(
    {
        "method_declaration",
        "constructor_declaration",
        "compact_constructor_declaration",
        "lambda_expression",
        "static_initializer",
    }
)
_ANNOTATIONS = frozenset({"annotation", "marker_annotation"})
_PRIMITIVES = frozenset({"void_type", "integral_type", "floating_point_type", "boolean_type"})
_ACCESS = ("public", "protected", "private")
# ``a.b.c`` written without spaces, comments, generics or non-ASCII names.
_PLAIN_CHAIN = re.compile(rb"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
CONSTRUCTOR = "<init>"  # the name of every constructor symbol (see module doc)

#: ``java.lang`` is imported implicitly: a bare ``String``/``Math``/``System``
#: that the file neither defines nor imports is the JDK's, not a workspace class.
BUILTINS = frozenset(
    """Object String StringBuilder StringBuffer CharSequence Math StrictMath System
    Runtime Thread ThreadLocal Runnable Process ProcessBuilder Class ClassLoader Enum
    Record Iterable Comparable AutoCloseable Cloneable Readable Appendable Boolean Byte
    Character Short Integer Long Float Double Number Void Throwable Exception Error
    RuntimeException IllegalArgumentException IllegalStateException NullPointerException
    UnsupportedOperationException IndexOutOfBoundsException ArrayIndexOutOfBoundsException
    StringIndexOutOfBoundsException ArithmeticException ClassCastException
    ClassNotFoundException CloneNotSupportedException InterruptedException
    NumberFormatException NegativeArraySizeException SecurityException
    ReflectiveOperationException AssertionError OutOfMemoryError StackOverflowError
    Override Deprecated SuppressWarnings FunctionalInterface SafeVarargs Module
    ModuleLayer Package ProcessHandle StackWalker StackTraceElement ThreadGroup
    InheritableThreadLocal SecurityManager""".split()
)


@cache
def grammar() -> tree_sitter.Language:
    import tree_sitter
    import tree_sitter_java

    return tree_sitter.Language(tree_sitter_java.language())


def module_name(path: str) -> str:
    """The package ``path`` most likely declares (``extract`` reports the real one).

    ``src/main/java/com/acme/App.java`` → ``com.acme``; without a ``java/``
    source root, the directory: ``com/acme/App.java`` → ``com.acme``.
    """
    parts = path.split("/")[:-1]
    if "java" in parts:
        parts = parts[len(parts) - parts[::-1].index("java") :]
    return ".".join(parts)


def is_identifier(segment: str) -> bool:
    """A Java name: Python's identifier rules plus ``$``."""
    return segment.replace("$", "_").isidentifier()


def _package_of(name: str, wildcard: bool) -> str:
    """Package part of a dotted name: the segments before the first capitalised one."""
    parts = name.split(".")
    for index, part in enumerate(parts):
        if part[:1].isupper():
            return ".".join(parts[:index])
    return name if wildcard else ".".join(parts[:-1])


def import_module(path: str, spec: str) -> str | None:
    """``java.util.List`` / ``java.util.*`` / ``java.lang.Math.max`` → the package."""
    wildcard = spec.endswith(".*")
    return _package_of(spec[:-2] if wildcard else spec, wildcard) or None


# -- small syntax helpers -------------------------------------------------------


def _modifiers(node: tree_sitter.Node) -> set[str]:
    """Keyword modifiers written on a declaration (annotations left out)."""
    for child in node.children:
        if child.type == "modifiers":
            return {c.type for c in child.children if c.type not in _ANNOTATIONS}
    return set()


def _header_start(node: tree_sitter.Node) -> tree_sitter.Node:
    """The first token after leading annotations: where the header is written."""
    for child in node.children:
        if child.type == "modifiers":
            for mod in child.children:
                if mod.type not in _ANNOTATIONS:
                    return mod
            continue
        if child.type not in _ANNOTATIONS:
            return child
    return node


def _slice(source: bytes, start: int, end: int) -> str:
    return one_line(source[start:end].decode("utf-8", "replace")).rstrip(";= ")


def _header(source: bytes, node: tree_sitter.Node, stop: tree_sitter.Node | None) -> str:
    end = stop.start_byte if stop is not None else node.end_byte
    return _slice(source, _header_start(node).start_byte, end)


def _dotted(node: tree_sitter.Node | None) -> str | None:
    """``a.b.c`` for plain names (``this``/``super`` included), else ``None``."""
    if node is None:
        return None
    raw = node.text or b""
    if _PLAIN_CHAIN.fullmatch(raw):  # the common case, without a walk down the chain
        return raw.decode("ascii")
    kind = node.type
    if kind in ("identifier", "type_identifier", "this", "super"):
        return text(node)
    if kind in ("field_access", "scoped_identifier", "scoped_type_identifier"):
        if kind == "scoped_type_identifier":
            return "".join(text(node).split())
        left = node.child_by_field_name("object") or node.child_by_field_name("scope")
        right = node.child_by_field_name("field") or node.child_by_field_name("name")
        head = _dotted(left)
        return f"{head}.{text(right)}" if head is not None and right is not None else None
    return None


def _type_name(node: tree_sitter.Node | None) -> str | None:
    """The class a written type names; ``None`` for primitives and ``void``."""
    if node is None or node.type in _PRIMITIVES:
        return None
    if node.type == "generic_type":
        return _type_name(node.named_child(0))
    if node.type == "array_type":
        return _type_name(node.child_by_field_name("element"))
    return _dotted(node)


def _type_param_names(node: tree_sitter.Node) -> list[str]:
    params = node.child_by_field_name("type_parameters")
    names: list[str] = []
    for param in params.named_children if params is not None else ():
        first = param.named_child(0) if param.named_child_count else None
        if first is not None and first.type in ("type_identifier", "identifier"):
            names.append(text(first))
    return names


def _owner_of(member: tree_sitter.Node) -> tree_sitter.Node | None:
    """The declaration whose body lists ``member`` (``None`` if not in a body)."""
    body = member.parent
    if body is None or body.type not in _MEMBER_BODIES:
        return None
    owner = body.parent
    if body.type == "enum_body_declarations" and owner is not None:
        owner = owner.parent  # enum_body → enum_declaration
    return owner


# -- the extractor --------------------------------------------------------------


class _Extractor:
    """Turns one parsed Java file into facts; one instance per file."""

    def __init__(self, tree: tree_sitter.Tree, source: bytes, path: str) -> None:
        self.tree = tree
        self.source = source
        self.root = tree.root_node
        package = self._package()
        label = package.rpartition(".")[2]
        self.b = ScopedFacts(
            self.root, source, path, "java", package, label, bare_members=True, scopes=SCOPES
        )

    def _package(self) -> str:
        for child in self.root.named_children:
            if child.type == "package_declaration":
                for part in child.named_children:
                    name = _dotted(part)
                    if name is not None:
                        return name
        return ""

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
        return self.b.finish()

    # -- declarations ---------------------------------------------------------

    def _is_member(self, node: tree_sitter.Node) -> bool:
        """Whether ``node`` is declared in the body of the innermost open symbol.

        Members of anonymous classes fail this: they belong to no named symbol.
        """
        owner = _owner_of(node)
        return owner is not None and owner.id == self.b.current_owner

    def _visibility(self, node: tree_sitter.Node, modifiers: set[str]) -> str:
        for access in _ACCESS:
            if access in modifiers:
                return access
        owner = _owner_of(node)
        if owner is None:  # top-level type, or a local class in a method body
            return (
                "private"
                if node.parent is not None and node.parent.type != "program"
                else "internal"
            )
        return "public" if owner.type in _PUBLIC_BY_DEFAULT else "internal"

    def on_type(self, node: tree_sitter.Node) -> None:
        name_node = node.child_by_field_name("name")
        owner = _owner_of(node)
        if name_node is None or (owner is not None and owner.id != self.b.current_owner):
            return  # a type declared inside an anonymous class body
        modifiers = _modifiers(node)
        type_id = self.b.add_symbol(
            _TYPE_KINDS[node.type],
            text(name_node),
            node,
            start=_header_start(node),
            signature=_header(self.source, node, node.child_by_field_name("body")),
            visibility=self._visibility(node, modifiers),
            is_static="static" in modifiers,
            doc=block_doc(node),
        )
        self.b.declare_type_params(type_id, _type_param_names(node))
        self._heritage(node, type_id)
        if node.type == "record_declaration":
            self._record_components(node, type_id)

    def _heritage(self, node: tree_sitter.Node, type_id: int) -> None:
        for clause in node.named_children:
            if clause.type in ("superclass", "super_interfaces", "extends_interfaces"):
                self.b.declare_inheriting(type_id)  # it may inherit fields
            if clause.type == "superclass":
                self._bases("inherits", clause.named_children, type_id)
            elif clause.type in ("super_interfaces", "extends_interfaces"):
                kind = "inherits" if clause.type == "extends_interfaces" else "implements"
                for listed in clause.named_children:
                    self._bases(
                        kind,
                        listed.named_children if listed.type == "type_list" else [listed],
                        type_id,
                    )

    def _bases(self, kind: str, types: list[tree_sitter.Node], type_id: int) -> None:
        for written in types:
            name = _type_name(written)
            if name is not None:
                self.b.add_ref(kind, name, written, source=type_id)

    def _record_components(self, node: tree_sitter.Node, record_id: int) -> None:
        params = node.child_by_field_name("parameters")
        for param in params.named_children if params is not None else ():
            name = param.child_by_field_name("name")
            if param.type == "formal_parameter" and name is not None:
                self.b.declare_member(record_id, text(name), self._field_type(param))
                self.b.add_symbol(
                    "field",
                    text(name),
                    param,
                    start=_header_start(param),
                    parent=record_id,
                    scope=False,
                    signature=_header(self.source, param, None),
                    visibility="private",
                )

    def on_method(self, node: tree_sitter.Node) -> None:
        if not self._is_member(node):
            return
        modifiers = _modifiers(node)
        is_method = node.type in ("method_declaration", "annotation_type_element_declaration")
        method = self.b.add_symbol(
            "method",
            text(node.child_by_field_name("name")) if is_method else CONSTRUCTOR,
            node,
            start=_header_start(node),
            signature=_header(self.source, node, node.child_by_field_name("body")),
            visibility=self._visibility(node, modifiers),
            is_static="static" in modifiers,
            doc=block_doc(node),
        )
        self.b.declare_type_params(method, _type_param_names(node))
        returned = node.child_by_field_name("type")
        name = _type_name(returned) if node.type == "method_declaration" else None
        if name is not None and not self.b.is_type_param(name, method):
            target = returned.named_child(0) if returned.type == "generic_type" else returned
            self.b.add_ref("returns", name, target, source=method)

    def on_field(self, node: tree_sitter.Node) -> None:
        """``int a, b = 1;``: one symbol per declarator, constants when static final."""
        if not self._is_member(node):
            return
        modifiers = _modifiers(node)
        in_interface = node.type == "constant_declaration" or (
            _owner_of(node).type in _PUBLIC_BY_DEFAULT
        )
        constant = in_interface or {"static", "final"} <= modifiers
        declared_type = node.child_by_field_name("type")
        prefix = _slice(self.source, _header_start(node).start_byte, declared_type.end_byte)
        doc = block_doc(node)
        owner = self.b.current
        for index, declarator in enumerate(node.children_by_field_name("declarator")):
            self.b.advance(declarator)  # close the previous declarator's scope
            value = declarator.child_by_field_name("value")
            self.b.declare_member(
                owner,
                text(declarator.child_by_field_name("name")),
                self._field_type(node, declarator),
            )
            end = value.start_byte if value is not None else declarator.end_byte
            self.b.add_symbol(
                "constant" if constant else "field",
                text(declarator.child_by_field_name("name")),
                declarator,
                start=_header_start(node) if index == 0 else declarator,
                signature=f"{prefix} {_slice(self.source, declarator.start_byte, end)}",
                visibility=self._visibility(node, modifiers),
                is_static=in_interface or "static" in modifiers,
                doc=doc,
            )

    def on_enum_constant(self, node: tree_sitter.Node) -> None:
        if not self._is_enum_constant(node):
            return
        self.b.add_symbol(
            "enum_variant",
            text(node.child_by_field_name("name")),
            node,
            signature=_header(self.source, node, node.child_by_field_name("body")),
            doc=block_doc(node),
        )

    def _is_enum_constant(self, node: tree_sitter.Node) -> bool:
        body = node.parent
        owner = body.parent if body is not None else None
        return owner is not None and owner.id == self.b.current_owner

    # -- imports ----------------------------------------------------------------

    def on_import(self, node: tree_sitter.Node) -> None:
        path = next((_dotted(c) for c in node.named_children if _dotted(c) is not None), None)
        if path is None:
            return
        wildcard = any(c.type == "asterisk" for c in node.children)
        package = _package_of(path, wildcard)
        below = path[len(package) + 1 :] if package else path
        if wildcard:
            member = f"{below}.*" if below and path != package else "*"
            self.b.add_ref("imports", f"{path}.*", node, member=member)
        else:
            self.b.add_ref("imports", path, node, member=below, alias=path.rpartition(".")[2])

    # -- calls --------------------------------------------------------------------

    def on_invocation(self, node: tree_sitter.Node) -> None:
        name = text(node.child_by_field_name("name"))
        receiver = node.child_by_field_name("object")
        if receiver is None:
            self.b.add_use("calls", name, node)
            anonymous = self._anonymous_class(node) if name else None
            if anonymous is not None:  # (an empty name records nothing)
                self.b.out.facts.references[-1].member = anonymous
            return
        head = _dotted(receiver)
        if head is None:
            return
        in_anonymous = self._this_is_anonymous(node)
        if head == "this" and not in_anonymous:
            self.b.add_ref("calls", name, node, via_self=True)
        else:
            # in an anonymous class body a name may be a field its supertype has
            self.b.add_use("calls", f"{head}.{name}", node, members=not in_anonymous)
            if head == "super":  # the bases of an anonymous class are not the resolver's
                anonymous = self._anonymous_class(node)
                if anonymous is not None:
                    self.b.out.facts.references[-1].member = anonymous

    def _this_is_anonymous(self, node: tree_sitter.Node) -> bool:
        """Whether the innermost class around ``node`` is an anonymous class."""
        return self._anonymous_class(node) is not None

    def _anonymous_class(self, node: tree_sitter.Node) -> str | None:
        """The supertype, as written, of the anonymous class whose body is the
        innermost class body around ``node``; None when that body is a named
        type's (or there is none)."""
        up = node.parent
        while up is not None:
            if up.type == "class_body":
                creation = up.parent
                if creation is None or creation.type != "object_creation_expression":
                    return None
                return _type_name(creation.child_by_field_name("type")) or "?"
            if up.type in ("interface_body", "enum_body"):
                return None
            up = up.parent
        return None

    def on_new(self, node: tree_sitter.Node) -> None:
        if node.child_by_field_name("body") is not None or any(
            c.type == "class_body" for c in node.named_children
        ):
            return  # an anonymous class: no constructor of a named class runs
        target = _type_name(node.child_by_field_name("type"))
        if target is not None:
            self.b.add_use("calls", target, node)

    def on_explicit_constructor(self, node: tree_sitter.Node) -> None:
        """``this(...)``/``super(...)`` in a constructor: a call of the class's own
        (or its superclass's) constructor, recorded like ``new C(...)`` — to the class."""
        ctor = node.child_by_field_name("constructor")
        declaration = node.parent
        while declaration is not None and declaration.type not in _TYPE_KINDS:
            declaration = declaration.parent
        if ctor is None or declaration is None or node.child_by_field_name("object"):
            return  # ``outer.super(...)``: a superclass of another class's instance
        if ctor.type == "this":
            target = text(declaration.child_by_field_name("name")) or None
        else:
            base = declaration.child_by_field_name("superclass")
            target = _type_name(base.named_child(0)) if base is not None else None
        if target is not None:
            self.b.add_use("calls", target, node, members=False)

    # -- local bindings (never symbols; see _treekit) ---------------------------

    def on_parameters(self, node: tree_sitter.Node) -> None:
        for param in node.named_children:
            name = param.child_by_field_name("name")
            declared = None
            if name is None and param.type == "spread_parameter":
                declarator = next(
                    (c for c in param.named_children if c.type == "variable_declarator"), None
                )
                name = declarator.child_by_field_name("name") if declarator else None
            elif name is not None and param.type == "formal_parameter":
                declared = self._local_type(param.child_by_field_name("type"))
                if param.child_by_field_name("dimensions") is not None:
                    declared = None  # ``Repo rs[]``: an array
            if name is not None:
                self.b.bind((text(name),), owner=node.parent, type_name=declared, at=name)
            elif param.type == "identifier":  # inferred lambda parameters
                self.b.bind((text(param),), owner=node.parent)

    def _local_type(self, node: tree_sitter.Node | None) -> str | None:
        """The class a local's declared type names, for calls through the local
        (``Repo r; r.save()`` → ``Repo.save``): a plain or generic class type, not
        an array, a primitive, ``var`` or a type variable."""
        if node is not None and node.type == "generic_type":
            node = node.named_child(0)
        if node is None or node.type not in ("type_identifier", "scoped_type_identifier"):
            return None
        name = _dotted(node)
        if name is None or name == "var" or self.b.is_type_param(name, self.b.current):
            return None
        return name

    def _field_type(
        self, declaration: tree_sitter.Node, declarator: tree_sitter.Node | None = None
    ) -> str | None:
        """The class a field (or record component) is declared with, as for a
        local: ``Repo repo`` → ``Repo``; ``var``-less, so never inferred."""
        if (declarator or declaration).child_by_field_name("dimensions") is not None:
            return None  # ``Repo rs[]``: an array
        return self._local_type(declaration.child_by_field_name("type"))

    def on_lambda(self, node: tree_sitter.Node) -> None:
        params = node.child_by_field_name("parameters")
        if params is not None and params.type == "identifier":
            self.b.bind((text(params),), owner=node)

    def on_local_variables(self, node: tree_sitter.Node) -> None:
        declared = self._local_type(node.child_by_field_name("type"))
        for declarator in node.children_by_field_name("declarator"):
            kind = declared
            value = declarator.child_by_field_name("value")
            if declarator.child_by_field_name("dimensions") is not None:
                kind = None  # ``Repo rs[] = ...``: an array
            elif kind is None and value is not None and value.type == "object_creation_expression":
                kind = self._local_type(value.child_by_field_name("type"))  # ``var r = new Repo()``
            name = declarator.child_by_field_name("name")
            self.b.bind((text(name),), type_name=kind, at=name)

    def on_pattern(self, node: tree_sitter.Node) -> None:
        """A switch pattern (``case Circle c ->``) or a record pattern's component
        (``Point(Circle c, int n)``) binds its name, typed like a local."""
        children = node.named_children
        if len(children) == 2 and children[1].type == "identifier":
            declared = self._local_type(children[0])
            self.b.bind((text(children[1]),), type_name=declared, at=children[1])

    def on_named_binding(self, node: tree_sitter.Node) -> None:
        """Catch parameters, for-each variables, resources, ``instanceof`` patterns;
        the last three typed like other locals (``for (Circle c : cs)``,
        ``try (Res r = ...)``, ``o instanceof Repo r``; ``var`` and arrays not)."""
        name = node.child_by_field_name("name")
        if name is None or name.type != "identifier":
            return
        declared = None
        if node.child_by_field_name("dimensions") is None:
            kind = node.child_by_field_name("type") or node.child_by_field_name("right")
            declared = self._local_type(kind)
        self.b.bind((text(name),), type_name=declared, at=name)


_HANDLERS = {
    "type_pattern": lambda self, node: self.on_pattern(node),
    "record_pattern_component": lambda self, node: self.on_pattern(node),
    "class_declaration": _Extractor.on_type,
    "record_declaration": _Extractor.on_type,
    "interface_declaration": _Extractor.on_type,
    "annotation_type_declaration": _Extractor.on_type,
    "enum_declaration": _Extractor.on_type,
    "method_declaration": _Extractor.on_method,
    "constructor_declaration": _Extractor.on_method,
    "compact_constructor_declaration": _Extractor.on_method,
    "annotation_type_element_declaration": _Extractor.on_method,
    "field_declaration": _Extractor.on_field,
    "constant_declaration": _Extractor.on_field,
    "enum_constant": _Extractor.on_enum_constant,
    "import_declaration": _Extractor.on_import,
    "method_invocation": _Extractor.on_invocation,
    "object_creation_expression": _Extractor.on_new,
    "explicit_constructor_invocation": _Extractor.on_explicit_constructor,
    "formal_parameters": _Extractor.on_parameters,
    "inferred_parameters": _Extractor.on_parameters,
    "lambda_expression": _Extractor.on_lambda,
    "static_initializer": lambda self, node: None,
    "local_variable_declaration": _Extractor.on_local_variables,
    "catch_formal_parameter": _Extractor.on_named_binding,
    "enhanced_for_statement": _Extractor.on_named_binding,
    "resource": _Extractor.on_named_binding,
    "instanceof_expression": _Extractor.on_named_binding,
}


def extract(tree: tree_sitter.Tree, source: bytes, path: str, module_name: str) -> FileFacts:
    """Facts for one Java file; its module is the declared package, not ``module_name``."""
    return _Extractor(tree, source, path).run()


LANGUAGE = LanguageSpec(
    name="java",
    extensions=(".java",),
    grammar=grammar,
    extract=extract,
    module_name=module_name,
    import_module=import_module,
    separator=".",
    builtins=BUILTINS,
    members_in_scope=True,
    super_heads=frozenset({"super"}),
    package_of=package_is_module,  # the declared package
    package_hides_stars=True,
    uncallable=frozenset({"field", "constant", "enum_variant"}),  # ``size()`` is the getter
    is_identifier=is_identifier,
)
