"""Resolution rules (graph.md §1): which definition each reference binds to, by
which rule, and when it must stay unresolved — on small real projects."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sqry.graph.index import build_index


def project(root: Path, files: dict[str, str]) -> dict[tuple[str, str], tuple]:
    """Write ``files``, index them, return {(source, target text): (target, via, amb, n)}."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    build_index(root)
    conn = sqlite3.connect(root / ".sqry" / "index.db")
    rows = conn.execute(
        "SELECT s.qualified_name, e.target_text, t.qualified_name, e.resolved_via, "
        "e.ambiguous_via, e.candidates FROM edges e JOIN symbols s ON s.id = e.source_id "
        "LEFT JOIN symbols t ON t.id = e.target_id WHERE e.kind NOT IN ('contains', 'imports')"
    ).fetchall()
    conn.close()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def calls_by_line(root: Path) -> dict[tuple[str, int], tuple[str, str | None]]:
    """Every call edge of the index at ``root``: (source, line) -> (text, target)."""
    conn = sqlite3.connect(root / ".sqry" / "index.db")
    rows = conn.execute(
        "SELECT s.qualified_name, e.line, e.target_text, t.qualified_name FROM edges e "
        "JOIN symbols s ON s.id = e.source_id LEFT JOIN symbols t ON t.id = e.target_id "
        "WHERE e.kind = 'calls'"
    ).fetchall()
    conn.close()
    return {(source, line): (text, target) for source, line, text, target in rows}


def test_unique_binds_the_only_definition(workspace: Path) -> None:
    edges = project(
        workspace,
        {"a.py": "def only_here():\n    pass\n", "b/c.py": "def main():\n    only_here()\n"},
    )
    assert edges[("b.c.main", "only_here")] == ("a.only_here", "unique", None, 1)


def test_two_candidates_stay_unresolved_and_are_reported(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "x/a.py": "def helper():\n    pass\n",
            "y/b.py": "def helper():\n    pass\n",
            "z/c.py": "def main():\n    helper()\n",
        },
    )
    assert edges[("z.c.main", "helper")] == (None, None, "unique", 2)


@pytest.mark.parametrize(
    ("files", "call", "expected"),
    [
        pytest.param(
            {
                "a.c": "static int helper(void) { return 1; }\n",
                "b.c": "int helper(void);\nint main(void) { return helper(); }\n",
            },
            ("main", "helper"),
            (None, None, None, 0),
            id="c-static",
        ),
        pytest.param(
            {
                "c.cpp": "namespace { void hid() {} }\n",
                "d.cpp": "void hid();\nint main2() { hid(); return 0; }\n",
            },
            ("main2", "hid"),
            (None, None, None, 0),
            id="cpp-anonymous-namespace",
        ),
        pytest.param(
            {
                "go.mod": "module example.com/m\n",
                "a/a.go": "package a\n\nfunc low() {}\n",
                "b/b.go": "package b\n\nfunc Run() {\n\tlow()\n}\n",
            },
            ("b.Run", "low"),
            (None, None, None, 0),
            id="go-unexported",
        ),
        pytest.param(
            {
                "util.h": "static inline int hi(void) { return 1; }\n",
                "m.c": '#include "util.h"\nint main(void) { return hi(); }\n',
            },
            ("main", "hi"),
            ("hi", "unique", None, 1),
            id="c-header-static-inline",
        ),
        pytest.param(
            {
                "a.c": "static int helper(void) { return 1; }\n",
                "b.c": "int helper(void) { return 2; }\n",
                "m.c": "int main(void) { return helper(); }\n",
            },
            ("main", "helper"),
            ("helper", "unique", None, 1),  # the only one m.c can link to
            id="c-static-beside-a-public-one",
        ),
    ],
)
def test_unique_never_binds_a_definition_private_to_another_file(
    workspace: Path, files: dict[str, str], call: tuple[str, str], expected: tuple
) -> None:
    """A C ``static`` function, a C++ anonymous namespace member, an unexported Go
    name: no other file can call it by name, so ``unique`` does not offer it
    there (a header's ``static inline`` functions are every includer's)."""
    edges = project(workspace, files)
    assert edges[call] == expected
    if call == ("main", "helper") and "m.c" in files:
        conn = sqlite3.connect(workspace / ".sqry" / "index.db")
        (path,) = conn.execute(
            "SELECT f.path FROM edges e JOIN symbols t ON t.id = e.target_id "
            "JOIN files f ON f.id = t.file_id WHERE e.kind = 'calls'"
        ).fetchone()
        conn.close()
        assert path == "b.c"


def test_incremental_follows_a_definition_becoming_static(
    workspace: Path, snapshot, fresh_snapshot
) -> None:  # noqa: ANN001
    """Only the visibility changes (same name, kind, place): the call elsewhere
    must unbind, and bind again, exactly as a fresh build does."""
    files = {
        "a.c": "int helper(void) { return 1; }\n",
        "m.c": "int main(void) { return helper(); }\n",
    }
    edges = project(workspace, files)
    assert edges[("main", "helper")] == ("helper", "unique", None, 1)
    for text, bound in (
        ("static int helper(void) { return 1; }\n", None),
        (files["a.c"], "helper"),
    ):
        (workspace / "a.c").write_text(text)
        build_index(workspace)
        _same_as_fresh(workspace, snapshot, fresh_snapshot)
        assert project(workspace, {})[("main", "helper")][0] == bound


def test_python_sibling_modules_see_nothing_of_each_other(workspace: Path) -> None:
    """A Python module sees only what it defines or imports: a sibling's
    ``helper`` is a NameError without an import, so being next to it binds
    nothing (no ``package`` rule); ``unique`` still binds the only definition."""
    edges = project(
        workspace,
        {
            "pkg/a.py": "def helper():\n    pass\n\ndef only():\n    pass\n",
            "other/b.py": "def helper():\n    pass\n",
            "pkg/c.py": "def main():\n    helper()\n    only()\n",
            "pkg/__init__.py": "def init():\n    helper()\n",
        },
    )
    assert edges[("pkg.c.main", "helper")] == (None, None, "unique", 2)
    assert edges[("pkg.c.main", "only")] == ("pkg.a.only", "unique", None, 1)
    assert edges[("pkg.init", "helper")] == (None, None, "unique", 2)


@pytest.mark.parametrize(
    ("files", "scoped", "elsewhere"),
    [
        pytest.param(
            {
                "lib/tools.py": "def other():\n    pass\n",
                "lib/alt.py": "def other():\n    pass\n",
                "app.py": (
                    "from lib.tools import other\n\ndef uses():\n    other()\n\n"
                    "def lazy():\n    from lib.alt import other\n    other()\n\n"
                    "def other():\n    pass\n\n"
                    "def shadowing():\n    from lib.alt import other\n    other()\n"
                ),
                "bare.py": (
                    "def a():\n    from lib.tools import other\n    other()\n\n"
                    "def b():\n    other()\n"
                ),
            },
            [
                ("app.lazy", "other", "lib.alt.other"),
                ("app.shadowing", "other", "lib.alt.other"),
                ("bare.a", "other", "lib.tools.other"),
            ],
            [
                ("app.uses", "other", ("app.other", "local", None, 1)),
                ("bare.b", "other", (None, None, "unique", 3)),
            ],
            id="python",
        ),
        pytest.param(
            {
                "a.js": "export function other() {}\n",
                "b.js": "export function other() {}\n",
                "n.js": (
                    'function f() {\n  const { other } = require("./a");\n  other();\n}\n'
                    "function g() {\n  other();\n}\n"
                ),
            },
            [("n.f", "other", "a.other")],
            [("n.g", "other", (None, None, "unique", 2))],
            id="javascript",
        ),
        pytest.param(
            {
                "x.cpp": (
                    "namespace a { void other() {} }\nnamespace b { void other() {} }\n"
                    "void h() {\n    using b::other;\n    other();\n}\n"
                    "void f() {\n    using namespace a;\n    other();\n}\n"
                    "void g() {\n    other();\n}\n"
                ),
            },
            [("h", "other", "b::other"), ("f", "other", "a::other")],
            # no candidate at all: a namespace's member needs a qualifier or a using
            [("g", "other", (None, None, None, 0))],
            id="cpp",
        ),
        pytest.param(
            {
                "src/lib.rs": (
                    "mod a { pub fn other() {} }\nmod b { pub fn other() {} }\n"
                    "fn f() {\n    use a::other;\n    other();\n}\n"
                    "fn h() {\n    use b::other;\n    other();\n}\n"
                ),
            },
            [("crate::f", "other", "crate::a::other"), ("crate::h", "other", "crate::b::other")],
            [],
            id="rust",
        ),
    ],
)
def test_an_import_inside_a_function_binds_only_there(
    workspace: Path, files: dict[str, str], scoped: list, elsewhere: list
) -> None:
    """graph.md §1: ``local`` is the scope chain. An import written in a function
    binds in that function alone, before any outer definition of the name, and
    is invisible to the rest of the file (there the name is what it would be
    without it)."""
    edges = project(workspace, files)
    for source, target, bound in scoped:
        assert edges[(source, target)] == (bound, "import", None, 1), source
    for source, target, expected in elsewhere:
        assert edges[(source, target)] == expected, source


def test_local_beats_import_and_import_beats_unique(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "lib.py": "def f():\n    pass\n\ndef g():\n    pass\n",
            "other.py": "def g():\n    pass\n",
            "main.py": (
                "from lib import f, g\n\ndef f():\n    pass\n\ndef run():\n    f()\n    g()\n"
            ),
        },
    )
    assert edges[("main.run", "f")] == ("main.f", "local", None, 1)
    assert edges[("main.run", "g")] == ("lib.g", "import", None, 1)


def test_python_methods_do_not_see_class_scope(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "m.py": (
                "def other():\n    pass\n\nclass C:\n    def other(self):\n        pass\n\n"
                "    def run(self):\n        other()\n        self.other()\n"
            )
        },
    )
    del edges  # ``other()`` and ``self.other()`` share the target text: look at both
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    found = conn.execute(
        "SELECT e.via_self, t.qualified_name, e.resolved_via FROM edges e "
        "JOIN symbols t ON t.id = e.target_id WHERE e.kind = 'calls' ORDER BY e.via_self"
    ).fetchall()
    assert found == [(0, "m.other", "local"), (1, "m.C.other", "self")]


def test_self_walks_bases_in_declaration_order(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "m.py": (
                "class A:\n    def hook(self):\n        pass\n\n"
                "class B:\n    def hook(self):\n        pass\n\n"
                "class C(A, B):\n    def run(self):\n        self.hook()\n        self.missing()\n"
            )
        },
    )
    assert edges[("m.C.run", "hook")] == ("m.A.hook", "self", None, 1)
    assert edges[("m.C.run", "missing")] == (None, None, None, 0)


JAVA_SHAPES = {
    "Shape.java": "package com.acme;\npublic class Shape {\n    public int twice() { return 2; }\n}\n",
    "Square.java": (
        "package com.acme;\npublic class Square extends Shape {\n"
        "    public int twice() { return 4; }\n    public int area() { return twice(); }\n}\n"
    ),
    "Util.java": "package com.util;\npublic class Util {\n    public static int twice() { return 0; }\n}\n",
}  # fmt: skip


def test_java_bare_call_binds_an_inherited_method_by_self(workspace: Path) -> None:
    """In Java a bare ``twice()`` in a method is ``this.twice()`` when the class
    inherits one (``members_in_scope``): ``self`` through the bases, after an
    override in the class itself (``local``) and before a static import (the
    class scope, inherited members included, hides it: JLS 15.12.1)."""
    edges = project(
        workspace,
        {
            **JAVA_SHAPES,
            "Circle.java": (
                "package com.acme;\npublic class Circle extends Shape {\n"
                "    public int area() { return twice(); }\n"
                "    public int area2() { return this.twice(); }\n"
                "    class Inner {\n        int deep() { return twice(); }\n    }\n}\n"
            ),
            "Ring.java": (
                "package com.acme;\nimport static com.util.Util.twice;\n"
                "public class Ring extends Shape {\n    public int area() { return twice(); }\n}\n"
            ),
            "Loner.java": "package com.acme;\npublic class Loner {\n    int f() { return twice(); }\n}\n",
        },
    )
    assert edges[("com.acme.Circle.area", "twice")] == ("com.acme.Shape.twice", "self", None, 1)
    assert edges[("com.acme.Circle.area2", "twice")] == ("com.acme.Shape.twice", "self", None, 1)
    # an inner class sees the outer class's inherited members too
    assert edges[("com.acme.Circle.Inner.deep", "twice")] == (
        "com.acme.Shape.twice",
        "self",
        None,
        1,
    )
    assert edges[("com.acme.Square.area", "twice")] == ("com.acme.Square.twice", "local", None, 1)
    assert edges[("com.acme.Ring.area", "twice")] == ("com.acme.Shape.twice", "self", None, 1)
    # no class of the chain has one: methods never bind by ``unique``
    assert edges[("com.acme.Loner.f", "twice")] == (None, None, None, 0)


