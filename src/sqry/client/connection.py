"""Synchronous client for sqryd: connect, handshake, request/reply (ipc.md §8).

Plain blocking sockets and no event loop, so any script or CLI command can use it.
Import cost matters (every ``sqry`` invocation pays it): only os, json, the C
``_socket`` module and the stdlib-only framing module are imported at module level;
config loading and auto-start are imported inside the functions that need them.

The connection is a ``_socket.socket``, the C type that ``socket.socket`` extends.
Importing the ``socket`` module costs ~4 ms per process (it builds four IntEnum
classes and imports ``selectors``), and the client uses none of what it adds:
``connect``, ``settimeout``, ``sendall``, ``recv`` and ``close`` are the C type's own.
"""

from __future__ import annotations

import json
import os
import time
from _socket import AF_UNIX, SOCK_STREAM
from _socket import socket as _Socket

from sqry import __version__
from sqry.client.errors import (
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
from sqry.daemon.ipc.framing import (
    HEADER,
    FrameReader,
    FrameTooLarge,
    TruncatedFrame,
    dumps,
    encode_frame,
    frame_bytes,
    recv_frame,
)
from sqry.daemon.ipc.peercred import peer_uid

TYPE_CHECKING = False  # typing itself costs ~5 ms to import; only checkers need it
if TYPE_CHECKING:
    from typing import Any

PROTOCOL_VERSION = 1
ENVELOPE_VERSION = 1

REPLY_SPIN_SECS = 0.0002
"""How long a request polls for its reply before sleeping in recv (FrameReader.read).

A quick request (``daemon/status``, a cached lookup) is answered in about this time;
catching the reply while still running saves the wake-up of a sleeping CPU, about a
third of such a round trip on a virtual machine. Longer waits cost at most this much
CPU, and only while replies keep coming fast (see ``SPIN_WHILE_WAITS_UNDER_SECS``).
"""
SPIN_WHILE_WAITS_UNDER_SECS = 2 * REPLY_SPIN_SECS
"""The client keeps spinning only while the last reply took less than this: a busy
daemon (many clients, slow queries) answers later, and spinning then would only take
CPU from it."""


def _reject_constant(name: str) -> None:
    """``NaN``/``Infinity`` are not JSON (RFC 8259): a reply carrying them is malformed."""
    raise ValueError(f"{name} is not valid JSON")


_decode = json.JSONDecoder(parse_constant=_reject_constant).decode


def _loads(body: bytes) -> Any:
    """Strict JSON from a UTF-8 frame body; ValueError for anything else.

    ``json.loads`` would accept ``NaN``/``Infinity``, which no daemon sends and
    which break whatever renders the reply (``int(inf)``). A UnicodeDecodeError
    is a ValueError too, so callers' "not valid JSON" handling covers it.
    """
    return _decode(body.decode("utf-8") if type(body) is not str else body)


class DaemonClient:
    """One connection to sqryd. Not thread-safe: use one client per thread.

    Requests on one connection are answered in order, one at a time; for parallelism
    open more clients.
    """

    def __init__(self, sock: _Socket, socket_path: str, hello: dict[str, Any]) -> None:
        self._sock: _Socket | None = sock
        self.socket_path = socket_path
        self.daemon_version: str = hello.get("daemon_version", "")
        self.hello = hello
        self._next_id = 0
        self._timeout: float | None = None
        self._reader = FrameReader(sock)
        self._spin_secs = REPLY_SPIN_SECS  # 0 while replies are slow (see _read_reply)

    # -- connecting ------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        socket_path: str | os.PathLike[str] | None = None,
        connect_timeout: float = 5,
        handshake_timeout: float = 5,
        auto_start: bool = False,
        restart_on_version_mismatch: bool = False,
        config: Any = None,
    ) -> DaemonClient:
        """Connect and handshake; raises a ClientError subclass naming the socket.

        ``socket_path=None`` resolves the socket exactly as the daemon does (config file
        + env). ``auto_start`` starts a daemon on NotRunning only — never on version
        errors — unless ``SQRY_DAEMON_NO_AUTO_START=1`` (or true/yes/on). ``restart_on_version_mismatch``
        replaces a compatible daemon of another ``daemon_version`` with ours — except
        where that variable forbids starting one: then the running daemon (it speaks
        our protocol) is kept and used, never stopped without a successor.
        """
        if socket_path is None:
            config = _load_config() if config is None else config
            path = config.socket_file()
        else:
            path = os.fspath(socket_path)
        # read first: a malformed value fails before any socket is open
        forbidden = (auto_start or restart_on_version_mismatch) and _auto_start_forbidden()
        try:
            client = cls.open(path, connect_timeout, handshake_timeout)
        except NotRunning:
            if not auto_start or forbidden:
                raise
            from sqry.client.bootstrap import auto_start_daemon

            auto_start_daemon(path, config)
            client = cls.open(path, connect_timeout, handshake_timeout)
        if restart_on_version_mismatch and client.daemon_version != __version__ and not forbidden:
            from sqry.client.bootstrap import restart_daemon

            restart_daemon(client, config)
            client = cls.open(path, connect_timeout, handshake_timeout)
        return client

    @classmethod
    def open(cls, path: str, connect_timeout: float, handshake_timeout: float) -> DaemonClient:
        """Connect to exactly ``path`` and handshake (no auto-start, no restart)."""
        sock = _Socket(AF_UNIX, SOCK_STREAM)
        try:
            _connect(sock, path, connect_timeout)
            _check_server_owner(sock, path)
            hello = _handshake(sock, path, handshake_timeout)
            sock.settimeout(None)
        except BaseException:
            sock.close()
            raise
        return cls(sock, path, hello)

    # -- requests --------------------------------------------------------------------

    def request(self, method: str, params: Any = None, timeout: float | None = None) -> Any:
        """Call ``method`` and return the payload of the result envelope.

        ``timeout=None`` waits as long as the daemon takes. Raises RpcError for an
        error reply, RequestTimeout / ConnectionLost when no reply arrives (the client
        is closed then, since a late reply would desynchronise ids).
        """
        return self.request_envelope(method, params, timeout)["result"]

    def request_envelope(
        self, method: str, params: Any = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Like ``request`` but return the whole envelope ``{"result", "meta"}``."""
        self._next_id += 1
        request_id = self._next_id
        reply = self._exchange(_request_frame(request_id, method, params), method, timeout)
        if type(reply) is not dict:
            raise self._protocol_error(f"reply to {method} is not a JSON object")
        reply_id = reply.get("id")
        error = reply.get("error")
        if error is not None:
            if reply_id != request_id and reply_id is not None:
                raise self._protocol_error(f"reply id {reply_id!r} != request id {request_id}")
            if type(error) is not dict or type(error.get("code")) is not int:
                raise self._protocol_error(f"error reply to {method} is malformed: {error!r:.200}")
            raise _rpc_error(error, self.socket_path, method)
        if reply_id != request_id or type(reply_id) is not int:
            raise self._protocol_error(f"reply id {reply_id!r} != request id {request_id}")
        envelope = reply.get("result")
        if type(envelope) is not dict or "result" not in envelope or "meta" not in envelope:
            raise self._protocol_error(f"{method} result is not a {{result, meta}} envelope")
        return envelope

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no id): the daemon runs it and never replies."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(encode_frame(message))

    # -- lifetime ----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._sock is None

    def close(self) -> None:
        """Close the connection (idempotent)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        sock = getattr(self, "_sock", None)
        if sock is not None:
            sock.close()

    # -- internals ---------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        sock = self._require_open()
        try:
            sock.sendall(data)
        except OSError as exc:
            self.close()
            raise ConnectionLost(
                f"sqryd on socket {self.socket_path} closed the connection ({exc})",
                self.socket_path,
            ) from None

    def _exchange(self, data: bytes, method: str, timeout: float | None) -> Any:
        """Send one frame and read the reply frame, decoded."""
        sock = self._require_open()
        if timeout != self._timeout:
            sock.settimeout(timeout)
            self._timeout = timeout
        self._send(data)
        try:
            body = self._read_reply(timeout)
        except TimeoutError:
            self.close()
            raise RequestTimeout(self.socket_path, method, timeout or 0) from None
        except (OSError, TruncatedFrame, FrameTooLarge) as exc:
            self.close()
            raise ConnectionLost(
                f"lost the connection to sqryd on socket {self.socket_path} "
                f"while waiting for {method} ({exc})",
                self.socket_path,
            ) from None
        if body is None:
            self.close()
            raise ConnectionLost(
                f"sqryd on socket {self.socket_path} closed the connection before "
                f"answering {method} (it may be shutting down)",
                self.socket_path,
            )
        try:
            return _loads(body)
        except ValueError:
            raise self._protocol_error(f"reply to {method} is not valid JSON") from None

    def _read_reply(self, timeout: float | None) -> bytes | None:
        """Read the reply frame, spinning first while replies have been coming fast.

        No spin with a timeout: the socket is then in timeout mode, where the first
        poll already waits (see ``FrameReader.read``).
        """
        if timeout is not None:
            return self._reader.read()
        started = time.perf_counter()
        body = self._reader.read(self._spin_secs)
        fast = time.perf_counter() - started < SPIN_WHILE_WAITS_UNDER_SECS
        self._spin_secs = REPLY_SPIN_SECS if fast else 0.0
        return body

    def _require_open(self) -> _Socket:
        if self._sock is None:
            raise ConnectionLost(
                f"the connection to sqryd on socket {self.socket_path} is closed",
                self.socket_path,
            )
        return self._sock

    def _protocol_error(self, what: str) -> ProtocolError:
        self.close()
        return ProtocolError(f"sqryd on socket {self.socket_path}: {what}", self.socket_path)


_method_json: dict[str, bytes] = {}


def _request_frame(request_id: int, method: str, params: Any) -> bytes:
    """Frame a request from a byte template: the hot path of every round trip.

    Same bytes as ``encode_frame({"jsonrpc", "id", "method", "params"?})`` at a fraction
    of the cost; the method's JSON form is cached since clients reuse a few methods.
    """
    method_json = _method_json.get(method)
    if method_json is None:
        method_json = _method_json[method] = dumps(method)
    if params is None:
        body = b'{"jsonrpc":"2.0","id":%d,"method":%b}' % (request_id, method_json)
    else:
        body = b'{"jsonrpc":"2.0","id":%d,"method":%b,"params":%b}' % (
            request_id,
            method_json,
            dumps(params),
        )
    if len(body) < 65536:
        return HEADER.pack(len(body)) + body
    return frame_bytes(body)  # enforces the frame limit on big params


def _auto_start_forbidden() -> bool:
    """``SQRY_DAEMON_NO_AUTO_START`` set to 1 (ipc.md §8), or to what people write
    for it instead (``true``, ``yes``, ``on``; any case); unset, empty, 0,
    ``false``, ``no`` or ``off`` allow it. Anything else is refused
    (:class:`BadEnvValue`): guessing would either start a daemon the user meant
    to forbid or refuse one they meant to allow."""
    raw = os.environ.get("SQRY_DAEMON_NO_AUTO_START", "")
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise BadEnvValue(
        f"SQRY_DAEMON_NO_AUTO_START={raw!r} is neither 1 nor 0; set it to 1 to keep "
        "clients from starting sqryd, or unset it"
    )


def _load_config() -> Any:
    """The daemon's effective config (file + env), so we find the socket it uses."""
    from sqry.daemon.lifecycle.config import load_config
    from sqry.daemon.lifecycle.errors import DaemonError

    try:
        return load_config()
    except DaemonError as err:
        raise ClientError(f"cannot locate the sqryd socket: {err}") from err


def _connect(sock: _Socket, path: str, timeout: float) -> None:
    """connect() within ``timeout``, retrying while the daemon's accept queue is full.

    A Unix socket in timeout (non-blocking) mode fails at once with EAGAIN when the
    listener's backlog is full instead of waiting, so "busy" is retried with a short
    back-off until the deadline and only then reported as ConnectTimeout.
    """
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            sock.connect(path)
            return
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectTimeout(path, timeout) from None
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.05)
        except OSError as exc:
            _raise_connect_error(exc, path, timeout)


