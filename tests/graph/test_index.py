"""``sqry index`` as users run it, and the store's reader API."""

from __future__ import annotations

import os
import pty
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sqry.graph.schema import ENGINE_VERSION, SCHEMA_VERSION
from sqry.graph.store import IncompatibleIndex, NoIndex, find_index_root, open_index

SUMMARY = re.compile(
    r"^indexed (\d+) files \((\d+) changed\), (\d+) symbols, (\d+) edges in [\d.]+s, (\d+) errors$"
)


def small_project(root: Path) -> None:
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("from .core import run\n")
    (root / "pkg" / "core.py").write_text("def run():\n    helper()\n\ndef helper():\n    pass\n")
    (root / "main.py").write_text("from pkg import run\n\nrun()\n")


def _execute(workspace: Path, statement: str) -> None:
    """Run one SQL statement on the workspace's index and commit it (damage by hand)."""
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    try:
        conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.timeout(120)
def test_build_then_incremental_summary(workspace: Path, sqry) -> None:
    small_project(workspace)
    first = sqry("index", str(workspace))
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # no TTY: no progress bar, and nothing went wrong
    files, changed, symbols, edges, errors = map(int, SUMMARY.match(first.stdout.strip()).groups())
    assert (files, changed, errors) == (3, 3, 0)
    with open_index(workspace) as index:
        counts = index.counts()
        meta = index.meta()
    assert (counts["symbols"], counts["edges"]) == (symbols, edges)
    assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["tool_version"]
    again = sqry("index", cwd=workspace)  # PATH defaults to the current directory
    assert SUMMARY.match(again.stdout.strip()).groups()[:2] == ("3", "0")
    (workspace / "main.py").write_text("from pkg import run\n\nrun()\nrun()\n")
    third = sqry("index", str(workspace))
    assert SUMMARY.match(third.stdout.strip()).groups()[:2] == ("3", "1")


@pytest.mark.timeout(120)
def test_an_index_from_another_engine_version_is_rebuilt_in_full(
    workspace: Path, sqry, snapshot, fresh_snapshot
) -> None:
    """Unchanged files would keep rows an older extractor or resolver made."""
    small_project(workspace)
    assert sqry("index", str(workspace)).returncode == 0
    db = workspace / ".sqry" / "index.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'engine_version'").fetchone() == (
            str(ENGINE_VERSION),
        )
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'engine_version'")
        conn.execute("DELETE FROM edges WHERE kind = 'calls'")  # what an old engine missed
    again = sqry("index", str(workspace))
    assert SUMMARY.match(again.stdout.strip()).groups()[:2] == ("3", "3"), again.stdout
    assert snapshot(workspace) == fresh_snapshot(workspace)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM edges WHERE kind = 'calls'").fetchone()[0] > 0
    third = sqry("index", str(workspace))
    assert SUMMARY.match(third.stdout.strip()).groups()[:2] == ("3", "0"), third.stdout


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["bom.py", "bom.js", "bom.rs"])
def test_a_byte_order_mark_does_not_shift_line_one(workspace: Path, sqry, name: str) -> None:
    """A UTF-8 BOM is no content: the first line's columns are what an editor shows."""
    text = {
        "bom.py": "def first(): pass\n",
        "bom.js": "function first() {}\n",
        "bom.rs": "fn first() {}\n",
    }[name]
    (workspace / name).write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert sqry("index", str(workspace)).returncode == 0
    found = sqry("search", "first", "--exact", str(workspace))
    assert found.stdout.split()[0] == f"{workspace / name}:1:1", found.stdout


