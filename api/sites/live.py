"""Live view: a camera's frames relayed from its edge box to the browsers watching it, only while someone
watches.

The API never connects to an edge box (a site's 4G router hides it behind NAT), so the box learns of
watchers over its own requests: it long-polls ``GET /ingest/live-requests``, which answers as soon as a
camera of its site gains its first viewer (or after ``wait_s`` with nothing new), and while a camera is
watched it pushes JPEG frames with ``POST /ingest/live/{camera}``; each answer says whether anyone still
watches, so the box stops within a frame interval of the last viewer leaving. A viewer reads
``GET /sites/{site}/cameras/{camera}/live``, an MJPEG stream (``multipart/x-mixed-replace``) that an
``<img>`` plays.

The relay lives in the memory of one API process (:class:`api.sites.relay.LiveRelay`: a latest-frame
slot per watched camera and an event that wakes its viewers): the box's requests and the viewers' must
reach the same process (one process, or the live paths routed to one; see the README).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.access.audit import audit
from api.access.auth import Principal
from api.core.errors import ForbiddenError, InvalidError, NotFoundError
from api.models import CameraHealth
from api.sites.relay import LiveRelay
from api.sites.schemas import LivePushed, LiveRequests

logger = logging.getLogger(__name__)

#: The boundary between the parts of the MJPEG stream.
BOUNDARY = "frame"


def part(jpeg: bytes, frame_time: float) -> bytes:
    """One part of the MJPEG stream: the frame with its capture time (``X-Frame-Time``, Unix seconds).

    >>> part(b"jpeg", 1.5).split(b"\\r\\n")
    [b'--frame', b'Content-Type: image/jpeg', b'Content-Length: 4', b'X-Frame-Time: 1.500', b'', b'jpeg', b'']
    """
    head = (
        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Frame-Time: {frame_time:.3f}\r\n\r\n"
    )
    return head.encode() + jpeg + b"\r\n"


def mjpeg_parts(chunks: Iterator[bytes]) -> Iterator[tuple[dict[str, str], bytes]]:
    """The parts of an MJPEG stream (as :func:`part` writes them) from its bytes as they arrive: each part's
    headers (lower-case names) and its JPEG.

    >>> [(h["x-frame-time"], jpeg) for h, jpeg in mjpeg_parts(iter([part(b"a", 1.0), part(b"bc", 2.0)]))]
    [('1.000', b'a'), ('2.000', b'bc')]

    Raises:
        ValueError: bytes that are not such a stream.
    """
    buffer = b""
    while True:
        while b"\r\n\r\n" not in buffer:
            chunk = next(chunks, None)
            if chunk is None:
                return
            buffer += chunk
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").strip().split("\r\n")
        if lines[0] != f"--{BOUNDARY}":
            raise ValueError(f"not a part of the stream: {lines[0][:40]!r}")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers["content-length"])
        while len(buffer) < length + 2:
            chunk = next(chunks, None)
            if chunk is None:
                return
            buffer += chunk
        yield headers, buffer[:length]
        buffer = buffer[length + 2 :]


def _known_camera(session: Session, *, site_id: str, camera_id: str) -> None:
    if session.get(CameraHealth, (site_id, camera_id)) is None:
        raise NotFoundError(f"no camera {camera_id} at site {site_id}")


def _audit_view(session: Session, *, principal: Principal, site_id: str, camera_id: str) -> None:
    audit(session, actor=principal.name, action="live_view", target=f"camera:{site_id}/{camera_id}")
    session.commit()


@dataclass(eq=False)
class Viewing:
    """One viewer's live view: the parts of its MJPEG stream, and what counts the viewer out (once)."""

    parts: AsyncIterator[bytes]
    release: Callable[[], None]

    def close(self) -> None:
        """Count the viewer out (again: nothing)."""
        release, self.release = self.release, _nothing
        release()


def _nothing() -> None:
    pass


