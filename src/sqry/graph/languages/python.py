"""Python: the reference language module.

How extraction works (other language modules may copy the shape): ONE compiled
tree-sitter query captures the few node types that matter (definitions, calls,
imports, binding sites); tree-sitter walks the tree in C and Python only sees
those nodes. They are visited in document order with a stack of the scopes
(module, classes, functions) whose byte range is still open, which gives every
symbol its parent and every reference its source. References whose meaning
depends on the whole enclosing function (is ``cb`` a parameter? is ``self`` the
instance?) are finished after the sweep, when every function's locals are known.

Decisions, so readers know what the index means:

- Module names come from paths: ``pkg/mod.py`` -> ``pkg.mod``,
  ``pkg/__init__.py`` -> ``pkg``; a leading ``src/`` directory is dropped
  (``src/pkg/mod.py`` -> ``pkg.mod``), the usual "src layout"; ``.pyi`` stubs
  map to the same module as their ``.py``.
- Kinds: ``def`` -> ``function``, or ``method`` when directly in a class body;
  ``class`` -> ``class``; module-level assignment targets -> ``constant`` when
  the name is UPPER_CASE, else ``variable``; class-body assignments and
  annotations (``x: int = 0``, dataclass fields) -> ``field``. Instance
  attributes set through ``self.x = ...`` are not symbols. Only the first
  assignment of a name in a scope defines it; a name already defined by a
  ``def``/``class`` in that scope is not redefined as a variable.
  ``name = lambda ...: ...`` defines a ``function`` (``method`` in a class
  body) named ``name``, in any scope, like a ``def`` would: calls inside the
  lambda come from it, and ``name(...)`` resolves to it (universal-ctags
  reports these as functions too).
- Visibility: ``__x`` (not dunder) -> ``private``; ``_x`` -> ``protected`` in a
  class body, ``internal`` elsewhere (module-private by convention); everything
  else (including ``__dunder__``) -> ``public``.
- ``is_static``: ``@staticmethod`` and ``@classmethod`` (callable without an
  instance). ``is_async``: ``async def``.
- ``signature``: the header from ``def``/``class`` up to its ``:``, one line;
  for variables the first line of the assignment. ``doc``: the first non-empty
  line of the docstring.
- Lines are 1-based; columns are 0-based byte offsets (tree-sitter points).
- ``calls``: the callee as a dotted name (``os.path.join``); ``self.m()`` /
  ``cls.m()`` (the method's first parameter, not rebound) -> ``via_self`` with
  target ``m``; ``super().m()`` keeps that text and resolves to the ``m`` the
  class inherits (``LanguageSpec.super_heads``); other callees that are not
  dotted names (``f()()``, ``x[0]()``) keep their text and never resolve. A
  callee whose first name is a parameter or local variable of an enclosing
  function is ``bound_locally`` — except a call through a local or an instance attribute
  whose type the function or class fixes (an annotation, or every non-``None``
  value built by one capitalised class: :func:`_agreed_type`):
  ``self.repo.save()`` with ``self.repo = Repo()``, or ``repo.save()`` with a
  parameter ``repo: Repo``, is recorded as a call of ``Repo.save``.
- ``imports``: ``import a.b`` -> target ``a.b``, no alias (the resolver lets
  ``a`` and ``a.b`` qualify names); ``import a.b as c`` -> alias ``c``;
  ``from m import x as y`` -> target ``m``, member ``x``, alias ``y``;
  ``from . import x`` -> target ``.``; ``from m import *`` -> member ``*``.
- ``inherits``: each positional base (``Base``, ``mod.Base``; ``Generic[T]`` ->
  ``Generic``); keyword arguments (``metaclass=``) are not bases.
- ``returns``: the annotation as a dotted name, unwrapping a quoted name,
  ``X | None`` and ``Optional[X]`` (also inside the quotes: ``"X | None"``);
  anything else keeps its text (unresolved).
- ``__all__``: what ``from m import *`` takes from ``m`` is read from ``m``'s
  ``__all__`` when every mention of ``__all__`` in the file is a module-level
  ``__all__ = [...]``/``(...)`` or ``__all__ += [...]`` of plain string
  literals (:func:`declared_star_names`); any other use (``__all__.extend(...)``,
  ``a.__all__ + b.__all__``, a mention in a string) leaves the list unknown, and
  then, like without ``__all__``, every public (not ``_``-prefixed) name counts.
"""

from __future__ import annotations

import builtins
import re
from operator import itemgetter
from typing import TYPE_CHECKING

from sqry.graph.languages._facts_builder import syntax_error
from sqry.graph.languages.base import LanguageSpec
from sqry.graph.model import FileFacts, Reference, Symbol

if TYPE_CHECKING:
    import tree_sitter
    from tree_sitter import Node

