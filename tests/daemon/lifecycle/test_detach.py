"""``sqryd start --detach``: lock hand-off, ready pipe, startup failures (§4, §9)."""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import socket
import sys

import pytest

from helpers import (
    SQRY,
    LiveDaemon,
    SqrydEnv,
    fd_targets,
    lock_is_held,
    pid_alive,
    processes_mentioning,
    read_pidfile,
    socket_accepts,
    wait_until,
)


@pytest.mark.timeout(60)
def test_detach_hands_the_lock_to_the_daemon(sqryd_env: SqrydEnv) -> None:
    parent = sqryd_env.spawn("start", "--detach", "--print-pid")
    out, err = parent.communicate(timeout=30)
    assert parent.returncode == 0, err
    assert err == ""
    daemon_pid = int(out.strip())
    sqryd_env.track(daemon_pid)

    assert daemon_pid != parent.pid
    assert read_pidfile(sqryd_env.pidfile) == daemon_pid, "pidfile names the daemon, not the parent"
    assert pid_alive(daemon_pid)
    assert socket_accepts(sqryd_env.socket), "ready means the socket already accepts"
    lock = os.stat(sqryd_env.lock)
    assert (lock.st_dev, lock.st_ino) in fd_targets(daemon_pid), "daemon holds the lock file open"

    fd = os.open(sqryd_env.lock, os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)

    stopped = sqryd_env.run("stop")
    assert stopped.returncode == 0, stopped.stderr
    # stop returns once the lock is free; the process exits right after releasing it
    wait_until(lambda: not pid_alive(daemon_pid), 5, message="the daemon process to exit")
    assert not lock_is_held(sqryd_env.lock), "after stop a fresh flock succeeds"
    assert not sqryd_env.pidfile.exists() and not sqryd_env.socket.exists()


@pytest.mark.timeout(60)
def test_detached_daemon_has_its_own_session_and_no_handoff_leftovers(
    live_daemon: LiveDaemon,
) -> None:
    pid = live_daemon.pid
    assert os.getsid(pid) == pid, "the daemon leads its own session"
    pipes = [
        os.readlink(f"/proc/{pid}/fd/{fd}")
        for fd in os.listdir(f"/proc/{pid}/fd")
        if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:")
    ]
    assert pipes == [], f"the ready pipe must be closed after READY: {pipes}"
    flags = _fd_flags_of_lock(pid, live_daemon.env)
    assert flags & 0o2000000, "the adopted lock fd must be close-on-exec again"


def _fd_flags_of_lock(pid: int, env: SqrydEnv) -> int:
    lock = os.stat(env.lock)
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            st = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (lock.st_dev, lock.st_ino):
            with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                for line in fh:
                    if line.startswith("flags:"):
                        return int(line.split()[1], 8)
    raise AssertionError("daemon has no fd on the lock file")


@pytest.mark.timeout(60)
def test_detach_while_running_exits_75(live_daemon: LiveDaemon) -> None:
    again = live_daemon.env.run("start", "--detach")
    assert again.returncode == 75
    assert again.stderr.startswith("sqryd: sqryd is already running (pid=")
    assert f"pid={live_daemon.pid}" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert read_pidfile(live_daemon.env.pidfile) == live_daemon.pid


@pytest.mark.timeout(60)
def test_startup_failure_is_reported_by_the_parent_and_leaves_nothing(sqryd_env: SqrydEnv) -> None:
    sqryd_env.runtime.mkdir(mode=0o700)
    sqryd_env.socket.write_text("not a socket\n")
    done = sqryd_env.run("start", "--detach")
    assert done.returncode == 78, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "not a socket" in lines[0] and str(sqryd_env.socket) in lines[0]
    assert sqryd_env.socket.read_text() == "not a socket\n", "the file is left untouched"
    assert not sqryd_env.pidfile.exists()
    assert not lock_is_held(sqryd_env.lock)
    wait_until(
        lambda: not processes_mentioning(str(sqryd_env.dir)),
        10,
        message="no daemon process left behind",
    )


