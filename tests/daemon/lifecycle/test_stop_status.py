"""``stop`` and ``status`` through the socket, for ``sqryd`` and ``sqry daemon`` (§6, §9)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
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


@pytest.mark.timeout(60)
def test_force_stop_never_kills_the_daemon_of_another_socket_sharing_the_lock(
    sqryd_env: SqrydEnv,
) -> None:
    """``/x/foo`` and ``/x/foo.sock`` name one stem, so one lock: ``stop --force``
    for the unserved ``/x/foo`` used to SIGTERM ``/x/foo.sock``'s daemon."""
    served, other = sqryd_env.dir / "foo.sock", sqryd_env.dir / "foo"
    env_served = sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(served))
    started = sqryd_env.run("start", "--detach", "--print-pid", env=env_served)
    assert started.returncode == 0, started.stderr
    pid = int(started.stdout)
    sqryd_env.track(pid)
    env_other = sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(other))
    done = sqryd_env.run("stop", "--force", "--timeout-secs", "1", env=env_other)
    assert done.returncode == 69, done.stderr
    assert (
        f"pid {pid}, which holds the lock {sqryd_env.dir}/foo.lock, serves the socket {served}"
        in done.stderr
    )
    assert done.stderr.count("\n") == 1
    assert pid_alive(pid) and socket_accepts(served)
    assert sqryd_env.run("stop", env=env_served).returncode == 0


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
    assert forced.stderr.splitlines() == [  # a stopped process ignores SIGTERM until killed
        f"sqryd: daemon did not stop within 1s; sent SIGTERM to pid {live_daemon.pid} "
        f"(it holds the lock {env.lock})",
        f"sqryd: daemon was still running 5s after SIGTERM; sent SIGKILL to pid "
        f"{live_daemon.pid} (it holds the lock {env.lock})",
    ]
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
    assert done.stderr == (
        f"sqryd: daemon did not stop within 1s; sent SIGTERM to pid {socketless_lock_holder.pid} "
        f"(it holds the lock {sqryd_env.lock})\n"
    )
    assert socketless_lock_holder.wait(10) == -signal.SIGTERM
    assert not lock_is_held(sqryd_env.lock)


# -- a daemon caught between "took the lock" and "serves" (starting) -----------


def _in_timed_sleep(pid: int) -> bool:
    """Is ``pid`` blocked in nanosleep (stop's poll loop sleeping between polls)?"""
    try:
        with open(f"/proc/{pid}/wchan") as fh:
            return "nanosleep" in fh.read()
    except OSError:
        return False


@pytest.fixture
def frozen_starting_daemon(sqryd_env: SqrydEnv):
    """A foreground daemon SIGSTOPped after it took the lock and before it bound its socket.

    The startup-delay knob keeps it away from the socket for 8 s (long, so a test
    process descheduled on a loaded machine still freezes it inside that window;
    the stop test's 30 s deadline covers what is left of it after resuming), so
    nothing answers while the lock is held for as long as the test wants.
    Yields (process, resume); teardown resumes it.
    """
    proc = sqryd_env.spawn("foreground", env=sqryd_env.with_env(SQRYD_TEST_STARTUP_DELAY_SECS="8"))
    wait_until(
        lambda: read_pidfile(sqryd_env.pidfile) == proc.pid and lock_is_held(sqryd_env.lock),
        20,
        message="the daemon to take the lock and write its pid",
    )
    os.kill(proc.pid, signal.SIGSTOP)

    def resume() -> None:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)

    try:
        assert not socket_accepts(sqryd_env.socket), "frozen before binding"
        yield proc, resume
    finally:
        resume()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cmd", ["sqryd", "sqry"])
def test_status_of_a_starting_daemon_says_so_with_75(
    sqryd_env: SqrydEnv, frozen_starting_daemon, cmd: str
) -> None:
    """Once "daemon is not running" (73) although the lock was held."""
    proc, _ = frozen_starting_daemon
    prefix, runner = ([], {}) if cmd == "sqryd" else (["daemon"], {"cmd": SQRY})
    done = sqryd_env.run(*prefix, "status", **runner)
    assert done.returncode == 75, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"{cmd}: daemon is starting or stopping: pid {proc.pid} holds the lock {sqryd_env.lock}"
    )
    assert str(sqryd_env.socket) in done.stderr


