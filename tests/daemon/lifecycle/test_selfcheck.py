"""The daemon gives up its name when it no longer owns it (beyond §5)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys

import pytest

from helpers import (
    SqrydEnv,
    pid_alive,
    read_pidfile,
    socket_accepts,
    wait_until,
)

FAST_CHECK = {"SQRYD_SELF_CHECK_SECS": "0.1"}


def start(env: SqrydEnv, **extra: str):
    proc = env.spawn("foreground", env=env.with_env(**{**FAST_CHECK, **extra}))
    wait_until(
        lambda: socket_accepts(env.socket) or proc.poll() is not None, 20, message="daemon ready"
    )
    assert proc.poll() is None, proc.stderr.read()
    return proc


@pytest.mark.timeout(60)
def test_overwritten_pidfile_makes_the_daemon_shut_down(sqryd_env: SqrydEnv) -> None:
    proc = start(sqryd_env)
    sqryd_env.pidfile.write_text("1\n")
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    log = sqryd_env.log.read_text()
    assert "self-check" in log and "names pid 1" in log
    assert not sqryd_env.socket.exists()


@pytest.mark.timeout(60)
def test_removed_runtime_dir_makes_the_daemon_shut_down(sqryd_env: SqrydEnv) -> None:
    proc = start(sqryd_env, SQRY_DAEMON_LOG_FILE="-")

    def removed() -> bool:
        # the daemon may add a file while rmtree walks the directory ("not empty")
        shutil.rmtree(sqryd_env.runtime, ignore_errors=True)
        return not sqryd_env.runtime.exists()

    wait_until(removed, 10, message="the runtime dir to be removed")
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "is gone" in err


@pytest.mark.timeout(60)
def test_replaced_socket_makes_the_daemon_shut_down(sqryd_env: SqrydEnv) -> None:
    proc = start(sqryd_env)
    sqryd_env.socket.unlink()
    sqryd_env.socket.write_text("someone else's file\n")
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert sqryd_env.socket.read_text() == "someone else's file\n", "not ours: left alone"


@pytest.mark.timeout(60)
def test_healthy_daemon_survives_many_checks(sqryd_env: SqrydEnv) -> None:
    proc = start(sqryd_env, SQRY_DAEMON_LOG_LEVEL="debug")
    # Each passing check logs its number: twenty of them ran and none failed.
    wait_until(
        lambda: "self-check #20 passed" in sqryd_env.log.read_text(), 20, message="20 self-checks"
    )
    assert pid_alive(proc.pid) and proc.poll() is None and socket_accepts(sqryd_env.socket)
    assert "self-check failed" not in sqryd_env.log.read_text()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("value", ["soon", "0", "inf", "nan", "1e3", "1_0", "-1", " 1"])
def test_bad_self_check_knob_is_a_config_error(sqryd_env: SqrydEnv, value: str) -> None:
    done = sqryd_env.run("foreground", env=sqryd_env.with_env(SQRYD_SELF_CHECK_SECS=value))
    assert done.returncode == 78
    assert "SQRYD_SELF_CHECK_SECS" in done.stderr and done.stderr.count("\n") == 1


def _takeover(env: SqrydEnv):
    """Daemon A loses its runtime dir; daemon B starts in a fresh one; A's check fires later."""
    old = env.spawn("foreground", env=env.with_env(SQRYD_SELF_CHECK_SECS="1.5"))
    # the ready marker, not the socket: a socket accepts (its backlog) as soon as it
    # listens, before the marker is written, and rmtree racing that write fails
    marker = env.runtime / "sqryd.ready"
    wait_until(lambda: marker.exists() or old.poll() is not None, 20, message="daemon A ready")
    shutil.rmtree(env.runtime)
    new = start(env, SQRYD_SELF_CHECK_SECS="30")
    assert new.pid != old.pid
    _, err = old.communicate(timeout=20)
    assert old.returncode == 0, err
    return new


@pytest.mark.timeout(60)
def test_a_displaced_daemon_leaves_the_new_daemons_socket_alone(sqryd_env: SqrydEnv) -> None:
    new = _takeover(sqryd_env)
    assert new.poll() is None
    assert socket_accepts(sqryd_env.socket), "the new daemon's socket must survive"
    assert (sqryd_env.runtime / "sqryd.ready").exists(), "and its ready marker"
    status = sqryd_env.run("status", "--json")
    assert status.returncode == 0 and f'"pid": {new.pid}' in status.stdout


