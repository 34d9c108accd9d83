"""``sqry search``: modes, filters, limits, scoping, and its exit codes."""

from __future__ import annotations

import json

import pytest
from cli_kit import IndexBuilder, run_sqry

pytestmark = pytest.mark.timeout(120)


def names(stdout: str) -> list[str]:
    return [line.split()[-1] for line in stdout.splitlines()]


def test_regex_is_searched_anywhere_in_the_name(workspace):
    done = run_sqry("search", "elp", cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "src/app/api/views.py:22:1  function  app.api.views.helper",
        "src/app/core.py:14:1  function  app.core.helper",
    ]
    assert done.stderr == ""


def test_regex_anchors_and_case(workspace):
    assert names(run_sqry("search", "^s", cwd=workspace).stdout) == []
    assert names(run_sqry("search", "^s", "-i", cwd=workspace).stdout) == ["app.core.Session"]


def test_exact_matches_name_or_qualified_name(workspace):
    assert names(run_sqry("search", "--exact", "helper", cwd=workspace).stdout) == [
        "app.api.views.helper",
        "app.core.helper",
    ]
    assert names(run_sqry("search", "--exact", "app.core.helper", cwd=workspace).stdout) == [
        "app.core.helper"
    ]
    assert names(run_sqry("search", "--exact", "elp", cwd=workspace).stdout) == []
    assert names(run_sqry("search", "--exact", "-i", "SESSION", cwd=workspace).stdout) == [
        "app.core.Session"
    ]


def test_fuzzy_ranks_and_reports_scores(workspace):
    done = run_sqry("search", "--fuzzy", "athn", "--json", cwd=workspace)
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)["items"]
    assert [i["qualified_name"] for i in items] == ["app.core.authenticate"]
    assert 0 < items[0]["score"] < 1
    ranked = json.loads(run_sqry("search", "--fuzzy", "hlp", "--json", cwd=workspace).stdout)
    scores = [i["score"] for i in ranked["items"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 2


def test_kind_and_lang_filters(workspace):
    assert names(run_sqry("search", ".", "-k", "method", cwd=workspace).stdout) == [
        "app.core.Session.login"
    ]
    assert names(
        run_sqry("search", ".", "--lang", "go", "--kind", "function", cwd=workspace).stdout
    ) == ["tools.run::Main"]


def test_a_language_the_index_lacks_is_named(workspace):
    done = run_sqry("search", ".", "-l", "Rust", cwd=workspace)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"sqry: no 'Rust' files in the index at {workspace} (it holds: go, python)\n"
    )


@pytest.mark.parametrize("lang", ["cobol", "pyhton"])
def test_an_unknown_language_is_a_usage_error_listing_the_known_ones(workspace, lang):
    done = run_sqry("search", ".", "-l", lang, cwd=workspace)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"sqry: unknown language '{lang}' for --lang; expected one of "
        "c, cpp, go, java, javascript, python, rust, typescript\n"
    )


def test_unknown_kind_is_a_usage_error(workspace):
    done = run_sqry("search", ".", "-k", "funtion", cwd=workspace)
    assert done.returncode == 2
    assert done.stderr.startswith("sqry: unknown kind 'funtion' for --kind; expected one of ")
    assert "Traceback" not in done.stderr


def test_invalid_regex_exits_2_with_the_position(workspace):
    done = run_sqry("search", "get_(user", cwd=workspace)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "sqry: pattern error at column 5: invalid regex: missing ), unterminated subpattern",
        "  get_(user",
        "      ^",
    ]


def test_no_results_exit_1(workspace):
    done = run_sqry("search", "nothing_like_this", cwd=workspace)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "")


def test_limit_truncates_and_says_so_on_stderr(workspace):
    done = run_sqry("search", ".", "--limit", "3", cwd=workspace)
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr == ("sqry: showing 3 of 10 results; use --limit N (0 for all) to see more\n")
    document = json.loads(run_sqry("search", ".", "--limit", "3", "--json", cwd=workspace).stdout)
    assert (len(document["items"]), document["total"], document["truncated"]) == (3, 10, True)
    everything = run_sqry("search", ".", "--limit", "0", cwd=workspace)
    assert len(everything.stdout.splitlines()) == 10 and everything.stderr == ""


def test_bad_limit_is_a_usage_error(workspace):
    done = run_sqry("search", ".", "--limit", "-3", cwd=workspace)
    assert done.returncode == 2
    assert (
        "expected a whole number from 0 (no limit) to 9223372036854775807, got '-3'" in done.stderr
    )


