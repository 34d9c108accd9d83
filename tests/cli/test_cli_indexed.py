"""The read commands on a small project indexed for real with ``sqry index``.

The other CLI tests read hand-built indexes to pin the commands' behaviour; these
check the whole path a user takes — write code, ``sqry index``, ask — and so also
that the query engine reads what the indexer writes.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_kit import AS_NOBODY, RUN_TIMEOUT, run_sqry, shared_tmp_dir, unprivileged

from helpers import wait_until

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


def test_explain_says_how_each_call_bound_and_why_one_did_not(tmp_path):
    """The rule that bound each caller and callee, and for an unbound call whether
    it is ambiguous (how many candidates, found by which rule) or unknown."""
    (tmp_path / "a.py").write_text("def helper():\n    pass\n")
    (tmp_path / "b.py").write_text("def helper():\n    pass\n")
    (tmp_path / "c.py").write_text(
        "def main():\n    helper()\n    nowhere()\n    other()\n\ndef other():\n    pass\n"
    )
    assert run_sqry("index", str(tmp_path), cwd=tmp_path).returncode == 0
    assert lines("explain", "c.main", cwd=tmp_path)[-5:] == [
        "callees (1)",
        "  c.py:4:5  function  c.other  (local)",
        "unresolved calls (2)",
        "  c.py:2:5  helper  (ambiguous: 2 candidates by the unique rule)",
        "  c.py:3:5  nowhere",
    ]
    document = json.loads(run_sqry("explain", "c.main", "--json", cwd=tmp_path).stdout)
    assert [c["resolved_via"] for c in document["callees"]] == ["local"]
    assert [(u["target_text"], u["ambiguous_via"], u["candidates"]) for u in document[
        "unresolved_calls"
    ]] == [("helper", "unique", 2), ("nowhere", None, 0)]  # fmt: skip
    callers = json.loads(run_sqry("graph", "callers", "other", "--json", cwd=tmp_path).stdout)
    assert [item["resolved_via"] for item in callers["items"]] == ["local"]


def test_a_method_defined_outside_its_type_has_that_type_as_parent(tmp_path):
    """A Go method in another file than its struct, a C++ out-of-class definition
    and a Rust ``impl`` in another module are their type's members for ``parent:``,
    ``group_by parent`` and ``explain``, like methods written inside the type."""
    files = {
        "go.mod": "module example.com/ad\n\ngo 1.21\n",
        "srv/server.go": "package srv\n\ntype Server struct{ port int }\n",
        "srv/handlers.go": "package srv\n\nfunc (s *Server) Start() error { return nil }\n",
        "cc/shapes.hpp": "namespace geo {\nclass Circle {\n public:\n  double area() const;\n"
        "  double r_;\n};\n}\n",
        "cc/shapes.cpp": '#include "shapes.hpp"\nnamespace geo {\n'
        "double Circle::area() const { return r_ * r_; }\n}\n",
        "Cargo.toml": '[package]\nname = "ad"\n',
        "src/lib.rs": "pub mod model;\nmod user_impl;\n",
        "src/model.rs": "pub struct User { pub name: String }\n",
        "src/user_impl.rs": "use crate::model::User;\n"
        "impl User {\n    pub fn new() -> User { User { name: String::new() } }\n}\n",
        # a named non-struct type has methods too; a Java class of the same name
        # as a C++ one is not the owner of the C++ one's methods
        "temp/temp.go": "package temp\n\ntype Celsius float64\n",
        "temp/conv.go": "package temp\n\nfunc (c Celsius) F() float64 { return float64(c) }\n",
        "Widget.java": "public class Widget { }\n",
        "widget.cpp": "struct Widget;\nvoid Widget::draw() {}\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert run_sqry("index", str(tmp_path), cwd=tmp_path).returncode == 0
    assert lines("query", "parent:Server", cwd=tmp_path) == [
        "srv/handlers.go:3:1  method  srv.Server.Start",
        "srv/server.go:3:21  field  srv.Server.port",
    ]
    assert lines("query", "parent:Circle", cwd=tmp_path) == [
        "cc/shapes.cpp:3:1  method  geo::Circle::area",
        "cc/shapes.hpp:5:3  field  geo::Circle::r_",
    ]
    assert "src/user_impl.rs:3:5  method  crate::model::User::new" in lines(
        "query", "parent:User", cwd=tmp_path
    )
    # the module no longer claims it; grouping counts it under its type
    assert "srv/handlers.go:3:1  method  srv.Server.Start" not in lines(
        "query", "parent:srv", cwd=tmp_path
    )
    assert lines("query", "parent:Celsius", cwd=tmp_path) == [
        "temp/conv.go:3:1  method  temp.Celsius.F"
    ]
    assert lines("query", "parent:Widget", cwd=tmp_path) == []
    assert lines("query", "kind:method | group_by parent", cwd=tmp_path) == [
        "1  crate::model::User",
        "1  geo::Circle",
        "1  srv.Server",
        "1  temp.Celsius",
        "1  widget.cpp",  # no C++ Widget is defined: the method's file stays its parent
    ]
    explained = lines("explain", "Start", cwd=tmp_path)
    assert "  parent      struct srv.Server" in explained


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


# A first build stopped after its first file: the schema is committed (open_writer),
# the build's own transaction is not. "die" ends it like SIGKILL (no rollback, no
# cleanup); "wait" holds it there until stdin closes.
STOPPED_BUILD = """
import os, sys
from sqry.graph.index import build_index

