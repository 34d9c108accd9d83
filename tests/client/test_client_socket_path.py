"""A socket path longer than a Unix socket address holds is a config error, never "not running".

It used to map to NotRunning ("daemon is not running", exit 73), and ``auto_start``
then tried to start a daemon that could never bind there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from helpers import SqrydEnv
from sqry.client import ClientError, DaemonClient, NotRunning, SocketPathTooLong
from sqry.daemon.lifecycle.paths import socket_path_limit

pytestmark = pytest.mark.timeout(60)


def long_socket(base: Path, length: int) -> str:
    """An absolute socket path of exactly ``length`` bytes under ``base`` (dirs created)."""
    room = length - len(str(base)) - len("/") - len("/s.sock")
    assert room > 0
    directory = base / ("d" * room)
    directory.mkdir()
    path = f"{directory}/s.sock"
    assert len(os.fsencode(path)) == length
    return path


def test_over_long_path_is_its_own_error_naming_length_and_limit(sock_dir: Path) -> None:
    path = long_socket(sock_dir, 140)
    with pytest.raises(SocketPathTooLong) as info:
        DaemonClient.connect(path)
    err = info.value
    assert isinstance(err, ClientError) and not isinstance(err, NotRunning)
    assert err.exit_code == 78 and err.socket_path == path
    message = str(err)
    assert f"{path} is 140 bytes, over the {socket_path_limit()}-byte limit" in message
    assert "SQRY_DAEMON_SOCKET" in message and "\n" not in message


def test_one_byte_over_the_limit_is_caught_too(sock_dir: Path) -> None:
    """108 bytes: Python's connect() accepts it (sun_path is 108 bytes on Linux), the
    kernel finds nothing there, and the client still names the real problem."""
    path = long_socket(sock_dir, socket_path_limit() + 1)
    with pytest.raises(SocketPathTooLong, match=f"is {socket_path_limit() + 1} bytes"):
        DaemonClient.connect(path)


def test_path_at_the_limit_is_plain_not_running(sock_dir: Path) -> None:
    path = long_socket(sock_dir, socket_path_limit())
    with pytest.raises(NotRunning):
        DaemonClient.connect(path)


def test_auto_start_is_never_attempted(sock_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []
    monkeypatch.setattr(
        "sqry.client.bootstrap.auto_start_daemon", lambda path, cfg: attempts.append(path)
    )
    monkeypatch.delenv("SQRY_DAEMON_NO_AUTO_START", raising=False)
    path = long_socket(sock_dir, 140)
    with pytest.raises(SocketPathTooLong):
        DaemonClient.connect(path, auto_start=True)
    assert attempts == []


@pytest.mark.parametrize(
    ("module", "args", "prog"),
    [
        ("sqry.daemon.lifecycle.cli", ["status"], "sqryd"),
        ("sqry.cli.main", ["daemon", "status"], "sqry"),
    ],
    ids=["sqryd status", "sqry daemon status"],
)
def test_status_reports_one_line_naming_length_and_limit(
    sqryd_env: SqrydEnv, module: str, args: list[str], prog: str
) -> None:
    path = long_socket(sqryd_env.dir, 137)
    done = sqryd_env.run(
        *args, cmd=[sys.executable, "-m", module], env=sqryd_env.with_env(SQRY_DAEMON_SOCKET=path)
    )
    assert done.returncode != 0 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{prog}: socket path {path} is 137 bytes, over the ")
    assert "not running" not in lines[0]


def test_sqryd_status_exits_with_the_config_error_code(sqryd_env: SqrydEnv) -> None:
    path = long_socket(sqryd_env.dir, 137)
    done = sqryd_env.run("status", env=sqryd_env.with_env(SQRY_DAEMON_SOCKET=path))
    assert done.returncode == 78, done.stderr
