"""The on-disk index ``<root>/.sqry/index.db`` and the API to read it.

Reader API (for the query engine, the CLI and the daemon)::

    from sqry.graph.store import open_index, find_index_root, NoIndex, IncompatibleIndex

    root = find_index_root(path)         # nearest ancestor with .sqry/index.db, or None
    with open_index(root) as index:      # raises NoIndex / IncompatibleIndex
        index.conn.execute("SELECT ... FROM symbols ...")   # sqlite3.Row rows
        index.meta()                     # {'schema_version': '1', 'tool_version': ..., ...}
        index.counts()                   # {'files': n, 'symbols': n, 'edges': n, 'errors': n}

- ``index.conn`` is a read-only ``sqlite3.Connection`` (``row_factory =
  sqlite3.Row``, ``PRAGMA query_only``) on the schema of
  :mod:`sqry.graph.schema`. Readers never see a half-written build: every build
  commits in one transaction and WAL mode lets readers keep reading the previous
  state meanwhile; before the first build commits, there is no previous state to
  read (:class:`IncompleteIndex`). The exception is an index the caller may read
  but not write, read without locks (``index.immutable``): call
  ``index.check_unchanged()`` after the last query, before showing anything, and
  treat a ``sqlite3.Error`` from it as :class:`IndexBeingWritten` ("run the
  command again"; such a user cannot rebuild it).
- Edge semantics: ``target_id`` NULL = unresolved (``target_text`` always holds
  the name as written); ``resolved_via`` names the rule that bound it (``local``,
  ``import``, ``self``, ``package``, ``unique``); an ambiguous reference has
  ``ambiguous_via`` = the rule that found several candidates and
  ``candidates`` = how many. ``contains`` edges are structural (always resolved,
  ``resolved_via`` NULL).
- :class:`NoIndex` means there is nothing to read (the CLI exits 3 and prints
  ``str(exc)``, which names the command that creates one); its subclass
  :class:`IncompleteIndex` means the file is there but no build has completed in
  it (the first build is running, or was killed); :class:`IncompatibleIndex`
  means a file is there but unusable (corrupt, not a sqry index, another schema
  version); ``str(exc)`` tells the user to run ``sqry index --force``.

The writer side (:func:`build_lock`, :func:`open_writer`) is used by
:mod:`sqry.graph.index` only. Builds of one root are serialised by an exclusive
``flock`` on ``<root>/.sqry/index.lock`` (never deleted: deleting a lock file
lets two processes hold "the" lock on two different inodes), so a second build
waits for the first instead of timing out on SQLite's write lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from sqry import __version__
from sqry.graph.schema import DDL, SCHEMA_VERSION

INDEX_DIR = ".sqry"
INDEX_FILE = "index.db"
LOCK_FILE = "index.lock"


class NoIndex(Exception):
    """No index exists under ``root``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        super().__init__(
            f"no sqry index in {self.root}; create one with: sqry index {_quote(self.root)}"
        )


class IncompleteIndex(NoIndex):
    """The index file exists but no build has completed in it yet.

    A build commits the empty schema first (:func:`open_writer`), then fills it in
    one transaction that ends by recording ``built_at``; until that commits —
    while the first ``sqry index`` runs, or forever if it was killed — readers
    would see empty tables and answer "no results". ``building`` says whether a
    build holds the lock now, so the message says wait rather than re-run.
    """

    def __init__(self, root: Path | str, building: bool) -> None:
        super().__init__(root)
        if building:
            message = (
                f"no complete index in {self.root} yet: 'sqry index' is building it; "
                "wait for it to finish"
            )
        else:
            message = (
                f"no complete index in {self.root}: its first build did not finish; "
                f"create it with: sqry index {_quote(self.root)}"
            )
        self.args = (message,)


class IncompatibleIndex(Exception):
    """An index file exists under ``root`` but cannot be used (``reason`` says why)."""

    rebuild = "sqry index --force"

    def __init__(self, root: Path | str, reason: str) -> None:
        self.root = Path(root)
        self.reason = reason
        super().__init__(
            f"the index {index_path(self.root)} cannot be used: {reason}; "
            f"rebuild it with: {self.rebuild} {_quote(self.root)}"
        )


