"""Where the daemon's files live, and making that place safe to use.

All lifecycle files (socket, lock, pidfile, bootstrap lock, ready marker, log)
sit in one runtime dir so that one ``0700`` directory fences all of them. A
custom socket moves the whole family beside it, named after the socket, so two
daemons with private sockets in one directory never share a lock or a log.

Imported by the client path (``sqryd status``, every ``sqry`` call): it
imports only modules the interpreter has already loaded at start-up (os, stat,
sys). Paths are computed as strings; :class:`RuntimePaths` turns them into
``pathlib.Path`` objects (pathlib costs ~7 ms to import) only for the callers
that need the whole file family, which are the daemon and ``stop``.
``socket_file`` is the status/client shortcut to the socket alone.

Two kinds of directory, two policies (``ensure_runtime_dir``):

* The **default runtime dir** (``$XDG_RUNTIME_DIR/sqry``, ``sqry-<uid>``) is
  ours by name: created 0700, and chmod'ed to 0700 if it is not.
* The directory of a **custom socket** (``SQRY_DAEMON_SOCKET``, ``[socket]
  path``) may be any directory the user already has, such as ``$HOME``: we
  must never chmod it (``SQRY_DAEMON_SOCKET=$HOME/sqryd.sock`` would otherwise
  lock everyone out of a home directory). A missing one is created 0700; an
  existing one is used as it is if we own it and nobody else can write to it
  (the socket is 0600 and the lock 0600, so a readable directory leaks
  nothing); one owned by someone else or group/world-writable is refused
  (exit 77) with the fix, because another user could replace our socket.
"""

from __future__ import annotations

import os
import stat
import sys