@pytest.mark.timeout(60)
def test_config_error_in_detach_is_78_before_spawning(sqryd_env: SqrydEnv) -> None:
    bad = sqryd_env.dir / "bad.toml"
    bad.write_text("no_such_key = 1\n")
    done = sqryd_env.run("--config", str(bad), "start", "--detach")
    assert done.returncode == 78
    assert done.stderr.count("\n") == 1 and "no_such_key" in done.stderr
    # A child is spawned only after the parent took the lock, which creates the
    # runtime dir; its absence proves no lock, pidfile, socket or ready file ever
    # existed, so no child can have run.
    assert not sqryd_env.runtime.exists(), "the config was rejected before any file was made"
    assert processes_mentioning(str(sqryd_env.dir)) == [], "no daemon process exists"


@pytest.mark.timeout(60)
def test_detached_daemon_logs_to_the_log_file(live_daemon: LiveDaemon) -> None:
    log = live_daemon.env.log
    wait_until(lambda: log.exists() and "ready" in log.read_text(), 10, message="a ready log line")
    assert os.stat(log).st_mode & 0o777 == 0o600


@pytest.mark.timeout(60)
def test_child_role_without_the_handoff_environment_exits_73(sqryd_env: SqrydEnv) -> None:
    done = sqryd_env.run("start", "--detach", "--spawned-by-client")
    assert done.returncode == 73
    assert "SQRYD_READY_PIPE_FD" in done.stderr
    assert done.stderr.count("\n") == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("value", ["banana", "99999999999999999999", "\u00b2", "-1"])
def test_child_role_with_a_malformed_fd_names_the_variable(sqryd_env: SqrydEnv, value: str) -> None:
    env = sqryd_env.with_env(
        SQRYD_READY_PIPE_FD=value,
        SQRYD_LOCK_FD="3",
        SQRYD_PIDFILE_PATH=str(sqryd_env.pidfile),
        SQRYD_LOCKFILE_PATH=str(sqryd_env.lock),
    )
    done = sqryd_env.run("start", "--detach", "--spawned-by-client", env=env)
    assert done.returncode == 73, done.stderr
    assert f"SQRYD_READY_PIPE_FD={value!r} is not a file descriptor number" in done.stderr


@pytest.mark.timeout(60)
def test_child_role_with_paths_the_config_does_not_name_leaves_no_pidfile(
    sqryd_env: SqrydEnv,
) -> None:
    """A hand-made child whose handed-over pidfile is not the configured one stops
    before writing it: no parent is there to clean up after it."""
    sqryd_env.runtime.mkdir(mode=0o700)
    stray = sqryd_env.dir / "elsewhere.pid"
    lock_fd = os.open(sqryd_env.lock, os.O_RDWR | os.O_CREAT, 0o600)
    read_end, write_end = os.pipe()
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        env = sqryd_env.with_env(
            SQRYD_READY_PIPE_FD=str(write_end),
            SQRYD_LOCK_FD=str(lock_fd),
            SQRYD_PIDFILE_PATH=str(stray),
            SQRYD_LOCKFILE_PATH=str(sqryd_env.lock),
        )
        proc = sqryd_env.spawn(
            "start", "--detach", "--spawned-by-client", env=env, pass_fds=(lock_fd, write_end)
        )
        os.close(write_end)
        write_end = -1
        proc.communicate(timeout=30)
        with os.fdopen(read_end, "rb") as ready:
            read_end = -1
            line = ready.read().decode()
        assert proc.returncode != 0 and line.startswith(f"ERROR {proc.returncode} "), line
        assert "do not match the configured pidfile" in line
        assert not stray.exists() and not sqryd_env.pidfile.exists()
    finally:
        for fd in (lock_fd, read_end, write_end):
            if fd >= 0:
                os.close(fd)


