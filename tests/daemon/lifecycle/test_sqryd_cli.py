"""The ``sqryd`` command line: flags, one-line errors, exit codes, printers (§3)."""

from __future__ import annotations

import os
import pwd
import sys
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import SQRY, SQRYD, SqrydEnv, pid_alive, processes_mentioning, read_pidfile
from sqry import __version__


def one_line_error(done, code: int) -> str:
    """Assert the process failed with ``code`` and exactly one ``sqryd: ...`` line."""
    assert done.returncode == code, (done.returncode, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("sqryd: ")
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.mark.timeout(30)
def test_version_and_help(sqryd_env: SqrydEnv) -> None:
    version = sqryd_env.run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"sqryd {__version__}"
    helped = sqryd_env.run("--help")
    assert helped.returncode == 0
    for command in ("start", "foreground", "stop", "status", "print-config", "install-launchd"):
        assert command in helped.stdout
    assert "--spawned-by-client" not in sqryd_env.run("start", "--help").stdout


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus"],
        ["frobnicate"],
        ["stop", "--timeout-secs", "soon"],
        ["stop", "--timeout-secs", "-1"],
        ["stop", "--timeout-secs", "0"],
        ["stop", "--timeout-secs", "inf"],
        ["stop", "--timeout-secs", "nan"],
        ["stop", "--timeout-secs", "1e10"],
        ["stop", "--timeout-secs", "86400.5"],
        ["stop", "--timeout-secs", "1_0"],
        ["stop", "--timeout-secs", "\u0665"],
        ["stop", "--timeout-secs", " 5"],
        ["--log-level", "bogus", "status"],
        ["status", "--log-level", ""],
        ["start", "--log-level", "verbose"],
        ["start", "--print-pid"],
        ["start", "--spawned-by-client"],
        ["install-systemd-system"],
    ],
)
def test_usage_errors_exit_2_with_one_line(sqryd_env: SqrydEnv, argv: list[str]) -> None:
    line = one_line_error(sqryd_env.run(*argv), 2)
    assert "sqryd --help" in line
    assert not sqryd_env.runtime.exists(), "a usage error creates nothing"


@pytest.mark.timeout(30)
def test_bad_numeric_flag_names_the_option_and_the_range(sqryd_env: SqrydEnv) -> None:
    line = one_line_error(sqryd_env.run("stop", "--timeout-secs", "inf"), 2)
    assert (
        "--timeout-secs" in line and "greater than 0 and at most 86400" in line and "'inf'" in line
    )


@pytest.mark.timeout(30)
def test_bad_log_level_flag_names_the_choices(sqryd_env: SqrydEnv) -> None:
    line = one_line_error(sqryd_env.run("--log-level", "bogus", "status"), 2)
    assert "--log-level" in line and "'bogus'" in line and "trace, debug, info, warn, error" in line


@pytest.mark.timeout(30)
def test_bad_log_level_from_the_environment_stays_a_config_error(sqryd_env: SqrydEnv) -> None:
    env = sqryd_env.with_env(SQRY_DAEMON_LOG_LEVEL="bogus")
    line = one_line_error(sqryd_env.run("status", env=env), 78)
    assert "SQRY_DAEMON_LOG_LEVEL" in line


