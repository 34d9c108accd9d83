"""The ``sqry`` entry point: intermixed arguments, per-command parsers, help, usage errors."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_kit import run_sqry

from sqry.cli.main import COMMAND_MODULES, build_parser, command_word

pytestmark = pytest.mark.timeout(120)

# Each read command with an option *between* its positionals, and the same call
# with the positionals first: argparse alone fails the first form with
# "unrecognized arguments: PATH" (the optional PATH is consumed, empty, too early).
INTERMIXED = {
    "graph callers": (
        ["graph", "callers", "helper", "--in", "src/app/core.py", "{ws}"],
        ["graph", "callers", "helper", "{ws}", "--in", "src/app/core.py"],
        ["src/app/core.py:9:9  function  app.core.authenticate"],
    ),
    "graph callees": (
        ["graph", "callees", "app.api.views.index", "--limit", "2", "{ws}"],
        ["graph", "callees", "app.api.views.index", "{ws}", "--limit", "2"],
        [
            "src/app/api/views.py:8:12  function  app.core.authenticate",
            "src/app/api/views.py:12:5  function  app.core.authenticate",
        ],
    ),
    "explain": (
        ["explain", "helper", "--in", "src/app/core.py", "--json", "{ws}"],
        ["explain", "helper", "{ws}", "--in", "src/app/core.py", "--json"],
        None,
    ),
    "search": (
        ["search", "auth", "--kind", "function", "{ws}"],
        ["search", "auth", "{ws}", "--kind", "function"],
        ["src/app/core.py:3:1  function  app.core.authenticate"],
    ),
    "query": (
        ["query", "kind:method", "--csv", "{ws}"],
        ["query", "kind:method", "{ws}", "--csv"],
        None,
    ),
}


@pytest.mark.parametrize("name", sorted(INTERMIXED))
def test_options_between_positionals(name: str, workspace: Path, tmp_path: Path) -> None:
    """Run from outside the workspace so PATH really has to be taken as the workspace."""
    mixed, positionals_first, expected = INTERMIXED[name]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    runs = [
        run_sqry(*(arg.format(ws=workspace) for arg in argv), cwd=outside)
        for argv in (mixed, positionals_first)
    ]
    for done in runs:
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip()
    assert runs[0].stdout == runs[1].stdout
    if expected is not None:
        assert runs[0].stdout.splitlines() == expected


def test_index_takes_its_path_after_options(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("def f():\n    return g()\n\ndef g():\n    return 1\n")
    done = run_sqry("index", "--force", str(root), "--hidden", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("indexed 1 files")
    assert (root / ".sqry" / "index.db").exists()


def test_top_level_help_lists_every_command(tmp_path: Path) -> None:
    done = run_sqry("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("    ")}
    assert listed == set(COMMAND_MODULES)
    assert "manage the sqryd daemon" in done.stdout and "find symbols by name" in done.stdout


def test_no_command_prints_the_full_help_and_exits_2(tmp_path: Path) -> None:
    done = run_sqry(cwd=tmp_path)
    assert done.returncode == 2
    assert "usage: sqry" in done.stderr and "manage the sqryd daemon" in done.stderr


def test_command_help_shows_that_command(tmp_path: Path) -> None:
    done = run_sqry("graph", "callers", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: sqry graph callers ")
    assert "--in FILE" in done.stdout and "SYMBOL" in done.stdout


def test_version_before_a_command(tmp_path: Path) -> None:
    done = run_sqry("--version", "daemon", "status", cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "sqry 0.1.0")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], "sqry: argument COMMAND: invalid choice: 'nope' (choose from 'index', "),
        (["search"], "sqry: the following arguments are required: PATTERN "),
        (["search", "x", "--limit", "many"], "sqry: argument --limit: expected a whole number"),
        (["daemon", "status", "--bogus"], "sqry: unrecognized arguments: --bogus "),
    ],
)
def test_usage_errors_are_one_line_and_name_the_help(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    done = run_sqry(*argv, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(message), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.rstrip().endswith("--help')")


def test_usage_error_points_at_the_subcommand_help(tmp_path: Path) -> None:
    done = run_sqry("graph", "callers", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.endswith("(see 'sqry graph callers --help')\n")


# --- which parser gets built -----------------------------------------------------------


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


def test_command_table_matches_what_the_modules_register() -> None:
    """A command a module registers but the table misses would lose the fast path."""
    assert _commands(build_parser()) == set(COMMAND_MODULES)
    for name in COMMAND_MODULES:
        assert name in _commands(build_parser(name)), name


def test_a_known_command_builds_only_its_module() -> None:
    assert _commands(build_parser("daemon")) == {"daemon"}
    assert _commands(build_parser("index")) == {"index"}
    assert _commands(build_parser("unknown")) == set(COMMAND_MODULES)


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["daemon", "status"], "daemon"),
        (["--version", "search", "x"], "search"),
        (["--help"], None),
        (["--he", "daemon"], None),
        (["-h", "daemon"], None),
        ([], None),
        (["--", "daemon"], None),
    ],
)
def test_command_word(argv: list[str], word: str | None) -> None:
    assert command_word(argv) == word


def test_daemon_status_does_not_import_the_other_commands(tmp_path: Path) -> None:
    """``sqry daemon status`` (daemon down: exit 73) loads neither the engine nor shutil."""
    env = {"XDG_RUNTIME_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    code = (
        "import sys; from sqry.cli.main import main; rc = main(['daemon', 'status']); "
        "print(rc); print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    rc, modules = done.stdout.splitlines()
    assert rc == "73", done.stderr
    assert "daemon is not running" in done.stderr
    loaded = set(modules.split())
    unwanted = {"sqry.cli.graph_cmds", "sqry.cli.index_cmd", "sqry.cli.output", "sqry.graph"}
    unwanted |= {"shutil", "locale", "dataclasses", "typing", "pathlib", "socket", "sqlite3"}
    assert not unwanted & loaded
