"""Building and updating an index: ``build_index(root)`` (graph.md §2).

One build is one SQLite transaction, so a crash or SIGKILL at any moment leaves
either the previous index or the new one. Inside it:

1. discover the files (:mod:`sqry.graph.discovery`);
2. (an index built by another :data:`~sqry.graph.schema.ENGINE_VERSION` is
   emptied first: its unchanged files' rows are not what this engine makes)
   skip files whose size and mtime match the index; send the rest to a process
   pool (:mod:`sqry.graph.parse`) in chunks, at most ``2 × workers`` chunks in
   flight so memory stays bounded; unchanged content (same hash) only refreshes
   size/mtime; small batches run in-process (a pool costs more than it saves);
   every file of a language whose ``config_files`` (Go's ``go.mod``) changed is
   re-indexed, and so is every file that blew the per-file time budget when
   the budget setting changed (else it waits for an edit or ``--force``: retrying
   it on every build would cost the whole budget each time);
3. the main process is the single writer (:mod:`sqry.graph.writer`): results
   are written as they stream in, vanished files are deleted;
4. resolution (:mod:`sqry.graph.resolve`) of the dirty edges — all of them after
   a full build; after an incremental one, the edges of changed files, edges
   that pointed at removed symbols, and edges whose lookup names changed
   definition. Inheritance edges are resolved first; then every class whose
   bases really changed (compared with what the writer recorded: a re-parse
   alone changes none), and all its subclasses, make edges naming them and the
   edges inside them dirty too (``self.m()``, ``Cls.m()`` and, in Java/C++,
   a bare ``m()`` may now bind elsewhere); then the rest.
   A full build resolves in forked children (one per worker) while this
   process recreates the secondary indexes resolution does not touch.

The result equals a fresh ``--force`` build; ``tests/graph/test_incremental.py``
and ``test_incremental_langs.py`` check that on random edit sequences.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import posixpath
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from sqry.graph import store
from sqry.graph.discovery import PathWarning, discover
from sqry.graph.languages.base import all_languages, using_workspace
from sqry.graph.parse import (
    BUDGET_ERROR,
    FileJob,
    FileResult,
    content_hash,
    process_chunk,
    process_file,
    time_budget,
)
from sqry.graph.resolve import SymbolTable, resolve_full, resolve_incremental
from sqry.graph.schema import ENGINE_VERSION
from sqry.graph.writer import IndexWriter

# A file modified within this window before the previous build started may have
# changed again within the same mtime tick after it was read (file systems keep
# mtimes at a coarse granularity): such "racily clean" files are re-hashed.
RACY_WINDOW_NS = 2_000_000_000
IN_PROCESS_MAX = 24  # files; below this a pool's start-up costs more than it saves

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class BuildReport:
    """What a build did, for the one-line summary and the error listing."""

    root: Path
    files: int = 0
    changed: int = 0
    deleted: int = 0
    symbols: int = 0
    edges: int = 0
    seconds: float = 0.0
    full: bool = False
    # edges an incremental build re-resolved (0 for a full build): what its
    # changes cost, with what they imply through class hierarchies
    reresolved: int = 0
    file_errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[PathWarning] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per build phase

    def lap(self, phase: str, since: float) -> float:
        """Record ``phase`` as lasting from ``since`` until now; return now."""
        now = time.monotonic()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - since
        return now

    @property
    def errors(self) -> int:
        return len(self.file_errors) + len(self.warnings)


def _pool_context() -> multiprocessing.context.BaseContext:
    """``fork`` when it is safe (no other threads), else ``forkserver``."""
    if store.can_fork():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver")


def _chunks(jobs: list[FileJob], workers: int) -> list[list[FileJob]]:
    """Largest files first (so the tail is short), in chunks sized for balance."""
    ordered = sorted(jobs, key=lambda j: j.size, reverse=True)
    size = max(1, min(32, len(ordered) // (workers * 8) or 1))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def run_jobs(root: str, jobs: list[FileJob], workers: int, budget: float) -> Iterator[FileResult]:
    """Results of ``jobs`` in completion order, with bounded work in flight."""
    if len(jobs) <= IN_PROCESS_MAX or workers <= 1:
        for job in jobs:
            yield process_file(job, budget)
        return
    chunks = iter(_chunks(jobs, workers))
    context = _pool_context()
    builder = os.getpid() if context.get_start_method() == "fork" else None
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=store.enter_build_child,
        initargs=(builder,),
    ) as pool:
        pending: dict[Future[list[FileResult]], list[FileJob]] = {}

        def submit() -> None:
            chunk = next(chunks, None)
            if chunk is not None:
                pending[pool.submit(process_chunk, root, chunk, budget)] = chunk

        for _ in range(workers * 2):
            submit()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = pending.pop(future)
                try:
                    results = future.result()
                except Exception as exc:  # a worker died (e.g. a crash inside a grammar)
                    reason = f"parser process failed on this batch: {type(exc).__name__}"
                    results = [
                        FileResult(j.path, j.language, "failed", error=reason) for j in chunk
                    ]
                yield from results
                submit()


def _over_budget(conn, budget: float) -> set[str]:  # noqa: ANN001
    """Files that blew the per-file time budget, if the budget is not the one the
    last build had (recorded in ``meta``); else none."""
    setting = f"{budget:g}"
    if store.get_meta(conn, "file_time_budget") == setting:
        return set()
    store.set_meta(conn, file_time_budget=setting)
    return {
        path
        for (path,) in conn.execute(
            "SELECT path FROM files WHERE substr(error, 1, ?) = ?",
            (len(BUDGET_ERROR), BUDGET_ERROR),
        )
    }


def _collect_report(conn, report: BuildReport) -> None:  # noqa: ANN001
    one = conn.execute
    report.files = one("SELECT count(*) FROM files").fetchone()[0]
    report.symbols = one("SELECT count(*) FROM symbols").fetchone()[0]
    report.edges = one("SELECT count(*) FROM edges").fetchone()[0]
    report.file_errors = [
        (path, error)
        for path, error in one(
            "SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path"
        )
    ]


def build_index(
    root: str | Path,
    *,
    force: bool = False,
    hidden: bool = False,
    follow: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[], None] | None = None,
) -> BuildReport:
    """Build or update the index of ``root``; see the module docstring.

    Raises ``NotADirectoryError``/``FileNotFoundError`` for a bad root,
    :class:`~sqry.graph.store.IncompatibleIndex` for an unusable index without
    ``force``, :class:`~sqry.graph.discovery.DiscoveryConfigError` for a malformed
    setting and :class:`~sqry.graph.store.BadIndexLocation` when ``.sqry`` or its
    index file is the wrong kind of file or cannot be written.

    Builds of one root run one at a time (:func:`~sqry.graph.store.build_lock`):
    when another holds the lock, ``on_wait`` is called and this blocks until it
    is done, then builds incrementally on top of its result.
    """
    started = time.monotonic()
    started_ns = time.time_ns()
    root = Path(root).resolve()
    if not root.exists():
        raise FileNotFoundError(f"{root} does not exist")
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a directory")
    workers = workers or os.cpu_count() or 1
    budget = time_budget()  # a malformed setting fails before any work
    report = BuildReport(root)
    with store.build_lock(root, on_wait), using_workspace(str(root)):
        found = discover(str(root), hidden=hidden, follow=follow)
        report.lap("discover", started)
        report.warnings = found.warnings
        conn = store.open_writer(root, force=force)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                _build(conn, root, found.files, force, workers, budget, progress, report)
                store.set_meta(
                    conn,
                    built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    build_started_ns=str(started_ns),
                )
                lap = time.monotonic()
                conn.execute("COMMIT")
                report.lap("commit", lap)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()
    report.seconds = time.monotonic() - started
    return report


def _build(
    conn,
    root: Path,
    files,
    force: bool,
    workers: int,
    budget: float,
    progress,
    report: BuildReport,
) -> None:  # noqa: ANN001
    lap = time.monotonic()
    if store.get_meta(conn, "engine_version") != str(ENGINE_VERSION):
        force = True  # built by another engine: every row may differ (schema.ENGINE_VERSION)
        store.set_meta(conn, engine_version=str(ENGINE_VERSION))
    if force:
        for table in ("file_names", "edges", "symbols", "files"):
            conn.execute(f"DELETE FROM {table}")
    full = not conn.execute("SELECT 1 FROM files LIMIT 1").fetchone()
    table = SymbolTable(conn, preload=True, streamed=True) if full else None
    writer = IndexWriter(conn, track=not full, sink=table.add_file if table else None)
    report.full = full
    dropped_indexes = _drop_indexes(conn) if report.full else []
    seen: set[str] = set()
    jobs: list[FileJob] = []
    racy_from = _previous_start(conn) - RACY_WINDOW_NS
    configs = _config_fingerprints(root, files)
    stale = {
        lang for lang, digest in configs.items() if store.get_meta(conn, f"config_{lang}") != digest
    }
    store.set_meta(conn, **{f"config_{lang}": digest for lang, digest in configs.items()})
    retry = _over_budget(conn, budget)
    for f in files:
        seen.add(f.path)
        old = writer.old_files.get(f.path)
        if f.language in stale or f.path in retry:
            old = None  # its language's hooks (or the budget) may answer otherwise now
        if (
            old is not None
            and old[1] == f.size
            and old[2] == f.mtime_ns
            and _indexed_by(old[4], f.language)
            and old[2] < racy_from
        ):
            continue
        old_hash = old[3] if old is not None and _indexed_by(old[4], f.language) else None
        jobs.append(FileJob(f.path, f.abspath, f.language, f.size, old_hash))
    for path in writer.old_files:
        if path not in seen:
            writer.delete_file(path)
            report.deleted += 1
    done = 0
    for result in run_jobs(str(root), jobs, workers, budget):
        writer.apply(result)
        done += 1
        if progress is not None:
            progress(done, len(jobs))
    report.changed = writer.parsed
    lap = report.lap("parse+write", lap)
    # Indexes over columns resolution never writes can be built before it (a
    # full build builds them while forked children resolve); the others after.
    early = [ddl for ddl in dropped_indexes if "target_id" not in ddl]
    late = [ddl for ddl in dropped_indexes if "target_id" in ddl]

    def build_early_indexes() -> None:
        nonlocal lap
        lap = report.lap("resolve", lap)
        while early:
            conn.execute(early.pop())
        lap = report.lap("indexes", lap)

    if writer.parsed or report.deleted:
        writer.add_contains_edges()
        if writer.track:
            report.reresolved = resolve_incremental(
                conn, writer.dirty_edges(), writer.new_classes, writer.old_classes
            )
        else:
            resolve_full(conn, table, workers=workers, meanwhile=build_early_indexes)
    lap = report.lap("resolve", lap)
    for statement in early + late:  # early: unless built meanwhile
        conn.execute(statement)
    report.lap("indexes", lap)
    _collect_report(conn, report)


def _indexed_by(stored: str, discovered: str) -> bool:
    """Whether a file stored as language ``stored`` came from ``discovered``'s extractor."""
    return stored == discovered or stored in all_languages()[discovered].dialects