def test_path_scopes_results_and_finds_the_index_upwards(workspace):
    scoped = run_sqry("search", "helper", "src/app/api", cwd=workspace)
    assert names(scoped.stdout) == ["app.api.views.helper"]
    from_subdir = run_sqry("search", "helper", cwd=workspace / "src" / "app" / "api")
    assert names(from_subdir.stdout) == names(scoped.stdout)
    assert from_subdir.stdout.startswith("views.py:")  # paths as seen from there
    explicit = run_sqry("search", "helper", str(workspace), cwd=workspace / "tools")
    assert names(explicit.stdout) == ["app.api.views.helper", "app.core.helper"]


def test_no_index_exits_3_with_the_command_to_create_one(tmp_path):
    done = run_sqry("search", "x", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr == f"sqry: no index at {tmp_path}: run 'sqry index {tmp_path}'\n"


def test_missing_path_is_a_usage_error(workspace):
    done = run_sqry("search", "x", "no/such/dir", cwd=workspace)
    assert (done.returncode, done.stderr) == (2, "sqry: no such file or directory: no/such/dir\n")


def test_incompatible_index_exits_3_and_says_to_force_a_rebuild(tmp_path):
    builder = IndexBuilder(tmp_path, schema_version="999")
    builder.symbol("m", "module", "m.py", (1, 1))
    builder.write()
    done = run_sqry("search", "m", cwd=tmp_path)
    assert done.returncode == 3
    assert "sqry index --force" in done.stderr and "999" in done.stderr
    assert "Traceback" not in done.stderr


def test_corrupt_index_exits_3_without_a_traceback(tmp_path):
    (tmp_path / ".sqry").mkdir()
    (tmp_path / ".sqry" / "index.db").write_bytes(b"this is not sqlite" * 100)
    done = run_sqry("search", "m", cwd=tmp_path)
    assert done.returncode == 3
    assert "sqry index --force" in done.stderr and "Traceback" not in done.stderr


def test_no_daemon_is_accepted_and_gives_the_same_answer(workspace):
    plain = run_sqry("search", "helper", cwd=workspace)
    forced = run_sqry("search", "helper", "--no-daemon", cwd=workspace)
    assert (forced.returncode, forced.stdout) == (plain.returncode, plain.stdout)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("a{99999999999}", "invalid regex: the repetition number is too large"),
        (
            "(" * 600 + "a" + ")" * 600,
            "invalid regex: nested too deeply for Python's regex compiler",
        ),
    ],
)
def test_absurd_regex_is_a_usage_error_not_a_traceback(workspace, pattern, message):
    done = run_sqry("search", pattern, cwd=workspace)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[0] == f"sqry: pattern error at column 1: {message}"
    assert "Traceback" not in done.stderr


def test_the_largest_limit_is_accepted(workspace):
    for mode in ("--exact", "--fuzzy", "-i"):
        done = run_sqry("search", "helper", mode, "--limit", str(2**63 - 1), cwd=workspace)
        assert done.returncode == 0, done.stderr
        assert names(done.stdout)[0].endswith("helper")
    query = run_sqry("query", "kind:function|count", "--limit", str(2**63 - 1), cwd=workspace)
    assert (query.returncode, query.stdout) == (0, "5\n"), query.stderr


def test_a_path_that_is_a_file_gets_its_directory_in_the_index_command(tmp_path):
    (tmp_path / "f.py").write_text("x = 1\n")
    done = run_sqry("search", "x", "f.py", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr == f"sqry: no index at {tmp_path / 'f.py'}: run 'sqry index {tmp_path}'\n"


def test_a_path_with_no_indexed_files_says_so(tmp_path):
    """``venv`` is skipped by default: searching in it says why nothing came
    back instead of a silent "no results" (exit 1 either way)."""
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "tool.py").write_text("def tool():\n    pass\n")
    (tmp_path / "app.py").write_text("def tool():\n    pass\n")
    assert run_sqry("index", ".", cwd=tmp_path).returncode == 0
    for argv in (("search", "tool", "venv"), ("query", "name:tool", "venv")):
        done = run_sqry(*argv, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (1, ""), argv
        assert done.stderr.startswith("sqry: no indexed files under venv in the index at ")
    assert run_sqry("search", "tool", "app.py", cwd=tmp_path).returncode == 0