SEPARATOR = "."
MAX_SIGNATURE = 200
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*\Z")
_NAME = r"[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*"
# A quoted annotation's one class: the same forms _type_target unwraps unquoted
_QUOTED_TYPE = re.compile(
    rf"(?:(?:typing\.)?(?:Optional\[\s*({_NAME})\s*|Annotated\[\s*({_NAME})\s*,.*)\]"
    rf"|({_NAME})\s*\|\s*None"
    rf"|None\s*\|\s*({_NAME})|({_NAME})(?:\[[^\[\]]*\])?)\Z"
)
_DOTTED_BYTES = re.compile(rb"[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*\Z")

_QUERY_SOURCE = """
(function_definition) @def
(class_definition) @class
(call function: (_) @call)
(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import
(assignment left: (_) @assign)
(assignment left: (identifier) right: (lambda) @lambda)
(augmented_assignment left: (identifier) @bind)
(for_statement left: (_) @bind)
(for_in_clause left: (_) @bind)
(as_pattern_target) @bind
(named_expression name: (identifier) @bind)
(lambda_parameters) @bind
(global_statement) @global
(nonlocal_statement) @global
"""

_query: tree_sitter.Query | None = None


def grammar() -> tree_sitter.Language:
    import tree_sitter
    import tree_sitter_python

    return tree_sitter.Language(tree_sitter_python.language())


def _compiled_query(language: tree_sitter.Language) -> tree_sitter.Query:
    """The extraction query, compiled once per process."""
    global _query
    if _query is None:
        import tree_sitter

        _query = tree_sitter.Query(language, _QUERY_SOURCE)
    return _query


# --------------------------------------------------------------------------- paths


def module_name(path: str) -> str:
    """``pkg/mod.py`` -> ``pkg.mod``; ``pkg/__init__.py`` -> ``pkg``; ``src/`` dropped."""
    stem = path.rsplit(".", 1)[0] if path.endswith((".py", ".pyi", ".pyw")) else path
    parts = stem.split("/")
    if len(parts) > 1 and parts[0] == "src":
        parts = parts[1:]
    if len(parts) > 1 and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _package_of(path: str) -> list[str]:
    """The segments of the package a file's relative imports start from."""
    module = module_name(path).split(".")
    is_init = path.rsplit("/", 1)[-1].startswith("__init__.")
    return module if is_init else module[:-1]


def import_module(path: str, spec: str) -> str | None:
    """Absolute module name of ``spec`` as written in ``path`` (relative made absolute)."""
    if not spec.startswith("."):
        return spec or None
    dots = len(spec) - len(spec.lstrip("."))
    rest = spec[dots:]
    package = _package_of(path)
    if dots - 1 > len(package):
        return None  # climbs above the workspace root
    base = package[: len(package) - (dots - 1)]
    parts = base + (rest.split(".") if rest else [])
    return ".".join(parts) or None


# --------------------------------------------------------------------------- text helpers


# Python strings (triple-quoted first) and comments, leftmost first: a ``#`` in a
# string is no comment
_TOKENS = re.compile(
    r'"""(?:\\.|[^\\])*?(?:"""|\Z)|\'\'\'(?:\\.|[^\\])*?(?:\'\'\'|\Z)'
    r'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|#[^\n]*'
)


def _one_line(text: str, *, code: bool = True) -> str:
    """Whitespace runs as one space, capped at ``MAX_SIGNATURE``; in ``code`` (not
    a docstring's prose) comments dropped (joined into one line, ``a,  # first``
    would comment out the rest)."""
    if code and "#" in text:
        text = _TOKENS.sub(_keep_strings, text)
    flat = " ".join(text.split())  # same as collapsing \s+ runs and stripping, faster
    return flat if len(flat) <= MAX_SIGNATURE else flat[: MAX_SIGNATURE - 1].rstrip() + "…"


def _keep_strings(token: re.Match[str]) -> str:
    found = token.group()
    return " " if found[0] == "#" else found


def _text(node: Node) -> str:
    text = node.text  # each access copies the bytes out of the tree: read it once
    return text.decode("utf-8", "replace") if text is not None else ""


def dotted(node: Node) -> str | None:
    """``a.b.c`` for an identifier/attribute chain, None for anything else."""
    parts: list[str] = []
    while node.type == "attribute":
        attr = node.child_by_field_name("attribute")
        obj = node.child_by_field_name("object")
        if attr is None or obj is None:
            return None
        parts.append(_text(attr))
        node = obj
    if node.type != "identifier":
        return None
    parts.append(_text(node))
    parts.reverse()
    return SEPARATOR.join(parts)


def _docstring(body: Node | None) -> str:
    """First non-empty line of the docstring that opens ``body``, or ''."""
    if body is None or body.named_child_count == 0:
        return ""
    first = body.named_child(0)
    if first is None or first.type != "expression_statement" or first.named_child_count != 1:
        return ""
    string = first.named_child(0)
    if string is None or string.type != "string":
        return ""
    for part in string.named_children:
        if part.type == "string_content":
            for line in _text(part).splitlines():
                if line.strip():
                    return _one_line(line, code=False)
            return ""
    return ""