@pytest.mark.timeout(60)
def test_socket_path_too_long_is_78_before_anything_is_spawned(sqryd_env: SqrydEnv) -> None:
    deep = sqryd_env.dir / ("d" * 60)
    deep.mkdir()
    long_socket = deep / ("s" * 60 + ".sock")
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(long_socket))
    done = sqryd_env.run("start", "--detach", env=env)
    assert done.returncode == 78
    assert "bytes" in done.stderr and "SQRY_DAEMON_SOCKET" in done.stderr
    assert done.stderr.count("\n") == 1
    assert list(deep.iterdir()) == [], "nothing was created beside the socket"


def _stalled(env: SqrydEnv) -> dict[str, str]:
    """A child whose startup stalls for a minute (the runner's documented testing knob)."""
    return env.with_env(SQRYD_TEST_STARTUP_DELAY_SECS="60")


def _children(env: SqrydEnv) -> list[int]:
    found = []
    for pid in processes_mentioning(str(env.dir)):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if b"--spawned-by-client" in fh.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            continue
    return found


@pytest.mark.timeout(60)
def test_ready_timeout_kills_the_child_and_releases_everything(sqryd_env: SqrydEnv) -> None:
    env = _stalled(sqryd_env)
    env["SQRY_DAEMON_AUTO_START_READY_TIMEOUT_SECS"] = "1"
    done = sqryd_env.run("start", "--detach", env=env)
    assert done.returncode == 69, done.stderr
    assert done.stderr == (
        f"sqryd: daemon did not become ready within 1s on socket {sqryd_env.socket}\n"
    )
    assert _children(sqryd_env) == [], "the timed-out child was killed and reaped"
    assert not sqryd_env.pidfile.exists()
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
def test_child_death_before_ready_is_reported_with_its_status(sqryd_env: SqrydEnv) -> None:
    parent = sqryd_env.spawn("start", "--detach", env=_stalled(sqryd_env))
    (child,) = wait_until(lambda: _children(sqryd_env), 20, message="the daemon child to exist")
    os.kill(child, signal.SIGKILL)
    _, err = parent.communicate(timeout=30)
    assert parent.returncode == 69, err
    assert err.count("\n") == 1
    assert "was killed by SIGKILL before it was ready" in err and str(sqryd_env.socket) in err
    assert not sqryd_env.pidfile.exists()
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
def test_sigterm_during_startup_means_never_ready(sqryd_env: SqrydEnv) -> None:
    """A stop requested before the socket is bound: no socket, no ready line, and the
    parent reports the daemon's exit instead of a success that is already stale."""
    parent = sqryd_env.spawn("start", "--detach", env=_stalled(sqryd_env))
    (child,) = wait_until(lambda: _children(sqryd_env), 20, message="the daemon child to exist")
    wait_until(
        lambda: "stalling startup" in sqryd_env.log.read_text(), 20, message="startup to stall"
    )
    os.kill(child, signal.SIGTERM)
    _, err = parent.communicate(timeout=30)
    assert parent.returncode == 69, err
    assert "daemon exited with status 0 before it was ready" in err
    assert "received SIGTERM during startup" in err  # from the log lines it quotes
    log = sqryd_env.log.read_text()
    assert "listening on" not in log and "ready (pid" not in log
    assert not sqryd_env.socket.exists()
    assert not (sqryd_env.runtime / "sqryd.ready").exists()
    assert not sqryd_env.pidfile.exists()
    assert not lock_is_held(sqryd_env.lock)


