"""Crash safety: a build SIGKILLed at any moment leaves the old index or the new one.

A copy of part of the standard library is indexed; then the tree is changed and
``sqry index`` (forced or incremental) is started and killed — with its pool
workers, by process group — after a random delay. The surviving database must
pass ``PRAGMA integrity_check`` and answer exactly as either the previous
complete build or a complete build of the changed tree does; a following
``sqry index`` must then bring it to the latter.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from helpers import WaitTimeout, wait_until

STDLIB = Path(sysconfig.get_paths()["stdlib"])
PACKAGES = ("email", "json", "http", "xml", "asyncio", "unittest", "logging", "importlib")


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


def _change_tree(root: Path, step: int) -> None:
    victim = sorted(root.rglob("*.py"))[step * 7]
    victim.write_text(victim.read_text() + f"\n\ndef added_in_step_{step}():\n    pass\n")
    (root / f"new_module_{step}.py").write_text(
        f"def fresh_{step}():\n    added_in_step_{step}()\n"
    )
    doomed = sorted(root.rglob("*.py"))[step * 11 + 3]
    doomed.unlink()


@pytest.mark.timeout(900)
def test_sigkill_leaves_old_or_new_index(workspace: Path, sqry, snapshot, fresh_snapshot) -> None:
    seed = int(os.environ.get("SQRY_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    root = workspace / "w"
    _copy_stdlib_part(root)
    assert sqry("index", str(root), timeout=600).returncode == 0
    started = time.monotonic()
    assert sqry("index", "--force", str(root), timeout=600).returncode == 0
    full_seconds = time.monotonic() - started
    previous = snapshot(root)
    outcomes = []
    for step in range(4):
        _change_tree(root, step)
        expected_new = fresh_snapshot(root)
        args = ["index", "--force", str(root)] if step % 2 == 0 else ["index", str(root)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "sqry.cli.main", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _poll_until(proc, time.monotonic() + rng.uniform(0.05, max(0.1, full_seconds)))
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        assert _integrity(root) == "ok", f"seed {seed}, step {step}"
        after = snapshot(root)
        if after == previous:
            outcomes.append("old")
        else:
            assert after == expected_new, f"a mix of old and new index (seed {seed}, step {step})"
            outcomes.append("new")
        assert sqry("index", str(root), timeout=600).returncode == 0
        assert snapshot(root) == expected_new, f"recovery build differs (seed {seed})"
        previous = expected_new
    print(f"seed {seed}: outcomes {outcomes}")