def visibility(name: str, in_class: bool) -> str:
    if name.startswith("__") and not name.endswith("__"):
        return "private"
    if name.startswith("_") and not name.startswith("__"):
        return "protected" if in_class else "internal"
    return "public"


def _binding_names(node: Node) -> list[Node]:
    """Identifiers bound by an assignment/loop target (tuples unpacked, attrs skipped)."""
    if node.type == "identifier":
        return [node]
    if node.type in ("pattern_list", "tuple_pattern", "list_pattern", "as_pattern_target"):
        found: list[Node] = []
        for child in node.named_children:
            found.extend(_binding_names(child))
        return found
    if node.type in ("list_splat_pattern", "parenthesized_expression"):
        return [n for child in node.named_children for n in _binding_names(child)]
    return []


def _parameter_names(params: Node | None) -> list[str]:
    """Names a parameter list binds, in order (``self`` first for methods)."""
    if params is None:
        return []
    names: list[str] = []
    for child in params.named_children:
        kind = child.type
        if kind == "identifier":
            names.append(_text(child))
        elif kind in ("default_parameter", "typed_default_parameter"):
            name = child.child_by_field_name("name")
            if name is not None:
                names.append(_text(name))
        elif kind in ("typed_parameter", "list_splat_pattern", "dictionary_splat_pattern"):
            for sub in child.named_children:
                if sub.type == "identifier":
                    names.append(_text(sub))
                    break
    return names


def _parameter_types(params: Node | None) -> dict[str, str]:
    """Parameter name -> the type its annotation names, for plain dotted types."""
    found: dict[str, str] = {}
    for child in params.named_children if params is not None else ():
        if child.type in ("typed_parameter", "typed_default_parameter"):
            name = child.child_by_field_name("name")
            if name is None:  # typed_parameter: the identifier is its first child
                name = child.named_children[0] if child.named_children else None
            kind = child.child_by_field_name("type")
            if name is not None and name.type == "identifier" and kind is not None:
                found[_text(name)] = _type_target(kind)
    return found


def _type_target(node: Node) -> str:
    """The type an annotation names, unwrapping quotes, ``X | None``, ``Optional[X]``,
    ``Annotated[X, ...]``; a generic's class without its arguments (``Repo[int]``
    is a ``Repo``, as ``Repo<T>`` is in Java or TypeScript). Special forms that
    name no one class (``Union[A, B]``, ``Callable[...]``) keep their text."""
    while node.type == "type" and node.named_child_count == 1:
        node = node.named_child(0)  # type: ignore[assignment]
    name = dotted(node)
    if name is not None:
        return name
    if node.type == "string":
        inner = "".join(_text(c) for c in node.named_children if c.type == "string_content")
        quoted = _QUOTED_TYPE.match(inner.strip())
        if quoted:  # "User", "User | None", "Optional[User]", "Repo[int]"
            found = next(group for group in quoted.groups() if group)
            if found.removeprefix("typing.") not in _SPECIAL_FORMS:  # "Union[A, B]" stays
                return found
    if node.type == "binary_operator":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is not None and right is not None:
            if right.type == "none":
                return _type_target(left)
            if left.type == "none":
                return _type_target(right)
    if node.type in ("generic_type", "subscript") and node.named_child_count == 2:
        head, arg = node.named_child(0), node.named_child(1)
        generic = dotted(head) if head is not None else None
        if generic is not None and arg is not None:
            form = generic.removeprefix("typing.")
            if form in ("Optional", "Annotated"):
                if arg.type == "type_parameter" and arg.named_child_count >= 1:
                    arg = arg.named_child(0)  # type: ignore[assignment]
                return _type_target(arg)  # type: ignore[arg-type]
            if form not in _SPECIAL_FORMS:
                return generic
    return _one_line(_text(node))


# typing's subscripted forms that name no single class (``Union[A, B]`` is neither)
_SPECIAL_FORMS = frozenset(
    {"Union", "Callable", "Literal", "ClassVar", "Final", "Concatenate", "TypeGuard", "Unpack"}
)


# --------------------------------------------------------------------------- extraction
#
# Speed matters here: this runs once per captured node (~560k for the standard
# library). Hence plain slotted classes instead of dataclasses, positional
# record construction, one ``node.children`` call per def/class instead of one
# field lookup per part, and the commonest capture (a call) handled inline in
# the sweep. The result must stay exactly what the plain version produced.

_NO_NAMES: frozenset[str] = frozenset()
_STATIC_DECORATORS = frozenset({"staticmethod", "classmethod"})
_START_THEN_OUTER = itemgetter(0, 1)  # capture order: by start byte, outer node first


