"""Unit generators (lifecycle.md §8), checked by content, by plistlib and by systemd itself."""

from __future__ import annotations

import os
import plistlib
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqry import __version__
from sqry.daemon.lifecycle.config import DaemonConfig
from sqry.daemon.lifecycle.errors import ConfigError
from sqry.daemon.lifecycle.units import (
    launchd_plist,
    systemd_system_unit,
    systemd_user_unit,
    unit_instance_name,
)

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")
EXE = sys.executable  # an executable that surely exists, for systemd's ExecStart check
ROOT_NAME = pwd.getpwuid(0).pw_name


@pytest.fixture
def tmp() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def unit_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def verify(unit: Path, *, user: bool, runtime: Path) -> subprocess.CompletedProcess[str]:
    """Run ``systemd-analyze verify``; its warnings about our file mean failure too."""
    assert ANALYZE is not None
    args = [ANALYZE, *(["--user"] if user else []), "--man=no", "verify", str(unit)]
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_COLOR": "0"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=60)


def complaints(result: subprocess.CompletedProcess[str], unit_name: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if unit_name.split("@")[0] in line]


# --- systemd user unit ------------------------------------------------------------------


def test_user_unit_has_the_spec_directives() -> None:
    text = systemd_user_unit(DaemonConfig(memory_limit_mb=1234), EXE)
    lines = unit_lines(text)
    for expected in [
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={EXE} foreground",
        "Restart=on-failure",
        "RuntimeDirectory=sqry",
        "RuntimeDirectoryMode=0700",
        'Environment="SQRY_DAEMON_SOCKET=%t/sqry/sqryd.sock"',
        "MemoryMax=1234M",
        "[Install]",
        "WantedBy=default.target",
    ]:
        assert expected in lines, expected
    assert f"sqryd {__version__}" in text.splitlines()[0]
    assert "# Install:" in text and "systemctl --user enable --now sqryd.service" in text


def test_user_unit_uses_configured_socket_and_config_file() -> None:
    cfg = DaemonConfig(socket_path="/home/a b/50%/s.sock")
    cfg.config_file = Path("/home/a b/daemon.toml")
    lines = unit_lines(systemd_user_unit(cfg, EXE))
    assert 'Environment="SQRY_DAEMON_SOCKET=/home/a b/50%%/s.sock"' in lines
    assert 'Environment="SQRY_DAEMON_CONFIG=/home/a b/daemon.toml"' in lines


@needs_analyze
@pytest.mark.timeout(120)
def test_systemd_accepts_the_user_unit(tmp: Path) -> None:
    runtime = tmp / "run"
    runtime.mkdir(mode=0o700)
    unit = tmp / "sqryd.service"
    unit.write_text(systemd_user_unit(DaemonConfig(), EXE))
    result = verify(unit, user=True, runtime=runtime)
    assert result.returncode == 0, result.stderr
    assert complaints(result, "sqryd.service") == []


@needs_analyze
@pytest.mark.timeout(120)
def test_systemd_parses_an_awkward_executable_path(tmp: Path) -> None:
    runtime = tmp / "run"
    runtime.mkdir(mode=0o700)
    odd_dir = tmp / "my odd dir 100% $HOME (x)"
    odd_dir.mkdir()
    exe = odd_dir / "sqryd"
    exe.symlink_to(EXE)
    unit = tmp / "sqryd.service"
    unit.write_text(systemd_user_unit(DaemonConfig(), str(exe)))
    result = verify(unit, user=True, runtime=runtime)
    assert result.returncode == 0, result.stderr  # systemd found the exact file
    assert complaints(result, "sqryd.service") == []
    # Control: the same unit pointing at a missing file is rejected, so the check is real.
    exe.unlink()
    assert verify(unit, user=True, runtime=runtime).returncode != 0


@pytest.mark.parametrize("bad", ['/opt/a"b/sqryd', "/opt/a\\b/sqryd", "/opt/a\nb/sqryd"])
def test_executable_paths_systemd_refuses_are_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="ExecStart"):
        systemd_user_unit(DaemonConfig(), bad)


# --- systemd system template ---------------------------------------------------------


