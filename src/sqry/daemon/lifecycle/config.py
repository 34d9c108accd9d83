"""The daemon's configuration: ``daemon.toml`` + environment + CLI, validated.

Precedence is defaults < file < environment < CLI (``--log-level``). Every
value remembers where it came from so an error can name the exact key or
variable, the offending value and the allowed range, in one line.

Decisions (lifecycle.md §7 leaves them open):

* ``[[workspaces]] exclude`` is a boolean: an entry with ``exclude = true`` is
  kept in the file but never preloaded ("pinned and not excluded").
* ``log_level`` accepts trace, debug, info, warn/warning and error in any case
  and is stored in canonical lower case (``warning`` becomes ``warn``).
* Empty environment values count as unset, like an absent variable.
* Relative paths in the file are relative to the file's directory; relative
  paths from the environment are relative to the current directory. ``~`` is
  expanded. Paths are stored absolute, so the effective config is the same in
  a detached daemon whatever its working directory.

* ``config_file`` (like every other path here) is an absolute ``str``.

Imported by the client path (it resolves the socket the way the daemon does),
so the module imports nothing the interpreter has not already loaded:
``tomllib`` only when a file is actually read, ``pathlib`` only for the
daemon-side helpers, and the config classes are written by hand because
``dataclasses`` alone costs ~12 ms (it imports ``inspect``) per ``sqry`` call.
"""

from __future__ import annotations

import errno
import os
import stat

from sqry.daemon.lifecycle.errors import ConfigError
from sqry.daemon.lifecycle.paths import RuntimePaths, absolute_path, socket_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing (~3 ms per call)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

MIB = 1024 * 1024

LOG_LEVELS = ("trace", "debug", "info", "warn", "error")
_LOG_LEVEL_ALIASES = {"warning": "warn"}
STDERR_LOG_VALUES = ("-", "stderr")

CONFIG_ENV = "SQRY_DAEMON_CONFIG"
SOCKET_ENV = "SQRY_DAEMON_SOCKET"
LOG_FILE_ENV = "SQRY_DAEMON_LOG_FILE"
LOG_LEVEL_ENV = "SQRY_DAEMON_LOG_LEVEL"


class WorkspaceConfig:
    """One ``[[workspaces]]`` entry; preloaded at startup when pinned and not excluded."""

    __slots__ = ("path", "pinned", "exclude")

    def __init__(self, path: str, pinned: bool = False, exclude: bool = False) -> None:
        self.path = path
        self.pinned = pinned
        self.exclude = exclude

    def __eq__(self, other: object) -> bool:
        if type(other) is not WorkspaceConfig:
            return NotImplemented
        return (self.path, self.pinned, self.exclude) == (other.path, other.pinned, other.exclude)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return (
            f"WorkspaceConfig(path={self.path!r}, pinned={self.pinned!r}, exclude={self.exclude!r})"
        )