@pytest.mark.timeout(120)
def test_usage_errors_are_one_line_exit_2(workspace: Path, sqry) -> None:
    missing = sqry("index", str(workspace / "nope"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("sqry: cannot index") and "does not exist" in missing.stderr
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    (workspace / "f.py").write_text("x = 1\n")
    not_dir = sqry("index", str(workspace / "f.py"))
    assert not_dir.returncode == 2 and "is not a directory" in not_dir.stderr
    bad_flag = sqry("index", "--frobnicate")
    assert bad_flag.returncode == 2 and bad_flag.stderr.startswith("sqry: ")
    bad_env = sqry("index", str(workspace), SQRY_MAX_SOURCE_FILE_SIZE="-5")
    assert bad_env.returncode == 2 and "SQRY_MAX_SOURCE_FILE_SIZE" in bad_env.stderr


@pytest.mark.timeout(120)
def test_index_dir_of_the_wrong_kind_is_one_line_exit_3(workspace: Path, sqry) -> None:
    """``.sqry`` a file, or ``.sqry/index.db`` a directory: no usable index (3), never a
    traceback, and the message names the path and what to do; the read commands agree."""
    small_project(workspace)
    dot = workspace / ".sqry"
    dot.write_text("a file where the index directory should be\n")
    for command in (("index", str(workspace)), ("search", "run", str(workspace))):
        result = sqry(*command)
        assert result.returncode == 3, result.stderr
        assert result.stderr == f"sqry: {dot} is not a directory: remove or rename it\n"
    dot.unlink()
    (dot / "index.db").mkdir(parents=True)
    for command in (("index", str(workspace)), ("search", "run", str(workspace / "pkg"))):
        result = sqry(*command)
        assert result.returncode == 3, result.stderr
        assert result.stderr == (
            f"sqry: {dot / 'index.db'} is not a regular file: remove or rename it\n"
        )
    (dot / "index.db").rmdir()
    assert sqry("index", str(workspace)).returncode == 0


@pytest.mark.timeout(120)
def test_progress_bar_only_on_a_terminal(workspace: Path) -> None:
    small_project(workspace)
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sqry.cli.main", "index", str(workspace)],
            stderr=slave,
            stdout=subprocess.PIPE,
            text=True,
            timeout=60,
        )
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    shown = b"".join(chunks).decode()
    assert "indexing [" in shown and "3/3, resolving references" in shown
    assert SUMMARY.match(proc.stdout.strip())


@pytest.mark.timeout(120)
def test_hidden_and_follow_flags(workspace: Path, sqry) -> None:
    (workspace / ".tools").mkdir()
    (workspace / ".tools" / "gen.py").write_text("def gen():\n    pass\n")
    (workspace / "ext").mkdir()
    (workspace / "ext" / "lib.py").write_text("def lib():\n    pass\n")
    os.symlink(workspace / "ext", workspace / "linked")
    assert sqry("index", str(workspace)).returncode == 0
    with open_index(workspace) as index:
        paths = {r[0] for r in index.conn.execute("SELECT path FROM files")}
    assert paths == {"ext/lib.py"}
    assert sqry("index", "--hidden", "--follow", str(workspace)).returncode == 0
    with open_index(workspace) as index:
        paths = {r[0] for r in index.conn.execute("SELECT path FROM files")}
    assert paths == {"ext/lib.py", ".tools/gen.py", "linked/lib.py"}


def test_reader_api_errors(workspace: Path) -> None:
    with pytest.raises(NoIndex) as missing:
        open_index(workspace)
    assert "create one with: sqry index" in str(missing.value)
    assert find_index_root(workspace) is None
    (workspace / ".sqry").mkdir()
    conn = sqlite3.connect(workspace / ".sqry" / "index.db")
    conn.executescript(
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO meta VALUES ('schema_version', '999');"
    )
    conn.close()
    with pytest.raises(IncompatibleIndex) as old:
        open_index(workspace)
    assert "schema version 999" in str(old.value) and "sqry index --force" in str(old.value)
    _execute(workspace, "DELETE FROM meta")
    with pytest.raises(IncompatibleIndex) as unversioned:
        open_index(workspace)
    assert "it records no schema version, this sqry reads" in str(unversioned.value)
    _execute(workspace, "INSERT INTO meta VALUES ('schema_version', '999')")
    nested = workspace / "a" / "b"
    nested.mkdir(parents=True)
    assert find_index_root(nested) == workspace.resolve()


@pytest.mark.timeout(120)
def test_newer_schema_version_needs_force(workspace: Path, sqry) -> None:
    small_project(workspace)
    assert sqry("index", str(workspace)).returncode == 0
    _execute(workspace, "UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    refused = sqry("index", str(workspace))
    assert refused.returncode == 3
    assert "schema version 999" in refused.stderr and "sqry index --force" in refused.stderr
    rebuilt = sqry("index", "--force", str(workspace))
    assert rebuilt.returncode == 0 and SUMMARY.match(rebuilt.stdout.strip())
    with open_index(workspace) as index:
        assert index.meta()["schema_version"] == str(SCHEMA_VERSION)
        assert index.counts()["files"] == 3


@pytest.mark.timeout(120)
def test_older_schema_version_is_rebuilt_by_plain_index(workspace: Path, sqry) -> None:
    """An index an older sqry made (say, before ``files.star_names``) is derived
    data this one cannot read: queries say to rebuild it, and a plain
    ``sqry index`` does, in full."""
    small_project(workspace)
    assert sqry("index", str(workspace)).returncode == 0
    _execute(workspace, "UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    asked = sqry("search", "helper", str(workspace))
    assert asked.returncode == 3
    assert "an older sqry made it (schema version 3" in asked.stderr
    assert asked.stderr.rstrip().endswith(f"rebuild it with: sqry index {workspace}")
    rebuilt = sqry("index", str(workspace))
    assert rebuilt.returncode == 0, rebuilt.stderr
    files, changed = map(int, SUMMARY.match(rebuilt.stdout.strip()).groups()[:2])
    assert (files, changed) == (3, 3)
    with open_index(workspace) as index:
        assert index.meta()["schema_version"] == str(SCHEMA_VERSION)


def _read_stderr_until(proc: subprocess.Popen, needle: bytes, seconds: float) -> bytes:
    """What ``proc`` wrote on stderr until ``needle`` appeared (deadline polling)."""
    import select
    import time

    seen = b""
    deadline = time.monotonic() + seconds
    fd = proc.stderr.fileno()
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.timeout(120)
def test_second_index_waits_for_the_build_lock(workspace: Path) -> None:
    import fcntl

    small_project(workspace)
    (workspace / ".sqry").mkdir()
    lock = os.open(workspace / ".sqry" / "index.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)  # before the build starts: it must find the lock held
    proc = subprocess.Popen(
        [sys.executable, "-m", "sqry.cli.main", "index", str(workspace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        message = (
            f"sqry: another 'sqry index' is running on {workspace.resolve()}; "
            "waiting for it to finish\n"
        ).encode()
        seen = _read_stderr_until(proc, message, 60)
        assert seen == message, seen
        assert proc.poll() is None  # still waiting: the lock is held
        assert not (workspace / ".sqry" / "index.db").exists()
        fcntl.flock(lock, fcntl.LOCK_UN)
        out, err = proc.communicate(timeout=90)
    finally:
        os.close(lock)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert err == b"" and SUMMARY.match(out.decode().strip()).groups()[:2] == ("3", "3")
    assert (workspace / ".sqry" / "index.lock").exists()  # never deleted
