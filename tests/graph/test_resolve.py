"""Resolution rules (graph.md §1): which definition each reference binds to, by
which rule, and when it must stay unresolved — on small real projects."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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


def test_package_rule_prefers_siblings(workspace: Path) -> None:
    edges = project(
        workspace,
        {
            "pkg/a.py": "def helper():\n    pass\n",
            "other/b.py": "def helper():\n    pass\n",
            "pkg/c.py": "def main():\n    helper()\n",
        },
    )
    assert edges[("pkg.c.main", "helper")] == ("pkg.a.helper", "package", None, 1)


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
    first_line = conn.execute(
        "SELECT t.start_line FROM edges e JOIN symbols t ON t.id = e.target_id "
        "WHERE e.target_text = 'where' AND e.kind = 'calls'"
    ).fetchone()
    assert edges[("main.run", "where")] == ("compat.where", "import", None, 1)
    assert first_line == (4,)


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
