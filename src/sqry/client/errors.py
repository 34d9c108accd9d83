"""Typed failures of the daemon client; each message names the socket it was about.

Kept free of imports so ``import sqry.client`` stays cheap for every CLI call.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs ~5 ms to import; only checkers need it
if TYPE_CHECKING:
    from typing import Any


class ClientError(Exception):
    """Base of every client-side failure; ``str(err)`` is a complete one-line message."""

    def __init__(self, message: str, socket_path: str | None = None) -> None:
        super().__init__(message)
        self.socket_path = socket_path


class NotRunning(ClientError):
    """No daemon listens on the socket (missing path, or connection refused)."""

    def __init__(self, socket_path: str, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(
            f"sqryd is not running on socket {socket_path}{suffix}; start it with "
            "'sqryd start --detach'",
            socket_path,
        )


class ForeignDaemon(ClientError):
    """The process serving the socket runs as another user: it is not our sqryd.

    Nothing is sent to it, not even the hello, and no daemon is auto-started (the
    path is taken). ``exit_code`` is EX_NOPERM (77), what ``sqryd`` uses for a
    runtime dir another user owns.
    """

    exit_code = 77

    def __init__(self, socket_path: str, detail: str) -> None:
        super().__init__(
            f"refusing to talk to socket {socket_path}: {detail}; it is not your sqryd "
            "(remove the socket or its directory, or set SQRY_DAEMON_SOCKET to a path "
            "of your own)",
            socket_path,
        )


class SocketPathTooLong(ClientError):
    """The socket path does not fit in a Unix socket address: a configuration error.

    Never reported as NotRunning (so ``auto_start`` never tries to start a daemon
    that could not bind there either). The message is the lifecycle's own
    (``paths.check_socket_path``): the path, its length and the platform limit.
    ``exit_code`` is EX_CONFIG (78), what ``sqryd`` uses for the same mistake.
    """

    exit_code = 78

    def __init__(self, socket_path: str, message: str) -> None:
        super().__init__(message, socket_path)


class BadEnvValue(ClientError):
    """An environment variable the client reads has a value it cannot take (a
    configuration error: ``exit_code`` is EX_CONFIG, 78, as for ``sqryd``)."""

    exit_code = 78


class ConnectTimeout(ClientError):
    """connect() did not complete in time (the daemon's accept backlog is full)."""

    def __init__(self, socket_path: str, seconds: float) -> None:
        super().__init__(
            f"connecting to sqryd on socket {socket_path} timed out after {seconds:g}s",
            socket_path,
        )


class HandshakeTimeout(ClientError):
    """The daemon accepted but did not answer the hello in time (hung or overloaded)."""

    def __init__(self, socket_path: str, seconds: float) -> None:
        super().__init__(
            f"sqryd on socket {socket_path} did not answer the handshake within {seconds:g}s",
            socket_path,
        )


class HelloEof(ClientError):
    """The daemon closed the connection before answering the hello."""

    def __init__(self, socket_path: str) -> None:
        super().__init__(
            f"sqryd on socket {socket_path} closed the connection during the handshake "
            "(it may be shutting down; retry)",
            socket_path,
        )


class EnvelopeVersionMismatch(ClientError):
    """The daemon speaks another envelope version: nothing it says can be trusted."""

    def __init__(self, socket_path: str, got: Any, daemon_version: Any) -> None:
        super().__init__(
            f"sqryd {daemon_version} on socket {socket_path} uses envelope version {got!r}, "
            "this client needs 1; stop that daemon ('sqryd stop') and start a matching one",
            socket_path,
        )
        self.envelope_version = got
        self.daemon_version = daemon_version


class HelloRejected(ClientError):
    """The daemon refused the hello (incompatible protocol, or a -32600 such as peer uid)."""

    def __init__(self, socket_path: str, reason: str, daemon_version: Any = None) -> None:
        super().__init__(
            f"sqryd on socket {socket_path} rejected the connection: {reason}", socket_path
        )
        self.reason = reason
        self.daemon_version = daemon_version


class RpcError(ClientError):
    """The daemon answered a request with a JSON-RPC error."""

    def __init__(
        self,
        code: int,
        message: str,
        data: Any = None,
        socket_path: str | None = None,
        method: str | None = None,
    ) -> None:
        detail = ""
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            detail = f": {data['reason']}"
        prefix = f"{method}: " if method else ""
        super().__init__(f"{prefix}{message} ({code}){detail}", socket_path)
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class RequestTimeout(ClientError):
    """No reply within the request's timeout; the connection is closed (ids would desync)."""

    def __init__(self, socket_path: str, method: str, seconds: float) -> None:
        super().__init__(
            f"{method} on sqryd socket {socket_path} got no reply within {seconds:g}s",
            socket_path,
        )


class ConnectionLost(ClientError):
    """The daemon closed the connection (or broke framing) while a reply was expected."""


class ProtocolError(ClientError):
    """The daemon's reply does not follow the protocol (wrong id, wrong shape)."""


class AutoStartFailed(ClientError):
    """Starting a daemon on demand failed; ``exit_code`` is the lifecycle error's code."""

    def __init__(self, socket_path: str, reason: str, exit_code: int = 69) -> None:
        super().__init__(f"could not start sqryd on socket {socket_path}: {reason}", socket_path)
        self.exit_code = exit_code