class DaemonConfig:
    """Effective daemon settings; field names are the ``daemon.toml`` keys.

    Mutable (the loader fills it in layers). Equality compares every setting but
    ``config_file``, which says where the settings came from, not what they are:
    a config printed by ``print-config`` and loaded back equals the original.
    """

    FIELDS = (
        "memory_limit_mb",
        "debounce_ms",
        "incremental_threshold",
        "closure_limit_percent",
        "stale_serve_max_age_hours",
        "ipc_shutdown_drain_secs",
        "tool_timeout_secs",
        "auto_start_ready_timeout_secs",
        "idle_shutdown_minutes",
        "log_file",
        "log_level",
        "log_max_size_mb",
        "log_keep_rotations",
        "socket_path",
        "workspaces",
        "config_file",
    )
    """Every setting, in ``daemon.toml`` order (``print-config`` writes them so)."""
    _COMPARED = FIELDS[:-1]
    __slots__ = FIELDS

    def __init__(
        self,
        memory_limit_mb: int = 2048,
        debounce_ms: int = 2000,
        incremental_threshold: int = 20,
        closure_limit_percent: int = 30,
        stale_serve_max_age_hours: int = 24,
        ipc_shutdown_drain_secs: int = 5,
        tool_timeout_secs: int = 60,
        auto_start_ready_timeout_secs: int = 10,
        idle_shutdown_minutes: int = 0,
        log_file: str | None = None,
        log_level: str = "info",
        log_max_size_mb: int = 50,
        log_keep_rotations: int = 5,
        socket_path: str | None = None,
        workspaces: list[WorkspaceConfig] | None = None,
        config_file: str | None = None,
    ) -> None:
        self.memory_limit_mb = memory_limit_mb
        self.debounce_ms = debounce_ms
        self.incremental_threshold = incremental_threshold
        self.closure_limit_percent = closure_limit_percent
        self.stale_serve_max_age_hours = stale_serve_max_age_hours
        self.ipc_shutdown_drain_secs = ipc_shutdown_drain_secs
        self.tool_timeout_secs = tool_timeout_secs
        self.auto_start_ready_timeout_secs = auto_start_ready_timeout_secs
        self.idle_shutdown_minutes = idle_shutdown_minutes
        self.log_file = log_file
        self.log_level = log_level
        self.log_max_size_mb = log_max_size_mb
        self.log_keep_rotations = log_keep_rotations
        self.socket_path = socket_path
        self.workspaces: list[WorkspaceConfig] = [] if workspaces is None else workspaces
        self.config_file = config_file

    def replace(self, **changes: Any) -> DaemonConfig:
        """A copy with ``changes`` applied (what ``dataclasses.replace`` did); ``self`` is kept.

        The copy is shallow: the ``workspaces`` list is shared unless replaced.
        """
        unknown = sorted(set(changes) - set(self.FIELDS))
        if unknown:
            raise TypeError(f"DaemonConfig has no setting {', '.join(map(repr, unknown))}")
        values = {name: getattr(self, name) for name in self.FIELDS}
        values.update(changes)
        return DaemonConfig(**values)

    def __eq__(self, other: object) -> bool:
        if type(other) is not DaemonConfig:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._COMPARED)

    __hash__ = None  # type: ignore[assignment]  # mutable: equal configs may change later

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"DaemonConfig({fields})"

    def socket_file(self, env: Mapping[str, str] = os.environ) -> str:
        """The daemon's socket path, without building the whole file family.

        Same answer as ``self.paths(env).socket``; the status and client paths use
        it because they need nothing else (and ``paths`` imports pathlib).
        """
        return socket_file(self.socket_path, env)

    def paths(self, env: Mapping[str, str] = os.environ) -> RuntimePaths:
        """The daemon's file family (``SQRY_DAEMON_SOCKET`` is already in ``socket_path``)."""
        return RuntimePaths.resolve(self.socket_path, env)

    def log_destination(self, env: Mapping[str, str] = os.environ) -> Path | None:
        """Log file path, or None for stderr only.

        Under systemd (``NOTIFY_SOCKET`` set) the journal already captures
        stderr, so writing a file too would only duplicate and fill the disk.
        """
        if self.log_file in STDERR_LOG_VALUES or env.get("NOTIFY_SOCKET"):
            return None
        if self.log_file:
            from pathlib import Path

            return Path(self.log_file)
        return self.paths(env).default_log

    @property
    def memory_limit_bytes(self) -> int:
        """``memory_limit_mb`` in bytes (MiB-based)."""
        return self.memory_limit_mb * MIB

    @property
    def log_max_bytes(self) -> int:
        """Rotation threshold of the log file in bytes (MiB-based)."""
        return self.log_max_size_mb * MIB

    def preload_roots(self) -> list[str]:
        """Workspace paths to load at startup: pinned and not excluded, in file order."""
        return [ws.path for ws in self.workspaces if ws.pinned and not ws.exclude]