class _Scope:
    """An open module/class/function while sweeping the file."""

    __slots__ = (
        "kind",
        "is_function",
        "local_id",
        "qname",
        "end_byte",
        "parent",
        "defined",
        "locals",
        "not_local",
        "self_name",
        "param_types",
        "params",
        "bindings",
    )

    def __init__(
        self,
        kind: str,  # module | class | function
        local_id: int,
        qname: str,
        end_byte: int,
        parent: _Scope | None,
        params: list[str] | None = None,
    ) -> None:
        self.kind = kind
        self.is_function = kind == "function"
        self.local_id = local_id
        self.qname = qname
        self.end_byte = end_byte
        self.parent = parent
        self.defined: set[str] = set()  # names of symbols defined directly here
        self.locals: set[str] = set(params) if params else set()  # non-symbol bindings
        self.not_local: set[str] = set()  # global/nonlocal declarations
        self.self_name: str | None = None  # a method's instance/class parameter
        self.param_types: dict[str, str] | None = None  # a function's annotated parameters
        self.params = params  # a function's parameter names
        # a function's locals: what each binding says of its type (_TypeFact)
        self.bindings: dict[str, list[_TypeFact]] | None = None


# What one binding (of a local or an instance attribute) says of its type:
# (kind, text, function) — kind ``annotation`` (text: the type), ``call`` (text:
# the callee, checked against the function's locals at the end), ``none`` or
# ``other``.
_TypeFact = tuple[str, str, "_Scope | None"]

# A call inside a function whose meaning waits for the function's locals:
# (reference, scope, first name of the callee, receiver of a two-segment callee).
_PendingCall = tuple[Reference, _Scope, str, "str | None"]


class _Parts:
    """The parts of a def/class node, from one pass over its children.

    Type tests stand in for field lookups: in this grammar each of these node
    types occurs only in its field (``name``, ``parameters``, ``return_type``,
    ``superclasses``, ``body``), and the first one is what the field names.
    """

    __slots__ = ("name", "params", "returns", "bases", "body", "colon", "first")

    def __init__(self, node: Node) -> None:
        self.name = self.params = self.returns = self.bases = self.body = None
        self.colon = node.end_byte  # where the header ends: the last ``:`` child
        children = node.children
        self.first = children[0].type if children else None
        for child in children:
            kind = child.type
            if kind == "block":
                if self.body is None:
                    self.body = child
            elif kind == "identifier":
                if self.name is None:
                    self.name = child
            elif kind == ":":
                self.colon = child.start_byte
            elif kind == "parameters":
                if self.params is None:
                    self.params = child
            elif kind == "type":
                if self.returns is None:
                    self.returns = child
            elif kind == "argument_list" and self.bases is None:
                self.bases = child


