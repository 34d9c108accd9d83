"""A scripted fake daemon: a real listening Unix socket whose replies a test dictates.

Used to produce the handshake failures a correct daemon never sends (wrong envelope
version, silence, early close, wrong reply ids) so each client error can be observed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqry.daemon.ipc.framing import encode_frame, recv_frame

Script = Callable[[socket.socket, "FakeDaemon"], None]


class FakeDaemon:
    """Accepts connections on ``path`` and runs ``script(conn, self)`` for each."""

    def __init__(self, path: str, script: Script) -> None:
        self.path = path
        self.script = script
        self.received: list[Any] = []
        self.release = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(16)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._conns: list[socket.socket] = []

    def __enter__(self) -> FakeDaemon:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for conn in self._conns:
            conn.close()
        self._thread.join(timeout=10)

    def recv(self, conn: socket.socket) -> Any:
        body = recv_frame(conn)
        value = None if body is None else json.loads(body)
        self.received.append(value)
        return value

    def send(self, conn: socket.socket, obj: Any) -> None:
        conn.sendall(encode_frame(obj))

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            conn.settimeout(10)
            with contextlib.suppress(OSError):
                self.script(conn, self)


def hello_then(reply: Any) -> Script:
    """Read the hello, answer with ``reply``, then serve requests with echo replies."""

    def script(conn: socket.socket, fake: FakeDaemon) -> None:
        fake.recv(conn)
        fake.send(conn, reply)
        while (request := fake.recv(conn)) is not None:
            if "id" not in request:
                continue  # a notification: never answered
            fake.send(
                conn,
                {
                    "jsonrpc": "2.0",
                    "id": request["id"],
                    "result": {
                        "result": request["id"],
                        "meta": {"stale": False, "daemon_version": "x"},
                    },
                },
            )

    return script


GOOD_HELLO = {"compatible": True, "daemon_version": "0.1.0", "envelope_version": 1}
