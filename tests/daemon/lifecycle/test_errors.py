"""Exit codes and message shapes of the daemon errors (lifecycle.md §3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sqry.daemon.lifecycle import errors as e


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (e.UsageError, 2),
        (e.ReadyTimeout, 69),
        (e.StopTimeout, 69),
        (e.InternalError, 70),
        (e.SignalSetupError, 70),
        (e.SocketSetupError, 70),
        (e.DaemonIoError, 73),
        (e.RuntimeDirUnsafe, 77),
        (e.ConfigError, 78),
    ],
)
def test_message_errors_carry_their_exit_code(cls: type[e.DaemonError], code: int) -> None:
    err = cls("something specific went wrong")
    assert isinstance(err, e.DaemonError)
    assert err.exit_code == code
    assert str(err) == "something specific went wrong"


def test_sysexits_constants() -> None:
    assert (e.EX_OK, e.EX_USAGE, e.EX_UNAVAILABLE, e.EX_SOFTWARE) == (0, 2, 69, 70)
    assert (e.EX_CANTCREAT, e.EX_TEMPFAIL, e.EX_NOPERM, e.EX_CONFIG) == (73, 75, 77, 78)


def test_already_running_message_and_attributes() -> None:
    err = e.AlreadyRunning(4242, Path("/r/sqryd.sock"), Path("/r/sqryd.lock"))
    assert err.exit_code == 75
    assert str(err) == (
        "sqryd is already running (pid=4242) on socket /r/sqryd.sock (lock: /r/sqryd.lock)"
    )
    assert (err.owner_pid, err.socket, err.lock) == (
        4242,
        Path("/r/sqryd.sock"),
        Path("/r/sqryd.lock"),
    )


def test_already_running_unknown_pid_prints_question_mark() -> None:
    err = e.AlreadyRunning(None, "/r/s.sock", "/r/s.lock")
    assert "(pid=?)" in str(err)
    assert err.owner_pid is None


def test_not_running_names_the_socket() -> None:
    err = e.NotRunning(Path("/r/sqryd.sock"))
    assert err.exit_code == 73
    assert str(err) == "daemon is not running (socket /r/sqryd.sock)"
    assert err.socket == Path("/r/sqryd.sock")


def test_timeout_messages_have_the_spec_shape() -> None:
    assert str(e.ReadyTimeout.after(10, "/r/s.sock")) == (
        "daemon did not become ready within 10s on socket /r/s.sock"
    )
    assert str(e.StopTimeout.after(2.5)) == "daemon did not stop within 2.5s"


def test_errors_are_single_line_and_unprefixed() -> None:
    for err in (e.AlreadyRunning(1, "/a", "/b"), e.NotRunning("/a"), e.StopTimeout.after(15)):
        assert "\n" not in str(err)
        assert not str(err).startswith("sqryd:")


def test_error_paths_are_paths_whatever_was_given() -> None:
    err = e.AlreadyRunning(7, "/r/s.sock", Path("/r/s.lock"))
    assert (err.socket, err.lock) == (Path("/r/s.sock"), Path("/r/s.lock"))
    assert e.NotRunning("/r/s.sock").socket == Path("/r/s.sock")


def test_importing_the_errors_imports_nothing() -> None:
    """Every client path imports this module; it must not pull pathlib or typing in."""
    code = (
        "import sys; before = set(sys.modules); import sqry.daemon.lifecycle.errors; "
        "print(' '.join(m for m in set(sys.modules) - before if not m.startswith('sqry')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) <= {"__future__"}
