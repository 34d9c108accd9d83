"""Output formats shared by the read commands: CSV safety, JSON lines, colour, pipes."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import time

import pytest
from cli_kit import RUN_TIMEOUT, IndexBuilder, run_sqry

from helpers import SQRY

pytestmark = pytest.mark.timeout(120)

DANGEROUS = ["=SUM(A1:A9)", "+cmd", "-2+3", "@import", "\tx"]


@pytest.fixture
def hostile(tmp_path):
    """An index whose names and paths a spreadsheet would run as formulas."""
    b = IndexBuilder(tmp_path)
    b.symbol("m", "module", "@scope/m.py", (1, 50))
    for line, name in enumerate(DANGEROUS, start=2):
        b.symbol(f"m.{name}", "function", "@scope/m.py", (line, line), parent="m", name=name)
    b.symbol('m.say "hi", twice', "function", "@scope/m.py", (20, 30), parent="m",
             name='say "hi", twice', doc='=HYPERLINK("http://evil","click")')  # fmt: skip
    b.write()
    return tmp_path


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_defuses_formula_cells(hostile):
    done = run_sqry("search", ".", "--csv", cwd=hostile)
    assert done.returncode == 0, done.stderr
    rows = parse_csv(done.stdout)
    by_name = {row["qualified_name"]: row for row in rows}
    for name in DANGEROUS:
        row = by_name[f"m.{name}"]
        assert row["name"] == "'" + name
        assert row["file_path"] == "'@scope/m.py"
    # Plain cells are left alone; numbers stay numbers.
    assert by_name["m"]["name"] == "m" and by_name["m"]["start_line"] == "1"


def test_csv_quotes_commas_and_quotes(hostile):
    rows = parse_csv(run_sqry("search", "twice", "--csv", cwd=hostile).stdout)
    assert [row["name"] for row in rows] == ['say "hi", twice']


def test_csv_defuses_docstrings_in_explain(hostile):
    rows = parse_csv(run_sqry("explain", 'm.say "hi", twice', "--csv", cwd=hostile).stdout)
    assert rows[0]["role"] == "definition"
    assert rows[0]["doc"] == '\'=HYPERLINK("http://evil","click")'


def test_csv_header_comes_first_even_with_no_rows(workspace):
    done = run_sqry("search", "nothing", "--csv", cwd=workspace)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "name,qualified_name,kind,language,file_path,start_line,start_column,end_line,end_column"
    ]


def test_jsonl_is_one_document_per_line_matching_json_items(workspace):
    lines = run_sqry("search", ".", "--jsonl", cwd=workspace).stdout.splitlines()
    document = json.loads(run_sqry("search", ".", "--json", cwd=workspace).stdout)
    assert [json.loads(line) for line in lines] == document["items"]
    assert len(lines) == 10


def test_output_flags_are_mutually_exclusive(workspace):
    done = run_sqry("search", ".", "--json", "--csv", cwd=workspace)
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


def run_on_a_tty(args: list[str], cwd, env: dict[str, str]) -> str:
    """Run ``sqry`` with stdout on a pseudo-terminal and return what it printed."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([*SQRY, *args], cwd=cwd, env=env, stdout=terminal,
                            stderr=subprocess.PIPE)  # fmt: skip
    os.close(terminal)
    chunks = []
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=RUN_TIMEOUT)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(workspace):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = run_on_a_tty(["search", "authenticate"], workspace, env)
    assert "\x1b[35msrc/app/core.py\x1b[0m" in coloured
    assert "\x1b[36mfunction\x1b[0m" in coloured
    plain = run_on_a_tty(["search", "authenticate"], workspace, {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in plain
    assert "src/app/core.py:3:1  function  app.core.authenticate" in plain
    piped = run_sqry("search", "authenticate", cwd=workspace)
    assert "\x1b[" not in piped.stdout


def test_closing_the_pipe_early_is_not_an_error(tmp_path):
    b = IndexBuilder(tmp_path)
    b.symbol("big", "module", "big.py", (1, 9000))
    for i in range(6000):
        b.symbol(f"big.function_number_{i}", "function", "big.py", (i + 2, i + 2), parent="big")
    b.write()
    proc = subprocess.Popen([*SQRY, "search", "function", "--limit", "0"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        first = proc.stdout.readline()
        proc.stdout.close()
        _, err = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert first.startswith(b"big.py:")
    assert b"Traceback" not in err and b"Exception ignored" not in err
    assert proc.returncode in (0, 1, -13)  # 0 from sqry, or killed by SIGPIPE


@pytest.fixture
def control_chars(tmp_path):
    """An index whose paths, names and doc hold an escape sequence and newlines."""
    b = IndexBuilder(tmp_path)
    b.symbol("m", "module", "e\x1b[31mred.py", (1, 9))
    b.symbol("m.two\nlines", "function", "e\x1b[31mred.py", (2, 3), parent="m",
             name="two\nlines", doc="first\nsecond\x07")  # fmt: skip
    b.write()
    return tmp_path


def test_text_output_escapes_control_characters(control_chars):
    done = run_sqry("search", "lines", cwd=control_chars)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "e\\x1b[31mred.py:2:1  function  m.two\\nlines\n"
    explain = run_sqry("explain", "m.two\nlines", cwd=control_chars)
    assert explain.returncode == 0, explain.stderr
    assert "\x1b" not in explain.stdout and "\x07" not in explain.stdout
    assert "  doc         first\\nsecond\\x07\n" in explain.stdout
    assert "  defined at  e\\x1b[31mred.py:2:1-3:1\n" in explain.stdout


def test_json_and_csv_keep_control_characters_as_stored(control_chars):
    items = json.loads(run_sqry("search", "lines", "--json", cwd=control_chars).stdout)["items"]
    assert [(i["file_path"], i["name"]) for i in items] == [("e\x1b[31mred.py", "two\nlines")]
    rows = parse_csv(run_sqry("search", "lines", "--csv", cwd=control_chars).stdout)
    assert [(r["file_path"], r["name"]) for r in rows] == [("e\x1b[31mred.py", "two\nlines")]


def test_text_paths_open_from_where_the_command_ran(workspace):
    """Text shows paths as grep does (relative to ``.``, absolute for an absolute
    PATH); JSON and CSV keep the index's root-relative ones."""
    outside = workspace.parent
    relative = run_sqry("search", "--exact", "authenticate", workspace.name, cwd=outside)
    assert relative.stdout == (
        f"{workspace.name}/src/app/core.py:3:1  function  app.core.authenticate\n"
    )
    absolute = run_sqry("search", "--exact", "authenticate", str(workspace), cwd=outside)
    assert absolute.stdout == f"{workspace}/src/app/core.py:3:1  function  app.core.authenticate\n"
    inside = run_sqry("graph", "callers", "authenticate", cwd=workspace / "src" / "app" / "api")
    assert inside.stdout.splitlines() == [
        "views.py:8:12  function  app.api.views.index",
        "views.py:12:5  function  app.api.views.index",
        "../core.py:25:16  method  app.core.Session.login",
    ]
    document = json.loads(
        run_sqry("search", "--exact", "authenticate", "--json", cwd=workspace / "src").stdout
    )
    assert [item["file_path"] for item in document["items"]] == ["src/app/core.py"]