def _previous_start(conn) -> int:  # noqa: ANN001
    try:
        return int(store.get_meta(conn, "build_started_ns") or 0)
    except ValueError:
        return 0


def _config_fingerprints(root: Path, files) -> dict[str, str]:  # noqa: ANN001
    """Per language with ``config_files`` (Go's ``go.mod``), a digest of those
    files as its hooks would find them: in the directory of each of its files and
    every ancestor up to the root. A changed digest re-indexes the language."""
    languages = all_languages()
    directories: dict[str, set[str]] = {}
    for f in files:
        if languages[f.language].config_files:
            directories.setdefault(f.language, set()).add(posixpath.dirname(f.path))
    found: dict[str, str] = {}
    for language, dirs in directories.items():
        candidates: set[str] = set()
        for directory in dirs:
            while directory not in candidates:
                candidates.add(directory)
                directory = posixpath.dirname(directory)
        digest = hashlib.blake2b(digest_size=16)
        for directory in sorted(candidates):
            for name in languages[language].config_files:
                rel = posixpath.join(directory, name)
                try:
                    data = (root / rel).read_bytes()
                except OSError:
                    continue
                digest.update(f"{rel}\0{content_hash(data)}\0".encode())
        found[language] = digest.hexdigest()
    return found


def _drop_indexes(conn) -> list[str]:  # noqa: ANN001
    """Drop the secondary indexes for a bulk load; return the DDL that recreates them.

    Inserting a whole workspace into indexed tables costs random b-tree writes
    per row; building each index once at the end is a sort. Both happen inside
    the build's transaction, so a crash leaves the old indexes in place.
    """
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in rows]
