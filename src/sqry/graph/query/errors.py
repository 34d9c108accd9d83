"""The one error type a query can raise, shaped so every front end can report it.

The CLI renders it with a caret under the query and exits 2; the daemon maps it to
JSON-RPC ``-32602`` and sends ``position``/``expected`` as data. Positions are
1-based character columns because that is what a person counts when reading the
echoed query.
"""

from __future__ import annotations

#: How much of a long query is echoed on each side of the caret.
_WINDOW = 60


class QueryError(ValueError):
    """A query that cannot be parsed or run, with where and what was expected.

    ``position`` is the 1-based column of the offending character (``len+1`` when
    the query ended too early); ``expected`` says what would have been valid there;
    ``query`` is the text, kept so :meth:`render` can point into it; ``subject`` names
    it in the message ("query", or "pattern" for a ``sqry search`` regex).
    """

    def __init__(
        self, message: str, position: int, expected: str, query: str = "", subject: str = "query"
    ) -> None:
        super().__init__(f"{subject} error at column {position}: {message}")
        self.message = message
        self.position = position
        self.expected = expected
        self.query = query

    def render(self) -> str:
        """The one-line error, then the query (windowed if long) with a caret under the spot."""
        if not self.query:
            return str(self)
        index = self.position - 1
        start = max(0, index - _WINDOW)
        end = min(len(self.query), index + _WINDOW)
        shown = self.query[start:end]
        # Tabs and newlines would break the caret's alignment; show them as spaces.
        shown = "".join(" " if ch in "\t\r\n\f\v" else ch for ch in shown)
        prefix = "..." if start > 0 else ""
        suffix = "..." if end < len(self.query) else ""
        caret = " " * (len(prefix) + _cells(shown[: index - start])) + "^"
        return f"{self}\n  {prefix}{shown}{suffix}\n  {caret}"

    def to_data(self) -> dict[str, object]:
        """The JSON-RPC ``error.data`` for this error (``-32602``)."""
        return {"reason": str(self), "position": self.position, "expected": self.expected}


def _cells(text: str) -> int:
    """Terminal columns ``text`` takes: East Asian wide and fullwidth characters
    take two, combining marks none (so the caret lands under ``日本語``'s end)."""
    import unicodedata

    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width
