"""Random edit sequences over a small source tree, for the "incremental equals
fresh build" property (``test_incremental.py`` for Python,
``test_incremental_langs.py`` for the other languages).

An operation is ``(kind, path, arg)``: ``write`` (arg: the new text), ``delete``,
``rename`` (arg: the new path) or ``touch`` (new mtime, same content). A
:class:`Project` says which paths a language's tree has and how the text of
each may look; :func:`check_edit_sequence` applies the operations one by one
and, after each, compares the incremental index with a fresh build of a copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from sqry.graph.index import build_index

Op = tuple[str, str, str]
Snapshot = Callable[[Path], tuple]


def apply(root: Path, op: Op) -> None:
    """Carry out one operation on the tree at ``root`` (a no-op when it cannot apply)."""
    kind, rel, arg = op
    target = root / rel
    if kind == "write":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(arg)
    elif kind == "delete":
        target.unlink(missing_ok=True)
    elif kind == "rename":
        if target.exists() and rel != arg:
            (root / arg).parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, root / arg)
    elif kind == "touch" and target.exists():
        os.utime(target)


def joined(snippets: Sequence[str], max_size: int = 5) -> st.SearchStrategy[str]:
    """Up to ``max_size`` snippets (repeats allowed) joined by blank lines."""
    return st.lists(st.sampled_from(snippets), min_size=0, max_size=max_size).map("\n".join)


def source(
    header: str, imports: Sequence[str], decls: Sequence[str], max_decls: int = 4
) -> st.SearchStrategy[str]:
    """A file laid out as its language wants it: ``header`` (a package clause),
    then some import lines, then some declarations — so that the text stays
    valid code whichever snippets are drawn."""
    return st.tuples(
        st.lists(st.sampled_from(imports), max_size=3) if imports else st.just([]),
        st.lists(st.sampled_from(decls), max_size=max_decls),
    ).map(lambda parts: header + "".join(parts[0]) + "\n" + "\n".join(parts[1]))


@dataclass(frozen=True)
class Project:
    """A language's tree: the paths that change, the text each may hold, and
    ``fixed`` files written once before the first build and never touched
    (Go's ``go.mod``)."""

    paths: tuple[str, ...]
    text_for: Callable[[str], st.SearchStrategy[str]]
    fixed: Mapping[str, str] = field(default_factory=dict)

    def initial(self) -> st.SearchStrategy[dict[str, str]]:
        return st.fixed_dictionaries({p: self.text_for(p) for p in self.paths})

    def operations(self, max_size: int = 6) -> st.SearchStrategy[list[Op]]:
        path = st.sampled_from(self.paths)
        writes = [st.tuples(st.just("write"), st.just(p), self.text_for(p)) for p in self.paths]
        operation = st.one_of(
            st.one_of(writes),
            st.tuples(st.just("delete"), path, st.just("")),
            st.tuples(st.just("rename"), path, path),
            st.tuples(st.just("touch"), path, st.just("")),
        )
        return st.lists(operation, min_size=1, max_size=max_size)


def assert_same_as_fresh(
    root: Path, snapshot: Snapshot, fresh_snapshot: Snapshot, step: str
) -> None:
    """The index of ``root`` equals a fresh build of a copy: files, symbols, edges."""
    incremental = snapshot(root)
    fresh = fresh_snapshot(root)
    assert incremental[2] == fresh[2], f"files differ after {step}"
    assert incremental[0] == fresh[0], f"symbols differ after {step}"
    missing = fresh[1] - incremental[1]
    extra = incremental[1] - fresh[1]
    assert not missing and not extra, (
        f"edges differ after {step}:\n"
        f"only in fresh: {sorted(missing)}\nonly in incremental: {sorted(extra)}"
    )


def check_edit_sequence(
    initial: Mapping[str, str],
    ops: Sequence[Op],
    snapshot: Snapshot,
    fresh_snapshot: Snapshot,
    fixed: Mapping[str, str] | None = None,
) -> None:
    """Build ``fixed`` + ``initial``, then apply ``ops`` one at a time, building
    incrementally after each; every index must equal a fresh build. The tree
    lives in its own short temp dir, removed whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        for rel, text in {**(fixed or {}), **initial}.items():
            apply(root, ("write", rel, text))
        build_index(root)
        assert_same_as_fresh(root, snapshot, fresh_snapshot, "the first build")
        for op in ops:
            apply(root, op)
            build_index(root)
            assert_same_as_fresh(root, snapshot, fresh_snapshot, repr(op))
    finally:
        shutil.rmtree(root, ignore_errors=True)
