"""The read commands on a small project indexed for real with ``sqry index``.

The other CLI tests read hand-built indexes to pin the commands' behaviour; these
check the whole path a user takes — write code, ``sqry index``, ask — and so also
that the query engine reads what the indexer writes.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cli_kit import run_sqry

pytestmark = pytest.mark.timeout(180)

PROJECT = {
    "shop/__init__.py": "",
    "shop/auth.py": '''
        """Accounts and passwords."""


        class User:
            """A registered customer."""

            def check(self, password: str) -> bool:
                return _digest(password) == self.hash


        def _digest(text: str) -> str:
            return text[::-1]


        def authenticate(name: str, password: str) -> User:
            """Log a user in."""
            user = User()
            user.check(password)
            return user
        ''',
    "shop/api.py": """
        import os

        from shop.auth import authenticate


        def helper():
            return 1


        async def login(request):
            user = authenticate(request.name, request.password)
            print(os.path.join("a", str(helper())))
            return user
        """,
    "shop/cron.py": '''
        def helper():
            """Another helper."""
            return 2
        ''',
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("indexed")
    for path, source in PROJECT.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip())
    done = run_sqry("index", str(root), cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def lines(*args: str, cwd: Path) -> list[str]:
    done = run_sqry(*args, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.splitlines()


def test_search(project):
    assert lines("search", "^auth", cwd=project) == [
        "shop/auth.py:1:1  module  shop.auth",
        "shop/auth.py:15:1  function  shop.auth.authenticate",
    ]
    assert lines("search", "helper", "-k", "function", cwd=project) == [
        "shop/api.py:6:1  function  shop.api.helper",
        "shop/cron.py:1:1  function  shop.cron.helper",
    ]


def test_query_relations(project):
    assert lines("query", "callers:authenticate", cwd=project) == [
        "shop/api.py:10:1  function  shop.api.login"
    ]
    assert lines("query", "callees:login", cwd=project) == [
        "shop/api.py:6:1  function  shop.api.helper",
        "shop/auth.py:15:1  function  shop.auth.authenticate",
    ]
    assert lines("query", "returns:User", cwd=project) == [
        "shop/auth.py:15:1  function  shop.auth.authenticate"
    ]
    assert lines("query", "imports:shop.auth", cwd=project) == ["shop/api.py:1:1  module  shop.api"]
    assert lines("query", "async:true", cwd=project) == [
        "shop/api.py:10:1  function  shop.api.login"
    ]
    assert lines("query", "parent:User", cwd=project) == [
        "shop/auth.py:7:5  method  shop.auth.User.check"
    ]


def test_unresolved_calls_only_on_request(project):
    assert lines("query", "callers:print", cwd=project) == []
    assert lines("query", "callers:print", "--unresolved", cwd=project) == [
        "shop/api.py:10:1  function  shop.api.login"
    ]


def test_graph_callers_with_call_sites(project):
    assert lines("graph", "callers", "authenticate", cwd=project) == [
        "shop/api.py:11:12  function  shop.api.login"
    ]
    assert lines("graph", "callers", "helper", "--in", "shop/api.py", cwd=project) == [
        "shop/api.py:12:33  function  shop.api.login"
    ]


def test_ambiguity_is_reported_with_real_candidates(project):
    done = run_sqry("graph", "callers", "helper", cwd=project)
    assert done.returncode == 4
    assert done.stderr.splitlines()[1:3] == [
        "  shop/api.py:6 function shop.api.helper",
        "  shop/cron.py:1 function shop.cron.helper",
    ]


def test_explain(project):
    document = json.loads(run_sqry("explain", "authenticate", "--json", cwd=project).stdout)
    symbol = document["symbol"]
    assert symbol["signature"].startswith("def authenticate(name: str, password: str)")
    assert symbol["doc"] == "Log a user in."
    assert symbol["parent"] == "shop.auth"
    assert [c["qualified_name"] for c in document["callers"]] == ["shop.api.login"]
    # Every call in the body is listed once: resolved as a callee, or as written.
    resolved = {(c["call_line"], c["qualified_name"]) for c in document["callees"]}
    unresolved = {(u["call_line"], u["target_text"]) for u in document["unresolved_calls"]}
    assert (17, "shop.auth.User") in resolved
    assert ((18, "shop.auth.User.check") in resolved) != ((18, "user.check") in unresolved)
    assert {line for line, _ in resolved | unresolved} == {17, 18}


def test_json_items_match_between_search_and_query(project):
    via_search = json.loads(
        run_sqry("search", "--exact", "authenticate", "--json", cwd=project).stdout
    )
    via_query = json.loads(run_sqry("query", "name:authenticate", "--json", cwd=project).stdout)
    assert via_search == via_query


def test_reindex_after_an_edit_changes_the_answer(project):
    extra = project / "shop" / "admin.py"
    extra.write_text(
        "from shop.auth import authenticate\n\n\ndef sudo():\n    authenticate('root', '')\n"
    )
    try:
        assert run_sqry("index", cwd=project).returncode == 0
        assert "shop/admin.py:4:1  function  shop.admin.sudo" in lines(
            "query", "callers:authenticate", cwd=project
        )
    finally:
        extra.unlink()
        assert run_sqry("index", cwd=project).returncode == 0
    assert lines("query", "callers:authenticate", cwd=project) == [
        "shop/api.py:10:1  function  shop.api.login"
    ]
