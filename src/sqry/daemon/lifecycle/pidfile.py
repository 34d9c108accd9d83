"""The singleton lock and the pidfile (a port of the original ``pidfile.rs``).

Every running ``sqryd`` holds an exclusive ``flock`` on ``sqryd.lock`` for its
whole life. ``flock`` locks belong to the *open file description* (OFD), not
to the process, so the lock survives fork+exec when the fd is inherited: that
is how ``start --detach`` takes the lock in the user's process (errors reach
the terminal) and hands it to the daemon child. ``fcntl.lockf``/POSIX record
locks are per-process and would be dropped by the wrong close, so they are
never used here.

Ownership decides who cleans up on close::

    WRITE_OWNER --hand_off_to_adopter()--> HANDOFF
        | close                               | close
        v                                     v
    unlink pidfile + LOCK_UN + close      close the fd only (no LOCK_UN)

    ADOPTED (adopt(fd, ...)) --close--> unlink pidfile + LOCK_UN + close

``HANDOFF`` must not ``LOCK_UN``: the lock lives on the shared OFD, and an
unlock through any fd releases it for the adopter too.

Stale recovery needs no code: the kernel releases a flock when the last fd
of its OFD closes, on any death (SIGKILL, OOM, segfault). The next acquire
succeeds on the same inode and overwrites the stale pidfile. The lock file is
therefore never unlinked: every contender must lock the same inode.
"""

from __future__ import annotations

import enum
import errno
import fcntl
import logging
import os
import stat
import sys
from pathlib import Path
from types import TracebackType

from sqry.daemon.lifecycle.errors import AlreadyRunning, DaemonIoError
from sqry.daemon.lifecycle.paths import RuntimePaths, ensure_runtime_dir, is_on_nfs

log = logging.getLogger("sqry.daemon.lifecycle")

_PIDFILE_MODE = 0o644  # world-readable: diagnostics need no privileges
_LOCKFILE_MODE = 0o600
_MAX_PIDFILE_BYTES = 64
_MAX_PID = 0xFFFF_FFFF  # the seed reads a u32


class PidfileOwnership(enum.Enum):
    """Who is responsible for the pidfile (and the unlock) when a handle closes."""

    WRITE_OWNER = "write_owner"
    """Wrote the pidfile: close unlinks it and unlocks."""
    HANDOFF = "handoff"
    """Gave the lock to an adopter: close only closes the fd."""
    ADOPTED = "adopted"
    """Wraps an inherited locked fd: close unlinks the pidfile and unlocks."""


