"""``stop`` and ``status`` through the socket, for ``sqryd`` and ``sqry daemon`` (§6, §9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from helpers import (
    SQRY,
    LiveDaemon,
    SqrydEnv,
    lock_is_held,
    pid_alive,
    read_pidfile,
    socket_accepts,
    wait_until,
)


@pytest.mark.timeout(60)
def test_status_json_fields(live_daemon: LiveDaemon) -> None:
    done = live_daemon.env.run("status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["pid"] == live_daemon.pid
    assert status["socket"] == str(live_daemon.socket)
    assert isinstance(status["uptime_seconds"], int) and status["uptime_seconds"] >= 0
    assert status["daemon_version"]
    assert set(status["memory"]) >= {"limit_bytes", "current_bytes", "reserved_bytes"}
    assert status["memory"]["limit_bytes"] == 2048 * 1024 * 1024
    assert status["workspaces"] == []


@pytest.mark.timeout(60)
def test_status_human_output(live_daemon: LiveDaemon) -> None:
    done = live_daemon.env.run("status")
    assert done.returncode == 0, done.stderr
    assert f"pid:     {live_daemon.pid}" in done.stdout
    assert f"socket:  {live_daemon.socket}" in done.stdout
    assert "2048.0 MiB limit" in done.stdout
    assert "uptime:" in done.stdout


@pytest.mark.timeout(60)
def test_sqry_daemon_status_matches_sqryd_status(live_daemon: LiveDaemon) -> None:
    env = live_daemon.env
    ours = json.loads(env.run("status", "--json").stdout)
    theirs = env.run("daemon", "status", "--json", cmd=SQRY)
    assert theirs.returncode == 0, theirs.stderr
    other = json.loads(theirs.stdout)
    assert other["pid"] == ours["pid"] and other["socket"] == ours["socket"]


@pytest.mark.timeout(60)
def test_status_never_changes_a_file(live_daemon: LiveDaemon) -> None:
    runtime = live_daemon.env.runtime
    before = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in runtime.iterdir()}
    for _ in range(3):
        assert live_daemon.env.run("status").returncode == 0
    after = {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in runtime.iterdir()}
    assert {k: v for k, v in after.items() if k != "sqryd.log"} == {
        k: v for k, v in before.items() if k != "sqryd.log"
    }


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cmd", ["sqryd", "sqry"])
def test_not_running_is_73_with_one_line(sqryd_env: SqrydEnv, cmd: str) -> None:
    prefix = [] if cmd == "sqryd" else ["daemon"]
    runner = {} if cmd == "sqryd" else {"cmd": SQRY}
    for verb in ("status", "stop"):
        done = sqryd_env.run(*prefix, verb, **runner)
        assert done.returncode == 73, done.stderr
        assert done.stderr.count("\n") == 1
        assert done.stderr.startswith(f"{cmd}: daemon is not running (socket {sqryd_env.socket})")
    assert not sqryd_env.runtime.exists() or not any(sqryd_env.runtime.iterdir())


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "argv",
    [["status"], ["stop"], ["daemon", "status"], ["daemon", "stop"], ["daemon", "start"]],
    ids=" ".join,
)
def test_socket_path_too_long_is_a_config_error_not_not_running(
    sqryd_env: SqrydEnv, argv: list[str]
) -> None:
    deep = sqryd_env.dir / ("d" * 80)
    deep.mkdir(mode=0o700)
    path = deep / ("s" * 40 + ".sock")
    runner = {"cmd": SQRY} if argv[0] == "daemon" else {}
    done = sqryd_env.run(*argv, env=sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(path)), **runner)
    prog = "sqry" if argv[0] == "daemon" else "sqryd"
    assert done.returncode == 78, done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"{prog}: socket path {path} is {len(str(path))} bytes, over")
    assert list(deep.iterdir()) == [], "nothing was created or started"


@pytest.mark.timeout(60)
def test_sqry_daemon_start_then_stop(sqryd_env: SqrydEnv) -> None:
    started = sqryd_env.run("daemon", "start", cmd=SQRY)
    assert started.returncode == 0, started.stderr
    pid = read_pidfile(sqryd_env.pidfile)
    assert pid is not None
    sqryd_env.track(pid)
    assert started.stdout.strip() == f"sqryd started (pid {pid}) on socket {sqryd_env.socket}"
    again = sqryd_env.run("daemon", "start", cmd=SQRY)
    assert again.returncode == 0
    assert again.stdout.strip() == f"sqryd already running (pid {pid}) on socket {sqryd_env.socket}"
    stopped = sqryd_env.run("daemon", "stop", cmd=SQRY)
    assert stopped.returncode == 0, stopped.stderr
    # stop returns once the lock is free; the process exits right after releasing it
    wait_until(lambda: not pid_alive(pid), 5, message="the daemon process to exit")
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cmd", ["sqryd", "sqry"])
@pytest.mark.parametrize("value", ["inf", "1e10", "nan", "86401"])
def test_stop_timeout_out_of_range_is_a_usage_error_and_stops_nothing(
    live_daemon: LiveDaemon, cmd: str, value: str
) -> None:
    """Once a traceback (OverflowError in settimeout) after daemon/stop had been sent."""
    prefix, runner = ([], {}) if cmd == "sqryd" else (["daemon"], {"cmd": SQRY})
    done = live_daemon.env.run(*prefix, "stop", "--timeout-secs", value, **runner)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{cmd}: --timeout-secs expects a number of seconds")
    assert f"{cmd} " in done.stderr.split("(see ", 1)[1], "the hint names the right command"
    assert socket_accepts(live_daemon.socket) and pid_alive(live_daemon.pid)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cmd", ["sqryd", "sqry"])
def test_stop_accepts_the_largest_timeout(live_daemon: LiveDaemon, cmd: str) -> None:
    prefix, runner = ([], {}) if cmd == "sqryd" else (["daemon"], {"cmd": SQRY})
    done = live_daemon.env.run(*prefix, "stop", "--timeout-secs", "86400", **runner)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: not pid_alive(live_daemon.pid), 10, message="the daemon to exit")


@pytest.fixture
def unrelated_process():
    """A live process that has nothing to do with sqryd (stands in for a reused pid)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.timeout(90)
