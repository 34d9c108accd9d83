"""The ``sqry`` entry point: intermixed arguments, per-command parsers, help, usage errors."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_kit import AS_NOBODY, IndexBuilder, run_sqry, unprivileged

from sqry.cli.main import COMMAND_MODULES, build_parser, command_word

pytestmark = pytest.mark.timeout(120)

# Each read command with an option *between* its positionals, and the same call
# with the positionals first: argparse alone fails the first form with
# "unrecognized arguments: PATH" (the optional PATH is consumed, empty, too early).
INTERMIXED = {
    "graph callers": (
        ["graph", "callers", "helper", "--in", "src/app/core.py", "{ws}"],
        ["graph", "callers", "helper", "{ws}", "--in", "src/app/core.py"],
        ["{ws}/src/app/core.py:9:9  function  app.core.authenticate"],
    ),
    "graph callees": (
        ["graph", "callees", "app.api.views.index", "--limit", "2", "{ws}"],
        ["graph", "callees", "app.api.views.index", "{ws}", "--limit", "2"],
        [
            "{ws}/src/app/api/views.py:8:12  function  app.core.authenticate",
            "{ws}/src/app/api/views.py:12:5  function  app.core.authenticate",
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
        ["{ws}/src/app/core.py:3:1  function  app.core.authenticate"],
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
        assert runs[0].stdout.splitlines() == [line.format(ws=workspace) for line in expected]


def test_index_takes_its_path_after_options(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("def f():\n    return g()\n\ndef g():\n    return 1\n")
    done = run_sqry("index", "--force", str(root), "--hidden", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("indexed 1 file (1 changed)")
    assert (root / ".sqry" / "index.db").exists()


def test_index_summary_counts_changed_and_deleted_files(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    for name in ("a", "b", "c"):
        (root / f"{name}.py").write_text(f"def {name}():\n    pass\n")
    assert run_sqry("index", str(root), cwd=tmp_path).stdout.startswith(
        "indexed 3 files (3 changed), 6 symbols"
    )
    (root / "b.py").unlink()
    (root / "c.py").write_text("def c():\n    return 1\n")
    again = run_sqry("index", str(root), cwd=tmp_path)
    assert again.stdout.startswith("indexed 2 files (1 changed, 1 deleted), 4 symbols")


def test_bare_index_in_a_subdirectory_updates_the_enclosing_index(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("def a():\n    pass\n")
    assert run_sqry("index", cwd=root).returncode == 0
    (root / "pkg" / "b.py").write_text("def b():\n    a()\n")
    done = run_sqry("index", cwd=root / "pkg")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("indexed 2 files (1 changed)")
    assert done.stderr == (
        f"sqry: updating the index of {root}, the nearest one above the current "
        "directory ('sqry index .' would build a separate one here)\n"
    )
    assert not (root / "pkg" / ".sqry").exists()
    assert run_sqry("search", "--exact", "b", cwd=root).stdout.startswith("pkg/b.py:1:1")
    separate = run_sqry("index", ".", cwd=root / "pkg")  # an explicit PATH is the root
    assert (separate.returncode, separate.stderr) == (0, "")
    assert (root / "pkg" / ".sqry" / "index.db").is_file()


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
        (
            ["search", "x", "--fuzzy", "--limit", str(2**63)],
            f"sqry: argument --limit: expected a whole number from 0 (no limit) to {2**63 - 1}, "
            f"got '{2**63}'",
        ),
        (
            ["query", "kind:function", "--limit", str(2**64)],
            f"sqry: argument --limit: expected a whole number from 0 (no limit) to {2**63 - 1}",
        ),
        (
            ["graph", "callers", "f", "--limit", str(2**63)],
            "sqry: argument --limit: expected a whole number from 0",
        ),
        (["search", "x", "-k", ""], "sqry: argument -k/--kind: expected a kind, got an empty "),
        (["search", "x", "--lang="], "sqry: argument -l/--lang: expected a language, got an "),
        (["daemon", "status", "--bogus"], "sqry: unrecognized arguments: --bogus "),
        (["daemon"], "sqry: daemon needs an action: start, stop or status "),
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
    for argv, help_of in (
        (("search", "x", "a", "b"), "sqry search"),
        (("graph", "callers", "x", "a", "b"), "sqry graph callers"),
        (("daemon", "status", "extra"), "sqry daemon status"),
        (("--bogus",), "sqry"),
    ):
        done = run_sqry(*argv, cwd=tmp_path)
        assert done.returncode == 2, argv
        assert done.stderr.startswith("sqry: unrecognized arguments: "), done.stderr
        assert done.stderr.endswith(f"(see '{help_of} --help')\n"), done.stderr


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


# --- failures that must never be a traceback ---------------------------------------------

READ_COMMANDS = {
    "search": ["search", "helper"],
    "query": ["query", "kind:function"],
    "graph callers": ["graph", "callers", "authenticate"],
    "explain": ["explain", "authenticate"],
}


def assert_one_line(done: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
    """``done`` failed with ``code`` and one ``sqry: ...`` line holding every part."""
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("sqry: ") and done.stderr.count("\n") == 1, done.stderr
    for part in parts:
        assert part in done.stderr, done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["query", "kind:function", "--limit", "0"],
        ["search", "helper", "--json"],
        ["explain", "authenticate"],
        ["--help"],
        ["--version"],
        ["graph", "callers", "--help"],
    ],
)
def test_a_full_disk_on_stdout_is_one_line_and_exit_73(argv: list[str], workspace: Path) -> None:
    with open("/dev/full", "w") as full:
        done = run_sqry(*argv, cwd=workspace, stdout=full)
    assert_one_line(done, 73, "sqry: cannot write to standard output: No space left on device")


def test_index_summary_on_a_full_disk_is_one_line_and_exit_73(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    with open("/dev/full", "w") as full:
        done = run_sqry("index", cwd=tmp_path, stdout=full)
    assert_one_line(done, 73, "cannot write to standard output")
    assert (tmp_path / ".sqry" / "index.db").is_file()  # the build itself completed


def _run_main_with_a_bug(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``sqry search helper`` with the search engine replaced by one that raises."""
    code = (
        "import sys, sqry.graph.query.search as search\n"
        "def broken(*args, **kwargs):\n"
        "    raise KeyError('a bug')\n"
        "search.search_symbols = broken\n"
        "from sqry.cli.main import main\n"
        "sys.exit(main(['search', 'helper']))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_unexpected_exception_is_one_line_and_exit_70(workspace: Path) -> None:
    done = _run_main_with_a_bug(workspace, {"SQRY_DEBUG": ""})
    assert_one_line(done, 70, "sqry: internal error: KeyError: 'a bug' (please report)")
    debug = _run_main_with_a_bug(workspace, {"SQRY_DEBUG": "1"})
    assert debug.returncode == 70
    assert "Traceback" in debug.stderr and "in broken\nKeyError: 'a bug'" in debug.stderr


@pytest.mark.parametrize("name", [*sorted(READ_COMMANDS), "index"])
def test_a_deleted_current_directory_is_named(name: str, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    in_deleted_dir = ["sh", "-c", 'cd "$1" && rmdir "$1" && shift && exec "$@"', "sh", str(gone)]
    argv = READ_COMMANDS.get(name, [name])
    done = run_sqry(*argv, cwd=tmp_path, prefix=in_deleted_dir)
    assert_one_line(done, 2, "'.': the current directory no longer exists; cd to an existing")


@pytest.mark.parametrize("name", sorted(READ_COMMANDS))
def test_a_path_with_a_too_long_name_is_a_usage_error(name: str, workspace: Path) -> None:
    done = run_sqry(*READ_COMMANDS[name], "a" * 300, cwd=workspace)
    assert_one_line(done, 2, f"cannot use '{'a' * 300}': a name in it is longer than")


def test_index_of_a_too_long_name_says_so(tmp_path: Path) -> None:
    done = run_sqry("index", "a" * 300, cwd=tmp_path)
    assert_one_line(done, 2, "cannot index 'aaa", "a name in it is longer than the file system")


def test_in_file_with_a_too_long_name_matches_nothing(workspace: Path) -> None:
    done = run_sqry("graph", "callers", "helper", "--in", "b" * 300, cwd=workspace)
    assert_one_line(done, 1, f"--in {'b' * 300}: no indexed file in the index at")


@pytest.mark.skipif(not unprivileged(), reason="needs a user that permissions restrict")
@pytest.mark.parametrize("name", sorted(READ_COMMANDS))
def test_a_path_that_cannot_be_entered_is_named(name: str, shared_workspace: Path) -> None:
    locked = shared_workspace / "locked"
    (locked / "sub").mkdir(parents=True)
    locked.chmod(0o700)
    if AS_NOBODY:
        os.chown(locked, 0, 0)
    else:
        locked.chmod(0o000)
    done = run_sqry(*READ_COMMANDS[name], str(locked / "sub"), cwd="/", prefix=AS_NOBODY)
    assert_one_line(done, 2, f"cannot use '{locked / 'sub'}': permission denied")


@pytest.mark.skipif(not unprivileged(), reason="needs a user that permissions restrict")
def test_an_index_directory_that_cannot_be_entered_is_named(shared_workspace: Path) -> None:
    """The workspace is readable, its .sqry is not: not "no index" (the index is there)."""
    (shared_workspace / ".sqry").chmod(0o700 if AS_NOBODY else 0o000)
    done = run_sqry("search", "helper", cwd=shared_workspace, prefix=AS_NOBODY)
    index = shared_workspace / ".sqry" / "index.db"
    assert_one_line(done, 3, f"{index} cannot be checked (Permission denied): check the")


def _dash_index(root: Path) -> None:
    """An index with symbols whose names start with ``-`` (JS allows ``$``, not ``-``;
    hand-built, as a pattern or symbol argument starting with ``-`` is the point)."""
    b = IndexBuilder(root)
    b.symbol("m", "module", "m.py", (1, 9))
    b.symbol("m.-x", "function", "m.py", (2, 3), parent="m", name="-x")
    b.symbol("m.caller", "function", "m.py", (4, 6), parent="m")
    b.edge("calls", "m.caller", "m.-x", "-x", 5, 4)
    b.write()


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        (["search", "--", "-x"], 0, "m.py:2:1  function  m.-x\n"),
        (["search", "--", "-x", "."], 0, "m.py:2:1  function  m.-x\n"),
        (["search", "--exact", "--", "-x", "."], 0, "m.py:2:1  function  m.-x\n"),
        (["search", "--limit", "1", "--", "-x"], 0, "m.py:2:1  function  m.-x\n"),
        (["graph", "callers", "--", "-x"], 0, "m.py:5:5  function  m.caller\n"),
        (
            ["graph", "callers", "--in", "m.py", "--", "-x", "."],
            0,
            "m.py:5:5  function  m.caller\n",
        ),
        (["query", "--", "-x", "."], 0, "m.py:2:1  function  m.-x\n"),  # a bare name
        # before the --, -x is still an option
        (["search", "-x", "--exact", "--", "."], 2, "sqry: unrecognized arguments: -x "),
    ],
)
def test_double_dash_ends_the_options(
    argv: list[str], code: int, expected: str, tmp_path: Path
) -> None:
    _dash_index(tmp_path)
    done = run_sqry(*argv, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    if code == 0:
        assert done.stdout == expected
    else:
        assert done.stderr.startswith(expected), done.stderr


def test_double_dash_in_explain(tmp_path: Path) -> None:
    _dash_index(tmp_path)
    done = run_sqry("explain", "--json", "--", "-x", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["symbol"]["qualified_name"] == "m.-x"


def _placement_index(root: Path) -> None:
    """An index whose one file sits in a directory named ``-x``, with a function ``neg``
    and a function ``-x``, both called by ``caller``: a PATH or a name that looks like
    an option, for every placement of ``--``."""
    b = IndexBuilder(root)
    b.symbol("m", "module", "-x/m.py", (1, 9))
    b.symbol("m.neg", "function", "-x/m.py", (2, 3), parent="m")
    b.symbol("m.-x", "function", "-x/m.py", (4, 5), parent="m", name="-x")
    b.symbol("m.caller", "function", "-x/m.py", (6, 9), parent="m")
    b.edge("calls", "m.caller", "m.neg", "neg", 7, 4)
    b.edge("calls", "m.caller", "m.-x", "-x", 8, 4)
    b.write()
    (root / "-x").mkdir()


# command: (its words, a plain name, a name starting with '-', what each one answers)
SEPARATED_COMMANDS = {
    "search": (["search"], "neg", "-x", "-x/m.py:2:1  function  m.neg", "-x/m.py:4:1  function  m.-x"),
    "query": (["query"], "name:neg", "-x", "-x/m.py:2:1  function  m.neg", "-x/m.py:4:1  function  m.-x"),
    "explain": (
        ["explain"], "neg", "-x", "function m.neg  (python, public)",
        "function m.-x  (python, public)",
    ),
    "graph callers": (
        ["graph", "callers"], "neg", "-x", "-x/m.py:7:5  function  m.caller",
        "-x/m.py:8:5  function  m.caller",
    ),
}  # fmt: skip

# where '--' goes ({p} a plain name, {d} a name starting with '-') and which name answers
SEPARATOR_PLACEMENTS = {
    "-- PAT": (["--", "{d}"], "d"),
    "-- PAT PATH": (["--", "{d}", "."], "d"),
    "-- PAT PATH(-x)": (["--", "{d}", "-x"], "d"),
    "PAT -- PATH": (["{p}", "--", "."], "p"),
    "PAT -- PATH(-x)": (["{p}", "--", "-x"], "p"),
    "--opt v PAT -- PATH": (["--limit", "5", "{p}", "--", "."], "p"),
    "PAT --opt v -- PATH(-x)": (["{p}", "--limit", "5", "--", "-x"], "p"),
    "PAT PATH --": (["{p}", ".", "--"], "p"),
    "PAT --": (["{p}", "--"], "p"),
}


@pytest.mark.parametrize("placement", SEPARATOR_PLACEMENTS)
@pytest.mark.parametrize("command", SEPARATED_COMMANDS)
def test_double_dash_anywhere_ends_the_options(
    command: str, placement: str, tmp_path: Path
) -> None:
    """What follows ``--`` is positional wherever ``--`` stands, also after a positional
    (``sqry search neg -- .``); a PATH named ``-x`` after it is that directory."""
    _placement_index(tmp_path)
    words, plain, dash, plain_answer, dash_answer = SEPARATED_COMMANDS[command]
    pattern, which = SEPARATOR_PLACEMENTS[placement]
    argv = [w.format(p=plain, d=dash) for w in pattern]
    done = run_sqry(*words, *argv, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = plain_answer if which == "p" else dash_answer
    if command == "explain":
        assert done.stdout.splitlines()[0] == expected, done.stdout
    else:
        assert done.stdout == expected + "\n"


@pytest.mark.parametrize("command", SEPARATED_COMMANDS)
def test_double_dash_then_an_option_name_is_the_path(command: str, tmp_path: Path) -> None:
    """``sqry search neg -- --limit``: ``--limit`` is the PATH (missing here), not an option."""
    _placement_index(tmp_path)
    words, plain = SEPARATED_COMMANDS[command][:2]
    done = run_sqry(*words, plain, "--", "--limit", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == "sqry: no such file or directory: --limit\n"


@pytest.mark.parametrize("command", SEPARATED_COMMANDS)
def test_double_dash_alone_still_needs_the_positional(command: str, tmp_path: Path) -> None:
    _placement_index(tmp_path)
    words = SEPARATED_COMMANDS[command][0]
    done = run_sqry(*words, "--", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("sqry: the following arguments are required: "), done.stderr


@pytest.mark.parametrize("command", SEPARATED_COMMANDS)
def test_a_second_path_after_double_dash_is_refused(command: str, tmp_path: Path) -> None:
    _placement_index(tmp_path)
    words, plain = SEPARATED_COMMANDS[command][:2]
    done = run_sqry(*words, plain, "--", ".", "extra", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("sqry: unrecognized arguments: extra "), done.stderr


CLOSED_STDERR = ("sh", "-c", 'exec "$0" "$@" 2>&-')


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["search", ".", "--limit", "1"], 0),  # truncated: the note has nowhere to go
        (["search", "("], 2),
        (["graph", "callers", "nosuch"], 1),
        (["index", "does/not/exist"], 2),
    ],
)
def test_a_closed_stderr_keeps_the_exit_code(argv: list[str], code: int, workspace: Path) -> None:
    """With nobody to tell (stderr closed), a message is dropped, never turned
    into another exit code."""
    done = run_sqry(*argv, cwd=workspace, prefix=CLOSED_STDERR)
    assert done.returncode == code, done