class _Extractor:
    """One file's sweep; see the module docstring for the decisions it encodes."""

    def __init__(self, source: bytes, path: str, module: str, end: Node) -> None:
        self.source = source
        self.path = path
        self.facts = FileFacts(path=path, language="python", module_name=module)
        root = Symbol(
            local_id=0,
            kind="module",
            name=module.rsplit(SEPARATOR, 1)[-1],
            qualified_name=module,
            start_line=1,
            start_column=0,
            end_line=end.end_point[0] + 1,
            end_column=end.end_point[1],
            doc=_docstring(end),
        )
        self.facts.symbols.append(root)
        self.module_scope = _Scope("module", 0, module, end.end_byte, None)
        self.pending: list[_PendingCall] = []
        # per (class local id, attribute): what assignments say its type is
        self.attributes: dict[tuple[int, str], list[_TypeFact]] = {}
        self.set_in_init: set[tuple[int, str]] = set()  # of those, assigned in ``__init__``

    def add_symbol(
        self,
        scope: _Scope,
        kind: str,
        name: str,
        node: Node,
        signature: str = "",
        is_async: bool = False,
        is_static: bool = False,
        doc: str = "",
    ) -> Symbol:
        symbols = self.facts.symbols
        start, end = node.start_point, node.end_point
        symbol = Symbol(
            len(symbols),
            kind,
            name,
            f"{scope.qname}{SEPARATOR}{name}" if scope.qname else name,
            start[0] + 1,
            start[1],
            end[0] + 1,
            end[1],
            scope.local_id,
            signature,
            visibility(name, scope.kind == "class"),
            is_async,
            is_static,
            doc,
        )
        symbols.append(symbol)
        scope.defined.add(name)
        return symbol

    def add_ref(self, kind: str, scope: _Scope, target: str, node: Node, **extra: object) -> None:
        row, col = node.start_point
        ref = Reference(kind, scope.local_id, target, row + 1, col, **extra)  # type: ignore[arg-type]
        self.facts.references.append(ref)

    def _header(self, node: Node, colon: int) -> str:
        """A def/class header up to (not including) its own ``:``."""
        return _one_line(self.source[node.start_byte : colon].decode("utf-8", "replace"))

    # -- definitions

    def open_function(self, scope: _Scope, node: Node) -> _Scope:
        parts = _Parts(node)
        name = _text(parts.name) if parts.name is not None else "<anonymous>"
        in_class = scope.kind == "class"
        # Decorators only change methods (static/class methods): skip the parent lookup otherwise.
        decorators = _decorator_names(node) if in_class else _NO_NAMES
        symbol = self.add_symbol(
            scope,
            "method" if in_class else "function",
            name,
            node,
            self._header(node, parts.colon),
            parts.first == "async",
            in_class and not decorators.isdisjoint(_STATIC_DECORATORS),
            _docstring(parts.body),
        )
        params = _parameter_names(parts.params)
        inner = _Scope(
            "function", symbol.local_id, symbol.qualified_name, node.end_byte, scope, params
        )
        if in_class and params and "staticmethod" not in decorators:
            inner.self_name = params[0]
        annotated = parts.params
        if annotated is not None and b":" in self.source[annotated.start_byte : annotated.end_byte]:
            inner.param_types = _parameter_types(annotated)
        if parts.returns is not None:
            self.add_ref("returns", inner, _type_target(parts.returns), parts.returns)
        return inner

    def open_lambda(self, scope: _Scope, node: Node) -> _Scope:
        """``name = lambda ...:``: a function (a method in a class body) named
        ``name``, spanning the assignment, unless ``name`` is already defined in
        ``scope`` (then the lambda stays an expression of ``scope``)."""
        statement = node.parent
        target = statement.child_by_field_name("left") if statement is not None else None
        if target is None:
            return scope
        name = _text(target)
        if name in scope.defined:
            return scope
        in_class = scope.kind == "class"
        first_line = _text(statement).split("\n", 1)[0]
        symbol = self.add_symbol(
            scope, "method" if in_class else "function", name, statement, _one_line(first_line)
        )
        params = _parameter_names(node.child_by_field_name("parameters"))
        inner = _Scope(
            "function", symbol.local_id, symbol.qualified_name, node.end_byte, scope, params
        )
        if in_class and params:
            inner.self_name = params[0]
        return inner

    def open_class(self, scope: _Scope, node: Node) -> _Scope:
        parts = _Parts(node)
        name = _text(parts.name) if parts.name is not None else "<anonymous>"
        symbol = self.add_symbol(
            scope,
            "class",
            name,
            node,
            self._header(node, parts.colon),
            doc=_docstring(parts.body),
        )
        inner = _Scope("class", symbol.local_id, symbol.qualified_name, node.end_byte, scope)
        bases = parts.bases
        for base in bases.named_children if bases is not None else ():
            if base.type == "subscript":
                base = base.child_by_field_name("value") or base
            target = dotted(base)
            if target is not None:
                self.add_ref("inherits", inner, target, base)
        return inner

    # -- references and bindings

    def sweep(self, items: list[tuple[int, int, str, Node]]) -> None:
        """Visit the captures in document order, tracking the open scope.

        Calls (most captures) and function-local assignments are handled inline.
        """
        source = self.source
        references = self.facts.references
        pending = self.pending
        dotted_ascii = _DOTTED_BYTES.match
        scope = self.module_scope
        scope_end = scope.end_byte
        for start, neg_end, name, node in items:
            if start >= scope_end:
                while start >= scope.end_byte and scope.parent is not None:
                    scope = scope.parent
                scope_end = scope.end_byte
            if name == "call":
                raw = source[start:-neg_end]
                # Fast path: most callees are plain ASCII dotted names written without spaces.
                target = raw.decode() if dotted_ascii(raw) else dotted(node)
                if target is None:
                    self.add_ref("calls", scope, _one_line(_text(node)), node)
                    continue
                row, col = node.start_point
                ref = Reference("calls", scope.local_id, target, row + 1, col)
                references.append(ref)
                if scope.is_function:
                    head, _, rest = target.partition(SEPARATOR)
                    receiver = head if rest and SEPARATOR not in rest else None
                    pending.append((ref, scope, head, receiver))
            elif name == "assign" and scope.is_function:
                if node.type == "identifier":
                    local = source[start:-neg_end].decode("utf-8", "replace")
                    scope.locals.add(local)
                    # the value's type only matters if it could name one (cheap test first)
                    typed = _MAYBE_TYPED(source, -neg_end) is not None
                    _bind(scope, local, self.binding_fact(scope, node) if typed else _UNKNOWN)
                elif node.type == "attribute" and scope.self_name is not None:
                    self.on_self_attribute(scope, node)
                else:
                    for bound in _binding_names(node):
                        local = _text(bound)
                        scope.locals.add(local)
                        _bind(scope, local, _UNKNOWN)
            elif name == "def":
                scope = self.open_function(scope, node)
                scope_end = scope.end_byte
            elif name == "class":
                scope = self.open_class(scope, node)
                scope_end = scope.end_byte
            elif name == "lambda":
                scope = self.open_lambda(scope, node)
                scope_end = scope.end_byte
            else:
                _HANDLERS[name](self, scope, node)

    def on_import(self, scope: _Scope, node: Node) -> None:
        if node.type == "import_statement":
            for name in node.children_by_field_name("name"):
                if name.type == "aliased_import":
                    module = name.child_by_field_name("name")
                    alias = name.child_by_field_name("alias")
                    if module is not None:
                        self.add_ref("imports", scope, _text(module), name, alias=_opt_text(alias))
                else:
                    self.add_ref("imports", scope, _text(name), name)
            return
        module_node = node.child_by_field_name("module_name")
        module = _text(module_node) if module_node is not None else "__future__"
        if any(child.type == "wildcard_import" for child in node.children):
            self.add_ref("imports", scope, module, node, member="*")
            return
        for name in node.children_by_field_name("name"):
            if name.type == "aliased_import":
                member_node = name.child_by_field_name("name")
                member = _text(member_node) if member_node is not None else ""
                alias = _opt_text(name.child_by_field_name("alias")) or member
            else:
                member = alias = _text(name)
            self.add_ref("imports", scope, module, name, member=member, alias=alias)

    def on_assign(self, scope: _Scope, target: Node) -> None:
        """An assignment outside functions: module variables/constants, class fields."""
        names = _binding_names(target)
        statement = target.parent
        if _is_lambda_assignment(statement, target):
            return  # a function: open_lambda defines it
        for name_node in names:
            name = _text(name_node)
            if name in scope.defined:
                continue
            if scope.kind == "class":
                kind = "field"
            else:
                kind = "constant" if name.isupper() else "variable"
            line = _text(statement).split("\n", 1)[0] if statement is not None else name
            symbol = self.add_symbol(scope, kind, name, name_node, _one_line(line))
            if kind == "field" and statement is not None and name_node is target:
                annotation = statement.child_by_field_name("type")
                if annotation is not None:
                    fact = ("annotation", _type_target(annotation), None)
                    self.attributes.setdefault((scope.local_id, name), []).append(fact)
            if statement is not None:  # the definition spans its whole statement
                symbol.end_line = statement.end_point[0] + 1
                symbol.end_column = statement.end_point[1]

    def on_bind(self, scope: _Scope, node: Node) -> None:
        function = _nearest_function(scope)
        if function is None:
            return
        if node.type == "lambda_parameters":
            names = _parameter_names(node)
        else:
            names = [_text(n) for n in _binding_names(node)]
        function.locals.update(names)
        for local in names:
            _bind(function, local, _UNKNOWN)

    def on_global(self, scope: _Scope, node: Node) -> None:
        if scope.is_function:
            scope.not_local.update(_text(c) for c in node.named_children if c.type == "identifier")

    # -- finishing

    def on_self_attribute(self, method: _Scope, target: Node) -> None:
        """``self.NAME = ...`` in a method: what it says about ``NAME``'s type."""
        owner = target.child_by_field_name("object")
        attribute = target.child_by_field_name("attribute")
        if (
            owner is None
            or attribute is None
            or owner.type != "identifier"
            or _text(owner) != method.self_name
            or method.parent is None  # (a method's parent: its class)
        ):
            return
        key = (method.parent.local_id, _text(attribute))
        self.attributes.setdefault(key, []).append(self.binding_fact(method, target))
        if method.qname.endswith(".__init__"):
            self.set_in_init.add(key)

    def binding_fact(self, function: _Scope, target: Node) -> _TypeFact:
        """What ``target = value`` (or ``target: T = value``) in ``function``
        says of the type of what it binds: its annotation; the class built
        (``Repo(...)``, a capitalised callee per PEP 8: ``make_repo()`` says
        nothing); ``None``; an annotated parameter's type; else unknown."""
        statement = target.parent
        if statement is None or statement.type != "assignment":
            return _UNKNOWN
        annotation = statement.child_by_field_name("type")
        if annotation is not None:
            return ("annotation", _type_target(annotation), None)
        value = statement.child_by_field_name("right")
        if value is None:
            return _UNKNOWN
        if value.type == "none":
            return ("none", "", None)
        if value.type == "call":
            callee = dotted(value.child_by_field_name("function"))
            if callee is not None and callee.rsplit(SEPARATOR, 1)[-1][:1].isupper():
                return ("call", callee, function)
        elif value.type == "identifier" and function.param_types:
            declared = function.param_types.get(_text(value))
            if declared is not None:
                return ("annotation", declared, None)
        return _UNKNOWN

    def attribute_types(self) -> dict[tuple[int, str], str]:
        """Per (class, attribute), the type its assignments agree on: the one
        annotation they carry (``x: T``, ``self.x: T = ...``, ``self.x = p`` of a
        parameter ``p: T``), else the one class every non-``None`` value is
        constructed from (``self.x = T(...)``); none where they disagree, where
        some other value is assigned, or where the class defines a method or
        class of that name (a property's type is not read).

        A class with bases sees the assignments its bases make too, unseen here
        (maybe in another file): there only an attribute its own ``__init__``
        sets (after which the instance has that value, whatever the bases did)
        or a class-body annotation declares is typed — a base's
        ``self.repo = Repo()`` beside a subclass's ``self.repo = Other()`` in
        some other method would otherwise type ``repo`` as ``Other`` alone."""
        callables = {
            (s.parent, s.name) for s in self.facts.symbols if s.kind in ("method", "class")
        }
        derived = {
            r.source for r in self.facts.references if r.kind == "inherits" and r.target != "object"
        }
        found: dict[tuple[int, str], str] = {}
        for key, facts in self.attributes.items():
            if key in callables:
                continue
            if (
                key[0] in derived
                and key not in self.set_in_init
                and not any(fact[0] == "annotation" for fact in facts)
            ):
                continue
            agreed = _agreed_type(facts)
            if agreed is not None:
                found[key] = agreed
        return found

    def finish_calls(self) -> None:
        """Decide ``via_self`` and ``bound_locally`` now that all locals are known;
        a call through an instance attribute of known type (``self.repo.save()``
        with ``self.repo = Repo()``) becomes a call of that type's member
        (``Repo.save``)."""
        binders: dict[tuple[_Scope, str], _Scope | None] = {}  # most calls share a head
        types = self.attribute_types() if self.attributes else {}
        local_types: dict[tuple[_Scope, str], str | None] = {}  # likewise
        for ref, scope, head, receiver in self.pending:
            key = (scope, head)
            if key in binders:
                binder = binders[key]
            else:
                binder = binders[key] = _binding_scope(scope, head)
            if binder is None:
                continue
            if binder.self_name == head:
                if receiver is not None:
                    ref.via_self = True
                    ref.target = ref.target.split(SEPARATOR, 1)[1]
                    continue
                parts = ref.target.split(SEPARATOR, 2)
                if types and binder.parent is not None and len(parts) == 3:
                    known = types.get((binder.parent.local_id, parts[1]))
                    if known is not None:
                        ref.target = f"{known}{SEPARATOR}{parts[2]}"
                        continue
            elif SEPARATOR in ref.target:
                if key in local_types:
                    known = local_types[key]
                else:
                    known = local_types[key] = _local_type(binder, head)
                if known is not None:
                    ref.target = known + ref.target[len(head) :]
                    continue
            ref.bound_locally = True


