"""Many starters at once: exactly one daemon, everyone else told why (§4, §9)."""

from __future__ import annotations

import sys
import textwrap

import pytest

from helpers import (
    LiveDaemon,
    SqrydEnv,
    pid_alive,
    processes_mentioning,
    read_pidfile,
    wait_until,
)

STARTERS = 16


def _running_daemons(env: SqrydEnv) -> list[int]:
    """Daemon processes of this test: sqryd processes holding the runtime dir in their env."""
    found = []
    for pid in processes_mentioning(str(env.dir)):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if b"--spawned-by-client" in argv and pid_alive(pid):
            found.append(pid)
    return found


@pytest.mark.timeout(120)
def test_concurrent_detached_starts_make_exactly_one_daemon(sqryd_env: SqrydEnv) -> None:
    procs = [sqryd_env.spawn("start", "--detach", "--print-pid") for _ in range(STARTERS)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        results.append((proc, out, err))
    winners = [(p, out) for p, out, _ in results if p.returncode == 0]
    losers = [(p, err) for p, _, err in results if p.returncode != 0]
    assert len(winners) == 1, [(p.returncode, err) for p, err in losers]
    daemon_pid = int(winners[0][1].strip())
    sqryd_env.track(daemon_pid)
    for proc, err in losers:
        assert proc.returncode == 75, err
        assert err.startswith("sqryd: sqryd is already running (pid="), err
        assert err.count("\n") == 1
    assert read_pidfile(sqryd_env.pidfile) == daemon_pid
    assert _running_daemons(sqryd_env) == [daemon_pid]
    assert sqryd_env.run("stop").returncode == 0


AUTO_START_CLIENT = textwrap.dedent(
    """
    from sqry.client import DaemonClient

    with DaemonClient.connect(auto_start=True) as client:
        print(client.request("daemon/status")["pid"])
    """
)


@pytest.mark.timeout(180)
def test_concurrent_client_auto_starts_share_one_daemon(sqryd_env: SqrydEnv) -> None:
    procs = [
        sqryd_env.spawn("-c", AUTO_START_CLIENT, cmd=[sys.executable]) for _ in range(STARTERS)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=150)
        results.append((proc.returncode, out, err))
    failures = [(code, err) for code, _, err in results if code != 0]
    assert failures == []
    pids = {int(out.strip()) for _, out, _ in results}
    assert len(pids) == 1, pids
    (daemon_pid,) = pids
    sqryd_env.track(daemon_pid)
    assert read_pidfile(sqryd_env.pidfile) == daemon_pid
    assert _running_daemons(sqryd_env) == [daemon_pid]
    assert sqryd_env.run("stop").returncode == 0
    wait_until(lambda: not pid_alive(daemon_pid), 10, message="the daemon to exit")


@pytest.mark.timeout(60)
def test_auto_start_returns_at_once_when_a_daemon_answers(live_daemon: LiveDaemon) -> None:
    env = live_daemon.env
    done = env.run("-c", AUTO_START_CLIENT, cmd=[sys.executable])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) == live_daemon.pid


EXPLICIT_SOCKET_CLIENT = textwrap.dedent(
    """
    import sys
    from sqry.client import DaemonClient

    with DaemonClient.connect(socket_path=sys.argv[1], auto_start=True) as client:
        status = client.request("daemon/status")
        print(status["pid"], status["socket"])
    """
)


@pytest.mark.timeout(60)
def test_auto_start_honours_an_explicit_socket_over_the_environment(sqryd_env: SqrydEnv) -> None:
    explicit = sqryd_env.dir / "mine" / "x.sock"
    explicit.parent.mkdir(mode=0o700)
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(sqryd_env.dir / "other.sock"))
    done = sqryd_env.run("-c", EXPLICIT_SOCKET_CLIENT, str(explicit), cmd=[sys.executable], env=env)
    assert done.returncode == 0, done.stderr
    pid_text, socket_text = done.stdout.split()
    sqryd_env.track(int(pid_text))
    assert socket_text == str(explicit)
    assert read_pidfile(explicit.with_suffix(".pid")) == int(pid_text)
    assert not (sqryd_env.dir / "other.sock").exists()
    stop_env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(explicit))
    assert sqryd_env.run("stop", env=stop_env).returncode == 0


@pytest.mark.timeout(120)
def test_fixture_cleanup_mid_start_leaves_no_process_and_no_dir() -> None:
    """SqrydEnv.cleanup while detached starts are half way: nothing may survive it.

    Parents are still waiting on their ready pipes (the children stall in
    startup), so each has a child in its own session that the parent's SIGKILL
    does not reach; cleanup must find and kill those too before removing the dir.
    """
    env = SqrydEnv.create()
    try:
        stalled = env.with_env(SQRYD_TEST_STARTUP_DELAY_SECS="60")
        for _ in range(4):
            env.spawn("start", "--detach", env=stalled)
        wait_until(lambda: _running_daemons(env), 30, message="a daemon child mid-startup")
    finally:
        env.cleanup()
    assert processes_mentioning(str(env.dir)) == [], "a daemon escaped the cleanup"
    assert not env.dir.exists()
