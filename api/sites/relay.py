"""The live view's relay (:mod:`api.sites.live`): the cameras being watched in one API process, their viewers
and the newest frame of each, and the long polls of edge boxes waiting to hear of a viewer. Every method
runs on that process's event loop, so it takes no locks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import ClassVar

from api.core.errors import DomainError
from api.http.services import Slot

#: How often a viewer's stream looks whether its browser has gone while no frame comes.
DISCONNECT_CHECK_S = 1.0


async def _never() -> bool:
    return False


class TooManyViewersError(DomainError):
    """The camera has as many viewers as a camera may have (429)."""

    status_code: ClassVar[int] = 429


@dataclass(eq=False)
class _Watched:
    """One watched camera: its viewers and the newest frame its box pushed."""

    viewers: int = 0
    jpeg: bytes = b""
    frame_time: float = 0.0
    seq: int = 0
    #: Set (and replaced) on each new frame: what the viewers wait on.
    fresh: asyncio.Event = field(default_factory=asyncio.Event)


class LiveRelay:
    """The cameras being watched in this process, and their newest frames.

    Args:
        max_viewers: viewers one camera may have at once; one more is refused (429).
        fps: frames per second the boxes send at most.
        width: the width, in pixels, the boxes scale frames down to.
        max_view_s: the longest one live view lasts (the site's uplink is paid by the byte): the viewer
            opens it again to go on.
        max_wait_s: the longest a long poll waits, whatever it asks.
    """

    def __init__(
        self, *, max_viewers: int, fps: float, width: int, max_view_s: float = 600.0, max_wait_s: float = 30.0
    ) -> None:
        self.max_viewers = max_viewers
        self.max_view_s = max_view_s
        self.fps = fps
        self.width = width
        self.max_wait_s = max_wait_s
        self._watched: dict[tuple[str, str], _Watched] = {}
        # Per site, an event per long poll waiting: set when a camera gains its first viewer.
        self._wake: dict[str, set[asyncio.Event]] = {}
        self._stopped: dict[str, set[str]] = {}  # per site: cameras whose box was last told to stop

    def join(self, site_id: str, camera_id: str) -> None:
        """Count a viewer of the camera in; the site's box hears of a first viewer at once.

        Raises:
            TooManyViewersError: the camera has :attr:`max_viewers` already.
        """
        watched = self._watched.setdefault((site_id, camera_id), _Watched())
        if watched.viewers >= self.max_viewers:
            raise TooManyViewersError(
                f"camera {camera_id} already has {watched.viewers} live viewers, the most allowed "
                "(SITEWATCH_LIVE_VIEWERS); try again when one of them closes the live view"
            )
        watched.viewers += 1
        if watched.viewers == 1:
            for wake in self._wake.pop(site_id, set()):
                wake.set()

    def leave(self, site_id: str, camera_id: str) -> None:
        """Count a viewer out; with the last one the camera's frame is dropped and its box told to stop."""
        watched = self._watched.get((site_id, camera_id))
        if watched is None:
            return
        watched.viewers -= 1
        if watched.viewers <= 0:
            del self._watched[(site_id, camera_id)]

    def viewers(self, site_id: str, camera_id: str) -> int:
        """How many watch the camera now."""
        watched = self._watched.get((site_id, camera_id))
        return 0 if watched is None else watched.viewers

    def watched(self, site_id: str) -> list[str]:
        """The site's cameras that someone watches, by id."""
        return sorted(camera for site, camera in self._watched if site == site_id)

    async def requests(
        self,
        site_id: str,
        *,
        streaming: set[str],
        wait_s: float,
        gone: Callable[[], Awaitable[bool]] = _never,
    ) -> list[str]:
        """The site's watched cameras: at once when one of them is not among ``streaming`` (those its box
        sends already, or does not have) or was told to stop since, else as soon as a camera gains its first
        viewer, else after ``wait_s`` (or when ``gone`` says the box has left: a server stopping waits for
        every request still open)."""
        sending = streaming - self._stopped.get(site_id, set())
        if set(self.watched(site_id)) - sending:
            return self.watched(site_id)
        wake = asyncio.Event()
        waiting = self._wake.setdefault(site_id, set())
        waiting.add(wake)
        end = time.monotonic() + min(wait_s, self.max_wait_s)
        try:
            while (left := end - time.monotonic()) > 0 and not wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), min(left, DISCONNECT_CHECK_S))
                if not wake.is_set() and await gone():
                    break
        finally:
            waiting.discard(wake)
            if not waiting and self._wake.get(site_id) is waiting:
                del self._wake[site_id]
        return self.watched(site_id)

    def push(self, site_id: str, camera_id: str, jpeg: bytes, frame_time: float) -> int:
        """Hand the camera's newest frame (``b""``: none, the box only asks) to its viewers; how many
        watch (0: the box should stop)."""
        watched = self._watched.get((site_id, camera_id))
        stopped = self._stopped.setdefault(site_id, set())
        if watched is None:
            stopped.add(camera_id)  # told to stop: a long poll in flight that counts it as sent is wrong
            return 0
        stopped.discard(camera_id)
        if jpeg:
            watched.jpeg, watched.frame_time = jpeg, frame_time
            watched.seq += 1
            fresh, watched.fresh = watched.fresh, asyncio.Event()
            fresh.set()
        return watched.viewers

    async def frames(
        self, site_id: str, camera_id: str, *, gone: Callable[[], Awaitable[bool]]
    ) -> AsyncIterator[tuple[bytes, float]]:
        """``(jpeg, capture time)`` of each new frame of the camera for one viewer (counted in with
        :meth:`join`), until ``gone`` says the viewer has left or :attr:`max_view_s` have passed."""
        watched = self._watched.get((site_id, camera_id))
        seen = 0
        end = time.monotonic() + self.max_view_s
        while watched is not None and watched.viewers > 0 and time.monotonic() < end:
            if watched.seq > seen:
                seen = watched.seq
                yield watched.jpeg, watched.frame_time
                continue
            try:
                await asyncio.wait_for(watched.fresh.wait(), min(DISCONNECT_CHECK_S, end - time.monotonic()))
            except TimeoutError:
                if await gone():
                    return


#: The app's live relay (built by api.app from the settings).
LIVE: Slot[LiveRelay] = Slot("the live view's relay")