def _raise_connect_error(exc: OSError, path: str, timeout: float) -> None:
    """Map a failed connect() to the client's typed errors."""
    if isinstance(exc, TimeoutError):
        raise ConnectTimeout(path, timeout) from None
    _check_path_length(path)
    if isinstance(exc, PermissionError):
        detail = "permission denied: the socket belongs to another user"
    else:  # ENOENT, ECONNREFUSED (stale socket or a plain file), ENOTDIR, ...
        detail = exc.strerror or str(exc)
    raise NotRunning(path, detail) from None


def _check_path_length(path: str) -> None:
    """Raise SocketPathTooLong when ``path`` is over the platform's Unix socket limit.

    Only called once connect() has failed, so a working connection never pays for the
    import; the rule itself is the lifecycle's (the daemon refuses to bind such paths,
    so "not running" would be misleading and an auto-start could only fail).
    """
    from sqry.daemon.lifecycle.errors import ConfigError
    from sqry.daemon.lifecycle.paths import check_socket_path

    try:
        check_socket_path(path)
    except ConfigError as err:
        raise SocketPathTooLong(path, str(err)) from None


def _check_server_owner(sock: _Socket, path: str) -> None:
    """Refuse a socket served by another user, before sending it anything.

    The mirror of the daemon's peer check (ipc.md §2). The socket's directory is
    normally the user's own 0700 runtime dir, but a fallback like ``/tmp/sqry-<uid>``
    can be created first by someone else, who could then pose as sqryd to
    ``status``, ``stop`` and every request that carries paths or queries.
    """
    try:
        uid = peer_uid(sock)
    except OSError as exc:
        raise ForeignDaemon(path, f"cannot tell who serves it ({exc})") from None
    if uid != os.geteuid():
        raise ForeignDaemon(path, f"it is served by uid {uid}, not by you (uid {os.geteuid()})")


