"""One symbol as read from the index, and the JSON item every front end emits.

All readers select :data:`SYMBOL_COLUMNS` in this order and build a
:class:`SymbolRow` from it, so ``sqry search``, ``sqry query``, the graph commands
and the daemon all describe a symbol the same way. Database ids are kept for
follow-up lookups but never printed: they change on every rebuild.
"""

from __future__ import annotations

from sqry.graph.query.record import Record


def symbol_columns(s: str = "s", f: str = "f") -> str:
    """The SELECT list matching :meth:`SymbolRow.from_row` for aliases ``s`` (symbols)
    and ``f`` (files)."""
    return (
        f"{s}.id, {s}.kind, {s}.name, {s}.qualified_name, {s}.language, {f}.path, "
        f"{s}.start_line, {s}.start_column, {s}.end_line, {s}.end_column, {s}.signature, "
        f"{s}.doc, {s}.visibility, {s}.is_async, {s}.is_static, {s}.parent_id"
    )


SYMBOL_COLUMN_COUNT = 16


class SymbolRow(Record):
    """A symbol with its file path. Lines are 1-based, columns 0-based (as stored)."""

    __slots__ = (
        "id",
        "kind",
        "name",
        "qualified_name",
        "language",
        "path",
        "start_line",
        "start_column",
        "end_line",
        "end_column",
        "signature",
        "doc",
        "visibility",
        "is_async",
        "is_static",
        "parent_id",
    )
    id: int
    kind: str
    name: str
    qualified_name: str
    language: str
    path: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    signature: str
    doc: str
    visibility: str
    is_async: bool
    is_static: bool
    parent_id: int | None

    @classmethod
    def from_row(cls, row: tuple) -> SymbolRow:
        """Build from the first :data:`SYMBOL_COLUMN_COUNT` values of a result row."""
        values = list(row[:SYMBOL_COLUMN_COUNT])
        values[13] = bool(values[13])
        values[14] = bool(values[14])
        return cls(*values)

    @property
    def lines(self) -> int:
        """``end_line - start_line + 1``: what the ``lines`` query field compares."""
        return self.end_line - self.start_line + 1

    def item(self) -> dict[str, object]:
        """The search/query item (the shape of ``daemon/search`` results)."""
        return {
            "name": self.name,
            "qualified_name": self.qualified_name,
            "kind": self.kind,
            "language": self.language,
            "file_path": self.path,
            "start_line": self.start_line,
            "start_column": self.start_column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }

    def details(self) -> dict[str, object]:
        """:meth:`item` plus what ``explain`` shows (parent is filled in by the caller)."""
        return {
            **self.item(),
            "signature": self.signature,
            "doc": self.doc,
            "visibility": self.visibility,
            "is_async": self.is_async,
            "is_static": self.is_static,
        }
