"""``sqry graph callers|callees`` and ``sqry explain``: one symbol, its direct calls."""

from __future__ import annotations

import json

import pytest
from cli_kit import run_sqry

pytestmark = pytest.mark.timeout(120)

AMBIGUOUS_HELPER = [
    "sqry: 'helper' is ambiguous: 2 symbols match",
    "  src/app/api/views.py:22 function app.api.views.helper",
    "  src/app/core.py:14 function app.core.helper",
    "name one with its qualified name, --in FILE or --line N",
]


def test_callers_one_line_per_call_site(workspace):
    done = run_sqry("graph", "callers", "authenticate", cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "src/app/api/views.py:8:12  function  app.api.views.index",
        "src/app/api/views.py:12:5  function  app.api.views.index",
        "src/app/core.py:25:16  method  app.core.Session.login",
    ]


def test_callees_with_call_sites(workspace):
    done = run_sqry("graph", "callees", "app.api.views.index", cwd=workspace)
    assert done.stdout.splitlines() == [
        "src/app/api/views.py:8:12  function  app.core.authenticate",
        "src/app/api/views.py:12:5  function  app.core.authenticate",
        "src/app/api/views.py:15:5  function  app.api.views.helper",
    ]


def test_callers_json_document(workspace):
    document = json.loads(run_sqry("graph", "callers", "login", "--json", cwd=workspace).stdout)
    assert document["symbol"]["qualified_name"] == "app.core.Session.login"
    assert document["items"] == []
    document = json.loads(
        run_sqry(
            "graph", "callers", "helper", "--in", "src/app/core.py", "--json", cwd=workspace
        ).stdout
    )
    assert document == {
        "symbol": {
            "name": "helper",
            "qualified_name": "app.core.helper",
            "kind": "function",
            "language": "python",
            "file_path": "src/app/core.py",
            "start_line": 14,
            "start_column": 0,
            "end_line": 16,
            "end_column": 0,
        },
        "direction": "callers",
        "items": [
            {
                "name": "authenticate",
                "qualified_name": "app.core.authenticate",
                "kind": "function",
                "language": "python",
                "file_path": "src/app/core.py",
                "start_line": 3,
                "start_column": 0,
                "end_line": 12,
                "end_column": 0,
                "call_path": "src/app/core.py",
                "call_line": 9,
                "call_column": 8,
                "resolved_via": "unique",
            }
        ],
        "total": 1,
        "truncated": False,
    }


def test_no_callers_exits_1_and_says_why(workspace):
    done = run_sqry("graph", "callers", "app.core.Session.login", cwd=workspace)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "sqry: no resolved callers of app.core.Session.login\n"


def test_ambiguous_symbol_exits_4_listing_candidates(workspace):
    done = run_sqry("graph", "callers", "helper", cwd=workspace)
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr.splitlines() == AMBIGUOUS_HELPER


def test_in_file_disambiguates_relative_to_the_current_directory(workspace):
    from_root = run_sqry(
        "graph", "callers", "helper", "--in", "src/app/api/views.py", cwd=workspace
    )
    assert from_root.stdout.splitlines() == [
        "src/app/api/views.py:15:5  function  app.api.views.index"
    ]
    from_subdir = run_sqry(
        "graph", "callers", "helper", "--in", "views.py", cwd=workspace / "src" / "app" / "api"
    )
    # the same call site, its path printed from where the command ran
    assert from_subdir.stdout == "views.py:15:5  function  app.api.views.index\n"
    by_suffix = run_sqry(
        "graph", "callers", "helper", "--in", "api/views.py", cwd=workspace / "tools"
    )
    assert by_suffix.stdout == "../src/app/api/views.py:15:5  function  app.api.views.index\n"


def test_line_disambiguates(workspace):
    done = run_sqry("graph", "callers", "helper", "--line", "15", cwd=workspace)
    assert done.stdout.splitlines() == ["src/app/core.py:9:9  function  app.core.authenticate"]


def test_unknown_symbol_exits_1_with_a_hint(workspace):
    done = run_sqry("graph", "callees", "nope", cwd=workspace)
    assert done.returncode == 1
    assert done.stderr == (
        f"sqry: no symbol named 'nope' in the index at {workspace}; try: sqry search nope\n"
    )
    # search matches names: the hint looks for a qualified name's last segment,
    # quoted for the shell
    dotted = run_sqry("graph", "callees", "app.core.gone", cwd=workspace)
    assert dotted.stderr.endswith("; try: sqry search gone\n")
    odd = run_sqry("graph", "callees", "a|b", cwd=workspace)
    assert odd.stderr.endswith("; try: sqry search 'a|b'\n")
    narrowed = run_sqry("graph", "callees", "helper", "--in", "tools/run.go", cwd=workspace)
    assert narrowed.returncode == 1
    assert "no symbol named 'helper' in tools/run.go" in narrowed.stderr


