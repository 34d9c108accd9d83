"""Incremental re-indexing gives exactly what a fresh ``--force`` build gives.

Hypothesis drives random sequences of edits, additions, renames and deletions
over a small Python project whose snippets import, call, inherit and re-export
across modules with deliberately colliding names and ``__all__`` lists (so the
``import``, ``self``, ``package`` and ``unique`` rules and ambiguities all flip as
files change).
After every step the incremental index must equal, symbol for symbol and edge
for edge (compared by content, not row ids), a fresh build of a copy of the tree.
"""

from __future__ import annotations

import os

import pytest
from edits import Project, assert_same_as_fresh, check_edit_sequence, joined
from hypothesis import HealthCheck, given, settings

from sqry.graph.index import build_index

PATHS = [
    "pkg/__init__.py",
    "pkg/a.py",
    "pkg/b.py",
    "pkg/sub/__init__.py",
    "pkg/sub/c.py",
    "top.py",
]

SNIPPETS = [
    "def alpha():\n    beta()\n",
    "def beta():\n    gamma()\n    alpha()\n",
    "def gamma():\n    pkg.a.alpha()\n    pkg.sub.c.beta()\n",
    "from pkg.a import alpha\n",
    "from . import a\n",
    "from .a import *\n",
    "from .b import Base\n",
    "import pkg.b\n",
    "import pkg.sub.c as c\n",
    "from pkg.b import Base as B2\n",
    "from os import path\n",
    "class Base:\n    def run(self):\n        self.stop()\n\n    def stop(self):\n        alpha()\n",
    "class Child(Base):\n    def go(self):\n        self.run()\n        Base.stop(self)\n",
    "class Mixin(B2):\n    def stop(self):\n        self.run()\n        self.go()\n",
    "class Child(a.Base):\n    def go(self):\n        self.stop()\n\n    def run(self):\n        pass\n",
    "def delta(cb):\n    c.gamma()\n    a.alpha()\n    Child.go(None)\n    cb()\n",
    "def epsilon() -> Base:\n    return pkg.b.Base()\n",
    "ALPHA = alpha\n",
    "def run():\n    stop()\n    path.join()\n",
    "class Base(Mixin):\n    pass\n",
    "class Mixin:\n    def run(self):\n        pass\n",
    "from .b import alpha\n",
    "from pkg import alpha\n",
    "from pkg.b import Mixin\n",
    "__all__ = ['alpha', '_hidden', 'Base']\n",
    "__all__ += ['beta']\n",
    "def _hidden():\n    _hidden()\n    gamma()\n",
    "from pkg.sub.c import *\n",
    "class Leaf(Child):\n    def go(self):\n        super().go()\n        super().stop()\n",
    "class Holder:\n    def __init__(self):\n        self.part = Base()\n\n"
    "    def use(self):\n        self.part.run()\n",
    "def zeta(part: Child):\n    part.go()\n    other = Mixin()\n    other.stop()\n",
]

PROJECT = Project(tuple(PATHS), lambda _path: joined(SNIPPETS))


@pytest.mark.timeout(600)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(initial=PROJECT.initial(), ops=PROJECT.operations())
def test_incremental_equals_fresh_build(initial, ops, snapshot, fresh_snapshot) -> None:
    check_edit_sequence(initial, ops, snapshot, fresh_snapshot)


@pytest.mark.timeout(120)
def test_nothing_changed_rewrites_nothing(workspace, snapshot) -> None:
    (workspace / "m.py").write_text("def f():\n    g()\n\ndef g():\n    pass\n")
    first = build_index(workspace)
    assert first.changed == 1
    before = snapshot(workspace)
    again = build_index(workspace)
    assert snapshot(workspace) == before
    assert again.files == 1


@pytest.mark.timeout(120)
def test_edit_within_one_mtime_tick_is_seen(workspace, snapshot) -> None:
    """Same size, same mtime, new content: the racy-clean rule re-hashes it."""
    src = workspace / "m.py"
    src.write_text("def aaa():\n    pass\n")
    build_index(workspace)
    stamp = src.stat().st_mtime_ns
    src.write_text("def bbb():\n    pass\n")
    os.utime(src, ns=(stamp, stamp))
    build_index(workspace)
    names = {row[2] for row in snapshot(workspace)[0]}
    assert "m.bbb" in names and "m.aaa" not in names


@pytest.mark.timeout(120)
def test_new_base_rebinds_self_calls_in_other_files(workspace, snapshot, fresh_snapshot) -> None:
    """Only ``Base``'s bases change (no name is added or removed anywhere)."""
    (workspace / "base.py").write_text(
        "class Mixin:\n    def run(self):\n        pass\n\nclass Base:\n    pass\n"
    )
    (workspace / "child.py").write_text(
        "from base import Base\n\nclass Child(Base):\n    def go(self):\n        self.run()\n"
        "\nclass Grand(Child):\n    pass\n\ndef use():\n    Grand.run(None)\n"
    )
    build_index(workspace)
    (workspace / "base.py").write_text(
        "class Mixin:\n    def run(self):\n        pass\n\nclass Base(Mixin):\n    pass\n"
    )
    build_index(workspace)
    assert_same_as_fresh(workspace, snapshot, fresh_snapshot, "the edit")
    via = {(e[3], e[11]): (e[8], e[18]) for e in snapshot(workspace)[1] if e[0] == "calls"}
    assert via[("child.Child.go", "run")] == ("base.Mixin.run", "self")
    assert via[("child.use", "Grand.run")] == ("base.Mixin.run", "local")


@pytest.mark.timeout(120)
def test_changed_reexport_rebinds_importers(workspace, snapshot, fresh_snapshot) -> None:
    pkg = workspace / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("def alpha():\n    pass\n")
    (pkg / "b.py").write_text("def alpha():\n    pass\n")
    (pkg / "__init__.py").write_text("from .a import alpha\n")
    (workspace / "user.py").write_text("from pkg import alpha\n\ndef main():\n    alpha()\n")
    build_index(workspace)
    (pkg / "__init__.py").write_text("from .b import alpha\n")
    build_index(workspace)
    assert_same_as_fresh(workspace, snapshot, fresh_snapshot, "the edit")
    calls = {e[3]: e[8] for e in snapshot(workspace)[1] if e[0] == "calls"}
    assert calls["user.main"] == "pkg.b.alpha"