class OlderIndex(IncompatibleIndex):
    """An index an older sqry made (a lower schema version): ``sqry index``
    rebuilds it without being asked to, as it does for an older engine."""

    rebuild = "sqry index"


class UnreadableIndex(IncompatibleIndex):
    """SQLite cannot read the index file (corrupt, not a database, a damaged page).

    Told apart from the other incompatibilities because, read ``immutable``
    (:func:`_connect_reader`), a damaged page may be a page its owner's build is
    rewriting: :func:`open_index` then reports :class:`IndexBeingWritten`.
    """

    def __init__(self, root: Path | str, error: sqlite3.Error) -> None:
        super().__init__(root, f"it is not a readable SQLite database ({error})")


class BadIndexLocation(Exception):
    """``.sqry`` or ``.sqry/index.db`` is the wrong kind of file, or cannot be written.

    Not something ``--force`` can fix (sqry never deletes what it did not create),
    so ``str(exc)`` names the path, what is wrong and what the user must do; the
    CLI exits 3 ("no usable index") with it.
    """

    def __init__(self, path: Path, problem: str, remedy: str) -> None:
        self.path = path
        super().__init__(f"{path} {problem}: {remedy}")


class IndexBeingWritten(BadIndexLocation):
    """An index the user cannot write is being written by its owner, or changed
    while this process read it: the answer may mix two states, so there is none.

    Only a read-only (``immutable``) reader raises it (see :func:`_connect_reader`);
    such a user cannot rebuild the index, so the remedy is to ask again.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__(
            directory,
            "is not writable by you and its index is being written (or was left mid-write)",
            "run the command again when its owner's 'sqry index' has finished",
        )


def check_location(root: Path) -> None:
    """Raise :class:`BadIndexLocation` if ``root``'s ``.sqry`` or index file is not
    the kind of file it must be (whatever does not exist yet is fine)."""
    directory = root / INDEX_DIR
    if os.path.lexists(directory) and not directory.is_dir():
        raise BadIndexLocation(directory, "is not a directory", "remove or rename it")
    path = directory / INDEX_FILE
    if os.path.lexists(path) and not path.is_file():
        raise BadIndexLocation(path, "is not a regular file", "remove or rename it")


def _quote(path: Path) -> str:
    text = str(path)
    return f"'{text}'" if any(c in text for c in " \t'\"$`\\") else text


def index_path(root: Path | str) -> Path:
    """Where the index of workspace ``root`` lives."""
    return Path(root) / INDEX_DIR / INDEX_FILE


def find_index_root(start: Path | str) -> Path | None:
    """The nearest directory at or above ``start`` that holds an index, or None.

    A ``.sqry`` on the way that is the wrong kind of file, or that cannot be
    looked into (permission denied), raises :class:`BadIndexLocation` rather than
    being passed over: the user may have meant an index there, and "no index"
    would send them to a ``sqry index`` that fails.
    """
    path = Path(start).resolve()
    if path.is_file():
        path = path.parent
    for candidate in (path, *path.parents):
        check_location(candidate)
        try:
            found = index_path(candidate).is_file()
        except OSError as exc:
            raise BadIndexLocation(
                index_path(candidate),
                f"cannot be checked ({exc.strerror or exc})",
                "check the permissions of the directories on the way",
            ) from None
        if found:
            return candidate
    return None


def check_compatible(conn: sqlite3.Connection, root: Path) -> dict[str, str]:
    """The index's ``meta`` table, or :class:`IncompatibleIndex` saying what is wrong.

    A database without any table is a build that died before committing its
    schema: :class:`IncompleteIndex`, not "not a sqry index".
    """
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if not tables:
            raise IncompleteIndex(root, build_running(root))
        if "meta" not in tables:
            raise IncompatibleIndex(root, "it is not a sqry index (no meta table)")
        meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}
    except sqlite3.DatabaseError as exc:
        raise UnreadableIndex(root, exc) from None
    version = meta.get("schema_version")
    if version != str(SCHEMA_VERSION):
        older = version is not None and version.isdigit() and int(version) < SCHEMA_VERSION
        if older:
            raise OlderIndex(
                root,
                f"an older sqry made it (schema version {version}; this one reads "
                f"{SCHEMA_VERSION})",
            )
        has = f"it has schema version {version}" if version else "it records no schema version"
        raise IncompatibleIndex(root, f"{has}, this sqry reads {SCHEMA_VERSION}")
    try:
        missing = _missing_columns(conn)
    except sqlite3.DatabaseError as exc:
        raise UnreadableIndex(root, exc) from None
    if missing:
        raise IncompatibleIndex(root, f"its schema is damaged ({', '.join(missing)} missing)")
    return meta


def _missing_columns(conn: sqlite3.Connection) -> list[str]:
    """The tables and columns of :data:`~sqry.graph.schema.DDL` that ``conn`` lacks.

    The version in ``meta`` says which schema an index was made with, not that
    it is still whole: a dropped table or column (a hand edit, a tool gone wrong)
    would otherwise let ``sqry index`` report success over an index every query
    fails on, and send the user to check permissions instead of ``--force``.
    """
    have = _table_columns(conn)
    missing = []
    for table, columns in _schema_columns().items():
        if table not in have:
            missing.append(f"table {table}")
        else:
            missing += [f"column {table}.{c}" for c in sorted(columns - have[table])]
    return missing


def _table_columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    rows = conn.execute(
        "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p"
        " WHERE m.type = 'table'"
    )
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


_SCHEMA_COLUMNS: dict[str, set[str]] = {}


def _schema_columns() -> dict[str, set[str]]:
    """The tables and columns :data:`~sqry.graph.schema.DDL` creates (found once, in memory)."""
    if not _SCHEMA_COLUMNS:
        conn = sqlite3.connect(":memory:")
        try:
            conn.executescript(DDL)
            _SCHEMA_COLUMNS.update(_table_columns(conn))
        finally:
            conn.close()
    return _SCHEMA_COLUMNS


class IndexReader:
    """A read-only view of one workspace's index (see the module docstring).

    ``immutable`` says the connection reads the file without SQLite's locks (an
    index the user cannot write, :func:`_connect_reader`): nothing then stops
    its owner's build from changing pages under a query, so a caller must call
    :meth:`check_unchanged` after its last query and before it shows anything,
    and must treat a ``sqlite3.Error`` from :attr:`conn` as
    :class:`IndexBeingWritten` (a damaged page is most likely a page changing).
    """

    def __init__(
        self,
        root: Path,
        conn: sqlite3.Connection,
        meta: dict[str, str],
        snapshot: _FileState | None = None,
    ) -> None:
        self.root = root
        self.path = index_path(root)
        self.conn = conn
        self._meta = meta
        self._snapshot = snapshot

    @property
    def immutable(self) -> bool:
        return self._snapshot is not None

    def check_unchanged(self) -> None:
        """Raise :class:`IndexBeingWritten` if an immutable reader's files changed
        since it opened them (or a build now runs); nothing to check otherwise."""
        if self._snapshot is not None and _file_state(self.root) != self._snapshot:
            raise IndexBeingWritten(self.path.parent)

    def meta(self) -> dict[str, str]:
        return dict(self._meta)

    def counts(self) -> dict[str, int]:
        one = self.conn.execute
        return {
            "files": one("SELECT count(*) FROM files").fetchone()[0],
            "symbols": one("SELECT count(*) FROM symbols").fetchone()[0],
            "edges": one("SELECT count(*) FROM edges").fetchone()[0],
            "errors": one("SELECT count(*) FROM files WHERE error IS NOT NULL").fetchone()[0],
        }

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_index(root: Path | str) -> IndexReader:
    """Open the index of ``root`` for reading; NoIndex / IncompatibleIndex otherwise.

    An index the caller may read but not write (someone else's, a read-only
    checkout) opens too: see :func:`_connect_reader`.
    """
    root = Path(root).resolve()
    check_location(root)
    path = index_path(root)
    if not path.is_file():
        raise NoIndex(root)
    if not os.access(path, os.R_OK):
        raise BadIndexLocation(path, "cannot be read (Permission denied)", "check its permissions")
    conn, snapshot = _connect_reader(root, path)
    try:
        meta = check_compatible(conn, root)
        if "built_at" not in meta:
            raise IncompleteIndex(root, build_running(root))
        conn.execute("PRAGMA query_only = 1")
    except (NoIndex, IncompatibleIndex, sqlite3.Error) as exc:
        conn.close()
        if snapshot is not None and (
            isinstance(exc, (UnreadableIndex, sqlite3.Error)) or _file_state(root) != snapshot
        ):
            raise IndexBeingWritten(path.parent) from None  # read mid-change, maybe
        raise
    except BaseException:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return IndexReader(root, conn, meta, snapshot)


_READ_ONLY_FAILURES = (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)


def _connect_reader(root: Path, path: Path) -> tuple[sqlite3.Connection, _FileState | None]:
    """A read-only connection to ``path``, even when its directory is not writable,
    and — for an ``immutable`` connection only — the state of the files it reads.

    A reader of a WAL database needs the ``-shm`` index beside it, which SQLite
    creates if missing (the last connection to close deletes it); without write
    access to ``.sqry`` that fails with "attempt to write a readonly database",
    although the index is fine. Then, when no ``-wal`` holds anything (so the
    main file is the whole index) and no build is running, the file is opened
    ``immutable``: no ``-shm``, but no locks either, so a build its owner starts
    meanwhile could change pages under a query and yield a mix of two states.
    The returned :func:`_file_state`, taken before opening, is what
    :meth:`IndexReader.check_unchanged` compares against once the reading is done.
    """
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise IncompatibleIndex(root, f"it cannot be opened ({exc})") from None
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn, None
    except sqlite3.Error as exc:
        conn.close()
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code not in _READ_ONLY_FAILURES or os.access(path.parent, os.W_OK):
            raise UnreadableIndex(root, exc) from None
    snapshot = _file_state(root)
    if snapshot.wal_size or snapshot.building:
        raise IndexBeingWritten(path.parent)
    conn = sqlite3.connect(
        f"{path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False
    )
    return conn, snapshot


class _FileState(NamedTuple):
    """What a build changes in an index's files, as :func:`os.stat` shows it.

    A build writes its pages to the ``-wal`` first (its size grows from 0), then
    copies them into the main file (its mtime and ctime move, perhaps its size),
    then deletes the ``-wal``; ``--force`` replaces the main file (its inode).
    Timestamps tick at the kernel's clock granularity (a few ms), far shorter
    than any build's open-write-checkpoint-close, so a build that ran between two
    states always shows. A ``-wal`` absent and one of size 0 are the same state:
    the owner's plain reads create and delete an empty one.
    """

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int
    wal_size: int
    building: bool


def _file_state(root: Path) -> _FileState:
    """The current :class:`_FileState` of ``root``'s index (a missing file is a state too)."""
    path = index_path(root)
    try:
        main = os.stat(path)
        ids = (main.st_dev, main.st_ino, main.st_size, main.st_mtime_ns, main.st_ctime_ns)
    except OSError:
        ids = (0, 0, -1, 0, 0)
    try:
        wal_size = os.stat(f"{path}-wal").st_size
    except OSError:
        wal_size = 0
    return _FileState(*ids, wal_size=wal_size, building=build_running(root))


