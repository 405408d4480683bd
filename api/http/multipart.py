"""Reading a ``multipart/form-data`` body straight into bytes, for the ingest route.

FastAPI's ``Form``/``File`` parameters spool every part through a temporary file object and then solve and
validate each parameter; for an event update with a 100 KB snapshot that costs more CPU than storing it.
:func:`read_parts` streams the body through python-multipart's parser and keeps only the parts asked for,
each up to its own size limit, so an oversized part is refused as soon as it crosses the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request, status
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks


#: Room in a body for boundaries and part headers, beyond the parts' own limits.
_OVERHEAD = 64 * 1024


def _sent_twice(name: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"part '{name}' is sent twice")


def _too_large(name: str, limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"part '{name}' exceeds {limit} bytes")


class _Parts:
    """Parser callbacks: collect the data of wanted parts, refuse oversized ones and repeats."""

    def __init__(self, limits: Mapping[str, int]) -> None:
        self.limits = limits
        self.parts: dict[str, bytes] = {}
        self.done = False
        self._field = b""
        self._value = b""
        self._disposition = b""
        self._name: str | None = None
        self._chunks: list[bytes] = []
        self._size = 0

    def on_part_begin(self) -> None:
        self._disposition = b""
        self._name = None
        self._chunks = []
        self._size = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        if self._field.lower() == b"content-disposition":
            self._disposition = self._value
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        _kind, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("latin-1")
        if name in self.parts:
            raise _sent_twice(name)
        self._name = name if name in self.limits else None  # other parts are read past and dropped

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name is None:
            return
        self._size += end - start
        if self._size > self.limits[self._name]:
            raise _too_large(self._name, self.limits[self._name])
        self._chunks.append(data[start:end])

    def on_part_end(self) -> None:
        if self._name is not None:
            self.parts[self._name] = b"".join(self._chunks)
        self._chunks = []

    def on_end(self) -> None:
        self.done = True


async def read_parts(request: Request, *, limits: Mapping[str, int]) -> dict[str, bytes]:
    """The parts of a ``multipart/form-data`` request body named in ``limits``, by name; others are dropped.

    Args:
        request: the request, whose body has not been read yet.
        limits: for each part wanted, the most bytes it may hold.

    Raises:
        HTTPException: 415 when the body is not ``multipart/form-data``, 400 when it is malformed or cut
            short, 413 when a part exceeds its limit or the body all the limits together, 422 when a part
            is sent twice.

    Example:
        >>> limits = {"event": 2**20, "snapshot": 20 * 2**20}
        >>> parts = await read_parts(request, limits=limits)  # doctest: +SKIP
        >>> parts["event"]  # doctest: +SKIP
        b'{"event_id": ...}'
    """
    kind, options = parse_options_header(request.headers.get("content-type"))
    if kind == b"application/x-www-form-urlencoded":  # what HTTP clients send for a form without files
        return await _read_urlencoded(request, limits)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "the body must be multipart/form-data with a boundary"
        )
    collected = _Parts(limits)
    callbacks: MultipartCallbacks = {
        "on_part_begin": collected.on_part_begin,
        "on_header_field": collected.on_header_field,
        "on_header_value": collected.on_header_value,
        "on_header_end": collected.on_header_end,
        "on_headers_finished": collected.on_headers_finished,
        "on_part_data": collected.on_part_data,
        "on_part_end": collected.on_part_end,
        "on_end": collected.on_end,
    }
    # Parts the route does not want are read past, not kept; the whole body is still bounded.
    most = sum(limits.values()) + _OVERHEAD
    size = 0
    try:
        parser = MultipartParser(boundary, callbacks)
        async for chunk in request.stream():
            size += len(chunk)
            if size > most:
                raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"the body exceeds {most} bytes")
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except (MultipartParseError, ValueError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"malformed multipart body: {exc}") from None
    if not collected.done:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "malformed multipart body: it ends before its last part"
        )
    return collected.parts


async def _read_urlencoded(request: Request, limits: Mapping[str, int]) -> dict[str, bytes]:
    """The wanted fields of a URL-encoded form (text only: files need multipart)."""
    most = sum(limits.values())
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > most:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"the form exceeds {most} bytes")
    try:
        fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the form is not UTF-8") from None
    parts: dict[str, bytes] = {}
    for name, value in fields:
        if name not in limits:
            continue
        if name in parts:
            raise _sent_twice(name)
        data = value.encode()
        if len(data) > limits[name]:
            raise _too_large(name, limits[name])
        parts[name] = data
    return parts