def test_graph_requires_a_direction(workspace):
    done = run_sqry("graph", "authenticate", cwd=workspace)
    assert done.returncode == 2
    assert done.stderr.startswith("sqry: argument callers|callees: invalid choice")


def test_graph_no_index_exits_3(tmp_path):
    assert run_sqry("graph", "callers", "x", cwd=tmp_path).returncode == 3


def test_explain_shows_everything_in_one_view(workspace):
    done = run_sqry("explain", "authenticate", cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "function app.core.authenticate  (python, public)",
        "  defined at  src/app/core.py:3:1-12:1",
        "  signature   def authenticate(user, password) -> bool",
        "  doc         Check a password.",
        "  parent      module app.core",
        "callers (3)",
        "  src/app/api/views.py:8:12  function  app.api.views.index  (unique)",
        "  src/app/api/views.py:12:5  function  app.api.views.index  (unique)",
        "  src/app/core.py:25:16  method  app.core.Session.login  (unique)",
        "callees (1)",
        "  src/app/core.py:9:9  function  app.core.helper  (unique)",
        "unresolved calls (1)",
        "  src/app/core.py:7:13  hashlib.sha256",
    ]


def test_explain_limit_cuts_each_list_and_says_so(workspace):
    done = run_sqry("explain", "authenticate", "--limit", "1", cwd=workspace)
    assert "callers (1 of 3)" in done.stdout.splitlines()


def test_explain_json_and_jsonl(workspace):
    document = json.loads(run_sqry("explain", "login", "--json", cwd=workspace).stdout)
    assert document["symbol"]["qualified_name"] == "app.core.Session.login"
    assert document["symbol"]["is_async"] is True
    assert document["symbol"]["parent"] == "app.core.Session"
    assert [c["qualified_name"] for c in document["callees"]] == ["app.core.authenticate"]
    assert document["totals"] == {"callers": 0, "callees": 1, "unresolved_calls": 0}
    lines = run_sqry("explain", "authenticate", "--jsonl", cwd=workspace).stdout.splitlines()
    roles = [json.loads(line)["role"] for line in lines]
    assert roles == ["definition", "caller", "caller", "caller", "callee", "unresolved_call"]


def test_explain_ambiguous_exits_4(workspace):
    done = run_sqry("explain", "helper", cwd=workspace)
    assert done.returncode == 4
    assert done.stderr.splitlines() == AMBIGUOUS_HELPER


def test_empty_symbol_or_path_is_a_usage_error(workspace):
    for argv, what in (
        (("graph", "callers", ""), "SYMBOL: expected a symbol name"),
        (("explain", "helper", ""), "PATH: expected a path"),
        (("index", ""), "PATH: expected a directory"),
    ):
        done = run_sqry(*argv, cwd=workspace)
        assert done.returncode == 2, argv
        assert done.stderr.startswith(f"sqry: argument {what}, got an empty string"), done.stderr


def test_a_name_that_is_also_a_qualified_name_is_not_offered_as_one(workspace):
    """The module ``widget`` beside its function ``widget``: naming it "by its
    qualified name" is what was just tried, and both are in one file, so the hint
    offers only --line; with --in already given too."""
    (workspace / "widget.py").write_text("def widget():\n    pass\n")
    assert run_sqry("index", ".", cwd=workspace).returncode == 0
    for extra in ((), ("--in", "widget.py")):
        done = run_sqry("explain", "widget", *extra, cwd=workspace)
        assert done.returncode == 4
        assert done.stderr.splitlines()[-1] == "name one with --line N"


def test_in_naming_no_indexed_file_says_so(workspace):
    for in_file in ("nope.py", "src"):  # missing, and a directory rather than a file
        done = run_sqry("explain", "helper", "--in", in_file, cwd=workspace)
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == (
            f"sqry: --in {in_file}: no indexed file in the index at {workspace} has that "
            "path; give the file's path (from here or from the root) or its last part, "
            "e.g. --in app.py\n"
        )


def test_a_path_below_the_root_narrows_the_symbol(workspace):
    """``helper`` names two functions; a PATH under the root keeps the one defined
    there, while without PATH the whole index is searched (even from a subdirectory)."""
    narrowed = run_sqry("graph", "callers", "helper", "src/app/api", cwd=workspace)
    assert narrowed.returncode == 0, narrowed.stderr
    assert narrowed.stdout == "src/app/api/views.py:15:5  function  app.api.views.index\n"
    from_subdir = run_sqry("explain", "helper", cwd=workspace / "src" / "app" / "api")
    assert from_subdir.returncode == 4
    none_there = run_sqry("explain", "authenticate", "src/app/api", cwd=workspace)
    assert (none_there.returncode, none_there.stdout) == (1, "")
    assert none_there.stderr.startswith(
        f"sqry: no symbol named 'authenticate' under src/app/api in the index at {workspace};"
    )