@pytest.mark.timeout(30)
def test_missing_explicit_config_is_78(sqryd_env: SqrydEnv) -> None:
    missing = sqryd_env.dir / "nope.toml"
    for argv in (["--config", str(missing), "status"], ["status", "--config", str(missing)]):
        line = one_line_error(sqryd_env.run(*argv), 78)
        assert str(missing) in line


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("memory_limit_mb = 0\n", "memory_limit_mb"),
        ("unknown_key = 1\n", "unknown_key"),
        ("[socket\n", "not valid TOML"),
    ],
)
def test_bad_config_is_78_naming_the_problem(sqryd_env: SqrydEnv, text: str, named: str) -> None:
    cfg = sqryd_env.dir / "daemon.toml"
    cfg.write_text(text)
    for verb in ("start", "status", "print-config"):
        line = one_line_error(sqryd_env.run("--config", str(cfg), verb), 78)
        assert named in line
    assert not processes_mentioning(str(sqryd_env.dir))


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("socket", "named"), [("/tmp/" + "x" * 120, "125 bytes"), ("/tmp/s.pid", "the .pid file")]
)
def test_a_socket_start_would_refuse_is_78_for_print_config_and_units_too(
    sqryd_env: SqrydEnv, socket: str, named: str
) -> None:
    """Printing a config (or a unit running one) that ``start`` refuses defers the error."""
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=socket)
    for verb in ("print-config", "install-systemd-user", "install-launchd"):
        line = one_line_error(sqryd_env.run(verb, env=env), 78)
        assert named in line, (verb, line)


@pytest.mark.timeout(30)
def test_bad_env_value_is_78_naming_the_variable(sqryd_env: SqrydEnv) -> None:
    env = sqryd_env.with_env(SQRY_DAEMON_MEMORY_MB="lots")
    line = one_line_error(sqryd_env.run("start", env=env), 78)
    assert "SQRY_DAEMON_MEMORY_MB" in line


@pytest.mark.timeout(30)
def test_print_config_round_trips_through_config(sqryd_env: SqrydEnv) -> None:
    src = sqryd_env.dir / "in.toml"
    src.write_text(
        'memory_limit_mb = 512\nlog_level = "debug"\nidle_shutdown_minutes = 7\n'
        f'[socket]\npath = "{sqryd_env.dir}/s.sock"\n'
        f'[[workspaces]]\npath = "{sqryd_env.dir}"\npinned = true\n'
    )
    first = sqryd_env.run("--config", str(src), "print-config")
    assert first.returncode == 0, first.stderr
    parsed = tomllib.loads(first.stdout)
    assert parsed["memory_limit_mb"] == 512 and parsed["idle_shutdown_minutes"] == 7
    assert parsed["socket"]["path"] == f"{sqryd_env.dir}/s.sock"
    out = sqryd_env.dir / "out.toml"
    out.write_text(first.stdout)
    second = sqryd_env.run("print-config", "--config", str(out))
    assert second.returncode == 0, second.stderr
    assert tomllib.loads(second.stdout) == parsed


@pytest.mark.timeout(30)
def test_log_level_flag_beats_env_and_file(sqryd_env: SqrydEnv) -> None:
    env = sqryd_env.with_env(SQRY_DAEMON_LOG_LEVEL="error")
    done = sqryd_env.run("--log-level", "debug", "print-config", env=env)
    assert tomllib.loads(done.stdout)["log_level"] == "debug"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["install-systemd-user"], "Type=notify"),
        (["install-systemd-system", "--user", "root"], "User=%I"),
        (["install-launchd"], "<plist"),
    ],
)
def test_unit_printers_print_text_naming_the_sqryd_executable(
    sqryd_env: SqrydEnv, argv: list[str], needle: str
) -> None:
    done = sqryd_env.run(*argv)
    assert done.returncode == 0, done.stderr
    assert needle in done.stdout
    assert "foreground" in done.stdout
    assert os.path.join(os.path.dirname(sys.executable), "sqryd") in done.stdout
    assert not sqryd_env.runtime.exists(), "printing a unit writes no files"


@pytest.mark.timeout(30)
def test_systemd_system_unit_needs_a_real_account(sqryd_env: SqrydEnv) -> None:
    done = sqryd_env.run("install-systemd-system", "--user", "no-such-user-sqry")
    line = one_line_error(done, 78)
    assert "no-such-user-sqry" in line


@pytest.mark.timeout(30)
def test_runtime_dir_owned_by_someone_else_is_77(sqryd_env: SqrydEnv) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to chown a directory to another user")
    nobody = pwd.getpwnam("nobody")
    sqryd_env.runtime.mkdir(mode=0o700)
    os.chown(sqryd_env.runtime, nobody.pw_uid, nobody.pw_gid)
    for argv in (["start"], ["start", "--detach"]):
        line = one_line_error(sqryd_env.run(*argv), 77)
        assert str(sqryd_env.runtime) in line and "owned by uid" in line
    assert list(sqryd_env.runtime.iterdir()) == []


