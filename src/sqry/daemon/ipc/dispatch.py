"""The router: one decoded JSON document in, the JSON-RPC reply (or nothing) out.

It applies ipc.md §3 to single requests and batches, looks methods up in the
MethodRegistry, decodes params, runs the handler and wraps its result in the §4
envelope. It knows nothing about sockets; the server feeds it documents and writes
whatever it returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqry.daemon.ipc.framing import MAX_FRAME_BYTES, FrameTooLarge, dumps, frame_bytes
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

    async def handle_document(
        self, doc: Any, after_send: AfterSend
    ) -> dict[str, Any] | list[dict[str, Any]] | None:
        """Reply for one frame's document; None means "send no frame".

        What handlers asked to happen after the reply (``Reply.after_send`` callbacks,
        ``Reply.close_after``) is collected in ``after_send`` for the caller, which acts
        on it once the reply is written.
        """
        if type(doc) is dict:
            return await self._single(doc, after_send)
        if type(doc) is list:
            return await self._batch(doc, after_send)
        return invalid_request(REASON_NOT_OBJECT_OR_ARRAY)

    async def _batch(
        self, items: list[Any], after_send: AfterSend
    ) -> list[dict[str, Any]] | dict[str, Any] | None:
        if not items:
            return invalid_request(REASON_EMPTY_BATCH)
        replies: list[dict[str, Any]] = []
        for item in items:
            if type(item) is dict:
                reply = await self._single(item, after_send)
                if reply is not None:
                    replies.append(reply)
            elif type(item) is list:
                replies.append(invalid_request(REASON_BATCH_ELEMENT_ARRAY))
            else:
                replies.append(invalid_request(REASON_BATCH_ELEMENT_SCALAR))
        return replies or None

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


def encode_reply(reply: dict[str, Any] | list[dict[str, Any]]) -> bytes:
    """Frame a reply; a result that cannot be sent becomes -32603 instead of a crash.

    A handler may return something JSON cannot carry (a set, NaN, a cycle) or a result
    over the 64 MiB frame limit. The client must still get an answer for its id, so the
    offending response is replaced by an internal error and the rest is kept.
    """
    try:
        return frame_bytes(dumps(reply))
    except (TypeError, ValueError, RecursionError) as exc:
        if type(reply) is dict:
            return frame_bytes(dumps(_unsendable(reply, exc)))
        parts = [_encode_entry(entry) for entry in reply]
        body = b"[" + b",".join(parts) + b"]"
        if len(body) > MAX_FRAME_BYTES:
            parts = [dumps(_unsendable(entry, FrameTooLarge("batch reply"))) for entry in reply]
            body = b"[" + b",".join(parts) + b"]"
        return frame_bytes(body)


def _encode_entry(entry: dict[str, Any]) -> bytes:
    try:
        body = dumps(entry)
    except (TypeError, ValueError, RecursionError) as exc:
        return dumps(_unsendable(entry, exc))
    if len(body) > MAX_FRAME_BYTES:
        return dumps(_unsendable(entry, FrameTooLarge("entry")))
    return body


def _unsendable(reply: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    log.error("reply for id %r could not be sent: %s", reply.get("id"), exc)
    if isinstance(exc, FrameTooLarge):
        reason = f"the reply exceeds the {MAX_FRAME_BYTES}-byte frame limit; narrow the request"
    else:
        reason = f"the reply could not be encoded as JSON ({type(exc).__name__}: {exc})"
    return internal_error(reply.get("id"), reason)
