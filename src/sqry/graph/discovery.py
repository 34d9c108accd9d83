"""Which files of a workspace get indexed (graph.md §1, "Files").

:func:`discover` walks the root once and returns the source files to index plus
per-path warnings. Nothing here is fatal: an unreadable directory or file, a
broken symlink, a symlink loop or an oversized file becomes a
:class:`PathWarning` and the walk goes on, because one odd path must never cost
the user the whole index.

Rules, in the order they are applied to each directory entry:

1. default-skipped directories (:data:`DEFAULT_SKIP_DIRS`), always;
2. hidden names (leading ``.``) unless ``hidden=True``;
3. symlinks unless ``follow=True``; a followed link to a directory that is one of
   its own ancestors (same ``(st_dev, st_ino)``) is a loop: reported, not entered;
4. ignore files: ``.gitignore`` at every level, ``.git/info/exclude``,
   ``.sqryignore`` (see :mod:`sqry.graph.ignore` for semantics and precedence);
5. files: language by extension, else by shebang for extension-less files; then
   the size cap (:func:`max_source_file_size`) and the binary check (a NUL byte
   in the first 8 KiB).

Names that are not valid UTF-8 (a source file or directory named ``café.py``
in Latin-1) are skipped with a warning that shows the raw bytes escaped
(``caf\\xe9.py``): the index stores paths as UTF-8 text and every
output format prints them, so such a name cannot be stored faithfully. Skipping
it with a visible warning is honest; mangling it would index a path that does
not exist.

Results are sorted by path, so two walks of the same tree agree.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from sqry.graph.ignore import IgnoreLevel, IgnoreStack, parse_rules
from sqry.graph.languages.base import LanguageSpec, all_languages, language_for_extension

DEFAULT_SKIP_DIRS = frozenset(
    ".git .hg .svn .sqry node_modules target build dist vendor venv .venv __pycache__ "
    ".tox .mypy_cache .pytest_cache".split()
)
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_SIZE_ENV = "SQRY_MAX_SOURCE_FILE_SIZE"
SNIFF_BYTES = 8192


class DiscoveryConfigError(ValueError):
    """A discovery setting (environment variable) is malformed; the message says how."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file to index. ``path`` is root-relative with ``/`` separators."""

    path: str
    abspath: str
    language: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class PathWarning:
    """A path discovery could not use, and why (shown to the user, never fatal)."""

    path: str
    message: str


@dataclass(slots=True)
class Discovery:
    """What a walk found: files to index, warnings, and counts of quiet skips."""

    files: list[SourceFile] = field(default_factory=list)
    warnings: list[PathWarning] = field(default_factory=list)
    skipped_binary: int = 0
    skipped_symlinks: int = 0