@pytest.mark.timeout(60)
def test_detach_inside_a_systemd_service_does_not_inherit_its_notify_socket(
    sqryd_env: SqrydEnv,
) -> None:
    """A client auto-starting from inside a service: the daemon is not the service."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_path = sqryd_env.dir / "notify.sock"
    listener.bind(str(notify_path))
    try:
        env = sqryd_env.with_env(
            NOTIFY_SOCKET=str(notify_path),
            WATCHDOG_USEC="1000000",
            WATCHDOG_PID="1",
            LISTEN_FDS="1",
            LISTEN_PID="1",
        )
        done = sqryd_env.run("start", "--detach", "--print-pid", env=env)
        assert done.returncode == 0, done.stderr
        pid = int(done.stdout)
        sqryd_env.track(pid)
        with open(f"/proc/{pid}/environ", "rb") as fh:
            names = {item.split(b"=", 1)[0] for item in fh.read().split(b"\0") if item}
        for name in (b"NOTIFY_SOCKET", b"WATCHDOG_USEC", b"WATCHDOG_PID", b"LISTEN_FDS"):
            assert name not in names, f"{name.decode()} leaked into the detached daemon"
        # The parent returned after READY on the pipe, which the daemon writes after
        # it would have notified: anything sent to the service's socket is queued now.
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.recv(4096)
        log = sqryd_env.log
        wait_until(lambda: log.exists() and "ready (pid" in log.read_text(), 10, message="log")
    finally:
        listener.close()


def _no_core_dumps() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@pytest.mark.timeout(60)
def test_a_hard_crash_leaves_its_traceback_in_the_log(sqryd_env: SqrydEnv) -> None:
    """faulthandler is on and fd 2 of a detached daemon is its log file."""
    parent = sqryd_env.spawn("start", "--detach", "--print-pid", preexec_fn=_no_core_dumps)
    out, err = parent.communicate(timeout=30)
    assert parent.returncode == 0, err
    pid = int(out)
    sqryd_env.track(pid)
    os.kill(pid, signal.SIGABRT)  # what abort() in a C extension would do
    wait_until(lambda: not pid_alive(pid), 10, message="the daemon to die of SIGABRT")
    text = sqryd_env.log.read_text()
    assert "Fatal Python error: Aborted" in text
    assert "most recent call first" in text and 'File "' in text
    assert "faulthandler enabled" in text


@pytest.mark.timeout(60)
@pytest.mark.parametrize("closed_fd", [0, 1, 2], ids=["stdin", "stdout", "stderr"])
def test_detach_with_a_closed_standard_stream_starts_the_daemon(
    sqryd_env: SqrydEnv, closed_fd: int
) -> None:
    """``sqryd start --detach <&-`` (or ``>&-``, ``2>&-``): the lock fd must not land on 0-2.

    Otherwise the child's redirect of its stdio to /dev/null replaces the lock.
    """
    parent = sqryd_env.spawn("start", "--detach", preexec_fn=lambda: os.close(closed_fd))
    _, err = parent.communicate(timeout=30)
    assert parent.returncode == 0, err
    pid = wait_until(lambda: read_pidfile(sqryd_env.pidfile), 5, message="the daemon's pid")
    sqryd_env.track(pid)
    assert pid != parent.pid and pid_alive(pid)
    assert socket_accepts(sqryd_env.socket)
    lock = os.stat(sqryd_env.lock)
    assert (lock.st_dev, lock.st_ino) in fd_targets(pid), "the daemon holds the lock file"
    assert lock_is_held(sqryd_env.lock)
    assert sqryd_env.run("stop").returncode == 0


@pytest.mark.timeout(60)
def test_detach_with_a_relative_xdg_runtime_dir_ignores_it(sqryd_env: SqrydEnv) -> None:
    """The parent resolved ``relx`` against its cwd, the child (in /) against /."""
    workdir = sqryd_env.dir / "work"
    (workdir / "relx").mkdir(parents=True)
    env = sqryd_env.with_env(XDG_RUNTIME_DIR="relx", TMPDIR=str(sqryd_env.dir))
    parent = sqryd_env.spawn("start", "--detach", "--print-pid", env=env, cwd=workdir)
    out, err = parent.communicate(timeout=30)
    assert parent.returncode == 0, err
    pid = int(out)
    sqryd_env.track(pid)
    runtime = sqryd_env.dir / f"sqry-{os.getuid()}"
    assert read_pidfile(runtime / "sqryd.pid") == pid, "fell through to $TMPDIR/sqry-<uid>"
    assert list((workdir / "relx").iterdir()) == [], "the relative dir was not used"
    status = sqryd_env.spawn("status", "--json", env=env, cwd=sqryd_env.dir)
    out, err = status.communicate(timeout=30)
    assert status.returncode == 0, f"status from another cwd finds the daemon: {err}"
    assert str(pid) in out
    assert sqryd_env.run("stop", env=env).returncode == 0


@pytest.mark.timeout(60)
def test_client_auto_start_with_a_relative_xdg_runtime_dir(sqryd_env: SqrydEnv) -> None:
    env = sqryd_env.with_env(XDG_RUNTIME_DIR="relx2", TMPDIR=str(sqryd_env.dir))
    code = (
        "from sqry.client import DaemonClient\n"
        "c = DaemonClient.connect(auto_start=True)\n"
        "print(c.socket_path)\n"
    )
    client = sqryd_env.spawn(cmd=[sys.executable, "-c", code], env=env, cwd=sqryd_env.dir)
    out, err = client.communicate(timeout=45)
    assert client.returncode == 0, err
    assert out.strip() == str(sqryd_env.dir / f"sqry-{os.getuid()}" / "sqryd.sock")
    assert sqryd_env.run("stop", env=env).returncode == 0


@pytest.mark.timeout(60)
def test_detach_with_relative_socket_and_log_file_hands_the_child_absolute_paths(
    sqryd_env: SqrydEnv,
) -> None:
    """Relative SQRY_DAEMON_SOCKET/LOG_FILE mean relative to where the user ran sqryd."""
    workdir = sqryd_env.dir / "work"
    workdir.mkdir(mode=0o700)
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET="rel.sock", SQRY_DAEMON_LOG_FILE="logs/d.log")
    parent = sqryd_env.spawn("start", "--detach", "--print-pid", env=env, cwd=workdir)
    out, err = parent.communicate(timeout=30)
    assert parent.returncode == 0, err
    pid = int(out)
    sqryd_env.track(pid)
    assert read_pidfile(workdir / "rel.pid") == pid
    assert socket_accepts(workdir / "rel.sock")
    log = workdir / "logs" / "d.log"
    wait_until(lambda: log.exists() and "ready" in log.read_text(), 10, message="the log")
    assert os.readlink(f"/proc/{pid}/fd/2") == str(log), "stderr follows the log file"
    stop_env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(workdir / "rel.sock"))
    assert sqryd_env.run("stop", env=stop_env).returncode == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "command", [["start", "--detach"], ["foreground"], ["status"], ["stop"], ["status", "--json"]]
)
@pytest.mark.parametrize("spelling", ["a", "a/b/..", "a/."])
def test_socket_path_naming_a_directory_is_78_before_anything_is_created(
    sqryd_env: SqrydEnv, command: list[str], spelling: str
) -> None:
    """``SQRY_DAEMON_SOCKET=/`` used to leave ``/.lock`` and ``/.log`` behind;
    ``status`` and ``stop`` said "not running" (73) for an existing directory."""
    (sqryd_env.dir / "a" / "b").mkdir(parents=True, mode=0o700)
    before = sorted(sqryd_env.dir.rglob("*"))
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=f"{sqryd_env.dir}/{spelling}")
    done = sqryd_env.run(*command, env=env)
    assert done.returncode == 78, done.stderr
    if spelling == "a":  # an existing directory: found by looking at the file system
        assert done.stderr == (
            f"sqryd: socket path {sqryd_env.dir}/a is a directory, not a file name; set "
            "SQRY_DAEMON_SOCKET (or [socket] path in the config) to a file in it, e.g. "
            f"{sqryd_env.dir}/a/sqryd.sock\n"
        )
    else:  # spelled as a directory: refused as written, before normalising
        raw = f"{sqryd_env.dir}/{spelling}"
        assert done.stderr == (
            f"sqryd: SQRY_DAEMON_SOCKET in the environment is {raw!r}, which names a "
            f"directory, not a socket file; name a file in it, e.g. {raw}/sqryd.sock\n"
        )
    assert sorted(sqryd_env.dir.rglob("*")) == before, "no lock, log or pidfile was created"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["under-a-file", "fifo"])
def test_detach_with_an_unusable_log_file_warns_on_the_terminal(
    sqryd_env: SqrydEnv, kind: str
) -> None:
    """Not fatal (§5 step 2), but the child's own warning would go to /dev/null."""
    (sqryd_env.dir / "afile").write_text("x")
    if kind == "fifo":
        log = sqryd_env.dir / "log.fifo"
        os.mkfifo(log)
        reason = "it is a FIFO or socket, not a regular file"
    else:
        log = sqryd_env.dir / "afile" / "x.log"
        reason = "Not a directory"
    env = sqryd_env.with_env(SQRY_DAEMON_LOG_FILE=str(log))
    done = sqryd_env.run("start", "--detach", "--print-pid", env=env)
    assert done.returncode == 0, done.stderr
    sqryd_env.track(int(done.stdout))
    assert done.stderr == (
        f"sqryd: warning: cannot open log file {log}: {reason}; the detached daemon will run "
        "without a log (fix log_file or SQRY_DAEMON_LOG_FILE)\n"
    )
    assert socket_accepts(sqryd_env.socket)
    assert sqryd_env.run("stop", env=env).returncode == 0


