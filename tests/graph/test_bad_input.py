"""Bad input never costs the build: each problem gets a clear message naming the
path, and everything else is indexed. Run through the real ``sqry index``."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sqry.graph.index import build_index
from sqry.graph.store import IncompatibleIndex, open_index

GOOD = "def fine():\n    pass\n"


def indexed_names(root: Path) -> set[str]:
    with open_index(root) as index:
        return {r[0] for r in index.conn.execute("SELECT qualified_name FROM symbols")}


def file_errors(root: Path) -> dict[str, str]:
    with open_index(root) as index:
        return dict(index.conn.execute("SELECT path, error FROM files WHERE error IS NOT NULL"))


@pytest.mark.timeout(120)
def test_syntax_errors_are_reported_and_the_rest_indexed(workspace: Path, sqry) -> None:
    (workspace / "good.py").write_text(GOOD)
    (workspace / "broken.py").write_text("def ok():\n    pass\n\ndef broken(:\n    pass\n")
    result = sqry("index", str(workspace))
    assert result.returncode == 0
    assert result.stdout.strip().endswith(", 1 error")
    assert "broken.py: missing ) at line 4, column 12" in result.stderr
    assert {"good.fine", "broken.ok"} <= indexed_names(workspace)


@pytest.mark.timeout(120)
def test_a_file_wide_error_region_is_reported_where_parsing_went_wrong(workspace: Path) -> None:
    """tree-sitter-python wraps this whole file (valid Python: the dedented line is
    inside parentheses) in one ERROR node starting at line 1; the message must
    point into it, at the construct it could not parse."""
    (workspace / "m.py").write_text(
        "import os\n\n\nclass T:\n    def test(self):\n        def f():\n"
        "            (bar.\n        baz)\n\n    def other(self):\n        pass\n"
    )
    build_index(workspace)
    assert file_errors(workspace) == {
        "m.py": "syntax error at line 7, column 13 (the rest of the file is indexed)"
    }


@pytest.mark.timeout(120)
def test_invalid_utf8_unless_declared(workspace: Path, sqry) -> None:
    (workspace / "good.py").write_text(GOOD)
    (workspace / "bad.py").write_bytes(b"def f():\n    return '\xff\xfe'\n")
    (workspace / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n"
    )
    # any language may name its encoding in a comment, as the message says
    (workspace / "auteur.c").write_bytes(
        b"/* coding: latin-1 */\n/* Auteur: Ren\xe9 */\nint f(void) { return 0; }\n"
    )
    result = sqry("index", str(workspace))
    assert result.returncode == 0
    errors = file_errors(workspace)
    assert set(errors) == {"bad.py"}
    assert errors["bad.py"] == (
        "invalid UTF-8 at line 2, column 13 (byte 21); save the file as UTF-8, or name its "
        "encoding in a comment on line 1 or 2 (e.g. '# coding: latin-1' or "
        "'/* coding: latin-1 */')"
    )
    assert "bad.py: invalid UTF-8" in result.stderr
    names = indexed_names(workspace)
    assert "good.fine" in names and "latin.café" in names and "f" in names
    assert not any(n.startswith("bad.") for n in names)


@pytest.mark.timeout(120)
def test_a_file_that_fails_in_an_incremental_build_is_recorded(workspace: Path, sqry) -> None:
    """The same failure in an update of an existing index (which tracks what each
    changed file defines) is recorded too, not a crash."""
    (workspace / "good.py").write_text(GOOD)
    assert sqry("index", str(workspace)).returncode == 0
    (workspace / "bad.py").write_bytes(b"y = '\xc3\x28'\n")
    (workspace / "good.py").write_text(GOOD + "\ndef more():\n    fine()\n")
    result = sqry("index", str(workspace))
    assert result.returncode == 0, result.stderr
    assert file_errors(workspace)["bad.py"].startswith("invalid UTF-8 at line 1")
    assert "good.more" in indexed_names(workspace)


@pytest.mark.timeout(120)
def test_oversized_file_skipped_with_message(workspace: Path, sqry) -> None:
    (workspace / "good.py").write_text(GOOD)
    with open(workspace / "huge.py", "w") as handle:
        line = "x = 1  # padding padding padding padding padding padding padding\n"
        handle.write(line * (10 * 1024 * 1024 // len(line) + 10))
    result = sqry("index", str(workspace))
    assert result.returncode == 0
    assert "huge.py: skipped:" in result.stderr and "10485760-byte limit" in result.stderr
    assert indexed_names(workspace) == {"good", "good.fine"}


@pytest.mark.timeout(120)
def test_symlink_loop_reported_not_followed_forever(workspace: Path, sqry) -> None:
    (workspace / "d").mkdir()
    (workspace / "d" / "good.py").write_text(GOOD)
    os.symlink("..", workspace / "d" / "up")
    os.symlink("self", workspace / "self")  # a link to itself: ELOOP
    result = sqry("index", "--follow", str(workspace))
    assert result.returncode == 0
    assert "d/up: symlink loop" in result.stderr
    assert "self: broken symlink" in result.stderr
    assert indexed_names(workspace) == {"d.good", "d.good.fine"}


def _as_unprivileged() -> list[str]:
    """A command prefix under which permission bits apply (root bypasses them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a directory unreadable")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, "--bounding-set", caps, "--inh-caps", caps]


@pytest.mark.timeout(120)
def test_unreadable_directory_and_file(workspace: Path) -> None:
    prefix = _as_unprivileged()
    (workspace / "good.py").write_text(GOOD)
    locked = workspace / "locked"
    locked.mkdir()
    (locked / "secret.py").write_text(GOOD)
    (workspace / "noread.py").write_text(GOOD)
    os.chmod(locked, 0)
    os.chmod(workspace / "noread.py", 0)
    if os.geteuid() == 0:
        os.chown(workspace / "noread.py", 65534, 65534)  # not ours: no owner bits either
        os.chown(locked, 65534, 65534)
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "sqry.cli.main", "index", str(workspace)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.chmod(locked, 0o755)
        os.chmod(workspace / "noread.py", 0o644)
    assert result.returncode == 0, result.stderr
    assert "locked: cannot read directory: Permission denied" in result.stderr
    assert "noread.py: cannot read file: Permission denied" in result.stderr
    assert result.stdout.strip().endswith("2 errors")
    assert indexed_names(workspace) == {"good", "good.fine"}


@pytest.mark.timeout(120)
def test_per_file_time_budget(workspace: Path, sqry) -> None:
    (workspace / "slow.py").write_text("def f():\n    g()\n" * 20000)
    result = sqry("index", str(workspace), SQRY_FILE_TIME_BUDGET_SECS="0.000001")
    assert result.returncode == 0
    assert "slow.py: took longer than the 1e-06s per-file budget; skipped" in result.stderr
    assert indexed_names(workspace) == set()
    # the same budget again: the file is unchanged, and not retried
    again = sqry("index", str(workspace), SQRY_FILE_TIME_BUDGET_SECS="0.000001")
    assert "(0 changed)" in again.stdout, again.stdout
    # another budget: what blew the old one is tried again
    retried = sqry("index", str(workspace))
    assert retried.returncode == 0, retried.stderr
    assert "(1 changed)" in retried.stdout, retried.stdout
    assert indexed_names(workspace) == {"slow", "slow.f"}
    assert file_errors(workspace) == {}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "inf", "1e12", "3601"])