# --------------------------------------------------------------------------- writer


def _configure_writer(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a SIGKILL loses nothing committed
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA busy_timeout = 30000")


def remove_index_files(root: Path) -> None:
    """Delete the index and its WAL side files (``--force`` on an unusable index)."""
    path = index_path(root)
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def _make_index_dir(root: Path) -> Path:
    """``root/.sqry``, created if missing; :class:`BadIndexLocation` if impossible."""
    check_location(root)
    directory = root / INDEX_DIR
    try:
        directory.mkdir(exist_ok=True)
    except OSError as exc:
        raise _cannot_create(directory, exc) from None
    return directory


def _cannot_create(path: Path, exc: OSError) -> BadIndexLocation:
    """Why the index cannot be written at ``path``, with the advice that fits."""
    if exc.errno == errno.EROFS:
        return BadIndexLocation(
            path,
            "cannot be written: the file system is read-only",
            "an existing index there can still be queried; to rebuild it, index a "
            "writable copy of the tree",
        )
    return BadIndexLocation(
        path, f"cannot be created ({exc.strerror or exc})", "check its permissions"
    )


@contextlib.contextmanager
def build_lock(root: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold ``root``'s exclusive build lock (``.sqry/index.lock``) for the block.

    If another build holds it, ``on_wait`` is called once (so the user learns why
    nothing happens) and this blocks until it is released. The lock is an
    ``flock``: the kernel drops it when its holder exits, even on SIGKILL, so a
    crashed build never leaves a stale lock behind — provided the processes the
    build forks drop their inherited copy (:func:`enter_build_child`).
    """
    lock = _make_index_dir(root) / LOCK_FILE
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise _cannot_create(lock, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        _HELD_LOCKS.add(fd)
        yield
    finally:
        _HELD_LOCKS.discard(fd)
        os.close(fd)


def build_running(root: Path) -> bool:
    """Whether a build of ``root`` holds its lock right now (a shared ``flock``
    attempt that would block); False when there is no lock file to ask."""
    try:
        fd = os.open(index_path(root).with_name(LOCK_FILE), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also releases the shared lock if it was granted
    return False


_HELD_LOCKS: set[int] = set()  # descriptors of the build locks this process holds


def can_fork() -> bool:
    """Whether a build may fork (its pool, its resolution children): a fork
    copies only the calling thread, so a lock another thread holds (in the
    allocator, in logging) would stay locked in the child forever."""
    import threading

    return threading.active_count() == 1 and hasattr(os, "fork")


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def enter_build_child(builder_pid: int | None) -> None:
    """Run first in every process a build forks (pool workers, resolution children).

    An ``flock`` belongs to the open file description, which a forked child
    shares, and lasts until every descriptor of it is closed: a child that
    outlived a SIGKILLed builder would keep the workspace locked, and every later
    ``sqry index`` would wait for it forever. So the child closes its copy of the
    lock (it never needs it), and — when ``builder_pid`` is its parent, i.e. it
    was forked, not started by a fork server — arranges to die with the builder:
    on Linux the kernel SIGKILLs it (``PR_SET_PDEATHSIG``); elsewhere a watcher
    thread checks the parent pid every half second. A builder that died before
    this ran is noticed at once.
    """
    for fd in _HELD_LOCKS:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_LOCKS.clear()
    if builder_pid is None:
        return
    if not _kill_me_with_parent():
        import threading

        def watch() -> None:
            while os.getppid() == builder_pid:
                threading.Event().wait(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="sqry-builder-watch", daemon=True).start()
    if os.getppid() != builder_pid:
        os._exit(1)


def _kill_me_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux only)."""
    import signal

    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):  # no ctypes, no libc, no prctl
        return False
    return prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def open_writer(root: Path, *, force: bool) -> sqlite3.Connection:
    """A read-write connection to ``root``'s index, created with the schema if new.

    An unusable existing file raises :class:`IncompatibleIndex`, unless ``force``
    or it is an :class:`OlderIndex`: then it is deleted and a fresh index is
    created (there is nothing to keep).
    :class:`BadIndexLocation` when ``.sqry`` or the index file is the wrong kind
    of file or cannot be created.
    """
    _make_index_dir(root)
    path = index_path(root)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise BadIndexLocation(
            path, f"cannot be opened ({exc})", "check its permissions and the free space"
        ) from None
    try:
        fresh = not conn.execute("SELECT name FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        conn.close()
        if not force:
            raise UnreadableIndex(root, exc) from None
        remove_index_files(root)
        return open_writer(root, force=False)
    if not fresh:
        try:
            check_compatible(conn, root)
        except IncompatibleIndex as exc:
            conn.close()
            if not force and not isinstance(exc, OlderIndex):
                raise
            remove_index_files(root)
            return open_writer(root, force=False)
    _configure_writer(conn)
    if fresh:  # schema and meta in one transaction: a crash leaves no half-made index
        meta = f"INSERT INTO meta(key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');"
        conn.executescript(f"BEGIN IMMEDIATE;\n{DDL}\n{meta}\nCOMMIT;")
    return conn


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """One ``meta`` value (inside the build's transaction), or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, **extra: str) -> None:
    """Record schema and tool version (plus ``extra`` keys) inside the open transaction."""
    values = {"schema_version": str(SCHEMA_VERSION), "tool_version": __version__, **extra}
    conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items())
