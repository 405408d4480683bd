"""Capture threads: one per camera, reading its source (:class:`streams.sources.SourceParams`).

A capture thread reads as fast as the source delivers and keeps only the newest frame, so a slow detector
never makes the stream lag. When the stream stalls or drops it reconnects with capped exponential
backoff, forever. Its :class:`CameraHealth` tells whether it is online, at what input rate, and since
when it is offline.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from streams.sources import SourceParams, redact_url, stream_url

if TYPE_CHECKING:
    from streams.clips import FrameRing

logger = logging.getLogger(__name__)

# RTSP over TCP: UDP loses packets on busy site networks and smears frames. Set before any capture opens.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


@dataclass(slots=True)
class CameraHealth:
    """What a capture thread reports.

    Attributes:
        online: a frame arrived recently.
        frames_read: frames decoded since start.
        input_fps: decoding rate over the last few seconds.
        last_frame_at: epoch time of the newest frame.
        offline_since: when the camera went offline (``None`` while online).
        reconnects: reconnection attempts so far.
        last_error: the latest problem, in words.
    """

    online: bool = False
    frames_read: int = 0
    input_fps: float = 0.0
    last_frame_at: float | None = None
    offline_since: float | None = field(default_factory=time.time)
    reconnects: int = 0
    last_error: str | None = None


#: How often a video file being read is checked to still be there and readable.
FILE_CHECK_S = 1.0


def readable(path: Path) -> bool:
    """Whether ``path`` can still be opened and has content (a file being played is opened once: its
    removal, truncation or a lost mount would otherwise go unnoticed while the old handle plays on)."""
    try:
        with path.open("rb") as file:
            return bool(file.read(1))
    except OSError:
        return False


def backoff_delays(initial: float, cap: float) -> list[float]:
    """The first reconnection waits: doubling from ``initial`` up to ``cap``.

    Example:
        >>> backoff_delays(1.0, 10.0)[:6]
        [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    """
    delays, delay = [], initial
    for _ in range(32):
        delays.append(min(delay, cap))
        delay *= 2
    return delays


class CaptureThread(threading.Thread):
    """Reads one camera forever, keeping only its newest frame.

    Args:
        camera_id: the camera's id, for logs.
        params: where and how to read.
    """

    def __init__(self, camera_id: str, params: SourceParams) -> None:
        super().__init__(name=f"capture-{camera_id}", daemon=True)
        self.camera_id = camera_id
        self.params = params
        self.health = CameraHealth()
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._frame_time = 0.0
        self._seq = 0
        self._halt = threading.Event()
        self._rate: list[float] = []
        #: Keeps the recent frames for event clips, when set.
        self.ring: FrameRing | None = None

    def latest(self) -> tuple[int, float, np.ndarray | None]:
        """``(sequence number, capture time, frame)`` of the newest frame; the number grows per frame."""
        with self._lock:
            return self._seq, self._frame_time, self._frame

    def stop(self) -> None:
        """Ask the thread to finish; it releases the stream within a read timeout."""
        self._halt.set()

    def run(self) -> None:
        delays = backoff_delays(self.params.backoff_initial_s, self.params.backoff_max_s)
        failures = 0
        while not self._halt.is_set():
            delivered = self._read_until_failure()
            if self._halt.is_set():
                break
            failures = 0 if delivered else failures + 1
            wait = delays[min(failures, len(delays) - 1)]
            self.health.reconnects += 1
            logger.warning(
                "camera %s: %s; reconnecting in %.1f s", self.camera_id, self.health.last_error, wait
            )
            self._halt.wait(wait)

    def _open(self) -> cv2.VideoCapture | None:
        url = self.params.url
        if self.params.kind == "usb":
            cap = cv2.VideoCapture(int(url))
        elif self.params.kind == "file" and not Path(url).is_file():
            self.health.last_error = f"video file {url} not found"
            return None
        else:
            timeout_ms = int(self.params.read_timeout_s * 1000)
            cap = cv2.VideoCapture(
                stream_url(url),
                cv2.CAP_FFMPEG,
                [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms],
            )
        if not cap.isOpened():
            what = "video file" if self.params.kind == "file" else "stream"
            self.health.last_error = f"cannot open {what} {self._safe_url()}"
            if self.params.kind == "file":
                self.health.last_error += " (unreadable or corrupt)"
            else:
                self.health.last_error = f"cannot open {self._safe_url()}"
            return None
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap

    def _safe_url(self) -> str:
        """The URL without credentials, for logs and health."""
        return redact_url(self.params.url)

    def _read_until_failure(self) -> bool:
        """Read frames until the stream fails; return whether any frame came.

        Every frame is grabbed (a stream must be drained), but only those the detector can use, at most
        ``max_fps``, are converted to images: on a 2-core box the colour conversion of unused frames is
        time the detector does not get.
        """
        cap = self._open()
        if cap is None:
            self._mark_offline()
            return False
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        pace = 1.0 / fps if self.params.kind == "file" and self.params.realtime and 0 < fps <= 120 else 0.0
        spacing = 0.9 / self.params.max_fps if self.params.max_fps else 0.0
        delivered = False
        last_retrieved = -1e18
        next_due = last_check = time.monotonic()
        try:
            while not self._halt.is_set():
                if self.params.kind == "file" and time.monotonic() - last_check >= FILE_CHECK_S:
                    last_check = time.monotonic()
                    if not readable(Path(self.params.url)):
                        self.health.last_error = f"video file {self.params.url} is no longer readable"
                        break
                grabbed = cap.grab()
                if not grabbed and self.params.kind == "file" and self.params.loop and delivered:
                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    grabbed = cap.grab()
                if not grabbed:
                    if self.params.kind != "file":
                        self.health.last_error = "stream dropped"
                    elif delivered:
                        self.health.last_error = "end of video file"
                    else:
                        self.health.last_error = f"cannot decode {self._safe_url()}"
                    break
                if pace:
                    next_due += pace
                    delay = next_due - time.monotonic()
                    if delay > 0:
                        self._halt.wait(delay)
                    else:
                        next_due = time.monotonic()
                self._count_input()
                now = time.monotonic()
                if now - last_retrieved < spacing:
                    continue
                ok, frame = cap.retrieve()
                if ok and frame is not None:
                    last_retrieved = now
                    self._publish(frame)
                    delivered = True
        finally:
            cap.release()
            self._mark_offline()
        return delivered

    def _publish(self, frame: np.ndarray) -> None:
        now = time.time()
        with self._lock:
            self._frame, self._frame_time = frame, now
            self._seq += 1
        if self.ring is not None:
            self.ring.push(frame, now)

    def _count_input(self) -> None:
        now = time.time()
        health = self.health
        health.frames_read += 1
        health.last_frame_at = now
        if not health.online:
            logger.info("camera %s online", self.camera_id)
        health.online, health.offline_since, health.last_error = True, None, None
        self._rate.append(now)
        while self._rate and now - self._rate[0] > 5.0:
            self._rate.pop(0)
        span = now - self._rate[0] if len(self._rate) > 1 else 0.0
        health.input_fps = (len(self._rate) - 1) / span if span > 0 else 0.0

    def _mark_offline(self) -> None:
        health = self.health
        if health.online or health.offline_since is None:
            health.offline_since = time.time()
        health.online = False
        health.input_fps = 0.0