def test_a_malformed_time_budget_is_refused(workspace: Path, sqry, value: str) -> None:
    (workspace / "good.py").write_text(GOOD)
    result = sqry("index", str(workspace), SQRY_FILE_TIME_BUDGET_SECS=value)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"sqry: SQRY_FILE_TIME_BUDGET_SECS={value!r} is not a number")
    assert "Traceback" not in result.stderr
    assert not (workspace / ".sqry").exists()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["garbage", "foreign", "truncated"])
def test_corrupt_or_foreign_index(workspace: Path, sqry, kind: str) -> None:
    (workspace / "good.py").write_text(GOOD)
    db = workspace / ".sqry" / "index.db"
    if kind == "truncated":
        assert sqry("index", str(workspace)).returncode == 0
        data = db.read_bytes()
        for side in ("-wal", "-shm"):
            Path(f"{db}{side}").unlink(missing_ok=True)
        db.write_bytes(data[:1024] + b"\x13" * 4096)
    else:
        db.parent.mkdir()
        if kind == "garbage":
            db.write_bytes(os.urandom(8192))
        else:
            conn = sqlite3.connect(db)
            conn.execute("CREATE TABLE customers (name TEXT)")
            conn.commit()
            conn.close()
    refused = sqry("index", str(workspace))
    assert refused.returncode == 3, refused.stderr
    assert "cannot be used" in refused.stderr and "sqry index --force" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    with pytest.raises(IncompatibleIndex):
        open_index(workspace)
    rebuilt = sqry("index", "--force", str(workspace))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert indexed_names(workspace) == {"good", "good.fine"}


@pytest.mark.timeout(120)
def test_non_utf8_file_and_directory_names_are_skipped_with_a_warning(
    workspace: Path, sqry
) -> None:
    (workspace / "good.py").write_text(GOOD)
    base = os.fsencode(workspace)
    with open(base + b"/caf\xe9.py", "wb") as handle:
        handle.write(b"def latin():\n    pass\n")
    os.mkdir(base + b"/d\xff")
    with open(base + b"/d\xff/inner.py", "wb") as handle:
        handle.write(b"def inner():\n    pass\n")
    result = sqry("index", str(workspace))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "caf\\xe9.py: name is not valid UTF-8; skipped" in result.stderr
    assert "d\\xff: name is not valid UTF-8; skipped" in result.stderr
    assert indexed_names(workspace) >= {"good.fine"}
    assert not {"latin", "inner"} & {n.rsplit(".", 1)[-1] for n in indexed_names(workspace)}
    again = sqry("index", str(workspace))  # the incremental path skips them the same way
    assert again.returncode == 0 and "caf\\xe9.py" in again.stderr


@contextlib.contextmanager
def _read_only_view(source: Path, view: Path):
    """``source`` bind-mounted read-only at ``view`` (root only; skips elsewhere)."""
    view.mkdir()
    steps = (
        ["mount", "--bind", str(source), str(view)],
        ["mount", "-o", "remount,ro,bind", str(view)],
    )
    mounted = False
    try:
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()}")
            mounted = True
        yield view
    finally:
        if mounted:
            subprocess.run(["umount", str(view)], capture_output=True, timeout=30)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a read-only view")
def test_a_read_only_file_system_is_named_as_such(workspace: Path, sqry, tmp_path: Path) -> None:
    (workspace / "a.py").write_text("def f():\n    pass\n")
    with _read_only_view(workspace, tmp_path / "ro") as view:
        done = sqry("index", str(view))
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == (
        f"sqry: {view}/.sqry cannot be written: the file system is read-only: an existing "
        "index there can still be queried; to rebuild it, index a writable copy of the tree\n"
    )