from sqry.daemon.lifecycle.errors import (
    ConfigError,
    DaemonIoError,
    RuntimeDirUnsafe,
    UnsupportedPlatform,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing (~3 ms per call)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

SOCKET_SUFFIX = ".sock"
BOOTSTRAP_SUFFIX = ".bootstrap"  # <stem>.bootstrap.lock serialises auto-starts
#: What a socket's sibling files end in (see RuntimePaths): no socket may.
SIBLING_SUFFIXES = (".lock", ".pid", ".ready", ".log")
DEFAULT_STEM = "sqryd"

# sun_path is 108 bytes on Linux and 104 on macOS, one of which is the NUL.
_SUN_PATH_LIMITS = {"darwin": 103}
_DEFAULT_SUN_PATH_LIMIT = 107

_NFS_SUPER_MAGIC = 0x6969


def require_posix() -> None:
    """Fail clearly on platforms without flock/Unix sockets instead of crashing later."""
    if os.name != "posix":
        raise UnsupportedPlatform(
            f"sqryd needs a POSIX system (Linux or macOS); this platform ({sys.platform}) "
            "is not supported"
        )


def _env_value(env: Mapping[str, str], name: str) -> str | None:
    """Read an env var treating an empty value as unset (``FOO= cmd`` means unset)."""
    value = env.get(name)
    return value if value else None


def _absolute_env_dir(env: Mapping[str, str], name: str) -> str | None:
    """An env var naming a base directory, or None when unset, empty or relative.

    The XDG Base Directory spec says a relative path in an ``XDG_*`` variable
    is invalid and must be ignored; ``TMPDIR`` gets the same rule. Resolving
    it against the cwd instead would give each process its own answer: the
    detached daemon runs in ``/``, a client in the user's shell directory, so
    ``start --detach`` would refuse its own child and ``status`` would look
    in the wrong place.
    """
    value = _env_value(env, name)
    return os.path.normpath(value) if value is not None and os.path.isabs(value) else None


def resolve_runtime_dir(env: Mapping[str, str] = os.environ) -> str:
    """Return the default runtime dir: XDG first, then TMPDIR, then /tmp.

    A relative ``XDG_RUNTIME_DIR`` or ``TMPDIR`` is skipped, falling through to
    the next rule (see ``_absolute_env_dir``). The uid is the real uid, never
    ``$USER``, so a stale or forged ``$USER`` cannot point two accounts at one
    directory.
    """
    xdg = _absolute_env_dir(env, "XDG_RUNTIME_DIR")
    if xdg is not None:
        return os.path.join(xdg, "sqry")
    base = _absolute_env_dir(env, "TMPDIR") or "/tmp"
    return os.path.join(base, f"sqry-{os.getuid()}")


def absolute_path(value: str | os.PathLike[str], base: str | os.PathLike[str] | None = None) -> str:
    """Make a user-given path absolute: expand ``~``, then join onto ``base`` or the cwd.

    ``..`` components are normalised away textually (no symlink resolution), so
    the result is stable even before the path exists.
    """
    text = os.path.expanduser(os.fspath(value))
    if not os.path.isabs(text):
        text = os.path.join(os.fspath(base) if base is not None else os.getcwd(), text)
    return os.path.normpath(text)


def _family_names(
    socket_override: str | os.PathLike[str] | None, env: Mapping[str, str]
) -> tuple[str, str, str]:
    """``(directory, stem, socket)`` of one daemon's file family, as strings.

    The single place the family is derived; :class:`RuntimePaths` and
    :func:`socket_file` both build on it, so they can never disagree.
    """
    if socket_override is None or os.fspath(socket_override) == "":
        directory = resolve_runtime_dir(env)
        return directory, DEFAULT_STEM, os.path.join(directory, DEFAULT_STEM + SOCKET_SUFFIX)
    socket = absolute_path(socket_override)
    directory, name = os.path.split(socket)
    stem = name[: -len(SOCKET_SUFFIX)] if name.endswith(SOCKET_SUFFIX) else name
    return directory, stem or name, socket


def socket_file(
    socket_override: str | os.PathLike[str] | None, env: Mapping[str, str] = os.environ
) -> str:
    """The socket path alone (what ``RuntimePaths.resolve(...).socket`` holds), as a string.

    For the status and client paths, which need nothing else and should not pay
    for importing pathlib.
    """
    return _family_names(socket_override, env)[2]


class RuntimePaths:
    """Every file of one daemon instance (immutable; ``pathlib.Path`` attributes).

    With a custom socket ``/x/foo.sock`` the siblings are ``/x/foo.lock``,
    ``/x/foo.pid``, ``/x/foo.bootstrap.lock``, ``/x/foo.ready`` and the default
    log ``/x/foo.log`` (beside the socket too, so two private daemons never
    interleave logs), and ``runtime_dir`` is ``/x``. Only a ``.sock`` suffix is
    stripped to form the stem: ``/x/foo.lock`` as a socket would otherwise make
    the lock file and the socket the same path, so it gets ``/x/foo.lock.lock``
    (and is refused by :func:`check_socket_names_a_file` before any start: it is
    ``/x/foo.sock``'s lock).

    A hand-written value class rather than a frozen dataclass: ``dataclasses``
    costs ~12 ms to import on the status path.
    """

    PATH_FIELDS = ("runtime_dir", "socket", "lock", "pid", "bootstrap_lock", "ready", "default_log")
    __slots__ = (*PATH_FIELDS, "custom")
    runtime_dir: Path
    socket: Path
    lock: Path
    pid: Path
    bootstrap_lock: Path
    ready: Path
    default_log: Path
    custom: bool
    """True when the family sits beside a custom socket, not in the default runtime dir."""

    def __init__(
        self,
        runtime_dir: Path,
        socket: Path,
        lock: Path,
        pid: Path,
        bootstrap_lock: Path,
        ready: Path,
        default_log: Path,
        custom: bool = False,
    ) -> None:
        for name, value in zip(
            self.__slots__,
            (runtime_dir, socket, lock, pid, bootstrap_lock, ready, default_log, custom),
            strict=True,
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def resolve(
        cls,
        socket_override: str | os.PathLike[str] | None,
        env: Mapping[str, str] = os.environ,
    ) -> RuntimePaths:
        """Resolve the file family from a socket path, or the defaults when None."""
        from pathlib import Path

        directory, stem, socket = _family_names(socket_override, env)
        folder = Path(directory)
        custom = socket_override is not None and os.fspath(socket_override) != ""
        return cls(
            runtime_dir=folder,
            socket=Path(socket),
            lock=folder / f"{stem}.lock",
            pid=folder / f"{stem}.pid",
            bootstrap_lock=folder / f"{stem}{BOOTSTRAP_SUFFIX}.lock",
            ready=folder / f"{stem}.ready",
            default_log=folder / f"{stem}.log",
            custom=custom,
        )

    def _values(self) -> tuple[Path | bool, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RuntimePaths is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"RuntimePaths is immutable (cannot delete {name!r})")

    def __eq__(self, other: object) -> bool:
        if type(other) is not RuntimePaths:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self) -> tuple[type[RuntimePaths], tuple[Path | bool, ...]]:
        return (RuntimePaths, self._values())  # copy/pickle cannot use the blocked setattr

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"RuntimePaths({fields})"


def socket_path_limit() -> int:
    """Longest socket path (bytes, without the NUL) this platform's sun_path holds."""
    return _SUN_PATH_LIMITS.get(sys.platform, _DEFAULT_SUN_PATH_LIMIT)


def check_socket_path(path: str | os.PathLike[str]) -> None:
    """Reject a socket path the kernel would truncate, before anything is spawned."""
    length = len(os.fsencode(path))
    limit = socket_path_limit()
    if length > limit:
        raise ConfigError(
            f"socket path {path} is {length} bytes, over the {limit}-byte limit for Unix "
            "sockets on this platform; set SQRY_DAEMON_SOCKET to a shorter path "
            "(or use a shorter XDG_RUNTIME_DIR)"
        )


def check_socket_names_a_file(path: str | os.PathLike[str]) -> None:
    """Reject a socket path that names a directory, before anything is created.

    The lock, pidfile and log are named after the socket (``<dir>/<stem>.lock``),
    so a directory as the socket (``/``, ``$HOME``, ``x/..``, which
    ``absolute_path`` has already normalised to its directory) would scatter
    ``/.lock``, ``/tmp.log`` and the like beside it, only for bind to fail later.
    """
    text = os.fspath(path)
    name = os.path.basename(text)
    if name in ("", ".", "..") or os.path.isdir(text):
        raise ConfigError(
            f"socket path {text} is a directory, not a file name; set SQRY_DAEMON_SOCKET "
            f"(or [socket] path in the config) to a file in it, e.g. "
            f"{os.path.join(text, DEFAULT_STEM + SOCKET_SUFFIX)}"
        )
    sibling = next((s for s in SIBLING_SUFFIXES if name.endswith(s) and name != s), None)
    if sibling is not None:
        # <x>.pid as a socket is <x>.sock's pidfile: starting either daemon
        # replaces a file of the other, which then shuts down
        other = os.path.join(os.path.dirname(text), name[: -len(sibling)] + SOCKET_SUFFIX)
        raise ConfigError(
            f"socket path {text} is the {sibling} file of the socket {other}; choose a "
            f"socket name that does not end in {', '.join(SIBLING_SUFFIXES)}, e.g. one "
            f"ending in {SOCKET_SUFFIX}"
        )
    stem = name.removesuffix(SOCKET_SUFFIX)
    if stem.endswith(BOOTSTRAP_SUFFIX) and stem != BOOTSTRAP_SUFFIX:
        # <x>.bootstrap.sock's lock, <x>.bootstrap.lock, is <x>.sock's bootstrap lock
        other = os.path.join(os.path.dirname(text), stem[: -len(BOOTSTRAP_SUFFIX)] + SOCKET_SUFFIX)
        raise ConfigError(
            f"socket path {text} would take as its lock file {stem}.lock, the bootstrap "
            f"lock of the socket {other}; choose a socket name that does not end in "
            f"'{BOOTSTRAP_SUFFIX}{SOCKET_SUFFIX}'"
        )


def ensure_std_fds_open() -> None:
    """Open ``/dev/null`` onto whichever of fds 0, 1 and 2 is closed.

    A process started with a closed stdin/stdout/stderr (``sqryd start
    --detach <&-``, or a client run that way) would otherwise get the lock
    file, the ready pipe or the log on fd 0-2, since ``open`` returns the
    lowest free number. Whatever later treats 0-2 as stdio then clobbers it:
    the detached child's redirect of its stdio to /dev/null replaces the
    inherited lock fd, and a stray write to "stderr" lands in the lock file.
    Only closed fds are touched; open ones, whatever they are, are left alone.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free fd, i.e. ``fd``
            if null == fd:
                os.set_inheritable(fd, True)  # stdio is inherited, unlike os.open's default
            else:
                os.dup2(null, fd)
                os.close(null)


def prepare_start(paths: RuntimePaths) -> None:
    """The checks every start path runs first, before it creates any file.

    ``sqryd start``/``foreground``, ``start --detach`` and the clients'
    auto-start all call this one function, so a socket path the kernel would
    truncate (78) or an unsafe directory (77) is reported the same way by each,
    and before a lock, log or pidfile exists; so is a socket path that names a
    directory (78). It first fills any closed fd 0-2 with /dev/null
    (``ensure_std_fds_open``), so none of the files it and its callers open
    can land on a standard stream's number.
    """
    ensure_std_fds_open()
    check_socket_path(paths.socket)
    check_socket_names_a_file(paths.socket)
    ensure_runtime_dir(paths.runtime_dir, custom=paths.custom)


def ensure_runtime_dir(directory: str | os.PathLike[str], *, custom: bool = False) -> None:
    """Create the runtime dir 0700 (parents too), or prove an existing one is private.

    Refuses (exit 77) a directory owned by another uid, a sticky shared
    directory such as /tmp (we must never chmod those, least of all as root),
    and one that is still group/world-writable after our chmod: any of these
    would let another user replace our socket or pidfile. A mount point that
    is not already 0700 (``/``, ``/run``, ``/home`` when root points
    SQRY_DAEMON_SOCKET at it) is refused too rather than chmod'ed: tightening
    it would lock every other user out of the system directory.

    ``custom`` (the directory of a custom socket) never chmods an existing
    directory: see the module docstring for why.
    """
    require_posix()
    path = os.path.abspath(directory)
    try:
        make_private_dirs(path)
        if custom:
            _check_custom_dir(path)
        else:
            _check_and_tighten(path)
    except OSError as exc:
        what = "SQRY_DAEMON_SOCKET" if custom else "XDG_RUNTIME_DIR (or SQRY_DAEMON_SOCKET)"
        raise DaemonIoError(
            f"cannot prepare runtime directory {path}: {exc.strerror or exc}; check the "
            f"directories on that path, or set {what} to a directory you own"
        ) from exc


def make_private_dirs(directory: str) -> None:
    """mkdir each missing component with mode 0700.

    ``os.makedirs`` gives intermediate directories the umask default mode;
    we want every directory we create to be private. The umask can only
    clear bits, so a 0700 mkdir never exposes more than 0700 — but it can
    clear ours too (umask 077 or 0777 would leave a directory we cannot enter),
    so each directory this call created is chmod'ed to exactly 0700.
    """
    missing: list[str] = []
    current = directory
    while not os.path.lexists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue  # Created concurrently by another starter: checked below like any other.
        os.chmod(path, 0o700)


def _check_owned_dir(directory: str) -> int:
    """Refuse a foreign symlink, a non-directory or a foreign owner; return the mode."""
    euid = os.geteuid()
    link = os.lstat(directory)
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (euid, 0):
        raise RuntimeDirUnsafe(
            f"runtime directory {directory} is a symlink owned by uid {link.st_uid}, not by "
            f"you (uid {euid}); remove it or point XDG_RUNTIME_DIR/SQRY_DAEMON_SOCKET elsewhere"
        )
    info = os.stat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise DaemonIoError(
            f"runtime directory {directory} exists but is not a directory; remove it or "
            "choose another location with XDG_RUNTIME_DIR/SQRY_DAEMON_SOCKET"
        )
    if info.st_uid != euid:
        raise RuntimeDirUnsafe(
            f"runtime directory {directory} is owned by uid {info.st_uid}, not by you "
            f"(uid {euid}); use a directory you own (set XDG_RUNTIME_DIR or SQRY_DAEMON_SOCKET)"
        )
    return stat.S_IMODE(info.st_mode)


def _refuse_shared_sticky(directory: str, mode: int) -> None:
    """A sticky shared directory (/tmp) is never used directly, nor chmod'ed."""
    if mode & stat.S_ISVTX and mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise RuntimeDirUnsafe(
            f"runtime directory {directory} is a shared sticky directory (mode {mode:04o}); "
            "refusing to use or chmod it: put the socket in a private directory, e.g. "
            "SQRY_DAEMON_SOCKET=/path/to/private-dir/sqryd.sock"
        )


def _check_custom_dir(directory: str) -> None:
    """A custom socket's directory: ours and not writable by others, used without chmod."""
    mode = _check_owned_dir(directory)
    _refuse_shared_sticky(directory, mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise RuntimeDirUnsafe(
            f"socket directory {directory} is group/world-writable (mode {mode:04o}), so "
            "another user could replace the socket; sqryd does not chmod a directory it did "
            f"not create: run 'chmod go-w {directory}' or set SQRY_DAEMON_SOCKET to a path in "
            "a private directory"
        )


def _check_and_tighten(directory: str) -> None:
    """The default runtime dir: ours by name, so tightened to 0700 when it is not."""
    mode = _check_owned_dir(directory)
    _refuse_shared_sticky(directory, mode)
    if mode != 0o700:
        if os.path.ismount(directory):
            raise RuntimeDirUnsafe(
                f"runtime directory {directory} is a mount point (mode {mode:04o}) that other "
                "users may need; refusing to chmod it: put the socket in a private "
                "subdirectory, e.g. SQRY_DAEMON_SOCKET=<dir>/sqry/sqryd.sock"
            )
        os.chmod(directory, 0o700)
        mode = stat.S_IMODE(os.stat(directory).st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise RuntimeDirUnsafe(
            f"runtime directory {directory} is still group/world-writable (mode {mode:04o}) "
            "after chmod 0700 (file system ignores modes?); use a directory on a local "
            "file system via XDG_RUNTIME_DIR or SQRY_DAEMON_SOCKET"
        )


def is_on_nfs(directory: str | os.PathLike[str]) -> bool:
    """Best-effort NFS detection: flock is unreliable there. Never raises.

    ``os.statvfs`` does not expose the file-system type, so ask libc's
    ``statfs`` through ctypes (imported lazily: only the daemon pays for it).
    """
    try:
        if sys.platform.startswith("linux"):
            return _linux_fs_magic(os.fsencode(directory)) == _NFS_SUPER_MAGIC
        if sys.platform == "darwin":
            return _darwin_fs_type_name(os.fsencode(directory)) == "nfs"
    except Exception:  # detection is advisory; any failure means "unknown"
        return False
    return False


def _linux_fs_magic(path: bytes) -> int | None:
    """Return ``f_type`` of ``statfs(2)``: the first field, a C ``long`` on every Linux ABI."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    buf = (ctypes.c_long * 64)()  # struct statfs is at most 120 bytes; 512 is ample.
    if libc.statfs(ctypes.c_char_p(path), ctypes.byref(buf)) != 0:
        return None
    return int(buf[0]) & 0xFFFFFFFF


def _darwin_fs_type_name(path: bytes) -> str | None:
    """Return ``f_fstypename`` from macOS's 64-bit-inode ``struct statfs``."""
    import ctypes

    class _StatFs(ctypes.Structure):
        _fields_ = [
            ("f_bsize", ctypes.c_uint32),
            ("f_iosize", ctypes.c_int32),
            ("f_blocks", ctypes.c_uint64),
            ("f_bfree", ctypes.c_uint64),
            ("f_bavail", ctypes.c_uint64),
            ("f_files", ctypes.c_uint64),
            ("f_ffree", ctypes.c_uint64),
            ("f_fsid", ctypes.c_int32 * 2),
            ("f_owner", ctypes.c_uint32),
            ("f_type", ctypes.c_uint32),
            ("f_flags", ctypes.c_uint32),
            ("f_fssubtype", ctypes.c_uint32),
            ("f_fstypename", ctypes.c_char * 16),
            ("f_mntonname", ctypes.c_char * 1024),
            ("f_mntfromname", ctypes.c_char * 1024),
            ("f_flags_ext", ctypes.c_uint32),
            ("f_reserved", ctypes.c_uint32 * 7),
        ]

    libc = ctypes.CDLL(None, use_errno=True)
    func = getattr(libc, "statfs$INODE64", None) or libc.statfs
    buf = _StatFs()
    if func(ctypes.c_char_p(path), ctypes.byref(buf)) != 0:
        return None
    return buf.f_fstypename.decode("ascii", "replace")
