"""Capture threads: one per camera, reading its source (:class:`streams.sources.SourceParams`).

A capture thread reads as fast as the source delivers and keeps only the newest frame, so a slow detector
never makes the stream lag. When the stream stalls or drops it reconnects with capped exponential
backoff, forever. Its :class:`CameraHealth` tells whether it is online, at what input rate, and since
when it is offline.

Streams and files are read with PyAV, which decodes only what is needed:

* while the worker says the camera is *idle* (the motion gate finds its scene still), only key frames of
  an inter-coded stream (H.264, H.265) are decoded; the packets between them are kept, compressed, and
  decoded at once when the scene moves again, so that the decoder's references stay whole (a still
  scene's first motion is therefore seen at the next key frame: cameras send one every 1-2 s by default;
  a camera with rarer ones has its packets decoded once :data:`MAX_WAITING` wait);
* frames of an intra-only codec (MJPEG) depend on no other, so only those the detector will look at are
  decoded (one a second while idle);
* decoding runs on the box's video hardware (NVDEC, VAAPI, Quick Sync) when FFmpeg finds some, else in
  software, said once in the log (:func:`hardware_decoders`).

USB cameras are read with OpenCV. A camera with a separate main stream for evidence has it read beside
this thread by :class:`streams.mainstream.MainStream` (``main``), started and stopped with it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import av
import cv2
import numpy as np

from streams.sources import SourceParams, redact_url, stream_url

if TYPE_CHECKING:
    from streams.clips import FrameRing

logger = logging.getLogger(__name__)


class Companion(Protocol):
    """A thread that lives and dies with a capture thread: the camera's main stream
    (:class:`streams.mainstream.MainStream`, which builds on this module, hence a protocol here)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...


# RTSP over TCP: UDP loses packets on busy site networks and smears frames. Set before any capture opens.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


@dataclass(slots=True)
class CameraHealth:
    """What a capture thread reports.

    Attributes:
        online: a frame arrived recently.
        frames_read: frames (packets) received since start.
        frames_decoded: frames decoded since start (fewer than read while the scene is still).
        decoder: the decoder in use, e.g. ``h264`` or ``h264 (cuda)``.
        input_fps: decoding rate over the last few seconds.
        last_frame_at: epoch time of the newest frame.
        offline_since: when the camera went offline (``None`` while online).
        reconnects: reconnection attempts so far.
        last_error: the latest problem, in words.
    """

    online: bool = False
    frames_read: int = 0
    frames_decoded: int = 0
    decoder: str | None = None
    input_fps: float = 0.0
    last_frame_at: float | None = None
    offline_since: float | None = field(default_factory=time.time)
    reconnects: int = 0
    last_error: str | None = None
    #: when the frames of the last few seconds arrived (for ``input_fps``)
    recent: list[float] = field(default_factory=list, repr=False)

    def frame_arrived(self, now: float) -> bool:
        """Count a frame that arrived at ``now`` (epoch seconds): the camera is online, its rate is that of
        the last 5 seconds; whether it was offline until now."""
        came_online = not self.online
        self.frames_read += 1
        self.last_frame_at = now
        self.online, self.offline_since, self.last_error = True, None, None
        self.recent.append(now)
        while self.recent and now - self.recent[0] > 5.0:
            self.recent.pop(0)
        span = now - self.recent[0] if len(self.recent) > 1 else 0.0
        self.input_fps = (len(self.recent) - 1) / span if span > 0 else 0.0
        return came_online

    def went_offline(self) -> None:
        """The camera gives no frame: offline since now, unless it already was."""
        if self.online or self.offline_since is None:
            self.offline_since = time.time()
        self.online = False
        self.input_fps = 0.0


#: How often a video file being read is checked to still be there and readable.
FILE_CHECK_S = 1.0
#: Hardware decoders tried, in this order, where the box's FFmpeg knows the device type.
HW_DEVICES = ("cuda", "vaapi", "qsv")
#: While idle, an intra-only stream (MJPEG) is decoded this often.
IDLE_INTRA_S = 1.0
#: Packets kept undecoded while idle at most; beyond (a camera with rare key frames) they are decoded.
MAX_WAITING = 300


