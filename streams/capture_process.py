"""Capture in a process of its own: decoding off the worker's interpreter, for servers with many cameras.

A 1080p H.264 stream must be decoded whole even when the detector looks at five frames a second, and
OpenCV's decoding of many streams from threads of one Python process contends for that process (the GIL
around every call, one allocator). :class:`CaptureProcess` runs the same
:class:`streams.capture.CaptureThread` in a child process and hands its newest frame over through shared
memory, so that a server's inference process is fed by as many decoding processes as it has cameras, with
no copy through a pipe.

It has the interface of a capture thread (``start``, ``stop``, ``join``, ``latest``, ``health``, ``ring``),
so the worker uses either (``worker.capture: process`` in the configuration). Differences:

* frames larger than the shared buffer (``max_frame_bytes``, 1080p by default) are shrunk to fit;
* clips get the frames the worker looked at (a few a second) rather than every decoded frame;
* health arrives from the child every ``health_s`` seconds.

The shared buffer holds a header (a version counter, the frame's sequence number, time and shape) and one
frame; the child bumps the version to odd while it writes and to even when done, and a reader that sees the
version change while it copies tries again (a sequence lock), so a frame is never torn.
"""

from __future__ import annotations

import logging
import multiprocessing
import struct
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from multiprocessing.synchronize import Event
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from streams.capture import CameraHealth, CaptureThread
from streams.sources import SourceParams

if TYPE_CHECKING:
    from streams.clips import FrameRing
    from streams.mainstream import MainStream

logger = logging.getLogger(__name__)

#: version (odd while written), sequence number, capture time, height, width, channels.
_HEADER = struct.Struct("<QQdIII")
#: A 1080p BGR frame (with the 8 rows some encoders pad to).
DEFAULT_MAX_FRAME_BYTES = 1920 * 1088 * 3


def fit(frame: np.ndarray, capacity: int) -> np.ndarray:
    """``frame``, shrunk (keeping its aspect) when it holds more than ``capacity`` bytes.

    Example:
        >>> fit(np.zeros((2160, 3840, 3), np.uint8), 1920 * 1080 * 3).shape
        (1080, 1920, 3)
    """
    if frame.nbytes <= capacity:
        return frame
    scale = (capacity / frame.nbytes) ** 0.5
    h, w = frame.shape[:2]
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


class _SharedCapture(CaptureThread):
    """The capture thread of the child: publishes each frame into the shared buffer."""

    def __init__(self, camera_id: str, params: SourceParams, buffer: memoryview, idle: Any = None) -> None:
        self._idle_flag = idle  # the parent's flag: set while the motion gate finds the scene still
        super().__init__(camera_id, params)
        self.buffer = buffer
        self.capacity = len(buffer) - _HEADER.size
        self.version = 0
        self.shrunk = False

    @property
    def idle(self) -> bool:
        return bool(self._idle_flag.value) if self._idle_flag is not None else False

    @idle.setter
    def idle(self, value: bool) -> None:
        if self._idle_flag is not None:
            self._idle_flag.value = int(value)

    def _publish(self, frame: np.ndarray) -> None:
        if frame.nbytes > self.capacity and not self.shrunk:
            self.shrunk = True
            logger.warning(
                "camera %s: frames of %dx%d are larger than the shared buffer: shrunk to fit",
                self.camera_id,
                frame.shape[1],
                frame.shape[0],
            )
        frame = np.ascontiguousarray(fit(frame, self.capacity))
        h, w = frame.shape[:2]
        channels = frame.shape[2] if frame.ndim == 3 else 1
        self._seq += 1
        self.version += 1  # odd: being written
        _HEADER.pack_into(self.buffer, 0, self.version, self._seq, time.time(), h, w, channels)
        self.buffer[_HEADER.size : _HEADER.size + frame.nbytes] = frame.reshape(-1).data
        self.version += 1  # even: complete
        _HEADER.pack_into(self.buffer, 0, self.version, self._seq, time.time(), h, w, channels)


