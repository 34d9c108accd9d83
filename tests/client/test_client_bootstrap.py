"""Auto-start and restart-on-version-mismatch decisions of DaemonClient.connect (ipc.md §8).

The starter (``lifecycle.detach.start_detached``) is replaced by one that starts a real
in-process server on the requested socket, so these tests observe *when* the client
starts a daemon and that it then talks to it. The real ``sqryd start --detach`` path is
exercised by test_client_live.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from client_fake_daemon import FakeDaemon, hello_then

from sqry.client import (
    AutoStartFailed,
    BadEnvValue,
    DaemonClient,
    EnvelopeVersionMismatch,
    HelloRejected,
    NotRunning,
)
from sqry.daemon.ipc.threaded import ThreadedServer
from sqry.daemon.lifecycle.config import DaemonConfig
from sqry.daemon.lifecycle.errors import ReadyTimeout

pytestmark = pytest.mark.timeout(30)


class Starter:
    """Records start_detached calls and starts a real server on the config's socket."""

    def __init__(self) -> None:
        self.calls: list[DaemonConfig] = []
        self.servers: list[ThreadedServer] = []
        self.fail_with: Exception | None = None

    def __call__(self, cfg: DaemonConfig, **_: Any) -> None:
        self.calls.append(cfg)
        if self.fail_with is not None:
            raise self.fail_with
        self.servers.append(ThreadedServer(cfg.paths().socket).start())


@pytest.fixture
def starter(monkeypatch: pytest.MonkeyPatch) -> Iterator[Starter]:
    recorder = Starter()
    monkeypatch.setattr("sqry.daemon.lifecycle.detach.start_detached", recorder)
    monkeypatch.delenv("SQRY_DAEMON_NO_AUTO_START", raising=False)
    try:
        yield recorder
    finally:
        for server in recorder.servers:
            server.close()


def test_auto_start_on_not_running(sock_dir: Path, starter: Starter) -> None:
    path = str(sock_dir / "a.sock")
    with DaemonClient.connect(
        path, auto_start=True, config=DaemonConfig(socket_path=path)
    ) as client:
        assert client.request("daemon/status")["socket"] == path
    assert len(starter.calls) == 1


def test_auto_start_uses_the_explicit_socket_over_the_config(
    sock_dir: Path, starter: Starter
) -> None:
    path = str(sock_dir / "explicit.sock")
    cfg = DaemonConfig(socket_path=str(sock_dir / "other.sock"), memory_limit_mb=7)
    with DaemonClient.connect(path, auto_start=True, config=cfg):
        pass
    assert str(starter.calls[0].paths().socket) == path
    assert starter.calls[0].memory_limit_mb == 7  # the rest of the config is kept


def test_no_auto_start_without_the_flag(sock_dir: Path, starter: Starter) -> None:
    with pytest.raises(NotRunning):
        DaemonClient.connect(str(sock_dir / "a.sock"))
    assert starter.calls == []


@pytest.mark.parametrize(
    ("value", "forbids"),
    [("1", True), ("true", True), ("YES", True), (" on ", True)]
    + [("0", False), ("", False), ("no", False), ("Off", False)],
)
def test_env_disables_auto_start(
    sock_dir: Path, starter: Starter, monkeypatch: pytest.MonkeyPatch, value: str, forbids: bool
) -> None:
    monkeypatch.setenv("SQRY_DAEMON_NO_AUTO_START", value)
    path = str(sock_dir / "a.sock")
    if forbids:
        with pytest.raises(NotRunning):
            DaemonClient.connect(path, auto_start=True, config=DaemonConfig(socket_path=path))
    else:
        DaemonClient.connect(path, auto_start=True, config=DaemonConfig(socket_path=path)).close()
    assert len(starter.calls) == (0 if forbids else 1)


