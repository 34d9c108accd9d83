"""The router: one decoded JSON document in, the JSON-RPC reply (or nothing) out.

It applies ipc.md §3 to single requests and batches, looks methods up in the
MethodRegistry, decodes params, runs the handler, wraps its result in the §4
envelope and frames the reply. It knows nothing about sockets; the server feeds it
documents and writes whatever frame it returns.

Limits beyond ipc.md, so one request cannot freeze or flood the daemon:

* a batch holds at most MAX_BATCH_ELEMENTS (1,024) elements; a longer one is answered
  by one -32600 "batch too large (N elements, limit 1024)", nothing in it is run, and
  the connection stays open;
* a batch yields to the event loop every BATCH_YIELD_EVERY elements, so other
  connections keep being served while it runs;
* a reply that would pass the 64 MiB frame limit becomes one small -32603 (one log
  line): for a single request it carries the request's id, for a batch ``id: null``
  and the batch stops at the element that overflowed (the reason says which ran).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqry.daemon.ipc.framing import (
    MAX_FRAME_BYTES,
    FrameTooLarge,
    dumps,
    encode_frame,
    frame_bytes,
)
from sqry.daemon.ipc.protocol import (
    INTERNAL_ERROR,
    METHOD_NOT_FOUND,
    REASON_EMPTY_BATCH,
    REASON_NOT_OBJECT_OR_ARRAY,
    STANDARD_MESSAGES,
    Reply,
    Request,
    RpcFailure,
    error_response,
    failure_response,
    invalid_request,
    success_response,
    validate_request,
)

if TYPE_CHECKING:
    from sqry.daemon.ipc.context import ServerContext
    from sqry.daemon.ipc.registry import MethodRegistry

log = logging.getLogger("sqry.daemon.ipc")

MAX_BATCH_ELEMENTS = 1024
"""Most elements one batch may hold; a larger batch is answered by one -32600.

