"""``idle_shutdown_minutes``: no client and no activity for that long → clean exit (beyond §5)."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from helpers import SqrydEnv, pid_alive, socket_accepts, wait_until
from sqry.daemon.lifecycle import runner
from sqry.daemon.lifecycle.config import load_config
from sqry.daemon.lifecycle.runner import Daemon, Knobs


def start(env: SqrydEnv, idle_secs: str, *args: str, **extra: str):
    proc = env.spawn(
        "foreground",
        "--log-level",
        "debug",
        *args,
        env=env.with_env(SQRYD_IDLE_SHUTDOWN_SECS=idle_secs, **extra),
    )
    wait_until(
        lambda: socket_accepts(env.socket) or proc.poll() is not None, 20, message="daemon ready"
    )
    assert proc.poll() is None, proc.stderr.read()
    return proc


def log_messages(env: SqrydEnv, start_at: int = 0) -> list[str]:
    """Messages of the daemon's JSON log lines, from byte offset ``start_at``."""
    if not env.log.exists():
        return []
    data = env.log.read_bytes()[start_at:]
    return [json.loads(line)["msg"] for line in data.splitlines() if line.strip()]


@pytest.mark.timeout(60)
def test_idle_daemon_shuts_down_cleanly(sqryd_env: SqrydEnv) -> None:
    env = sqryd_env.with_env(SQRYD_IDLE_SHUTDOWN_SECS="0.5")
    proc = sqryd_env.spawn("foreground", env=env)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert not sqryd_env.socket.exists() and not sqryd_env.pidfile.exists()
    assert "idle for" in sqryd_env.log.read_text()


@pytest.mark.timeout(60)
def test_an_open_connection_keeps_the_daemon_alive(sqryd_env: SqrydEnv) -> None:
    proc = start(sqryd_env, "2")  # the readiness probe itself counts as activity
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(sqryd_env.socket))
    offset = sqryd_env.log.stat().st_size
    try:
        # The idle timer ticks every 0.5 s (a quarter of the limit): eight ticks with
        # the connection open cover twice the limit, and each saw no idle time at all.
        def ticks() -> list[str]:
            return [m for m in log_messages(sqryd_env, offset) if m.startswith("idle check")]

        seen = wait_until(lambda: len(ticks()) >= 8 and ticks(), 20, message="eight idle ticks")
        assert all(m.startswith("idle check: quiet for 0.00s (limit 2s)") for m in seen), seen
        assert pid_alive(proc.pid) and proc.poll() is None
    finally:
        conn.close()
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert any(m.startswith("shutting down: idle for") for m in log_messages(sqryd_env))


@pytest.mark.timeout(60)
def test_zero_disables_idle_shutdown(sqryd_env: SqrydEnv) -> None:
    proc = start(sqryd_env, "0", SQRYD_SELF_CHECK_SECS="0.05")
    # Forty self-checks (2 s) pass with no client: a disabled timer never fires.
    wait_until(
        lambda: "self-check #40 passed" in log_messages(sqryd_env), 20, message="40 self-checks"
    )
    assert proc.poll() is None
    assert not any("idle" in m for m in log_messages(sqryd_env))


# --- idle_shutdown_minutes reaches the timer ---------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("via", ["file", "env"])
def test_idle_minutes_from_the_config_arm_the_daemons_timer(sqryd_env: SqrydEnv, via: str) -> None:
    """No test knob: the daemon reports the limit it took from idle_shutdown_minutes."""
    config = sqryd_env.dir / "daemon.toml"
    config.write_text("idle_shutdown_minutes = 2\n" if via == "file" else "")
    extra = {"SQRY_DAEMON_IDLE_SHUTDOWN_MINUTES": "3"} if via == "env" else {}
    proc = sqryd_env.spawn("--config", str(config), "foreground", env=sqryd_env.with_env(**extra))
    expected = "idle shutdown after 120s without clients"
    if via == "env":
        expected = "idle shutdown after 180s without clients"
    wait_until(lambda: expected in log_messages(sqryd_env), 20, message=repr(expected))
    assert proc.poll() is None


class _QuietContext:
    """Stands in for the IPC ServerContext: reports scripted idle times."""

    def __init__(self, quiet: list[float]) -> None:
        self.quiet = quiet
        self.asked = 0

    def idle_seconds(self) -> float:
        value = self.quiet[min(self.asked, len(self.quiet) - 1)]
        self.asked += 1
        return value


def test_idle_loop_fires_exactly_at_the_configured_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "daemon.toml"
    config.write_text("idle_shutdown_minutes = 2\n")
    cfg = load_config(config, env={"HOME": str(tmp_path)})
    knobs = Knobs.from_env(cfg, {})
    assert knobs.idle_secs == 120.0

    real_sleep = asyncio.sleep
    monkeypatch.setattr(runner.asyncio, "sleep", lambda _secs: real_sleep(0))  # no real waiting

    async def scenario() -> tuple[str, int]:
        daemon = Daemon(cfg, cfg.paths({"XDG_RUNTIME_DIR": str(tmp_path)}), {}, knobs, None)
        daemon._stop = asyncio.Event()
        ctx = _QuietContext([0.0, 60.0, 119.9, 120.0, 500.0])
        await asyncio.wait_for(daemon._idle_loop(ctx), 10)
        return daemon._stop_reason, ctx.asked

    reason, asked = asyncio.run(scenario())
    assert asked == 4, "shut down at the first check reaching 120 s, not before"
    assert reason == "idle for 120s (limit 120s)"


def test_idle_env_knob_overrides_and_zero_minutes_disables(tmp_path: Path) -> None:
    cfg = load_config(env={"HOME": str(tmp_path), "SQRY_DAEMON_IDLE_SHUTDOWN_MINUTES": "0"})
    assert Knobs.from_env(cfg, {}).idle_secs == 0.0
    assert Knobs.from_env(cfg, {"SQRYD_IDLE_SHUTDOWN_SECS": "1.5"}).idle_secs == 1.5
