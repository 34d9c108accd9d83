"""``sqryd start`` in the foreground: singleton, signals, stale state, socket setup (§5, §9)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess

import pytest

from helpers import (
    SqrydEnv,
    lock_is_held,
    pid_alive,
    read_pidfile,
    socket_accepts,
    stuck_connection,
    wait_until,
)

DRAIN_SECS = 5


def start_foreground(sqryd: SqrydEnv, *args: str, **kw):
    """Start ``sqryd start`` and wait until its socket accepts."""
    proc = sqryd.spawn("start", *args, **kw)
    wait_until(
        lambda: socket_accepts(sqryd.socket) or proc.poll() is not None,
        20,
        message="the foreground daemon's socket",
    )
    assert proc.poll() is None, f"daemon exited {proc.returncode}: {proc.stderr.read()}"
    return proc


def finish(proc, timeout: float) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


@pytest.mark.timeout(60)
def test_second_start_exits_75_naming_the_first_pid(sqryd_env: SqrydEnv) -> None:
    first = start_foreground(sqryd_env)
    second = sqryd_env.run("start")
    assert second.returncode == 75
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith("sqryd: sqryd is already running (pid=")
    assert f"(pid={first.pid})" in lines[0]
    assert str(sqryd_env.socket) in lines[0] and str(sqryd_env.lock) in lines[0]
    assert first.poll() is None, "the running daemon must be unaffected"
    assert read_pidfile(sqryd_env.pidfile) == first.pid
    writers = {json.loads(line)["pid"] for line in sqryd_env.log.read_text().splitlines()}
    assert writers == {first.pid}, "the loser wrote into the running daemon's log"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_shuts_down_cleanly(sqryd_env: SqrydEnv, sig: signal.Signals) -> None:
    proc = start_foreground(sqryd_env)
    lock_inode = os.stat(sqryd_env.lock).st_ino
    ready = sqryd_env.runtime / "sqryd.ready"
    wait_until(ready.exists, 10, message="the ready marker (touched just after listen)")
    proc.send_signal(sig)
    code, err = finish(proc, DRAIN_SECS + 2)
    assert code == 0, err
    assert not sqryd_env.socket.exists(), "the socket must be unlinked at shutdown"
    assert not sqryd_env.pidfile.exists(), "the pidfile must be removed at shutdown"
    assert not (sqryd_env.runtime / "sqryd.ready").exists()
    assert os.stat(sqryd_env.lock).st_ino == lock_inode, "the lock file is never unlinked"
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
def test_sigterm_during_an_open_connection_still_exits_within_drain(sqryd_env: SqrydEnv) -> None:
    proc = start_foreground(sqryd_env)
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle.connect(str(sqryd_env.socket))  # never says hello
    try:
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc, DRAIN_SECS + 2)
    finally:
        idle.close()
    assert code == 0, err
    assert not sqryd_env.socket.exists()


@pytest.mark.timeout(60)
def test_sigkill_leaves_stale_files_and_the_next_start_reclaims_them(sqryd_env: SqrydEnv) -> None:
    first = start_foreground(sqryd_env)
    lock_inode = os.stat(sqryd_env.lock).st_ino
    first.kill()
    first.wait(10)
    assert read_pidfile(sqryd_env.pidfile) == first.pid, "SIGKILL leaves the pidfile"
    assert sqryd_env.socket.exists(), "SIGKILL leaves the socket file"
    assert not socket_accepts(sqryd_env.socket)

    second = start_foreground(sqryd_env)
    assert second.pid != first.pid
    assert read_pidfile(sqryd_env.pidfile) == second.pid
    assert os.stat(sqryd_env.lock).st_ino == lock_inode, "same lock-file inode"
    second.send_signal(signal.SIGTERM)
    assert finish(second, DRAIN_SECS + 2)[0] == 0


@pytest.mark.timeout(60)
def test_a_killed_daemons_ready_marker_is_gone_before_the_next_is_ready(
    sqryd_env: SqrydEnv,
) -> None:
    marker = sqryd_env.runtime / "sqryd.ready"
    first = start_foreground(sqryd_env)
    first.kill()
    first.wait(10)
    assert marker.exists(), "SIGKILL leaves the ready marker"
    stalled = sqryd_env.spawn(
        "foreground", env=sqryd_env.with_env(SQRYD_TEST_STARTUP_DELAY_SECS="60")
    )
    wait_until(
        lambda: "stalling startup" in sqryd_env.log.read_text(), 20, message="startup to stall"
    )
    assert not marker.exists(), "a marker claimed ready while the new daemon was starting"
    stalled.send_signal(signal.SIGTERM)  # stopped before ready: the set-aside marker goes too
    assert finish(stalled, DRAIN_SECS + 2)[0] == 0
    assert sorted(p.name for p in sqryd_env.runtime.glob("sqryd.ready*")) == []


@pytest.mark.timeout(60)
def test_non_socket_file_at_the_socket_path_is_refused_and_untouched(sqryd_env: SqrydEnv) -> None:
    sqryd_env.runtime.mkdir(mode=0o700)
    sqryd_env.socket.write_text("precious\n")
    done = sqryd_env.run("start")
    assert done.returncode == 78, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sqryd: "), done.stderr
    assert str(sqryd_env.socket) in lines[0] and "not a socket" in lines[0]
    assert sqryd_env.socket.read_text() == "precious\n"
    assert not sqryd_env.pidfile.exists(), "a failed start removes its pidfile"
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("argv", [["start"], ["start", "--detach"]], ids=" ".join)
def test_live_socket_at_the_socket_path_is_refused_and_untouched(
    sqryd_env: SqrydEnv, argv: list[str]
) -> None:
    """Once: unlinked as "stale" and taken over, cutting the listener off from its clients."""
    sqryd_env.runtime.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(sqryd_env.socket))
        listener.listen(4)
        inode = os.stat(sqryd_env.socket).st_ino
        done = sqryd_env.run(*argv)
        assert done.returncode == 78, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(
            f"sqryd: another program (pid {os.getpid()}) is listening on socket "
            f"{sqryd_env.socket}; refusing to take it over"
        )
        assert "SQRY_DAEMON_SOCKET" in lines[0]
        assert os.stat(sqryd_env.socket).st_ino == inode and socket_accepts(sqryd_env.socket)
    assert not sqryd_env.pidfile.exists(), "a failed start removes its pidfile"
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
def test_socket_nobody_listens_on_is_stale_and_replaced(sqryd_env: SqrydEnv) -> None:
    sqryd_env.runtime.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as left_behind:
        left_behind.bind(str(sqryd_env.socket))  # bound, never listening: connect is refused
        proc = start_foreground(sqryd_env)
    assert "removing stale socket" in sqryd_env.log.read_text()
    proc.send_signal(signal.SIGTERM)
    assert finish(proc, DRAIN_SECS + 2)[0] == 0


@pytest.mark.timeout(60)
def test_socket_modes_and_pidfile(sqryd_env: SqrydEnv) -> None:
    proc = start_foreground(sqryd_env)
    assert os.stat(sqryd_env.socket).st_mode & 0o777 == 0o600
    assert os.stat(sqryd_env.runtime).st_mode & 0o777 == 0o700
    assert read_pidfile(sqryd_env.pidfile) == proc.pid
    assert pid_alive(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert finish(proc, DRAIN_SECS + 2)[0] == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", ["start", "foreground"])
def test_socket_path_too_long_is_78_before_anything_is_created(
    sqryd_env: SqrydEnv, command: str
) -> None:
    deep = sqryd_env.dir / ("d" * 60)
    deep.mkdir(mode=0o700)
    long_socket = deep / ("s" * 55 + ".sock")
    assert len(os.fsencode(long_socket)) > 107
    done = sqryd_env.run(command, env=sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(long_socket)))
    assert done.returncode == 78, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sqryd: "), done.stderr
    assert f"is {len(os.fsencode(long_socket))} bytes" in lines[0]
    assert "107-byte limit" in lines[0] and "SQRY_DAEMON_SOCKET" in lines[0]
    assert list(deep.iterdir()) == [], "no lock, log or pidfile was created"


def _log_text(env: SqrydEnv) -> str:
    return env.log.read_text() if env.log.exists() else ""


def _draining_with_a_stuck_client(
    env: SqrydEnv, *, drain_secs: int
) -> tuple[subprocess.Popen, int, socket.socket]:
    """A foreground daemon with ``ipc_shutdown_drain_secs = drain_secs`` and a client
    that never reads its replies: (process, lock file inode, that connection)."""
    config = env.dir / "daemon.toml"
    config.write_text(f"ipc_shutdown_drain_secs = {drain_secs}\n")
    proc = start_foreground(env, "--config", str(config))
    return proc, os.stat(env.lock).st_ino, stuck_connection(env.socket)


@pytest.mark.timeout(60)
def test_second_sigterm_during_a_slow_drain_is_logged_and_ignored(sqryd_env: SqrydEnv) -> None:
    proc, lock_inode, conn = _draining_with_a_stuck_client(sqryd_env, drain_secs=120)
    try:
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: "stopped accepting" in _log_text(sqryd_env), 10, message="the drain")
        proc.send_signal(signal.SIGTERM)
        wait_until(
            lambda: "received SIGTERM while already shutting down; ignored" in _log_text(sqryd_env),
            10,
            message="the second SIGTERM to be logged",
        )
        assert proc.poll() is None, "still draining the stuck connection"
        assert "sqryd stopped" not in _log_text(sqryd_env)
    finally:
        conn.close()  # lets the drain finish
    code, err = finish(proc, 20)
    assert code == 0, err
    assert not sqryd_env.socket.exists() and not sqryd_env.pidfile.exists()
    assert os.stat(sqryd_env.lock).st_ino == lock_inode and not lock_is_held(sqryd_env.lock)
    assert json.loads(_log_text(sqryd_env).splitlines()[-1])["msg"] == "sqryd stopped"


@pytest.mark.timeout(60)
def test_sigterm_with_a_client_that_never_reads_ends_at_the_drain_deadline(
    sqryd_env: SqrydEnv,
) -> None:
    """§5/§9: SIGTERM with a connection whose replies cannot be written: the
    daemon force-closes it at ``ipc_shutdown_drain_secs``, logs that, and exits
    0 with its socket and pidfile gone and its lock file kept."""
    proc, lock_inode, conn = _draining_with_a_stuck_client(sqryd_env, drain_secs=1)
    try:
        proc.send_signal(signal.SIGTERM)
        code, err = finish(proc, 20)  # drain (1 s) + shutdown, with room for a slow machine
        assert code == 0, err
        assert "drain timeout (1s): force-closing 1 connection(s)" in _log_text(sqryd_env)
        conn.settimeout(10)
        with contextlib.suppress(ConnectionResetError):
            while conn.recv(1 << 20):  # the replies it managed to write, then EOF
                pass
    finally:
        conn.close()
    assert not sqryd_env.socket.exists() and not sqryd_env.pidfile.exists()
    assert os.stat(sqryd_env.lock).st_ino == lock_inode and not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
def test_sigterm_after_the_drain_cannot_kill_the_exiting_daemon(sqryd_env: SqrydEnv) -> None:
    """Once the loop is gone its handlers are too: the signals must stay ignored, not fatal."""
    proc = start_foreground(sqryd_env)
    proc.send_signal(signal.SIGTERM)
    # Fire SIGTERMs until the process is gone: some land during and after the drain.
    while proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(0.001)
    assert proc.returncode == 0
    assert not sqryd_env.socket.exists() and not sqryd_env.pidfile.exists()


@pytest.mark.timeout(60)
def test_fifo_log_file_warns_and_serves_instead_of_hanging(sqryd_env: SqrydEnv) -> None:
    fifo = sqryd_env.dir / "log.fifo"
    os.mkfifo(fifo)
    env = sqryd_env.with_env(SQRY_DAEMON_LOG_FILE=str(fifo))
    proc = start_foreground(sqryd_env, env=env)
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc, DRAIN_SECS + 2)
    assert code == 0, err
    first = err.splitlines()[0]
    assert first == (
        f"sqryd: warning: cannot open log file {fifo}: it is a FIFO or socket, not a regular "
        "file; logging to stderr instead (set log_file or SQRY_DAEMON_LOG_FILE)"
    )
    assert "ready (pid" in err, "the log went to stderr"


@pytest.mark.timeout(60)
def test_fifo_log_file_does_not_hang_a_detached_start(sqryd_env: SqrydEnv) -> None:
    fifo = sqryd_env.dir / "log.fifo"
    os.mkfifo(fifo)
    env = sqryd_env.with_env(SQRY_DAEMON_LOG_FILE=str(fifo))
    done = sqryd_env.run("start", "--detach", "--print-pid", env=env)
    assert done.returncode == 0, done.stderr
    sqryd_env.track(int(done.stdout))
    assert socket_accepts(sqryd_env.socket)
    assert sqryd_env.run("stop", env=env).returncode == 0
