"""The edge's live uploader: a camera's frames to the central API only while someone watches it live
(the API's side is :mod:`api.sites.live`).

The API can never connect to the box (a site's 4G router hides it behind NAT), so the box asks: one
thread long-polls ``GET /api/v1/ingest/live-requests``, which answers as soon as a camera of the site gains
a viewer; for each watched camera a thread sends the camera's newest decoded frame
(``CaptureThread.latest``: nothing is decoded again), scaled down and encoded as JPEG, with
``POST /api/v1/ingest/live/{camera}`` at the API's frame rate, and stops as soon as an answer says nobody
watches any more. A camera without a new frame is still asked about (an empty body) so that it stops too.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

import cv2
import httpx
import numpy as np
from prometheus_client import Counter, Gauge

from streams.sinks import auth_headers
from streams.worker import Worker

logger = logging.getLogger(__name__)

LIVE_REQUESTS_PATH = "/api/v1/ingest/live-requests"
LIVE_FRAME_PATH = "/api/v1/ingest/live/{camera}"
#: JPEG quality of live frames.
JPEG_QUALITY = 70
#: How often a camera without a new frame asks whether anyone still watches.
ASK_EVERY_S = 2.0
#: Failed pushes in a row after which a camera's stream stops (the long poll starts it again if watched).
MAX_FAILURES = 5

#: ``sitewatch_live_frames_sent_total{camera}``: live-view frames this process sent to the API.
FRAMES_SENT = Counter("sitewatch_live_frames_sent", "Live-view frames sent to the API", ["camera"])
#: ``sitewatch_live_cameras_watched``: cameras whose live view this process is sending now.
CAMERAS_WATCHED = Gauge("sitewatch_live_cameras_watched", "Cameras being watched live (frames being sent)")

#: The newest frame of a camera: ``(sequence number, capture time, frame)`` as ``CaptureThread.latest``.
Latest = Callable[[str], tuple[int, float, np.ndarray | None]]


def live_jpeg(frame: np.ndarray, width: int) -> bytes | None:
    """``frame`` scaled down to ``width`` pixels (never up), as a JPEG of quality :data:`JPEG_QUALITY`.

    >>> len(live_jpeg(np.zeros((1080, 1920, 3), np.uint8), 640) or b"") > 0
    True
    """
    if frame.shape[1] > width:
        height = max(1, round(frame.shape[0] * width / frame.shape[1]))
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return jpeg.tobytes() if ok else None


class LiveUploader:
    """Sends the site's watched cameras to the API (see the module's text) in background threads.

    Args:
        latest: a camera's newest frame.
        cameras: the cameras this box has (requests for others are ignored).
        site_id: the site.
        api_url: the central API.
        api_key: the site's edge key.
        wait_s: how long one long poll waits at the API.
    """

    def __init__(
        self,
        latest: Latest,
        cameras: Iterable[str],
        *,
        site_id: str,
        api_url: str,
        api_key: str | None,
        wait_s: float = 25.0,
    ) -> None:
        self.latest = latest
        self.cameras = frozenset(cameras)
        self.site_id = site_id
        self.wait_s = wait_s
        self.fps = 2.0
        self.width = 640
        self._base = api_url.rstrip("/")
        self._headers = auth_headers(api_key)
        self._client = httpx.Client(headers=self._headers, timeout=10.0)
        self._asking: http.client.HTTPConnection | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._streaming: dict[str, threading.Thread] = {}
        self._foreign: set[str] = set()
        self._poller = threading.Thread(target=self._poll, name="live-poll", daemon=True)

    @classmethod
    def of_worker(cls, worker: Worker, *, site_id: str, api_url: str, api_key: str | None) -> LiveUploader:
        """An uploader of ``worker``'s cameras."""
        return cls(
            lambda camera: worker.cameras[camera].capture.latest(),
            worker.cameras,
            site_id=site_id,
            api_url=api_url,
            api_key=api_key,
        )

    def streaming(self) -> list[str]:
        """The cameras being sent now."""
        with self._lock:
            return sorted(self._streaming)

    def _handled(self) -> list[str]:
        """What the long poll need not hear of again: the cameras being sent, and those of other boxes."""
        with self._lock:
            return sorted({*self._streaming, *self._foreign})

    def start(self) -> None:
        """Start listening for viewers."""
        self._poller.start()

    def stop(self) -> None:
        """Stop sending and asking."""
        self._stop.set()
        asking = self._asking
        if asking is not None and asking.sock is not None:
            with contextlib.suppress(OSError):
                asking.sock.shutdown(socket.SHUT_RDWR)  # ends the long poll here and at the API
        if self._poller.is_alive():
            self._poller.join(timeout=5)
        with self._lock:
            threads = list(self._streaming.values())
        for thread in threads:
            thread.join(timeout=5)
        self._client.close()

    def _poll(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                body = self._ask()
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if self._stop.is_set():
                    return
                logger.warning(
                    "live view: asking the API for viewers failed (%s); again in %.0f s", exc, delay
                )
                self._stop.wait(delay)
                delay = min(delay * 2, 60.0)
                continue
            delay = 1.0
            if body is not None:
                self._apply(body)

    def _ask(self) -> dict[str, Any] | None:
        """One long poll; ``None`` once stopping. It has a connection of its own, which :meth:`stop` shuts
        down: the API, like any server, waits for a request still open before it can stop (``sitewatch
        run`` stops both)."""
        url = urlsplit(self._base)
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        connection = kind(url.hostname or "", url.port, timeout=self.wait_s + 15.0)
        self._asking = connection
        try:
            connection.connect()
            if self._stop.is_set():  # after connect(): stop() shuts the socket down from here on
                return None
            query = urlencode(
                {"site": self.site_id, "streaming": ",".join(self._handled()), "wait_s": self.wait_s}
            )
            connection.request("GET", f"{url.path}{LIVE_REQUESTS_PATH}?{query}", headers=self._headers)
            answer = connection.getresponse()
            text = answer.read()
            if answer.status != 200:
                raise ValueError(f"{answer.status} {text[:200]!r}")
            body: dict[str, Any] = json.loads(text)
            return body
        finally:
            connection.close()

    def _rates(self, body: dict[str, Any]) -> None:
        """The frame rate and width the API asks for (every answer says them: they may change)."""
        self.fps = min(max(float(body.get("fps", self.fps)), 0.1), 10.0)
        self.width = min(max(int(body.get("width", self.width)), 160), 1920)

    def _apply(self, body: dict[str, Any]) -> None:
        self._rates(body)
        for camera in body.get("cameras", []):
            if camera not in self.cameras:
                self._foreign.add(camera)  # another box's (a site may have several)
                continue
            with self._lock:
                if camera in self._streaming or self._stop.is_set():
                    continue
                thread = threading.Thread(
                    target=self._send, args=(camera,), name=f"live-{camera}", daemon=True
                )
                self._streaming[camera] = thread
            logger.info("live view: sending camera %s", camera)
            thread.start()

    def _send(self, camera: str) -> None:
        CAMERAS_WATCHED.inc()
        try:
            self._send_while_watched(camera)
        finally:
            CAMERAS_WATCHED.dec()
            with self._lock:
                self._streaming.pop(camera, None)
            logger.info("live view: camera %s no longer sent", camera)

    def _send_while_watched(self, camera: str) -> None:
        url = self._base + LIVE_FRAME_PATH.format(camera=camera)
        sent_seq, asked_at, failures = -1, 0.0, 0
        while not self._stop.is_set():
            due = time.monotonic() + 1.0 / self.fps
            seq, frame_time, frame = self.latest(camera)
            jpeg = live_jpeg(frame, self.width) if frame is not None and seq != sent_seq else None
            if jpeg is not None or time.monotonic() - asked_at >= ASK_EVERY_S:
                try:
                    answer = self._client.post(
                        url,
                        params={"site": self.site_id},
                        content=jpeg or b"",
                        headers={"Content-Type": "image/jpeg", "X-Frame-Time": f"{frame_time:.3f}"},
                    )
                    answer.raise_for_status()
                    body = answer.json()
                except (httpx.HTTPError, ValueError) as exc:
                    failures += 1
                    logger.warning("live view: camera %s: a frame was not sent (%s)", camera, exc)
                    if failures >= MAX_FAILURES:
                        return
                else:
                    failures, asked_at = 0, time.monotonic()
                    if jpeg is not None:
                        sent_seq = seq
                        FRAMES_SENT.labels(camera=camera).inc()
                    self._rates(body)
                    if not body.get("watching"):
                        return
            self._stop.wait(max(0.0, due - time.monotonic()))