Elements are served one at a time, so a batch is a queue the client hands over in
one frame; 1,024 covers any real client (the CLI sends single requests, editors a
handful) while keeping one frame's work and reply bounded.
"""
BATCH_YIELD_EVERY = 16
"""Batch elements served back to back before yielding to the event loop."""

REASON_BATCH_ELEMENT_ARRAY = "batch element must be a request object, not an array"
REASON_BATCH_ELEMENT_SCALAR = "batch element must be a request object"


def internal_error(request_id: Any, reason: str, **extra: Any) -> dict[str, Any]:
    """-32603 with ``data.kind = "internal"`` (ipc.md §5)."""
    data = {"kind": "internal", "reason": reason, **extra}
    return error_response(request_id, INTERNAL_ERROR, STANDARD_MESSAGES[INTERNAL_ERROR], data)


@dataclass(slots=True)
class AfterSend:
    """Effects handlers requested for after their reply frame has been written."""

    callbacks: list[Callable[[], None]] = field(default_factory=list)
    close: bool = False


class Dispatcher:
    """Routes decoded documents to registered handlers for one server."""

    def __init__(self, ctx: ServerContext, registry: MethodRegistry) -> None:
        self._ctx = ctx
        self._registry = registry
        self._management_meta = {"stale": False, "daemon_version": ctx.daemon_version}

    async def reply_frame(self, doc: Any, after_send: AfterSend) -> bytes | None:
        """The framed reply to one frame's document; None means "send no frame".

        What handlers asked to happen after the reply (``Reply.after_send`` callbacks,
        ``Reply.close_after``) is collected in ``after_send`` for the caller, which acts
        on it once the reply is written.
        """
        if type(doc) is dict:
            reply = await self._single(doc, after_send)
            return None if reply is None else encode_reply(reply)
        if type(doc) is list:
            return await self._batch(doc, after_send)
        return encode_frame(invalid_request(REASON_NOT_OBJECT_OR_ARRAY))

    async def _batch(self, items: list[Any], after_send: AfterSend) -> bytes | None:
        """Serve a batch element by element, encoding each reply as it is made.

        Encoding as we go keeps a running size: once the reply would pass the frame
        limit the remaining elements are not run and the whole batch is answered by
        one small -32603 (and one log line). The loop yields to the event loop every
        BATCH_YIELD_EVERY elements so other connections are served meanwhile.
        """
        if not items:
            return encode_frame(invalid_request(REASON_EMPTY_BATCH))
        if len(items) > MAX_BATCH_ELEMENTS:
            return encode_frame(
                invalid_request(
                    f"batch too large ({len(items)} elements, limit {MAX_BATCH_ELEMENTS}); "
                    "split it into smaller batches"
                )
            )
        parts: list[bytes] = []
        size = 1  # the opening bracket; each part adds itself plus a comma or "]"
        unsendable: list[tuple[Any, BaseException]] = []
        for index, item in enumerate(items):
            if index and index % BATCH_YIELD_EVERY == 0:
                await asyncio.sleep(0)
            reply = await self._batch_element(item, after_send)
            if reply is None:
                continue
            part = _encode_part(reply, unsendable)
            size += len(part) + 1
            if size > MAX_FRAME_BYTES:
                return encode_frame(_batch_too_large(index + 1, len(items)))
            parts.append(part)
        if unsendable:
            _log_unsendable(unsendable)
        if not parts:
            return None
        return frame_bytes(b"[" + b",".join(parts) + b"]")

    async def _batch_element(self, item: Any, after_send: AfterSend) -> dict[str, Any] | None:
        if type(item) is dict:
            return await self._single(item, after_send)
        if type(item) is list:
            return invalid_request(REASON_BATCH_ELEMENT_ARRAY)
        return invalid_request(REASON_BATCH_ELEMENT_SCALAR)

    async def _single(self, obj: dict[str, Any], after_send: AfterSend) -> dict[str, Any] | None:
        request = validate_request(obj)
        if type(request) is dict:
            return request
        return await self.call(request, after_send)  # type: ignore[arg-type]

    async def call(self, request: Request, after_send: AfterSend) -> dict[str, Any] | None:
        """Run one valid request; notifications are dispatched but never answered."""
        method = self._registry.get(request.method)
        if method is None:
            if request.is_notification:
                return None
            return error_response(
                request.id,
                METHOD_NOT_FOUND,
                STANDARD_MESSAGES[METHOD_NOT_FOUND],
                {"method": request.method},
            )
        try:
            params = method.decode(request.params)
            out = await method.handler(self._ctx, params)
        except RpcFailure as failure:
            return None if request.is_notification else failure_response(request.id, failure)
        except Exception as exc:
            log.exception("handler for %s raised; answering -32603", request.method)
            if request.is_notification:
                return None
            return internal_error(
                request.id,
                f"{type(exc).__name__}: {exc} (details in the daemon log)",
                method=request.method,
            )
        if type(out) is Reply:
            if out.after_send is not None:
                after_send.callbacks.append(out.after_send)
            after_send.close = after_send.close or out.close_after
            meta = (
                self._management_meta
                if out.meta is None
                else out.meta.to_wire(self._ctx.daemon_version)
            )
            envelope = {"result": out.result, "meta": meta}
        else:
            envelope = {"result": out, "meta": self._management_meta}
        if request.is_notification:
            return None
        return success_response(request.id, envelope)


def encode_reply(reply: dict[str, Any]) -> bytes:
    """Frame one reply; a result that cannot be sent becomes -32603 instead of a crash.

    A handler may return something JSON cannot carry (a set, NaN, a cycle, a HugeInt)
    or a result over the 64 MiB frame limit. The client must still get an answer for
    its id, so the reply is replaced by a small internal error (logged once) —
    with ``"id": null`` when the id alone is what makes it too large (a string
    id of tens of MiB): an answer without the id beats none at all.
    """
    try:
        return frame_bytes(dumps(reply))
    except (TypeError, ValueError, RecursionError) as exc:
        _log_unsendable([(reply.get("id"), exc)])
        try:
            return encode_frame(_unsendable(reply.get("id"), exc))
        except FrameTooLarge:
            return encode_frame(_unsendable(None, exc))


def _encode_part(reply: dict[str, Any], unsendable: list[tuple[Any, BaseException]]) -> bytes:
    """One batch entry as JSON; an unencodable one becomes -32603, noted in ``unsendable``.

    An entry over the frame limit is returned as is: the caller's running size check
    turns the whole batch into one error.
    """
    try:
        return dumps(reply)
    except (TypeError, ValueError, RecursionError) as exc:
        unsendable.append((reply.get("id"), exc))
        return dumps(_unsendable(reply.get("id"), exc))


def _unsendable(request_id: Any, exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, FrameTooLarge):
        reason = f"the reply exceeds the {MAX_FRAME_BYTES}-byte frame limit; narrow the request"
    else:
        reason = f"the reply could not be encoded as JSON ({type(exc).__name__}: {exc})"
    return internal_error(request_id, reason)


def _log_unsendable(failures: list[tuple[Any, BaseException]]) -> None:
    """One log line however many replies of a frame failed (a batch must not flood the log)."""
    request_id, exc = failures[0]
    more = f" (and {len(failures) - 1} more in the same batch)" if len(failures) > 1 else ""
    log.error("reply for id %s could not be sent: %s%s", _clipped(request_id), exc, more)


LOGGED_ID_CHARS = 100  # a client chooses its ids: one must not fill the log


def _clipped(request_id: Any) -> str:
    """``repr(request_id)``, cut to :data:`LOGGED_ID_CHARS` with the length noted."""
    text = repr(request_id)
    if len(text) <= LOGGED_ID_CHARS:
        return text
    return f"{text[:LOGGED_ID_CHARS]}... ({len(text)} characters)"


def _batch_too_large(ran: int, total: int) -> dict[str, Any]:
    """The one reply replacing a batch whose replies outgrow a frame (logged once)."""
    log.error(
        "batch reply passed the %d-byte frame limit at element %d of %d; "
        "answered with one error instead",
        MAX_FRAME_BYTES,
        ran,
        total,
    )
    not_run = f"elements {ran + 1}-{total} were not run" if ran < total else "all elements ran"
    return internal_error(
        None,
        f"the batch reply would exceed the {MAX_FRAME_BYTES}-byte frame limit at element "
        f"{ran} of {total}; elements 1-{ran} ran, {not_run}; send smaller batches or "
        "narrower requests",
    )