_UNKNOWN: _TypeFact = ("other", "", None)
# After a bound name: an annotation, ``= None``, or ``= Capitalised(`` — the only
# values binding_fact reads a type from (checked on the bytes, before any node work).
_MAYBE_TYPED = re.compile(
    rb"[ \t]*(?::|=[ \t]*(?:None\b|(?:[A-Za-z_]\w*\.)*[A-Z]\w*[ \t]*\(|[A-Za-z_]\w*[ \t]*$))",
    re.MULTILINE,
).match


def _bind(function: _Scope, name: str, fact: _TypeFact) -> None:
    """Record one binding of the local ``name`` of ``function`` (see _Scope.bindings)."""
    if function.bindings is None:
        function.bindings = {}
    function.bindings.setdefault(name, []).append(fact)


def _agreed_type(facts: list[_TypeFact]) -> str | None:
    """The type every binding agrees on: the annotation(s) if any, else the one
    class every non-``None`` value is built from (its callee not a local of the
    function that calls it); None when they disagree or one is unknown."""
    types = {text for kind, text, _ in facts if kind == "annotation"}
    if not types:
        for kind, text, function in facts:
            if kind == "call" and function is not None:
                if _binding_scope(function, text.split(SEPARATOR, 1)[0]) is None:
                    types.add(text)
                    continue
            if kind != "none":
                return None  # unknown: spoils the rest
    if len(types) != 1:
        return None
    (text,) = types
    return text if _DOTTED.match(text) else None