def test_cpp_bare_call_binds_an_inherited_method_by_self(workspace: Path) -> None:
    """C++ alike, through two levels of bases and from an out-of-class definition;
    the class scope (its bases included) comes before the file's free function."""
    edges = project(
        workspace,
        {
            "base.hpp": "class Base {\npublic:\n    int twice() { return 2; }\n};\n",
            "mid.hpp": '#include "base.hpp"\nclass Mid : public Base {};\n',
            "der.cpp": (
                '#include "mid.hpp"\nclass Der : public Mid {\npublic:\n'
                "    int area() { return twice(); }\n    int far();\n};\n"
                "int Der::far() { return twice() + 1; }\n"
            ),
            "free.cpp": (
                '#include "base.hpp"\nint twice() { return 3; }\n'
                "class Own : public Base {\n    int area() { return twice(); }\n};\n"
            ),
        },
    )
    assert edges[("Der::area", "twice")] == ("Base::twice", "self", None, 1)
    assert edges[("Der::far", "twice")] == ("Base::twice", "self", None, 1)
    assert edges[("Own::area", "twice")] == ("Base::twice", "self", None, 1)


def test_java_bare_call_in_an_anonymous_class_never_binds_what_outer_inherits(
    workspace: Path,
) -> None:
    """``m()`` in ``new Base() { ... }`` is the anonymous class's ``m`` first
    (``Base.m``): never the enclosing class's inherited ``X.m``. Outside the
    anonymous body it still is."""
    edges = project(
        workspace,
        {
            "p/X.java": "package p;\npublic class X { public void m() {} }\n",
            "p/Base.java": (
                "package p;\npublic abstract class Base implements Runnable "
                "{ public void m() {} }\n"
            ),
            "p/Outer.java": (
                "package p;\npublic class Outer extends X {\n"
                "    void go() { Runnable r = new Base() { public void run() { m(); } }; }\n"
                "    void direct() { m(); }\n}\n"
            ),
        },
    )
    assert edges[("p.Outer.go", "m")] == ("p.Base.m", "self", None, 1)
    assert edges[("p.Outer.direct", "m")] == ("p.X.m", "self", None, 1)


def test_java_calls_through_a_typed_field_bind_its_class_member(workspace: Path) -> None:
    """``repo.save()`` and ``this.repo.save()`` with a field ``Repo repo`` are calls
    of ``Repo.save``, unless a local shadows the field, the field is an array, the
    call is in an anonymous class body (its supertype may have a ``repo``), or
    the field is not the class's own and the class has bases it may inherit one from."""
    service = """package p;
public class Service {
    private final Repo repo;
    private Repo[] all;
    Service(Repo repo) { this.repo = repo; }
    void run() {
        repo.save();
        this.repo.save();
        all.clone();
        Runnable r = new Runnable() { public void run() { repo.save(); } };
    }
    void shadowed() { Other repo = new Other(); repo.save(); }
    class Inner { void go() { repo.save(); } }
    class Sub extends Base { void go() { repo.save(); } }
    record Pair(Repo left, int right) { void go() { left.save(); } }
}
"""
    edges = project(
        workspace,
        {
            "p/Repo.java": "package p;\npublic class Repo { public void save() {} }\n",
            "p/Other.java": "package p;\npublic class Other { public void save() {} }\n",
            "p/Base.java": "package p;\npublic class Base { protected Other repo; }\n",
            "p/Service.java": service,
        },
    )
    assert edges[("p.Service.run", "Repo.save")] == ("p.Repo.save", "package", None, 1)
    assert ("p.Service.run", "this.repo.save") not in edges
    assert edges[("p.Service.run", "all.clone")][0] is None
    assert edges[("p.Service.run", "repo.save")] == (None, None, None, 0)  # anonymous body
    assert edges[("p.Service.shadowed", "Other.save")] == ("p.Other.save", "package", None, 1)
    assert edges[("p.Service.Inner.go", "Repo.save")] == ("p.Repo.save", "package", None, 1)
    assert edges[("p.Service.Sub.go", "repo.save")] == (None, None, None, 0)
    assert edges[("p.Service.Pair.go", "Repo.save")] == ("p.Repo.save", "package", None, 1)


def test_a_java_or_rust_call_never_binds_a_field_of_that_name(workspace: Path) -> None:
    """Java keeps fields apart from methods (a getter ``size()`` beside a field
    ``size``), and a Rust ``V::len(v)``/``v.len()`` is always the method: a call
    binds the method, or nothing (a record's implicit accessor ``x()`` has no
    method to bind; its component is not called), never the field."""
    edges = project(
        workspace,
        {
            "p/Box.java": (
                "package p;\npublic class Box {\n    private final int size = 1;\n"
                "    public int size() { return size; }\n}\n"
            ),
            "p/Base.java": "package p;\npublic class Base { public int count() { return 0; } }\n",
            "p/Sub.java": (
                "package p;\npublic class Sub extends Base {\n    private int count;\n"
                "    int f() { return count() + this.count(); }\n}\n"
            ),
            "p/Point.java": (
                "package p;\npublic record Point(int x, int y) {\n"
                "    double norm() { return x() * y(); }\n}\n"
            ),
            "p/Main.java": (
                "package p;\npublic class Main {\n"
                "    static int use(Box b, Point p) { return b.size() + p.x(); }\n}\n"
            ),
            "src/lib.rs": (
                "pub struct V { len: usize }\nimpl V {\n"
                "    pub fn len(&self) -> usize { self.len }\n}\n"
                "pub fn outer(v: &V) -> usize { V::len(v) }\n"
            ),
        },
    )
    assert edges[("p.Main.use", "Box.size")] == ("p.Box.size", "package", None, 1)
    assert edges[("p.Sub.f", "count")] == ("p.Base.count", "self", None, 1)
    assert edges[("p.Main.use", "Point.x")][0] is None
    assert edges[("p.Point.norm", "x")][0] is None
    assert edges[("crate::outer", "V::len")] == ("crate::V::len", "local", None, 1)
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    kinds = {
        kind
        for (kind,) in conn.execute(
            "SELECT t.kind FROM edges e JOIN symbols t ON t.id = e.target_id WHERE e.kind = 'calls'"
        )
    }
    conn.close()
    assert "field" not in kinds


def test_go_calls_through_typed_locals_bind_the_types_method(workspace: Path) -> None:
    """``repo *Repo``, ``var s Repo``, ``t := &Repo{}`` and ``store.Repo{}`` from
    another package type their locals: ``repo.Save()`` is ``Repo.Save``. A local
    from a call or a range, or bound twice to different things, or of a type
    parameter, stays bound locally."""
    use = (
        "package store\n\n"
        "func Use[T any](repo *Repo, xs []Repo, g T) {\n"
        "\trepo.Save()\n"
        "\tvar s Repo\n\ts.Save()\n"
        "\tt := &Repo{}\n\tt.Save()\n"
        "\tu := NewRepo()\n\tu.Save()\n"
        "\tfor _, x := range xs {\n\t\tx.Save()\n\t}\n"
        "\tv := Repo{}\n\tif true {\n\t\tv := NewRepo()\n\t\t_ = v\n\t}\n\tv.Save()\n"
        "\tw, err := Repo{}, error(nil)\n"
        "\tw.Save()\n\t_ = err\n"
        "\tg.Save()\n"
        "}\n"
    )
    edges = project(
        workspace,
        {
            "go.mod": "module example.com/gt\n\ngo 1.21\n",
            "store/repo.go": (
                "package store\n\ntype Repo struct{}\n\n"
                "func (r *Repo) Save() error { return nil }\n\n"
                "func NewRepo() *Repo { return &Repo{} }\n"
            ),
            "store/use.go": use,
            "main.go": (
                'package main\n\nimport "example.com/gt/store"\n\n'
                "func main() {\n\tr := &store.Repo{}\n\tr.Save()\n}\n"
            ),
        },
    )
    save = ("store.Repo.Save", "package", None, 1)
    assert edges[("store.Use", "Repo.Save")] == save  # repo, s, t, w
    assert edges[("main", "store.Repo.Save")] == ("store.Repo.Save", "import", None, 1)
    for written in ("u.Save", "x.Save", "g.Save", "v.Save"):
        assert edges[("store.Use", written)] == (None, None, None, 0), written
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    typed = conn.execute(
        "SELECT e.line FROM edges e WHERE e.target_text = 'Repo.Save' ORDER BY e.line"
    ).fetchall()
    conn.close()
    assert typed == [(4,), (6,), (8,), (21,)]  # repo, s, t, w


def test_a_typed_local_types_only_calls_in_its_scope_after_it(workspace: Path) -> None:
    """A local's type reaches the calls inside its block and after its declaration:
    a Go ``cache := &Logger{}`` in an ``if`` does not type ``cache.Log()`` after the
    block (there ``cache`` is the imported package), nor a call written before the
    declaration; a C++ local of a ``for``/``catch`` does not type the calls after it."""
    project(
        workspace,
        {
            "go.mod": "module example.com/sc\n\ngo 1.21\n",
            "cache/cache.go": "package cache\n\nfunc Log() {}\n",
            "main.go": (
                'package main\n\nimport "example.com/sc/cache"\n\n'
                "type Logger struct{}\n\nfunc (l *Logger) Log() {}\n\n"
                "func run(verbose bool) {\n"
                "\tif verbose {\n\t\tcache := &Logger{}\n\t\tcache.Log()\n\t}\n"
                "\tcache.Log()\n"
                "}\n\n"
                "func later() {\n\tlogger.Log()\n\tlogger := &Logger{}\n\tlogger.Log()\n}\n"
            ),
            "log.cpp": (
                "struct Logger { void log() {} };\nstruct FileLogger { void log() {} };\n"
                "void each(FileLogger* ls, int n) {\n"
                "  for (int i = 0; i < n; i++) { FileLogger& logger = ls[i]; logger.log(); }\n"
                "  logger.log();\n"
                "}\n"
            ),
        },
    )
    found = calls_by_line(workspace)
    assert found[("run", 12)] == ("Logger.Log", "Logger.Log")  # inside the block
    assert found[("run", 14)][1] != "Logger.Log"  # after it: not the block's local
    assert found[("later", 18)] == ("logger.Log", None)  # before the declaration
    assert found[("later", 20)] == ("Logger.Log", "Logger.Log")
    assert found[("each", 4)] == ("FileLogger::log", "FileLogger::log")
    assert found[("each", 5)] == ("logger.log", None)


def test_java_and_ts_typed_locals_type_only_calls_in_their_scope_after_them(
    workspace: Path,
) -> None:
    """A Java for-each variable, a block's local or a local declared after the call
    never types a call outside its scope or before it (there the name may be the
    field, or an import); inside, it does. TypeScript alike."""
    service = """package p;
public class Service {
    private Repo repo;
    void run(java.util.List<Other> items) {
        for (Other repo : items) {
            repo.close();
        }
        repo.close();
    }
    void later() {
        repo.save();
        Other repo = new Other();
        repo.save();
    }
    void pick(Object o) {
        switch (o) {
            case Other repo -> repo.close();
            default -> {}
        }
    }
}
"""
    project(
        workspace,
        {
            "p/Repo.java": "package p;\npublic class Repo { void save() {} void close() {} }\n",
            "p/Other.java": "package p;\npublic class Other { void save() {} void close() {} }\n",
            "p/Service.java": service,
            "src/db.ts": "export class Client {\n  close(): void {}\n}\n"
            "export const client = new Client();\n",
            "src/mock.ts": "export class Mock {\n  close(): void {}\n}\n",
            "src/app.ts": (
                'import { client } from "./db";\nimport { Mock } from "./mock";\n'
                "export function go(flag: boolean): void {\n"
                "  if (flag) {\n    const client = new Mock();\n    client.close();\n  }\n"
                "  client.close();\n}\n"
            ),
        },
    )
    found = calls_by_line(workspace)
    assert found[("p.Service.run", 6)] == ("Other.close", "p.Other.close")
    assert found[("p.Service.run", 8)][1] != "p.Other.close"  # outside the for
    assert found[("p.Service.later", 11)][1] != "p.Other.save"  # before the local
    assert found[("p.Service.later", 13)] == ("Other.save", "p.Other.save")
    assert found[("p.Service.pick", 17)] == ("Other.close", "p.Other.close")  # a case pattern
    assert found[("src/app.go", 6)] == ("Mock.close", "src/mock.Mock.close")
    assert found[("src/app.go", 8)][1] != "src/mock.Mock.close"


