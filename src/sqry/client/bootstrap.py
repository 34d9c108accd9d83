"""Starting and replacing the daemon on a client's behalf (ipc.md §8, lifecycle §4).

Only imported when ``DaemonClient.connect`` actually needs to start or restart a
daemon, so the common "daemon already running" path never pays for the lifecycle
modules.
"""

from __future__ import annotations

import time

from sqry.client.errors import AutoStartFailed, ClientError, RpcError

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing (~3 ms)
if TYPE_CHECKING:
    from sqry.client.connection import DaemonClient
    from sqry.daemon.lifecycle.config import DaemonConfig

STOP_POLL_SECS = 0.05
STOP_GRACE_SECS = 5.0
"""Extra time over the daemon's own drain window before giving up on a restart."""


def config_for_socket(path: str, config: DaemonConfig | None) -> DaemonConfig:
    """The config to start a daemon with, pointed at exactly ``path``.

    A client given an explicit socket must start the daemon on *that* socket even if
    the config file names another one; the lock/pid files follow the socket.
    """
    from sqry.daemon.lifecycle.errors import DaemonError

    if config is None:
        from sqry.daemon.lifecycle.config import load_config

        try:
            config = load_config()
        except DaemonError as err:
            raise AutoStartFailed(path, str(err), err.exit_code) from err
    if config.socket_file() != path:
        config = config.replace(socket_path=path)
    return config


def auto_start_daemon(path: str, config: DaemonConfig | None) -> None:
    """Run ``start_detached`` for ``path``; AutoStartFailed carries the lifecycle message."""
    from sqry.daemon.lifecycle.detach import start_detached
    from sqry.daemon.lifecycle.errors import DaemonError

    cfg = config_for_socket(path, config)
    try:
        start_detached(cfg)
    except DaemonError as err:
        raise AutoStartFailed(path, str(err), err.exit_code) from err


def restart_daemon(client: DaemonClient, config: DaemonConfig | None) -> None:
    """Stop the (other-version) daemon behind ``client``, wait for it to go, start ours.

    Waits for the same "stopped" condition as ``sqryd stop`` (socket refuses and the
    singleton lock is free) so the new daemon never races the old one for the lock.
    """
    from sqry.daemon.lifecycle.control import is_stopped

    path = client.socket_path
    cfg = config_for_socket(path, config)
    old_version = client.daemon_version
    try:
        client.request("daemon/stop", timeout=STOP_GRACE_SECS)
    except (RpcError, ClientError):
        pass  # it may close on us mid-reply; the wait below is what counts
    finally:
        client.close()
    wait_secs = float(cfg.ipc_shutdown_drain_secs) + STOP_GRACE_SECS
    deadline = time.monotonic() + wait_secs
    paths = cfg.paths()
    while not is_stopped(paths):
        if time.monotonic() >= deadline:
            raise ClientError(
                f"sqryd {old_version} on socket {path} did not stop within {wait_secs:g}s "
                "to be replaced by this version; stop it with 'sqryd stop --force'",
                path,
            )
        time.sleep(STOP_POLL_SECS)
    auto_start_daemon(path, cfg)
