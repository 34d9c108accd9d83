"""The singleton flock and pidfile: ports of the seed's tests T1-T11, plus extras.

Contention is always probed through a *fresh* ``os.open`` (a new open file
description): flock conflicts are between OFDs, and a dup'd fd shares one.
Where the point is "another process", the holder or contender is a real
child process.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sqry.daemon.lifecycle.errors import AlreadyRunning, DaemonIoError
from sqry.daemon.lifecycle.paths import RuntimePaths
from sqry.daemon.lifecycle.pidfile import (
    PidfileLock,
    PidfileOwnership,
    acquire_pidfile_lock,
    is_would_block,
    lock_is_free,
    pid_holds_lock,
    read_pid,
    write_pidfile_atomic,
)

# A child that opens a file, optionally flocks it, then reports and waits for stdin EOF.
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
if sys.argv[2] == "lock":
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("ready", flush=True)
sys.stdin.read()
"""

# A child that plays the detached daemon: adopt the inherited fd, write its pid, wait.
ADOPTER = """
import os, sys
from pathlib import Path
from sqry.daemon.lifecycle.pidfile import PidfileLock
lock = PidfileLock.adopt(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
lock.write_pid(os.getpid())
print(lock.ownership.name, flush=True)
sys.stdin.read()
lock.close()
"""

# A child that takes the lock through the library, then waits.
ACQUIRER = """
import sys
from sqry.daemon.lifecycle.paths import RuntimePaths
from sqry.daemon.lifecycle.pidfile import acquire_pidfile_lock
lock = acquire_pidfile_lock(RuntimePaths.resolve(sys.argv[1]))
print("ready", flush=True)
sys.stdin.read()
lock.close()
"""


@pytest.fixture
def rt() -> Iterator[RuntimePaths]:
    """Paths under a fresh short private dir: ``<tmp>/sqry/sqryd.*`` (dir not created yet)."""
    base = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield RuntimePaths.resolve(None, {"XDG_RUNTIME_DIR": str(base)})
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def tmp() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start python children; every one is killed and reaped at teardown."""
    procs: list[subprocess.Popen[str]] = []

    def start(script: str, *args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", script, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            pass_fds=pass_fds,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def held_by_someone(lockfile: Path) -> bool:
    """Probe through a fresh OFD: True if the exclusive flock is refused."""
    fd = os.open(lockfile, os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def locked_file(path: Path) -> int:
    """Open (create) ``path`` and take an exclusive flock; return the fd."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def wait_ready(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line, f"child exited early with {proc.wait()}"
    return line


def finish(proc: subprocess.Popen[str]) -> int:
    """Close the child's stdin (its cue to exit) and reap it."""
    assert proc.stdin is not None
    proc.stdin.close()
    return proc.wait(timeout=20)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- T1-T5: acquire ---------------------------------------------------------------------


def test_t1_acquire_succeeds_on_clean_dir(rt: RuntimePaths) -> None:
    lock = acquire_pidfile_lock(rt)
    try:
        assert lock.ownership is PidfileOwnership.WRITE_OWNER
        assert rt.pid.exists()
        assert read_pid(rt.pid) == os.getpid()
        assert (lock.pidfile_path, lock.lockfile_path) == (rt.pid, rt.lock)
        assert held_by_someone(rt.lock)
    finally:
        lock.close()


def test_t2_second_acquire_is_already_running_with_our_pid(rt: RuntimePaths) -> None:
    with acquire_pidfile_lock(rt):
        with pytest.raises(AlreadyRunning) as info:
            acquire_pidfile_lock(rt)
    err = info.value
    assert err.owner_pid == os.getpid()
    assert (err.socket, err.lock, err.exit_code) == (rt.socket, rt.lock, 75)
    assert f"pid={os.getpid()}" in str(err)


@pytest.mark.timeout(30)
def test_acquire_against_another_process_names_its_pid(rt: RuntimePaths, spawn) -> None:
    child = spawn(ACQUIRER, str(rt.socket))
    wait_ready(child)
    with pytest.raises(AlreadyRunning) as info:
        acquire_pidfile_lock(rt)
    assert info.value.owner_pid == child.pid
    assert finish(child) == 0
    assert not rt.pid.exists()
    acquire_pidfile_lock(rt).close()


def test_already_running_with_garbled_pidfile_reports_unknown_pid(rt: RuntimePaths) -> None:
    with acquire_pidfile_lock(rt):
        rt.pid.write_text("not a pid\n")
        with pytest.raises(AlreadyRunning, match=r"\(pid=\?\)") as info:
            acquire_pidfile_lock(rt)
    assert info.value.owner_pid is None


