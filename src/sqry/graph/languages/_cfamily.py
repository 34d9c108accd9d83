"""The extractor shared by C and C++ (their grammars share most node types).

Decisions (documented here because users see their effects):

* **Module = file.** The module symbol's qualified name is the workspace-relative
  path (``src/list.c``), its name the file name.
* **Definitions, not prototypes.** A function is indexed where its body is
  (``int add(int a, int b) { ... }``), never at a prototype (``int add(int, int);``)
  — a declaration and its definition would be two symbols for one function and
  every call to it ambiguous. C++ class bodies are the exception for members
  that have no body anywhere: pure virtual (``= 0``), ``= default`` and
  ``= delete`` declarations are methods. ``extern`` variables are skipped the
  same way; out-of-class definitions of static data members too.
* **Out-of-class methods** (``void Circle::draw() {}``) are ``method`` symbols
  named ``ns::Circle::draw``; they take visibility, ``static`` and doc from the
  in-class prototype when it is in the same file, else ``public``. A qualifier
  that names a namespace defined in the file makes a ``function`` instead.
* **Names**: C names are plain (``add``, ``node``, ``RED``); struct fields are
  ``node.next``. C++ joins with ``::``; enumerators of a plain ``enum`` live in the
  enclosing scope (``geo::Red``), of an ``enum class`` in the enum (``geo::Mode::Fast``).
  An anonymous ``typedef struct {...} Point`` is the struct ``Point``.
* **Visibility**: ``static`` at file/namespace scope and anything in an anonymous
  namespace is ``private`` (``is_static`` records the keyword); class members
  follow the access specifiers (``class`` defaults to private, ``struct`` to public).
* **Includes** keep ``<x.h>`` with its brackets (a system header: leaves the
  workspace) and ``"x.h"`` without quotes (resolved against the including file's
  directory). C++ ``using ns::name;`` imports ``name`` from ``ns``; ``using namespace
  ns;`` imports ``ns`` as a whole (no ``*`` member: the resolver cannot see into a
  namespace, and an opaque ``*`` import would stop every other name of the file
  from resolving).
* **Calls**: ``this->m()`` is ``via_self``; ``obj.m()`` and ``p->m()`` become
  ``obj.m`` / ``p.m``, or ``Circle::m`` when ``obj``/``p`` is a C++ parameter or
  local declared ``Circle`` (``Circle*``, ``const Circle&``) everywhere in the
  function; template arguments are dropped (``make<int>()`` → ``make``).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqry.graph.languages._cmacros import ONLY_MACROS
from sqry.graph.languages._facts_builder import (
    FactsBuilder,
    first_doc_line,
    header_text,
    leading_comments,
    one_line,
    unparenthesized,
    walk,
)

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

    from sqry.graph.model import FileFacts

_TEMPLATE_ARGS = re.compile(r"<[^<>]*>")
#: One segment of a C/C++ name: an identifier, a destructor, or an operator.
_NAME_PART = re.compile(r"~?(?:[^\W\d]|\$)[\w$]*|operator[^\s\w]{1,3}|operator\(\)|operator\w+")
#: Where an operator's name starts in a declarator's text (``A::operator<=``).
_OPERATOR = re.compile(r"\boperator\b")
#: An operator's name as :func:`operator_name` writes it: a symbol (``operator<=>``,
#: ``operator()``, ``operator[]``), a literal suffix (``operator""_s``),
#: ``operator new[]``, or a conversion to a type (``operator bool``, ``operator T*``).
_OPERATOR_NAME = re.compile(
    r"operator(?:[^\w\s\"]{1,3}|\(\)|\[\]|\"\"\s?\w+|"
    r" (?:new|delete)(?:\[\])?| (?!new\b|delete\b)[\w:<>, *&]{1,80})"
)
_DECLARATOR_WRAPPERS = frozenset(
    {
        "pointer_declarator",
        "reference_declarator",
        "parenthesized_declarator",
        "array_declarator",
        "init_declarator",
        "attributed_declarator",
    }
)
_RECORDS = frozenset({"struct_specifier", "union_specifier", "class_specifier"})
#: What a local's scope can be (see ``FactsBuilder.bind_local``).
SCOPES = frozenset(
    "compound_statement for_statement for_range_loop if_statement while_statement "
    "do_statement switch_statement catch_clause lambda_expression function_definition".split()
)
_QUALIFIED_NAME = re.compile(r"[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*")
TYPE_KINDS = ("class", "struct", "enum", "type", "namespace")
MAX_CALLEE = 100  # a computed callee is kept as written, up to this length
#: The C library's most used functions: a bare ``free(p)`` never means some
#: workspace ``free`` it did not include. Shared by C and C++.
LIBC = frozenset(
    "abort abs assert atexit atof atoi atol bsearch calloc clock exit fclose feof ferror "
    "fflush fgetc fgets fopen fprintf fputc fputs fread free freopen fscanf fseek ftell "
    "fwrite getc getchar getenv gets isalnum isalpha isdigit islower isspace isupper "
    "labs longjmp malloc memchr memcmp memcpy memmove memset perror printf putc putchar "
    "puts qsort raise rand realloc remove rename rewind scanf setjmp signal snprintf "
    "sprintf srand sscanf strcat strchr strcmp strcpy strcspn strdup strerror strftime "
    "strlen strncat strncmp strncpy strpbrk strrchr strspn strstr strtod strtok strtol "
    "strtoul system time tolower toupper ungetc va_arg va_end va_start vfprintf "
    "vprintf vsnprintf vsprintf".split()
)


def strip_template_args(text: str) -> str:
    """``util::Base<T>`` → ``util::Base`` (nested arguments too), no spaces."""
    previous = None
    while previous != text:
        previous, text = text, _TEMPLATE_ARGS.sub("", text)
    return text.replace(" ", "").lstrip(":")


def operator_name(text: str) -> str | None:
    """``operator <`` → ``operator<``; ``operator  new []`` → ``operator new[]``;
    ``operator const T &`` → ``operator const T&``. None when ``text`` is no
    operator's name (code a parser recovering from an error swallowed)."""
    rest = " ".join(text[len("operator") :].split())
    if rest[:1].isalnum() or rest[:1] == "_":  # new/delete, or a conversion's type
        words = re.sub(r" ?([*&\[\]<>,]) ?", r"\1", rest).replace(",", ", ")
        words = re.sub(r"\b\w+::", "", words)  # ``::`` separates a qualified name's parts
        name = f"operator {words}"
    else:
        name = "operator" + rest.replace(" ", "")
    return name if _OPERATOR_NAME.fullmatch(name) else None


