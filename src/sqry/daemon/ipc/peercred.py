"""Who is on the other end of an accepted Unix socket (ipc.md §2, "peer credentials").

The socket's 0600 mode and the runtime dir's 0700 are the first fence; this is the
second: a peer whose uid differs from the daemon's euid is refused before anything it
sent is read. Linux uses ``SO_PEERCRED``; other Unix systems (macOS, the BSDs) use
``getpeereid(3)`` through ctypes. If neither works the peer is refused (fail closed)
with a reason saying so — the macOS path is written to the manual page but untested in
CI, which runs on Linux.

The client checks the other direction with the same :func:`peer_uid` (the daemon
must be its own user's), so this module stays as cheap to import as the client:
the C ``_socket`` module rather than ``socket``, no ``typing`` at run time.
"""

from __future__ import annotations

import _socket
import os
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_UCRED = struct.Struct("3i")  # struct ucred { pid_t pid; uid_t uid; gid_t gid; }


def _getpeereid(fd: int) -> int:
    """uid of the peer via libc ``getpeereid`` (macOS/BSD)."""
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    uid = ctypes.c_uint32()
    gid = ctypes.c_uint32()
    if libc.getpeereid(fd, ctypes.byref(uid), ctypes.byref(gid)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return uid.value


def peer_uid(sock: Any) -> int:
    """uid of the connected peer of a Unix stream socket (raises OSError when unknown)."""
    so_peercred = getattr(_socket, "SO_PEERCRED", None)
    if so_peercred is not None:
        raw = sock.getsockopt(_socket.SOL_SOCKET, so_peercred, _UCRED.size)
        return _UCRED.unpack(raw)[1]
    return _getpeereid(sock.fileno())


def refusal_reason(sock: Any, owner_uid: int) -> str | None:
    """None when the peer may talk to the daemon, else the reason sent back in -32600."""
    try:
        uid = peer_uid(sock)
    except (OSError, AttributeError) as exc:
        return f"cannot verify the peer's credentials ({exc}); refusing the connection"
    if uid != owner_uid:
        return f"peer uid {uid} is not the daemon owner"
    return None
