"""A camera's main stream, kept compressed for evidence while detection watches the substream.

Every IP camera offers a main stream (1080p to 4K) and a substream (640×360, 704×576); detection looks at
640×640 anyway, so the worker decodes the substream (``detect_url``) and keeps the main stream (``url``)
for snapshots. :class:`MainStream` demuxes the main stream without decoding it and keeps its recent
packets, from a key frame on, in a small ring (:class:`PacketRing`): a few seconds of 1080p H.264 are a
few MB. When an event needs a snapshot, :meth:`MainStream.frame_at` decodes from the last key frame up to
the packet that arrived nearest the detect frame, and says how far apart the two are in time.

Both streams are timed by their arrival on the box (the substream's frame when it was decoded, the main
stream's packet when it was read): cameras stamp both from one clock and send them alike, so the arrival
times differ by the network and by the camera's encoders, which the recorded offset shows.

Demuxing costs little CPU; decoding a key frame and the frames after it costs a burst on each snapshot
(rare: an event's start and its better snapshots). Opening the main stream only when an event starts was
measured too and rejected: a new RTSP session takes a round of requests and then up to a key-frame
interval before its first picture, so its frame is a second or more after the detect frame.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import supervision as sv

from detector.engine import Scene
from streams.capture import FILE_CHECK_S, CameraHealth, backoff_delays, open_av, readable
from streams.sources import SourceParams, redact_url

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MainFrame:
    """A main-stream frame for a detect frame.

    Attributes:
        image: the BGR image, at the main stream's size.
        at: when its packet arrived (epoch seconds).
        offset_ms: ``at`` minus the detect frame's time, in milliseconds.
    """

    image: np.ndarray
    at: float
    offset_ms: float


class PacketRing:
    """The recent packets of a stream, whole groups of pictures from a key frame, for ``keep_s`` seconds
    at least (and at most one group more).

    Example:
        >>> ring = PacketRing(keep_s=2.0)
        >>> for i in range(6):  # a key frame every other packet, one a second
        ...     ring.push(float(i), f"p{i}", key=i % 2 == 0)
        >>> ring.span(3.9)  # nearest p4, a key frame
        ['p4']
        >>> ring.span(3.4)  # nearest p3, decoded from p2
        ['p2', 'p3']
        >>> ring.span(0.0)  # p0 and p1 are gone: the oldest kept
        ['p2']
    """

    def __init__(self, keep_s: float = 4.0) -> None:
        self.keep_s = keep_s
        self._times: deque[float] = deque()
        self._packets: deque[Any] = deque()
        self._keys: deque[bool] = deque()
        self.bytes = 0
        self._lock = threading.Lock()

    def push(self, at: float, packet: Any, *, key: bool) -> None:
        """Add a packet that arrived at ``at``; drop whole groups older than ``keep_s``."""
        with self._lock:
            if not self._packets and not key:
                return  # a ring starts at a key frame
            self._times.append(at)
            self._packets.append(packet)
            self._keys.append(key)
            self.bytes += _size(packet)
            # Drop the oldest group while the next one alone still covers keep_s.
            while True:
                nxt = next((i for i in range(1, len(self._keys)) if self._keys[i]), None)
                if nxt is None or at - self._times[nxt] < self.keep_s:
                    break
                for _ in range(nxt):
                    self._times.popleft()
                    self.bytes -= _size(self._packets.popleft())
                    self._keys.popleft()

    def newest(self) -> float | None:
        """Arrival time of the newest packet, ``None`` while empty."""
        with self._lock:
            return self._times[-1] if self._times else None

    def clear(self) -> None:
        """Forget every packet (the stream was reopened: old packets do not fit a new decoder)."""
        with self._lock:
            self._times.clear()
            self._packets.clear()
            self._keys.clear()
            self.bytes = 0

    def span(self, at: float) -> list[Any]:
        """The packets from the last key frame up to the one that arrived nearest ``at``."""
        with self._lock:
            if not self._times:
                return []
            times = list(self._times)
            i = bisect.bisect_left(times, at)
            if i == len(times) or (i > 0 and at - times[i - 1] <= times[i] - at):
                i -= 1
            start = i
            while start > 0 and not self._keys[start]:
                start -= 1
            return list(self._packets)[start : i + 1]

    def time_of(self, packet: Any) -> float:
        """Arrival time of a packet of the ring."""
        with self._lock:
            for t, p in zip(self._times, self._packets, strict=True):
                if p is packet:
                    return t
        raise KeyError("packet not in the ring")


def _size(packet: Any) -> int:
    return int(getattr(packet, "size", 0))


class MainStream(threading.Thread):
    """Reads a camera's main stream into a :class:`PacketRing`, reconnecting like a capture thread.

    Args:
        camera_id: the camera, for logs.
        params: the main stream (its ``url``); a video file is paced at its own rate and looped when
            ``loop`` (benchmarks).
        keep_s: seconds of packets kept at least.
    """

    def __init__(self, camera_id: str, params: SourceParams, *, keep_s: float = 4.0) -> None:
        super().__init__(name=f"main-{camera_id}", daemon=True)
        self.camera_id = camera_id
        self.params = params
        self.ring = PacketRing(keep_s)
        self.health = CameraHealth()
        self.size: tuple[int, int] | None = None  # width, height
        self.snapshots = 0
        #: When the first packet of the current connection arrived (``None`` before one did).
        self.first_at: float | None = None
        self._codec: tuple[str, bytes | None] | None = None
        self._halt = threading.Event()

    def stop(self) -> None:
        """Ask the reader to finish (within a read timeout)."""
        self._halt.set()

    def run(self) -> None:
        delays = backoff_delays(self.params.backoff_initial_s, self.params.backoff_max_s)
        failures = 0
        while not self._halt.is_set():
            delivered = self._read()
            if self._halt.is_set():
                break
            failures = 0 if delivered else failures + 1
            wait = delays[min(failures, len(delays) - 1)]
            self.health.reconnects += 1
            logger.warning(
                "camera %s main stream: %s; reconnecting in %.1f s",
                self.camera_id,
                self.health.last_error,
                wait,
            )
            self._halt.wait(wait)

    def _read(self) -> bool:
        url, kind = self.params.url, self.params.kind
        try:
            container = open_av(url, kind, self.params.read_timeout_s)
            stream = container.streams.video[0]
        except Exception:  # any failure to open is reported alike, without the URL
            self.health.last_error = f"cannot open main stream {redact_url(url)}"
            self._offline()
            return False
        codec = stream.codec_context
        self._codec = (codec.name, bytes(codec.extradata) if codec.extradata else None)
        self.size = (codec.width, codec.height)
        self.health.decoder = codec.name
        self.ring.clear()
        self.first_at = None
        rate = float(stream.average_rate or stream.guessed_rate or 0.0)
        pace = 1.0 / rate if kind == "file" and self.params.realtime and 0 < rate <= 120 else 0.0
        delivered = False
        next_due = last_check = time.monotonic()
        try:
            while not self._halt.is_set():
                for packet in container.demux(stream):
                    if self._halt.is_set():
                        return delivered
                    if packet.size == 0:
                        continue
                    if kind == "file" and time.monotonic() - last_check >= FILE_CHECK_S:
                        last_check = time.monotonic()
                        if not readable(Path(url)):
                            self.health.last_error = "main stream file is no longer readable"
                            return delivered
                    if pace:
                        next_due += pace
                        delay = next_due - time.monotonic()
                        if delay > 0:
                            self._halt.wait(delay)
                        else:
                            next_due = time.monotonic()
                    now = time.time()
                    self.ring.push(now, packet, key=packet.is_keyframe)
                    if self.first_at is None:
                        self.first_at = now
                    self._count(now)
                    delivered = True
                if not (kind == "file" and self.params.loop and delivered):
                    self.health.last_error = "main stream ended" if kind == "file" else "main stream dropped"
                    return delivered
                container.seek(0)
                self.ring.clear()  # packets after a seek start a new timeline
        except (av.error.FFmpegError, OSError):
            self.health.last_error = "main stream dropped"
            return delivered
        finally:
            container.close()
            self._offline()
        return delivered

    def frame_at(self, at: float, *, wait_s: float = 0.5) -> MainFrame | None:
        """The main-stream frame that arrived nearest ``at`` (a detect frame's time), decoded from its last
        key frame; waits up to ``wait_s`` for the main stream to reach ``at``. ``None`` when it has no
        packet (offline, or not connected yet: see :attr:`first_at`)."""
        deadline = time.time() + wait_s
        while ((newest := self.ring.newest()) is None or newest < at) and time.time() < deadline:
            time.sleep(0.01)
        packets = self.ring.span(at)
        if not packets or self._codec is None:
            return None
        name, extradata = self._codec
        decoder: Any = av.CodecContext.create(name, "r")
        if extradata:
            decoder.extradata = extradata
        frames: list[Any] = []
        for packet in packets:
            try:
                frames.extend(decoder.decode(packet))
            except av.error.InvalidDataError:
                continue
        with contextlib.suppress(av.error.FFmpegError):
            frames.extend(decoder.decode(None))
        if not frames:
            return None
        try:
            arrived = self.ring.time_of(packets[-1])
        except KeyError:  # dropped from the ring meanwhile: its neighbour's time is as good
            arrived = at
        self.snapshots += 1
        image = frames[-1].to_ndarray(format="bgr24")
        return MainFrame(image=image, at=arrived, offset_ms=(arrived - at) * 1000.0)

    def state(self) -> dict[str, object]:
        """The main stream's health, for the worker's."""
        h = self.health
        return {
            "online": h.online,
            "input_fps": round(h.input_fps, 2),
            "size": list(self.size) if self.size else None,
            "decoder": h.decoder,
            "buffered_kb": round(self.ring.bytes / 1024, 1),
            "last_frame_at": h.last_frame_at,
            "offline_since": h.offline_since,
            "reconnects": h.reconnects,
            "last_error": h.last_error,
            "snapshots": self.snapshots,
        }

    def _count(self, now: float) -> None:
        if self.health.frame_arrived(now):
            logger.info("camera %s main stream online", self.camera_id)

    def _offline(self) -> None:
        self.health.went_offline()


def scaled_scene(scene: Scene, sx: float, sy: float) -> Scene:
    """``scene`` with its boxes scaled by ``sx`` across and ``sy`` down (to the main stream's size)."""
    factor = np.array([sx, sy, sx, sy], dtype=np.float32)

    def scale(detections: sv.Detections) -> sv.Detections:
        return dataclasses.replace(detections, xyxy=detections.xyxy * factor)

    return Scene(
        detections=scale(scene.detections),
        people=scale(scene.people),
        timings_ms=scene.timings_ms,
        grey=scene.grey,
    )


def main_evidence(
    main: MainStream, frame: np.ndarray, frame_time: float, scene: Scene
) -> tuple[np.ndarray, Scene, dict[str, object]] | None:
    """The main stream's frame nearest the detect ``frame`` of ``frame_time``, ``scene`` scaled to it, and
    the details an event records (``main_stream_offset_ms``); ``None`` when the main stream has none."""
    found = main.frame_at(frame_time)
    if found is None:
        logger.warning(
            "camera %s: no main-stream frame for a snapshot; taken from the substream", main.camera_id
        )
        return None
    h, w = frame.shape[:2]
    mh, mw = found.image.shape[:2]
    return found.image, scaled_scene(scene, mw / w, mh / h), {"main_stream_offset_ms": round(found.offset_ms)}