class MjpegResponse(StreamingResponse):
    """A viewing as ``multipart/x-mixed-replace``: the viewer is counted out however the response ends (the
    browser gone before the first frame included), not only when its stream is read to the end."""

    def __init__(self, viewing: Viewing) -> None:
        super().__init__(
            viewing.parts,
            media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},  # nginx: no buffering
        )
        self.viewing = viewing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.viewing.close()


async def watch(
    session: Session,
    relay: LiveRelay,
    *,
    principal: Principal,
    site_id: str,
    camera_id: str,
    gone: Callable[[], Awaitable[bool]],
) -> Viewing:
    """Start a viewer's live view of a camera (audited, like a download of evidence): the parts of its
    MJPEG stream, which end when ``gone`` says the viewer has left (serve it as an :class:`MjpegResponse`).

    Raises:
        NotFoundError: a site the caller may not see, or a camera that never reported to the API.
        TooManyViewersError: the camera has as many viewers as allowed.
    """
    if not principal.sees(site_id):
        raise NotFoundError(f"no site {site_id}")
    await run_in_threadpool(_known_camera, session, site_id=site_id, camera_id=camera_id)
    relay.join(site_id, camera_id)
    try:
        await run_in_threadpool(
            _audit_view, session, principal=principal, site_id=site_id, camera_id=camera_id
        )
    except BaseException:
        relay.leave(site_id, camera_id)
        raise
    logger.info("live view of %s/%s by %s", site_id, camera_id, principal.name)
    return Viewing(
        _parts(relay.frames(site_id, camera_id, gone=gone)), partial(relay.leave, site_id, camera_id)
    )


async def _parts(frames: AsyncIterator[tuple[bytes, float]]) -> AsyncIterator[bytes]:
    async for jpeg, frame_time in frames:
        yield part(jpeg, frame_time)


def edge_site(principal: Principal, site_id: str) -> None:
    """Refuse (403) an edge key's live request for a site that is not its own."""
    if not principal.sees(site_id):
        raise ForbiddenError(f"this key may not stream for site {site_id}")


def checked_frame(jpeg: bytes) -> bytes:
    """A pushed frame: a JPEG image, or nothing (the box only asks whether anyone watches).

    Raises:
        InvalidError: a body that is not a JPEG image.
    """
    if jpeg and not jpeg.startswith(b"\xff\xd8"):
        raise InvalidError("a live frame must be a JPEG image (image/jpeg)")
    return jpeg


async def wait_requests(
    relay: LiveRelay,
    *,
    principal: Principal,
    site_id: str,
    streaming: str,
    wait_s: float,
    gone: Callable[[], Awaitable[bool]],
) -> LiveRequests:
    """An edge box's long poll (:meth:`LiveRelay.requests`): its site's watched cameras, at once when one is
    watched that is not among ``streaming`` (comma-separated), else as soon as a camera gains its first
    viewer, else after ``wait_s`` or when ``gone`` says the box has left.

    Raises:
        ForbiddenError: the key is not one of the site's.
    """
    edge_site(principal, site_id)
    sent = {name for name in streaming.split(",") if name}
    cameras = await relay.requests(site_id, streaming=sent, wait_s=wait_s, gone=gone)
    return LiveRequests(cameras=cameras, fps=relay.fps, width=relay.width)


def push_frame(
    relay: LiveRelay,
    *,
    principal: Principal,
    site_id: str,
    camera_id: str,
    jpeg: bytes,
    frame_time: float | None,
) -> LivePushed:
    """A camera's newest frame from its edge box, for its viewers; whether anyone still watches.

    Raises:
        ForbiddenError: the key is not one of the site's.
        InvalidError: a body that is not a JPEG image.
    """
    edge_site(principal, site_id)
    viewers = relay.push(site_id, camera_id, checked_frame(jpeg), frame_time or time.time())
    return LivePushed(watching=viewers > 0, viewers=viewers, fps=relay.fps, width=relay.width)