class PidfileLock:
    """Handle holding the exclusive flock on the lock file, plus the pidfile's fate.

    Build it with :func:`acquire_pidfile_lock` or :meth:`adopt`. ``close()``
    (also via ``with`` and, as a safety net, ``__del__``) never raises.
    """

    def __init__(self, fd: int, pidfile: Path, lockfile: Path, ownership: PidfileOwnership) -> None:
        self._fd = fd
        self._pidfile = Path(pidfile)
        self._lockfile = Path(lockfile)
        self._ownership = ownership
        # A fork()ed copy of this object (multiprocessing, a stray os.fork) must
        # never unlink or unlock: that would release the real daemon's lock.
        self._creator_pid = os.getpid()

    def __repr__(self) -> str:
        return (
            f"PidfileLock(pidfile={str(self._pidfile)!r}, lockfile={str(self._lockfile)!r}, "
            f"ownership={self._ownership.name}, fd={self._fd})"
        )

    @property
    def pidfile_path(self) -> Path:
        return self._pidfile

    @property
    def lockfile_path(self) -> Path:
        return self._lockfile

    @property
    def ownership(self) -> PidfileOwnership:
        return self._ownership

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def fileno(self) -> int:
        """The lock fd, e.g. to pass to the detached child. Owned by this handle."""
        if self._fd < 0:
            raise ValueError("PidfileLock is closed")
        return self._fd

    def hand_off_to_adopter(self) -> None:
        """WRITE_OWNER -> HANDOFF, once the adopter has signalled ready.

        Any other starting state is a programming error (it would skip a
        required pidfile unlink), so it raises instead of being ignored.
        """
        if self._ownership is not PidfileOwnership.WRITE_OWNER:
            raise RuntimeError(
                "hand_off_to_adopter called on a non-WRITE_OWNER PidfileLock "
                f"(ownership={self._ownership.name})"
            )
        self._ownership = PidfileOwnership.HANDOFF

    def write_pid(self, pid: int) -> None:
        """Atomically (over)write the pidfile, e.g. the adopter writing its own pid."""
        write_pidfile_atomic(self._pidfile, pid)

    @classmethod
    def adopt(cls, fd: int, pidfile: Path, lockfile: Path) -> PidfileLock:
        """Wrap an inherited fd that already holds the flock; the handle now owns ``fd``.

        Refuses (DaemonIoError, leaving ``fd`` to the caller) an fd that is not
        open or is not the lock file, so a wrong ``SQRYD_LOCK_FD`` cannot make
        a daemon believe it holds a lock it does not.
        """
        try:
            held = os.fstat(fd)
        except OSError as exc:
            raise DaemonIoError(
                f"lock fd {fd} is not an open file descriptor: {exc.strerror}"
            ) from exc
        try:
            named = os.stat(lockfile, follow_symlinks=False)
        except OSError as exc:
            raise DaemonIoError(f"cannot stat lock file {lockfile}: {exc.strerror}") from exc
        if (held.st_dev, held.st_ino) != (named.st_dev, named.st_ino):
            raise DaemonIoError(f"lock fd {fd} is not the lock file {lockfile}")
        # Beyond the seed (whose adopt trusts its caller): an fd holding the flock
        # takes it again as a no-op; one whose open file does not hold it fails
        # here if another process does, rather than run a second daemon beside it.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise DaemonIoError(
                f"lock fd {fd} does not hold the lock on {lockfile}: another process does"
            ) from exc
        return cls(fd, pidfile, lockfile, PidfileOwnership.ADOPTED)

    def close(self) -> None:
        """Release according to ownership (the seed's Drop). Idempotent, never raises."""
        fd, self._fd = self._fd, -1
        if fd < 0:
            return
        try:
            if self._creator_pid != os.getpid():
                log.debug("pidfile lock closed in a forked copy: fd only (pid %s)", os.getpid())
            elif self._ownership is PidfileOwnership.HANDOFF:
                log.debug("pidfile handoff: closing fd without LOCK_UN, keeping pidfile")
            else:
                if self._still_named_by_lockfile(fd):
                    self._remove_pidfile()
                self._unlock(fd)
        finally:
            _close_quietly(fd, self._lockfile)

    def _still_named_by_lockfile(self, fd: int) -> bool:
        """Is our locked inode still the one at the lock path? (Beyond the seed.)

        If the runtime dir was deleted and another daemon created a new lock
        file there, the pidfile beside it is that daemon's: removing it would
        make a live daemon look dead. We only clean up the name we own.
        """
        try:
            held = os.fstat(fd)
            named = os.stat(self._lockfile, follow_symlinks=False)
        except OSError:
            log.warning("lock file %s is gone; leaving %s alone", self._lockfile, self._pidfile)
            return False
        if (held.st_dev, held.st_ino) != (named.st_dev, named.st_ino):
            log.warning(
                "lock file %s was replaced by another; leaving %s alone",
                self._lockfile,
                self._pidfile,
            )
            return False
        return True

    def _remove_pidfile(self) -> None:
        try:
            os.unlink(self._pidfile)
            log.debug("pidfile removed: %s", self._pidfile)
        except FileNotFoundError:
            log.debug("pidfile already absent on close: %s", self._pidfile)
        except OSError as exc:
            log.warning("failed to remove pidfile %s on close: %s", self._pidfile, exc)

    def _unlock(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError as exc:
            # The kernel releases the lock when the fd closes right after anyway.
            log.warning("flock(LOCK_UN) on %s failed: %s", self._lockfile, exc)

    def __enter__(self) -> PidfileLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Safety net only: callers close explicitly. Interpreter shutdown may have
        # torn modules down, hence the blanket guard.
        try:
            self.close()
        except Exception:  # pragma: no cover - must never raise from a finalizer
            pass


def _close_quietly(fd: int, lockfile: Path) -> None:
    try:
        os.close(fd)
    except OSError as exc:
        log.warning("closing lock fd %d (%s) failed: %s", fd, lockfile, exc)


def acquire_pidfile_lock(paths: RuntimePaths) -> PidfileLock:
    """Take the singleton lock and write our pid (lifecycle.md §2), as WRITE_OWNER.

    Raises AlreadyRunning (75) when another process holds the lock,
    RuntimeDirUnsafe (77) for an unsafe runtime dir, DaemonIoError (73)
    for any other OS failure.
    """
    ensure_runtime_dir(paths.runtime_dir, custom=paths.custom)
    fd = _open_lockfile(paths.lock)
    try:
        _warn_if_nfs(paths.runtime_dir)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if is_would_block(exc):
                raise AlreadyRunning(read_pid(paths.pid), paths.socket, paths.lock) from None
            raise DaemonIoError(f"cannot lock {paths.lock}: {exc.strerror or exc}") from exc
        log.debug("exclusive flock acquired on %s", paths.lock)
        write_pidfile_atomic(paths.pid, os.getpid())
    except BaseException:
        os.close(fd)  # also drops the flock if we got it
        raise
    return PidfileLock(fd, paths.pid, paths.lock, PidfileOwnership.WRITE_OWNER)


def _open_lockfile(lockfile: Path) -> int:
    """Open-or-create the lock file 0600 without truncating or following symlinks."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(lockfile, flags, _LOCKFILE_MODE)
    except OSError as exc:
        raise _lockfile_open_error(lockfile, exc) from exc
    try:
        info = os.fstat(fd)
        _require_regular(lockfile, info.st_mode)
        # Normalise files left by older builds or another umask; new ones are 0600 already.
        if stat.S_IMODE(info.st_mode) != _LOCKFILE_MODE:
            os.fchmod(fd, _LOCKFILE_MODE)
        os.set_blocking(fd, True)
    except OSError as exc:
        os.close(fd)
        raise DaemonIoError(f"cannot prepare lock file {lockfile}: {exc.strerror or exc}") from exc
    except BaseException:
        os.close(fd)
        raise
    return fd


def _lockfile_open_error(lockfile: Path, exc: OSError) -> DaemonIoError:
    """The one wording of "cannot open the lock file" for start, stop and status alike.

    A symlink (ELOOP under O_NOFOLLOW) or a directory (EISDIR) at the lock path
    is something the user can fix, so the message says how.
    """
    if exc.errno == errno.ELOOP:
        return DaemonIoError(f"lock file {lockfile} is a symlink; refusing to follow it: remove it")
    if exc.errno == errno.EISDIR:
        return _not_regular(lockfile, stat.S_IFDIR)
    return DaemonIoError(f"cannot open lock file {lockfile}: {exc.strerror or exc}")


def _require_regular(lockfile: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise _not_regular(lockfile, mode)


def _not_regular(lockfile: Path, mode: int) -> DaemonIoError:
    kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
    return DaemonIoError(
        f"lock file {lockfile} is {kind}; a daemon cannot lock it: remove it "
        "(nothing else may live at that path)"
    )


def _warn_if_nfs(directory: Path) -> None:
    if is_on_nfs(directory):
        log.warning(
            "runtime directory %s appears to be on NFS, where flock is not reliable; "
            "use a local file system via SQRY_DAEMON_SOCKET or XDG_RUNTIME_DIR",
            directory,
        )


def write_pidfile_atomic(path: Path, pid: int) -> None:
    """Write ``"<pid>\\n"`` to ``path`` via temp file + fsync + rename, mode 0644.

    Readers see the old content or the new, never a torn or empty file. The
    mode is set with fchmod before writing, so the umask cannot change it.
    """
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= _MAX_PID:
        raise ValueError(f"pid must be an integer between 1 and {_MAX_PID}, got {pid!r}")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            os.fchmod(fd, _PIDFILE_MODE)
            _write_all(fd, f"{pid}\n".encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        _unlink_quietly(tmp)
        if os.path.isdir(path):
            raise DaemonIoError(
                f"cannot write pidfile {path}: it is a directory; remove it (rmdir) and start again"
            ) from exc
        raise DaemonIoError(
            f"cannot write pidfile {path}: {exc.strerror or exc}; check that {path.parent} "
            "is writable and has free space"
        ) from exc
    _fsync_dir(path.parent)
    log.debug("pidfile %s written with pid %d", path, pid)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_dir(directory: Path) -> None:
    """Persist the rename (best effort: some file systems refuse directory fsync)."""
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def read_pid(path: Path, *, raise_errors: bool = False) -> int | None:
    """The pid in ``path``, or None when missing, unreadable or not a valid pid.

    ``raise_errors``: an OSError opening or reading the file propagates instead
    (FileNotFoundError when missing), for callers that must tell "the file is gone"
    from "it could not be read just now" (out of file descriptors, say).

    The seed's ``text.trim().parse::<u32>()``, made stricter: surrounding
    whitespace is trimmed, then only ASCII digits are accepted (``int()``
    would also take ``1_0``, ``+5`` and non-ASCII digits), the value must fit
    a u32 (<= 4294967295) and be > 0 (pid 0 would mean "our process group" to
    ``kill``). Opens non-blocking and checks for a regular file, so a FIFO
    planted at the path cannot hang ``status``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        if raise_errors:
            raise
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, _MAX_PIDFILE_BYTES)
    except OSError:
        if raise_errors:
            raise
        return None
    finally:
        os.close(fd)
    return parse_pid(data)


