"""systemd readiness protocol (``sd_notify``), written by hand.

The protocol is one datagram of ``KEY=VALUE`` lines to the AF_UNIX socket in
``$NOTIFY_SOCKET``; a leading ``@`` names a socket in Linux's abstract
namespace. Implementing it here avoids a libsystemd dependency for ten lines.
Every call is best effort: outside systemd, or if systemd went away, the
daemon must carry on, so failures return False and never raise.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

NOTIFY_ENV = "NOTIFY_SOCKET"


def _address(raw: str) -> str | None:
    """Socket address from ``$NOTIFY_SOCKET``: a path, or ``@name`` for the abstract namespace."""
    if raw.startswith("@"):
        return "\0" + raw[1:]
    if raw.startswith("/"):
        return raw
    return None  # e.g. "vsock:..." (VMs): not supported, treated as absent


def sd_notify(message: str, env: Mapping[str, str] = os.environ) -> bool:
    """Send ``message`` to the service manager; True only if the datagram was sent."""
    return bool(env.get(NOTIFY_ENV)) and _send(message, env[NOTIFY_ENV]) is None


def _send(message: str, raw: str) -> str | None:
    """Send ``message`` to the socket ``raw`` names; None when sent, else why not."""
    address = _address(raw)
    if address is None:
        return "not an absolute path or @abstract name (other kinds are not supported)"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("utf-8", "backslashreplace"))
    except OSError as err:
        return err.strerror or str(err)
    return None


def _status_line(text: str) -> str:
    """STATUS= is one line; newlines would start bogus assignments."""
    return "STATUS=" + " ".join(text.splitlines())


class Notifier:
    """The daemon's messages to systemd: ready, stopping, status, watchdog."""

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self._env = dict(env)
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that asked for notifications."""
        return bool(self._env.get(NOTIFY_ENV))

    def ready(self, pid: int, status: str = "ready") -> bool:
        """``READY=1`` with ``MAINPID`` (NotifyAccess=main needs the right sender)."""
        return self._notify(f"READY=1\nMAINPID={pid}\n{_status_line(status)}")

    def stopping(self) -> bool:
        return self._notify("STOPPING=1")

    def status(self, text: str) -> bool:
        return self._notify(_status_line(text))

    def watchdog(self) -> bool:
        return self._notify("WATCHDOG=1")

    def _notify(self, message: str) -> bool:
        """Send ``message`` if asked to; the first failure is logged (once: the
        watchdog would repeat it forever), since a service manager waiting for
        READY=1 that never comes will eventually kill the daemon."""
        raw = self._env.get(NOTIFY_ENV)
        if not raw:
            return False
        problem = _send(message, raw)
        if problem is not None and not self._warned:
            self._warned = True
            log.warning(
                "cannot notify the service manager at %s=%s (%s); carrying on without it",
                NOTIFY_ENV,
                raw,
                problem,
            )
        return problem is None

    def watchdog_interval_secs(self) -> float | None:
        """How often to send ``WATCHDOG=1``: half of ``WATCHDOG_USEC``, or None.

        None when systemd did not ask, asked another process (``WATCHDOG_PID``
        names a different pid), or the values are malformed.
        """
        raw_usec = self._env.get("WATCHDOG_USEC")
        if not raw_usec:
            return None
        raw_pid = self._env.get("WATCHDOG_PID")
        try:
            usec = int(raw_usec)
            if raw_pid and int(raw_pid) != os.getpid():
                return None
        except ValueError:
            return None
        if usec <= 0:
            return None
        return usec / 2 / 1_000_000