def test_t3_close_removes_pidfile_but_not_lockfile(rt: RuntimePaths) -> None:
    lock = acquire_pidfile_lock(rt)
    inode = os.stat(rt.lock).st_ino
    lock.close()
    assert not rt.pid.exists()
    assert rt.lock.exists() and os.stat(rt.lock).st_ino == inode
    assert not held_by_someone(rt.lock)
    lock.close()  # idempotent, never raises
    assert lock.closed


def test_t4_stale_pidfile_is_reclaimed_and_overwritten(rt: RuntimePaths) -> None:
    rt.runtime_dir.mkdir(mode=0o700)
    rt.lock.write_bytes(b"")
    rt.pid.write_bytes(b"99999\n")
    inode = os.stat(rt.lock).st_ino
    with acquire_pidfile_lock(rt) as lock:
        assert lock.ownership is PidfileOwnership.WRITE_OWNER
        assert read_pid(rt.pid) == os.getpid()
        assert os.stat(rt.lock).st_ino == inode, "same lock inode: never recreated"


@pytest.mark.timeout(30)
def test_lock_of_a_killed_holder_is_reclaimed(rt: RuntimePaths, spawn) -> None:
    child = spawn(ACQUIRER, str(rt.socket))
    wait_ready(child)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert read_pid(rt.pid) == child.pid, "SIGKILL leaves the stale pidfile behind"
    with acquire_pidfile_lock(rt):
        assert read_pid(rt.pid) == os.getpid()


def test_t5_modes_dir_0700_lock_0600_pid_0644(rt: RuntimePaths) -> None:
    old = os.umask(0o022)
    try:
        with acquire_pidfile_lock(rt):
            assert mode(rt.runtime_dir) == 0o700
            assert mode(rt.lock) == 0o600
            assert mode(rt.pid) == 0o644
    finally:
        os.umask(old)


@pytest.mark.parametrize("umask", [0o000, 0o077])
def test_modes_do_not_depend_on_umask(rt: RuntimePaths, umask: int) -> None:
    old = os.umask(umask)
    try:
        with acquire_pidfile_lock(rt):
            assert (mode(rt.lock), mode(rt.pid)) == (0o600, 0o644)
    finally:
        os.umask(old)


def test_existing_lockfile_is_normalised_to_0600_and_not_truncated(rt: RuntimePaths) -> None:
    rt.runtime_dir.mkdir(mode=0o700)
    rt.lock.write_bytes(b"legacy content")
    os.chmod(rt.lock, 0o666)
    with acquire_pidfile_lock(rt):
        assert mode(rt.lock) == 0o600
        assert rt.lock.read_bytes() == b"legacy content"


def test_symlinked_lockfile_is_refused(rt: RuntimePaths, tmp: Path) -> None:
    rt.runtime_dir.mkdir(mode=0o700)
    victim = tmp / "victim"
    victim.write_text("keep")
    rt.lock.symlink_to(victim)
    with pytest.raises(DaemonIoError, match="symlink") as info:
        acquire_pidfile_lock(rt)
    assert info.value.exit_code == 73
    assert victim.read_text() == "keep"
    assert not rt.pid.exists()


def test_two_private_sockets_in_one_dir_do_not_collide(tmp: Path) -> None:
    a = RuntimePaths.resolve(tmp / "a.sock")
    b = RuntimePaths.resolve(tmp / "b.sock")
    with acquire_pidfile_lock(a), acquire_pidfile_lock(b):
        assert (read_pid(a.pid), read_pid(b.pid)) == (os.getpid(), os.getpid())
        assert held_by_someone(a.lock) and held_by_someone(b.lock)
    assert not a.pid.exists() and not b.pid.exists()


# --- T6: handoff -------------------------------------------------------------------------


def test_t6_hand_off_keeps_pidfile_on_close(rt: RuntimePaths) -> None:
    lock = acquire_pidfile_lock(rt)
    lock.hand_off_to_adopter()
    assert lock.ownership is PidfileOwnership.HANDOFF
    lock.close()
    assert rt.pid.exists(), "Handoff close must not unlink the pidfile"