@pytest.mark.parametrize("value", ["maybe", "2", "y"])
def test_an_env_value_neither_on_nor_off_is_a_config_error(
    sock_dir: Path, starter: Starter, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Guessing would start a daemon the user meant to forbid, or the reverse."""
    monkeypatch.setenv("SQRY_DAEMON_NO_AUTO_START", value)
    path = str(sock_dir / "a.sock")
    with pytest.raises(BadEnvValue) as caught:
        DaemonClient.connect(path, auto_start=True, config=DaemonConfig(socket_path=path))
    assert str(caught.value) == (
        f"SQRY_DAEMON_NO_AUTO_START={value!r} is neither 1 nor 0; set it to 1 to keep "
        "clients from starting sqryd, or unset it"
    )
    assert caught.value.exit_code == 78
    assert starter.calls == []
    # also with a daemon up (nothing to start): checked before any socket is opened
    with ThreadedServer(path) as server:
        with pytest.raises(BadEnvValue):
            DaemonClient.connect(path, auto_start=True, config=DaemonConfig(socket_path=path))
        assert server.ctx.open_connections == 0


@pytest.mark.parametrize(
    ("hello", "error"),
    [
        (
            {"compatible": True, "daemon_version": "0.1.0", "envelope_version": 2},
            EnvelopeVersionMismatch,
        ),
        ({"compatible": False, "daemon_version": "0.1.0", "envelope_version": 1}, HelloRejected),
    ],
)
def test_version_errors_never_auto_start(
    sock_dir: Path, starter: Starter, hello: dict, error: type
) -> None:
    path = str(sock_dir / "v.sock")
    with FakeDaemon(path, hello_then(hello)), pytest.raises(error):
        DaemonClient.connect(
            path,
            auto_start=True,
            restart_on_version_mismatch=True,
            config=DaemonConfig(socket_path=path),
        )
    assert starter.calls == []


def test_start_failure_is_reported_with_its_exit_code(sock_dir: Path, starter: Starter) -> None:
    path = str(sock_dir / "a.sock")
    starter.fail_with = ReadyTimeout.after(10, path)
    with pytest.raises(AutoStartFailed) as info:
        DaemonClient.connect(path, auto_start=True, config=DaemonConfig(socket_path=path))
    assert str(info.value) == (
        f"could not start sqryd on socket {path}: daemon did not become ready within 10s on socket {path}"
    )
    assert info.value.exit_code == 69


def test_restart_on_version_mismatch(sock_dir: Path, starter: Starter) -> None:
    path = str(sock_dir / "r.sock")
    old = ThreadedServer(path, daemon_version="0.0.9-old", drain_secs=2).start()
    try:
        with DaemonClient.connect(
            path, restart_on_version_mismatch=True, config=DaemonConfig(socket_path=path)
        ) as client:
            assert client.daemon_version == "0.1.0"
            assert client.request("daemon/status")["daemon_version"] == "0.1.0"
        assert old.shutdown_requested.is_set() and old.shutdown_done.is_set()
        assert len(starter.calls) == 1
    finally:
        old.close()


def test_restart_never_stops_a_daemon_when_starting_is_forbidden(
    sock_dir: Path, starter: Starter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SQRY_DAEMON_NO_AUTO_START`` forbids starting one: the other-version daemon,
    which speaks our protocol, is kept and used rather than stopped for nothing."""
    monkeypatch.setenv("SQRY_DAEMON_NO_AUTO_START", "1")
    path = str(sock_dir / "k.sock")
    with ThreadedServer(path, daemon_version="0.0.9-old") as server:
        with DaemonClient.connect(
            path, restart_on_version_mismatch=True, config=DaemonConfig(socket_path=path)
        ) as client:
            assert client.daemon_version == "0.0.9-old"
            assert client.request("daemon/status")["daemon_version"] == "0.0.9-old"
        assert not server.shutdown_requested.is_set()
    assert starter.calls == []


def test_same_version_is_not_restarted(sock_dir: Path, starter: Starter) -> None:
    path = str(sock_dir / "s.sock")
    with ThreadedServer(path) as server:
        with DaemonClient.connect(
            path, restart_on_version_mismatch=True, config=DaemonConfig(socket_path=path)
        ):
            pass
        assert not server.shutdown_requested.is_set()
    assert starter.calls == []