def progress(done, total):
    if done == 1:
        open(sys.argv[2], "w").close()
        if sys.argv[3] == "die":
            os._exit(9)
        sys.stdin.read()

build_index(sys.argv[1], progress=progress, workers=1)
"""

ASK = {
    "query": ["query", "kind:function|count"],
    "search": ["search", "helper"],
    "graph callers": ["graph", "callers", "authenticate"],
    "explain": ["explain", "authenticate"],
}


def _write_project(root: Path) -> Path:
    for path, source in PROJECT.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip())
    return root


def test_a_killed_first_build_is_no_index_not_no_results(tmp_path):
    marker = tmp_path / "started"  # outside the project
    root = _write_project(tmp_path / "project")
    killed = subprocess.run(
        [sys.executable, "-c", STOPPED_BUILD, str(root), str(marker), "die"],
        capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip
    assert killed.returncode == 9 and marker.exists(), killed.stderr
    for argv in ASK.values():
        done = run_sqry(*argv, cwd=root)
        assert (done.returncode, done.stderr) == (
            3,
            f"sqry: no complete index in {root}: its first build did not finish; "
            f"create it with: sqry index {root}\n",
        ), argv
    assert run_sqry("index", cwd=root).returncode == 0
    assert run_sqry(*ASK["query"], cwd=root).stdout == "5\n"


def test_queries_during_the_first_build_say_it_is_running(tmp_path):
    marker = tmp_path / "started"  # outside the project
    root = _write_project(tmp_path / "project")
    build = subprocess.Popen(
        [sys.executable, "-c", STOPPED_BUILD, str(root), str(marker), "wait"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(marker.exists, RUN_TIMEOUT, message="the build to reach its first file")
        for argv in ASK.values():
            done = run_sqry(*argv, cwd=root)
            assert (done.returncode, done.stderr) == (
                3,
                f"sqry: no complete index in {root} yet: 'sqry index' is building it; "
                "wait for it to finish\n",
            ), argv
        _, err = build.communicate("", timeout=RUN_TIMEOUT)
        assert build.returncode == 0, err
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert run_sqry(*ASK["query"], cwd=root).stdout == "5\n"


@pytest.fixture
def read_only_project() -> Iterator[Path]:
    """The project indexed for real (a WAL database), then not writable by the user
    :data:`AS_NOBODY` runs as; removed afterwards."""
    base = shared_tmp_dir()
    root = _write_project(base / "project")
    assert run_sqry("index", cwd=root).returncode == 0
    if not AS_NOBODY:  # not root: take write access away from ourselves
        (root / ".sqry" / "index.db").chmod(0o444)
        (root / ".sqry").chmod(0o555)
    try:
        yield root
    finally:
        (root / ".sqry").chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.skipif(not unprivileged(), reason="needs a user that permissions restrict")
def test_an_index_the_user_cannot_write_is_read(read_only_project):
    root = read_only_project
    assert not (root / ".sqry" / "index.db-shm").exists()  # what SQLite would have to create
    for argv, expected in (
        (["query", "kind:function|count"], "5\n"),
        (["graph", "callers", "authenticate"], "shop/api.py:11:12  function  shop.api.login\n"),
    ):
        done = run_sqry(*argv, cwd=root, prefix=AS_NOBODY)
        assert (done.returncode, done.stdout, done.stderr) == (0, expected, ""), argv


@pytest.mark.skipif(not unprivileged(), reason="needs a user that permissions restrict")
def test_an_index_the_user_cannot_read_says_so(read_only_project):
    index = read_only_project / ".sqry" / "index.db"
    index.chmod(0o000 if not AS_NOBODY else 0o600)
    done = run_sqry("search", "helper", cwd=read_only_project, prefix=AS_NOBODY)
    assert (done.returncode, done.stderr) == (
        3,
        f"sqry: {index} cannot be read (Permission denied): check its permissions\n",
    )


@pytest.mark.parametrize(
    ("damage", "missing"),
    [
        ("DROP TABLE edges", "table edges"),
        ("ALTER TABLE symbols DROP COLUMN doc", "column symbols.doc"),
        ("DROP TABLE file_names", "table file_names"),
    ],
)
def test_a_damaged_schema_asks_for_force_and_force_repairs_it(damage, missing, tmp_path):
    root = _write_project(tmp_path)
    assert run_sqry("index", cwd=root).returncode == 0
    conn = sqlite3.connect(root / ".sqry" / "index.db")
    conn.execute(damage)
    conn.commit()
    conn.close()
    expected = (
        f"sqry: the index {root}/.sqry/index.db cannot be used: its schema is damaged "
        f"({missing} missing); rebuild it with: sqry index --force {root}\n"
    )
    for argv in (["index"], *ASK.values()):
        done = run_sqry(*argv, cwd=root)
        assert (done.returncode, done.stdout, done.stderr) == (3, "", expected), argv
    assert run_sqry("index", "--force", cwd=root).returncode == 0
    assert run_sqry(*ASK["query"], cwd=root).stdout == "5\n"


def test_an_index_with_contradicting_rows_asks_for_force(tmp_path):
    """Rows deleted by hand (the file table emptied, the rest left): the next build
    trips over what remains; it is rolled back and the user told how to repair."""
    root = _write_project(tmp_path)
    assert run_sqry("index", cwd=root).returncode == 0
    db = root / ".sqry" / "index.db"
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM files")
    conn.commit()
    before = conn.execute("SELECT count(*) FROM symbols").fetchone()
    conn.close()
    for source in root.glob("*.py"):
        source.write_text(source.read_text() + "# edited\n")
    done = run_sqry("index", cwd=root)
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(f"sqry: the index {db} is inconsistent (")
    assert done.stderr.endswith(
        f"), so this build was rolled back; rebuild it with: sqry index --force {root}\n"
    )
    assert "Traceback" not in done.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM symbols").fetchone() == before  # rolled back
    conn.close()
    assert run_sqry("index", "--force", cwd=root).returncode == 0
    assert run_sqry(*ASK["query"], cwd=root).stdout == "5\n"


READ_ONLY_REFUSAL = (
    "is not writable by you and its index is being written (or was left mid-write): "
    "run the command again when its owner's 'sqry index' has finished\n"
)


@pytest.mark.skipif(not unprivileged(), reason="needs a user that permissions restrict")
def test_an_index_left_mid_write_is_not_read_without_locks(read_only_project):
    """A -wal with committed frames but no -shm (a build killed and its -shm gone): the
    main file alone is not the index, and the user cannot recover the -wal into it."""
    db = read_only_project / ".sqry" / "index.db"
    left = subprocess.run(
        [sys.executable, "-c", LEFT_MID_WRITE, str(db)],
        capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
    )  # fmt: skip
    assert left.returncode == 0, left.stderr
    Path(f"{db}-shm").unlink()
    assert Path(f"{db}-wal").stat().st_size > 0
    for argv in ASK.values():
        done = run_sqry(*argv, cwd=read_only_project, prefix=AS_NOBODY)
        assert (done.returncode, done.stdout) == (3, ""), argv
        assert done.stderr == f"sqry: {db.parent} {READ_ONLY_REFUSAL}", argv


# Commits one change in WAL mode and dies without a checkpoint: the -wal keeps the frames.
LEFT_MID_WRITE = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("INSERT OR REPLACE INTO meta VALUES ('left', 'mid-write')")
conn.commit()
os._exit(0)
"""


