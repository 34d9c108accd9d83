"""Crash safety: a build SIGKILLed at any moment leaves the old index or the new one.

A copy of part of the standard library is indexed; then, step after step, the
tree is changed and ``sqry index`` (forced or incremental) is started and, in
most steps, killed with its pool workers (by process group). Kinds of step:

- ``random``: killed after a random delay, wherever that lands (before the
  database is opened, inside the transaction, after the commit);
- ``in-transaction``: killed at a random moment *provably inside* the build's
  write transaction, so the index must be exactly the OLD one;
- ``finish``: not killed, so the index must be exactly the NEW one.

"Provably inside" is established from outside, through what the real
processes leave observable, with the build frozen (SIGSTOP) while we look:

1. the build's main process holds SQLite's WAL write lock (byte 120 of
   ``index.db-shm``, documented in https://sqlite.org/walformat.html): SQLite
   takes it at ``BEGIN IMMEDIATE`` and drops it only once COMMIT/ROLLBACK is
   done; ``F_GETLK`` reports the holder's pid without taking the lock;
2. the build also holds its ``flock`` on ``.sqry/index.lock``;
3. no commit has reached the disk since the write lock was first seen: the WAL
   holds no new commit frame (a frame header with a non-zero "database size
   after commit", https://sqlite.org/fileformat2.html#walformat) and the
   database file is untouched (so no checkpoint moved a commit into it).

WAL growth alone would prove nothing here: the writer's page cache (64 MiB) is
larger than this index, so the WAL stays empty during the whole transaction
and only grows while COMMIT writes it.

Every surviving database must pass ``PRAGMA integrity_check`` and answer exactly
as either the previous complete build or a complete build of the changed tree
does; a following ``sqry index`` must then bring it to the latter.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from helpers import SQRY, WaitTimeout, lock_is_held, wait_until

STDLIB = Path(sysconfig.get_paths()["stdlib"])
PACKAGES = ("email", "json", "http", "xml", "asyncio", "unittest", "logging", "importlib")
IN_TRANSACTION_ATTEMPTS = 4  # each retry waits a quarter as long after the lock is seen

# SQLite's WAL-index lock bytes (walformat.html §2.3.1): the writer lock is byte 120.
WAL_WRITE_LOCK_OFFSET = 120
# struct flock on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid (native alignment).
FLOCK = "hhqqi"
WAL_HEADER = struct.Struct(">IIIIIIII")  # magic, version, page size, ckpt seq, salts, cksums
FRAME_HEADER = struct.Struct(">IIIIII")  # page, db size after commit (0: not a commit), ...
WAL_MAGICS = (0x377F0682, 0x377F0683)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or struct.calcsize("P") != 8,
    reason="reads /proc and packs struct flock in its 64-bit Linux layout",
)


def _copy_stdlib_part(dest: Path) -> None:
    for name in PACKAGES:
        shutil.copytree(
            STDLIB / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "test*")
        )


def _integrity(root: Path) -> str:
    conn = sqlite3.connect(root / ".sqry" / "index.db")
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _change_tree(root: Path, step: int) -> None:
    victim = sorted(root.rglob("*.py"))[step * 7]
    victim.write_text(victim.read_text() + f"\n\ndef added_in_step_{step}():\n    pass\n")
    (root / f"new_module_{step}.py").write_text(
        f"def fresh_{step}():\n    added_in_step_{step}()\n"
    )
    doomed = sorted(root.rglob("*.py"))[step * 11 + 3]
    doomed.unlink()


# --------------------------------------------------------------------------- processes


def _start_build(root: Path, force: bool) -> subprocess.Popen:
    """``sqry index [--force] ROOT`` in its own session, so its pool workers share its pgid."""
    args = ["index", "--force", str(root)] if force else ["index", str(root)]
    return subprocess.Popen(
        [*SQRY, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state, ppid, pgrp, ...)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].decode().split()
    except (OSError, IndexError):
        return None


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``: the build and its workers."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _proc_stat(int(entry))
            if fields and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                members.append(int(entry))
    return members


def _poll_until(proc: subprocess.Popen, deadline: float) -> None:
    """Wait until ``deadline`` (monotonic) or until the process ends, whichever first.

    Reaching the deadline is the point (it is the random kill moment), not a failure.
    """
    with contextlib.suppress(WaitTimeout):
        wait_until(
            lambda: proc.poll() is not None,
            max(0.0, deadline - time.monotonic()),
            interval=0.005,
            message="the build to end",
        )


def _freeze(proc: subprocess.Popen) -> None:
    """SIGSTOP the build's whole group and wait until its main process is really stopped.

    Signal delivery is asynchronous; only a stopped main process (the single
    database writer) guarantees that what we read next stays true until the kill.
    """
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGSTOP)

    def stopped_or_gone() -> bool:
        fields = _proc_stat(proc.pid)
        return fields is None or fields[0] in ("T", "t", "Z", "X")

    wait_until(stopped_or_gone, 30, interval=0.002, message="the build to stop on SIGSTOP")


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the build and its pool workers; return once none of them is left.

    The group is only signalled while it provably still is ours (the leader is
    unreaped, or members carry its id): a pgid nobody uses may be reused.
    """
    if proc.poll() is None or _group_members(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    wait_until(
        lambda: not _group_members(proc.pid),
        30,
        message=lambda: f"build group {proc.pid} to die: {_group_members(proc.pid)}",
    )


# --------------------------------------------------------------------------- observing SQLite


def _wal_writer(root: Path) -> int | None:
    """Pid holding SQLite's WAL write lock on the index, or None (no shm / not held).

    ``F_GETLK`` only asks the kernel who would block us; it takes no lock, so
    the build is not disturbed.
    """
    try:
        fd = os.open(root / ".sqry" / "index.db-shm", os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        query = struct.pack(FLOCK, fcntl.F_WRLCK, os.SEEK_SET, WAL_WRITE_LOCK_OFFSET, 1, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query.ljust(64, b"\0"))
    finally:
        os.close(fd)
    lock_type, _whence, _start, _len, pid = struct.unpack_from(FLOCK, answer)
    return None if lock_type == fcntl.F_UNLCK else pid


class WalCommits(NamedTuple):
    """The WAL's current salts and how many commit frames carry them."""

    salts: tuple[int, int] | None
    commits: int


def _wal_commits(root: Path) -> WalCommits:
    """Count commit frames in the WAL that belong to its current generation (same salts).

    A frame header is counted as soon as it is on disk, before its page and
    checksum are: that errs towards "maybe committed", never the other way.
    """
    try:
        data = (root / ".sqry" / "index.db-wal").read_bytes()
    except FileNotFoundError:
        return WalCommits(None, 0)
    if len(data) < WAL_HEADER.size:
        return WalCommits(None, 0)
    magic, _version, page_size, _seq, salt1, salt2, _c1, _c2 = WAL_HEADER.unpack_from(data)
    assert magic in WAL_MAGICS, f"{root}/.sqry/index.db-wal is not a SQLite WAL"
    commits = 0
    for offset in range(WAL_HEADER.size, len(data), FRAME_HEADER.size + page_size):
        if offset + FRAME_HEADER.size > len(data):
            break
        _page, size_after, frame_salt1, frame_salt2, _c1, _c2 = FRAME_HEADER.unpack_from(
            data, offset
        )
        if (frame_salt1, frame_salt2) == (salt1, salt2) and size_after:
            commits += 1
    return WalCommits((salt1, salt2), commits)


class DiskState(NamedTuple):
    """What a commit would change on disk: the WAL's commit frames and the database file."""

    wal: WalCommits
    db: tuple[int, int]  # size, mtime_ns

    @classmethod
    def read(cls, root: Path) -> DiskState:
        st = os.stat(root / ".sqry" / "index.db")
        return cls(_wal_commits(root), (st.st_size, st.st_mtime_ns))

    def committed_since(self, earlier: DiskState) -> bool:
        """Whether a commit may have reached the disk between ``earlier`` and this state."""
        if self.db != earlier.db:
            return True  # a checkpoint copied WAL content into the database
        if self.wal.commits == 0:
            return False
        return self.wal.salts != earlier.wal.salts or self.wal.commits != earlier.wal.commits


def _in_transaction(root: Path, proc: subprocess.Popen) -> bool:
    """The build's main process holds SQLite's write lock and the index's build flock.

    The write lock is checked first: once it is the build's, the build already
    holds its flock (``build_lock`` is taken before the database is opened), so
    the flock probe cannot grab the lock from under a build that is starting.
    """
    return _wal_writer(root) == proc.pid and lock_is_held(root / ".sqry" / "index.lock")


def _not_in_transaction_reason(root: Path, proc: subprocess.Popen, start: DiskState) -> str:
    """Why the frozen build is not provably inside its transaction ('' when it is)."""
    if proc.poll() is not None:
        return f"the build had already exited ({proc.returncode})"
    if not _in_transaction(root, proc):
        return f"the build no longer holds its locks (WAL writer: {_wal_writer(root)})"
    if DiskState.read(root).committed_since(start):
        return "a commit reached the disk"
    return ""


# --------------------------------------------------------------------------- steps


def _timed_forced_build(root: Path) -> tuple[float, float]:
    """Run ``sqry index --force`` to the end; (total seconds, seconds it held the write lock).

    The lock time sizes the random delays of the in-transaction steps; it is a
    measurement, not an expectation (0 if the build was too quick to be seen).
    """
    started = time.monotonic()
    proc = _start_build(root, force=True)
    try:
        wait_until(
            lambda: proc.poll() is not None or _wal_writer(root) == proc.pid,
            600,
            interval=0.005,
            message="the forced build to take the write lock or end",
        )
        locked = time.monotonic()
        wait_until(
            lambda: proc.poll() is not None or _wal_writer(root) != proc.pid,
            600,
            interval=0.005,
            message="the forced build to commit",
        )
        held = time.monotonic() - locked
        assert proc.wait(timeout=600) == 0, "sqry index --force failed"
    finally:
        _kill_group(proc)
    return time.monotonic() - started, held


def _step_random(root: Path, force: bool, rng: random.Random, full_seconds: float) -> str:
    proc = _start_build(root, force)
    try:
        _poll_until(proc, time.monotonic() + rng.uniform(0.05, max(0.1, full_seconds)))
    finally:
        _kill_group(proc)
    return "random"


def _step_finish(root: Path, force: bool) -> str:
    proc = _start_build(root, force)
    try:
        assert proc.wait(timeout=600) == 0, f"sqry index (force={force}) failed"
    finally:
        _kill_group(proc)
    return "finish"


def _step_in_transaction(root: Path, rng: random.Random, span: float) -> str:
    """Kill a forced build at a random moment inside its transaction.

    Returns "in-transaction" when that was proven (see the module docstring),
    else "random": the delay overshot the commit (the kill then counts as a
    random one and the caller tries again with a shorter delay).
    """
    proc = _start_build(root, force=True)
    try:
        wait_until(
            lambda: proc.poll() is not None or _in_transaction(root, proc),
            600,
            interval=0.005,
            message="the build to take its build lock and write lock",
        )
        start = DiskState.read(root)
        _poll_until(proc, time.monotonic() + rng.uniform(0.0, span))
        _freeze(proc)
        reason = _not_in_transaction_reason(root, proc, start)
    finally:
        _kill_group(proc)
    if reason:
        print(f"in-transaction attempt missed: {reason}")
    return "random" if reason else "in-transaction"


# --------------------------------------------------------------------------- the test


@pytest.mark.timeout(900)
def test_sigkill_leaves_old_or_new_index(
    workspace: Path, sqry: Callable[..., subprocess.CompletedProcess[str]], snapshot, fresh_snapshot
) -> None:
    seed = int(os.environ.get("SQRY_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    root = workspace / "w"
    _copy_stdlib_part(root)
    assert sqry("index", str(root), timeout=600).returncode == 0
    full_seconds, txn_seconds = _timed_forced_build(root)
    previous = snapshot(root)
    plan: list[tuple[str, bool]] = [
        ("in-transaction", True),
        ("finish", rng.random() < 0.5),
        ("random", True),
        ("random", False),
    ]
    rng.shuffle(plan)
    attempts = 0
    outcomes: list[tuple[str, str]] = []
    step = 0
    while step < len(plan):
        kind, force = plan[step]
        where = f"seed {seed}, step {step} ({kind}, force={force})"
        _change_tree(root, step)
        expected_new = fresh_snapshot(root)
        if kind == "in-transaction":
            kind = _step_in_transaction(root, rng, 0.9 * txn_seconds / 4**attempts)
            attempts += 1
            if kind != "in-transaction" and attempts < IN_TRANSACTION_ATTEMPTS:
                plan.append(("in-transaction", True))
        elif kind == "finish":
            kind = _step_finish(root, force)
        else:
            kind = _step_random(root, force, rng, full_seconds)
        assert _integrity(root) == "ok", where
        after = snapshot(root)
        if kind == "in-transaction":
            assert after == previous, f"a kill inside the transaction did not roll back ({where})"
        elif kind == "finish":
            assert after == expected_new, f"a finished build differs from a fresh one ({where})"
        else:
            assert after in (previous, expected_new), f"a mix of old and new index ({where})"
        outcomes.append((kind, "old" if after == previous else "new"))
        assert sqry("index", str(root), timeout=600).returncode == 0
        assert snapshot(root) == expected_new, f"recovery build differs ({where})"
        previous = expected_new
        step += 1
    print(f"seed {seed}: outcomes {outcomes}")
    assert ("in-transaction", "old") in outcomes, (
        f"no kill was proven inside a build's transaction in {attempts} attempts (seed {seed})"
    )
    assert ("finish", "new") in outcomes, f"seed {seed}: {outcomes}"


@pytest.mark.timeout(300)
def test_sigkill_of_the_builder_alone_frees_the_workspace(workspace: Path, sqry) -> None:
    """Killing only the main ``sqry index`` process (an OOM kill, ``kill -9 PID``)
    must take its forked workers with it and release the build lock: a worker
    outliving it with an inherited copy of the lock would make every later
    ``sqry index`` wait forever."""
    root = workspace / "w"
    _copy_stdlib_part(root)
    proc = _start_build(root, force=True)
    try:
        wait_until(
            lambda: len(_group_members(proc.pid)) >= 2 or proc.poll() is not None,
            120,
            interval=0.005,
            message="the build to fork its workers",
        )
        assert proc.poll() is None, "the build ended before it forked a worker"
        workers = [pid for pid in _group_members(proc.pid) if pid != proc.pid]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        wait_until(
            lambda: not _group_members(proc.pid),
            30,
            message=lambda: f"the orphaned workers {workers} to die",
        )
        assert not lock_is_held(root / ".sqry" / "index.lock")
        assert sqry("index", str(root), timeout=240).returncode == 0
    finally:
        _kill_group(proc)
