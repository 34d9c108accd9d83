"""What a whole ``sqryd status`` / ``sqry daemon status`` process imports, against a live daemon.

Start-up time of these commands is a benchmark target (``bench/lifecycle.py``:
<= 3x a bare ``python -c pass``), and nearly all of it is imports. The timing is
measured by the benchmark; these tests pin the cause: modules that each cost
milliseconds and that the status path does not need must stay out of it.
"""

from __future__ import annotations

import sys

import pytest

from helpers import LiveDaemon

pytestmark = pytest.mark.timeout(90)

NEVER_ON_THE_STATUS_PATH = {
    "asyncio",
    "dataclasses",
    "inspect",
    "locale",
    "logging",
    "pathlib",
    "selectors",
    "shutil",
    "socket",
    "sqlite3",
    "sqry.cli.graph_cmds",
    "sqry.cli.index_cmd",
    "sqry.cli.output",
    "sqry.graph",
    "threading",
    "tomllib",
    "tree_sitter",
    "typing",
}


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` output (one line per import)."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    names.discard("imported package")  # the header line
    return names


@pytest.mark.parametrize(
    "command",
    [["sqry.daemon.lifecycle.cli", "status"], ["sqry.cli.main", "daemon", "status"]],
    ids=["sqryd status", "sqry daemon status"],
)
def test_status_imports_nothing_it_does_not_need(
    live_daemon: LiveDaemon, command: list[str]
) -> None:
    done = live_daemon.env.run(
        *command[1:], cmd=[sys.executable, "-X", "importtime", "-m", command[0]]
    )
    assert done.returncode == 0, done.stderr
    assert f"pid:     {live_daemon.pid}" in done.stdout
    modules = imported_modules(done.stderr)
    assert {"sqry.client.connection", "json"} <= modules  # the parse is right
    assert not NEVER_ON_THE_STATUS_PATH & modules