def hardware_decoders() -> list[str]:
    """The hardware decoders worth trying on this box, in order (an empty list: software only)."""
    from av.codec.hwaccel import hwdevices_available

    available = set(hwdevices_available())
    return [device for device in HW_DEVICES if device in available]


def open_av(url: str, kind: str, timeout_s: float, device: str | None = None) -> Any:
    """An opened PyAV container of a stream or file (RTSP over TCP), decoding on ``device`` if given.

    Raises:
        av.error.FFmpegError, OSError: it cannot be opened (or the device cannot decode it).
    """
    from av.codec.hwaccel import HWAccel

    options = {"rtsp_transport": "tcp"} if kind == "rtsp" else {}
    hwaccel = HWAccel(device, allow_software_fallback=False) if device is not None else None
    return av.open(stream_url(url), options=options, timeout=(timeout_s, timeout_s), hwaccel=hwaccel)


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
        #: Keeps the recent frames for event clips, when set.
        self.ring: FrameRing | None = None
        #: Set by the worker while the motion gate finds the scene still: decode key frames only.
        self.idle = False
        #: The camera's main stream, read for evidence beside this one; started and stopped with it.
        self.main: Companion | None = None
        # Hardware decoders still worth trying (emptied once software had to take over).
        self._devices = hardware_decoders() if params.hwaccel else []
        self._software_said = False

    def start(self) -> None:
        """Start reading (and the main stream's reader, if any)."""
        if self.main is not None:
            self.main.start()
        super().start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread (and the main stream's reader)."""
        super().join(timeout)
        if self.main is not None:
            self.main.join(timeout)

    def latest(self) -> tuple[int, float, np.ndarray | None]:
        """``(sequence number, capture time, frame)`` of the newest frame; the number grows per frame."""
        with self._lock:
            return self._seq, self._frame_time, self._frame

    def stop(self) -> None:
        """Ask the thread to finish; it releases the stream within a read timeout."""
        self._halt.set()
        if self.main is not None:
            self.main.stop()

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
            return None
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap

    def _safe_url(self) -> str:
        """The URL without credentials, for logs and health."""
        return redact_url(self.params.url)

    def _scrub(self, exc: BaseException) -> str:
        """An error's text without the camera's address (FFmpeg's errors quote it, credentials and all)."""
        text = str(exc)
        for form in (stream_url(self.params.url), self.params.url):
            text = text.replace(form, self._safe_url())
        return text

    def _read_until_failure(self) -> bool:
        """Read frames until the stream fails; return whether any frame came."""
        if self.params.kind == "usb":
            return self._read_opencv()
        return self._read_av()

    def _open_container(self) -> Any:
        """The opened stream or file, on a hardware decoder when one takes it; ``None`` when it cannot be
        opened (``last_error`` says why)."""
        url, kind = self.params.url, self.params.kind
        if kind == "file" and not Path(url).is_file():
            self.health.last_error = f"video file {url} not found"
            return None
        tried: list[str] = []
        for device in list(self._devices):
            try:
                container = open_av(url, kind, self.params.read_timeout_s, device)
                self.health.decoder = f"{container.streams.video[0].codec_context.name} ({device})"
                return container
            except Exception as exc:  # no device, no permission, or no stream it can decode
                tried.append(f"{device}: {self._scrub(exc)}")
        try:
            container = open_av(url, kind, self.params.read_timeout_s)
            if not container.streams.video:
                container.close()
                raise IndexError("no video stream")
        except (av.error.FFmpegError, OSError, IndexError):
            if kind == "file":
                self.health.last_error = f"cannot open video file {self._safe_url()} (unreadable or corrupt)"
            else:
                self.health.last_error = f"cannot open {self._safe_url()}"
            return None
        if self.params.hwaccel and not self._software_said:
            # Software opened what no hardware decoder did (or the box has none): said once per camera.
            self._software_said = True
            logger.log(
                logging.WARNING if tried else logging.INFO,
                "camera %s: decoding in software (%s)",
                self.camera_id,
                "; ".join(tried) if tried else "no hardware video decoder on this box",
            )
        self._devices = []
        self.health.decoder = container.streams.video[0].codec_context.name
        return container

    def _read_av(self) -> bool:
        """Read with PyAV, decoding only what is needed (see the module's docstring)."""
        container = self._open_container()
        if container is None:
            self._mark_offline()
            return False
        stream = container.streams.video[0]
        codec = stream.codec_context
        # One decoding thread per camera: the cameras are the parallelism (and each one's CPU is its own).
        codec.thread_count = 1
        intra_only = bool(codec.codec.intra_only)
        rate = float(stream.average_rate or stream.guessed_rate or 0.0)
        pace = 1.0 / rate if self.params.kind == "file" and self.params.realtime and 0 < rate <= 120 else 0.0
        spacing = 0.9 / self.params.max_fps if self.params.max_fps else 0.0
        delivered = False
        last_retrieved = -1e18
        next_due = last_check = time.monotonic()
        waiting: list[Any] = []  # inter-coded packets since the last key frame, not decoded while idle
        try:
            while not self._halt.is_set():
                ended = True
                try:
                    for packet in container.demux(stream):
                        if self._halt.is_set():
                            ended = False
                            break
                        if packet.size == 0:
                            continue  # the flush packet at the end
                        if self.params.kind == "file" and time.monotonic() - last_check >= FILE_CHECK_S:
                            last_check = time.monotonic()
                            if not readable(Path(self.params.url)):
                                self.health.last_error = f"video file {self.params.url} is no longer readable"
                                return delivered
                        if pace:
                            next_due += pace
                            delay = next_due - time.monotonic()
                            if delay > 0:
                                self._halt.wait(delay)
                            else:
                                next_due = time.monotonic()
                        self._count_input()
                        now = time.monotonic()
                        due = now - last_retrieved >= (max(spacing, IDLE_INTRA_S) if self.idle else spacing)
                        if intra_only:
                            if not due:
                                continue
                        else:
                            if packet.is_keyframe:
                                waiting = []
                            elif self.idle and len(waiting) < MAX_WAITING:
                                waiting.append(packet)
                                continue
                            elif waiting:  # the scene moved: catch up from the last key frame
                                self._decode(codec, waiting)
                                waiting = []
                        frame = self._decode(codec, [packet])
                        if frame is not None and (due or (self.idle and packet.is_keyframe)):
                            last_retrieved = now
                            self._publish(frame.to_ndarray(format="bgr24"))
                            delivered = True
                except (av.error.FFmpegError, OSError) as exc:
                    ended = False
                    self.health.last_error = (
                        f"cannot decode {self._safe_url()}"
                        if self.params.kind == "file"
                        else "stream dropped"
                    )
                    logger.debug("camera %s: %s", self.camera_id, self._scrub(exc))
                    break
                if not ended:
                    break
                if self.params.kind == "file" and self.params.loop and delivered:
                    container.seek(0)
                    codec.flush_buffers()
                    waiting = []
                    continue
                if self.params.kind != "file":
                    self.health.last_error = "stream dropped"
                elif delivered:
                    self.health.last_error = "end of video file"
                else:
                    self.health.last_error = f"cannot decode {self._safe_url()}"
                break
        finally:
            container.close()
            self._mark_offline()
        return delivered

    def _decode(self, codec: Any, packets: list[Any]) -> Any:
        """Decode ``packets`` in order; the last frame that came out, or ``None``."""
        last = None
        for packet in packets:
            try:
                frames = codec.decode(packet)
            except av.error.InvalidDataError:
                continue  # a damaged packet: the next key frame repairs the picture
            self.health.frames_decoded += len(frames)
            if frames:
                last = frames[-1]
        return last

    def _read_opencv(self) -> bool:
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
                self.health.frames_decoded += 1
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
        if self.health.frame_arrived(time.time()):
            logger.info("camera %s online", self.camera_id)

    def _mark_offline(self) -> None:
        self.health.went_offline()