def test_pidfile_naming_an_unrelated_live_process(sqryd_env: SqrydEnv, unrelated_process) -> None:
    sqryd_env.runtime.mkdir(mode=0o700)
    sqryd_env.pidfile.write_text(f"{unrelated_process.pid}\n")

    status = sqryd_env.run("status")
    assert status.returncode == 73
    assert "not running" in status.stderr

    forced = sqryd_env.run("stop", "--force", "--timeout-secs", "1")
    assert forced.returncode == 73, forced.stderr
    assert unrelated_process.poll() is None, "stop --force must never signal it"

    daemon = LiveDaemon.start(sqryd_env)
    assert daemon.pid != unrelated_process.pid
    assert read_pidfile(sqryd_env.pidfile) == daemon.pid
    assert sqryd_env.run("stop").returncode == 0
    assert unrelated_process.poll() is None


@pytest.mark.timeout(90)
def test_force_stop_refuses_a_pid_that_does_not_hold_the_lock(
    live_daemon: LiveDaemon, unrelated_process
) -> None:
    """A wedged daemon, but the pidfile was rewritten to name someone else: no signal."""
    env = live_daemon.env
    os.kill(live_daemon.pid, signal.SIGSTOP)
    try:
        env.pidfile.write_text(f"{unrelated_process.pid}\n")
        done = env.run("stop", "--force", "--timeout-secs", "1", timeout=60)
        assert done.returncode == 69, done.stderr
        assert "does not hold the lock" in done.stderr
        assert done.stderr.count("\n") == 1
        assert unrelated_process.poll() is None
        assert pid_alive(live_daemon.pid)
    finally:
        os.kill(live_daemon.pid, signal.SIGCONT)


@pytest.mark.timeout(90)
def test_force_stop_kills_a_wedged_daemon_that_holds_the_lock(live_daemon: LiveDaemon) -> None:
    env = live_daemon.env
    os.kill(live_daemon.pid, signal.SIGSTOP)  # hears nothing, holds the lock
    plain = env.run("stop", "--timeout-secs", "1", timeout=60)
    assert plain.returncode == 69, plain.stderr
    assert plain.stderr.startswith("sqryd: daemon did not stop within 1s (it did not answer")
    assert "--force" in plain.stderr and plain.stderr.count("\n") == 1
    assert pid_alive(live_daemon.pid)

    forced = env.run("stop", "--force", "--timeout-secs", "1", timeout=60)
    assert forced.returncode == 0, forced.stderr
    wait_until(lambda: not pid_alive(live_daemon.pid), 10, message="the daemon to die")
    assert not lock_is_held(env.lock)


@pytest.mark.timeout(60)
def test_stop_waits_until_socket_and_lock_are_released(live_daemon: LiveDaemon) -> None:
    env = live_daemon.env
    done = env.run("stop")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert not env.socket.exists()
    assert not lock_is_held(env.lock)
    # stop returns once the lock is free; the process exits right after releasing it
    wait_until(lambda: not pid_alive(live_daemon.pid), 5, message="the daemon process to exit")


LOCK_HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def socketless_lock_holder(sqryd_env: SqrydEnv):
    """A process that holds the daemon lock but has no socket (a draining or broken daemon)."""
    sqryd_env.runtime.mkdir(mode=0o700)
    proc = sqryd_env.spawn(
        "-c", LOCK_HOLDER, str(sqryd_env.lock), cmd=[sys.executable], stdin=subprocess.PIPE
    )
    assert proc.stdout.readline().strip() == "locked"
    sqryd_env.pidfile.write_text(f"{proc.pid}\n")
    return proc


@pytest.mark.timeout(60)
def test_stop_waits_for_a_lock_holder_that_does_not_accept(
    sqryd_env: SqrydEnv, socketless_lock_holder
) -> None:
    done = sqryd_env.run("stop", "--timeout-secs", "1")
    assert done.returncode == 69, done.stderr
    assert "holds the lock but does not accept connections" in done.stderr
    assert done.stderr.count("\n") == 1
    assert socketless_lock_holder.poll() is None, "no signal without --force"


@pytest.mark.timeout(60)
def test_force_stop_signals_the_proven_lock_owner(
    sqryd_env: SqrydEnv, socketless_lock_holder
) -> None:
    done = sqryd_env.run("stop", "--force", "--timeout-secs", "1")
    assert done.returncode == 0, done.stderr
    assert socketless_lock_holder.wait(10) == -signal.SIGTERM
    assert not lock_is_held(sqryd_env.lock)