@pytest.mark.timeout(60)
def test_custom_socket_in_a_readable_home_leaves_its_mode_alone(sqryd_env: SqrydEnv) -> None:
    """SQRY_DAEMON_SOCKET=$HOME/sqryd.sock must not chmod $HOME to 0700."""
    home = sqryd_env.dir / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(home / "sqryd.sock"))
    done = sqryd_env.run("start", "--detach", "--print-pid", env=env)
    assert done.returncode == 0, done.stderr
    sqryd_env.track(int(done.stdout))
    assert os.stat(home).st_mode & 0o7777 == 0o755
    assert os.stat(home / "sqryd.sock").st_mode & 0o777 == 0o600
    assert sqryd_env.run("stop", env=env).returncode == 0


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", [["start"], ["start", "--detach"]])
def test_custom_socket_in_a_world_writable_dir_is_77(
    sqryd_env: SqrydEnv, command: list[str]
) -> None:
    shared = sqryd_env.dir / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    env = sqryd_env.with_env(SQRY_DAEMON_SOCKET=str(shared / "sqryd.sock"))
    line = one_line_error(sqryd_env.run(*command, env=env), 77)
    assert str(shared) in line and "world-writable" in line and f"chmod go-w {shared}" in line
    assert os.stat(shared).st_mode & 0o7777 == 0o777
    assert list(shared.iterdir()) == []