def test_a_type_declared_in_the_function_or_written_global_types_nothing(
    workspace: Path,
) -> None:
    """A C++ class or Go type declared inside the function hides the outer one of its
    name, and C++ ``::Circle`` is not ``Circle`` as seen from a namespace: neither
    types a local. A Rust struct of an inline module gives no field type to a bare
    name at the top (``c: &Client`` is the imported one); a Rust ``cache::helper()``
    is a path, not the local ``cache``."""
    project(
        workspace,
        {
            "a.cpp": (
                "struct Circle { double area() const { return 1; } };\n"
                "void localClass() {\n"
                "  struct Circle { double area() const { return 2; } };\n"
                "  Circle c;\n  c.area();\n}\n"
                "namespace geo { struct Circle { double area() const { return 3; } };\n"
                " void inGeo() { ::Circle d; d.area(); }\n}\n"
            ),
            "go.mod": "module example.com/lt\n\ngo 1.21\n",
            "main.go": (
                "package main\n\ntype Logger struct{}\n\nfunc (l *Logger) Log() {}\n\n"
                "func run() {\n\ttype Logger struct{}\n\tvar l Logger\n\tl.Log()\n}\n"
            ),
            "Cargo.toml": '[package]\nname = "lt"\n',
            "src/client.rs": (
                "pub struct Http;\nimpl Http {\n    pub fn send(&self) {}\n}\n"
                "pub struct Client {\n    pub http: Http,\n}\n"
            ),
            "src/lib.rs": (
                "pub mod client;\nuse crate::client::Client;\n"
                "pub fn ping(c: &Client, cache: &Client) {\n    c.http.send();\n"
                "    cache::helper();\n}\n"
                "pub mod cache {\n    pub fn helper() {}\n}\n"
                "mod tests {\n    pub struct FakeHttp;\n    impl FakeHttp {\n"
                "        pub fn send(&self) {}\n    }\n"
                "    pub struct Client {\n        pub http: FakeHttp,\n    }\n}\n"
            ),
        },
    )
    found = calls_by_line(workspace)
    assert found[("localClass", 5)] == ("c.area", None)
    assert found[("geo::inGeo", 8)] == ("d.area", None)
    assert found[("run", 10)] == ("l.Log", None)
    assert found[("crate::ping", 4)][1] != "crate::tests::FakeHttp::send"
    assert found[("crate::ping", 5)] == ("cache::helper", "crate::cache::helper")


def test_a_platform_type_is_never_a_workspace_class_of_its_name(workspace: Path) -> None:
    """``el: Node`` in TypeScript is the DOM's ``Node`` and ``Module`` in Java is
    ``java.lang.Module``: a workspace class of that name, not imported, is not the
    target of a call through them."""
    project(
        workspace,
        {
            "src/tree.ts": "export class Node {\n  appendChild(): void {}\n}\n",
            "src/mount.ts": "export function mount(el: Node): void {\n  el.appendChild();\n}\n",
            "com/app/model/Module.java": (
                "package com.app.model;\npublic class Module { public String getName() "
                '{ return ""; } }\n'
            ),
            "com/app/Boot.java": (
                "package com.app;\npublic class Boot {\n"
                "    void f(Class<?> c) { Module m = c.getModule(); m.getName(); }\n}\n"
            ),
        },
    )
    found = calls_by_line(workspace)
    assert found[("src/mount.mount", 2)] == ("Node.appendChild", None)
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    bound = conn.execute(
        "SELECT target_id FROM edges WHERE target_text = 'Module.getName'"
    ).fetchall()
    conn.close()
    assert bound == [(None,)]


def test_go_calls_through_a_typed_receivers_field_bind_the_fields_method(
    workspace: Path,
) -> None:
    """``s.repo.Save()`` in a method of ``Service`` whose struct (in the same file)
    declares ``repo *Repo`` is ``Repo.Save``; so is ``s.Repo.Save()`` through an
    embedded ``Repo``. A field of a type parameter, or a struct of another file,
    stays as written."""
    edges = project(
        workspace,
        {
            "go.mod": "module example.com/gf\n\ngo 1.21\n",
            "app/repo.go": (
                "package app\n\ntype Repo struct{}\n\nfunc (r *Repo) Save() {}\n\n"
                "type Far struct{ repo *Repo }\n"
            ),
            "app/service.go": (
                "package app\n\n"
                "type Service struct {\n\trepo *Repo\n\tRepo\n}\n\n"
                "func (s *Service) Run() {\n\ts.repo.Save()\n\ts.Repo.Save()\n}\n\n"
                "type Box[T any] struct{ v T }\n\n"
                "func (b Box[T]) Go() {\n\tb.v.Save()\n}\n\n"
                "func (f *Far) Go() {\n\tf.repo.Save()\n}\n"
            ),
        },
    )
    assert edges[("app.Service.Run", "Repo.Save")] == ("app.Repo.Save", "package", None, 1)
    assert edges[("app.Box.Go", "Box.v.Save")][0] is None
    assert edges[("app.Far.Go", "Far.repo.Save")][0] is None  # its struct is elsewhere
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    lines = conn.execute("SELECT line FROM edges WHERE target_text = 'Repo.Save' ORDER BY line")
    assert lines.fetchall() == [(9,), (10,)]
    conn.close()


def test_rust_calls_through_typed_locals_bind_the_types_method(workspace: Path) -> None:
    """``repo: &Repo``, ``mut other: Repo``, ``let a: Repo`` and ``let b = Repo { .. }``
    type their locals: ``repo.save()`` is ``Repo::save``. ``let c = Repo::new()``
    (what ``new`` returns is not read), a type parameter and a name bound again
    otherwise stay bound locally."""
    edges = project(
        workspace,
        {
            "Cargo.toml": '[package]\nname = "rt"\n',
            "src/store.rs": (
                "pub struct Repo { pub n: i32 }\nimpl Repo {\n"
                "    pub fn new() -> Repo { Repo { n: 0 } }\n    pub fn save(&self) {}\n}\n"
            ),
            "src/lib.rs": (
                "pub mod store;\nuse store::Repo;\n\n"
                "pub fn run<T: Saver>(repo: &Repo, mut other: Repo, g: T) {\n"
                "    repo.save();\n    other.save();\n"
                "    let a: Repo = Repo::new();\n    a.save();\n"
                "    let b = Repo { n: 1 };\n    b.save();\n"
                "    let c = Repo::new();\n    c.save();\n"
                "    g.save();\n"
                "    let d = Repo { n: 2 };\n    let d = 5;\n    d.save();\n"
                "}\npub trait Saver { fn save(&self); }\n"
            ),
        },
    )
    assert edges[("crate::run", "Repo::save")] == ("crate::store::Repo::save", "import", None, 1)
    for written in ("c.save", "g.save", "d.save"):
        assert edges[("crate::run", written)] == (None, None, None, 0), written
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    typed = conn.execute("SELECT line FROM edges WHERE target_text = 'Repo::save' ORDER BY line")
    assert typed.fetchall() == [(5,), (6,), (8,), (10,)]  # repo, other, a, b
    conn.close()


def test_rust_calls_through_self_or_a_typed_local_s_field_bind_its_method(
    workspace: Path,
) -> None:
    """``self.repo.save()`` in ``impl Service`` with ``struct Service { repo: Repo }``
    in the same file is ``Repo::save``, and so is ``s.repo.save()`` with ``s:
    &Service``; a primitive field (``self.count.max(1)``) stays as written."""
    edges = project(
        workspace,
        {
            "Cargo.toml": '[package]\nname = "rf"\n',
            "src/lib.rs": (
                "pub struct Repo;\nimpl Repo {\n    pub fn save(&self) {}\n}\n"
                "pub struct Service {\n    repo: Repo,\n    count: u32,\n}\n"
                "impl Service {\n    pub fn run(&self) {\n        self.repo.save();\n"
                "        self.count.max(1);\n    }\n}\n"
                "pub fn f(s: &Service) {\n    s.repo.save();\n}\n"
            ),
        },
    )
    assert edges[("crate::Service::run", "Repo::save")] == ("crate::Repo::save", "local", None, 1)
    assert edges[("crate::f", "Repo::save")] == ("crate::Repo::save", "local", None, 1)
    assert edges[("crate::Service::run", "self.count.max")][0] is None


def test_cpp_calls_through_typed_locals_bind_the_class_member(workspace: Path) -> None:
    """``const Circle& a``, ``Circle* b``, ``Circle c`` and ``geo::Circle d`` type
    their names: ``a.area()``/``b->area()`` are ``Circle::area``. An array, a
    template parameter, ``auto`` and a C struct stay as written."""
    edges = project(
        workspace,
        {
            "shapes.hpp": (
                "namespace geo {\nclass Circle {\n public:\n"
                "  double area() const { return 1; }\n};\n}\n"
            ),
            "main.cpp": (
                '#include "shapes.hpp"\nusing geo::Circle;\n'
                "template <typename T>\n"
                "double total(const Circle& a, Circle* b, Circle cs[], T t) {\n"
                "  Circle c;\n  geo::Circle d;\n  auto e = c;\n"
                "  return a.area() + b->area() + c.area() + d.area() + cs[0].area()"
                " + t.area() + e.area();\n}\n"
            ),
            "plain.c": "struct S { int (*f)(void); };\nint g(struct S s) { return s.f(); }\n",
        },
    )
    assert edges[("total", "Circle::area")] == ("geo::Circle::area", "import", None, 1)
    assert edges[("total", "geo::Circle::area")][0] == "geo::Circle::area"
    for written in ("cs[0].area", "t.area", "e.area"):
        assert edges[("total", written)][0] is None, written
    assert edges[("g", "s.f")][0] is None
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    columns = conn.execute(
        "SELECT column FROM edges WHERE target_text = 'Circle::area' ORDER BY column"
    ).fetchall()
    conn.close()
    assert columns == [(9,), (20,), (32,)]  # a, b, c


def test_java_inherited_member_from_two_bases_is_the_most_specific_or_ambiguous(
    workspace: Path,
) -> None:
    """Every base is searched: a sub-interface's default overrides its parent's,
    a superclass method beats an interface default, and two unrelated defaults
    are an ambiguity at ``self`` — never the first base's."""
    edges = project(
        workspace,
        {
            "p/I.java": "package p;\ninterface I { default void f() {} }\n",
            "p/J.java": "package p;\ninterface J extends I { default void f() {} }\n",
            "p/K.java": "package p;\ninterface K { default void f() {} }\n",
            "p/A.java": "package p;\nclass A implements I {}\n",
            "p/S.java": "package p;\nclass S { public void f() {} }\n",
            "p/C.java": "package p;\nclass C implements I, J { void g() { f(); this.f(); } }\n",
            "p/E.java": "package p;\nclass E extends A implements J { void g() { f(); } }\n",
            "p/T.java": "package p;\nclass T extends S implements K { void g() { f(); } }\n",
            "p/U.java": "package p;\nclass U implements I, K { void g() { f(); } }\n",
        },
    )
    assert edges[("p.C.g", "f")] == ("p.J.f", "self", None, 1)  # both edges: one key
    assert edges[("p.E.g", "f")] == ("p.J.f", "self", None, 1)
    assert edges[("p.T.g", "f")] == ("p.S.f", "self", None, 1)
    assert edges[("p.U.g", "f")] == (None, None, "self", 2)


def test_java_class_scope_with_inherited_members_comes_before_outer_scopes(
    workspace: Path,
) -> None:
    """The innermost class whose scope — own or inherited — has ``m`` binds it:
    an inner class's base before the outer class's own method."""
    edges = project(
        workspace,
        {
            "p/Base.java": "package p;\nclass Base { void m() {} }\n",
            "p/Outer.java": (
                "package p;\nclass Outer {\n    void m() {}\n"
                "    class Inner extends Base { void go() { m(); } }\n"
                "    class Plain { void go() { m(); } }\n}\n"
            ),
        },
    )
    assert edges[("p.Outer.Inner.go", "m")] == ("p.Base.m", "self", None, 1)
    assert edges[("p.Outer.Plain.go", "m")] == ("p.Outer.m", "local", None, 1)


