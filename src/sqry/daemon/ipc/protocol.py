"""JSON-RPC 2.0 message shapes, validation rules and the result envelope (ipc.md §2–5).

Everything here is pure data manipulation (no sockets, no asyncio) so the rules can be
read in one place and unit-tested directly. The server decides *when* to apply them;
this module decides *what* a valid message is and what the replies look like.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, Final

JSONRPC_VERSION: Final = "2.0"
PROTOCOL_VERSION: Final = 1
ENVELOPE_VERSION: Final = 1
MAX_SHIM_CONNECTIONS: Final = 256
"""Cap on concurrent shim (MCP/LSP byte-pump) connections, for when a shim host exists."""

SHIM_PROTOCOLS: Final = ("mcp", "lsp")
U32_MAX: Final = 2**32 - 1
I64_MIN: Final = -(2**63)
U64_MAX: Final = 2**64 - 1

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
MEMORY_BUDGET_EXCEEDED: Final = -32003  # ipc.md §5 (here: the big-frame budget)

STANDARD_MESSAGES: Final = {
    PARSE_ERROR: "Parse error",
    INVALID_REQUEST: "Invalid Request",
    METHOD_NOT_FOUND: "Method not found",
    INVALID_PARAMS: "Invalid params",
    INTERNAL_ERROR: "Internal error",
}

WORKSPACE_STATES: Final = frozenset(
    {"Unloaded", "Loading", "Loaded", "Rebuilding", "Evicted", "Failed"}
)

REASON_FIRST_FRAME_NOT_JSON: Final = "first frame must be DaemonHello or ShimRegister"
REASON_NOT_HELLO: Final = "first frame must be a DaemonHello handshake"
REASON_NOT_OBJECT_OR_ARRAY: Final = "request must be an object or array"
REASON_EMPTY_BATCH: Final = "batch must contain at least one request"


class RpcFailure(Exception):
    """A handler's typed error: becomes ``{"code", "message", "data"?}`` on the wire.

    Raise it from any handler (or params decoder) to answer with a specific JSON-RPC
    error instead of the generic -32603. ``data`` is omitted from the reply when empty.
    """

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code} {message}: {data}" if data else f"{code} {message}")
        self.code = code
        self.message = message
        self.data = data

    @classmethod
    def invalid_params(cls, reason: str) -> RpcFailure:
        """The -32602 failure every params decoder and path check raises."""
        return cls(INVALID_PARAMS, STANDARD_MESSAGES[INVALID_PARAMS], {"reason": reason})


@dataclass(frozen=True, slots=True)
class Meta:
    """Envelope meta for workspace-backed results (ipc.md §4).

    Optional fields left as None are *absent* on the wire, never ``null``.
    ``last_good_at`` must already be RFC 3339 UTC (``YYYY-MM-DDTHH:MM:SSZ``).
    """

    stale: bool = False
    workspace_state: str | None = None
    last_good_at: str | None = None
    last_error: str | None = None

    def __post_init__(self) -> None:
        if self.workspace_state is not None and self.workspace_state not in WORKSPACE_STATES:
            raise ValueError(f"unknown workspace_state {self.workspace_state!r}")

    def to_wire(self, daemon_version: str) -> dict[str, Any]:
        """Render the meta object, dropping fields that have no value."""
        out: dict[str, Any] = {"stale": self.stale, "daemon_version": daemon_version}
        if self.workspace_state is not None:
            out["workspace_state"] = self.workspace_state
        if self.last_good_at is not None:
            out["last_good_at"] = self.last_good_at
        if self.last_error is not None:
            out["last_error"] = self.last_error
        return out


@dataclass(slots=True)
class Reply:
    """What a handler returns when a bare payload is not enough.

    ``meta`` carries workspace meta (absent → management meta ``{stale: false,
    daemon_version}``). ``after_send`` runs once the reply frame has been handed to the
    transport — ``daemon/stop`` uses it so its reply is written before the drain begins.
    ``close_after`` closes this connection once the reply is flushed, serving none of
    the frames the client queued behind it.
    """

    result: Any
    meta: Meta | None = None
    after_send: Any = None  # Callable[[], None] | None; Any keeps the dataclass import-light
    close_after: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    """A structurally valid JSON-RPC request (method, params, id already checked)."""

    method: str
    params: Any
    id: Any
    is_notification: bool


# ---------------------------------------------------------------------------
# JSON decoding
# ---------------------------------------------------------------------------

MAX_JSON_VALUES: Final = 1_000_000
"""Most JSON values one frame may hold; a larger request is refused before it is parsed.