def include_module(path: str, spec: str) -> str | None:
    """Where ``#include spec`` in ``path`` points: the path next to the includer.

    ``<...>`` headers are the system's; paths escaping the workspace are unknown.
    A C++ ``using`` target (a namespace, no file name) is returned as written.
    """
    if spec.startswith("<"):
        return None
    if "/" not in spec and "." not in spec:
        return spec  # `using namespace ns;`: the namespace itself
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined


# Files compiled on their own; every other C/C++ file (``.h``, ``.hpp``, ``.inl``,
# ``.tcc``, ...) is included into them
_TRANSLATION_UNITS = (".c", ".cpp", ".cc", ".cxx", ".c++")


def is_header(path: str) -> bool:
    """``LanguageSpec.private_shared``: a header's ``static`` (``inline``)
    functions and anonymous namespace are copied into every file including it."""
    return not path.endswith(_TRANSLATION_UNITS)


def is_namespace_import(target: str) -> bool:
    """``LanguageSpec.opens_namespace``: ``using namespace std;`` is recorded as an
    import of ``std``; an ``#include`` always names a file (``x.h``, ``<vector>``)."""
    return not any(mark in target for mark in './<"')


def is_doc_comment(text: str) -> bool:
    """``/** */``, ``/*! */``, ``///`` and ``//!`` document the code below them."""
    if text.startswith(("///<", "//!<", "/**<", "/*!<")):
        return False  # trailing member docs (`int x; ///< the x`) belong above
    if text.startswith("///"):
        return not text.startswith("////")
    if text.startswith("//!"):
        return True
    return text.startswith(("/**", "/*!")) and not text.startswith(("/***", "/**/"))


@dataclass(frozen=True, slots=True)
class _Ctx:
    """Where the walk is: what owns references and names new symbols."""

    scope: str  # qualified prefix for new names ("" at file scope in C)
    parent: int
    owner: int  # local_id references are attributed to
    in_body: bool = False  # inside a function body: declarations are locals
    access: str = ""  # current access inside a C++ class body, "" elsewhere
    private_ns: bool = False  # inside an anonymous namespace
    template: Node | None = None  # the template<...> wrapping the next declaration
    type_params: frozenset[str] = frozenset()


@dataclass(slots=True)
class _Prototype:
    """What an in-class prototype says about a method defined out of class."""

    visibility: str
    is_static: bool
    doc: str


@dataclass(slots=True)
class _State:
    namespaces: set[str] = field(default_factory=set)
    prototypes: dict[str, _Prototype] = field(default_factory=dict)