def test_cpp_class_scope_with_bases_comes_before_namespaces_and_using(workspace: Path) -> None:
    """A base's ``helper``/``log`` hides the file's free ``helper`` and what
    ``using namespace util;`` brings; two bases both giving ``f`` are ambiguous."""
    edges = project(
        workspace,
        {
            "base.hpp": (
                "struct Base {\n    void helper() {}\n    void log() {}\n};\n"
                "struct L { void f() {} };\nstruct R { void f() {} };\n"
            ),
            "util.hpp": "namespace util {\nvoid log() {}\n}\n",
            "d.cpp": (
                '#include "base.hpp"\n#include "util.hpp"\nusing namespace util;\n'
                "void helper() {}\n"
                "struct D : Base {\n    void g() { helper(); log(); }\n};\n"
                "struct Both : L, R {\n    void g() { f(); }\n};\n"
                "void free_fn() { helper(); log(); }\n"
            ),
        },
    )
    assert edges[("D::g", "helper")] == ("Base::helper", "self", None, 1)
    assert edges[("D::g", "log")] == ("Base::log", "self", None, 1)
    assert edges[("Both::g", "f")] == (None, None, "self", 2)
    assert edges[("free_fn", "helper")] == ("helper", "local", None, 1)
    assert edges[("free_fn", "log")] == ("util::log", "import", None, 1)


def test_cpp_class_template_never_binds_a_bare_call_to_a_dependent_base(
    workspace: Path,
) -> None:
    """Two-phase lookup: in ``D<T> : Base<T>`` a bare ``f()`` is looked up where
    ``D`` is defined, never in ``Base<T>``; ``this->f()`` is (at instantiation)."""
    edges = project(
        workspace,
        {
            "base.hpp": "template<typename T> struct Base { void f() {} };\n",
            "util.cpp": "void f() {}\n",
            "d.cpp": (
                '#include "base.hpp"\n'
                "template<typename T> struct D : Base<T> {\n"
                "    void g() { f(); }\n    void h() { this->f(); }\n"
                "    struct In : Base<T> { void k() { f(); } };\n};\n"
                "struct Plain : Base<int> { void g() { f(); } };\n"
            ),
        },
    )
    assert edges[("D::g", "f")] == ("f", "unique", None, 1)
    assert edges[("D::In::k", "f")] == ("f", "unique", None, 1)
    assert edges[("D::h", "f")] == ("Base::f", "self", None, 1)
    assert edges[("Plain::g", "f")] == ("Base::f", "self", None, 1)


@pytest.mark.timeout(120)
def test_incremental_rebinds_a_bare_call_when_a_base_changes_elsewhere(
    workspace: Path,
    snapshot,
    fresh_snapshot,  # noqa: ANN001
) -> None:
    """``Circle extends Mid``; ``Mid``'s file alone switches its base. Nothing
    ``Circle.area``'s ``twice()`` looks up by name changed, yet it binds elsewhere."""
    from edits import apply, assert_same_as_fresh

    files = {
        "Base.java": "package p;\nclass Base {\n    int twice() { return 1; }\n}\n",
        "Other.java": "package p;\nclass Other {\n    int twice() { return 2; }\n}\n",
        "Mid.java": "package p;\nclass Mid extends Base {}\n",
        "Circle.java": "package p;\nclass Circle extends Mid {\n    int area() { return twice(); }\n}\n",
    }
    for rel, text in files.items():
        apply(workspace, ("write", rel, text))
    build_index(workspace)
    for base in ("Other", "Base"):
        apply(workspace, ("write", "Mid.java", f"package p;\nclass Mid extends {base} {{}}\n"))
        build_index(workspace)
        assert_same_as_fresh(workspace, snapshot, fresh_snapshot, f"Mid extends {base}")
        calls = {e[3]: e[8] for e in snapshot(workspace)[1] if e[0] == "calls"}
        assert calls["p.Circle.area"] == f"p.{base}.twice"


def _edges_into(root: Path, path: str) -> int:
    """Resolvable edges written in ``path`` or bound to a symbol of it."""
    conn = sqlite3.connect(root / ".sqry" / "index.db")
    try:
        return conn.execute(
            "SELECT count(*) FROM edges e JOIN files f ON f.id = e.file_id "
            "LEFT JOIN symbols t ON t.id = e.target_id LEFT JOIN files tf ON tf.id = t.file_id "
            "WHERE e.kind != 'contains' AND (f.path = ? OR tf.path = ?)",
            (path, path),
        ).fetchone()[0]
    finally:
        conn.close()


@pytest.mark.timeout(120)
def test_incremental_comment_in_a_base_re_resolves_only_what_pointed_into_it(
    workspace: Path,
    snapshot,
    fresh_snapshot,  # noqa: ANN001
) -> None:
    """Re-parsing ``Base.java`` without changing any class's bases re-resolves
    the edges bound into it (new ids), not the code of its 40 subclasses; a
    real base change in the middle of the chain still rebinds every subclass's
    bare calls (``BuildReport.reresolved`` counts the work)."""
    from edits import apply, assert_same_as_fresh

    methods = "".join(f"    int b{k}() {{ return {k}; }}\n" for k in range(3))
    files = {
        "Base.java": f"package p;\nclass Base {{\n{methods}}}\n",
        "Other.java": f"package p;\nclass Other {{\n{methods}}}\n",
        "Mid.java": "package p;\nclass Mid extends Base {}\n",
    }
    for i in range(40):
        calls = "".join(f"    int m{k}() {{ return m{k + 1}() + {k}; }}\n" for k in range(5))
        files[f"C{i}.java"] = (
            f"package p;\nclass C{i} extends {'Mid' if i % 2 else 'Base'} {{\n{calls}"
            f"    int m5() {{ return b{i % 3}(); }}\n}}\n"
        )
    for rel, text in files.items():
        apply(workspace, ("write", rel, text))
    build_index(workspace)
    pointed_into_base = _edges_into(workspace, "Base.java")
    apply(workspace, ("write", "Base.java", files["Base.java"] + "// a comment\n"))
    report = build_index(workspace)
    assert_same_as_fresh(workspace, snapshot, fresh_snapshot, "comment in Base.java")
    # 20 + 1 'extends Base', 40 inherited calls, Base.java's own edges: not 40 x 7 more
    assert report.reresolved == pointed_into_base
    assert pointed_into_base < 100
    apply(workspace, ("write", "Mid.java", "package p;\nclass Mid extends Other {}\n"))
    report = build_index(workspace)
    assert_same_as_fresh(workspace, snapshot, fresh_snapshot, "Mid extends Other")
    calls = {e[3]: e[8] for e in snapshot(workspace)[1] if e[0] == "calls"}
    assert calls["p.C1.m5"] == "p.Other.b1"
    assert calls["p.C2.m5"] == "p.Base.b2"
    assert report.reresolved >= 20 * 6  # every call inside Mid's 20 subclasses


RUST_OTHER = (
    "use crate::net::connect;\nuse crate::net::deep;\n\n"
    "pub fn o1() -> u8 { connect() }\npub fn o2() -> u8 { crate::net::connect() }\n"
    "pub fn o3() -> u8 { deep::dive() }\n"
)
RUST_INLINE = {
    "src/lib.rs": (
        "pub mod net {\n    pub fn connect() -> u8 { 1 }\n"
        "    pub mod deep {\n        pub fn dive() -> u8 { super::connect() }\n    }\n}\n"
        "pub mod other;\n\npub fn z() -> u8 { net::connect() + crate::net::deep::dive() }\n"
    ),
    "src/other.rs": RUST_OTHER,
}
RUST_FILES = {
    "src/lib.rs": (
        "pub mod net;\npub mod other;\n\n"
        "pub fn z() -> u8 { net::connect() + crate::net::deep::dive() }\n"
    ),
    "src/net/mod.rs": "pub fn connect() -> u8 { 1 }\npub mod deep;\n",
    "src/net/deep.rs": "pub fn dive() -> u8 { super::connect() }\n",
    "src/other.rs": RUST_OTHER,
}


@pytest.mark.parametrize("files", [RUST_INLINE, RUST_FILES], ids=["inline", "files"])
def test_rust_paths_reach_inline_modules_as_file_modules(workspace: Path, files) -> None:  # noqa: ANN001
    """``use`` and call paths reach the items of ``mod net { ... }`` exactly as
    those of ``src/net/mod.rs``; ``crate::``/``super::`` start at the crate root
    and at the parent of the module they are written in (inline or file)."""
    edges = project(workspace, files)
    connect, dive = "crate::net::connect", "crate::net::deep::dive"
    assert edges[("crate::other::o1", "connect")] == (connect, "import", None, 1)
    assert edges[("crate::other::o2", "crate::net::connect")] == (connect, "import", None, 1)
    assert edges[("crate::other::o3", "deep::dive")] == (dive, "import", None, 1)
    via = "local" if files is RUST_INLINE else "import"  # ``mod net;`` binds ``net``
    assert edges[("crate::z", "net::connect")] == (connect, via, None, 1)
    assert edges[("crate::z", "crate::net::deep::dive")] == (dive, "import", None, 1)
    written = "crate::net::connect" if files is RUST_INLINE else "super::connect"  # rust.py
    assert edges[("crate::net::deep::dive", written)] == (connect, "import", None, 1)


def test_rust_pub_use_in_an_inline_module_is_its_reexport(workspace: Path) -> None:
    """``pub mod prelude { pub use crate::shapes::Circle; }``: ``prelude::Circle``
    is ``crate::shapes::Circle``, through ``use`` and paths alike; a ``use`` of the
    file itself (outside the inline module) is not the inline module's."""
    edges = project(
        workspace,
        {
            "src/lib.rs": (
                "pub mod shapes;\npub mod user;\nuse crate::shapes::hidden;\n"
                "pub mod prelude {\n    pub use crate::shapes::Circle;\n"
                "    pub use crate::shapes::area as surface;\n}\n"
            ),
            "src/shapes.rs": (
                "pub struct Circle;\npub fn area() -> f64 { 1.0 }\npub fn hidden() {}\n"
            ),
            "src/user.rs": (
                "use crate::prelude::surface;\n\n"
                "pub fn go() -> crate::prelude::Circle {\n    surface();\n"
                "    crate::prelude::surface();\n    crate::prelude::hidden();\n"
                "    crate::prelude::Circle\n}\n"
            ),
        },
    )
    area = ("crate::shapes::area", "import", None, 1)
    assert edges[("crate::user::go", "surface")] == area
    assert edges[("crate::user::go", "crate::prelude::surface")] == area
    assert edges[("crate::user::go", "crate::prelude::Circle")][:2] == (
        "crate::shapes::Circle",
        "import",
    )
    assert edges[("crate::user::go", "crate::prelude::hidden")][0] is None


def test_rust_glob_use_takes_the_modules_reexports(workspace: Path) -> None:
    """``use crate::prelude::*`` takes what the prelude defines and what it
    re-exports (``pub use``, also ``pub use x::*``), for inline and file modules;
    a ``use`` of the file around an inline module is not the inline module's."""
    edges = project(
        workspace,
        {
            "src/lib.rs": (
                "pub mod util;\npub mod rect;\npub mod extra;\npub mod b;\npub mod user;\n"
                "use crate::util::hidden;\n"
                "pub mod prelude {\n    pub use crate::util::double;\n"
                "    pub use crate::extra::*;\n    pub fn own() {}\n}\n"
            ),
            "src/util.rs": "pub fn double() {}\npub fn hidden() {}\n",
            "src/rect.rs": "pub fn double() {}\n",
            "src/extra.rs": "pub fn more() {}\n",
            "src/b.rs": "pub use crate::util::double as twin;\n",
            "src/user.rs": (
                "use crate::prelude::*;\nuse crate::b::*;\n"
                "pub fn run() {\n    double();\n    own();\n    more();\n"
                "    twin();\n    hidden();\n}\n"
            ),
        },
    )
    run = "crate::user::run"
    double = ("crate::util::double", "import", None, 1)
    assert edges[(run, "double")] == double
    assert edges[(run, "twin")] == double
    assert edges[(run, "own")] == ("crate::prelude::own", "import", None, 1)
    assert edges[(run, "more")] == ("crate::extra::more", "import", None, 1)
    assert edges[(run, "hidden")][:2] == ("crate::util::hidden", "unique")


def test_cpp_out_of_class_member_of_a_nested_class_sees_the_enclosing_class(
    workspace: Path,
) -> None:
    """``int Outer::In::port() const { ... }`` in a ``.cpp``: its body sees
    ``In``'s members, then ``Outer``'s, as the class body itself would."""
    edges = project(
        workspace,
        {
            "a.hpp": (
                "namespace ns {\nstruct Outer {\n"
                "    struct In { static In mk(); int port() const; static int base() { return 1; } };\n"
                "    static int top() { return 2; }\n};\n}\n"
            ),
            "a.cpp": (
                '#include "a.hpp"\nnamespace ns {\n'
                "Outer::In Outer::In::mk() { return In(); }\n"
                "int Outer::In::port() const { return base() + top(); }\n}\n"
            ),
        },
    )
    assert edges[("ns::Outer::In::mk", "In")] == ("ns::Outer::In", "local", None, 1)
    assert edges[("ns::Outer::In::port", "base")] == ("ns::Outer::In::base", "local", None, 1)
    assert edges[("ns::Outer::In::port", "top")] == ("ns::Outer::top", "local", None, 1)


