"""``flock_held``: whether a flock is held, read from /proc/locks without locking."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import wait_until
from sqry.daemon.lifecycle.config import load_config
from sqry.daemon.lifecycle.control import daemon_status
from sqry.daemon.lifecycle.errors import AlreadyRunning, DaemonNotAnswering, NotRunning
from sqry.daemon.lifecycle.lockprobe import flock_held
from sqry.daemon.lifecycle.pidfile import acquire_pidfile_lock

HOLD = "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); fcntl.flock(fd, {}); "
HOLD += "print('held', flush=True); sys.stdin.read()"


def hold(path: Path, mode: str):  # noqa: ANN201
    """A child process holding a flock on ``path`` until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(mode), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline() == "held\n"
    return proc


@pytest.fixture
def runtime() -> Iterator[Path]:
    """A short private XDG_RUNTIME_DIR (socket paths are limited to 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode", ["fcntl.LOCK_EX", "fcntl.LOCK_SH"])
def test_a_lock_another_process_holds_is_seen_and_its_release_too(
    tmp_path: Path, mode: str
) -> None:
    lock = tmp_path / "sqryd.lock"
    lock.write_bytes(b"")
    other = tmp_path / "other.lock"
    other.write_bytes(b"")
    assert flock_held(lock) is False
    proc = hold(lock, mode)
    try:
        assert flock_held(lock) is True
        assert flock_held(other) is False, "another file's lock is not this one"
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    wait_until(lambda: flock_held(lock) is False, 10, message="the lock to be released")


def test_a_missing_file_is_not_held_and_a_directory_cannot_be_told(tmp_path: Path) -> None:
    assert flock_held(tmp_path / "missing.lock") is False
    assert flock_held(tmp_path) is None


@pytest.mark.timeout(60)
def test_status_never_takes_the_lock_so_a_racing_start_never_loses_to_it(
    runtime: Path,
) -> None:
    """lifecycle §6: status never takes the lock. A flock probe in status made a
    concurrent acquire fail with "already running (pid=?)" about one time in
    eight; reading /proc/locks cannot."""
    env = {"XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime)}
    cfg = load_config(env=env)
    paths = cfg.paths(env)
    stop = threading.Event()
    answers: list[type] = []

    def ask_status() -> None:
        while not stop.is_set():
            try:
                daemon_status(cfg, env=env)
            except (NotRunning, DaemonNotAnswering) as exc:
                answers.append(type(exc))

    acquire_pidfile_lock(paths).close()  # the lock file exists, as after any daemon
    asker = threading.Thread(target=ask_status)
    asker.start()
    lost = 0
    try:
        for _ in range(500):
            try:
                acquire_pidfile_lock(paths).close()
            except AlreadyRunning:
                lost += 1
    finally:
        stop.set()
        asker.join(timeout=10)
    assert answers, "status ran meanwhile"
    assert lost == 0
    # and an unheld lock file left behind is "not running", not "starting"
    with pytest.raises(NotRunning):
        daemon_status(cfg, env=env)
    fd = os.open(paths.lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(DaemonNotAnswering):
            daemon_status(cfg, env=env)
    finally:
        os.close(fd)