class CFamilyExtractor:
    """One file's walk, for C (``cpp=False``) or C++ (``cpp=True``)."""

    def __init__(self, b: FactsBuilder, *, cpp: bool) -> None:
        self.b = b
        self.local_classes: set[tuple[int, str]] = set()  # (function, class defined in it)
        self.cpp = cpp
        self.sep = "::" if cpp else "."
        self.state = _State()
        self.handlers = _CPP_HANDLERS if cpp else _C_HANDLERS

    def visit(self, node: Node, ctx: _Ctx) -> Any:
        handler = self.handlers.get(node.type)
        return handler(self, node, ctx) if handler is not None else ctx

    # -- helpers -----------------------------------------------------------

    def qualify(self, scope: str, name: str) -> str:
        return f"{scope}{self.sep}{name}" if scope else name

    def doc(self, node: Node) -> str:
        comments = leading_comments(node)
        prev = node.prev_sibling
        if not comments and prev is not None and "comment" in prev.type:
            # a doc comment, then only annotation macros (``EXPORT_API`` lines)
            if ONLY_MACROS.fullmatch(self.b.source, prev.end_byte, node.start_byte):
                comments = [prev]
        for comment in comments:
            text = self.b.text(comment)
            if is_doc_comment(text):
                return first_doc_line(text)
        return ""

    def has_storage(self, node: Node, word: str) -> bool:
        return any(
            c.type == "storage_class_specifier" and self.b.text(c) == word for c in node.children
        )

    def file_visibility(self, node: Node, ctx: _Ctx) -> str:
        """Visibility of a file/namespace-scope or class-member declaration."""
        if ctx.access:
            return ctx.access
        if ctx.private_ns or self.has_storage(node, "static"):
            return "private"
        return "public"

    def type_names(
        self, node: Node | None, ctx: _Ctx, arguments: bool = True
    ) -> list[tuple[str, Node]]:
        """Named types in a type (return type, base class); primitives left out.

        ``arguments=False`` leaves template arguments out: ``class Items :
        std::vector<Item>`` inherits ``std::vector``, not ``Item``.
        """
        found: list[tuple[str, Node]] = []
        stack = [node] if node is not None else []
        while stack:
            current = stack.pop()
            kind = current.type
            if kind == "type_identifier":
                name = self.b.text(current)
                if name not in ctx.type_params:
                    found.append((name, current))
            elif kind in ("qualified_identifier", "template_type"):
                found.append((strip_template_args(self.b.text(current)), current))
                if arguments:
                    stack.extend(self.template_arguments(current))
            elif kind == "template_argument_list" and not arguments:
                continue
            elif kind in (
                "struct_specifier",
                "union_specifier",
                "enum_specifier",
                "class_specifier",
            ):
                name = current.child_by_field_name("name")
                if name is not None and current.child_by_field_name("body") is None:
                    stack.append(name)
            elif kind not in (
                "primitive_type",
                "sized_type_specifier",
                "placeholder_type_specifier",
            ):
                stack.extend(reversed(current.named_children))
        return found

    def template_arguments(self, node: Node) -> list[Node]:
        found = []
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "template_argument_list":
                found.extend(current.named_children)
            else:
                stack.extend(c for c in current.named_children if c.type != "namespace_identifier")
        return found

    def declarator_name(self, node: Node | None) -> Node | None:
        """The identifier a (possibly wrapped) declarator declares."""
        while node is not None:
            if node.type in _DECLARATOR_WRAPPERS:
                inner = node.child_by_field_name("declarator")
                node = inner if inner is not None else (node.named_children or [None])[0]
            elif node.type == "function_declarator":
                node = node.child_by_field_name("declarator")
            else:
                return node
        return None

    def is_function_pointer(self, function: Node) -> bool:
        """``int (*cb)(int)`` declares a pointer; ``int f(int)`` a function."""
        inner = function.child_by_field_name("declarator")
        return inner is not None and inner.type == "parenthesized_declarator"

    def function_declarator(self, node: Node | None) -> Node | None:
        """The ``function_declarator`` under ``node``'s wrappers, if it declares a
        function. A C++ ``reference_declarator`` (``int& f()``) names no
        ``declarator`` field: its first named child is what it wraps."""
        while node is not None and node.type != "function_declarator":
            if node.type not in _DECLARATOR_WRAPPERS:
                return None
            inner = node.child_by_field_name("declarator")
            node = inner if inner is not None else (node.named_children or [None])[0]
        return node

    def name_parts(self, name_node: Node, end: int | None = None) -> list[str]:
        """``geo::Circle::draw`` → ``["geo", "Circle", "draw"]``, templates dropped;
        an operator keeps its own ``<``/``>`` (``["A", "operator<=>"]``). ``end``:
        where the name stops, if before the node's end (a conversion operator's
        node holds its parameters too)."""
        text = self.b.source[name_node.start_byte : end or name_node.end_byte]
        text = text.decode("utf-8", "replace")
        operator = _OPERATOR.search(text)
        last: list[str] = []
        if operator is not None:
            name = operator_name(text[operator.start() :])
            if name is None:
                return []
            text, last = text[: operator.start()], [name]
        text = strip_template_args(text)
        # ``Foo::`` at a line's end and the name on the next (GNU style) is one name
        parts = [p for p in (part.strip() for part in text.split("::")) if p]
        if all(_NAME_PART.fullmatch(p) for p in parts):
            return parts + last
        return []  # a name the parser invented or swallowed code into while recovering

    def conversion(self, node: Node | None) -> tuple[Node, int, Node] | None:
        """A conversion operator's declarator (``operator bool() const``, maybe
        qualified: ``A::operator T*()``): (name node, where its name ends, the
        declarator holding its parameters), else None."""
        inner = node
        while inner is not None and inner.type == "qualified_identifier":
            inner = inner.child_by_field_name("name")
        if node is None or inner is None or inner.type != "operator_cast":
            return None
        params = inner.child_by_field_name("declarator")
        while params is not None and params.type != "abstract_function_declarator":
            params = (
                params.child_by_field_name("declarator") or (params.named_children or [None])[0]
            )
        if params is None:
            return None
        return node, params.start_byte, params

    # -- file level ----------------------------------------------------------

    def include(self, node: Node, ctx: _Ctx) -> None:
        path = node.child_by_field_name("path")
        if path is None:
            return None
        text = self.b.text(path)
        target = text if path.type == "system_lib_string" else text.strip('"')
        if target:
            self.b.add_reference("imports", ctx.owner, target, node)
        return None

    def macro(self, node: Node, ctx: _Ctx) -> None:
        name_node = node.child_by_field_name("name")
        if name_node is None:
            return None
        name = self.b.text(name_node)
        if not _NAME_PART.fullmatch(name):  # invented or swallowed code (syntax error)
            return None
        params = node.child_by_field_name("parameters")
        signature = one_line(f"#define {name}{self.b.text(params) if params is not None else ''}")
        value = node.child_by_field_name("value")
        end = value or params or name_node  # the node itself runs on to the next line
        self.b.add_symbol(
            "macro", name, name, node, 0, signature=signature, doc=self.doc(node), span_end=end
        )
        return None

    # -- functions -------------------------------------------------------------

    def function(self, node: Node, ctx: _Ctx) -> Any:
        written = node.child_by_field_name("declarator")
        declarator = self.function_declarator(written)
        name_node = self.declarator_name(declarator)
        name_end = None
        conversion = self.conversion(written) if declarator is None else None
        if conversion is not None:
            name_node, name_end, declarator = conversion
        body = node.child_by_field_name("body")
        if declarator is None or name_node is None:
            return ctx
        parts = self.name_parts(name_node, name_end)
        if not parts:
            return ctx
        name, qualifier = parts[-1], parts[:-1]
        span = ctx.template or node
        owner_qname = self.qualify(ctx.scope, "::".join(qualifier)) if qualifier else ""
        in_class = bool(ctx.access)
        out_of_class = bool(qualifier) and owner_qname not in self.state.namespaces
        kind = "method" if in_class or out_of_class else "function"
        qname = self.qualify(ctx.scope, "::".join(parts))
        proto = self.state.prototypes.get(qname)
        visibility = proto.visibility if proto else self.file_visibility(node, ctx)
        stop = next((c for c in node.children if c.type == "field_initializer_list"), body)
        local_id = self.b.add_symbol(
            kind,
            name,
            qname,
            span,
            ctx.parent,
            signature=header_text(self.b.source, span, stop),
            visibility=visibility,
            is_static=(proto.is_static if proto else self.has_storage(node, "static")),
            doc=self.doc(span) or (proto.doc if proto else ""),
            span_end=node,
        )
        if out_of_class:
            self.b.adopt_later(local_id, owner_qname)
        tparams = ctx.type_params | self.template_params(ctx.template)
        inner = replace(
            ctx,
            scope=qname,
            parent=local_id,
            owner=local_id,
            in_body=True,
            access="",
            template=None,
            type_params=tparams,
        )
        self.returns(local_id, node.child_by_field_name("type"), declarator, inner)
        self.bind_parameters(declarator, local_id, inner)
        return [(body, inner)] if body is not None else None

    def returns(self, local_id: int, kind: Node | None, declarator: Node, ctx: _Ctx) -> None:
        trailing = next((c for c in declarator.children if c.type == "trailing_return_type"), None)
        for target, at in self.type_names(trailing or kind, ctx):
            self.b.add_reference("returns", local_id, target, at)

    def template_params(self, template: Node | None) -> frozenset[str]:
        if template is None:
            return frozenset()
        params = template.child_by_field_name("parameters")
        names = set()
        for param in params.named_children if params is not None else []:
            for child in param.named_children:
                if child.type == "type_identifier":
                    names.add(self.b.text(child))
                    break
        return frozenset(names)

    # -- declarations ------------------------------------------------------------

    def declaration(self, node: Node, ctx: _Ctx) -> Any:
        """File/namespace-scope variables; the records it defines; never prototypes."""
        follow: list[tuple[Node, _Ctx]] = []
        kind = node.child_by_field_name("type")
        if kind is not None and kind.type in _RECORDS | {"enum_specifier"}:
            follow.extend(self.specifier(kind, ctx, name_hint=None, span=node))
        if ctx.in_body and kind is not None and kind.type in _RECORDS:
            name = kind.child_by_field_name("name")
            if name is not None and kind.child_by_field_name("body") is not None:
                self.local_classes.add((ctx.owner, self.b.text(name)))
        if ctx.in_body or self.has_storage(node, "extern"):
            declarators = node.children_by_field_name("declarator")
            if ctx.in_body:
                self.bind_declarators(declarators, ctx.owner, self.local_type(kind, ctx))
            return follow + [(c, ctx) for c in declarators]
        for declarator in node.children_by_field_name("declarator"):
            value = declarator.child_by_field_name("value")
            if value is not None:
                follow.append((value, ctx))
            function = self.function_declarator(declarator)
            if function is not None and not self.is_function_pointer(function):
                continue  # a prototype: indexed where the body is
            name_node = self.declarator_name(declarator)
            if name_node is None or name_node.type not in ("identifier", "field_identifier"):
                continue  # `int Circle::count_ = 0;` defines a member declared elsewhere
            name = self.b.text(name_node)
            if not _NAME_PART.fullmatch(name):  # invented or swallowed code (syntax error)
                continue
            self.b.add_symbol(
                "variable",
                name,
                self.qualify(ctx.scope, name),
                ctx.template or node,
                ctx.parent,
                signature=one_line(self.b.text(node)).rstrip(";"),
                visibility=self.file_visibility(node, ctx),
                is_static=self.has_storage(node, "static"),
                doc=self.doc(ctx.template or node),
                span_end=node,
            )
        return follow

    def type_definition(self, node: Node, ctx: _Ctx) -> Any:
        """``typedef``: a ``type`` symbol per declarator; the record it defines, if any."""
        if ctx.in_body:
            return ctx
        kind = node.child_by_field_name("type")
        names = [self.declarator_name(d) for d in node.children_by_field_name("declarator")]
        # Error recovery can hand back a "declarator" that swallowed code: keep real names only.
        names = [n for n in names if n is not None and _NAME_PART.fullmatch(self.b.text(n))]
        follow: list[tuple[Node, _Ctx]] = []
        anonymous_record = (
            kind is not None
            and kind.type in _RECORDS | {"enum_specifier"}
            and kind.child_by_field_name("name") is None
            and kind.child_by_field_name("body") is not None
        )
        if kind is not None and kind.type in _RECORDS | {"enum_specifier"}:
            hint = self.b.text(names[0]) if anonymous_record and names else None
            follow.extend(self.specifier(kind, ctx, name_hint=hint, span=node))
        if anonymous_record:
            names = names[1:]  # the first name *is* the record's name
        for name_node in names:
            name = self.b.text(name_node)
            written = (
                header_text(self.b.source, kind, kind.child_by_field_name("body")) if kind else ""
            )
            self.b.add_symbol(
                "type",
                name,
                self.qualify(ctx.scope, name),
                node,
                ctx.parent,
                signature=one_line(f"typedef {written} {name}"),
                visibility=self.file_visibility(node, ctx),
                doc=self.doc(node),
            )
        return follow

    def specifier(
        self, node: Node, ctx: _Ctx, *, name_hint: str | None, span: Node | None = None
    ) -> list[tuple[Node, _Ctx]]:
        """A struct/union/class/enum specifier: a symbol when it has a body."""
        body = node.child_by_field_name("body")
        if body is None or ctx.in_body:
            return []
        name_node = node.child_by_field_name("name")
        parts = self.name_parts(name_node) if name_node is not None else []
        name = parts[-1] if parts else name_hint
        if node.type == "enum_specifier":
            self.enum(node, body, name, ctx, span or node)
            return []
        return self.record(node, body, name, ctx, span or node)

    def standalone_specifier(self, node: Node, ctx: _Ctx) -> Any:
        """``struct x {...};`` at file scope (C++ also parses class heads this way);
        in a function body, a local class (it hides an outer one of its name)."""
        name = node.child_by_field_name("name")
        if ctx.in_body and name is not None and node.child_by_field_name("body") is not None:
            self.local_classes.add((ctx.owner, self.b.text(name)))
        follow = self.specifier(node, ctx, name_hint=None)
        return follow if node.child_by_field_name("body") is not None else None

    def record(
        self, node: Node, body: Node, name: str | None, ctx: _Ctx, span: Node
    ) -> list[tuple[Node, _Ctx]]:
        is_class = node.type == "class_specifier"
        kind = "class" if is_class else "struct"
        template = ctx.template
        start = template or span
        if name is None:  # anonymous record with no typedef: its fields join the parent
            local_id, qname = ctx.parent, ctx.scope
        else:
            qname = self.qualify(ctx.scope, name) if self.cpp else name
            local_id = self.b.add_symbol(
                kind,
                name,
                qname,
                start,
                ctx.parent,
                signature=self.record_header(node, body, start if template else node, name),
                visibility=self.file_visibility(span, ctx),
                doc=self.doc(start),
                span_end=span,
            )
        inner = replace(
            ctx,
            scope=qname,
            parent=local_id,
            owner=local_id,
            template=None,
            type_params=ctx.type_params | self.template_params(template),
            access=("private" if is_class else "public") if self.cpp else "",
        )
        for base in node.named_children:
            if base.type == "base_class_clause":
                for target, at in self.type_names(base, inner, arguments=False):
                    self.b.add_reference("inherits", local_id, target, at)
        return self.members(body, inner)

    def record_header(self, node: Node, body: Node, start: Node, name: str) -> str:
        """``struct node``; an anonymous record named by its typedef reads ``struct Point``."""
        header = header_text(self.b.source, start, body)
        return header if node.child_by_field_name("name") is not None else f"{header} {name}"

    def members(self, body: Node, ctx: _Ctx) -> list[tuple[Node, _Ctx]]:
        """A record body's members for the walk, each with the access in force there."""
        follow: list[tuple[Node, _Ctx]] = []
        for member in body.named_children:
            if member.type == "access_specifier":
                ctx = replace(ctx, access=self.b.text(member).strip())
            else:
                follow.append((member, ctx))
        return follow

    def field_declaration(self, node: Node, ctx: _Ctx) -> list[tuple[Node, _Ctx]]:
        kind = node.child_by_field_name("type")
        declarators = node.children_by_field_name("declarator")
        body = None
        if kind is not None and kind.type in _RECORDS | {"enum_specifier"}:
            body = kind.child_by_field_name("body")
        anonymous = body is not None and kind.child_by_field_name("name") is None
        if anonymous and not declarators:
            # anonymous struct/union member: its fields belong to the enclosing record
            return self.members(body, ctx)
        follow: list[tuple[Node, _Ctx]] = []
        nested_fields = anonymous and kind.type != "enum_specifier"
        if body is not None and not nested_fields:
            follow.extend(self.specifier(kind, ctx, name_hint=None, span=kind))
        is_static = self.has_storage(node, "static")
        for declarator in declarators:
            function = self.function_declarator(declarator)
            if function is not None and not self.is_function_pointer(function):
                self.member_prototype(node, function, ctx, is_static)
                continue
            conversion = self.conversion(declarator)
            if conversion is not None:
                self.member_prototype(node, conversion[2], ctx, is_static, conversion)
                continue
            name_node = self.declarator_name(declarator)
            if name_node is None:
                continue
            name = self.b.text(name_node)
            if not _NAME_PART.fullmatch(name):  # invented or swallowed code (syntax error)
                continue
            local_id = self.b.add_symbol(
                "field",
                name,
                self.qualify(ctx.scope, name),
                node,
                ctx.parent,
                signature=one_line(self.b.text(node)).rstrip(";"),
                visibility=ctx.access or "public",
                is_static=is_static,
                doc=self.doc(node),
            )
            if nested_fields:  # `struct { int a; } inner;`: a is inner's field
                scope = self.qualify(ctx.scope, name)
                follow.extend(self.members(body, replace(ctx, scope=scope, parent=local_id)))
                nested_fields = False
        default = node.child_by_field_name("default_value")
        if default is not None:
            follow.append((default, replace(ctx, in_body=True)))
        return follow

    def member_prototype(
        self,
        node: Node,
        function: Node,
        ctx: _Ctx,
        is_static: bool,
        conversion: tuple[Node, int, Node] | None = None,
    ) -> None:
        """A method declared in a class body: remembered, indexed only if bodiless for good.
        ``conversion``: what :meth:`conversion` found, for a conversion operator."""
        name_node = conversion[0] if conversion else self.declarator_name(function)
        if name_node is None:
            return
        name = self.b.text(name_node)
        if conversion is not None or _OPERATOR.match(name):
            parts = self.name_parts(name_node, conversion[1] if conversion else None)
            name = parts[-1] if len(parts) == 1 else ""
        if not name:  # a name the parser had to invent (syntax error)
            return
        qname = self.qualify(ctx.scope, name)
        doc = self.doc(ctx.template or node)
        self.state.prototypes[qname] = _Prototype(ctx.access or "public", is_static, doc)
        tail = self.b.text(node).replace(" ", "")
        if not tail.rstrip(";").endswith(("=0", "=default", "=delete")):
            return
        span = ctx.template or node
        local_id = self.b.add_symbol(
            "method",
            name,
            qname,
            span,
            ctx.parent,
            signature=one_line(self.b.text(span)).rstrip(";"),
            visibility=ctx.access or "public",
            is_static=is_static,
            doc=doc,
        )
        inner = replace(ctx, type_params=ctx.type_params | self.template_params(ctx.template))
        self.returns(local_id, node.child_by_field_name("type"), function, inner)

    def class_declaration(self, node: Node, ctx: _Ctx) -> Any:
        """A prototype-only ``declaration`` inside a class body (constructors, ``= default``)."""
        if not ctx.access:
            return self.declaration(node, ctx)
        declarator = node.child_by_field_name("declarator")
        function = self.function_declarator(declarator)
        conversion = self.conversion(declarator) if function is None else None
        if conversion is not None:
            function = conversion[2]
        elif function is None:
            return self.declaration(node, ctx)
        self.member_prototype(node, function, ctx, self.has_storage(node, "static"), conversion)
        return None

    def enum(self, node: Node, body: Node, name: str | None, ctx: _Ctx, span: Node) -> None:
        scoped = any(c.type in ("class", "struct") for c in node.children)
        visibility = self.file_visibility(span, ctx)
        parent, enum_qname = ctx.parent, ""
        if name is not None:
            enum_qname = self.qualify(ctx.scope, name) if self.cpp else name
            parent = self.b.add_symbol(
                "enum",
                name,
                enum_qname,
                span,
                ctx.parent,
                signature=self.record_header(node, body, node, name),
                visibility=visibility,
                doc=self.doc(span),
            )
        scope = enum_qname if scoped else (ctx.scope if self.cpp else "")
        for item in body.named_children:
            item_name = item.child_by_field_name("name")
            if item.type != "enumerator" or item_name is None:
                continue
            text = self.b.text(item_name)
            if not text:  # a name the parser had to invent (syntax error)
                continue
            self.b.add_symbol(
                "enum_variant",
                text,
                self.qualify(scope, text),
                item,
                parent,
                signature=one_line(self.b.text(item)),
                visibility=visibility,
                doc=self.doc(item),
            )

    # -- C++ only ------------------------------------------------------------------

    def namespace(self, node: Node, ctx: _Ctx) -> Any:
        body = node.child_by_field_name("body")
        name_node = node.child_by_field_name("name")
        if body is None:
            return None
        if name_node is None:
            return [(body, replace(ctx, private_ns=True))]
        parent, scope = ctx.parent, ctx.scope
        for part in self.name_parts(name_node):
            scope = self.qualify(scope, part)
            parent = self.b.add_symbol(
                "namespace",
                part,
                scope,
                node,
                parent,
                signature=header_text(self.b.source, node, body),
                doc=self.doc(node),
            )
            self.state.namespaces.add(scope)
        return [(body, replace(ctx, scope=scope, parent=parent, owner=parent))]

    def template(self, node: Node, ctx: _Ctx) -> Any:
        inner = replace(ctx, template=node)
        return [
            (child, inner if child.type != "template_parameter_list" else ctx)
            for child in node.named_children
        ]

    def friend(self, node: Node, ctx: _Ctx) -> Any:
        """A friend function defined in its class (a "hidden friend": ``friend bool
        operator==(...) { ... }``, ``friend void swap(...)``): a ``function``, not a
        method (no ``this``), named and parented by the class whose scope its body
        sees. Friend declarations without a body (``friend class X;``) define nothing."""
        return [
            (child, replace(ctx, access=""))
            for child in node.named_children
            if child.type == "function_definition"
        ]

    def alias(self, node: Node, ctx: _Ctx) -> None:
        name_node = node.child_by_field_name("name")
        if name_node is None or ctx.in_body:
            return None
        name = self.b.text(name_node)
        if not name:  # a name the parser had to invent (syntax error)
            return None
        span = ctx.template or node
        self.b.add_symbol(
            "type",
            name,
            self.qualify(ctx.scope, name),
            span,
            ctx.parent,
            signature=one_line(self.b.text(span)).rstrip(";"),
            visibility=self.file_visibility(node, ctx),
            doc=self.doc(span),
            span_end=node,
        )
        return None

    def using(self, node: Node, ctx: _Ctx) -> None:
        """``using namespace ns;`` imports ``ns`` (whole); ``using ns::x;`` just ``x``."""
        target = next((c for c in node.named_children if c.type != "comment"), None)
        if target is None:
            return None
        parts = self.name_parts(target)
        if not parts:
            return None
        if any(c.type == "namespace" for c in node.children):
            # Not a `*` import: a namespace is no module the resolver can look into,
            # and an unknown `*` import would hide every other name of the file.
            self.b.add_reference("imports", ctx.owner, "::".join(parts), node)
        elif len(parts) > 1:
            self.b.add_reference(
                "imports", ctx.owner, "::".join(parts[:-1]), node, member=parts[-1], alias=parts[-1]
            )
        return None

    # -- calls ----------------------------------------------------------------------

    def call(self, node: Node, ctx: _Ctx) -> _Ctx:
        callee = node.child_by_field_name("function")
        if callee is None:
            return ctx
        if unparenthesized(callee).type == "lambda_expression":
            return ctx  # an immediately called lambda: its calls are the owner's
        target, via_self = self.callee(callee)
        if target is None:  # (*fp)(), get()(): kept as written, never resolved
            target = one_line(self.b.text(callee), MAX_CALLEE)
        if target:
            self.b.add_call(ctx.owner, target, node, via_self=via_self)
        return ctx

    # -- local bindings ------------------------------------------------------------

    def bind_declarators(
        self, declarators: list[Node], owner: int, type_name: str | None = None
    ) -> None:
        """Locals of ``owner``; ``type_name`` (C++: the declared class) types those
        that hold one directly, through a pointer or a reference (``Circle c``,
        ``Circle* p``, ``const Circle& r``) — not arrays or function pointers — so
        ``c.area()``/``p->area()`` are calls of ``Circle::area``."""
        for declarator in declarators:
            name = self.declarator_name(declarator)
            if name is not None and name.type == "identifier":
                typed = type_name if type_name and self.holds_one(declarator) else None
                self.b.bind_local(owner, self.b.text(name), typed, at=name, scopes=SCOPES)

    def holds_one(self, declarator: Node) -> bool:
        """Whether a declarator declares one object, pointer or reference (not an
        array, a function or a pointer to one)."""
        node: Node | None = declarator
        while node is not None and node.type in _DECLARATOR_WRAPPERS:
            if node.type == "array_declarator":
                return False
            inner = node.child_by_field_name("declarator")
            node = inner if inner is not None else (node.named_children or [None])[0]
        return node is not None and node.type == "identifier"

    def local_type(self, kind: Node | None, ctx: _Ctx) -> str | None:
        """The class a C++ local or parameter is declared with (``Circle``,
        ``geo::Circle``, ``Box<int>``'s ``Box``); None in C, for built-in types,
        ``auto`` and the template's own parameters."""
        if not self.cpp or kind is None:
            return None
        if kind.type == "template_type":
            kind = kind.child_by_field_name("name")
        if kind is None or kind.type not in ("type_identifier", "qualified_identifier"):
            return None
        written = self.b.text(kind)
        if written.startswith("::"):
            return None
        name = strip_template_args(written)
        # ``::Circle`` (the global one) is not ``Circle`` as seen from here; a class
        # the function declares itself hides the outer one of its name
        if name in ctx.type_params or not _QUALIFIED_NAME.fullmatch(name):
            return None
        if (ctx.owner, name.partition("::")[0]) in self.local_classes:
            return None
        return name

    def bind_parameters(self, declarator: Node, owner: int, ctx: _Ctx) -> None:
        params = declarator.child_by_field_name("parameters")
        for param in params.named_children if params is not None else []:
            declared = self.local_type(param.child_by_field_name("type"), ctx)
            self.bind_declarators(param.children_by_field_name("declarator"), owner, declared)

    def parameter(self, node: Node, ctx: _Ctx) -> _Ctx:
        """Lambda and ``catch`` parameters, range-for variables: locals of the owner."""
        if ctx.in_body:
            declared = self.local_type(node.child_by_field_name("type"), ctx)
            self.bind_declarators(node.children_by_field_name("declarator"), ctx.owner, declared)
        return ctx

    def callee(self, node: Node) -> tuple[str | None, bool]:
        kind = node.type
        if kind == "identifier":
            return self.b.text(node), False
        if kind in ("qualified_identifier", "template_function"):
            name = "::".join(self.name_parts(node))
            if kind == "qualified_identifier" and node.child_by_field_name("scope") is None:
                # ``::close(fd)``: the global one, never a same-named member or
                # namespace function around the call; kept as written (unresolved)
                return f"::{name}", False
            return name, False
        if kind == "field_expression":
            receiver = node.child_by_field_name("argument")
            member = node.child_by_field_name("field")
            if receiver is None or member is None:
                return None, False
            name = strip_template_args(self.b.text(member))
            if receiver.type == "this":
                return name, True
            head = self.receiver_path(receiver)
            return (f"{head}.{name}" if head else None), False
        return None, False

    def receiver_path(self, node: Node) -> str | None:
        """``a`` / ``a.b`` / ``a->b`` (as ``a.b``) for a receiver that is a name path."""
        if node.type in ("identifier", "this"):
            return self.b.text(node)
        if node.type == "field_expression":
            inner = node.child_by_field_name("argument")
            member = node.child_by_field_name("field")
            head = self.receiver_path(inner) if inner is not None else None
            return f"{head}.{self.b.text(member)}" if head and member is not None else None
        return None