def test_rust_rooted_paths_and_uses_stay_in_their_crate(workspace: Path) -> None:
    """Both crates of a workspace name their modules ``crate::util``: a
    ``super::``/``crate::`` path or ``use`` written in ``b`` binds ``b``'s, never
    the first by path (``a``'s)."""
    helper = "pub fn helper() -> u8 { 1 }\n"
    files = {f"{c}/src/lib.rs": "pub mod util;\n" for c in "ab"}
    files |= {f"{c}/src/util.rs": helper for c in "ab"}
    files["b/src/util.rs"] = helper + (
        "pub fn g() -> u8 { super::util::helper() + crate::util::helper() }\n"
    )
    files["b/src/lib.rs"] = (
        "pub mod util;\nuse crate::util::helper;\nuse crate::util;\n"
        "pub fn top() -> u8 { helper() + util::helper() }\n"
    )
    project(workspace, files)
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    found = conn.execute(
        "SELECT e.target_text, tf.path FROM edges e JOIN files f ON f.id = e.file_id "
        "LEFT JOIN symbols t ON t.id = e.target_id LEFT JOIN files tf ON tf.id = t.file_id "
        "WHERE e.kind IN ('calls', 'imports') AND f.path LIKE 'b/%' ORDER BY 1"
    ).fetchall()
    conn.close()
    assert len(found) == 7
    assert {path for _, path in found} == {"b/src/util.rs"}, found


@pytest.mark.timeout(120)
def test_incremental_follows_a_rust_module_moving_inline_and_back(
    workspace: Path,
    snapshot,
    fresh_snapshot,  # noqa: ANN001
) -> None:
    from edits import apply, assert_same_as_fresh

    for rel, text in RUST_FILES.items():
        apply(workspace, ("write", rel, text))
    build_index(workspace)
    dive = "crate::net::deep::dive"
    steps = [  # (operation, what ``deep::dive()`` in other.rs binds after it)
        (("write", "src/lib.rs", RUST_INLINE["src/lib.rs"]), dive),
        (("delete", "src/net/deep.rs", ""), dive),
        (("delete", "src/net/mod.rs", ""), dive),  # inline only
        (("write", "src/lib.rs", RUST_FILES["src/lib.rs"]), None),  # `mod net;`, no file
        (("write", "src/net/mod.rs", RUST_FILES["src/net/mod.rs"]), None),
        (("write", "src/net/deep.rs", RUST_FILES["src/net/deep.rs"]), dive),
    ]
    for op, expected in steps:
        apply(workspace, op)
        build_index(workspace)
        assert_same_as_fresh(workspace, snapshot, fresh_snapshot, f"{op[0]} {op[1]}")
        calls = {(e[3], e[11]): e[8] for e in snapshot(workspace)[1] if e[0] == "calls"}
        assert calls["crate::other::o3", "deep::dive"] == expected, f"{op[0]} {op[1]}"


def test_builtins_locals_and_external_modules_never_bind_elsewhere(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "shadow.py": "def len(x):\n    pass\n\ndef cb():\n    pass\n\ndef join():\n    pass\n",
            "main.py": (
                "import os\nfrom os.path import join as pjoin\n\n"
                "def run(cb):\n    len([])\n    cb()\n    os.getcwd()\n    pjoin()\n"
            ),
        },
    )
    assert edges[("main.run", "len")] == (None, None, None, 0)
    assert edges[("main.run", "cb")] == (None, None, None, 0)
    assert edges[("main.run", "os.getcwd")] == (None, None, None, 0)
    assert edges[("main.run", "pjoin")] == (None, None, None, 0)


def test_external_star_import_stops_guessing(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "lib.py": "def unique_name():\n    pass\n",
            "main.py": "from os import *\n\ndef run():\n    unique_name()\n",
            "sub/plain.py": "def run():\n    unique_name()\n",
        },
    )
    assert edges[("main.run", "unique_name")] == (None, None, None, 0)
    assert edges[("sub.plain.run", "unique_name")] == ("lib.unique_name", "unique", None, 1)


def test_redefinitions_with_one_qualified_name_are_one_candidate(workspace: Path) -> None:
    """Two ``def where`` of one module are one candidate; in Python the later
    one binds (``LanguageSpec.later_definition_wins``): a later ``def``
    replaces an earlier one, and an ``@overload`` stub's implementation is last."""
    edges = project(
        workspace,
        {
            "compat.py": (
                "import sys\n\nif sys.platform == 'win32':\n    def where():\n        pass\n"
                "else:\n    def where():\n        pass\n"
            ),
            "main.py": "from compat import where\n\ndef run():\n    where()\n",
        },
    )
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    bound_line = conn.execute(
        "SELECT t.start_line FROM edges e JOIN symbols t ON t.id = e.target_id "
        "WHERE e.target_text = 'where' AND e.kind = 'calls'"
    ).fetchone()
    assert edges[("main.run", "where")] == ("compat.where", "import", None, 1)
    assert bound_line == (7,)


def test_a_name_imports_bind_to_different_modules_is_ambiguous(workspace: Path) -> None:
    """``os.py`` binds ``path`` to ``posixpath`` or ``ntpath`` by platform: a
    reference through it (in ``os.py``, or ``os.path.join`` elsewhere) binds
    neither; two imports binding one module (``import a as m`` twice, written
    otherwise) still bind it."""
    edges = project(
        workspace,
        {
            "posixpath.py": "def join(a, b):\n    return a\n",
            "ntpath.py": "def join(a, b):\n    return b\n",
            "osx.py": (
                "import sys\n\nif sys.platform == 'win32':\n    import ntpath as path\n"
                "else:\n    import posixpath as path\n\n"
                "def here():\n    return path.join('a', 'b')\n"
            ),
            "pkg/__init__.py": "",
            "pkg/tool.py": "def join(a, b):\n    return a\n",
            "pkg/same.py": (
                "try:\n    import pkg.tool as pp\nexcept ImportError:\n"
                "    from . import tool as pp\n\ndef there():\n    return pp.join('a', 'b')\n"
            ),
            "user.py": "import osx\n\ndef run():\n    return osx.path.join('x', 'y')\n",
        },
    )
    assert edges[("osx.here", "path.join")] == (None, None, "import", 2)
    assert edges[("user.run", "osx.path.join")][0] is None
    assert edges[("pkg.same.there", "pp.join")] == ("pkg.tool.join", "import", None, 1)


def test_chains_through_modules_classes_and_bases(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "pkg/__init__.py": "",
            "pkg/base.py": "class Base:\n    def create(self):\n        pass\n",
            "pkg/impl.py": "from .base import Base\n\nclass Impl(Base):\n    pass\n",
            "main.py": (
                "import pkg.impl\nfrom pkg import impl as alias\n\n"
                "def run():\n    pkg.impl.Impl.create(None)\n    alias.Impl.create(None)\n"
                "    alias.Nope.create()\n"
            ),
        },
    )
    assert edges[("main.run", "pkg.impl.Impl.create")] == (
        "pkg.base.Base.create",
        "import",
        None,
        1,
    )
    assert edges[("main.run", "alias.Impl.create")] == ("pkg.base.Base.create", "import", None, 1)
    assert edges[("main.run", "alias.Nope.create")] == (None, None, None, 0)


# -- what the facts say wins over what the path suggests ----------------------


def test_java_files_are_stored_under_their_declared_package(workspace: Path) -> None:
    """The path guesses ``odd`` and ``elsewhere``; the package clauses decide."""
    edges = project(
        workspace,
        {
            "odd/Shape.java": "package com.acme.model;\n\npublic class Shape {}\n",
            "elsewhere/Circle.java": (
                "package com.acme.model;\n\npublic class Circle extends Shape {}\n"
            ),
            "app/App.java": (
                "package com.acme.app;\n\nimport com.acme.model.Shape;\n\n"
                "class App {\n    Shape make() { return null; }\n}\n"
            ),
        },
    )
    assert edges[("com.acme.model.Circle", "Shape")] == (
        "com.acme.model.Shape",
        "package",
        None,
        1,
    )
    assert edges[("com.acme.app.App.make", "Shape")] == ("com.acme.model.Shape", "import", None, 1)
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    modules = dict(conn.execute("SELECT path, module FROM files"))
    conn.close()
    assert modules["odd/Shape.java"] == "com.acme.model"


HEADER = "#pragma once\nnamespace geo {\nclass Shape {\npublic:\n    int id() const { return 1; }\n"
HEADER += "};\ninline int helper() { return 1; }\n}\n"


def test_cpp_header_is_stored_and_resolved_as_cpp(workspace: Path) -> None:
    """A ``.h`` the C grammar cannot read is C++: stored so, resolved with ``::``,
    and not re-parsed by the next build just because discovery calls ``.h`` C."""
    edges = project(
        workspace,
        {"geo.h": HEADER, "main.cpp": '#include "geo.h"\n\nint main() { return geo::helper(); }\n'},
    )
    assert edges[("main", "geo::helper")] == ("geo::helper", "unique", None, 1)
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    languages = dict(conn.execute("SELECT path, language FROM files"))
    symbol_languages = {r[0] for r in conn.execute("SELECT DISTINCT language FROM symbols")}
    conn.close()
    assert languages == {"geo.h": "cpp", "main.cpp": "cpp"}
    assert symbol_languages == {"cpp"}
    assert build_index(workspace).changed == 0


# -- the package rule, per language -------------------------------------------


def test_java_sibling_packages_are_not_visible_without_import(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "com/acme/a/A.java": "package com.acme.a;\n\nclass A {\n    void f() { new B(); }\n}\n",
            "com/acme/b/B.java": "package com.acme.b;\n\nclass B {}\n",
            "org/other/B.java": "package org.other;\n\nclass B {}\n",
        },
    )
    assert edges[("com.acme.a.A.f", "B")] == (None, None, "unique", 2)


def test_go_package_is_the_directory(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "go.mod": "module example.com/m\n",
            "store/a.go": "package store\n\nfunc Use() {\n\thelper()\n}\n",
            "store/b.go": "package store\n\nfunc helper() {}\n",
            "other/c.go": "package other\n\nfunc helper() {}\n",
        },
    )
    assert edges[("store.Use", "helper")] == ("store.helper", "package", None, 1)


def test_javascript_has_no_package_rule(workspace: Path) -> None:
    """A module sees what it imports; the rest is a `unique` guess, never `package`."""
    edges = project(
        workspace,
        {
            "src/a.js": "function run() {\n  helper();\n  only();\n}\n",
            "src/b.js": "export function helper() {}\nexport function only() {}\n",
            "lib/c.js": "export function helper() {}\n",
        },
    )
    assert edges[("src/a.run", "helper")] == (None, None, "unique", 2)
    assert edges[("src/a.run", "only")] == ("src/b.only", "unique", None, 1)


# -- names, namespaces, members ------------------------------------------------


def test_javascript_dollar_names_resolve(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "src/dom.js": "export function $q(sel) {}\n",
            "src/app.js": 'import { $q } from "./dom";\n\nfunction run() {\n  $q("x");\n}\n',
        },
    )
    assert edges[("src/app.run", "$q")] == ("src/dom.$q", "import", None, 1)


def test_cpp_type_edges_skip_the_constructor_named_like_the_class(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "circle.hpp": (
                "namespace geo {\nclass Circle {\npublic:\n    Circle(double r) : r_(r) {}\n"
                "    Circle twice() const { return Circle(r_ * 2); }\nprivate:\n"
                "    double r_;\n};\n}\n"
            )
        },
    )
    del edges  # the call and the return type share source and text: look at both
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    found = conn.execute(
        "SELECT e.kind, t.qualified_name, t.kind, e.resolved_via FROM edges e "
        "JOIN symbols t ON t.id = e.target_id WHERE e.target_text = 'Circle' "
        "AND e.kind != 'contains' ORDER BY e.kind"
    ).fetchall()
    conn.close()
    # the call `Circle(...)` does call the constructor; the return type is the class
    assert found == [
        ("calls", "geo::Circle::Circle", "method", "local"),
        ("returns", "geo::Circle", "class", "local"),
    ]


def test_cpp_namespace_members_and_using_namespace(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "a.hpp": "namespace ns {\nint f() { return 1; }\n}\n",
            "b.hpp": "namespace ns {\nint g() { return f(); }\n}\nnamespace other {\nint f();\n}\n",
            "main.cpp": (
                '#include "a.hpp"\n#include "b.hpp"\nusing namespace ns;\nusing namespace std;\n\n'
                "int main() { return g() + ns::f(); }\n"
            ),
        },
    )
    assert edges[("ns::g", "f")] == ("ns::f", "package", None, 1)
    assert edges[("main", "g")] == ("ns::g", "import", None, 1)
    assert edges[("main", "ns::f")] == ("ns::f", "import", None, 1)