@pytest.mark.skipif(not unprivileged(), reason="needs a user that permissions restrict")
def test_an_index_its_owner_is_building_is_not_read_without_locks(read_only_project):
    from sqry.graph.store import build_lock

    with build_lock(read_only_project):
        done = run_sqry(*ASK["search"], cwd=read_only_project, prefix=AS_NOBODY)
    index_dir = read_only_project / ".sqry"
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == f"sqry: {index_dir} {READ_ONLY_REFUSAL}"
    done = run_sqry(*ASK["search"], cwd=read_only_project, prefix=AS_NOBODY)
    assert (done.returncode, done.stderr) == (0, "")  # the build is over: read again


# ``sqry ARGS`` with each query function pausing before it runs: it creates the file
# argv[1] and waits for a line on stdin, so the test can change the index between
# the opening of the index and the queries.
PAUSED_READ = """
import sys
import sqry.graph.query.search as search
import sqry.graph.query.symbols as symbols

def paused(real):
    def run(*args, **kwargs):
        if not paused.done:
            paused.done = True
            open(sys.argv[1], "w").close()
            sys.stdin.readline()
        return real(*args, **kwargs)
    return run

paused.done = False
search.search_symbols = paused(search.search_symbols)
symbols.find_symbols = paused(symbols.find_symbols)
from sqry.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _rebuild_with_a_change(root: Path) -> None:
    """Change a source file and rebuild as the owner (new pages written, -wal gone)."""
    (root / "shop" / "cron.py").write_text(
        "def helper():\n    return 3\n\n\ndef other():\n    pass\n"
    )
    assert run_sqry("index", cwd=root).returncode == 0


def _zero_the_index(root: Path) -> None:
    """Overwrite the index in place (same inode and size) with zeros: pages not yet
    read are damaged, as a page rewritten under the reader would be."""
    db = root / ".sqry" / "index.db"
    with open(db, "r+b") as f:
        f.write(bytes(db.stat().st_size))


@pytest.mark.skipif(not unprivileged(), reason="needs a user that permissions restrict")
@pytest.mark.parametrize("change", [_rebuild_with_a_change, _zero_the_index])
@pytest.mark.parametrize("command", ["search", "graph callers", "explain"])
def test_an_index_changed_during_a_read_without_locks_gives_no_answer(
    read_only_project, command, change
):
    """The index is opened without locks (the user cannot write it), then its owner
    changes it before the query runs: no answer from a mix of two states, and not
    'rebuild it' (the user cannot), but 'run the command again'."""
    signals = read_only_project.parent / "signals"
    signals.mkdir(mode=0o777, exist_ok=True)
    signals.chmod(0o777)
    marker = signals / command.replace(" ", "-")
    reader = subprocess.Popen(
        [*AS_NOBODY, sys.executable, "-c", PAUSED_READ, str(marker), *ASK[command]],
        cwd=read_only_project, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(marker.exists, RUN_TIMEOUT, message="the read to open the index")
        change(read_only_project)
        out, err = reader.communicate("go\n", timeout=RUN_TIMEOUT)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    index_dir = read_only_project / ".sqry"
    assert (reader.returncode, out, err) == (3, "", f"sqry: {index_dir} {READ_ONLY_REFUSAL}")