A 64 MiB frame is legal, but decoded JSON costs far more than its text: ``[[],[],...]``
becomes ~21 million list objects, about 1.6 GiB for one 64 MiB frame. Counting
``,``, ``[`` and ``{`` bounds the number of values from above (every value is the
top-level one, the first in a container, or follows a comma) in a few milliseconds
per MiB, without parsing. The count includes those characters inside strings, so
a request carrying text with more than a million commas is refused too; no sqryd
method takes such text. One million values cost at most ~100 MB once decoded.
"""

_VALUE_MARKS: Final = (b",", b"[", b"{")


class HugeInt:
    """An integer literal longer than Python converts (``sys.get_int_max_str_digits()``).

    Valid JSON, so it must not be a parse error: the decoder keeps its digits as this
    marker instead. An ``id`` holding one is out of the i64/u64 range (-32600); inside
    ``params`` it is the handler's business (the params decoder refuses it for any
    numeric field with -32602). Converting it is deliberately never attempted: the
    digit limit exists because int() on millions of digits takes quadratic time.
    """

    __slots__ = ("digits",)

    def __init__(self, digits: str) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"HugeInt({len(self.digits.lstrip('-'))} digits)"


class RequestRejected(Exception):
    """A correctly framed request we refuse to decode (too many values, nested too deep).

    Answered with one -32600 whose ``data.reason`` is ``reason``; unlike a parse error
    the framing is intact, so the connection stays open.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject_constant(token: str) -> Any:
    """json accepts NaN/Infinity by default; they are not JSON, so refuse them."""
    raise ValueError(f"{token} is not valid JSON")


def _int_or_huge(token: str) -> int | HugeInt:
    try:
        return int(token)
    except ValueError:  # over the int() digit limit
        return HugeInt(token)


_decoder = json.JSONDecoder(parse_constant=_reject_constant)
_scan_once = _decoder.scan_once
# Used only after the fast decoder hit the int() digit limit: a Python hook per integer
# would slow every request down, so the common case never pays for it.
_huge_int_decoder = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_int_or_huge)
_JSON_WHITESPACE = " \t\n\r"


def check_value_count(body: bytes | bytearray) -> None:
    """Raise RequestRejected when ``body`` may hold more than MAX_JSON_VALUES values.

    Free for ordinary requests: a body shorter than the limit cannot exceed it.
    """
    if len(body) <= MAX_JSON_VALUES:
        return
    bound = 1 + sum(body.count(mark) for mark in _VALUE_MARKS)
    if bound > MAX_JSON_VALUES:
        raise RequestRejected(
            f"request too large to decode: up to {bound} JSON values (counting the "
            f"commas and brackets in its {len(body)} bytes), limit {MAX_JSON_VALUES}; "
            "send smaller requests"
        )


def parse_json(body: bytes | bytearray) -> Any:
    """Decode a frame body as strict UTF-8 JSON: ``parse_text(frame_text(body))``.

    Raises ValueError (with a reason) when the body is not JSON, and RequestRejected
    when it is JSON we will not decode (see MAX_JSON_VALUES; nesting deeper than the
    interpreter's recursion limit). Integers stay ``int`` (or HugeInt past the digit
    limit) and anything with a fraction or exponent becomes ``float`` — that type
    split is exactly what the id rules need (``1`` valid, ``1.0``/``1e3``/``42.0E0``
    invalid).
    """
    return parse_text(frame_text(body))