# -- incremental builds see the new lookups ------------------------------------


def _same_as_fresh(root: Path, snapshot, fresh_snapshot) -> None:  # noqa: ANN001
    incremental, fresh = snapshot(root), fresh_snapshot(root)
    assert incremental[0] == fresh[0]
    missing, extra = fresh[1] - incremental[1], incremental[1] - fresh[1]
    assert not missing and not extra, f"only fresh: {sorted(missing)}\nonly incr: {sorted(extra)}"


GO_STEPS = [
    ("store/store.go", "package store\n\ntype Base struct{}\n\ntype Store struct {\n\tBase\n}\n"),
    ("store/log.go", "package store\n\nfunc (s *Store) log() {\n\ts.Rename()\n}\n"),
    ("store/base.go", "package store\n\nfunc (b *Base) Rename() {}\n"),
    ("store/store.go", "package store\n\ntype Base struct{}\n\ntype Store struct{}\n"),
    ("store/store.go", "package store\n\ntype Base struct{}\n\ntype Store struct {\n\tBase\n}\n"),
    ("store/rename.go", "package store\n\nfunc (s *Store) Rename() {}\n"),
    ("store/store.go", "package store\n\ntype Base struct{}\n"),
]

CPP_STEPS = [
    ("shapes.hpp", "namespace geo {\nclass Shape {\npublic:\n    int name() { return describe(); }\n};\n}\n"),
    ("shapes.cpp", '#include "shapes.hpp"\nnamespace geo {\nint Shape::describe() { return 1; }\n}\n'),
    ("main.cpp", '#include "shapes.hpp"\nusing namespace geo;\nint main() { return Shape().name(); }\n'),
    ("more.hpp", "namespace geo {\nclass Circle : public Shape {};\n}\n"),
    ("shapes.cpp", '#include "shapes.hpp"\nnamespace geo {\nint Shape::other() { return 1; }\n}\n'),
    ("shapes.hpp", "namespace geom {\nclass Shape {\npublic:\n    int name() { return describe(); }\n};\n}\n"),
]  # fmt: skip


@pytest.mark.timeout(300)
@pytest.mark.parametrize("steps", [GO_STEPS, CPP_STEPS], ids=["go", "cpp"])
def test_incremental_equals_fresh_for_adopted_members_and_namespaces(
    steps,
    workspace: Path,
    snapshot,
    fresh_snapshot,  # noqa: ANN001
) -> None:
    (workspace / "go.mod").write_text("module example.com/m\n")
    for rel, text in steps:
        path = workspace / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        build_index(workspace)
        _same_as_fresh(workspace, snapshot, fresh_snapshot)


@pytest.mark.timeout(120)
def test_incremental_sees_the_module_behind_an_import_alias_vanish(
    workspace: Path,
    snapshot,
    fresh_snapshot,  # noqa: ANN001
) -> None:
    """``a.Base`` goes through ``from . import a``; without ``pkg/__init__.py``
    there is no package ``pkg`` for that import to name any more."""
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "__init__.py").write_text("")
    (workspace / "pkg" / "a.py").write_text(
        "from . import a\n\nclass Child(a.Base):\n    pass\n\nclass Base:\n    pass\n"
    )
    build_index(workspace)
    (workspace / "pkg" / "__init__.py").unlink()
    build_index(workspace)
    _same_as_fresh(workspace, snapshot, fresh_snapshot)


# -- forked resolution (full builds with several workers)

FIXTURES = Path(__file__).parent / "fixtures"


def _all_fixtures(dest: Path) -> None:
    """Every language fixture project side by side: many edges of every rule."""
    import shutil

    for language in sorted(p.name for p in FIXTURES.iterdir()):
        shutil.copytree(FIXTURES / language, dest / language)


@pytest.mark.timeout(120)
def test_forked_resolution_equals_in_process(workspace: Path, snapshot, monkeypatch) -> None:
    """Tiny batches force several forked children; the answers must not change."""
    from sqry.graph import resolve

    _all_fixtures(workspace)
    build_index(workspace, force=True, workers=1)
    alone = snapshot(workspace)
    forks = []
    real_fork = resolve._Child.fork
    monkeypatch.setattr(resolve, "BATCH", 7)
    monkeypatch.setattr(
        resolve._Child, "fork", staticmethod(lambda *a: forks.append(1) or real_fork(*a))
    )
    build_index(workspace, force=True, workers=3)
    assert len(forks) == 3
    assert snapshot(workspace) == alone


@pytest.mark.timeout(120)
def test_refused_fork_resolves_in_process_and_leaks_nothing(
    workspace: Path, snapshot, monkeypatch
) -> None:
    """EAGAIN from fork (a process limit) costs parallelism, not the build."""
    import os

    from sqry.graph import resolve

    class NoFork:
        def __getattr__(self, name: str):  # noqa: ANN204
            return getattr(os, name)

        @staticmethod
        def fork() -> int:
            raise BlockingIOError(11, "Resource temporarily unavailable")

    _all_fixtures(workspace)
    build_index(workspace, force=True, workers=1)
    alone = snapshot(workspace)
    monkeypatch.setattr(resolve, "BATCH", 7)
    monkeypatch.setattr(resolve, "os", NoFork())
    fds = len(os.listdir("/proc/self/fd"))
    build_index(workspace, force=True, workers=2)
    assert len(os.listdir("/proc/self/fd")) == fds
    assert snapshot(workspace) == alone


@pytest.mark.timeout(120)
def test_failed_resolution_child_is_redone_in_process(
    workspace: Path, snapshot, monkeypatch
) -> None:
    """A child that dies (here: raises in every batch) costs time, not answers."""
    import os

    from sqry.graph import resolve

    _all_fixtures(workspace)
    build_index(workspace, force=True, workers=1)
    alone = snapshot(workspace)
    parent = os.getpid()
    real_batch = resolve._resolve_batch
    redone = []  # batches the parent resolved itself (it only does for a failed child)

    def failing_in_children(resolver, batch):  # noqa: ANN001, ANN202
        if os.getpid() != parent:
            raise RuntimeError("simulated crash of a resolution child")
        redone.append(len(batch))
        return real_batch(resolver, batch)

    monkeypatch.setattr(resolve, "BATCH", 7)
    monkeypatch.setattr(resolve, "_resolve_batch", failing_in_children)
    build_index(workspace, force=True, workers=2)
    assert len(redone) >= 2
    assert snapshot(workspace) == alone


def test_c_include_does_not_make_the_header_stem_a_qualifier(workspace: Path) -> None:
    """``#include "log.h"`` binds no name: a call ``log()`` must still resolve
    (``log.h`` split on C's separator must not make ``log`` a module prefix)."""
    edges = project(
        workspace,
        {
            "log.h": "void log(int level);\n",
            "log.c": '#include "log.h"\nvoid log(int level) {}\n',
            "main.c": '#include "log.h"\nint main(void) {\n    log(1);\n    return 0;\n}\n',
        },
    )
    assert edges[("main", "log")] == ("log", "unique", None, 1)


def test_python_star_import_reexports_public_names(workspace: Path) -> None:
    """``from .impl import *`` in a package makes its public names the package's
    (as ``os.path.exists`` is ``genericpath.exists``); ``_private`` ones stay out."""
    edges = project(
        workspace,
        {
            "pkg/__init__.py": "from .impl import *\n",
            "pkg/impl.py": "def alpha():\n    pass\n\ndef _hidden():\n    pass\n",
            "main.py": "import pkg\n\ndef run():\n    pkg.alpha()\n    pkg._hidden()\n",
        },
    )
    assert edges[("main.run", "pkg.alpha")] == ("pkg.impl.alpha", "import", None, 1)
    assert edges[("main.run", "pkg._hidden")] == (None, None, None, 0)


def test_calls_through_instance_attributes_of_known_type(workspace: Path) -> None:
    """``self.repo.save()`` binds ``Repo.save`` when the class fixes the type of
    ``self.repo``: an annotation (class body, ``self.x: T``, an annotated
    parameter assigned), or every non-``None`` value constructed from one class.
    Disagreeing or unknown values (a factory parameter, a function's result, two
    classes) leave the call as it was: through a local, unresolved."""
    edges = project(
        workspace,
        {
            "models.py": (
                "class Repo:\n    def save(self, item):\n        pass\n\n"
                "    def load(self):\n        pass\n\n"
                "class Cache:\n    def get(self):\n        pass\n\n"
                "def make_repo():\n    return Repo()\n"
            ),
            "service.py": (
                "from models import Repo, Cache, make_repo\nimport models\n\n"
                "class Service:\n    cache: Cache\n\n"
                "    def __init__(self, repo: Repo, factory):\n"
                "        self.repo = repo\n        self.backup = models.Repo()\n"
                "        self.made = make_repo()\n        self.other = factory()\n"
                "        self.lazy = None\n        self.changing = Repo()\n\n"
                "    def reset(self):\n        self.lazy = Cache()\n"
                "        self.changing = Cache()\n\n"
                "    def run(self, item):\n        self.repo.save(item)\n"
                "        self.backup.load()\n        self.cache.get()\n"
                "        self.made.save(item)\n        self.other.save(item)\n"
                "        self.lazy.get()\n        self.changing.get()\n\n"
                "        def inner():\n            self.repo.load()\n        inner()\n"
            ),
        },
    )
    run = "service.Service.run"
    assert edges[(run, "Repo.save")] == ("models.Repo.save", "import", None, 1)
    assert edges[(run, "models.Repo.load")] == ("models.Repo.load", "import", None, 1)
    assert edges[(run, "Cache.get")] == ("models.Cache.get", "import", None, 1)  # cache, lazy
    assert edges[(f"{run}.inner", "Repo.load")] == ("models.Repo.load", "import", None, 1)
    for written in ("self.made.save", "self.other.save", "self.changing.get"):
        assert edges[(run, written)] == (None, None, None, 0), written


def test_a_subclass_does_not_type_what_its_bases_may_assign(workspace: Path) -> None:
    """Graph reviewer's case: ``T.__init__`` sets ``self.repo = Repo()``, its
    subclass ``U`` sets ``Other()`` in ``reset``: in ``U.go`` the attribute is
    either, so no edge (it was bound to ``Other.save``). A subclass's own
    ``__init__`` or a class-body annotation still fixes the type."""
    edges = project(
        workspace,
        {
            "base.py": "class T:\n    def __init__(self):\n        self.repo = Repo()\n",
            "m.py": (
                "from base import T\n\n"
                "class Repo:\n    def save(self):\n        pass\n\n"
                "class Other:\n    def save(self):\n        pass\n\n"
                "class U(T):\n    def go(self):\n        self.repo.save()\n\n"
                "    def reset(self):\n        self.repo = Other()\n\n"
                "class V(T):\n    def __init__(self):\n        super().__init__()\n"
                "        self.repo = Other()\n\n    def go(self):\n        self.repo.save()\n\n"
                "class W(T):\n    repo: Repo\n\n    def go(self):\n        self.repo.save()\n\n"
                "class Plain:\n    def reset(self):\n        self.repo = Other()\n\n"
                "    def go(self):\n        self.repo.save()\n"
            ),
        },
    )
    assert edges[("m.U.go", "self.repo.save")] == (None, None, None, 0)
    assert edges[("m.V.go", "Other.save")] == ("m.Other.save", "local", None, 1)
    assert edges[("m.W.go", "Repo.save")] == ("m.Repo.save", "local", None, 1)
    assert edges[("m.Plain.go", "Other.save")] == ("m.Other.save", "local", None, 1)