def _local_type(function: _Scope, name: str) -> str | None:
    """The type of ``function``'s local ``name`` if all its bindings agree on one:
    a parameter counts as a binding (its annotation, else unknown)."""
    facts = list(function.bindings.get(name, ())) if function.bindings else []
    if function.params and name in function.params:
        declared = function.param_types.get(name) if function.param_types else None
        facts.append(("annotation", declared, None) if declared else _UNKNOWN)
    return _agreed_type(facts) if facts else None


def _is_lambda_assignment(statement: Node | None, target: Node) -> bool:
    """Whether ``target`` is the name in ``name = lambda ...`` (see open_lambda)."""
    if statement is None or statement.type != "assignment" or target.type != "identifier":
        return False
    value = statement.child_by_field_name("right")
    return value is not None and value.type == "lambda"


def _opt_text(node: Node | None) -> str | None:
    return _text(node) if node is not None else None


def _decorator_names(node: Node) -> set[str]:
    parent = node.parent
    if parent is None or parent.type != "decorated_definition":
        return set()
    names = set()
    for child in parent.named_children:
        if child.type == "decorator" and child.named_child_count:
            expr = child.named_child(0)
            name = dotted(expr) if expr is not None else None
            if name:
                names.add(name)
    return names


def _nearest_function(scope: _Scope | None) -> _Scope | None:
    while scope is not None and not scope.is_function:
        scope = scope.parent
    return scope