@pytest.mark.timeout(60)
def test_detach_with_an_unusable_log_file_and_a_full_stderr_still_starts(
    sqryd_env: SqrydEnv,
) -> None:
    """The warning is best effort: writing it to a full stderr must not abort the start."""
    (sqryd_env.dir / "afile").write_text("x")
    env = sqryd_env.with_env(SQRY_DAEMON_LOG_FILE=str(sqryd_env.dir / "afile" / "x.log"))
    with open("/dev/full", "w") as full:
        proc = sqryd_env.spawn("start", "--detach", "--print-pid", env=env, stderr=full)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    sqryd_env.track(int(out))
    assert socket_accepts(sqryd_env.socket)
    assert sqryd_env.run("stop", env=env).returncode == 0


@pytest.mark.timeout(60)
def test_detach_loser_prints_no_log_warning(live_daemon: LiveDaemon) -> None:
    """Only the process that got the lock checks the log: a 75 stays one line."""
    afile = live_daemon.env.dir / "afile"
    afile.write_text("x")
    env = live_daemon.env.with_env(SQRY_DAEMON_LOG_FILE=str(afile / "x.log"))
    again = live_daemon.env.run("start", "--detach", env=env)
    assert again.returncode == 75
    assert again.stderr.count("\n") == 1 and "warning" not in again.stderr