def test_system_unit_is_a_per_user_template() -> None:
    text = systemd_system_unit(DaemonConfig(memory_limit_mb=512), EXE, ROOT_NAME)
    lines = unit_lines(text)
    for expected in [
        "Type=notify",
        "User=%I",
        f"ExecStart={EXE} foreground",
        "RuntimeDirectory=sqryd-%I",
        "RuntimeDirectoryMode=0700",
        'Environment="SQRY_DAEMON_SOCKET=%t/sqryd-%I/sqryd.sock"',
        "MemoryMax=512M",
        "WantedBy=multi-user.target",
    ]:
        assert expected in lines, expected
    assert f"systemctl enable --now sqryd@{ROOT_NAME}.service" in text
    assert f"SQRY_DAEMON_SOCKET=/run/sqryd-{ROOT_NAME}/sqryd.sock" in text


def test_system_unit_refuses_a_missing_account() -> None:
    with pytest.raises(ConfigError) as info:
        systemd_system_unit(DaemonConfig(), EXE, "no-such-user-sqry")
    assert info.value.exit_code == 78
    assert "'no-such-user-sqry'" in str(info.value) and "--user NAME" in str(info.value)


@needs_analyze
@pytest.mark.timeout(120)
def test_systemd_accepts_the_system_template(tmp: Path) -> None:
    template = tmp / "sqryd@.service"
    template.write_text(systemd_system_unit(DaemonConfig(), EXE, ROOT_NAME))
    result = verify(tmp / f"sqryd@{ROOT_NAME}.service", user=False, runtime=tmp)
    assert result.returncode == 0, result.stderr
    assert complaints(result, "sqryd@.service") == []
    # Control: a broken template is reported, proving the template was really read.
    template.write_text(template.read_text().replace("Type=notify", "Type=notifyy"))
    bad = verify(tmp / f"sqryd@{ROOT_NAME}.service", user=False, runtime=tmp)
    assert "notifyy" in bad.stderr


@needs_analyze
@pytest.mark.timeout(120)
def test_systemd_runs_an_escaped_account_as_itself(tmp: Path) -> None:
    """``www-data`` is the instance ``www\\x2ddata``: the unit must name the account
    (``%I``), not the escaped text (``%i``), and the printed command must survive
    the shell's backslash removal."""
    try:
        name = pwd.getpwnam("www-data").pw_name
    except KeyError:
        pytest.skip("no account with a character systemd escapes (www-data) on this machine")
    text = systemd_system_unit(DaemonConfig(), EXE, name)
    assert "systemctl enable --now 'sqryd@www\\x2ddata.service'" in text
    assert "SQRY_DAEMON_SOCKET=/run/sqryd-www-data/sqryd.sock" in text
    (tmp / "sqryd@.service").write_text(text)
    result = verify(tmp / "sqryd@www\\x2ddata.service", user=False, runtime=tmp)
    assert result.returncode == 0, result.stderr
    assert complaints(result, "sqryd@.service") == []
    assert "x2ddata" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("name", "escaped"),
    [("alice", "alice"), ("foo-bar", "foo\\x2dbar"), (".x", "\\x2ex"), ("a.b_c", "a.b_c")],
)
def test_unit_instance_name_escaping(name: str, escaped: str) -> None:
    assert unit_instance_name(name) == escaped


# --- launchd ------------------------------------------------------------------------------


def test_launchd_plist_parses_and_has_absolute_paths(tmp: Path) -> None:
    exe = "/Apps/<sqry> & co/bin/sqryd"
    cfg = DaemonConfig(socket_path=str(tmp / "s.sock"))
    text = launchd_plist(cfg, exe)
    data = plistlib.loads(text.encode())
    assert data["Label"] == "dev.sqry.sqryd"
    assert data["ProgramArguments"] == [exe, "foreground"]
    assert data["RunAtLoad"] is True and data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["EnvironmentVariables"]["SQRY_DAEMON_SOCKET"] == str(tmp / "s.sock")
    for key in ("StandardOutPath", "StandardErrorPath"):
        assert os.path.isabs(data[key]) and "~" not in data[key]
    assert "&lt;sqry&gt; &amp; co" in text, "paths are XML-escaped"


def test_launchd_comment_is_well_formed_and_stamped() -> None:
    text = launchd_plist(DaemonConfig(), EXE)
    start = text.index("<!--") + 4
    comment = text[start : text.index("-->", start)]
    assert "--" not in comment, "XML forbids -- inside comments"
    assert f"sqryd {__version__}" in comment and "launchctl bootstrap" in comment
