"""Peer-credential fence: a different uid gets one -32600 frame and is closed (ipc.md §2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest
from ipc_testkit import HELLO, RawConn, running_server, short_dir

pytestmark = pytest.mark.timeout(30)

NOBODY_UID = 65534

# A stdlib-only client run as another user: it sends a hello (which must NOT be read)
# and prints the single frame the daemon sends back, then whether the socket closed.
CLIENT = r"""
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(b'\x3a\x00\x00\x00{"client_version":"intruder","protocol_version":1}' + b' ' * 8)
except OSError:
    pass
buf = b""
while True:
    try:
        chunk = s.recv(65536)
    except ConnectionResetError:
        break
    if not chunk:
        break
    buf += chunk
n = struct.unpack("<I", buf[:4])[0]
print(json.dumps({"frame": json.loads(buf[4:4 + n]), "trailing": len(buf) - 4 - n}))
"""


def _unprivileged_python() -> str | None:
    """A python the 'nobody' user may execute (the venv's may live under /root)."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and os.access(candidate, os.X_OK):
            probe = subprocess.run(
                [candidate, "-c", "pass"], user=NOBODY_UID, capture_output=True, timeout=20
            )
            if probe.returncode == 0:
                return candidate
    return None


def _run_as_nobody(socket_path: str) -> dict:
    """Run CLIENT as uid 65534 against ``socket_path``; what it saw, decoded."""
    python = _unprivileged_python()
    if python is None:
        pytest.skip("no python interpreter executable by uid 65534")
    done = subprocess.run(
        [python, "-c", CLIENT, socket_path],
        user=NOBODY_UID,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _open_first_fence(socket_path: str, *dirs: str) -> None:
    """Let another uid reach the socket (dirs 0711, socket 0666): the uid check remains."""
    for directory in dirs:
        os.chmod(directory, 0o711)
    os.chmod(socket_path, 0o666)


REFUSAL = {
    "frame": {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": -32600,
            "message": "Invalid Request",
            "data": {"reason": f"peer uid {NOBODY_UID} is not the daemon owner"},
        },
    },
    "trailing": 0,  # no hello reply: the hello was never read
}

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to run a client as another uid"
)


@needs_root
def test_foreign_uid_is_refused_before_anything_is_read() -> None:
    with running_server() as ipc:
        _open_first_fence(ipc.socket_path, os.path.dirname(ipc.socket_path))
        assert _run_as_nobody(ipc.socket_path) == REFUSAL
        with ipc.connect() as owner:  # the owner is still served
            assert "result" in owner.request("daemon/status")


@needs_root
def test_live_daemon_refuses_a_foreign_uid(live_daemon: Any) -> None:
    env = live_daemon.env
    _open_first_fence(str(env.socket), str(env.dir), str(env.runtime))
    assert _run_as_nobody(str(env.socket)) == REFUSAL
    with RawConn(str(env.socket)) as owner:
        assert owner.call(HELLO)["compatible"] is True
        assert owner.request("daemon/status")["result"]["result"]["pid"] == live_daemon.pid
    log = env.log.read_text()
    assert f"refused connection: peer uid {NOBODY_UID} is not the daemon owner" in log


def test_owner_uid_is_accepted() -> None:
    with running_server() as ipc, ipc.connect() as conn:
        assert conn.request("daemon/status")["result"]["result"]["pid"] == os.getpid()


def test_peer_uid_of_a_socketpair_is_ours() -> None:
    import socket

    from sqry.daemon.ipc.peercred import peer_uid, refusal_reason

    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        assert peer_uid(a) == os.geteuid()
        assert refusal_reason(a, os.geteuid()) is None
        assert (
            refusal_reason(a, os.geteuid() + 1)
            == f"peer uid {os.geteuid()} is not the daemon owner"
        )
    finally:
        a.close()
        b.close()


def test_unreadable_credentials_fail_closed() -> None:
    import socket

    from sqry.daemon.ipc.peercred import refusal_reason

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # no peer credentials at all
    udp.close()
    reason = refusal_reason(udp, os.geteuid())
    assert reason is not None and reason.startswith("cannot verify the peer's credentials")


# A stdlib-only server run as another user: it listens (so SO_PEERCRED names it),
# says "listening", accepts one connection and prints how many bytes it received.
FOREIGN_SERVER = r"""
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
s.listen(1)
print("listening", flush=True)
s.settimeout(20)
conn, _ = s.accept()
conn.settimeout(20)
received = 0
while chunk := conn.recv(65536):
    received += len(chunk)
print(received, flush=True)
"""


@needs_root
def test_the_client_refuses_a_server_run_by_another_uid() -> None:
    """The mirror of the daemon's check: a socket served by someone else (a runtime
    dir they created first) is refused before the client sends anything."""
    from sqry.client import DaemonClient, ForeignDaemon, NotRunning

    python = _unprivileged_python()
    if python is None:
        pytest.skip("no python interpreter executable by uid 65534")
    with short_dir() as directory:
        os.chmod(directory, 0o777)
        path = str(directory / "s.sock")
        server = subprocess.Popen(
            [python, "-c", FOREIGN_SERVER, path],
            user=NOBODY_UID,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout.readline() == "listening\n", server.stderr.read()
            with pytest.raises(ForeignDaemon) as refused:
                DaemonClient.connect(path, connect_timeout=5, handshake_timeout=5, auto_start=True)
            assert not isinstance(refused.value, NotRunning)  # so no auto-start was tried
            assert str(refused.value) == (
                f"refusing to talk to socket {path}: it is served by uid {NOBODY_UID}, not by "
                f"you (uid 0); it is not your sqryd (remove the socket or its directory, or "
                "set SQRY_DAEMON_SOCKET to a path of your own)"
            )
            out, err = server.communicate(timeout=20)
            assert out == "0\n", err  # not a byte was sent to it
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
