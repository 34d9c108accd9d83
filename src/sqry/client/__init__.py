"""Client library for sqryd (ipc.md §8): ``from sqry.client import DaemonClient``.

Cheap to import on purpose — the C ``_socket`` module, struct, json, os and nothing else
at module level — because every ``sqry`` CLI invocation imports it.
"""

from sqry.client.connection import DaemonClient
from sqry.client.errors import (
    AutoStartFailed,
    BadEnvValue,
    ClientError,
    ConnectionLost,
    ConnectTimeout,
    EnvelopeVersionMismatch,
    ForeignDaemon,
    HandshakeTimeout,
    HelloEof,
    HelloRejected,
    NotRunning,
    ProtocolError,
    RequestTimeout,
    RpcError,
    SocketPathTooLong,
)

__all__ = [
    "AutoStartFailed",
    "BadEnvValue",
    "ClientError",
    "ConnectTimeout",
    "ConnectionLost",
    "DaemonClient",
    "EnvelopeVersionMismatch",
    "ForeignDaemon",
    "HandshakeTimeout",
    "HelloEof",
    "HelloRejected",
    "NotRunning",
    "ProtocolError",
    "RequestTimeout",
    "RpcError",
    "SocketPathTooLong",
]