def frame_text(body: bytes | bytearray) -> str:
    """The body as text, after the value-count check; ValueError if not UTF-8.

    A separate step so the server can drop a big body before the text is parsed (the
    body, its text and the decoded values would otherwise all be alive at once). The
    body is decoded as UTF-8 ourselves: ``json.loads`` on bytes would also accept
    UTF-16/32.
    """
    if len(body) > MAX_JSON_VALUES:
        check_value_count(body)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"frame is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None


def parse_text(text: str) -> Any:
    """One JSON document from a frame's text (see parse_json for what it raises)."""
    try:
        # Fast path: the C scanner directly, skipping decode()'s two regex matches.
        obj, end = _scan_once(text, 0)
        if end == len(text) or not text[end:].strip(_JSON_WHITESPACE):
            return obj
    except (StopIteration, ValueError, RecursionError):
        pass
    return _parse_slowly(text)


def _parse_slowly(text: str) -> Any:
    """Everything but the clean fast path: word errors, keep huge integers, refuse depth."""
    try:
        try:
            return _decoder.decode(text)
        except json.JSONDecodeError as exc:
            raise ValueError(str(exc)) from None
        except ValueError:  # an integer over the int() digit limit: valid JSON, keep it
            try:
                return _huge_int_decoder.decode(text)
            except json.JSONDecodeError as exc:
                raise ValueError(str(exc)) from None
    except RecursionError:
        raise RequestRejected(
            "request nested too deeply to decode (arrays/objects inside each other "
            f"more than ~{sys.getrecursionlimit()} levels); flatten it"
        ) from None


# ---------------------------------------------------------------------------
# Response builders
# ---------------------------------------------------------------------------


