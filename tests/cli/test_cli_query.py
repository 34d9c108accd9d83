"""``sqry query``: the query language from the command line, every result shape."""

from __future__ import annotations

import csv
import io
import json

import pytest
from cli_kit import run_sqry

pytestmark = pytest.mark.timeout(120)


def test_symbols_in_text(workspace):
    done = run_sqry("query", "callers:authenticate", cwd=workspace)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "src/app/api/views.py:5:1  function  app.api.views.index",
        "src/app/core.py:20:5  method  app.core.Session.login",
    ]


def test_query_is_scoped_by_path(workspace):
    done = run_sqry("query", "kind:function", "src/app/api", cwd=workspace)
    assert [line.split()[-1] for line in done.stdout.splitlines()] == [
        "app.api.views.index",
        "app.api.views.helper",
    ]


def test_count_prints_a_number_and_exits_1_on_zero(workspace):
    done = run_sqry("query", "kind:function | count", cwd=workspace)
    assert (done.returncode, done.stdout) == (0, "5\n")
    none = run_sqry("query", "kind:macro | count", cwd=workspace)
    assert (none.returncode, none.stdout) == (1, "0\n")
    assert json.loads(
        run_sqry("query", "kind:function | count", "--json", cwd=workspace).stdout
    ) == {"count": 5}


def test_group_by_in_every_format(workspace):
    text = run_sqry("query", "name~=. | group_by kind", cwd=workspace)
    assert text.stdout.splitlines() == [
        "5  function",
        "3  module",
        "1  class",
        "1  method",
    ]
    document = json.loads(
        run_sqry("query", "name~=. | group_by lang", "--json", cwd=workspace).stdout
    )
    assert document == {
        "field": "lang",
        "groups": [{"value": "python", "count": 8}, {"value": "go", "count": 2}],
        "total": 2,
        "truncated": False,
    }
    rows = list(
        csv.reader(
            io.StringIO(run_sqry("query", "name~=. | top 1 path", "--csv", cwd=workspace).stdout)
        )
    )
    assert rows == [["value", "count"], ["src/app/core.py", "5"]]
    lines = run_sqry("query", "name~=. | group_by async", "--jsonl", cwd=workspace).stdout
    assert [json.loads(line) for line in lines.splitlines()] == [
        {"value": False, "count": 9},
        {"value": True, "count": 1},
    ]


def test_query_error_exits_2_with_a_caret(workspace):
    done = run_sqry("query", "kind:function AND", cwd=workspace)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "sqry: query error at column 18: expected a predicate after 'AND'",
        "  kind:function AND",
        "                   ^",
    ]


def test_query_error_is_reported_even_without_an_index(tmp_path):
    done = run_sqry("query", "kind:", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("sqry: query error at column 6: expected a value after 'kind:'")


def test_repeated_regex_flag_is_a_query_error(workspace):
    done = run_sqry("query", "name~=/auth/ii", cwd=workspace)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines()[0] == "sqry: query error at column 14: repeated regex flag 'i'"


def test_no_results_exit_1(workspace):
    done = run_sqry("query", "callers:helper kind:class", cwd=workspace)
    assert (done.returncode, done.stdout) == (1, "")


def test_unresolved_flag_matches_calls_by_written_text(workspace):
    assert run_sqry("query", "callers:sha256", cwd=workspace).returncode == 1
    done = run_sqry("query", "callers:sha256", "--unresolved", cwd=workspace)
    assert done.stdout.splitlines() == ["src/app/core.py:3:1  function  app.core.authenticate"]


def test_limit_and_no_daemon(workspace):
    done = run_sqry("query", "name~=.", "--limit", "2", "--no-daemon", cwd=workspace)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2
    assert "showing 2 of 10 results" in done.stderr


def test_no_index_exits_3(tmp_path):
    done = run_sqry("query", "kind:function", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr == f"sqry: no index at {tmp_path}: run 'sqry index {tmp_path}'\n"


def test_the_largest_limit_is_no_limit_for_grouping_too(workspace):
    largest = str(2**63 - 1)
    done = run_sqry("query", "name~=. | group_by kind", "--limit", largest, cwd=workspace)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == run_sqry("query", "name~=. | group_by kind", cwd=workspace).stdout