@pytest.mark.timeout(90)
@pytest.mark.skipif(not os.path.exists("/proc/self/wchan"), reason="needs /proc/<pid>/wchan")
def test_stop_during_startup_stops_the_daemon_once_it_serves(
    sqryd_env: SqrydEnv, frozen_starting_daemon
) -> None:
    """Once: daemon/stop sent only at the start, exit 69 at the deadline, daemon left running."""
    proc, resume = frozen_starting_daemon
    stopper = sqryd_env.spawn("stop", "--timeout-secs", "30")
    # Its first daemon/stop found nothing accepting; it now sleeps between polls.
    wait_until(lambda: _in_timed_sleep(stopper.pid), 20, message="stop to start polling")
    resume()
    out, err = stopper.communicate(timeout=60)
    assert stopper.returncode == 0, err
    assert out == "" and err == ""
    assert proc.wait(20) == 0, "the daemon stopped cleanly"
    assert not lock_is_held(sqryd_env.lock) and not socket_accepts(sqryd_env.socket)


# -- a status reply the human output cannot show ---------------------------------


class FakeStatusDaemon:
    """Listens on the daemon socket and answers every request with ``result_json``.

    ``result_json`` is raw text, so a test can send what ``json.dumps`` never
    writes (``Infinity``). Served from a thread; ``close()`` stops it.
    """

    HELLO = {"compatible": True, "daemon_version": "9.9", "envelope_version": 1}

    def __init__(self, path: str, result_json: str) -> None:
        import socket
        import threading

        self.result_json = result_json
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from sqry.daemon.ipc.framing import encode_frame, frame_bytes, recv_frame

        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    recv_frame(conn)
                    conn.sendall(encode_frame(self.HELLO))
                    request = json.loads(recv_frame(conn))
                    head = '{"jsonrpc":"2.0","id":' + str(int(request["id"]))
                    reply = head + ',"result":{"result":' + self.result_json + ',"meta":{}}}'
                    conn.sendall(frame_bytes(reply.encode()))
                except (OSError, TypeError, ValueError):
                    continue

    def close(self) -> None:
        import socket

        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(10)


@pytest.fixture
def fake_status(sqryd_env: SqrydEnv):
    """Start a FakeStatusDaemon on the env's socket: ``fake_status(result_json)``."""
    sqryd_env.runtime.mkdir(mode=0o700)
    fakes: list[FakeStatusDaemon] = []

    def start(result_json: str) -> FakeStatusDaemon:
        fakes.append(FakeStatusDaemon(str(sqryd_env.socket), result_json))
        return fakes[-1]

    yield start
    for fake in fakes:
        fake.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cmd", ["sqryd", "sqry"])
@pytest.mark.parametrize(
    ("result_json", "named"),
    [
        ('{"pid": 1, "workspaces": ["/src/a"]}', "workspaces[0] is '/src/a', expected an object"),
        ('{"pid": 1, "memory": "x"}', "memory is 'x', expected an object"),
        ('{"pid": 1, "memory": {"limit_bytes": 1e400}}', "memory.limit_bytes is inf"),
        ('{"pid": 1, "uptime_seconds": 1e999}', "uptime_seconds is inf, expected a count"),
        ('{"pid": "1; rm -rf /"}', "pid is '1; rm -rf /', expected a pid"),
        ('{"pid": 1, "workspaces": [{"state": 3}]}', "workspaces[0].state is 3, expected a str"),
    ],
)
def test_malformed_status_reply_is_one_line_73(
    sqryd_env: SqrydEnv, fake_status, cmd: str, result_json: str, named: str
) -> None:
    """Once: AttributeError/OverflowError tracebacks from format_status, exit 1."""
    fake_status(result_json)
    prefix, runner = ([], {}) if cmd == "sqryd" else (["daemon"], {"cmd": SQRY})
    done = sqryd_env.run(*prefix, "status", **runner)
    assert done.returncode == 73, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{cmd}: malformed daemon/status reply: {named}")
    raw = sqryd_env.run(*prefix, "status", "--json", **runner)
    assert raw.returncode == 0, "--json still shows what the daemon sent"