def test_hand_off_from_non_write_owner_raises(rt: RuntimePaths, tmp: Path) -> None:
    lock = acquire_pidfile_lock(rt)
    lock.hand_off_to_adopter()
    with pytest.raises(RuntimeError, match="HANDOFF"):
        lock.hand_off_to_adopter()
    lock.close()
    fd = locked_file(tmp / "t.lock")
    adopted = PidfileLock.adopt(fd, tmp / "t.pid", tmp / "t.lock")
    with pytest.raises(RuntimeError, match="ADOPTED"):
        adopted.hand_off_to_adopter()
    assert adopted.ownership is PidfileOwnership.ADOPTED
    adopted.close()


# --- T7, T8, T11: adoption -----------------------------------------------------------------


def test_t7_adopt_of_duped_fd_still_blocks_a_contender(tmp: Path) -> None:
    lockfile, pidfile = tmp / "test.lock", tmp / "test.pid"
    original = locked_file(lockfile)
    adopted = PidfileLock.adopt(os.dup(original), pidfile, lockfile)
    assert adopted.ownership is PidfileOwnership.ADOPTED
    fresh = os.open(lockfile, os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fresh, fcntl.LOCK_SH | fcntl.LOCK_NB)
    finally:
        os.close(fresh)
    os.close(original)
    adopted.close()
    assert not held_by_someone(lockfile), "free once every fd of the OFD is closed"


def test_t8_adopted_close_unlinks_pidfile(tmp: Path) -> None:
    lockfile, pidfile = tmp / "test.lock", tmp / "test.pid"
    original = locked_file(lockfile)
    pidfile.write_text("12345\n")
    adopted = PidfileLock.adopt(os.dup(original), pidfile, lockfile)
    os.close(original)
    assert pidfile.exists()
    adopted.close()
    assert not pidfile.exists()


def test_t11_closing_parent_fds_without_unlock_keeps_adopted_lock(tmp: Path) -> None:
    lockfile, pidfile = tmp / "test.lock", tmp / "test.pid"
    original = locked_file(lockfile)
    pidfile.write_text("42\n")
    parent_fd = os.dup(original)
    child = PidfileLock.adopt(os.dup(original), pidfile, lockfile)
    os.close(parent_fd)  # what a Handoff close does: close, no LOCK_UN
    os.close(original)
    assert held_by_someone(lockfile), "the adopted fd still holds the OFD lock"
    child.close()
    assert not held_by_someone(lockfile)
    assert not pidfile.exists()


def test_t11_with_real_handles_handoff_close_keeps_adopter_lock(rt: RuntimePaths) -> None:
    parent = acquire_pidfile_lock(rt)
    child = PidfileLock.adopt(os.dup(parent.fileno()), rt.pid, rt.lock)
    parent.hand_off_to_adopter()
    parent.close()
    assert held_by_someone(rt.lock)
    assert rt.pid.exists()
    child.close()
    assert not held_by_someone(rt.lock)
    assert not rt.pid.exists()


def test_unlock_from_a_write_owner_would_release_the_shared_ofd(rt: RuntimePaths) -> None:
    # Why Handoff must not LOCK_UN: an unlock through any fd frees the adopter too.
    parent = acquire_pidfile_lock(rt)
    child = PidfileLock.adopt(os.dup(parent.fileno()), rt.pid, rt.lock)
    parent.close()  # still WRITE_OWNER: unlinks and LOCK_UNs the shared OFD
    assert not held_by_someone(rt.lock)
    child.close()


@pytest.mark.timeout(30)
def test_detach_style_handoff_to_a_real_child_process(rt: RuntimePaths, spawn) -> None:
    parent = acquire_pidfile_lock(rt)
    child = spawn(
        ADOPTER, str(parent.fileno()), str(rt.pid), str(rt.lock), pass_fds=(parent.fileno(),)
    )
    assert wait_ready(child) == "ADOPTED"
    assert read_pid(rt.pid) == child.pid, "the adopter overwrote the parent's pid"
    parent.hand_off_to_adopter()
    parent.close()
    assert held_by_someone(rt.lock)
    assert pid_holds_lock(child.pid, rt.lock)
    assert not pid_holds_lock(os.getpid(), rt.lock)
    assert finish(child) == 0
    assert not held_by_someone(rt.lock)
    assert not rt.pid.exists()


def test_adopt_refuses_an_fd_that_is_not_the_lock_file(tmp: Path) -> None:
    lockfile = tmp / "a.lock"
    lockfile.write_bytes(b"")
    other = os.open(tmp, os.O_RDONLY)
    try:
        with pytest.raises(DaemonIoError, match="is not the lock file"):
            PidfileLock.adopt(other, tmp / "a.pid", lockfile)
    finally:
        os.close(other)
    closed = os.open(lockfile, os.O_RDONLY)
    os.close(closed)
    with pytest.raises(DaemonIoError, match="not an open file descriptor"):
        PidfileLock.adopt(closed, tmp / "a.pid", lockfile)