class _IntKey:
    """An integer key: its env variable (if any) and inclusive range."""

    __slots__ = ("name", "env", "low", "high")

    def __init__(self, name: str, env: str | None, low: int, high: int) -> None:
        self.name = name
        self.env = env
        self.low = low
        self.high = high

    def rule(self) -> str:
        return f"between {self.low} and {self.high}"


# Every integer has an upper bound: unbounded values used to reach print-config
# (beyond TOML's i64) and the unit files (MemoryMax= that systemd rejects). The
# bounds are far beyond any sensible setting, so they only stop typos.
_INT_KEYS = (
    _IntKey("memory_limit_mb", "SQRY_DAEMON_MEMORY_MB", 1, 1_048_576),  # 1 TiB
    _IntKey("debounce_ms", None, 1, 3_600_000),  # 1 hour
    _IntKey("incremental_threshold", None, 0, 1_000_000),
    _IntKey("closure_limit_percent", None, 1, 100),
    _IntKey("stale_serve_max_age_hours", "SQRY_DAEMON_STALE_MAX_AGE_HOURS", 0, 8_760),  # 1 year
    _IntKey("ipc_shutdown_drain_secs", None, 1, 3600),
    _IntKey("tool_timeout_secs", "SQRY_DAEMON_TOOL_TIMEOUT_SECS", 1, 3600),
    _IntKey("auto_start_ready_timeout_secs", "SQRY_DAEMON_AUTO_START_READY_TIMEOUT_SECS", 1, 60),
    _IntKey("idle_shutdown_minutes", "SQRY_DAEMON_IDLE_SHUTDOWN_MINUTES", 0, 525_600),  # 1 year
    _IntKey("log_max_size_mb", None, 1, 65_536),  # 64 GiB
    _IntKey("log_keep_rotations", "SQRY_DAEMON_LOG_KEEP_ROTATIONS", 1, 100),
)
_ASCII_DIGITS = frozenset("0123456789")
_INT_KEY_BY_NAME = {key.name: key for key in _INT_KEYS}
_TOP_LEVEL_KEYS = (*_INT_KEY_BY_NAME, "log_file", "log_level", "socket", "workspaces")
_SOCKET_KEYS = ("path",)
_WORKSPACE_KEYS = ("path", "pinned", "exclude")


def normalize_log_level(value: str) -> str | None:
    """Canonical level name for ``value`` (case-insensitive), or None if unknown."""
    lowered = value.strip().lower()
    lowered = _LOG_LEVEL_ALIASES.get(lowered, lowered)
    return lowered if lowered in LOG_LEVELS else None


def default_config_path(env: Mapping[str, str] = os.environ) -> str:
    """``$XDG_CONFIG_HOME/sqry/daemon.toml``, else ``~/.config/sqry/daemon.toml``."""
    xdg = env.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore relative values
        return os.path.normpath(os.path.join(xdg, "sqry", "daemon.toml"))
    return os.path.normpath(os.path.join(_home(env), ".config", "sqry", "daemon.toml"))


def _home(env: Mapping[str, str]) -> str:
    home = env.get("HOME")
    if home:
        return home
    import pwd

    return pwd.getpwuid(os.getuid()).pw_dir


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] = os.environ,
    log_level: str | None = None,
) -> DaemonConfig:
    """Build the effective config: defaults, then the file, then env, then CLI.

    An explicitly named file (argument or ``SQRY_DAEMON_CONFIG``) must exist;
    a missing default file just means defaults. Raises ConfigError (exit 78)
    with a one-line message on any problem.
    """
    cfg = DaemonConfig()
    sources: dict[str, str] = {}
    file_path = _locate(path, env)
    if file_path is not None:
        cfg.config_file = file_path
        _apply_file(cfg, sources, file_path)
    _apply_env(cfg, sources, env)
    if log_level is not None:
        cfg.log_level = log_level
        sources["log_level"] = "--log-level"
    _validate(cfg, sources)
    return cfg


