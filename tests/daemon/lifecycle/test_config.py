"""daemon.toml loading, precedence, validation and the TOML round trip (lifecycle.md §7)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqry.daemon.lifecycle import config as lc
from sqry.daemon.lifecycle.config import DaemonConfig, WorkspaceConfig, load_config, to_toml
from sqry.daemon.lifecycle.errors import ConfigError

DEFAULTS = {
    "memory_limit_mb": 2048,
    "debounce_ms": 2000,
    "incremental_threshold": 20,
    "closure_limit_percent": 30,
    "stale_serve_max_age_hours": 24,
    "ipc_shutdown_drain_secs": 5,
    "tool_timeout_secs": 60,
    "auto_start_ready_timeout_secs": 10,
    "idle_shutdown_minutes": 0,
    "log_file": None,
    "log_level": "info",
    "log_max_size_mb": 50,
    "log_keep_rotations": 5,
    "socket_path": None,
    "workspaces": [],
}

# key -> (env variable or None, invalid values, largest valid, smallest valid, rule)
INT_RULES = {
    "memory_limit_mb": ("SQRY_DAEMON_MEMORY_MB", [0, -1, 1_048_577], 1_048_576, 1),
    "debounce_ms": (None, [0, 3_600_001], 3_600_000, 1),
    "incremental_threshold": (None, [-1, 1_000_001], 1_000_000, 0),
    "closure_limit_percent": (None, [0, 101], 100, 1),
    "stale_serve_max_age_hours": ("SQRY_DAEMON_STALE_MAX_AGE_HOURS", [-1, 8761], 8760, 0),
    "ipc_shutdown_drain_secs": (None, [0, 3601], 3600, 1),
    "tool_timeout_secs": ("SQRY_DAEMON_TOOL_TIMEOUT_SECS", [0, 3601], 3600, 1),
    "auto_start_ready_timeout_secs": ("SQRY_DAEMON_AUTO_START_READY_TIMEOUT_SECS", [0, 61], 60, 1),
    "idle_shutdown_minutes": ("SQRY_DAEMON_IDLE_SHUTDOWN_MINUTES", [-1, 525_601], 525_600, 0),
    "log_max_size_mb": (None, [0, 65_537], 65_536, 1),
    "log_keep_rotations": ("SQRY_DAEMON_LOG_KEEP_ROTATIONS", [0, 101], 100, 1),
}
INT_RULES = {
    key: (var, bad, high, low, f"between {low} and {high}")
    for key, (var, bad, high, low) in INT_RULES.items()
}
I64_MAX = 2**63 - 1


@pytest.fixture
def tmp() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def env(tmp: Path) -> dict[str, str]:
    """An environment whose default config location is an empty private home."""
    return {"HOME": str(tmp / "home"), "XDG_RUNTIME_DIR": str(tmp / "run")}


def write(tmp: Path, text: str, name: str = "daemon.toml") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults and location ---------------------------------------------------------


def test_every_key_has_its_spec_default(env: dict[str, str]) -> None:
    cfg = load_config(env=env)
    for key, value in DEFAULTS.items():
        assert getattr(cfg, key) == value, key
    assert cfg.config_file is None
    assert cfg.memory_limit_bytes == 2048 * 1024 * 1024


def test_empty_file_is_valid_and_means_defaults(tmp: Path, env: dict[str, str]) -> None:
    cfg = load_config(write(tmp, ""), env=env)
    assert cfg == DaemonConfig()
    assert cfg.config_file == str(tmp / "daemon.toml")


def test_default_location_under_home(tmp: Path, env: dict[str, str]) -> None:
    home_cfg = tmp / "home" / ".config" / "sqry"
    home_cfg.mkdir(parents=True)
    (home_cfg / "daemon.toml").write_text("debounce_ms = 7\n")
    assert load_config(env=env).debounce_ms == 7


def test_default_location_prefers_xdg_config_home(tmp: Path, env: dict[str, str]) -> None:
    (tmp / "xdg" / "sqry").mkdir(parents=True)
    (tmp / "xdg" / "sqry" / "daemon.toml").write_text("debounce_ms = 9\n")
    cfg = load_config(env={**env, "XDG_CONFIG_HOME": str(tmp / "xdg")})
    assert cfg.debounce_ms == 9
    assert cfg.config_file == str(tmp / "xdg" / "sqry" / "daemon.toml")


def test_config_env_names_the_file(tmp: Path, env: dict[str, str]) -> None:
    path = write(tmp, "debounce_ms = 11\n", "other.toml")
    assert load_config(env={**env, "SQRY_DAEMON_CONFIG": str(path)}).debounce_ms == 11


def test_explicit_argument_beats_config_env(tmp: Path, env: dict[str, str]) -> None:
    a = write(tmp, "debounce_ms = 1\n", "a.toml")
    b = write(tmp, "debounce_ms = 2\n", "b.toml")
    assert load_config(a, env={**env, "SQRY_DAEMON_CONFIG": str(b)}).debounce_ms == 1


@pytest.mark.parametrize("via", ["argument", "env"])
def test_explicit_missing_file_is_an_error(tmp: Path, env: dict[str, str], via: str) -> None:
    missing = tmp / "nope.toml"
    with pytest.raises(ConfigError) as info:
        if via == "argument":
            load_config(missing, env=env)
        else:
            load_config(env={**env, "SQRY_DAEMON_CONFIG": str(missing)})
    assert info.value.exit_code == 78
    assert str(missing) in str(info.value) and "does not exist" in str(info.value)
    assert ("--config" if via == "argument" else "SQRY_DAEMON_CONFIG") in str(info.value)


# --- file errors -----------------------------------------------------------------


def test_toml_syntax_error_names_file_line_and_column(tmp: Path, env: dict[str, str]) -> None:
    path = write(tmp, "debounce_ms = 5\nlog_level = = 'x'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    msg = str(info.value)
    assert str(path) in msg and "line 2" in msg and "column" in msg
    assert "\n" not in msg


def test_non_utf8_file_is_a_clear_error(tmp: Path, env: dict[str, str]) -> None:
    path = tmp / "daemon.toml"
    path.write_bytes(b"log_file = '\xff'\n")
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_config(path, env=env)


def test_directory_as_config_is_a_clear_error(tmp: Path, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp, env=env)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("memory_limit = 5\n", "'memory_limit'"),
        ("[socket]\npath = '/x.sock'\nmode = 1\n", "'socket.mode'"),
        ("[[workspaces]]\npath = '/a'\npined = true\n", "'workspaces[0].pined'"),
        ("[extra]\n", "'extra'"),
    ],
)
def test_unknown_keys_are_errors_naming_the_key(
    tmp: Path, env: dict[str, str], text: str, named: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp, text), env=env)
    assert f"unknown key {named}" in str(info.value)
    assert "allowed keys here" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "memory_limit_mb = '5'\n",
            "'memory_limit_mb' in config file .* must be an integer, got a string",
        ),
        ("debounce_ms = true\n", "'debounce_ms' .* must be an integer, got a boolean"),
        ("tool_timeout_secs = 1.5\n", "'tool_timeout_secs' .* must be an integer, got a float"),
        ("log_level = 3\n", "'log_level' .* must be a string, got an integer"),
        ("log_file = []\n", "'log_file' .* must be a string, got an array"),
        ("socket = 'x'\n", "'socket' .* must be a table"),
        ("[socket]\npath = 5\n", "'socket.path' .* must be a string"),
        ("workspaces = 'a'\n", "'workspaces' .* must be an array of tables"),
        ("workspaces = [1]\n", "'workspaces\\[0\\]' .* must be a table, got an integer"),
        (
            "[[workspaces]]\npinned = true\n",
            "'workspaces\\[0\\]' .* missing the required key 'path'",
        ),
        (
            "[[workspaces]]\npath = '/a'\npinned = 'yes'\n",
            "'workspaces\\[0\\].pinned' .* true or false",
        ),
        ("log_file = ''\n", "log_file in config file .* must not be empty"),
    ],
)
def test_wrong_types_name_key_and_expected_type(
    tmp: Path, env: dict[str, str], text: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp, text), env=env)


# --- integer keys: file, env, validation -----------------------------------------------


@pytest.mark.parametrize("key", sorted(INT_RULES))
def test_int_key_range_is_validated_with_key_and_range_named(
    tmp: Path, env: dict[str, str], key: str
) -> None:
    _var, invalid, largest, smallest, rule = INT_RULES[key]
    for bad in invalid:
        path = write(tmp, f"{key} = {bad}\n")
        with pytest.raises(ConfigError) as info:
            load_config(path, env=env)
        msg = str(info.value)
        assert msg.startswith(f"{key} = {bad} (from config file {path})"), msg
        assert f"must be {rule}" in msg
    assert getattr(load_config(write(tmp, f"{key} = {smallest}\n"), env=env), key) == smallest
    assert getattr(load_config(write(tmp, f"{key} = {largest}\n"), env=env), key) == largest


@pytest.mark.parametrize("key", sorted(k for k, r in INT_RULES.items() if r[0]))
def test_int_env_overrides_file_and_is_validated(tmp: Path, env: dict[str, str], key: str) -> None:
    var, invalid, _largest, smallest, rule = INT_RULES[key]
    path = write(tmp, f"{key} = {smallest + 1}\n")
    assert getattr(load_config(path, env={**env, var: str(smallest)}), key) == smallest
    assert getattr(load_config(path, env={**env, var: ""}), key) == smallest + 1  # empty = unset
    with pytest.raises(ConfigError) as info:
        load_config(path, env={**env, var: str(max(invalid))})
    assert f"(from environment variable {var})" in str(info.value)
    assert f"must be {rule}" in str(info.value)


@pytest.mark.parametrize("key", sorted(k for k, r in INT_RULES.items() if r[0]))
def test_malformed_env_value_names_the_variable(env: dict[str, str], key: str) -> None:
    var = INT_RULES[key][0]
    with pytest.raises(ConfigError) as info:
        load_config(env={**env, var: "12abc"})
    msg = str(info.value)
    assert msg.startswith(f"environment variable {var}='12abc' is not a whole number")
    assert "digits 0-9" in msg and key in msg and "between" in msg


@pytest.mark.parametrize(
    "raw",
    ["1_000", "+5", "-5", " 5", "5 ", "5\n", "\u0665", "\uff15", "0x10", "1e3", "5.0", "٣"],
)
def test_env_integers_are_ascii_digits_only(env: dict[str, str], raw: str) -> None:
    """int() accepts all of these; an env value must be plain ASCII digits."""
    with pytest.raises(ConfigError) as info:
        load_config(env={**env, "SQRY_DAEMON_MEMORY_MB": raw})
    msg = str(info.value)
    assert msg.startswith(f"environment variable SQRY_DAEMON_MEMORY_MB={raw!r} is not a whole")
    assert "\n" not in msg.replace("\\n", "")


@pytest.mark.parametrize("raw", [str(10**23), "9" * 5000, str(I64_MAX + 1), "1048577"])
def test_huge_env_integers_are_out_of_range_not_accepted(env: dict[str, str], raw: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env={**env, "SQRY_DAEMON_MEMORY_MB": raw})
    msg = str(info.value)
    assert "SQRY_DAEMON_MEMORY_MB" in msg and "between 1 and 1048576" in msg


def test_leading_zeros_are_still_a_number(env: dict[str, str]) -> None:
    assert load_config(env={**env, "SQRY_DAEMON_MEMORY_MB": "000512"}).memory_limit_mb == 512


@pytest.mark.parametrize("text", [f"memory_limit_mb = {I64_MAX}\n", "debounce_ms = 10_000_000\n"])
def test_huge_file_integers_are_out_of_range(tmp: Path, env: dict[str, str], text: str) -> None:
    with pytest.raises(ConfigError, match="is out of range: must be between"):
        load_config(write(tmp, text), env=env)


@pytest.mark.parametrize("value", ["true", "1.0", "'5'", "inf", "[5]"])
def test_file_integers_must_be_toml_integers(tmp: Path, env: dict[str, str], value: str) -> None:
    with pytest.raises(ConfigError, match="'memory_limit_mb' in config file .* must be an integer"):
        load_config(write(tmp, f"memory_limit_mb = {value}\n"), env=env)


def test_every_largest_value_prints_as_a_toml_i64(tmp: Path, env: dict[str, str]) -> None:
    """print-config never writes an integer TOML (and so systemd) cannot hold."""
    largest = {key: rule[2] for key, rule in INT_RULES.items()}
    text = to_toml(DaemonConfig(**largest))  # type: ignore[arg-type]
    assert load_config(write(tmp, text), env=env) == DaemonConfig(**largest)  # type: ignore[arg-type]
    assert all(value <= I64_MAX for value in largest.values())


@pytest.mark.parametrize(
    ("text", "value"),
    [("15", 15.0), ("2.5", 2.5), (".5", 0.5), ("1.", 1.0), ("007", 7.0), ("0", 0.0)],
)
def test_parse_decimal_reads_plain_decimals(text: str, value: float) -> None:
    assert lc.parse_decimal(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".",
        "inf",
        "nan",
        "1e3",
        "1_0",
        "-1",
        "+1",
        " 1",
        "1 ",
        "\u0665",
        "1.2.3",
        "0x1",
        "9" * 10,
    ],
)
def test_parse_decimal_refuses_everything_else(text: str) -> None:
    assert lc.parse_decimal(text) is None


# --- strings: log level, log file, socket, workspaces ----------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("TRACE", "trace"),
        ("Debug", "debug"),
        ("info", "info"),
        ("WARNING", "warn"),
        ("warn", "warn"),
        ("error", "error"),
    ],
)
def test_log_level_names_are_case_insensitive(env: dict[str, str], given: str, stored: str) -> None:
    assert load_config(env=env, log_level=given).log_level == stored


def test_log_level_precedence_file_env_cli(tmp: Path, env: dict[str, str]) -> None:
    path = write(tmp, "log_level = 'error'\n")
    assert load_config(path, env=env).log_level == "error"
    env2 = {**env, "SQRY_DAEMON_LOG_LEVEL": "debug"}
    assert load_config(path, env=env2).log_level == "debug"
    assert load_config(path, env=env2, log_level="trace").log_level == "trace"


@pytest.mark.parametrize(
    ("file_text", "env_extra", "cli", "origin"),
    [
        ("log_level = 'loud'\n", {}, None, "config file"),
        ("", {"SQRY_DAEMON_LOG_LEVEL": "loud"}, None, "environment variable SQRY_DAEMON_LOG_LEVEL"),
        ("", {}, "loud", "--log-level"),
    ],
)
def test_bad_log_level_names_its_origin_and_choices(
    tmp: Path,
    env: dict[str, str],
    file_text: str,
    env_extra: dict[str, str],
    cli: str | None,
    origin: str,
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp, file_text), env={**env, **env_extra}, log_level=cli)
    msg = str(info.value)
    assert "log_level = 'loud'" in msg and origin in msg
    assert "trace, debug, info, warn, error" in msg


def test_log_file_env_overrides_file_and_relative_paths_are_anchored(
    tmp: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp / "conf").mkdir()
    path = write(tmp / "conf", "log_file = 'logs/d.log'\n")
    assert load_config(path, env=env).log_file == str(tmp / "conf" / "logs" / "d.log")
    monkeypatch.chdir(tmp)
    cfg = load_config(path, env={**env, "SQRY_DAEMON_LOG_FILE": "here.log"})
    assert cfg.log_file == str(tmp / "here.log")


def test_socket_env_beats_file_and_moves_the_paths(tmp: Path, env: dict[str, str]) -> None:
    path = write(tmp, "[socket]\npath = 'a.sock'\n")
    cfg = load_config(path, env=env)
    assert cfg.socket_path == str(tmp / "a.sock")
    assert cfg.paths(env).lock == tmp / "a.lock"
    cfg = load_config(path, env={**env, "SQRY_DAEMON_SOCKET": str(tmp / "b.sock")})
    assert cfg.socket_path == str(tmp / "b.sock")
    assert cfg.paths(env).pid == tmp / "b.pid"


def test_default_paths_follow_the_runtime_dir(tmp: Path, env: dict[str, str]) -> None:
    cfg = load_config(env=env)
    assert cfg.paths(env).socket == tmp / "run" / "sqry" / "sqryd.sock"


def test_socket_file_is_the_socket_of_paths(tmp: Path, env: dict[str, str]) -> None:
    for cfg in (load_config(env=env), DaemonConfig(socket_path=str(tmp / "c.sock"))):
        assert cfg.socket_file(env) == str(cfg.paths(env).socket)
    assert load_config(env=env).socket_file(env) == str(tmp / "run" / "sqry" / "sqryd.sock")


def test_workspaces_and_preload_roots(tmp: Path, env: dict[str, str]) -> None:
    text = (
        "[[workspaces]]\npath = '/src/a'\npinned = true\n\n"
        "[[workspaces]]\npath = 'rel'\n\n"
        "[[workspaces]]\npath = '/src/c'\npinned = true\nexclude = true\n"
    )
    cfg = load_config(write(tmp, text), env=env)
    assert cfg.workspaces == [
        WorkspaceConfig("/src/a", pinned=True),
        WorkspaceConfig(str(tmp / "rel")),
        WorkspaceConfig("/src/c", pinned=True, exclude=True),
    ]
    assert cfg.preload_roots() == ["/src/a"]


@pytest.mark.parametrize(
    ("log_file", "env_extra", "expected"),
    [
        (None, {}, "default"),
        ("-", {}, None),
        ("stderr", {}, None),
        ("/var/log/s.log", {}, Path("/var/log/s.log")),
        ("/var/log/s.log", {"NOTIFY_SOCKET": "/run/systemd/notify"}, None),
        (None, {"NOTIFY_SOCKET": "@x"}, None),
    ],
)
def test_log_destination(
    env: dict[str, str], log_file: str | None, env_extra: dict[str, str], expected: object
) -> None:
    cfg = DaemonConfig(log_file=log_file)
    full_env = {**env, **env_extra}
    want = cfg.paths(full_env).default_log if expected == "default" else expected
    assert cfg.log_destination(full_env) == want


# --- the config value ------------------------------------------------------------------


def test_replace_copies_with_changes_and_keeps_the_original() -> None:
    cfg = DaemonConfig(memory_limit_mb=7, workspaces=[WorkspaceConfig("/w")], config_file="/c.toml")
    moved = cfg.replace(socket_path="/s/x.sock")
    assert moved.socket_path == "/s/x.sock" and cfg.socket_path is None
    assert (moved.memory_limit_mb, moved.workspaces, moved.config_file) == (
        7,
        cfg.workspaces,
        "/c.toml",
    )
    assert moved == DaemonConfig(
        memory_limit_mb=7, socket_path="/s/x.sock", workspaces=[WorkspaceConfig("/w")]
    )
    with pytest.raises(TypeError, match="'memory_mb'"):
        cfg.replace(memory_mb=1)


def test_equality_covers_every_setting_but_config_file() -> None:
    assert DaemonConfig(config_file="/a.toml") == DaemonConfig(config_file="/b.toml")
    changed = {"log_file": "/l.log", "log_level": "warn", "socket_path": "/s.sock"}
    changed["workspaces"] = [WorkspaceConfig("/w")]
    for name in DaemonConfig.FIELDS[:-1]:
        value = changed.get(name, getattr(DaemonConfig(), name))
        if name not in changed:
            value += 1
        assert DaemonConfig().replace(**{name: value}) != DaemonConfig(), name
    assert DaemonConfig() != "DaemonConfig()"
    assert WorkspaceConfig("/w", pinned=True) != WorkspaceConfig("/w")
    assert WorkspaceConfig("/w", exclude=True) == WorkspaceConfig("/w", False, True)


def test_repr_names_every_setting() -> None:
    text = repr(DaemonConfig(workspaces=[WorkspaceConfig("/w", pinned=True)]))
    assert text.startswith("DaemonConfig(memory_limit_mb=2048, debounce_ms=2000, ")
    assert "workspaces=[WorkspaceConfig(path='/w', pinned=True, exclude=False)]" in text
    assert text.endswith("config_file=None)")


def test_unknown_attributes_are_refused() -> None:
    with pytest.raises(AttributeError):
        DaemonConfig().memory_limit = 1  # type: ignore[attr-defined]


HEAVY = {"dataclasses", "inspect", "typing", "pathlib", "re", "enum", "json", "socket"}


def _modules_after_load(env: dict[str, str]) -> set[str]:
    """Modules a fresh interpreter imports to load the config and find the socket."""
    code = (
        "import sys; from sqry.daemon.lifecycle.config import load_config; "
        "print(load_config().socket_file()); print(' '.join(sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines()[1].split())


def test_loading_without_a_file_imports_nothing_heavy(env: dict[str, str]) -> None:
    modules = _modules_after_load({**os.environ, **env})
    assert not HEAVY & modules and "tomllib" not in modules


def test_loading_a_file_imports_tomllib_but_not_pathlib(tmp: Path, env: dict[str, str]) -> None:
    path = write(tmp, "debounce_ms = 7\n")
    modules = _modules_after_load({**os.environ, **env, "SQRY_DAEMON_CONFIG": str(path)})
    assert "tomllib" in modules  # which itself imports typing, re and datetime
    assert not {"dataclasses", "inspect", "pathlib"} & modules


# --- round trip ------------------------------------------------------------------------

_segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", ".."))
_abs_path = st.lists(_segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))


@st.composite
def configs(draw: st.DrawFn) -> DaemonConfig:
    values: dict[str, object] = {}
    for key, (_var, _bad, largest, smallest, _rule) in INT_RULES.items():
        values[key] = draw(st.integers(smallest, largest))
    values["log_level"] = draw(st.sampled_from(lc.LOG_LEVELS))
    values["log_file"] = draw(st.one_of(st.none(), st.sampled_from(["-", "stderr"]), _abs_path))
    values["socket_path"] = draw(st.one_of(st.none(), _abs_path))
    values["workspaces"] = draw(
        st.lists(st.builds(WorkspaceConfig, _abs_path, st.booleans(), st.booleans()), max_size=3)
    )
    return DaemonConfig(**values)  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(cfg=configs())
def test_to_toml_round_trips(cfg: DaemonConfig) -> None:
    directory = tempfile.mkdtemp(prefix="sq", dir="/tmp")
    try:
        path = Path(directory) / "daemon.toml"
        path.write_text(to_toml(cfg), encoding="utf-8")
        loaded = load_config(path, env={"HOME": directory})
        assert loaded == cfg
        assert to_toml(loaded).split("\n", 2)[2] == to_toml(cfg).split("\n", 1)[1]
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_to_toml_escapes_awkward_strings(tmp: Path) -> None:
    odd = '/d/quote"back\\slash\ttab\nnl\x01\x7f ünï 🐍'
    cfg = DaemonConfig(log_file=odd, socket_path="/s/a b.sock", workspaces=[WorkspaceConfig(odd)])
    text = to_toml(cfg)
    assert '\\"' in text and "\\\\" in text and "\\u0001" in text and "\\u007f" in text
    path = tmp / "d.toml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path, env={"HOME": str(tmp)}) == cfg


def test_to_toml_omits_unset_values() -> None:
    text = to_toml(DaemonConfig())
    assert "log_file" not in text and "[socket]" not in text and "[[workspaces]]" not in text
    assert "memory_limit_mb = 2048" in text


def test_to_toml_refuses_non_utf8_paths() -> None:
    bad = os.fsdecode(b"/tmp/\xff.sock")
    with pytest.raises(ConfigError, match="socket.path"):
        to_toml(DaemonConfig(socket_path=bad))


# --- explicit paths that name nothing, and files that are not config files ------------


def test_empty_explicit_path_is_an_error_not_the_default_file(
    tmp: Path, env: dict[str, str]
) -> None:
    """Once: ``--config ""`` silently loaded ~/.config/sqry/daemon.toml."""
    default = tmp / "home" / ".config" / "sqry" / "daemon.toml"
    default.parent.mkdir(parents=True)
    default.write_text("memory_limit_mb = 512\n")
    with pytest.raises(ConfigError) as info:
        load_config("", env=env)
    assert info.value.exit_code == 78
    assert str(info.value) == "--config needs a file path, got an empty string"


def test_empty_config_env_counts_as_unset(tmp: Path, env: dict[str, str]) -> None:
    default = tmp / "home" / ".config" / "sqry" / "daemon.toml"
    default.parent.mkdir(parents=True)
    default.write_text("memory_limit_mb = 512\n")
    assert load_config(env={**env, "SQRY_DAEMON_CONFIG": ""}).memory_limit_mb == 512


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[socket]\npath = "/tmp/a\\u0000b"\n', "socket.path"),
        ('log_file = "/tmp/a\\u0000b"\n', "log_file"),
        ('[[workspaces]]\npath = "/src/a\\u0000b"\n', "workspaces[0]"),
    ],
)
def test_nul_in_a_path_is_a_complete_sentence(
    tmp: Path, env: dict[str, str], text: str, key: str
) -> None:
    """Once: the message stopped at "...contains a NUL character; paths cannot"."""
    path = write(tmp, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    assert str(info.value) == (
        f"{key} in config file {path} contains a NUL character, which no path can contain; "
        "remove it"
    )


def test_nul_in_a_path_from_the_environment(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="SQRY_DAEMON_SOCKET in the environment contains a NUL"):
        load_config(env={**env, "SQRY_DAEMON_SOCKET": "/tmp/a\x00b"})


def test_config_over_the_size_limit_is_refused(tmp: Path, env: dict[str, str]) -> None:
    path = tmp / "daemon.toml"
    path.write_bytes(b"#" * lc.MAX_CONFIG_BYTES + b"\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    assert str(info.value).startswith(f"config file {path} is larger than 1 MiB")


def test_config_at_the_size_limit_is_read(tmp: Path, env: dict[str, str]) -> None:
    path = tmp / "daemon.toml"
    path.write_bytes(b"memory_limit_mb = 7\n" + b"#" * (lc.MAX_CONFIG_BYTES - 21) + b"\n")
    assert path.stat().st_size == lc.MAX_CONFIG_BYTES
    assert load_config(path, env=env).memory_limit_mb == 7


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("/dev/zero", "a character device"),
        ("/dev/urandom", "a character device"),
        ("fifo", "a named pipe"),
    ],
)
def test_config_that_is_not_a_regular_file_is_refused(
    tmp: Path, env: dict[str, str], name: str, kind: str
) -> None:
    """Once: /dev/zero ended in MemoryError, /dev/urandom and a FIFO never returned."""
    path = Path(name) if name.startswith("/") else tmp / name
    if name == "fifo":
        os.mkfifo(path)
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    assert str(info.value).startswith(f"cannot read config file {path}: it is {kind}")
    assert "not a regular file" in str(info.value)


def test_a_dangling_config_symlink_says_where_it_points(tmp: Path, env: dict[str, str]) -> None:
    """At the default path (an explicit ``--config`` that is missing says so itself)."""
    (tmp / "sqry").mkdir()
    link = tmp / "sqry" / "daemon.toml"
    link.symlink_to(tmp / "gone.toml")
    with pytest.raises(ConfigError) as info:
        load_config(env={**env, "XDG_CONFIG_HOME": str(tmp)})
    assert str(info.value) == (
        f"cannot read config file {link}: No such file or directory (a symlink to "
        f"{tmp}/gone.toml, which does not exist); point it at a daemon.toml or remove it"
    )


@pytest.mark.parametrize("raw", ["/tmp/not-yet-made/", "/tmp/x/.", "/tmp/x/..", "rel/"])
def test_a_socket_path_written_as_a_directory_is_refused(
    tmp: Path, env: dict[str, str], raw: str
) -> None:
    """``dir/`` must not become a socket named ``dir`` by normalisation."""
    with pytest.raises(ConfigError, match="names a directory, not a socket file"):
        load_config(env={**env, "SQRY_DAEMON_SOCKET": raw})
    path = tmp / "daemon.toml"
    path.write_text(f'[socket]\npath = "{raw}"\n')
    with pytest.raises(ConfigError, match="socket.path in .* names a directory"):
        load_config(path, env=env)
    assert load_config(env={**env, "SQRY_DAEMON_SOCKET": "/tmp/x/s.sock"}).socket_path == (
        "/tmp/x/s.sock"
    )