def test_adopt_refuses_an_fd_whose_open_file_does_not_hold_the_held_lock(tmp: Path) -> None:
    """Beyond the seed, which trusts its caller: an fd of the right lock file that
    does not hold the flock another process (here: another open file) holds must
    not make a second daemon; an fd of a free lock takes it."""
    lockfile = tmp / "a.lock"
    lockfile.write_bytes(b"")
    holder = os.open(lockfile, os.O_RDWR)
    stranger = os.open(lockfile, os.O_RDWR)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DaemonIoError, match="does not hold the lock on .*another process"):
            PidfileLock.adopt(stranger, tmp / "a.pid", lockfile)
        fcntl.flock(holder, fcntl.LOCK_UN)
        adopted = PidfileLock.adopt(stranger, tmp / "a.pid", lockfile)
        stranger = -1  # the handle owns it now
        try:
            with pytest.raises(BlockingIOError):  # the adopter holds the lock
                fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            adopted.close()
    finally:
        os.close(holder)
        if stranger >= 0:
            os.close(stranger)


def test_close_in_a_forked_copy_touches_nothing(rt: RuntimePaths) -> None:
    lock = acquire_pidfile_lock(rt)
    pid = os.fork()
    if pid == 0:  # child: only close the inherited copy, then leave without cleanup
        try:
            lock.close()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert rt.pid.exists() and held_by_someone(rt.lock)
    lock.close()
    assert not rt.pid.exists()


def test_context_manager_and_finalizer_release(rt: RuntimePaths) -> None:
    with acquire_pidfile_lock(rt) as lock:
        assert not lock.closed
    assert lock.closed and not rt.pid.exists()
    lock2 = acquire_pidfile_lock(rt)
    del lock2  # __del__ is the safety net
    assert not held_by_someone(rt.lock)


def test_close_never_raises_when_the_pidfile_cannot_be_removed(rt: RuntimePaths) -> None:
    lock = acquire_pidfile_lock(rt)
    rt.pid.unlink()
    rt.pid.mkdir()  # unlink() of a directory fails: logged, not raised
    lock.close()
    assert not held_by_someone(rt.lock)


def test_close_leaves_a_successors_pidfile_alone(rt: RuntimePaths) -> None:
    # The runtime dir vanished under a running daemon and a second one started.
    first = acquire_pidfile_lock(rt)
    shutil.rmtree(rt.runtime_dir)
    second = acquire_pidfile_lock(rt)
    second.write_pid(4242)
    first.close()
    assert read_pid(rt.pid) == 4242, "the old owner must not delete the new owner's pidfile"
    assert held_by_someone(rt.lock)
    second.close()
    assert not rt.pid.exists()


# --- T9: write_pid / pidfile I/O ------------------------------------------------------------


def test_t9_write_pid_overwrites(rt: RuntimePaths) -> None:
    with acquire_pidfile_lock(rt) as lock:
        lock.write_pid(42_000)
        assert read_pid(rt.pid) == 42_000
        assert rt.pid.read_text() == "42000\n"


def test_write_pidfile_atomic_mode_and_no_leftovers(tmp: Path) -> None:
    old = os.umask(0o777)
    try:
        write_pidfile_atomic(tmp / "x.pid", 123)
    finally:
        os.umask(old)
    assert mode(tmp / "x.pid") == 0o644
    assert sorted(p.name for p in tmp.iterdir()) == ["x.pid"]


def test_write_pidfile_failure_is_an_io_error_and_cleans_up(tmp: Path) -> None:
    (tmp / "x.pid").mkdir()  # rename onto a directory fails
    with pytest.raises(DaemonIoError, match="cannot write pidfile") as info:
        write_pidfile_atomic(tmp / "x.pid", 1)
    assert str(info.value).endswith(": it is a directory; remove it (rmdir) and start again")
    assert sorted(p.name for p in tmp.iterdir()) == ["x.pid"]


