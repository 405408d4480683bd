"""Request guards in front of every route: body sizes and validation answers that never echo the input.

A request body is bounded before any route reads it: a ``multipart/form-data`` body (uploads) by
``multipart_limit``, every other body (JSON, forms) by ``body_limit``. A declared ``Content-Length`` over
the bound is refused at once (413) without reading; a body sent without one (chunked) is counted while it
streams and refused as soon as it crosses the bound, so that no route ever holds more than that.

Large uploads (``multipart/form-data`` over ``body_limit`` declared, or of unknown length) are read
``large_uploads`` at a time, and only from callers the app authenticates (``identify``, checked before the
body is read: 401 otherwise), each holding at most ``per_caller`` turns at once (429 beyond); a request
that waits longer than ``upload_wait_s`` for its turn is answered 503 with ``Retry-After``. Other bodies
never wait: they are bounded by ``body_limit`` and counted as they arrive. A body that stops arriving for
``body_idle_s``, is not whole after ``body_total_s``, or (a large upload holding a turn) arrives slower
than ``min_rate_bps`` on average once ``min_rate_after_s`` have passed, is answered 408.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
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
    """ASGI middleware: bound request bodies (413 with the limit in the reason); every response says
    ``X-Content-Type-Options: nosniff`` (a browser takes each file for what its type says, never sniffs).

    Plain ASGI (not ``BaseHTTPMiddleware``), so that bodies stream through untouched while they are counted.

    Args:
        app: the application.
        body_limit: the most bytes of a body that is not ``multipart/form-data``.
        multipart_limit: the most bytes of a ``multipart/form-data`` body.
        large_uploads: large bodies read at once (per process).
        upload_wait_s: how long a large body waits for its turn before a 503.
        body_idle_s: the longest pause while a body arrives before a 408.
        body_total_s: the longest a body may take to arrive in all before a 408.
        identify: the caller a request's headers authenticate (``None``: nobody); ``None`` here lets
            anyone upload (tests of the guard alone).
        per_caller: large uploads one caller reads at once; default half of ``large_uploads`` (at least 1).
        min_rate_bps: the slowest average rate of a large upload, in bytes per second, ...
        min_rate_after_s: ... once this much time has passed since its first byte was awaited.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limit: int = BODY_LIMIT,
        multipart_limit: int,
        large_uploads: int = 4,
        upload_wait_s: float = 10.0,
        body_idle_s: float = 30.0,
        body_total_s: float = 600.0,
        identify: Callable[[Scope], Awaitable[str | None]] | None = None,
        per_caller: int | None = None,
        min_rate_bps: float = 16_384.0,
        min_rate_after_s: float = 5.0,
    ) -> None:
        self.app = app
        self.body_limit = body_limit
        self.multipart_limit = multipart_limit
        self.upload_wait_s = upload_wait_s
        self.body_idle_s = body_idle_s
        self.body_total_s = body_total_s
        self._large = asyncio.Semaphore(large_uploads)
        self.identify = identify
        self.per_caller = per_caller or max(1, large_uploads // 2)
        self.min_rate_bps = min_rate_bps
        self.min_rate_after_s = min_rate_after_s
        self._held: Counter[str] = Counter()  # turns held or awaited, by caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        limit = self.multipart_limit if kind == b"multipart/form-data" else self.body_limit
        declared = _header(scope, b"content-length")
        length: int | None = None
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await answer(send, status.HTTP_400_BAD_REQUEST, "Content-Length is not a number")
                return
            if length > limit:
                await answer(send, status.HTTP_413_CONTENT_TOO_LARGE, _too_large(limit))
                return
        chunked = b"chunked" in (_header(scope, b"transfer-encoding") or b"").lower()
        large = kind == b"multipart/form-data" and (
            (length is not None and length > self.body_limit) or (length is None and chunked)
        )
        if not large:
            await self._guarded(scope, receive, send, limit)
            return
        caller = "anyone" if self.identify is None else await self.identify(scope)
        if caller is None:
            await answer(
                send,
                status.HTTP_401_UNAUTHORIZED,
                "a valid API key is required",
                {"WWW-Authenticate": "Bearer"},
            )
            return
        if self._held[caller] >= self.per_caller:
            logger.warning(
                "refused %s %s: %s sends too many uploads at once", scope["method"], scope["path"], caller
            )
            await answer(
                send,
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"at most {self.per_caller} large uploads at once from one caller: retry shortly",
                {"Retry-After": "5"},
            )
            return
        self._held[caller] += 1
        try:
            await self._large_upload(scope, receive, send, limit)
        finally:
            self._held[caller] -= 1
            if not self._held[caller]:
                del self._held[caller]

    async def _large_upload(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        try:
            await asyncio.wait_for(self._large.acquire(), self.upload_wait_s)
        except TimeoutError:
            logger.warning("refused %s %s: too many large uploads at once", scope["method"], scope["path"])
            await answer(
                send,
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "too many large uploads at once: retry shortly",
                {"Retry-After": "5"},
            )
            return
        try:
            await self._guarded(scope, receive, send, limit, min_rate=self.min_rate_bps)
        finally:
            self._large.release()

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, limit: int, *, min_rate: float = 0.0
    ) -> None:
        refusal: _Refusal | None = None
        started = False
        received = 0
        done = False
        begun = time.monotonic()
        deadline = begun + self.body_total_s

        async def guarded_receive() -> Message:
            nonlocal refusal, received, done
            if refusal is not None:
                return {"type": "http.disconnect"}
            if done:  # after the body: the app waits for a disconnect, as long as it likes
                return await receive()
            now = time.monotonic()
            wait = min(self.body_idle_s, deadline - now)
            if min_rate:  # the next byte must come before the average falls below the rate
                wait = min(wait, begun + max(self.min_rate_after_s, (received + 1) / min_rate) - now)
            try:
                message = await asyncio.wait_for(receive(), max(wait, 0.0))
            except TimeoutError:
                refusal = _Refusal(status.HTTP_408_REQUEST_TIMEOUT, "the request body arrives too slowly")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
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
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    message = {**message, "headers": [*headers, (b"x-content-type-options", b"nosniff")]}
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
