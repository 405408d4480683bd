"""Request guards in front of every route: body sizes and validation answers that never echo the input.

A request body is bounded before any route reads it: a ``multipart/form-data`` body (uploads) by
``multipart_limit``, every other body (JSON, forms) by ``body_limit``. A declared ``Content-Length`` over
the bound is refused at once (413) without reading; a body sent without one (chunked) is counted while it
streams and refused as soon as it crosses the bound, so that no route ever holds more than that.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

#: The most bytes of a JSON (or any other non-multipart) body.
BODY_LIMIT = 2**20


@dataclass(slots=True)
class _Refusal:
    """What the guard answers instead of the app, once it has refused the body."""

    status: int
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


async def answer(send: Send, status_code: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """Send a JSON ``{"detail": ...}`` response straight on the ASGI channel, closing the connection."""
    body = json.dumps({"detail": detail}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"x-content-type-options", b"nosniff"),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status_code, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class RequestGuard:
    """ASGI middleware: bound request bodies (413 with the limit in the reason).

    Plain ASGI (not ``BaseHTTPMiddleware``), so that bodies stream through untouched while they are counted.

    Args:
        app: the application.
        body_limit: the most bytes of a body that is not ``multipart/form-data``.
        multipart_limit: the most bytes of a ``multipart/form-data`` body.
    """

    def __init__(self, app: ASGIApp, *, body_limit: int = BODY_LIMIT, multipart_limit: int) -> None:
        self.app = app
        self.body_limit = body_limit
        self.multipart_limit = multipart_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        limit = self.multipart_limit if kind == b"multipart/form-data" else self.body_limit
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await answer(send, status.HTTP_400_BAD_REQUEST, "Content-Length is not a number")
                return
            if length > limit:
                await answer(send, status.HTTP_413_CONTENT_TOO_LARGE, _too_large(limit))
                return
        refusal: _Refusal | None = None
        started = False
        received = 0
        done = False

        async def guarded_receive() -> Message:
            nonlocal refusal, received, done
            if refusal is not None:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request" and not done:
                received += len(message.get("body", b""))
                done = not message.get("more_body", False)
                if received > limit:
                    refusal = _Refusal(status.HTTP_413_CONTENT_TOO_LARGE, _too_large(limit))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refusal is not None:
                return  # the app's answer to a body it never got whole: the guard answers instead
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if refusal is None:
                raise
        if refusal is not None and not started:
            logger.info("refused %s %s: %s", scope["method"], scope["path"], refusal.detail)
            await answer(send, refusal.status, refusal.detail, refusal.headers)


def _too_large(limit: int) -> str:
    return f"the request body exceeds {limit} bytes"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with where and why each value is wrong, never the value itself (a body may be large, or a
    password)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [
        {"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")}
        for e in errors
        if isinstance(e, dict)
    ]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