def max_source_file_size() -> int:
    """The size cap in bytes: ``$SQRY_MAX_SOURCE_FILE_SIZE`` or 10 MiB."""
    raw = os.environ.get(MAX_SIZE_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_MAX_FILE_SIZE
    try:
        value = int(raw.strip())
    except ValueError:
        value = -1
    if value <= 0:
        raise DiscoveryConfigError(
            f"{MAX_SIZE_ENV}={raw!r} is not a positive number of bytes; "
            f"unset it or set e.g. {MAX_SIZE_ENV}={DEFAULT_MAX_FILE_SIZE}"
        )
    return value


def _shebang_language(head: bytes) -> LanguageSpec | None:
    """The language whose interpreter the ``#!`` line of ``head`` names."""
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not line:
        return None
    prog = os.path.basename(line[0])
    if prog == "env":
        args = [a for a in line[1:] if not a.startswith("-") and "=" not in a]
        if not args:
            return None
        prog = os.path.basename(args[0])
    bare = prog.rstrip("0123456789.")
    for spec in all_languages().values():
        if prog in spec.shebangs or bare in spec.shebangs:
            return spec
    return None


def display_path(path: str) -> str:
    """``path`` printable as UTF-8: undecodable bytes (surrogate escapes) as ``\\xNN``."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    """Whether ``name`` (as ``os.fsdecode`` gave it) was valid UTF-8 on disk."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read_head(abspath: str) -> bytes:
    with open(abspath, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def _read_text(path: str) -> str | None:
    """An ignore file's text, or None when absent or unreadable."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


class _Walker:
    """One walk's state: options, results, and the directories already entered."""

    def __init__(self, root: str, hidden: bool, follow: bool, max_size: int) -> None:
        self.root = root
        self.hidden = hidden
        self.follow = follow
        self.max_size = max_size
        self.result = Discovery()

    def warn(self, rel: str, message: str) -> None:
        """Record a warning; the path is made printable (see :func:`display_path`)."""
        self.result.warnings.append(PathWarning(display_path(rel) or ".", message))

    def warn_undecodable(self, rel: str) -> None:
        """Skip a path whose name is not UTF-8 (see the module docstring), saying so."""
        self.warn(rel, "name is not valid UTF-8; skipped (rename it to index it)")

    def level_for(self, abspath: str, rel: str) -> IgnoreLevel:
        """The ignore rules a directory adds, lowest precedence first."""
        texts = []
        if os.path.isdir(os.path.join(abspath, ".git")):
            texts.append(_read_text(os.path.join(abspath, ".git", "info", "exclude")))
        texts.append(_read_text(os.path.join(abspath, ".gitignore")))
        texts.append(_read_text(os.path.join(abspath, ".sqryignore")))
        rules = tuple(rule for text in texts if text for rule in parse_rules(text))
        return IgnoreLevel(rel, rules)

    def walk(self) -> Discovery:
        try:
            st = os.stat(self.root)
        except OSError as exc:
            self.warn("", f"cannot read directory: {exc.strerror}")
            return self.result
        root_key = frozenset({(st.st_dev, st.st_ino)})
        stack: list[tuple[str, str, IgnoreStack, frozenset]] = [
            (self.root, "", IgnoreStack(), root_key)
        ]
        while stack:
            abspath, rel, ignores, ancestors = stack.pop()
            ignores = ignores.push(self.level_for(abspath, rel))
            subdirs = self.scan_dir(abspath, rel, ignores, ancestors)
            stack.extend((a, r, ignores, k) for a, r, k in reversed(subdirs))
        self.result.files.sort(key=lambda f: f.path)
        return self.result

    def scan_dir(
        self, abspath: str, rel: str, ignores: IgnoreStack, ancestors: frozenset
    ) -> list[tuple[str, str, frozenset]]:
        """Record the files of one directory; return its subdirectories to enter.

        ``ancestors`` holds the ``(st_dev, st_ino)`` of every directory on the path
        from the root: meeting one again through a symlink is a loop.
        """
        try:
            with os.scandir(abspath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.warn(rel, f"cannot read directory: {exc.strerror}; its files are not indexed")
            return []
        subdirs: list[tuple[str, str, frozenset]] = []
        for entry in entries:
            name = entry.name
            child_rel = f"{rel}/{name}" if rel else name
            if name.startswith(".") and not self.hidden and name not in DEFAULT_SKIP_DIRS:
                continue
            try:
                st = self.entry_stat(entry, child_rel)
            except OSError as exc:
                self.warn(child_rel, f"cannot stat: {exc.strerror}")
                continue
            if st is None:
                continue
            if stat.S_ISDIR(st.st_mode):
                if name in DEFAULT_SKIP_DIRS or ignores.ignored(child_rel, True):
                    continue
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    self.warn(child_rel, "symlink loop (links to its own ancestor); not followed")
                    continue
                if not _is_utf8(name):
                    self.warn_undecodable(child_rel)
                    continue
                subdirs.append((entry.path, child_rel, ancestors | {key}))
            elif stat.S_ISREG(st.st_mode) and not ignores.ignored(child_rel, False):
                self.consider_file(entry.path, child_rel, name, st)
        return subdirs

    def entry_stat(self, entry: os.DirEntry[str], rel: str) -> os.stat_result | None:
        """The entry's stat (through a symlink when following), None to skip quietly."""
        if not entry.is_symlink():
            return entry.stat(follow_symlinks=False)
        if not self.follow:
            self.result.skipped_symlinks += 1
            return None
        try:
            return entry.stat(follow_symlinks=True)
        except OSError as exc:
            self.warn(rel, f"broken symlink ({exc.strerror}); skipped")
            return None

    def consider_file(self, abspath: str, rel: str, name: str, st: os.stat_result) -> None:
        ext = os.path.splitext(name)[1].lower()
        spec = language_for_extension(ext) if ext else None
        if spec is None and ext and not name.startswith("."):
            return  # an extension no language claims: not source
        if st.st_size > self.max_size:
            if spec is not None:
                self.warn(
                    rel,
                    f"skipped: {st.st_size} bytes is over the {self.max_size}-byte limit "
                    f"(raise it with {MAX_SIZE_ENV})",
                )
            return
        try:
            head = _read_head(abspath)
        except OSError as exc:
            if spec is not None:
                self.warn(rel, f"cannot read file: {exc.strerror}; not indexed")
            return
        if b"\0" in head:
            self.result.skipped_binary += 1
            return
        if spec is None:
            spec = _shebang_language(head)
            if spec is None:
                return
        if not _is_utf8(name):
            self.warn_undecodable(rel)
            return
        self.result.files.append(SourceFile(rel, abspath, spec.name, st.st_size, st.st_mtime_ns))


def discover(root: str, *, hidden: bool = False, follow: bool = False) -> Discovery:
    """Walk ``root`` and return the files to index (sorted by path) and warnings.

    Raises :class:`DiscoveryConfigError` only for a malformed
    ``$SQRY_MAX_SOURCE_FILE_SIZE``; everything about the tree itself is a warning.
    """
    walker = _Walker(os.path.abspath(root), hidden, follow, max_source_file_size())
    return walker.walk()
