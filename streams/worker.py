"""The edge worker: capture threads, the motion gate, one shared inference thread, per-camera pipelines.

Threads, whatever the camera count: one capture thread per camera (I/O bound), one dispatcher that
samples each camera at its detect rate through the motion gate into a bounded queue, one inference
thread that runs the shared engine on batches from that queue, and one pipeline thread that feeds the
detected scenes, in order, to the camera pipelines (tracking, smoking checks, faces, rules, evidence).
A full queue drops its oldest frame and counts it, so the video path never waits and latency stays
bounded.

The pipelines have a thread of their own so that the model never waits for them: the next batch is
inferred (onnxruntime releases the GIL) while the last one is tracked and judged. On one thread the two
took turns, and the pipelines' ~5-10 ms a look left the model idle (``sitewatch bench cameras``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from detector.engine import Engine, Scene
from streams.capture import CaptureThread
from streams.capture_process import CaptureProcess
from streams.clips import FrameRing
from streams.mainstream import MainStream
from streams.motion import MotionGate, MotionParams
from streams.offline import OfflineWatch
from streams.pipeline import CameraPipeline
from streams.presence import OfficerPresence
from streams.queues import put_dropping_oldest
from streams.sinks import Sink
from streams.sources import SourceParams

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class CameraStats:
    """Counters of one camera, beside its capture health."""

    sampled: int = 0
    motion_skipped: int = 0
    queue_dropped: int = 0
    processed: int = 0


@dataclass(slots=True)
class Camera:
    """Everything the worker keeps for one camera."""

    camera_id: str
    capture: CaptureThread | CaptureProcess
    gate: MotionGate
    pipeline: CameraPipeline
    offline: OfflineWatch
    detect_fps: float
    main: MainStream | None = None  # its main stream, when it is watched on a substream
    stats: CameraStats = field(default_factory=CameraStats)
    next_sample: float = 0.0
    last_seq: int = 0


@dataclass(frozen=True, slots=True)
class WorkerParams:
    """Attributes:
    queue_size: frames waiting for inference at most; older ones are dropped beyond it.
    batch_size: frames detected in one engine call at most (several cameras).
    tick_s: how often offline cameras and officer absence are checked.
    capture: where each camera is decoded: a thread of this process, or a process of its own
        (:mod:`streams.capture_process`: many cameras on a server, decoding off the inference process).
    """

    queue_size: int = 4
    batch_size: int = 4
    tick_s: float = 1.0
    capture: Literal["thread", "process"] = "thread"


@dataclass(frozen=True, slots=True)
class _Item:
    camera_id: str
    frame_time: float
    frame: np.ndarray


class Worker:
    """Runs a site's cameras.

    Args:
        engine: the one detection engine of the box.
        sink: where event updates go.
        presence: the site's officer presence (``None`` when the site has no officer gallery).
        params: queue and batching.
    """

    def __init__(
        self,
        engine: Engine,
        sink: Sink,
        *,
        presence: OfficerPresence | None = None,
        params: WorkerParams | None = None,
    ) -> None:
        self.engine = engine
        self.sink = sink
        self.presence = presence
        self.params = params or WorkerParams()
        self.cameras: dict[str, Camera] = {}
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=self.params.queue_size)
        # Detected batches for the pipeline thread; ``None`` says the inference thread has stopped. Small,
        # so that a pipeline falling behind holds the model back rather than letting latency grow.
        self._detected: queue.Queue[tuple[list[_Item], list[Scene]] | None] = queue.Queue(maxsize=2)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.batches = 0
        #: Tells this run's counters (false-alarm suppressions) from those of the box's previous runs.
        self.run_id = uuid.uuid4().hex

    def add_camera(
        self,
        camera_id: str,
        source: SourceParams,
        pipeline: CameraPipeline,
        *,
        detect_fps: float = 5.0,
        motion: MotionParams | None = None,
        offline_after_s: float = 60.0,
        site_id: str = "",
        ring: FrameRing | None = None,
        main: MainStream | None = None,
    ) -> None:
        """Register a camera (before :meth:`start`); ``ring`` keeps its recent frames for event clips;
        ``main`` reads its main stream for snapshots when ``source`` is its substream."""
        capture_kind = CaptureProcess if self.params.capture == "process" else CaptureThread
        self.cameras[camera_id] = Camera(
            camera_id=camera_id,
            capture=capture_kind(camera_id, replace(source, max_fps=source.max_fps or detect_fps)),
            gate=MotionGate(motion),
            pipeline=pipeline,
            offline=OfflineWatch(site_id, camera_id, offline_after_s),
            detect_fps=detect_fps,
            main=main,
        )
        self.cameras[camera_id].capture.ring = ring
        self.cameras[camera_id].capture.main = main
        pipeline.main_stream = main

    def start(self) -> None:
        """Start capture, dispatch and inference threads."""
        now = time.time()
        if self.presence is not None:
            self.presence.start(now)
        for camera in self.cameras.values():
            camera.capture.start()
        self._threads = [
            threading.Thread(target=self._dispatch, name="dispatch", daemon=True),
            threading.Thread(target=self._infer, name="inference", daemon=True),
            threading.Thread(target=self._pipelines, name="pipelines", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        logger.info("worker started with %d cameras", len(self.cameras))

    def stop(self, reason: str = "worker stopped") -> None:
        """Stop every thread, end open incidents (violations, ``camera_offline``, ``officer_absent``) and
        close the sink."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        now = time.time()
        for camera in self.cameras.values():
            camera.capture.stop()
            camera.pipeline.close(now, reason)
            for update in camera.offline.close(now, reason):
                self.sink.emit(update)
        if self.presence is not None:
            for update in self.presence.close(now, reason):
                self.sink.emit(update)
        for camera in self.cameras.values():
            camera.capture.join(timeout=15)
        self.sink.close()

    def health(self) -> dict[str, dict[str, object]]:
        """Per camera: online, input fps, frames read, decoded, processed and skipped, last frame time, last
        error, the violating looks the false-alarm memory suppressed, per kind, since the start, and its main
        stream's state (``None`` for a camera of one stream)."""
        out: dict[str, dict[str, object]] = {}
        for cid, cam in self.cameras.items():
            h = cam.capture.health
            out[cid] = {
                "online": h.online,
                "input_fps": round(h.input_fps, 2),
                "frames_read": h.frames_read,
                "frames_decoded": h.frames_decoded,
                "decoder": h.decoder,
                "frames_processed": cam.stats.processed,
                "skipped_motion": cam.gate.skipped,
                "dropped_overload": cam.stats.queue_dropped,
                "last_frame_at": h.last_frame_at,
                "offline_since": h.offline_since,
                "reconnects": h.reconnects,
                "last_error": h.last_error,
                "suppressions": dict(cam.pipeline.suppressed),
                "main_stream": cam.main.state() if cam.main is not None else None,
            }
        return out

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            for camera in self.cameras.values():
                seq, frame_time, frame = camera.capture.latest()
                if frame is None or seq == camera.last_seq or now < camera.next_sample:
                    continue
                camera.last_seq = seq
                camera.next_sample = max(camera.next_sample + 1.0 / camera.detect_fps, now - 0.5)
                camera.stats.sampled += 1
                passed = camera.gate.check(frame, frame_time)
                camera.capture.idle = camera.gate.still  # a still scene: decode key frames only
                if not passed:
                    continue
                self._enqueue(_Item(camera.camera_id, frame_time, frame))
            self._stop.wait(0.01)

    def _enqueue(self, item: _Item) -> None:
        dropped = put_dropping_oldest(self._queue, item)
        if dropped is not None:
            self.cameras[dropped.camera_id].stats.queue_dropped += 1

    def _infer(self) -> None:
        while not self._stop.is_set():
            items: list[_Item] = []
            try:
                items.append(self._queue.get(timeout=0.2))
                while len(items) < self.params.batch_size:
                    items.append(self._queue.get_nowait())
            except queue.Empty:
                pass
            if not items:
                continue
            try:
                scenes = self.engine.detect([it.frame for it in items], smoking=False, zoom=False)
            except Exception:  # a bad frame must not kill the inference thread
                logger.exception("inference failed on a batch of %d frames", len(items))
                continue
            self.batches += 1
            self._detected.put((items, scenes))
        self._detected.put(None)

    def _pipelines(self) -> None:
        """Feed detected scenes to their cameras' pipelines until the inference thread stops; tick."""
        last_tick = 0.0
        while True:
            try:
                batch = self._detected.get(timeout=0.2)
            except queue.Empty:
                batch = ([], [])
            if batch is None:
                return
            for item, scene in zip(*batch, strict=True):
                camera = self.cameras[item.camera_id]
                try:
                    camera.pipeline.process(item.frame, item.frame_time, scene)
                    camera.stats.processed += 1
                except Exception:  # one camera's bad frame must not stop the others
                    logger.exception("camera %s: the pipeline failed on a frame", item.camera_id)
            now = time.time()
            if now - last_tick >= self.params.tick_s:
                last_tick = now
                self._tick(now)

    def _tick(self, now: float) -> None:
        for camera in self.cameras.values():
            health = camera.capture.health
            for update in camera.offline.tick(now, health.online, health.offline_since, health.last_error):
                self.sink.emit(update)
            camera.pipeline.expire(now)
        if self.presence is not None:
            for update in self.presence.tick(now):
                self.sink.emit(update)