@pytest.mark.timeout(60)
def test_status_reply_with_non_json_infinity_is_rejected(sqryd_env: SqrydEnv, fake_status) -> None:
    """``Infinity`` is not JSON; the client once decoded it to a float and format_status crashed."""
    fake_status('{"pid": 1, "uptime_seconds": Infinity}')
    for argv in (["status"], ["status", "--json"]):
        done = sqryd_env.run(*argv)
        assert done.returncode == 73, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "reply to daemon/status is not valid JSON" in done.stderr


@pytest.mark.timeout(60)
def test_well_formed_status_with_workspaces_renders(sqryd_env: SqrydEnv, fake_status) -> None:
    fake_status(
        '{"pid": 7, "uptime_seconds": 3725.5, "daemon_version": "9.9", "socket": "/s",'
        ' "memory": {"current_bytes": 1048576, "limit_bytes": 2097152},'
        ' "workspaces": [{"index_root": "/src/a", "state": "Loaded", "pinned": true}]}'
    )
    done = sqryd_env.run("status")
    assert done.returncode == 0, done.stderr
    assert "uptime:  1h 02m 05s" in done.stdout and "1.0 MiB used / 2.0 MiB limit" in done.stdout
    assert "Loaded  /src/a  (pinned)" in done.stdout


# -- a lock path nobody can lock: the same message, with the fix, from every command ----


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("plant", "problem"),
    [
        (
            lambda lock: lock.symlink_to(lock.parent / "elsewhere"),
            "is a symlink; refusing to follow it: remove it",
        ),
        (lambda lock: lock.mkdir(), "is a directory; a daemon cannot lock it: remove it"),
    ],
    ids=["symlink", "directory"],
)
def test_unlockable_lock_file_is_named_with_the_fix_by_every_command(
    sqryd_env: SqrydEnv, plant, problem: str
) -> None:
    """Once: stop said "Too many levels of symbolic links"/"Is a directory", with no fix."""
    sqryd_env.runtime.mkdir(mode=0o700)
    plant(sqryd_env.lock)
    expected = f"sqryd: lock file {sqryd_env.lock} {problem}"
    for argv in (["start"], ["stop"], ["stop", "--force"], ["status"]):
        done = (
            sqryd_env.run(*argv, "--timeout-secs", "1")
            if argv[0] == "stop"
            else sqryd_env.run(*argv)
        )
        assert done.returncode == 73, (argv, done.stderr)
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(expected), (argv, done.stderr)
    assert not (sqryd_env.runtime / "elsewhere").exists(), "the symlink was never followed"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("lock_file", ["never-ran", "left-by-a-daemon"])
def test_status_not_running_stays_import_light(sqryd_env: SqrydEnv, lock_file: str) -> None:
    """The lock lookup behind "starting" must not load pathlib/logging unless the lock
    is held (a lock file is never deleted, so it usually exists, unheld)."""
    if lock_file == "left-by-a-daemon":
        sqryd_env.lock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        sqryd_env.lock.write_bytes(b"")
    code = (
        "import sys; from sqry.daemon.lifecycle.cli import main; rc = main(['status']); "
        "print(rc); print(' '.join(sorted(sys.modules)))"
    )
    done = sqryd_env.run("-c", code, cmd=[sys.executable])
    rc, modules = done.stdout.splitlines()
    assert rc == "73" and "daemon is not running" in done.stderr, done.stderr
    assert not {"pathlib", "logging", "sqry.daemon.lifecycle.pidfile"} & set(modules.split())


@pytest.mark.timeout(60)
def test_stop_names_a_foreign_listener_instead_of_suggesting_force(sqryd_env: SqrydEnv) -> None:
    """Something listens on the socket but no process holds the lock: not a sqryd
    of this socket, so ``--force`` (which signals the lock holder) cannot help."""
    sqryd_env.runtime.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(sqryd_env.socket))
        listener.listen(8)
        done = sqryd_env.run("stop", "--timeout-secs", "1")
    assert done.returncode == 69, done.stderr
    assert f"no process holds the lock {sqryd_env.lock}, so what accepts on" in done.stderr
    assert "--force" not in done.stderr and done.stderr.count("\n") == 1