def error_response(request_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    """A JSON-RPC error reply; ``data`` is omitted when empty (None or ``{}``)."""
    err: dict[str, Any] = {"code": code, "message": message}
    if data:
        err["data"] = data
    return {"jsonrpc": JSONRPC_VERSION, "id": request_id, "error": err}


def invalid_request(reason: str, context: Any = None) -> dict[str, Any]:
    """-32600 with ``id: null`` and ``data: {reason, context?}``."""
    data: dict[str, Any] = {"reason": reason}
    if context is not None:
        data["context"] = context
    return error_response(None, INVALID_REQUEST, STANDARD_MESSAGES[INVALID_REQUEST], data)


def parse_error(reason: str) -> dict[str, Any]:
    """-32700 with ``id: null``; the connection closes after it."""
    return error_response(None, PARSE_ERROR, STANDARD_MESSAGES[PARSE_ERROR], {"reason": reason})


def success_response(request_id: Any, envelope: dict[str, Any]) -> dict[str, Any]:
    """A JSON-RPC success reply carrying the ``{result, meta}`` envelope."""
    return {"jsonrpc": JSONRPC_VERSION, "id": request_id, "result": envelope}


def failure_response(request_id: Any, failure: RpcFailure) -> dict[str, Any]:
    """Render a handler's RpcFailure."""
    return error_response(request_id, failure.code, failure.message, failure.data)


# ---------------------------------------------------------------------------
# Request validation (ipc.md §3, in the spec's order)
# ---------------------------------------------------------------------------


def _valid_id(value: Any) -> bool:
    """null, a string, or an integer within i64..u64 (bool is an int subclass: excluded).

    A string holding a lone surrogate (``"\\ud800"``, which JSON escapes allow) is
    no valid id: echoed back it would make a reply strict decoders (Rust's serde)
    cannot read, so the client could not even learn why it failed.
    """
    if value is None:
        return True
    if type(value) is str:
        return value.isascii() or _encodable(value)
    return type(value) is int and I64_MIN <= value <= U64_MAX


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate_request(obj: dict[str, Any]) -> Request | dict[str, Any]:
    """Check one request object; return a Request or the -32600 reply to send instead."""
    if "jsonrpc" not in obj:
        return invalid_request('missing "jsonrpc" field; expected "2.0"')
    version = obj["jsonrpc"]
    if type(version) is not str:
        return invalid_request('"jsonrpc" must be the string "2.0"')
    if version != JSONRPC_VERSION:
        return invalid_request('unsupported "jsonrpc" version; expected "2.0"', version)
    if "method" not in obj:
        return invalid_request('missing "method" field')
    method = obj["method"]
    if type(method) is not str:
        return invalid_request('"method" must be a string')
    if not method:
        return invalid_request('"method" must not be empty')
    request_id = obj.get("id")
    if not _valid_id(request_id):
        return invalid_request(
            '"id" must be null, a string or an integer in the i64/u64 range '
            "(no fractions, exponents, booleans, objects or arrays)"
        )
    params = obj.get("params")
    if params is not None and type(params) is not dict and type(params) is not list:
        return invalid_request('"params" must be an object, an array or null')
    return Request(method, params, request_id, request_id is None)


# ---------------------------------------------------------------------------
# First frame: DaemonHello or ShimRegister (ipc.md §2)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaemonHello:
    client_version: str
    protocol_version: int


@dataclass(frozen=True, slots=True)
class ShimRegister:
    protocol: str
    pid: int


def is_shim_register(obj: Any) -> bool:
    """The routing rule: an object carrying both ``protocol`` and ``pid`` is a shim."""
    return type(obj) is dict and "protocol" in obj and "pid" in obj


def decode_hello(obj: Any) -> DaemonHello | None:
    """Strictly decode a DaemonHello (exact fields, exact types) or return None."""
    if type(obj) is not dict or obj.keys() != {"client_version", "protocol_version"}:
        return None
    client_version = obj["client_version"]
    protocol_version = obj["protocol_version"]
    if type(client_version) is not str or type(protocol_version) is not int:
        return None
    return DaemonHello(client_version, protocol_version)


def decode_shim_register(obj: dict[str, Any]) -> ShimRegister | str:
    """Strictly decode a ShimRegister; return it, or the reason it is invalid."""
    extra = sorted(set(obj) - {"protocol", "pid"})
    if extra:
        return f"unknown field(s) in ShimRegister: {', '.join(extra)}"
    protocol, pid = obj["protocol"], obj["pid"]
    if type(protocol) is not str or protocol not in SHIM_PROTOCOLS:
        return 'ShimRegister "protocol" must be "mcp" or "lsp"'
    if type(pid) is not int or not 0 <= pid <= U32_MAX:
        return 'ShimRegister "pid" must be an unsigned 32-bit integer'
    return ShimRegister(protocol, pid)


def hello_reply(hello: DaemonHello, daemon_version: str) -> dict[str, Any]:
    """The reply to a DaemonHello; the connection closes after it when incompatible."""
    return {
        "compatible": hello.protocol_version == PROTOCOL_VERSION,
        "daemon_version": daemon_version,
        "envelope_version": ENVELOPE_VERSION,
    }


def shim_reply(obj: dict[str, Any]) -> dict[str, Any]:
    """Answer a ShimRegister. This daemon hosts no MCP/LSP shim yet, so it always refuses.

    A well-formed registration is refused with a reason naming the protocol, so a shim
    can tell "not hosted here" apart from "malformed registration".
    """
    decoded = decode_shim_register(obj)
    if isinstance(decoded, str):
        return {"accepted": False, "reason": decoded}
    return {
        "accepted": False,
        "reason": (
            f"protocol {decoded.protocol} is not hosted by this daemon; "
            f"run the {decoded.protocol} server standalone"
        ),
    }