def _locate(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> str | None:
    """Pick the config file; None when the default file does not exist.

    ``--config ""`` is an explicit path that names nothing: an error, never a
    silent fall-back to the default file. ``SQRY_DAEMON_CONFIG=""`` counts as
    unset, like every other empty environment variable here (``VAR= cmd`` is
    how shells and unit files clear a variable).
    """
    if path is not None:
        if os.fspath(path) == "":
            raise ConfigError("--config needs a file path, got an empty string")
        return _require_file(absolute_path(path), "--config")
    named = env.get(CONFIG_ENV)
    if named:
        return _require_file(absolute_path(named), CONFIG_ENV)
    default = default_config_path(env)
    return default if os.path.lexists(default) else None


def _require_file(path: str, origin: str) -> str:
    if not os.path.exists(path):
        raise ConfigError(
            f"config file {path} (from {origin}) does not exist; create it or fix the path"
        )
    return path


MAX_CONFIG_BYTES = MIB
"""Largest config file read: a daemon.toml is a few hundred bytes, and without a
bound ``--config /dev/zero`` exhausts memory and ``/dev/urandom`` never ends."""
_READ_CHUNK = 64 * 1024


def _read_toml(file_path: str) -> dict[str, Any]:
    import tomllib

    data = _read_config_bytes(file_path)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {file_path} is not valid UTF-8 (byte {exc.start}); save it as UTF-8"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {file_path} is not valid TOML: {exc}") from exc


def _dangling_hint(file_path: str) -> str:
    """What to do when a config path that exists (as a link) cannot be opened."""
    if os.path.islink(file_path):
        return (
            f" (a symlink to {os.readlink(file_path)}, which does not exist); point it at a "
            "daemon.toml or remove it"
        )
    return ""