def test_calls_on_locals_of_known_type(workspace: Path) -> None:
    """``repo.save()`` on a local binds ``Repo.save`` when every binding of
    ``repo`` in its function agrees on the type: an annotated parameter (also
    ``"Cache"``, ``Repo | None``), ``x: T = ...``, or values all built by one
    class (``None`` aside; a closure sees its function's). An unannotated
    parameter, a loop variable, a factory's result, two classes or a tuple
    assignment keep the call bound to a local, unresolved."""
    edges = project(
        workspace,
        {
            "models.py": (
                "class Repo:\n    def save(self, item):\n        pass\n\n"
                "    def load(self):\n        pass\n\n"
                "class Cache:\n    def get(self):\n        pass\n\n"
                "def make_repo():\n    return Repo()\n"
            ),
            "local.py": (
                "from models import Repo, Cache, make_repo\n\n"
                "def plain(item):\n    repo = Repo()\n    repo.save(item)\n"
                "    made = make_repo()\n    made.save(item)\n\n"
                'def typed(repo: Repo, cache: "Cache", other, opt: Repo | None = None):\n'
                "    repo.load()\n    cache.get()\n    other.get()\n    opt.save(1)\n"
                "    for each in []:\n        each.load()\n\n"
                "def reassigned(flag):\n    x = Repo()\n    if flag:\n        x = Cache()\n"
                "    x.get()\n    y = None\n    y = Cache()\n    y.get()\n"
                "    z: Repo = make_repo()\n    z.load()\n    w = Repo()\n"
                "    w, v = 1, 2\n    w.load()\n\n"
                "def closure():\n    r = Repo()\n\n    def inner():\n        r.save(2)\n"
                "    return inner\n"
            ),
        },
    )
    save = ("models.Repo.save", "import", None, 1)
    load = ("models.Repo.load", "import", None, 1)
    get = ("models.Cache.get", "import", None, 1)
    assert edges[("local.plain", "Repo.save")] == save
    assert edges[("local.typed", "Repo.load")] == load
    assert edges[("local.typed", "Cache.get")] == get
    assert edges[("local.typed", "Repo.save")] == save  # opt: Repo | None
    assert edges[("local.reassigned", "Cache.get")] == get  # y
    assert edges[("local.reassigned", "Repo.load")] == load  # z: Repo
    assert edges[("local.closure.inner", "Repo.save")] == save
    for source, written in (
        ("local.plain", "made.save"),
        ("local.typed", "other.get"),
        ("local.typed", "each.load"),
        ("local.reassigned", "x.get"),
        ("local.reassigned", "w.load"),
    ):
        assert edges[(source, written)] == (None, None, None, 0), written


def test_java_calls_through_typed_locals(workspace: Path) -> None:
    """Java locals and parameters declare their class: ``repo.save()`` on a
    ``Repo repo`` is ``Repo.save`` (also through a lambda, ``var r = new
    Repo()``, a for-each variable, a resource and an ``instanceof`` pattern); a
    type variable, an array, and ``var`` of anything but ``new`` keep the call
    bound to a local, unresolved."""
    edges = project(
        workspace,
        {
            "app/Repo.java": (
                "package app;\npublic class Repo {\n    public void save(String s) {}\n"
                "    public Repo load() { return this; }\n}\n"
            ),
            "app/Service.java": (
                "package app;\nimport java.util.List;\npublic class Service<T> {\n"
                "    public void run(Repo repo, T item, List<Repo> all, Repo[] arr) {\n"
                '        repo.save("x");\n        item.save("y");\n        arr.clone();\n'
                '        var inferred = new Repo();\n        inferred.save("w");\n'
                '        var unknown = repo.load();\n        unknown.save("v");\n'
                '        for (Repo each : all) { each.save("e"); }\n'
                '        for (var some : all) { some.save("f"); }\n'
                "        try (Repo res = repo.load()) { res.load(); }\n"
                "        Object o = repo;\n"
                '        if (o instanceof Repo p) { p.save("p"); }\n'
                "        Runnable r = () -> repo.load();\n    }\n}\n"
            ),
        },
    )
    run = "app.Service.run"
    assert edges[(run, "Repo.save")] == ("app.Repo.save", "package", None, 1)
    assert edges[(run, "Repo.load")] == ("app.Repo.load", "package", None, 1)
    for written in ("item.save", "arr.clone", "unknown.save", "some.save"):
        assert edges[(run, written)] == (None, None, None, 0), written
    for written in ("each.save", "res.load", "p.save"):
        assert (run, written) not in edges, f"{written}: recorded as Repo's member"


def test_super_calls_bind_what_the_class_inherits(workspace: Path) -> None:
    """``super().m()`` binds the ``m`` the enclosing class inherits — the first
    base (in order) that has one, never the class's own ``m`` — per class (two
    classes of a file asking the same text get their own answers)."""
    edges = project(
        workspace,
        {
            "a.py": (
                "class Base:\n    def __init__(self):\n        pass\n\n"
                "    def setup(self):\n        return self\n\n"
                "class Mid(Base):\n    def setup(self):\n        return super().setup()\n\n"
                "class Child(Mid):\n    def __init__(self):\n        super().__init__()\n"
                "        super().setup()\n        super().missing()\n\n"
                "class Lone:\n    def __init__(self):\n        super().__init__()\n"
            ),
        },
    )
    assert edges[("a.Mid.setup", "super().setup")] == ("a.Base.setup", "self", None, 1)
    assert edges[("a.Child.__init__", "super().__init__")] == ("a.Base.__init__", "self", None, 1)
    assert edges[("a.Child.__init__", "super().setup")] == ("a.Mid.setup", "self", None, 1)
    assert edges[("a.Child.__init__", "super().missing")] == (None, None, None, 0)
    assert edges[("a.Lone.__init__", "super().__init__")] == (None, None, None, 0)


def test_java_super_calls_and_anonymous_classes(workspace: Path) -> None:
    """Java ``super.m()`` binds the inherited ``m``; inside an anonymous class
    body (whose supertype the resolver cannot see into) it binds nothing."""
    edges = project(
        workspace,
        {
            "x/B.java": (
                "package x;\nclass A { int m() { return 1; } "
                'public String toString() { return ""; } }\n'
                "class B extends A {\n  int m() { return super.m(); }\n"
                "  void k() { Object o = new Object() { public String toString() "
                "{ return super.toString(); } }; }\n}\n"
            ),
        },
    )
    assert edges[("x.B.m", "super.m")] == ("x.A.m", "self", None, 1)
    assert edges[("x.B.k", "super.toString")] == (None, None, None, 0)


@pytest.mark.timeout(120)
def test_super_calls_follow_base_edits(workspace: Path, snapshot, fresh_snapshot) -> None:
    """A base gaining, then losing, the method a ``super()`` call names rebinds
    that call incrementally exactly as a fresh build does."""
    from edits import apply, assert_same_as_fresh

    apply(workspace, ("write", "base.py", "class Base:\n    pass\n"))
    apply(
        workspace,
        (
            "write",
            "child.py",
            "from base import Base\n\nclass Child(Base):\n"
            "    def run(self):\n        super().run()\n",
        ),
    )
    build_index(workspace)
    steps = (
        ("add run", "class Base:\n    def run(self):\n        pass\n", "base.Base.run"),
        ("remove run", "class Base:\n    pass\n", None),
    )
    for step, text, target in steps:
        apply(workspace, ("write", "base.py", text))
        build_index(workspace)
        assert_same_as_fresh(workspace, snapshot, fresh_snapshot, step)
        calls = {(e[3], e[11]): e[8] for e in snapshot(workspace)[1] if e[0] == "calls"}
        assert calls[("child.Child.run", "super().run")] == target, step


def test_import_of_a_dotted_name_that_is_an_attribute(workspace: Path) -> None:
    """``import os.path`` makes ``os`` usable; ``os.path`` is no module but ``os``'s
    alias of ``posixpath``, so ``os.path.join()`` binds through ``os`` (it stopped
    at ``os.path``, as if outside the workspace). A dotted import of something
    really outside still binds nothing."""
    edges = project(
        workspace,
        {
            "osx/__init__.py": "import posixish as path\n",
            "posixish.py": "def join():\n    pass\n",
            "x/posixish.py": "def join():\n    pass\n",
            "main.py": (
                "import osx.path\nimport email.utils\n\n"
                "def run():\n    osx.path.join()\n    email.utils.join()\n"
            ),
        },
    )
    assert edges[("main.run", "osx.path.join")] == ("posixish.join", "import", None, 1)
    assert edges[("main.run", "email.utils.join")] == (None, None, None, 0)


def test_python_star_import_takes_all_when_listed(workspace: Path) -> None:
    """A module's literal ``__all__`` is what ``*`` takes from it, into a file and
    re-exported through a package: a listed ``_name`` too, an unlisted public one
    not (it still binds by another rule, never as the star import)."""
    edges = project(
        workspace,
        {
            "pkg/__init__.py": "from .impl import *\n",
            "pkg/impl.py": (
                "__all__ = ['alpha', '_listed']\n\ndef alpha():\n    pass\n\n"
                "def _listed():\n    pass\n\ndef beta():\n    pass\n"
            ),
            "pkg/other.py": "def beta():\n    pass\n",
            "main.py": (
                "import pkg\nfrom pkg.impl import *\n\n"
                "def run():\n    pkg.alpha()\n    pkg._listed()\n    pkg.beta()\n"
                "\ndef star():\n    alpha()\n    _listed()\n    beta()\n"
            ),
        },
    )
    assert edges[("main.run", "pkg.alpha")] == ("pkg.impl.alpha", "import", None, 1)
    assert edges[("main.run", "pkg._listed")] == ("pkg.impl._listed", "import", None, 1)
    assert edges[("main.run", "pkg.beta")] == (None, None, None, 0)
    assert edges[("main.star", "alpha")] == ("pkg.impl.alpha", "import", None, 1)
    assert edges[("main.star", "_listed")] == ("pkg.impl._listed", "import", None, 1)
    assert edges[("main.star", "beta")] == (None, None, "unique", 2)


def test_python_star_import_takes_what_the_module_imports(workspace: Path) -> None:
    """``from m import *`` binds what ``m`` imports too (its namespace), listed or
    public: ``from ctypes import *`` gives ``ctypes._endian.BigEndianStructure``."""
    edges = project(
        workspace,
        {
            "m/__init__.py": "from m.impl import Big, _Small\n",
            "m/impl.py": "class Big:\n    pass\n\nclass _Small:\n    pass\n",
            "x/dup.py": "class Big:\n    pass\n",
            "main.py": "from m import *\n\nclass A(Big):\n    pass\n\nclass B(_Small):\n    pass\n",
        },
    )
    assert edges[("main.A", "Big")] == ("m.impl.Big", "import", None, 1)
    assert edges[("main.B", "_Small")] == ("m.impl._Small", "unique", None, 1)


def test_python_star_import_without_all_skips_private_names(workspace: Path) -> None:
    """No ``__all__`` (or one that is not plain literals): ``*`` takes the public
    names only, into a file as into a package."""
    edges = project(
        workspace,
        {
            "m/impl.py": "def alpha():\n    pass\n\ndef _hidden():\n    pass\n",
            "m/dyn.py": (
                "__all__ = ['gamma']\n__all__.append('_secret')\n\n"
                "def gamma():\n    pass\n\ndef _secret():\n    pass\n"
            ),
            "x/impl2.py": "def _hidden():\n    pass\n",
            "x/dyn2.py": "def _secret():\n    pass\n",
            "main.py": (
                "from m.impl import *\nfrom m.dyn import *\n\n"
                "def run():\n    alpha()\n    _hidden()\n    gamma()\n    _secret()\n"
            ),
        },
    )
    assert edges[("main.run", "alpha")] == ("m.impl.alpha", "import", None, 1)
    assert edges[("main.run", "gamma")] == ("m.dyn.gamma", "import", None, 1)
    assert edges[("main.run", "_hidden")] == (None, None, "unique", 2)
    assert edges[("main.run", "_secret")] == (None, None, "unique", 2)


@pytest.mark.timeout(120)
def test_all_edits_rebind_importers(workspace: Path, snapshot, fresh_snapshot) -> None:
    """Editing only ``__all__`` (no definition changes) rebinds the files that
    take names through ``*``, directly and through a package, incrementally
    exactly as a fresh build does: each way a name can come or go (listed,
    unlisted, the list dropped or added, a ``_name`` listed)."""
    from edits import apply, assert_same_as_fresh

    body = "def alpha():\n    pass\n\ndef beta():\n    pass\n\ndef _gamma():\n    pass\n"
    files = {
        "lib/__init__.py": "from .impl import *\n",
        "lib/impl.py": "__all__ = ['alpha']\n\n" + body,
        "other.py": "def beta():\n    pass\n",
        "app.py": "from lib import beta, _gamma\n\ndef run():\n    beta()\n    _gamma()\n",
        "star.py": "from lib.impl import *\n\ndef go():\n    beta()\n",
    }
    for rel, text in files.items():
        apply(workspace, ("write", rel, text))
    build_index(workspace)
    steps = (  # (step, lib/impl.py's __all__ line, what beta binds, what _gamma binds)
        ("drop __all__", "", "lib.impl.beta", None),
        ("list alpha, _gamma", "__all__ = ('alpha', '_gamma')\n", None, "lib.impl._gamma"),
        ("list beta", "__all__ = ['alpha', 'beta']\n", "lib.impl.beta", None),
    )
    for step, listed, beta, gamma in steps:
        apply(workspace, ("write", "lib/impl.py", listed + "\n" + body))
        build_index(workspace)
        assert_same_as_fresh(workspace, snapshot, fresh_snapshot, step)
        calls = {(e[3], e[11]): e[8] for e in snapshot(workspace)[1] if e[0] == "calls"}
        assert calls[("app.run", "beta")] == beta, step
        assert calls[("app.run", "_gamma")] == gamma, step
        # else unresolved: ``other.beta`` and ``lib.impl.beta`` are two candidates
        assert calls[("star.go", "beta")] == beta, step


