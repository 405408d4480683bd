"""Short video clips of events: a ring of each camera's recent frames, and an MP4 of them at an event's start.

Each capture thread pushes the frames it decodes for detection into its camera's :class:`FrameRing`,
downscaled and JPEG-compressed, so that a camera's ring holds its last seconds in a few MB and never more
than ``max_bytes``. :class:`ClipSink` sits in front of the worker's sink: every update passes through one
thread, in order; the ``start`` of a violation takes the ring's frames up to its frame (on the inference
thread: a copy of references) and is held while that thread encodes them as an H.264 MP4 that browsers play
(:mod:`streams.video`, through PyAV), then leaves with the clip in its evidence.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import replace

import cv2
import numpy as np

from detector.kinds import PERSON_KINDS
from streams.events import EventKind, EventUpdate, Phase
from streams.sinks import Sink
from streams.video import encode_bytes

logger = logging.getLogger(__name__)

#: Kinds whose start carries a clip: what a person did (not a camera going offline or an absence).
CLIP_KINDS = frozenset(EventKind(kind) for kind in PERSON_KINDS)


class FrameRing:
    """A camera's recent frames as JPEG, bounded in time and in bytes.

    Args:
        seconds: how much of the past to keep.
        max_bytes: never hold more (the oldest frames go first).
        max_width: frames wider than this are downscaled first.
        jpeg_quality: 1-100.
    """

    def __init__(
        self,
        seconds: float = 10.0,
        max_bytes: int = 60 * 1024 * 1024,
        max_width: int = 640,
        jpeg_quality: int = 70,
    ) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.max_width = max_width
        self.jpeg_quality = jpeg_quality
        self._frames: deque[tuple[float, bytes]] = deque()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._frames)

    def push(self, frame: np.ndarray, at: float) -> None:
        """Add a frame captured at ``at`` (epoch seconds)."""
        h, w = frame.shape[:2]
        if w > self.max_width:
            size = (self.max_width, max(2, round(h * self.max_width / w)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            return
        data = buf.tobytes()
        with self._lock:
            self._frames.append((at, data))
            self._bytes += len(data)
            while self._frames and (self._bytes > self.max_bytes or at - self._frames[0][0] > self.seconds):
                self._bytes -= len(self._frames.popleft()[1])

    def window(self, until: float, seconds: float) -> list[tuple[float, bytes]]:
        """The frames of the ``seconds`` up to ``until``, oldest first."""
        with self._lock:
            return [(t, data) for t, data in self._frames if until - seconds <= t <= until]


def encode_clip(frames: list[tuple[float, bytes]]) -> bytes | None:
    """An H.264 MP4 of JPEG frames at their own average rate; ``None`` when fewer than two decode."""
    images: list[np.ndarray] = []
    for _, data in frames:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is not None:
            images.append(image)
    if len(images) < 2:
        return None
    h, w = images[0].shape[:2]
    span = frames[-1][0] - frames[0][0]
    fps = min(30.0, max(1.0, (len(images) - 1) / span)) if span > 0 else 5.0
    same = (image if image.shape[:2] == (h, w) else cv2.resize(image, (w, h)) for image in images)
    return encode_bytes(same, fps)


class ClipSink:
    """Passes updates on in order from its own thread, adding a clip to each violation's ``start``.

    Args:
        inner: the sink updates go to.
        seconds: the clip's length (the time before the start's frame).
        max_bytes: the most each camera's frame ring holds.
    """

    def __init__(self, inner: Sink, seconds: float = 10.0, *, max_bytes: int = 60 * 1024 * 1024) -> None:
        self.inner = inner
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.rings: dict[str, FrameRing] = {}
        self.encode_ms: list[float] = []
        self._queue: queue.Queue[tuple[EventUpdate, list[tuple[float, bytes]] | None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="clips", daemon=True)
        self._thread.start()

    def ring(self, camera_id: str) -> FrameRing:
        """The frame ring of a camera (made on first use)."""
        return self.rings.setdefault(camera_id, FrameRing(self.seconds + 1.0, self.max_bytes))

    def emit(self, update: EventUpdate) -> None:
        """Queue the update; a violation's start takes its camera's recent frames along."""
        frames = None
        ring = self.rings.get(update.camera_id or "")
        if update.phase is Phase.START and update.kind in CLIP_KINDS and update.evidence and ring:
            frames = ring.window(update.frame_time or update.updated_at, self.seconds)
        self._queue.put((update, frames))

    def close(self) -> None:
        """Pass on what is queued, then close the inner sink."""
        self._queue.put(None)
        self._thread.join(timeout=60)
        self.inner.close()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            update, frames = item
            if frames and update.evidence is not None:
                start = time.perf_counter()
                try:
                    clip = encode_clip(frames)
                except Exception:  # a clip must never cost the event
                    logger.exception("clip of event %s not encoded", update.event_id)
                    clip = None
                self.encode_ms.append((time.perf_counter() - start) * 1000.0)
                if clip is not None:
                    update = replace(update, evidence=replace(update.evidence, clip=clip))
            try:
                self.inner.emit(update)
            except Exception:
                logger.exception("event update %s/%d not passed on", update.event_id, update.seq)