def _read_config_bytes(file_path: str) -> bytes:
    """The file's bytes: a regular file of at most MAX_CONFIG_BYTES, else ConfigError.

    Opened non-blocking so a FIFO cannot hang the open; the type is checked on
    the opened fd (no window for a swap) and the read stops one byte past the
    limit, whatever ``st_size`` claimed.
    """
    try:
        fd = os.open(file_path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {file_path}: {exc.strerror or exc}"
            f"{_dangling_hint(file_path) if exc.errno == errno.ENOENT else ''}"
        ) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigError(
                f"cannot read config file {file_path}: it is {_file_kind(mode)}, not a regular "
                "file; point --config or SQRY_DAEMON_CONFIG at a daemon.toml"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_CONFIG_BYTES and (chunk := os.read(fd, _READ_CHUNK)):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file_path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"config file {file_path} is larger than {MAX_CONFIG_BYTES // MIB} MiB; a daemon.toml "
            "is a few lines: check that the path names the right file"
        )
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    """``a directory``, ``a character device``... for messages about non-regular files."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a plain file")


def _apply_file(cfg: DaemonConfig, sources: dict[str, str], file_path: str) -> None:
    table = _read_toml(file_path)
    where = f"config file {file_path}"
    base = os.path.dirname(file_path)
    _reject_unknown(table, _TOP_LEVEL_KEYS, "", where)
    for name, value in table.items():
        if name in _INT_KEY_BY_NAME:
            setattr(cfg, name, _expect_int(value, name, where))
        elif name == "log_level":
            cfg.log_level = _expect_str(value, name, where)
        elif name == "log_file":
            cfg.log_file = _path_value(_expect_str(value, name, where), name, where, base)
        elif name == "socket":
            cfg.socket_path = _socket_table(value, where, base)
        elif name == "workspaces":
            cfg.workspaces = _workspace_list(value, where, base)
        sources[name] = where
    if "socket" in table:
        sources["socket_path"] = where


def _socket_table(value: object, where: str, base: str) -> str | None:
    if not isinstance(value, dict):
        raise ConfigError(f"'socket' in {where} must be a table ([socket]), got {_kind(value)}")
    _reject_unknown(value, _SOCKET_KEYS, "socket.", where)
    if "path" not in value:
        return None
    return _path_value(_expect_str(value["path"], "socket.path", where), "socket.path", where, base)


def _workspace_list(value: object, where: str, base: str) -> list[WorkspaceConfig]:
    if not isinstance(value, list):
        raise ConfigError(
            f"'workspaces' in {where} must be an array of tables ([[workspaces]]), "
            f"got {_kind(value)}"
        )
    result = []
    for index, entry in enumerate(value):
        key = f"workspaces[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"'{key}' in {where} must be a table, got {_kind(entry)}")
        _reject_unknown(entry, _WORKSPACE_KEYS, f"{key}.", where)
        if "path" not in entry:
            raise ConfigError(f"'{key}' in {where} is missing the required key 'path'")
        path = _path_value(_expect_str(entry["path"], f"{key}.path", where), key, where, base)
        pinned = _expect_bool(entry.get("pinned", False), f"{key}.pinned", where)
        exclude = _expect_bool(entry.get("exclude", False), f"{key}.exclude", where)
        result.append(WorkspaceConfig(path=path, pinned=pinned, exclude=exclude))
    return result


def _apply_env(cfg: DaemonConfig, sources: dict[str, str], env: Mapping[str, str]) -> None:
    for key in _INT_KEYS:
        raw = env.get(key.env) if key.env else None
        if raw:
            setattr(cfg, key.name, _env_int(key, raw))
            sources[key.name] = f"environment variable {key.env}"
    if raw_level := env.get(LOG_LEVEL_ENV):
        cfg.log_level = raw_level
        sources["log_level"] = f"environment variable {LOG_LEVEL_ENV}"
    if raw_log := env.get(LOG_FILE_ENV):
        cfg.log_file = _path_value(raw_log, LOG_FILE_ENV, "the environment", None)
        sources["log_file"] = f"environment variable {LOG_FILE_ENV}"
    if raw_socket := env.get(SOCKET_ENV):
        cfg.socket_path = _path_value(raw_socket, SOCKET_ENV, "the environment", None)
        sources["socket_path"] = f"environment variable {SOCKET_ENV}"


def parse_decimal(text: str, max_int_digits: int = 9) -> float | None:
    """``15``, ``2.5``, ``.5``, ``1.`` as a float; None for anything else.

    Plain ASCII decimals only, for numbers users type (CLI flags, knobs):
    ``float()`` alone also takes ``inf``, ``nan``, ``1e10``, ``1_0``, padding
    and non-ASCII digits. ``max_int_digits`` bounds the integer part, so the
    result is always finite.
    """
    whole, _, fraction = text.partition(".")
    digits = whole + fraction
    if not digits or not set(digits) <= _ASCII_DIGITS or len(whole) > max_int_digits:
        return None
    return float(text)


def _env_int(key: _IntKey, raw: str) -> int:
    """ASCII digits only: ``int()`` alone would take ``1_000``, ``+5``, `` 7`` and ``٥``.

    No key allows a negative value, so no sign is accepted either. Values with
    more digits than any bound get the range message without being converted.
    """
    if not raw or not set(raw) <= _ASCII_DIGITS:
        raise ConfigError(
            f"environment variable {key.env}={raw!r} is not a whole number written with the "
            f"digits 0-9 (it sets {key.name}, which must be {key.rule()})"
        )
    if len(raw.lstrip("0")) > len(str(key.high)):
        raise ConfigError(
            f"environment variable {key.env}={raw} is out of range: {key.name} must be {key.rule()}"
        )
    return int(raw, 10)


def _validate(cfg: DaemonConfig, sources: Mapping[str, str]) -> None:
    """Range checks run last, on the merged values, naming where each came from."""
    for key in _INT_KEYS:
        value = getattr(cfg, key.name)
        if value < key.low or (key.high is not None and value > key.high):
            raise ConfigError(
                f"{key.name} = {value} (from {sources.get(key.name, 'defaults')}) is out of "
                f"range: must be {key.rule()}"
            )
    level = normalize_log_level(cfg.log_level)
    if level is None:
        raise ConfigError(
            f"log_level = {cfg.log_level!r} (from {sources.get('log_level', 'defaults')}) is "
            f"not a log level: must be one of {', '.join(LOG_LEVELS)} (or warning)"
        )
    cfg.log_level = level


def _path_value(raw: str, key: str, where: str, base: str | None) -> str:
    """Validate a path-like string and make it absolute (``-``/``stderr`` kept for logs)."""
    if raw == "":
        raise ConfigError(f"{key} in {where} must not be empty")
    if "\x00" in raw:
        raise ConfigError(
            f"{key} in {where} contains a NUL character, which no path can contain; remove it"
        )
    if key in ("log_file", LOG_FILE_ENV) and raw in STDERR_LOG_VALUES:
        return raw
    if key in ("socket.path", SOCKET_ENV) and (
        raw.endswith("/") or os.path.basename(raw) in (".", "..")
    ):
        # caught here, as written: normalising would turn ``dir/`` into a file ``dir``
        raise ConfigError(
            f"{key} in {where} is {raw!r}, which names a directory, not a socket file; "
            f"name a file in it, e.g. {os.path.join(raw, 'sqryd.sock')}"
        )
    return absolute_path(raw, base)


def _reject_unknown(
    table: Mapping[str, object], known: tuple[str, ...], prefix: str, where: str
) -> None:
    for name in table:
        if name not in known:
            raise ConfigError(
                f"unknown key '{prefix}{name}' in {where}; allowed keys here: {', '.join(known)}"
            )


def _kind(value: object) -> str:
    """TOML's name for a Python value's type, for error messages."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), f"a {type(value).__name__}")