def parse_pid(data: bytes) -> int | None:
    """Decode pidfile content (see :func:`read_pid`); None for anything but a valid pid."""
    text = data.strip(b" \t\n\r\x0b\x0c")
    if not text or not text.isdigit():  # bytes.isdigit() is ASCII-only
        return None
    if len(text.lstrip(b"0")) > len(str(_MAX_PID)):
        return None
    pid = int(text, 10)
    return pid if 0 < pid <= _MAX_PID else None


def is_would_block(exc: OSError) -> bool:
    """True when a non-blocking flock failed because someone else holds the lock."""
    return isinstance(exc, BlockingIOError) or exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)


def lock_is_free(lockfile: Path) -> bool:
    """True when nobody holds the lock (probe: non-blocking flock, released at once).

    A missing lock file means free; it is never created here (``stop`` and
    ``status`` must not change files). The probe holds the lock for a few
    microseconds, so a ``start`` racing exactly then sees "already running".
    """
    try:
        fd = os.open(lockfile, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return True
    except OSError as exc:
        raise _lockfile_open_error(lockfile, exc) from exc
    try:
        _require_regular(lockfile, os.fstat(fd).st_mode)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if is_would_block(exc):
            return False
        raise DaemonIoError(f"cannot probe lock file {lockfile}: {exc.strerror or exc}") from exc
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def pid_holds_lock(pid: int, lockfile: Path) -> bool:
    """True only if process ``pid`` provably holds the flock on ``lockfile`` (Linux).

    Proof: one of its fds resolves to the lock file's (st_dev, st_ino) AND that
    fd's ``/proc/<pid>/fdinfo`` lists a granted FLOCK write lock (Linux >= 3.8).
    An open fd alone is not proof: a contender or a probe holds one too. Any
    doubt (no /proc, permission denied, pid gone) answers False. On macOS there
    is no such proof, so this is always False and ``stop --force`` refuses to
    signal: a pid from the pidfile alone may have been reused.
    """
    if not sys.platform.startswith("linux") or pid <= 0:
        return False
    try:
        target = os.stat(lockfile, follow_symlinks=False)
        entries = list(os.scandir(f"/proc/{pid}/fd"))
    except OSError:
        return False
    for entry in entries:
        try:
            info = os.stat(entry.path)  # follows the magic link to the open file
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == (target.st_dev, target.st_ino):
            if _fd_holds_flock(pid, entry.name):
                return True
    return False


def _fd_holds_flock(pid: int, fd_name: str) -> bool:
    """Does ``/proc/<pid>/fdinfo/<fd>`` show a granted exclusive FLOCK on that OFD?"""
    try:
        with open(f"/proc/{pid}/fdinfo/{fd_name}", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return False
    for line in lines:
        if line.startswith("lock:") and "->" not in line:
            words = line.split()
            if "FLOCK" in words and "WRITE" in words:
                return True
    return False