# -- bugs and broken stdout: one line, a table exit code, never a traceback --------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """In-process runs of ``main``: no user config, no daemon variables from the shell."""
    for name in list(os.environ):
        if name.startswith(("SQRY_DAEMON_", "SQRYD_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))


def _boom(*_args, **_kwargs):
    raise RuntimeError("boom\nsecond line")


@pytest.mark.usefixtures("clean_env")
def test_unexpected_exception_is_one_internal_error_line_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Once: no catch-all in ``cli.main``, so any bug was a traceback and exit 1."""
    from sqry.daemon.lifecycle import cli, config

    monkeypatch.setattr(config, "to_toml", _boom)
    assert cli.main(["print-config"]) == 70
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "sqryd: internal error: RuntimeError: boom second line (please report)\n"


@pytest.mark.usefixtures("clean_env")
def test_internal_error_traceback_goes_to_the_log_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    from sqry.daemon.lifecycle import cli, config

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("sqry")
    logger.addHandler(handler)
    monkeypatch.setattr(config, "to_toml", _boom)
    try:
        assert cli.main(["print-config"]) == 70
    finally:
        logger.removeHandler(handler)
    assert capsys.readouterr().err.endswith("(please report; details in the log)\n")
    assert [r.exc_info[0] for r in records if r.exc_info] == [RuntimeError]


def _run_with_stdout(env: SqrydEnv, stdout, *argv: str, cmd=None):
    proc = env.spawn(*argv, stdout=stdout, **({"cmd": cmd} if cmd else {}))
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "argv", [["print-config"], ["install-launchd"], ["--help"], ["--version"]], ids=" ".join
)
def test_full_stdout_is_one_line_73(sqryd_env: SqrydEnv, argv: list[str]) -> None:
    """Once: a traceback and exit 1 for ``> /dev/full``."""
    with open("/dev/full", "w") as full:
        code, err = _run_with_stdout(sqryd_env, full, *argv)
    assert (code, err) == (73, "sqryd: cannot write to standard output: No space left on device\n")


@pytest.mark.timeout(60)
def test_closed_stdout_is_one_line_73(sqryd_env: SqrydEnv) -> None:
    """Once: AttributeError ('NoneType' has no attribute 'write') for ``>&-``."""
    closing = ["sh", "-c", 'exec "$@" >&-', "sh", *SQRYD]
    code, err = _run_with_stdout(sqryd_env, None, "print-config", cmd=closing)
    assert (code, err) == (73, "sqryd: cannot write to standard output: it is closed\n")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cmd", ["sqryd", "sqry"])
def test_status_to_full_stdout_is_one_line_73(live_daemon, cmd: str) -> None:
    prefix, runner = ([], {}) if cmd == "sqryd" else (["daemon"], {"cmd": SQRY})
    with open("/dev/full", "w") as full:
        code, err = _run_with_stdout(live_daemon.env, full, *prefix, "status", **runner)
    assert (code, err) == (73, f"{cmd}: cannot write to standard output: No space left on device\n")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("argv", [["print-config"], ["--help"]], ids=" ".join)
def test_closed_pipe_stays_quiet(sqryd_env: SqrydEnv, argv: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        code, err = _run_with_stdout(sqryd_env, write_end, *argv)
    finally:
        os.close(write_end)
    assert (code, err) == (0, "")


@pytest.mark.timeout(60)
def test_print_pid_to_full_stdout_says_the_daemon_runs(sqryd_env: SqrydEnv) -> None:
    """Once: a traceback at print(pid), exit 1, and no word that the daemon was running."""
    with open("/dev/full", "w") as full:
        code, err = _run_with_stdout(sqryd_env, full, "start", "--detach", "--print-pid")
    pid = read_pidfile(sqryd_env.pidfile)
    assert pid is not None and pid_alive(pid)
    sqryd_env.track(pid)
    assert code == 73, err
    assert err == (
        f"sqryd: daemon is running with pid {pid}, but cannot write to standard output: "
        "No space left on device\n"
    )


@pytest.mark.timeout(30)
@pytest.mark.parametrize("cmd", ["sqryd", "sqry"])
def test_empty_config_flag_is_78_not_the_default_file(sqryd_env: SqrydEnv, cmd: str) -> None:
    """Once: ``--config ""`` silently loaded the default file."""
    default = sqryd_env.dir / "config" / "sqry" / "daemon.toml"
    default.parent.mkdir(parents=True)
    default.write_text("memory_limit_mb = 512\n")
    argv = (
        ["print-config", "--config", ""] if cmd == "sqryd" else ["daemon", "status", "--config", ""]
    )
    done = sqryd_env.run(*argv, **({} if cmd == "sqryd" else {"cmd": SQRY}))
    assert done.returncode == 78, done.stderr
    assert done.stderr == f"{cmd}: --config needs a file path, got an empty string\n"


_LONGOPTS = ["config=", "detach", "debug", "timeout-secs=", "force", "help", "version"]
_TOKENS = st.sampled_from(
    [
        "start", "stop", "x", "-", "--", "-h", "-hh", "-x", "-h:", "--config", "--config=a.toml",
        "--conf", "--conf=b", "--de", "--det", "--detach", "--detach=1", "--d", "--timeout-secs",
        "--timeout-secs=5", "--t", "--force", "--help", "--version", "--nope", "--", "5", "",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(argv=st.lists(_TOKENS, max_size=6), posix=st.booleans())
def test_gnu_getopt_follows_the_standard_librarys_rules(argv: list[str], posix: bool) -> None:
    """Same options, positionals and error wording as ``getopt.gnu_getopt``."""
    import getopt

    from sqry.daemon.lifecycle.cli import gnu_getopt

    saved = os.environ.pop("POSIXLY_CORRECT", None)
    if posix:
        os.environ["POSIXLY_CORRECT"] = "1"
    try:
        try:
            expected: object = getopt.gnu_getopt(argv, "h", _LONGOPTS)
        except getopt.GetoptError as err:
            expected = str(err)
        try:
            got: object = gnu_getopt(argv, "h", _LONGOPTS)
        except ValueError as err:
            got = str(err)
    finally:
        os.environ.pop("POSIXLY_CORRECT", None)
        if saved is not None:
            os.environ["POSIXLY_CORRECT"] = saved
    assert got == expected