@pytest.mark.timeout(120)
def test_concurrent_detach_losers_name_the_daemon_not_a_launcher(sqryd_env: SqrydEnv) -> None:
    """The pidfile names the launcher until its child writes its own pid (the seed's
    hand-off): a loser reading it then must wait for the daemon's pid, not report a
    process that is about to exit."""
    starters = [sqryd_env.spawn("start", "--detach", "--print-pid") for _ in range(6)]
    results = [(proc, *proc.communicate(timeout=90)) for proc in starters]
    winners = [int(out) for proc, out, _ in results if proc.returncode == 0]
    assert len(winners) == 1, [err for _, _, err in results]
    daemon_pid = winners[0]
    sqryd_env.track(daemon_pid)
    launcher_pids = {proc.pid for proc in starters}
    for proc, _, err in results:
        if proc.returncode != 0:
            assert proc.returncode == 75, err
            named = int(err.split("(pid=", 1)[1].split(")", 1)[0])
            assert named not in launcher_pids, f"a loser named a launcher: {err}"
            assert named == daemon_pid, err
    assert sqryd_env.run("stop").returncode == 0


@pytest.mark.timeout(60)
def test_socket_whose_lock_would_be_another_sockets_bootstrap_lock_is_78(
    sqryd_env: SqrydEnv,
) -> None:
    """``foo.bootstrap.sock``'s lock, ``foo.bootstrap.lock``, is what ``foo.sock``'s
    clients take to auto-start: a daemon holding it for life hung them all."""
    sqryd_env.runtime.mkdir(mode=0o700)
    before = sorted(sqryd_env.dir.rglob("*"))
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=f"{sqryd_env.runtime}/foo.bootstrap.sock")
    done = sqryd_env.run("start", "--detach", env=env)
    assert done.returncode == 78, done.stderr
    assert done.stderr == (
        f"sqryd: socket path {sqryd_env.runtime}/foo.bootstrap.sock would take as its lock "
        f"file foo.bootstrap.lock, the bootstrap lock of the socket {sqryd_env.runtime}/foo.sock; "
        "choose a socket name that does not end in '.bootstrap.sock'\n"
    )
    assert sorted(sqryd_env.dir.rglob("*")) == before