@pytest.mark.timeout(60)
def test_a_displaced_daemon_leaves_the_new_daemons_pidfile_alone(sqryd_env: SqrydEnv) -> None:
    new = _takeover(sqryd_env)
    assert read_pidfile(sqryd_env.pidfile) == new.pid


@pytest.mark.timeout(60)
def test_a_displaced_daemon_leaves_the_new_daemons_ready_marker_alone(
    sqryd_env: SqrydEnv,
) -> None:
    """Once: the new daemon reopened (truncated) the old marker, so both had one inode,
    and the displaced daemon deleted the new daemon's marker on its way out."""
    old = start(sqryd_env, SQRYD_SELF_CHECK_SECS="30")  # no check fires during the test
    sqryd_env.lock.unlink()  # the name is free for a second daemon...
    sqryd_env.socket.unlink()
    new = start(sqryd_env, SQRYD_SELF_CHECK_SECS="30")
    marker = sqryd_env.runtime / "sqryd.ready"
    assert marker.exists()
    old.send_signal(signal.SIGTERM)  # ...and the displaced one leaves
    _, err = old.communicate(timeout=20)
    assert old.returncode == 0, err
    assert marker.exists(), "the new daemon's ready marker must survive"
    assert new.poll() is None and socket_accepts(sqryd_env.socket)
    assert read_pidfile(sqryd_env.pidfile) == new.pid


def _with_open_files_limit(limit: int) -> list[str]:
    """``sqryd`` run under an open-files limit (soft and hard) of ``limit``."""
    launcher = (
        "import resource, runpy, sys\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({limit}, {limit}))\n"
        "sys.argv[0] = 'sqryd'\n"
        "runpy.run_module('sqry.daemon.lifecycle.cli', run_name='__main__')\n"
    )
    return [sys.executable, "-c", launcher]


@pytest.mark.timeout(60)
def test_running_out_of_descriptors_neither_stops_the_daemon_nor_floods_its_log(
    sqryd_env: SqrydEnv,
) -> None:
    """A client flood past the open-files limit: accept fails (EMFILE) and so does
    reading the pidfile. Neither means the daemon lost its name; it keeps serving once
    the clients go, and its log holds JSON lines only, one warning for the flood."""
    proc = sqryd_env.spawn(
        "foreground", cmd=_with_open_files_limit(48), env=sqryd_env.with_env(**FAST_CHECK)
    )
    wait_until(
        lambda: socket_accepts(sqryd_env.socket) or proc.poll() is not None, 20, message="ready"
    )
    clients = []
    try:
        for _ in range(64):  # more than the daemon has descriptors left; the backlog holds them
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            clients.append(client)
            client.connect(os.fspath(sqryd_env.socket))
        wait_until(
            lambda: "cannot read pidfile" in sqryd_env.log.read_text(),
            20,
            message="a self-check to run out of descriptors",
        )
        assert proc.poll() is None, "the daemon stopped"
    finally:
        for client in clients:
            client.close()
    wait_until(lambda: sqryd_env.run("status").returncode == 0, 20, message="serving again")
    lines = sqryd_env.log.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # raises on a raw traceback line
    floods = [r for r in records if "out of system resource" in r["msg"]]
    assert len(floods) == 1 and "raise the open-files limit" in floods[0]["msg"]
    assert not any("shutting down" in r["msg"] for r in records)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SQRYD_SELF_CHECK_SECS", "0", "more than 0"),
        ("SQRYD_SELF_CHECK_SECS", "soon", "more than 0"),
        ("SQRYD_TEST_STARTUP_DELAY_SECS", "-1", "from 0"),
    ],
)
def test_a_bad_seconds_knob_is_a_config_error_naming_it(
    sqryd_env: SqrydEnv, name: str, value: str, expected: str
) -> None:
    done = sqryd_env.run("start", env=sqryd_env.with_env(**{name: value}))
    assert done.returncode == 78, done.stderr
    assert done.stderr == (
        f"sqryd: {name}={value!r} is not a number of seconds "
        f"(expected {expected} up to 31536000, e.g. 0.5)\n"
    )