@pytest.mark.timeout(120)
def test_star_reexport_edits_rebind_importers(workspace: Path, snapshot, fresh_snapshot) -> None:
    """Adding, then removing, a ``*`` re-export in a file its importers never name
    (``mid``) rebinds them incrementally exactly as a fresh build does."""
    from edits import apply, assert_same_as_fresh

    files = {
        "lib/__init__.py": "from .mid import *\n",
        "lib/mid.py": "X = 1\n",
        "lib/impl.py": "def alpha():\n    pass\n",
        "app.py": "from lib import alpha\n\ndef run():\n    alpha()\n",
    }
    for rel, text in files.items():
        apply(workspace, ("write", rel, text))
    build_index(workspace)
    for step, text in (("add", "from .impl import *\nX = 1\n"), ("remove", "X = 1\n")):
        apply(workspace, ("write", "lib/mid.py", text))
        build_index(workspace)
        assert_same_as_fresh(workspace, snapshot, fresh_snapshot, f"{step} the star import")
        calls = {e[3]: e[8] for e in snapshot(workspace)[1] if e[0] == "calls"}
        assert calls["app.run"] == ("lib.impl.alpha" if step == "add" else None)


def test_rust_impl_in_another_file_than_its_type_is_found_through_the_type(
    workspace: Path,
) -> None:
    """``use crate::model::User; impl User { ... }`` in ``ext.rs``: its methods are
    ``User``'s, so ``User::new()`` elsewhere and ``self.greet()`` inside bind."""
    edges = project(
        workspace,
        {
            "Cargo.toml": '[package]\nname = "x"\n',
            "src/lib.rs": "pub mod model;\npub mod ext;\npub mod api;\n",
            "src/model.rs": (
                "pub struct User { pub name: String }\n"
                "pub trait Greeter { fn greet(&self) -> String; }\n"
            ),
            "src/ext.rs": (
                "use crate::model::{User, Greeter};\n"
                "impl User {\n    pub fn new() -> Self { User { name: String::new() } }\n"
                "    pub fn shout(&self) -> String { self.greet() }\n}\n"
                "impl Greeter for User {\n    fn greet(&self) -> String { String::new() }\n}\n"
            ),
            "src/api.rs": "use crate::model::User;\npub fn make() { User::new(); }\n",
        },
    )
    assert edges[("crate::api::make", "User::new")] == (
        "crate::model::User::new",
        "import",
        None,
        1,
    )
    assert edges[("crate::model::User::shout", "greet")] == (
        "crate::model::User::greet",
        "self",
        None,
        1,
    )


def test_python_generic_return_types_name_their_class(workspace: Path) -> None:
    """``-> Repo[int]`` returns a ``Repo`` (as ``Repo<T>`` does in Java/TS);
    ``Optional``/``Annotated`` unwrap; a ``Union`` names no one class."""
    edges = project(
        workspace,
        {
            "g.py": (
                "from typing import Optional, Annotated, Union\n\n"
                "class Repo:\n    pass\n\n"
                "def a() -> Repo[int]:\n    pass\n\n"
                "def b() -> Optional[Repo]:\n    pass\n\n"
                "def c() -> Annotated[Repo, 'meta']:\n    pass\n\n"
                "def d() -> Union[Repo, int]:\n    pass\n\n"
                'def e() -> "Repo | None":\n    pass\n\n'
                'def f() -> "Optional[Repo]":\n    pass\n\n'
                "def g() -> 'Repo[int]':\n    pass\n\n"
                'def h() -> "Union[Repo, int]":\n    pass\n\n'
                "def i() -> \"Annotated[Repo, 'meta']\":\n    pass\n"
            ),
        },
    )
    # quoted (forward references) alike
    for source in ("g.a", "g.b", "g.c", "g.e", "g.f", "g.g", "g.i"):
        assert edges[(source, "Repo")] == ("g.Repo", "local", None, 1), source
    assert edges[("g.d", "Union[Repo, int]")] == (None, None, None, 0)
    assert edges[("g.h", '"Union[Repo, int]"')] == (None, None, None, 0)


@pytest.mark.parametrize(
    ("files", "call"),
    [
        pytest.param(
            {
                "sock.cpp": "namespace net {\nint close(int fd) { return ::close(fd); }\n}\n",
                "file.cpp": "void done(int fd) {\n    close(fd);\n}\n",
            },
            [("done", "close"), ("net::close", "::close")],
            id="cpp-namespace-member-and-global-qualifier",
        ),
        pytest.param(
            {
                "lib.hpp": "namespace lib {\nclass exception {};\nvoid sort(int) {}\n}\n",
                "other.cpp": "void helper() {}\n",
                "app.cpp": (
                    "using namespace std;\nclass MyErr : public exception {};\n"
                    "void s() {\n    sort(1);\n    helper();\n}\n"
                ),
            },
            [("MyErr", "exception"), ("s", "sort"), ("s", "helper")],
            id="cpp-using-namespace-std",
        ),
        pytest.param(
            {
                "src/util/Math.java": (
                    "package util;\npublic class Math {\n"
                    "    public static int max(int a, int b) { return a; }\n}\n"
                ),
                "src/app/Calc.java": (
                    "package app;\nclass Calc {\n    int f() { return Math.max(1, 2); }\n}\n"
                ),
            },
            [("app.Calc.f", "Math.max")],
            id="java-lang-math",
        ),
        pytest.param(
            {
                "src/mathx.ts": "export class JSON {\n  static parse(s: string) {}\n}\n",
                "src/app.ts": "function g(s: string) {\n  JSON.parse(s);\n}\n",
            },
            [("src/app.g", "JSON.parse")],
            id="ts-global-json",
        ),
    ],
)
def test_unique_never_guesses_what_a_namespace_or_the_language_supplies(
    workspace: Path, files: dict[str, str], call: list
) -> None:
    """Helper-45's review: a bare ``close(fd)`` outside ``namespace net`` is not
    ``net::close`` (a member needs a qualifier or a ``using``); ``::close`` is
    the global one, never the enclosing ``net::close``; under ``using namespace
    std;`` any unbound name may be std's; ``Math.max`` in Java and
    ``JSON.parse`` in TypeScript are the language's, not a workspace
    namesake's. All stay unresolved."""
    edges = project(workspace, files)
    for key in call:
        assert edges[key] == (None, None, None, 0), key


@pytest.mark.parametrize(
    ("files", "call", "bound"),
    [
        pytest.param(
            {
                "a.cpp": "namespace net { void send() {} }\nvoid send() {}\nnamespace net { void g() { send(); } }\n"
            },
            ("net::g", "send"),
            "net::send",
            id="cpp",
        ),
        pytest.param(
            {
                "src/ns.ts": (
                    "namespace Geo {\n  export function area() {}\n}\n"
                    "namespace Geo {\n  export function perim() {\n    return area();\n  }\n}\n"
                    "function area() {}\n"
                ),
            },
            ("src/ns.Geo.perim", "area"),
            "src/ns.Geo.area",
            id="typescript",
        ),
    ],
)
def test_a_reopened_namespace_sees_its_other_blocks_before_the_file(
    workspace: Path, files: dict[str, str], call: tuple[str, str], bound: str
) -> None:
    """A namespace is one scope however many blocks write it: inside one block,
    a member from another (``net::send``) hides a file-level namesake (g++ and
    tsc agree); it used to bind the outer ``send`` as ``local``."""
    assert project(workspace, files)[call] == (bound, "package", None, 1)


def test_java_same_package_class_hides_an_on_demand_import(workspace: Path) -> None:
    """JLS 6.4.1: ``import a.*`` is shadowed by a class of the file's own package
    (javac picks ``b.Base``); a single-type import would win over both."""
    edges = project(
        workspace,
        {
            "src/a/Base.java": "package a;\npublic class Base {\n    public void hook() {}\n}\n",
            "src/b/Base.java": "package b;\npublic class Base {\n    public void hook() {}\n}\n",
            "src/b/Impl.java": (
                "package b;\nimport a.*;\n\npublic class Impl extends Base {\n"
                "    void handle() { hook(); }\n}\n"
            ),
            "src/b/Single.java": (
                "package b;\nimport a.Base;\n\npublic class Single extends Base {}\n"
            ),
        },
    )
    assert edges[("b.Impl", "Base")] == ("b.Base", "package", None, 1)
    assert edges[("b.Impl.handle", "hook")] == ("b.Base.hook", "self", None, 1)
    assert edges[("b.Single", "Base")] == ("a.Base", "import", None, 1)


def test_go_receiver_bound_again_in_the_method_is_not_self(workspace: Path) -> None:
    """``for _, r := range list { r.Save() }`` in ``func (r *Repo)``: that ``r`` is
    a ``*Cache``; with the name bound twice in the method no ``r.`` call is taken
    as the receiver's (it bound ``Repo.Save`` by ``self``). A method that never
    rebinds its receiver keeps ``self``."""
    edges = project(
        workspace,
        {
            "go.mod": "module example.com/m\n",
            "a/a.go": (
                "package a\n\ntype Cache struct{}\n\nfunc (c *Cache) Save() {}\n\n"
                "type Repo struct{}\n\nfunc (r *Repo) Save() {}\n\n"
                "func (r *Repo) Flush(list []*Cache) {\n\tfor _, r := range list {\n"
                "\t\tr.Save()\n\t}\n}\n\n"
                "func (r *Repo) Keep() {\n\tr.Save()\n}\n"
            ),
        },
    )
    assert edges[("a.Repo.Flush", "r.Save")] == (None, None, None, 0)
    assert edges[("a.Repo.Keep", "Save")] == ("a.Repo.Save", "self", None, 1)


def test_go_external_test_package_is_a_package_of_its_own(workspace: Path) -> None:
    """``package calc_test`` in ``calc/`` is not ``calc``: its ``setup`` is its own
    (it was stored as ``calc.setup`` and bound to ``calc.go``'s)."""
    edges = project(
        workspace,
        {
            "go.mod": "module example.com/m\n",
            "calc/calc.go": "package calc\n\nfunc setup() {}\n\nfunc Add() {}\n",
            "calc/calc_test.go": (
                'package calc_test\n\nimport "example.com/m/calc"\n\n'
                "func setup() {}\n\nfunc TestAdd() {\n\tsetup()\n\tcalc.Add()\n}\n"
            ),
            "calc/helper_test.go": "package calc_test\n\nfunc helper() {\n\tsetup()\n}\n",
        },
    )
    assert edges[("calc_test.TestAdd", "setup")] == ("calc_test.setup", "local", None, 1)
    assert edges[("calc_test.TestAdd", "calc.Add")] == ("calc.Add", "import", None, 1)
    assert edges[("calc_test.helper", "setup")] == ("calc_test.setup", "package", None, 1)


def test_java_anonymous_class_calls_its_supertypes_member_first(
    workspace: Path, snapshot, fresh_snapshot
) -> None:  # noqa: ANN001
    """javac: a bare ``log()`` in ``new Task() { ... }`` is ``Task``'s ``log`` when
    ``Task`` has one (inherited too), else the enclosing class's. It bound
    ``Service.log``. Incrementally too, when ``Task`` gains its ``log`` by a
    change of base."""
    files = {
        "src/p/Base.java": "package p;\npublic abstract class Base {\n}\n",
        "src/p/Task.java": "package p;\npublic abstract class Task extends Base {\n}\n",
        "src/p/Service.java": (
            "package p;\nclass Service {\n    void log() {}\n    void helper() {}\n"
            "    void go() {\n        Task t = new Task() {\n"
            "            public void execute() { log(); helper(); }\n        };\n    }\n}\n"
        ),
        "src/p/Logged.java": (
            "package p;\npublic abstract class Logged {\n    protected void log() {}\n}\n"
        ),
    }
    edges = project(workspace, files)
    assert edges[("p.Service.go", "log")] == ("p.Service.log", "local", None, 1)
    assert edges[("p.Service.go", "helper")] == ("p.Service.helper", "local", None, 1)
    (workspace / "src/p/Task.java").write_text(
        "package p;\npublic abstract class Task extends Logged {\n}\n"
    )
    build_index(workspace)
    _same_as_fresh(workspace, snapshot, fresh_snapshot)
    edges = project(workspace, {})
    assert edges[("p.Service.go", "log")] == ("p.Logged.log", "self", None, 1)
    assert edges[("p.Service.go", "helper")] == ("p.Service.helper", "local", None, 1)
