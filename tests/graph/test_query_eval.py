"""Evaluation of the query language on a small hand-written index.

The corpus below is a tiny project (a Python web app plus a Go geometry package)
written straight into the index schema, so every field and relation has a readable
example whose answer can be checked by eye. These examples are the ones the README
quotes. End-to-end tests on a project indexed by ``sqry index`` live in
``tests/cli``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from sqry.graph import schema
from sqry.graph.query import QueryError, run_query

# fmt: off
FILES = {
    "src/app/auth.py":          ("python", "app.auth"),
    "src/app/cli.py":           ("python", "app.cli"),
    "src/app/api/base.py":      ("python", "app.api.base"),
    "src/app/api/handlers.py":  ("python", "app.api.handlers"),
    "tests/test_auth.py":       ("python", "tests.test_auth"),
    "geo/shapes.go":            ("go",     "geo"),
}


@dataclass
class Sym:
    qname: str
    kind: str
    path: str
    lines: tuple[int, int]
    parent: str | None = None
    signature: str = ""
    doc: str = ""
    visibility: str = "public"
    is_async: bool = False
    is_static: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return re.split(r"\.|::", self.qname)[-1]


SYMBOLS = [
    Sym("app.auth", "module", "src/app/auth.py", (1, 40)),
    Sym("app.auth.User", "class", "src/app/auth.py", (4, 18), "app.auth",
        signature="class User:", doc="A registered user."),
    Sym("app.auth.User.check_password", "method", "src/app/auth.py", (8, 12), "app.auth.User",
        signature="def check_password(self, password: str) -> bool",
        doc="Compare a password with the stored hash."),
    Sym("app.auth.User.from_row", "method", "src/app/auth.py", (14, 18), "app.auth.User",
        signature="def from_row(cls, row) -> User", is_static=True),
    Sym("app.auth.authenticate", "function", "src/app/auth.py", (20, 34), "app.auth",
        signature="def authenticate(name: str, password: str) -> User",
        doc="Log a user in. Deprecated: use login()."),
    Sym("app.auth._hash", "function", "src/app/auth.py", (36, 38), "app.auth",
        signature="def _hash(text: str) -> str", visibility="private"),
    Sym("app.auth.MAX_TRIES", "constant", "src/app/auth.py", (2, 2), "app.auth"),

    Sym("app.cli", "module", "src/app/cli.py", (1, 30)),
    Sym("app.cli.main", "function", "src/app/cli.py", (5, 29), "app.cli",
        signature="def main(argv: list[str]) -> int", doc="Entry point of the app command."),

    Sym("app.api.base", "module", "src/app/api/base.py", (1, 20)),
    Sym("app.api.base.BaseHandler", "class", "src/app/api/base.py", (3, 20), "app.api.base",
        signature="class BaseHandler:"),
    Sym("app.api.base.BaseHandler.dispatch", "method", "src/app/api/base.py", (5, 20),
        "app.api.base.BaseHandler", signature="async def dispatch(self, request)",
        is_async=True),

    Sym("app.api.handlers", "module", "src/app/api/handlers.py", (1, 60)),
    Sym("app.api.handlers.LoginHandler", "class", "src/app/api/handlers.py", (5, 60),
        "app.api.handlers", signature="class LoginHandler(BaseHandler):"),
    Sym("app.api.handlers.LoginHandler.post", "method", "src/app/api/handlers.py", (7, 40),
        "app.api.handlers.LoginHandler", signature="async def post(self, request)",
        is_async=True),
    Sym("app.api.handlers.LoginHandler.get", "method", "src/app/api/handlers.py", (42, 44),
        "app.api.handlers.LoginHandler", signature="async def get(self, request)",
        is_async=True),

    Sym("tests.test_auth", "module", "tests/test_auth.py", (1, 12)),
    Sym("tests.test_auth.test_authenticate", "function", "tests/test_auth.py", (4, 12),
        "tests.test_auth", signature="def test_authenticate():"),

    Sym("geo", "module", "geo/shapes.go", (1, 40)),
    Sym("geo::Shape", "interface", "geo/shapes.go", (3, 6), "geo",
        signature="type Shape interface"),
    Sym("geo::Circle", "struct", "geo/shapes.go", (8, 10), "geo",
        signature="type Circle struct"),
    Sym("geo::Circle::Area", "method", "geo/shapes.go", (12, 14), "geo::Circle",
        signature="func (c Circle) Area() float64"),
    Sym("geo::NewCircle", "function", "geo/shapes.go", (16, 18), "geo",
        signature="func NewCircle(r float64) Circle"),
    Sym("geo::radius", "function", "geo/shapes.go", (20, 21), "geo",
        signature="func radius(c Circle) float64", visibility="private"),
]

# (kind, source, resolved target or None, target as written, line, column)
EDGES = [
    ("calls", "app.auth.authenticate", "app.auth._hash", "_hash", 25, 11),
    ("calls", "app.auth.authenticate", "app.auth.User.check_password",
     "user.check_password", 27, 7),
    ("calls", "app.auth.User.from_row", None, "cls", 16, 15),
    ("calls", "app.cli.main", "app.auth.authenticate", "authenticate", 12, 8),
    ("calls", "app.cli.main", None, "print", 13, 4),
    ("calls", "app.cli.main", None, "os.path.join", 14, 10),
    ("calls", "app.api.handlers.LoginHandler.post", "app.auth.authenticate",
     "authenticate", 10, 15),
    ("calls", "app.api.base.BaseHandler.dispatch", None, "handler", 9, 14),
    ("calls", "tests.test_auth.test_authenticate", "app.auth.authenticate",
     "authenticate", 6, 4),
    ("calls", "geo::radius", "geo::Circle::Area", "c.Area", 21, 8),
    ("imports", "app.cli", "app.auth", "app.auth", 1, 0),
    ("imports", "app.cli", None, "os", 2, 0),
    ("imports", "app.api.handlers", "app.auth.authenticate", "app.auth", 2, 0),
    ("imports", "app.api.handlers", "app.api.base.BaseHandler", "app.api.base", 3, 0),
    ("imports", "tests.test_auth", "app.auth.authenticate", "app.auth", 1, 0),
    ("inherits", "app.api.handlers.LoginHandler", "app.api.base.BaseHandler",
     "BaseHandler", 5, 19),
    ("implements", "geo::Circle", "geo::Shape", "Shape", 8, 5),
    ("returns", "app.auth.authenticate", "app.auth.User", "User", 20, 48),
    ("returns", "app.auth.User.from_row", "app.auth.User", "User", 14, 30),
    ("returns", "geo::NewCircle", "geo::Circle", "Circle", 16, 30),
    ("returns", "app.cli.main", None, "int", 5, 30),
    ("returns", "app.auth._hash", None, "str", 36, 30),
]
# fmt: on


def build_index(conn: sqlite3.Connection) -> None:
    """Write FILES, SYMBOLS and EDGES into ``conn`` following ``sqry.graph.schema``."""
    conn.executescript(schema.DDL)
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(schema.SCHEMA_VERSION),))
    file_ids = {}
    for path, (language, module) in FILES.items():
        cur = conn.execute(
            "INSERT INTO files (path, language, size, mtime_ns, hash, module)"
            " VALUES (?, ?, 0, 0, '', ?)",
            (path, language, module),
        )
        file_ids[path] = cur.lastrowid
    ids: dict[str, int] = {}
    for sym in SYMBOLS:
        language = FILES[sym.path][0]
        cur = conn.execute(
            "INSERT INTO symbols (file_id, kind, name, qualified_name, language, start_line,"
            " start_column, end_line, end_column, signature, visibility, is_async, is_static,"
            " doc, parent_id) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 1, ?, ?, ?, ?, ?, ?)",
            (
                file_ids[sym.path], sym.kind, sym.name, sym.qname, language, sym.lines[0],
                sym.lines[1], sym.signature, sym.visibility, int(sym.is_async),
                int(sym.is_static), sym.doc, ids.get(sym.parent) if sym.parent else None,
            ),
        )  # fmt: skip
        ids[sym.qname] = cur.lastrowid
        if sym.parent:
            conn.execute(
                "INSERT INTO edges (kind, source_id, target_id, target_text, file_id)"
                " VALUES ('contains', ?, ?, ?, ?)",
                (ids[sym.parent], ids[sym.qname], sym.qname, file_ids[sym.path]),
            )
    by_qname = {s.qname: s for s in SYMBOLS}
    for kind, source, target, text, line, column in EDGES:
        conn.execute(
            "INSERT INTO edges (kind, source_id, target_id, target_text, file_id, line, column,"
            " resolved_via) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                kind, ids[source], ids.get(target) if target else None, text,
                file_ids[by_qname[source].path], line, column, "import" if target else None,
            ),
        )  # fmt: skip
    conn.commit()


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    build_index(connection)
    yield connection
    connection.close()


def q(conn: sqlite3.Connection, text: str, **options) -> list[str]:
    """Qualified names selected by ``text``, sorted."""
    return sorted(s.qualified_name for s in run_query(conn, text, **options).symbols)


# -- fields ----------------------------------------------------------------------------


def test_kind_selects_by_symbol_kind(conn):
    assert q(conn, "kind:class") == [
        "app.api.base.BaseHandler",
        "app.api.handlers.LoginHandler",
        "app.auth.User",
    ]


def test_kind_is_case_insensitive_and_globs(conn):
    assert q(conn, "KIND:Interface") == ["geo::Shape"]
    assert q(conn, "kind:s*") == ["geo::Circle"]


def test_name_equals_exactly(conn):
    assert q(conn, "name:authenticate") == ["app.auth.authenticate"]
    assert q(conn, "name:Authenticate") == []


def test_name_glob(conn):
    assert q(conn, "name:test_*") == ["tests.test_auth", "tests.test_auth.test_authenticate"]


def test_glob_classes_negate_with_the_shell_bang_or_a_caret(conn):
    everything = set(q(conn, "name~=."))
    not_upper = sorted(everything - set(q(conn, "name:[A-Z]*")))
    assert "app.auth.User" not in not_upper and "app.auth._hash" in not_upper
    assert q(conn, "name:[!A-Z]*") == q(conn, "name:[^A-Z]*") == not_upper
    # Functions whose name does not start with "_" or "r": not just "_hash"/"radius".
    assert q(conn, "kind:function name:[!_r]*") == [
        "app.auth.authenticate",
        "app.cli.main",
        "geo::NewCircle",
        "tests.test_auth.test_authenticate",
    ]
    # Not at the start of a class, "!" is itself; a leading "]" is a member.
    assert q(conn, "name:[a!]*") == q(conn, "name:a*") == ["app.auth", "app.auth.authenticate"]
    assert q(conn, "name:[]_]*") == ["app.auth._hash"]
    assert "app.auth._hash" not in q(conn, "name:[!]_]*")
    assert q(conn, "path:[!s]*/*.py") == ["tests.test_auth", "tests.test_auth.test_authenticate"]
    # Enum fields fold case; "*" crosses "/" in paths.
    assert q(conn, "kind:[!MF]*") == q(conn, "NOT kind:module NOT kind:function NOT kind:method")
    assert q(conn, "path:src*handlers.py kind:class") == ["app.api.handlers.LoginHandler"]


def test_name_regex_is_searched_not_anchored(conn):
    assert q(conn, "name~=auth kind:function") == [
        "app.auth.authenticate",
        "tests.test_auth.test_authenticate",
    ]
    assert q(conn, "name~=/^AUTH/i") == ["app.auth", "app.auth.authenticate"]
    assert q(conn, "name:/^auth./") == ["app.auth.authenticate"]


def test_bareword_means_name_regex(conn):
    assert q(conn, "Handler") == ["app.api.base.BaseHandler", "app.api.handlers.LoginHandler"]
    assert q(conn, "handler") == ["app.api.handlers"]  # the module handlers.py


def test_qname_exact_and_rust_style_separators(conn):
    assert q(conn, "qname:app.auth.User.check_password") == ["app.auth.User.check_password"]
    assert q(conn, "qname:geo::Circle::Area") == ["geo::Circle::Area"]
    assert q(conn, "qname:app.api.*") == [
        "app.api.base",
        "app.api.base.BaseHandler",
        "app.api.base.BaseHandler.dispatch",
        "app.api.handlers",
        "app.api.handlers.LoginHandler",
        "app.api.handlers.LoginHandler.get",
        "app.api.handlers.LoginHandler.post",
    ]


def test_path_plain_value_is_a_file_or_a_directory(conn):
    assert q(conn, "path:src/app/cli.py") == ["app.cli", "app.cli.main"]
    assert q(conn, "path:src/app/api kind:class") == q(conn, "path:src/app/api/ kind:class")
    assert q(conn, "path:src/app/api kind:class") == [
        "app.api.base.BaseHandler",
        "app.api.handlers.LoginHandler",
    ]
    # A directory match is by whole segments: src/app/ap is not a prefix of a directory.
    assert q(conn, "path:src/app/ap") == []


def test_path_glob_and_file_alias(conn):
    assert q(conn, "file:tests/*.py kind:function") == ["tests.test_auth.test_authenticate"]
    assert q(conn, "path:*.go kind:struct") == ["geo::Circle"]


def test_lang_and_language_alias(conn):
    assert q(conn, "lang:go kind:function") == ["geo::NewCircle", "geo::radius"]
    assert q(conn, "language:Go kind:function") == ["geo::NewCircle", "geo::radius"]


def test_visibility(conn):
    assert q(conn, "visibility:private") == ["app.auth._hash", "geo::radius"]


def test_async_true_and_false(conn):
    assert q(conn, "async:true") == [
        "app.api.base.BaseHandler.dispatch",
        "app.api.handlers.LoginHandler.get",
        "app.api.handlers.LoginHandler.post",
    ]
    assert q(conn, "kind:method async:false") == [
        "app.auth.User.check_password",
        "app.auth.User.from_row",
        "geo::Circle::Area",
    ]


def test_static(conn):
    assert q(conn, "static:true") == ["app.auth.User.from_row"]


def test_parent_by_name_or_qualified_name(conn):
    assert q(conn, "parent:User") == ["app.auth.User.check_password", "app.auth.User.from_row"]
    assert q(conn, "parent:app.auth.User") == q(conn, "parent:User")
    assert q(conn, "parent:geo::Circle") == ["geo::Circle::Area"]


def test_not_parent_keeps_modules_which_have_no_parent(conn):
    modules = q(conn, "kind:module")
    assert set(modules) <= set(q(conn, "NOT parent:app.auth"))


def test_doc(conn):
    assert q(conn, "doc~=/deprecated/i") == ["app.auth.authenticate"]
    assert q(conn, 'doc:"A registered user."') == ["app.auth.User"]


def test_signature(conn):
    assert q(conn, 'signature~="-> User"') == ["app.auth.User.from_row", "app.auth.authenticate"]
    assert q(conn, "signature:func*float64") == ["geo::Circle::Area", "geo::radius"]


def test_lines_is_end_minus_start_plus_one(conn):
    assert q(conn, "lines>20") == [
        "app.api.handlers",
        "app.api.handlers.LoginHandler",
        "app.api.handlers.LoginHandler.post",
        "app.auth",
        "app.cli",
        "app.cli.main",
        "geo",
    ]
    assert q(conn, "lines:1") == ["app.auth.MAX_TRIES"]
    assert q(conn, "lines<=2 kind:function") == ["geo::radius"]
    assert q(conn, "lines>=3 lines<3") == []
    assert q(conn, "kind:function lines<3") == ["geo::radius"]


# -- boolean structure -----------------------------------------------------------------


def test_juxtaposition_is_and(conn):
    assert q(conn, "kind:method async:true") == q(conn, "kind:method AND async:true")


def test_and_binds_tighter_than_or(conn):
    assert q(conn, "kind:struct OR kind:function lang:go") == [
        "geo::Circle",
        "geo::NewCircle",
        "geo::radius",
    ]
    assert q(conn, "(kind:struct OR kind:function) lang:go") == q(
        conn, "kind:struct OR kind:function lang:go"
    )
    assert q(conn, "(kind:class OR kind:struct) lang:go") == ["geo::Circle"]


def test_not(conn):
    assert q(conn, "kind:function NOT lang:python") == ["geo::NewCircle", "geo::radius"]
    assert q(conn, "kind:function not not lang:go") == ["geo::NewCircle", "geo::radius"]
    assert q(conn, "NOT (kind:module OR kind:function OR kind:method)") == [
        "app.api.base.BaseHandler",
        "app.api.handlers.LoginHandler",
        "app.auth.MAX_TRIES",
        "app.auth.User",
        "geo::Circle",
        "geo::Shape",
    ]


# -- relations -------------------------------------------------------------------------


def test_callers_are_the_symbols_that_call_it(conn):
    assert q(conn, "callers:authenticate") == [
        "app.api.handlers.LoginHandler.post",
        "app.cli.main",
        "tests.test_auth.test_authenticate",
    ]
    assert q(conn, "callers:app.auth.authenticate") == q(conn, "callers:authenticate")


def test_callers_of_a_nested_query(conn):
    # The callers of any function in src/app.
    assert q(conn, "callers:(kind:function AND path:src/app)") == [
        "app.api.handlers.LoginHandler.post",
        "app.auth.authenticate",
        "app.cli.main",
        "tests.test_auth.test_authenticate",
    ]


def test_callees_are_what_it_calls(conn):
    assert q(conn, "callees:authenticate") == ["app.auth.User.check_password", "app.auth._hash"]
    assert q(conn, "callees:main") == ["app.auth.authenticate"]


def test_imports_are_the_importers(conn):
    # app.cli imports the module; the others import authenticate *from* it.
    assert q(conn, "imports:app.auth") == ["app.api.handlers", "app.cli", "tests.test_auth"]
    assert q(conn, "imports:authenticate") == ["app.api.handlers", "tests.test_auth"]
    assert q(conn, "imports:app.api.base") == ["app.api.handlers"]


def test_imported_by_is_what_it_imports(conn):
    assert q(conn, "imported_by:app.api.handlers") == [
        "app.api.base.BaseHandler",
        "app.auth.authenticate",
    ]


def test_inherits(conn):
    assert q(conn, "inherits:BaseHandler") == ["app.api.handlers.LoginHandler"]


def test_implements(conn):
    assert q(conn, "implements:Shape") == ["geo::Circle"]


def test_returns(conn):
    assert q(conn, "returns:User") == ["app.auth.User.from_row", "app.auth.authenticate"]
    assert q(conn, "returns:geo::Circle") == ["geo::NewCircle"]


def test_relations_follow_resolved_edges_only_by_default(conn):
    assert q(conn, "callers:print") == []
    assert q(conn, "imports:os") == []
    assert q(conn, "returns:int") == []


def test_unresolved_option_matches_written_text(conn):
    assert q(conn, "callers:print", unresolved=True) == ["app.cli.main"]
    # A plain name also matches the last segment of what was written.
    assert q(conn, "callers:join", unresolved=True) == ["app.cli.main"]
    assert q(conn, "callers:os.path.join", unresolved=True) == ["app.cli.main"]
    # A glob matches the whole text or the last segment, like the name it covers.
    assert q(conn, "callers:jo*", unresolved=True) == ["app.cli.main"]
    assert q(conn, "callers:os.*.join", unresolved=True) == ["app.cli.main"]
    assert q(conn, "callers:path.jo*", unresolved=True) == []  # neither whole nor last
    assert q(conn, "imports:os", unresolved=True) == ["app.cli"]
    assert q(conn, "returns:/^(int|str)$/", unresolved=True) == ["app.auth._hash", "app.cli.main"]
    # Resolved matches stay: the option adds, never replaces.
    assert q(conn, "callers:authenticate", unresolved=True) == q(conn, "callers:authenticate")
    # Nested queries name symbols; unresolved edges have none, so nothing changes.
    assert q(conn, "callers:(name:print)", unresolved=True) == []


def test_relations_compose(conn):
    assert q(conn, "callers:authenticate kind:method") == ["app.api.handlers.LoginHandler.post"]
    # Who calls the callers of authenticate? Nobody in this index.
    assert q(conn, "callers:(callers:authenticate)") == []
    # What do the callers of authenticate call? authenticate itself, nothing else.
    assert q(conn, "callees:(callers:authenticate)") == ["app.auth.authenticate"]
    # Python functions that call no function or method: leaves of the call graph.
    assert q(conn, "kind:function NOT callers:(kind:function OR kind:method) lang:python") == [
        "app.auth._hash"
    ]
    # Functions nobody calls: not among the callees of anything.
    assert q(conn, "kind:function NOT callees:(name~=.)") == [
        "app.cli.main",
        "geo::NewCircle",
        "geo::radius",
        "tests.test_auth.test_authenticate",
    ]


def test_not_relation_is_exact_complement(conn):
    everything = q(conn, "name~=.")
    for text in ("callers:authenticate", "callees:authenticate", "imported_by:app.cli"):
        selected = set(q(conn, text))
        assert set(q(conn, f"NOT {text}")) == set(everything) - selected


# -- stages, limit, scope --------------------------------------------------------------


def test_count(conn):
    result = run_query(conn, "kind:method | count")
    assert (result.shape, result.count) == ("count", 6)
    assert run_query(conn, "name:nothing | count").empty


def test_group_by(conn):
    result = run_query(conn, "lang:go | group_by kind")
    assert result.shape == "groups"
    assert [(g.value, g.count) for g in result.groups] == [
        ("function", 2),
        ("interface", 1),
        ("method", 1),
        ("module", 1),
        ("struct", 1),
    ]


def test_top(conn):
    result = run_query(conn, "kind:function OR kind:method | top 2 path")
    assert [(g.value, g.count) for g in result.groups] == [
        ("src/app/auth.py", 4),
        ("geo/shapes.go", 3),
    ]
    assert not result.truncated


def test_group_by_bool_and_parent(conn):
    result = run_query(conn, "kind:method | group_by async")
    assert [(g.value, g.count) for g in result.groups] == [(False, 3), (True, 3)]
    result = run_query(conn, "kind:method | group_by parent")
    assert result.groups[0].value in ("app.api.handlers.LoginHandler", "app.auth.User")
    assert result.groups[0].count == 2


def test_count_after_grouping_counts_groups(conn):
    assert run_query(conn, "name~=. | group_by lang | count").count == 2
    assert run_query(conn, "name~=. | top 1 kind | count").count == 1


def test_limit_reports_truncation_and_total(conn):
    result = run_query(conn, "kind:method", limit=2)
    assert len(result.symbols) == 2 and result.truncated and result.total == 6
    assert not run_query(conn, "kind:method", limit=6).truncated


def test_results_come_in_path_line_order(conn):
    result = run_query(conn, "kind:function")
    keys = [(s.path, s.start_line) for s in result.symbols]
    assert keys == sorted(keys)


def test_scope_restricts_selected_symbols_not_relation_targets(conn):
    assert sorted(
        s.qualified_name for s in run_query(conn, "callers:authenticate", scope="tests").symbols
    ) == ["tests.test_auth.test_authenticate"]


def test_items_have_the_daemon_search_shape(conn):
    (sym,) = run_query(conn, "qname:app.cli.main").symbols
    assert sym.item() == {
        "name": "main",
        "qualified_name": "app.cli.main",
        "kind": "function",
        "language": "python",
        "file_path": "src/app/cli.py",
        "start_line": 5,
        "start_column": 0,
        "end_line": 29,
        "end_column": 1,
    }


def test_bad_query_raises_query_error_before_touching_the_database(conn):
    with pytest.raises(QueryError) as info:
        run_query(conn, "kind:function AND (name:x")
    assert info.value.position == 26


# -- the limits: the deepest queries the language allows all run -----------------------
#
# SQLite's parser has a fixed stack ("parser stack overflow" at ~30 nested ORs or
# ~11 nested subqueries); the compiler must keep the SQL shallow for every query
# within MAX_DEPTH/MAX_PREDICATES. Answers come from a reference evaluation of the
# relations over EDGES, not just "it ran".

MAX_RELATION_CHAIN = 64  # MAX_DEPTH relations nested in one another


def nested(relations: list[str], leaf: str) -> str:
    """``r1:(r2:(...(leaf)))``."""
    return "".join(f"{r}:(" for r in relations) + leaf + ")" * len(relations)


def reference(relations: list[str], names: set[str]) -> list[str]:
    """What ``nested(relations, ...)`` selects when the leaf selects ``names``,
    evaluated from EDGES (resolved edges only) by hand."""
    from sqry.graph.query.fields import RELATIONS

    by_qname = {s.qname: s for s in SYMBOLS}
    selected = set(names)
    for relation in reversed(relations):
        edge_kind, end = RELATIONS[relation]
        targets = set(selected)
        if relation == "imports":  # importing a module imports what is defined in it
            module_paths = {by_qname[n].path for n in selected if by_qname[n].kind == "module"}
            targets |= {s.qname for s in SYMBOLS if s.path in module_paths}
        edges = [(src, dst) for kind, src, dst, *_ in EDGES if kind == edge_kind and dst]
        if end == "target":
            selected = {dst for src, dst in edges if src in selected}
        else:
            selected = {src for src, dst in edges if dst in targets}
    return sorted(selected)


def test_sixty_four_nested_relations_are_answered(conn):
    chain = ["callees", "callers"] * (MAX_RELATION_CHAIN // 2)
    text = nested(chain, "authenticate")
    assert q(conn, text) == reference(chain, {"app.auth.authenticate"}) == ["app.auth.authenticate"]
    imports = ["imports", "imported_by"] * (MAX_RELATION_CHAIN // 2)
    assert q(conn, nested(imports, "qname:app.cli")) == [
        "app.api.handlers",
        "app.cli",
        "tests.test_auth",
    ]
    assert q(conn, nested(imports, "qname:app.cli")) == reference(imports, {"app.cli"})
    # One more level is the parser's error, not SQLite's.
    with pytest.raises(QueryError, match="nests deeper than 64"):
        run_query(conn, nested([*chain, "callers"], "authenticate"))


@pytest.mark.parametrize("seed", range(6))
def test_deep_mixed_relation_chains_match_a_reference_evaluation(conn, seed):
    import random

    rng = random.Random(seed)
    relations = sorted(RELATION_NAMES)
    chain = [rng.choice(relations) for _ in range(MAX_RELATION_CHAIN)]
    # End the chain (innermost) on callees/callers so something is left to select.
    chain[-2:] = ["callees", "callers"]
    text = nested(chain, "name:authenticate")
    assert q(conn, text) == reference(chain, {"app.auth.authenticate"})
    assert q(conn, text, unresolved=True) == q(conn, text)  # nested values name symbols


@pytest.mark.timeout(60)
@pytest.mark.parametrize("depth", [22, 49])
def test_nested_relations_over_ors_stay_linear(conn, depth):
    """``callers:(name:aN OR callers:(... OR name:x))``: SQLite planned nested CTEs by
    copying them into each other, and this shape doubled per level (22 levels: minutes
    and gigabytes, then MemoryError). Answered from tables filled one level at a time."""
    names = ["authenticate", "main", "check_password", "login"]
    text = "name:_hash"
    for level in range(depth):
        text = f"callers:(name:{names[level % len(names)]} OR {text})"
    selected = {"app.auth._hash"}
    for level in range(depth):  # innermost first
        named = {s.qname for s in SYMBOLS if s.qname.rsplit(".", 1)[-1] == names[level % 4]}
        selected = set(reference(["callers"], selected | named))
    assert q(conn, text) == sorted(selected)


RELATION_NAMES = {
    "callers",
    "callees",
    "imports",
    "imported_by",
    "inherits",
    "implements",
    "returns",
}


def test_the_reported_mixed_chain_runs(conn):
    assert q(conn, "imports:(callers:(inherits:(callees:(name:x))))") == []
    # Who imports a module whose symbols call what LoginHandler.post calls?
    chain = ["imports", "callers", "callees"]
    assert q(conn, nested(chain, "qname:app.api.handlers.LoginHandler.post")) == reference(
        chain, {"app.api.handlers.LoginHandler.post"}
    )


def deep_or(qnames: list[str], leaf: str) -> str:
    """``(qname:A OR NOT name:none0 AND (qname:B OR NOT name:none1 AND (... leaf)))``:
    two predicates and one level of parentheses per name. ``NOT name:noneN`` is true
    everywhere, so it selects ``qnames`` plus what ``leaf`` selects."""
    opened = "".join(f"(qname:{n} OR NOT name:none{i} AND " for i, n in enumerate(qnames))
    return opened + leaf + ")" * len(qnames)


def deep_and(qnames: list[str], leaf: str) -> str:
    """``(NOT qname:A AND lines>0 AND (NOT qname:B AND lines>0 AND (... leaf)))``:
    what ``leaf`` selects, minus ``qnames``."""
    opened = "".join(f"(NOT qname:{n} AND lines>0 AND " for n in qnames)
    return opened + "(" + leaf + ")" * (len(qnames) + 1)


PICKS = ["app.cli.main", "geo::radius", "app.auth.User", "app.auth._hash", "geo::Circle::Area"]


def test_a_hundred_predicates_in_deep_or_nesting(conn):
    names = [PICKS[i % len(PICKS)] for i in range(49)]
    text = deep_or(names, "kind:interface OR callers:_hash")  # 49 * 2 + 2 predicates
    expected = sorted({*PICKS, "geo::Shape", "app.auth.authenticate"})
    assert q(conn, text) == expected
    assert run_query(conn, text + " | count").count == len(expected)
    assert run_query(conn, text, limit=0).total == len(expected)
    assert q(conn, f"NOT ({text})") == sorted(set(q(conn, "name~=.")) - set(expected))
    with pytest.raises(QueryError, match="too many predicates"):
        run_query(conn, deep_or(names, "kind:interface OR callers:_hash OR name:x"))


def test_a_hundred_predicates_in_deep_and_nesting(conn):
    names = [PICKS[i % len(PICKS)] for i in range(49)]
    text = deep_and(names, "kind:function OR callers:authenticate")  # 49 * 2 + 2 predicates
    expected = sorted({*q(conn, "kind:function"), *q(conn, "callers:authenticate")} - set(PICKS))
    assert q(conn, text) == expected
    groups = run_query(conn, text + " | top 2 lang").groups
    assert [(g.value, g.count) for g in groups] == [("python", 3), ("go", 1)]
    assert run_query(conn, text + " | group_by parent | count").count == 4


def test_sixty_four_levels_of_not_and_parentheses_mixed_with_relations(conn):
    # Levels alternate ( x OR  /  ( y AND  /  NOT ( ; a relation sits at each level.
    openers = ["(callers:_hash OR ", "(name~=. AND ", "NOT (", "(imports:app.auth AND "]
    text = "".join(openers[i % 4] for i in range(48)) + "callers:authenticate" + ")" * 48
    # The innermost is reached through an even number (12) of NOTs, each of which
    # also ORs/ANDs in its neighbours; compare with the same tree written shallowly.
    shallow = "callers:authenticate"
    for i in reversed(range(48)):
        opener = openers[i % 4]
        shallow = f"NOT ({shallow})" if opener == "NOT (" else f"{opener}{shallow})"
    assert q(conn, text) == q(conn, shallow)
    everything = set(q(conn, "name~=."))
    inner = set(q(conn, "callers:authenticate"))
    # Evaluate the same tree in Python over sets.
    for i in reversed(range(48)):
        opener = openers[i % 4]
        if opener == "NOT (":
            inner = everything - inner
        elif opener.startswith("(callers:_hash"):
            inner = inner | set(q(conn, "callers:_hash"))
        elif opener.startswith("(name~=."):
            inner = inner & everything
        else:
            inner = inner & set(q(conn, "imports:app.auth"))
    assert q(conn, text) == sorted(inner)
    assert q(conn, text, unresolved=True) == sorted(inner)


def test_sql_complexity_is_a_query_error_not_an_index_error(conn, monkeypatch):
    """Were the compiler ever to emit SQL too deep for SQLite, the user hears that
    the *query* is too complex (CLI exit 2), never that the index is broken."""
    from sqry.graph.query import compiler

    monkeypatch.setattr(compiler, "_INLINE_DEPTH", 1000)  # disable the hoisting
    text = deep_or(["x"] * 40, "helper")
    with pytest.raises(QueryError, match="too complex") as info:
        run_query(conn, text)
    assert info.value.position == 1 and info.value.query == text
    # A real index problem stays an sqlite3 error for the caller to report as such.
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        run_query(sqlite3.connect(":memory:"), "kind:function")


PING_PONG = (
    "def helper():\n    pass\n\n\ndef main():\n    helper()\n\n\n"
    "def ping():\n    pong()\n\n\ndef pong():\n    ping()\n    helper()\n"
)


@pytest.mark.timeout(120)
def test_deepest_queries_answer_through_the_cli(workspace, sqry):
    (workspace / "main.py").write_text(PING_PONG)
    assert sqry("index", str(workspace)).returncode == 0

    def names(*args: str) -> list[str]:
        result = sqry("query", *args, "--json", cwd=workspace)
        assert result.returncode in (0, 1), result.stderr
        return sorted(item["qualified_name"] for item in json.loads(result.stdout)["items"])

    # callers(helper) = {main, pong}; then ping, pong, ping, ... (even depth: ping).
    assert names(nested(["callers"] * 5, "helper")) == ["main.pong"]
    assert names(nested(["callers"] * 64, "helper")) == ["main.ping"]
    assert names(nested(["callees", "callers"] * 32, "helper")) == ["main.helper", "main.ping"]
    assert names("(name:a OR " * 30 + "helper" + ")" * 30) == ["main.helper"]
    assert names(deep_or(["main.main"] * 49, "name:ping OR callers:ping")) == [
        "main.main",
        "main.ping",
        "main.pong",
    ]
    result = sqry("query", "imports:(callers:(inherits:(callees:(name:x))))", cwd=workspace)
    assert (result.returncode, result.stderr) == (1, "")


def test_a_nested_query_reads_one_state_of_the_index(workspace, monkeypatch):
    """The tables a nested query fills and the statement reading them run in one
    read transaction: a build committing in between (here: forced there) must not
    mix the old state's ids with the new state's edges."""
    from sqry.graph.index import build_index as index_tree
    from sqry.graph.query import execute
    from sqry.graph.store import open_index

    (workspace / "a.py").write_text("def foo():\n    pass\n")
    (workspace / "b.py").write_text("from a import foo\n\n\ndef call_foo():\n    foo()\n")
    index_tree(workspace, workers=1)
    original = execute._evaluate

    def rebuild_first(*args, **kwargs):
        (workspace / "a.py").write_text("# foo gets another id\n\ndef foo():\n    pass\n")
        index_tree(workspace, workers=1)
        return original(*args, **kwargs)

    monkeypatch.setattr(execute, "_evaluate", rebuild_first)
    with open_index(workspace) as index:
        found = run_query(index.conn, "callers:(name:foo)")
    assert [s.qualified_name for s in found.symbols] == ["b.call_foo"]  # as when it began
    monkeypatch.setattr(execute, "_evaluate", original)
    with open_index(workspace) as index:  # and the next query sees the new state
        assert [s.qualified_name for s in run_query(index.conn, "callers:(name:foo)").symbols] == [
            "b.call_foo"
        ]
        lines = index.conn.execute("SELECT start_line FROM symbols WHERE name = 'foo'")
        assert [tuple(r) for r in lines] == [(3,)]


def test_ctrl_c_inside_a_regex_is_an_interrupt_not_an_index_error(conn, monkeypatch):
    """SQLite reports any exception of a Python function as "user-defined
    function raised exception"; a KeyboardInterrupt there must stay one (the
    CLI then says "interrupted", exit 130), not become a broken-index error."""
    from sqry.graph.query import sqlfuncs

    def interrupted(pattern: str, flags: int):
        raise KeyboardInterrupt

    monkeypatch.setattr(sqlfuncs, "compile_regex", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_query(conn, "name~=/l[aeiou]g+in/")
    assert run_query(conn, "name:User").symbols  # the next query runs as usual
