"""Request cases shared by the in-process and the live-sqryd wire tests (ipc.md §3).

One table per rule, so both servers are held to exactly the same matrix.
"""

from __future__ import annotations

HUGE_DIGITS = "9" * 5000
"""An integer literal past Python's int() digit limit (4,300): valid JSON all the same."""

VALID_IDS = [
    ("0", 0),
    ("1", 1),
    ("-1", -1),
    ("9223372036854775807", 2**63 - 1),
    ("18446744073709551615", 2**64 - 1),
    ('"abc"', "abc"),
    ('"\u00e9t\u00e9 \U0001f600"', "\u00e9t\u00e9 \U0001f600"),  # beyond ASCII, beyond the BMP
]


INVALID_IDS = [
    "1.5",
    "1e3",
    "42.0E0",
    "1.0",
    "-0.0",
    "true",
    "false",
    "{}",
    "[]",
    '{"a":1}',
    "18446744073709551616",
    "-9223372036854775809",
    '"\\ud800"',  # a lone surrogate: its echo would be undecodable to strict clients
    '"a\\udfffb"',
]

HUGE_INVALID_IDS = [HUGE_DIGITS, "-" + HUGE_DIGITS]
"""Out of the i64/u64 range too, but they used to be a -32700 that closed the connection."""


# Each request fails exactly one rule, and also breaks every later rule, to prove the
# order in which the rules are checked (the first failing rule names the reason).
VALIDATION_ORDER = [
    ({"method": "", "id": 1.5, "params": 3}, 'missing "jsonrpc"', None),
    ({"jsonrpc": 2.0, "method": "", "id": 1.5, "params": 3}, '"jsonrpc" must be the string', None),
    ({"jsonrpc": None, "method": "", "id": 1.5, "params": 3}, '"jsonrpc" must be the string', None),
    (
        {"jsonrpc": "1.0", "method": "", "id": 1.5, "params": 3},
        'unsupported "jsonrpc" version',
        "1.0",
    ),
    ({"jsonrpc": "2.0", "id": 1.5, "params": 3}, 'missing "method"', None),
    ({"jsonrpc": "2.0", "method": 5, "id": 1.5, "params": 3}, '"method" must be a string', None),
    ({"jsonrpc": "2.0", "method": None, "id": 1.5, "params": 3}, '"method" must be a string', None),
    ({"jsonrpc": "2.0", "method": "", "id": 1.5, "params": 3}, '"method" must not be empty', None),
    ({"jsonrpc": "2.0", "method": "x", "id": 1.5, "params": 3}, '"id" must be', None),
    ({"jsonrpc": "2.0", "method": "x", "id": 1, "params": 3}, '"params" must be', None),
    ({"jsonrpc": "2.0", "method": "x", "id": 1, "params": "s"}, '"params" must be', None),
]