def _handshake(sock: _Socket, path: str, timeout: float) -> dict[str, Any]:
    """Send the DaemonHello and validate the reply (envelope version first)."""
    sock.settimeout(timeout)
    hello = {"client_version": __version__, "protocol_version": PROTOCOL_VERSION}
    try:
        sock.sendall(encode_frame(hello))
        body = recv_frame(sock)
    except TimeoutError:
        raise HandshakeTimeout(path, timeout) from None
    except (OSError, TruncatedFrame, FrameTooLarge):
        raise HelloEof(path) from None
    if body is None:
        raise HelloEof(path)
    try:
        reply = _loads(body)
    except ValueError:
        raise HelloRejected(path, "the handshake reply is not valid JSON") from None
    if type(reply) is not dict:
        raise HelloRejected(path, "the handshake reply is not a JSON object")
    if "error" in reply:
        error = reply["error"] if type(reply["error"]) is dict else {}
        data = error.get("data")
        reason = data.get("reason") if type(data) is dict else None
        raise HelloRejected(path, str(reason or error.get("message") or "unknown error"))
    missing = [k for k in ("compatible", "daemon_version", "envelope_version") if k not in reply]
    if missing:
        raise HelloRejected(
            path,
            f"the handshake reply lacks {', '.join(missing)}: whatever serves this socket "
            "does not speak sqryd's protocol",
        )
    daemon_version = reply.get("daemon_version")
    envelope = reply.get("envelope_version")
    if envelope != ENVELOPE_VERSION or type(envelope) is not int:
        raise EnvelopeVersionMismatch(path, envelope, daemon_version)
    if reply.get("compatible") is not True:
        raise HelloRejected(
            path,
            f"sqryd {daemon_version} does not speak protocol version {PROTOCOL_VERSION}; "
            "stop it ('sqryd stop') and start a matching version",
            daemon_version,
        )
    if type(daemon_version) is not str:
        raise HelloRejected(path, "the handshake reply has no daemon_version")
    return reply


def _rpc_error(error: dict[str, Any], path: str, method: str) -> RpcError:
    """The typed error of a well-formed error object (an int ``code``)."""
    return RpcError(
        error["code"],
        str(error.get("message", "error")),
        error.get("data"),
        path,
        method,
    )