@pytest.mark.parametrize("bad", [0, -5, True, "12", 2**32])
def test_write_pidfile_rejects_non_pids(tmp: Path, bad: object) -> None:
    with pytest.raises(ValueError):
        write_pidfile_atomic(tmp / "x.pid", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"77\n", 77),
        (b"  88  ", 88),
        (b"\t99\r\n", 99),
        (b"0042\n", 42),
        (b"4294967295\n", 4294967295),  # u32::MAX, like the seed
        (b"4294967296\n", None),  # u32 overflow
        (b"99999999999999999999999999\n", None),
        (b"", None),
        (b"abc\n", None),
        (b"0\n", None),
        (b"-3", None),
        (b"+5\n", None),
        (b"1_0\n", None),  # int() reads 10
        ("\u0665\n".encode(), None),  # Arabic-Indic five: int() reads 5
        ("\uff17".encode(), None),  # fullwidth seven
        (b"1 2\n", None),
        (b"12\n13\n", None),
        (b"0x10", None),
        (b"\xff\xfe", None),
    ],
)
def test_read_pid(tmp: Path, content: bytes, expected: int | None) -> None:
    (tmp / "p").write_bytes(content)
    assert read_pid(tmp / "p") == expected


@pytest.mark.timeout(10)
def test_read_pid_missing_or_fifo_is_none_without_hanging(tmp: Path) -> None:
    assert read_pid(tmp / "missing") is None
    os.mkfifo(tmp / "fifo")
    assert read_pid(tmp / "fifo") is None


# --- T10: would-block classifier ------------------------------------------------------------


def test_t10_is_would_block() -> None:
    assert is_would_block(BlockingIOError(errno.EWOULDBLOCK, "would block"))
    assert is_would_block(OSError(errno.EAGAIN, "again"))
    assert not is_would_block(PermissionError(errno.EACCES, "denied"))
    assert not is_would_block(OSError(errno.EIO, "io"))


def test_real_flock_contention_is_classified_as_would_block(tmp: Path) -> None:
    holder = locked_file(tmp / "l")
    contender = os.open(tmp / "l", os.O_RDWR)
    try:
        with pytest.raises(OSError) as info:
            fcntl.flock(contender, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert is_would_block(info.value)
    finally:
        os.close(contender)
        os.close(holder)


# --- lock_is_free / pid_holds_lock ------------------------------------------------------


def test_lock_is_free_on_missing_file_never_creates_it(tmp: Path) -> None:
    assert lock_is_free(tmp / "none.lock") is True
    assert not (tmp / "none.lock").exists()


def test_lock_is_free_tracks_the_holder(rt: RuntimePaths) -> None:
    lock = acquire_pidfile_lock(rt)
    assert lock_is_free(rt.lock) is False
    assert held_by_someone(rt.lock), "the probe must not steal or release the lock"
    lock.close()
    assert lock_is_free(rt.lock) is True
    assert not held_by_someone(rt.lock), "the probe releases what it took"


def test_lock_is_free_refuses_symlinks(tmp: Path) -> None:
    (tmp / "real").write_bytes(b"")
    (tmp / "link.lock").symlink_to(tmp / "real")
    with pytest.raises(DaemonIoError, match="link.lock"):
        lock_is_free(tmp / "link.lock")


@pytest.mark.timeout(30)
def test_pid_holds_lock_with_real_processes(tmp: Path, spawn) -> None:
    lockfile = tmp / "d.lock"
    lockfile.write_bytes(b"")
    holder = spawn(HOLDER, str(lockfile), "lock")
    opener = spawn(HOLDER, str(lockfile), "open")  # has the file open, no lock
    (tmp / "other").touch()
    unrelated = spawn(HOLDER, str(tmp / "other"), "lock")  # live, holds a different lock
    for proc in (holder, opener, unrelated):
        wait_ready(proc)
    assert pid_holds_lock(holder.pid, lockfile) is True
    assert pid_holds_lock(opener.pid, lockfile) is False
    assert pid_holds_lock(unrelated.pid, lockfile) is False
    assert pid_holds_lock(os.getpid(), lockfile) is False
    finish(holder)
    assert pid_holds_lock(holder.pid, lockfile) is False, "a reaped pid proves nothing"


def test_pid_holds_lock_for_our_own_acquire(rt: RuntimePaths) -> None:
    with acquire_pidfile_lock(rt):
        assert pid_holds_lock(os.getpid(), rt.lock) is True
    assert pid_holds_lock(os.getpid(), rt.lock) is False


def test_pid_holds_lock_on_doubt_is_false(tmp: Path) -> None:
    assert pid_holds_lock(os.getpid(), tmp / "missing.lock") is False
    assert pid_holds_lock(0, tmp / "missing.lock") is False
    assert pid_holds_lock(2**22 + 12345, tmp / "missing.lock") is False