@pytest.mark.timeout(60)
@pytest.mark.parametrize("suffix", [".pid", ".lock", ".ready", ".log"])
def test_socket_named_like_another_sockets_file_is_78_and_spares_that_daemon(
    sqryd_env: SqrydEnv, suffix: str
) -> None:
    """A socket ``s.pid`` is ``s.sock``'s pidfile (and so on): either daemon's
    start would replace a file of the other, which would then shut down."""
    sqryd_env.runtime.mkdir(mode=0o700)
    first = sqryd_env.with_env(SQRY_DAEMON_SOCKET=f"{sqryd_env.runtime}/s.sock")
    assert sqryd_env.run("start", "--detach", env=first).returncode == 0
    try:
        before = sorted(sqryd_env.dir.rglob("*"))
        env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=f"{sqryd_env.runtime}/s{suffix}")
        for command in (("start", "--detach"), ("status",), ("stop",)):
            done = sqryd_env.run(*command, env=env)
            assert done.returncode == 78, (command, done.stderr)
            assert done.stderr == (
                f"sqryd: socket path {sqryd_env.runtime}/s{suffix} is the {suffix} file of the "
                f"socket {sqryd_env.runtime}/s.sock; choose a socket name that does not end in "
                ".lock, .pid, .ready, .log, e.g. one ending in .sock\n"
            )
        assert sorted(sqryd_env.dir.rglob("*")) == before
        assert sqryd_env.run("status", env=first).returncode == 0
    finally:
        sqryd_env.run("stop", env=first)


@pytest.mark.timeout(60)
def test_auto_start_gives_up_on_a_bootstrap_lock_held_past_the_ready_timeout(
    sqryd_env: SqrydEnv,
) -> None:
    """A wedged auto-starter (here: this test) holding the bootstrap lock costs the
    other clients the ready timeout and a clear 69, never a hang."""
    sqryd_env.runtime.mkdir(mode=0o700)
    bootstrap = sqryd_env.runtime / "sqryd.bootstrap.lock"
    fd = os.open(bootstrap, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        env = sqryd_env.with_env(SQRY_DAEMON_AUTO_START_READY_TIMEOUT_SECS="1")
        done = sqryd_env.run("daemon", "start", cmd=SQRY, env=env)
    finally:
        os.close(fd)
    assert done.returncode == 69, done.stderr
    assert f"held the bootstrap lock {bootstrap} for over 1s" in done.stderr
    assert done.stderr.count("\n") == 1
    assert not socket_accepts(sqryd_env.socket)


@pytest.mark.timeout(60)
def test_auto_start_refuses_settings_it_cannot_hand_over_and_leaves_no_file(
    sqryd_env: SqrydEnv,
) -> None:
    """A non-UTF-8 socket path works for ``sqryd start --detach`` but cannot travel
    in the TOML the auto-start writes: 78 saying so and what to run instead,
    and no half-written settings file left beside the socket."""
    folder = sqryd_env.dir / "d"
    folder.mkdir(mode=0o700)
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=f"{folder}/\udcff.sock")
    done = sqryd_env.run("daemon", "start", cmd=SQRY, env=env)
    assert done.returncode == 78, done.stderr
    assert "cannot auto-start the daemon for socket" in done.stderr
    assert "start it with 'sqryd start --detach' instead" in done.stderr
    assert done.stderr.count("\n") == 1
    assert not list(folder.glob("*.toml"))