def _binding_scope(scope: _Scope | None, name: str) -> _Scope | None:
    """The function scope whose non-symbol local ``name`` is, if any (Python LEGB)."""
    while scope is not None:
        if scope.is_function:
            if name in scope.defined or name in scope.not_local:
                return None  # a nested def (a symbol) or a global/nonlocal name
            if name in scope.locals:
                return scope
        elif scope.kind == "module":
            return None
        scope = scope.parent
    return None


# Captures :meth:`_Extractor.sweep` does not handle inline.
_HANDLERS = {
    "import": _Extractor.on_import,
    "assign": _Extractor.on_assign,
    "bind": _Extractor.on_bind,
    "global": _Extractor.on_global,
}


def star_exports(name: str, declared: frozenset[str] | None) -> bool:
    """What ``from m import *`` takes: ``m.__all__`` if known, else public names."""
    return name in declared if declared is not None else not name.startswith("_")


def extract(tree: tree_sitter.Tree, source: bytes, path: str, module: str) -> FileFacts:
    """Symbols and unresolved references of one parsed Python file."""
    import tree_sitter

    root = tree.root_node
    ex = _Extractor(source, path, module, root)
    captures = tree_sitter.QueryCursor(_compiled_query(tree.language)).captures(root)
    items: list[tuple[int, int, str, Node]] = []
    for name, nodes in captures.items():
        items += [(n.start_byte, -n.end_byte, name, n) for n in nodes]
    items.sort(key=_START_THEN_OUTER)
    ex.sweep(items)
    ex.finish_calls()
    if b"__all__" in source:
        ex.facts.star_names = declared_star_names(root, source)
    if root.has_error:
        ex.facts.error = syntax_error(root)
    return ex.facts


def declared_star_names(root: Node, source: bytes) -> tuple[str, ...] | None:
    """The module's ``__all__`` if it is plain literals set at module level, else None.

    Every occurrence of ``__all__`` in the source must be accounted for by a
    top-level ``__all__ = <list or tuple of strings>`` (the last one wins, as at
    run time) or ``__all__ += <list or tuple of strings>``; anything else might
    change the list in ways not read here, and a wrong list would hide names.
    """
    names: list[str] | None = None
    understood = 0
    for statement in root.children:
        if statement.type != "expression_statement" or statement.named_child_count != 1:
            continue
        node = statement.named_children[0]
        if node.type not in ("assignment", "augmented_assignment"):
            continue
        left = node.child_by_field_name("left")
        if left is None or left.type != "identifier" or left.text != b"__all__":
            continue
        values = _string_list(node.child_by_field_name("right"))
        if values is None:
            return None
        if node.type == "assignment":
            names = values
        elif names is None or node.child_by_field_name("operator").type != "+=":
            return None
        else:
            names = names + values
        understood += 1
    if names is None or source.count(b"__all__") != understood:
        return None
    return tuple(dict.fromkeys(names))


def _string_list(node: Node | None) -> list[str] | None:
    """The values of a list or tuple of plain string literals, else None."""
    if node is None or node.type not in ("list", "tuple"):
        return None
    values = []
    for item in node.named_children:
        if item.type == "comment":
            continue
        if item.type != "string":
            return None
        parts = item.named_children
        start = parts[0].text if parts and parts[0].type == "string_start" else b""
        if start.lstrip(b"rRuU") not in (b"'", b'"', b"'''", b'"""'):
            return None  # a bytes or f-string
        content = [p for p in parts if p.type not in ("string_start", "string_end")]
        if len(content) > 1 or (content and content[0].type != "string_content"):
            return None  # interpolation or escapes: not a plain name
        text = content[0].text.decode("utf-8", "replace") if content else ""
        if not text.isidentifier():
            return None
        values.append(text)
    return values


LANGUAGE = LanguageSpec(
    name="python",
    extensions=(".py", ".pyi", ".pyw"),
    grammar=grammar,
    extract=extract,
    module_name=module_name,
    import_module=import_module,
    separator=SEPARATOR,
    shebangs=("python", "pypy"),
    builtins=frozenset(name for name in dir(builtins) if not name.startswith("_")),
    members_in_scope=False,
    # a module sees only what it defines or imports: a sibling module's names
    # are a NameError without an import, so the same directory binds nothing
    package_of=None,
    star_exports=star_exports,
    super_heads=frozenset({"super()"}),
    later_definition_wins=True,
)