def _expect_int(value: object, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"'{key}' in {where} must be an integer, got {_kind(value)}")
    return value


def _expect_str(value: object, key: str, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"'{key}' in {where} must be a string, got {_kind(value)}")
    return value


def _expect_bool(value: object, key: str, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"'{key}' in {where} must be true or false, got {_kind(value)}")
    return value


# --- writing ------------------------------------------------------------------


def to_toml(cfg: DaemonConfig) -> str:
    """Render ``cfg`` as TOML that ``load_config`` parses back to an equal config.

    Written by hand (the stdlib only reads TOML). Keys whose value is None are
    omitted, which is exactly how "unset" is spelled in the file.
    """
    lines = ["# sqryd effective configuration (sqryd print-config)"]
    if cfg.config_file is not None:
        lines.append(f"# loaded from {toml_string(os.fspath(cfg.config_file), 'config_file')}")
    for name in cfg.FIELDS:
        value = getattr(cfg, name)
        if name in ("socket_path", "workspaces", "config_file") or value is None:
            continue
        lines.append(f"{name} = {_toml_scalar(value, name)}")
    if cfg.socket_path is not None:
        lines += ["", "[socket]", f"path = {toml_string(cfg.socket_path, 'socket.path')}"]
    for index, ws in enumerate(cfg.workspaces):
        key = f"workspaces[{index}]"
        lines += ["", "[[workspaces]]", f"path = {toml_string(ws.path, key + '.path')}"]
        lines += [f"pinned = {_toml_scalar(ws.pinned, key)}"]
        lines += [f"exclude = {_toml_scalar(ws.exclude, key)}"]
    return "\n".join(lines) + "\n"


def _toml_scalar(value: object, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value, key)
    raise ConfigError(f"cannot write {key} = {value!r} as TOML ({_kind(value)})")


_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n"}
_SHORT_ESCAPES |= {"\f": "\\f", "\r": "\\r"}


def toml_string(text: str, key: str = "value") -> str:
    """Quote ``text`` as a TOML basic string, escaping quotes, backslashes and controls.

    Raises ConfigError for strings TOML cannot hold (lone surrogates, which is
    how Python carries non-UTF-8 bytes of a file name).
    """
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ConfigError(
                f"{key} contains bytes that are not valid UTF-8 and cannot be written as TOML"
            )
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
