"""Helpers for the ``sqry`` read-command tests: run the real CLI, build indexes.

:func:`run_sqry` runs ``python -m sqry.cli.main`` in a subprocess (the command a
user runs) with a hard timeout, so a hung process is killed and reported.

:class:`IndexBuilder` writes ``<root>/.sqry/index.db`` straight into the schema of
:mod:`sqry.graph.schema`. It lets a test state exactly which symbols and edges
exist — including ones the extractors would never produce, such as a path that a
spreadsheet would run as a formula — independent of the extractors' precision.
Tests that index real source with ``sqry index`` live next to these.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from helpers import SQRY
from sqry.graph import schema

RUN_TIMEOUT = 60


def run_sqry(
    *args: str,
    cwd: Path | str,
    env: Mapping[str, str] | None = None,
    prefix: Sequence[str] = (),
    stdout: IO[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``sqry ARGS`` in ``cwd``; NO_COLOR unset unless ``env`` sets it.

    ``prefix`` runs it through another command (:data:`AS_NOBODY`); ``stdout``
    sends its output to that file instead of capturing it.
    """
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(env or {})
    return subprocess.run(
        [*prefix, *SQRY, *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


AS_NOBODY = (
    ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    if os.geteuid() == 0 and shutil.which("setpriv")
    else []
)
"""Prefix for :func:`run_sqry` that makes file permissions apply: as root, run as
``nobody`` (root reads and writes everything); otherwise nothing."""


def unprivileged() -> bool:
    """Whether :data:`AS_NOBODY` runs sqry as a user that permissions restrict."""
    return os.geteuid() != 0 or bool(AS_NOBODY)


def shared_tmp_dir() -> Path:
    """A fresh directory under /tmp that ``nobody`` may enter (pytest's are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="sq", dir="/tmp"))
    path.chmod(0o755)
    return path


@dataclass
class IndexBuilder:
    """Collects files, symbols and edges, then writes them as an index under ``root``."""

    root: Path
    files: dict[str, str] = field(default_factory=dict)  # path -> language
    symbols: list[dict] = field(default_factory=list)
    edges: list[tuple] = field(default_factory=list)
    schema_version: str = str(schema.SCHEMA_VERSION)

    def symbol(
        self,
        qname: str,
        kind: str,
        path: str,
        lines: tuple[int, int],
        *,
        parent: str | None = None,
        column: int = 0,
        **columns: object,
    ) -> None:
        """Add a symbol (name = last segment of ``qname``); ``columns`` sets other fields."""
        self.files.setdefault(path, "python")
        name = columns.pop("name", None) or re.split(r"\.|::", qname)[-1]
        self.symbols.append(
            {
                "qname": qname,
                "kind": kind,
                "path": path,
                "name": name,
                "start_line": lines[0],
                "end_line": lines[1],
                "start_column": column,
                "parent": parent,
                **columns,
            }
        )

    def edge(
        self, kind: str, source: str, target: str | None, text: str, line: int, column: int
    ) -> None:
        """An edge from ``source`` (qname) to ``target`` (qname, or None = unresolved)."""
        self.edges.append((kind, source, target, text, line, column))

    def write(self) -> Path:
        """Create ``root/.sqry/index.db`` (replacing any) and return its path."""
        db = self.root / ".sqry" / "index.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        db.unlink(missing_ok=True)
        conn = sqlite3.connect(db)
        try:
            self._fill(conn)
            conn.commit()
        finally:
            conn.close()
        return db

    def _fill(self, conn: sqlite3.Connection) -> None:
        conn.executescript(schema.DDL)
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (self.schema_version,))
        conn.execute("INSERT INTO meta VALUES ('built_at', '2024-01-01T00:00:00Z')")
        file_ids = {}
        for path, language in self.files.items():
            file_ids[path] = conn.execute(
                "INSERT INTO files (path, language, size, mtime_ns, hash, module)"
                " VALUES (?, ?, 0, 0, '', ?)",
                (path, language, path),
            ).lastrowid
        ids: dict[str, int] = {}
        where: dict[str, str] = {}
        for sym in self.symbols:
            ids[sym["qname"]] = conn.execute(
                "INSERT INTO symbols (file_id, kind, name, qualified_name, language, start_line,"
                " start_column, end_line, end_column, signature, visibility, is_async,"
                " is_static, doc, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
                (
                    file_ids[sym["path"]], sym["kind"], sym["name"], sym["qname"],
                    self.files[sym["path"]], sym["start_line"], sym["start_column"],
                    sym["end_line"], sym.get("signature", ""), sym.get("visibility", "public"),
                    int(bool(sym.get("is_async"))), int(bool(sym.get("is_static"))),
                    sym.get("doc", ""), ids.get(sym["parent"]) if sym["parent"] else None,
                ),
            ).lastrowid  # fmt: skip
            where[sym["qname"]] = sym["path"]
        for kind, source, target, text, line, column in self.edges:
            conn.execute(
                "INSERT INTO edges (kind, source_id, target_id, target_text, file_id, line,"
                " column, resolved_via) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind, ids[source], ids[target] if target else None, text,
                    file_ids[where[source]], line, column, "unique" if target else None,
                ),
            )  # fmt: skip


def sample_index(root: Path) -> IndexBuilder:
    """The project most CLI tests read: two apps with a shared name (``helper``) for
    ambiguity, calls with known call sites, one unresolved call."""
    b = IndexBuilder(root)
    b.symbol("app.core", "module", "src/app/core.py", (1, 40))
    b.symbol("app.core.authenticate", "function", "src/app/core.py", (3, 12),
             parent="app.core", signature="def authenticate(user, password) -> bool",
             doc="Check a password.")  # fmt: skip
    b.symbol("app.core.helper", "function", "src/app/core.py", (14, 16), parent="app.core",
             signature="def helper()")  # fmt: skip
    b.symbol("app.core.Session", "class", "src/app/core.py", (18, 40), parent="app.core")
    b.symbol("app.core.Session.login", "method", "src/app/core.py", (20, 30),
             parent="app.core.Session", column=4, is_async=True,
             signature="async def login(self)")  # fmt: skip
    b.symbol("app.api.views", "module", "src/app/api/views.py", (1, 30))
    b.symbol("app.api.views.index", "function", "src/app/api/views.py", (5, 20),
             parent="app.api.views")  # fmt: skip
    b.symbol("app.api.views.helper", "function", "src/app/api/views.py", (22, 24),
             parent="app.api.views")  # fmt: skip
    b.symbol("tools.run", "module", "tools/run.go", (1, 10))
    b.files["tools/run.go"] = "go"
    b.symbol("tools.run::Main", "function", "tools/run.go", (3, 9), parent="tools.run")
    b.edge("calls", "app.api.views.index", "app.core.authenticate", "core.authenticate", 8, 11)
    b.edge("calls", "app.api.views.index", "app.core.authenticate", "core.authenticate", 12, 4)
    b.edge("calls", "app.core.Session.login", "app.core.authenticate", "authenticate", 25, 15)
    b.edge("calls", "app.core.authenticate", "app.core.helper", "helper", 9, 8)
    b.edge("calls", "app.api.views.index", "app.api.views.helper", "helper", 15, 4)
    b.edge("calls", "app.core.authenticate", None, "hashlib.sha256", 7, 12)
    b.edge("imports", "app.api.views", "app.core", "app.core", 1, 0)
    return b