def _skip(self: CFamilyExtractor, node: Node, ctx: _Ctx) -> None:
    return None


_C_HANDLERS = {
    "preproc_include": CFamilyExtractor.include,
    "preproc_def": CFamilyExtractor.macro,
    "preproc_function_def": CFamilyExtractor.macro,
    "function_definition": CFamilyExtractor.function,
    "declaration": CFamilyExtractor.declaration,
    "type_definition": CFamilyExtractor.type_definition,
    "struct_specifier": CFamilyExtractor.standalone_specifier,
    "union_specifier": CFamilyExtractor.standalone_specifier,
    "enum_specifier": CFamilyExtractor.standalone_specifier,
    "field_declaration": CFamilyExtractor.field_declaration,
    "parameter_declaration": CFamilyExtractor.parameter,
    "call_expression": CFamilyExtractor.call,
    "comment": _skip,
}

_CPP_HANDLERS = {
    **_C_HANDLERS,
    "class_specifier": CFamilyExtractor.standalone_specifier,
    "declaration": CFamilyExtractor.class_declaration,
    "namespace_definition": CFamilyExtractor.namespace,
    "template_declaration": CFamilyExtractor.template,
    "alias_declaration": CFamilyExtractor.alias,
    "using_declaration": CFamilyExtractor.using,
    "friend_declaration": CFamilyExtractor.friend,
    "optional_parameter_declaration": CFamilyExtractor.parameter,
    "for_range_loop": CFamilyExtractor.parameter,
}


def extract_cfamily(
    tree: Tree, source: bytes, path: str, module: str, *, language: str
) -> FileFacts:
    """Walk one parsed C or C++ file; never raises on a syntax error (partial facts)."""
    root = tree.root_node
    b = FactsBuilder(
        source,
        path,
        language,
        module,
        root,
        module_label=posixpath.basename(path),
        member_separator="::",
    )
    extractor = CFamilyExtractor(b, cpp=language == "cpp")
    walk(root, _Ctx(scope="", parent=0, owner=0), extractor.visit)
    return b.finish(TYPE_KINDS, root)