def _child(
    camera_id: str,
    params: SourceParams,
    shm_name: str,
    halt: Event,
    health: Connection,
    health_s: float,
    idle: Any = None,
) -> None:
    """The child process: capture into the shared buffer, send health until asked to stop."""
    shm = SharedMemory(name=shm_name)
    assert shm.buf is not None  # open until closed below
    try:
        capture = _SharedCapture(camera_id, params, shm.buf, idle)
        capture.start()
        while not halt.wait(health_s):
            health.send(replace(capture.health))
        capture.stop()
        capture.join(timeout=15)
        health.send(replace(capture.health))
        del capture  # drops its view of the buffer before the buffer closes
    finally:
        shm.close()


class CaptureProcess:
    """Reads one camera in a child process (see the module's docstring).

    Args:
        camera_id: the camera's id, for logs.
        params: where and how to read.
        max_frame_bytes: size of the shared frame buffer.
        health_s: how often the child reports health.
    """

    def __init__(
        self,
        camera_id: str,
        params: SourceParams,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        health_s: float = 0.5,
    ) -> None:
        self.camera_id = camera_id
        self.params = params
        self.health = CameraHealth()
        #: Keeps the frames the worker looked at for event clips, when set.
        self.ring: FrameRing | None = None
        #: The camera's main stream, read in this process (demuxing only) beside the child's decoding.
        self.main: MainStream | None = None
        self._shm = SharedMemory(create=True, size=_HEADER.size + max_frame_bytes)
        assert self._shm.buf is not None  # open until join
        _HEADER.pack_into(self._shm.buf, 0, 0, 0, 0.0, 0, 0, 0)
        context = multiprocessing.get_context("spawn")  # no fork of a process that runs threads
        self._halt = context.Event()
        self._idle = context.Value("b", 0, lock=False)
        receive, send = context.Pipe(duplex=False)
        self._health_in: Connection = receive
        self._process = context.Process(
            target=_child,
            args=(camera_id, params, self._shm.name, self._halt, send, health_s, self._idle),
            name=f"capture-{camera_id}",
            daemon=True,
        )
        self._receiver = threading.Thread(target=self._receive, name=f"health-{camera_id}", daemon=True)
        self._last: tuple[int, float, np.ndarray | None] = (0, 0.0, None)
        self._lock = threading.Lock()

    @property
    def idle(self) -> bool:
        """Whether the motion gate finds the scene still (the child then decodes key frames only)."""
        return bool(self._idle.value)

    @idle.setter
    def idle(self, value: bool) -> None:
        self._idle.value = int(value)

    def start(self) -> None:
        """Start the child and the thread that takes its health reports (and the main stream's reader)."""
        if self.main is not None:
            self.main.start()
        self._process.start()
        self._receiver.start()

    def stop(self) -> None:
        """Ask the child to finish; it releases the stream within a read timeout."""
        self._halt.set()
        if self.main is not None:
            self.main.stop()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the child (killed after ``timeout``), then free the shared buffer."""
        self._process.join(timeout)
        if self._process.is_alive():
            logger.warning("camera %s: the capture process did not stop; killing it", self.camera_id)
            self._process.kill()
            self._process.join(5)
        self._receiver.join(timeout=5)
        self._health_in.close()
        self._shm.close()
        self._shm.unlink()
        if self.main is not None:
            self.main.join(timeout)

    def is_alive(self) -> bool:
        """Whether the child still runs."""
        return self._process.is_alive()

    def _receive(self) -> None:
        while True:
            try:
                self.health = self._health_in.recv()
            except (EOFError, OSError):  # the child ended
                return

    def latest(self) -> tuple[int, float, np.ndarray | None]:
        """``(sequence number, capture time, frame)`` of the newest frame; the number grows per frame.
        A frame is copied out of the shared buffer once, when it is new."""
        with self._lock:
            buffer: Any = self._shm.buf
            for _ in range(100):
                version, seq, at, h, w, channels = _HEADER.unpack_from(buffer, 0)
                if seq == self._last[0]:
                    return self._last
                if version % 2:
                    time.sleep(0.0005)  # being written
                    continue
                shape = (h, w, channels) if channels > 1 else (h, w)
                size = h * w * channels
                frame = np.frombuffer(buffer, np.uint8, size, _HEADER.size).reshape(shape).copy()
                if _HEADER.unpack_from(buffer, 0)[0] == version:  # not overwritten while copied
                    self._last = (seq, at, frame)
                    if self.ring is not None:
                        self.ring.push(frame, at)
                    return self._last
            return self._last
