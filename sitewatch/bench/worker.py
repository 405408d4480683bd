"""``sitewatch bench cameras N``: N file sources through the whole worker, against the engine alone.

With ``--substream`` each camera is a 1080p main stream and a 640×360 substream of the demo video
(:func:`prepare_streams`), and the CPU the worker used is told apart per thread (:class:`CpuSplit`):
decoding the detect stream, reading the main stream, the motion gate, and inference with everything else.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detector.engine import Engine
from detector.evaluation.figures import figures
from sitewatch.bench.proc import thread_cpu_s, tree_cpu_s, tree_rss_mb
from streams.sinks import MemorySink
from streams.worker import Worker


def rss_mb() -> float:
    """Resident memory of this process and its children (capture processes), in MB (Linux)."""
    return tree_rss_mb()


@dataclass(frozen=True, slots=True)
class WorkerBench:
    """Measured figures of one run.

    Attributes:
        cameras: sources run at once.
        demand_fps: frames per second the cameras ask for (cameras × detect rate).
        fps_total: frames detected per second by the worker, all cameras together.
        engine_fps: frames per second of the engine alone (same frames, one after the other).
        ratio: ``fps_total / engine_fps``.
        ratio_of_capacity: ``fps_total / min(engine_fps, demand_fps)``: below the engine's capacity the
            cameras, not the engine, set the pace.
        engine_work_fps: the engine alone with the smoking checks the pipeline ran on the way
            (``1000 / (1000 / engine_fps + smoking ms per frame)``): all the model work of a frame.
        ratio_of_engine_work: ``fps_total / min(engine_work_fps, demand_fps)``: what is left is plumbing.
        stages_ms: mean time per frame of each stage inside the worker.
        latency_p95_ms: from the capture of the frame behind an event update to its leaving the sink.
        latency_samples: updates measured.
        dropped: frames dropped from the full inference queue.
        motion_skipped: frames the motion gate let pass without inference.
        rss_mb_per_camera: growth of resident memory per camera over the engine alone (capture processes
            included).
        cpu_cores: CPU time of the worker and its capture processes per second of the run: how many
            cores it kept busy.
        gpu_memory_mb: CUDA memory PyTorch held at the end (the GPU backend), else ``None``.
        duration_s: measured time.
        cpu: CPU seconds per minute of the run, told apart by thread (:class:`CpuSplit`).
        decoded_share: frames decoded of the frames read, detect streams together (below 1 while
            scenes are still or frames are not looked at).
        main_offset_ms_p95: time between the detect frame and the main-stream frame of a snapshot
            (absolute, 95th percentile), cameras with a main stream only.
        main_offset_samples: snapshots taken from main streams.
        main_ring_kb: compressed main stream kept per camera at the end, in KB.
    """

    cameras: int
    demand_fps: float
    fps_total: float
    engine_fps: float
    ratio: float
    ratio_of_capacity: float
    engine_work_fps: float
    ratio_of_engine_work: float
    stages_ms: dict[str, float]
    latency_p95_ms: float | None
    latency_samples: int
    dropped: int
    motion_skipped: int
    rss_mb_per_camera: float
    duration_s: float
    cpu_cores: float | None = None
    gpu_memory_mb: float | None = None
    cpu: CpuSplit | None = None
    decoded_share: float | None = None
    main_offset_ms_p95: float | None = None
    main_offset_samples: int = 0
    main_ring_kb: float | None = None

    @property
    def looks_per_camera(self) -> float:
        """Frames detected per second for each camera, on average (its detect rate asks for
        ``demand_fps / cameras``)."""
        return self.fps_total / self.cameras

    def to_json(self) -> dict[str, object]:
        """All figures (and looks per camera), rounded the benchmarks' one way
        (:func:`detector.evaluation.figures.figures`)."""
        return figures({**figures(self), "looks_per_camera": self.looks_per_camera})


@dataclass(frozen=True, slots=True)
class CpuSplit:
    """Where the worker's CPU went, from each thread's CPU time (``/proc``), not from the wall clock.

    Attributes:
        decode_s_per_camera_min: CPU seconds per camera per minute decoding the stream detection looks at
            (its capture thread: one decoding thread per camera).
        main_s_per_camera_min: CPU seconds per camera per minute reading the main stream (demuxing only;
            snapshots are decoded on the inference thread).
        motion_s_per_min: CPU seconds per minute of the dispatcher (the motion gate), all cameras.
        inference_s_per_min: CPU seconds per minute of everything else: inference (onnxruntime's threads
            included), tracking, rules, snapshots.
        inference_s_per_look: ``inference_s_per_min`` per frame detected.
        decode_ms_per_frame: CPU milliseconds per frame decoded (whether or not the camera kept up).
        read_fps_per_camera: frames read per second per camera (the streams' rate when it kept up).
    """

    decode_s_per_camera_min: float
    main_s_per_camera_min: float
    motion_s_per_min: float
    inference_s_per_min: float
    inference_s_per_look: float
    decode_ms_per_frame: float = 0.0
    read_fps_per_camera: float = 0.0


def _thread_cpu(prefix: str) -> float:
    """CPU seconds so far of this process's live threads whose name starts with ``prefix``."""
    return sum(thread_cpu_s(t.native_id) for t in threading.enumerate() if t.name.startswith(prefix))


def _cpu_now() -> dict[str, float]:
    return {
        "total": tree_cpu_s() or 0.0,
        "decode": _thread_cpu("capture-"),
        "main": _thread_cpu("main-"),
        "motion": _thread_cpu("dispatch"),
    }


def prepare_streams(video: Path, folder: Path, *, fps: int = 25, gop_s: float = 2.0) -> tuple[Path, Path]:
    """A camera's two streams made from ``video``: ``main-1920x1080.mp4`` and ``sub-640x360.mp4`` in
    H.264 (x264 ``veryfast``, High profile as cameras send it), ``fps`` frames a second, a key frame every
    ``gop_s`` seconds; made once and kept in ``folder``.

    The video's frames are letterboxed to 16:9 and repeated up to ``fps`` with a small sway (as a camera
    on a pole sways), so that no two frames are alike and decoding costs what a live scene costs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / f"main-1920x1080-{fps}fps.mp4", folder / f"sub-640x360-{fps}fps.mp4")
    if all(p.is_file() and p.stat().st_size > 0 for p in paths):
        return paths
    import av

    cap = cv2.VideoCapture(str(video))
    rate = cap.get(cv2.CAP_PROP_FPS) or 10.0
    sources: list[np.ndarray] = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        sources.append(frame)
    cap.release()
    if not sources:
        raise ValueError(f"{video}: no frame")
    h, w = sources[0].shape[:2]
    width = max(w, round(h * 16 / 9))
    outputs = []
    for path, size in zip(paths, [(1920, 1080), (640, 360)], strict=True):
        tmp = path.with_suffix(".part.mp4")
        out = av.open(str(tmp), "w")
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        gop = max(1, round(gop_s * fps))
        stream.codec_context.gop_size = gop
        stream.codec_context.options = {"preset": "veryfast", "keyint_min": str(gop), "sc_threshold": "0"}
        outputs.append((out, stream, size, tmp, path))
    count = round(len(sources) / rate * fps)
    for i in range(count):
        image = sources[min(len(sources) - 1, int(i * rate / fps))]
        left = (width - w) // 2
        framed = cv2.copyMakeBorder(
            image, 0, 0, left, width - w - left, cv2.BORDER_CONSTANT, value=(114,) * 3
        )
        for out, stream, size, _, _ in outputs:
            scale = size[0] / width
            matrix = np.array([[scale, 0, 3 * np.sin(i / 5)], [0, scale, 2 * np.cos(i / 7)]], np.float32)
            moved = cv2.warpAffine(framed, matrix, size, borderMode=cv2.BORDER_REFLECT)
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.asarray(moved, np.uint8), format="bgr24")
            ):
                out.mux(packet)
    for out, stream, _, tmp, path in outputs:
        for packet in stream.encode():
            out.mux(packet)
        out.close()
        tmp.rename(path)
    return paths


def engine_fps(engine: Engine, video: Path, seconds: float = 8.0) -> float:
    """Frames per second of ``engine.detect`` alone on the video's frames, one at a time."""
    cap = cv2.VideoCapture(str(video))
    frames: list[np.ndarray] = []
    while len(frames) < 60:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    engine.detect(frames[:1], smoking=False)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        engine.detect([frames[count % len(frames)]], smoking=False)
        count += 1
    return count / (time.perf_counter() - start)


def bench_worker(
    worker: Worker,
    sink: MemorySink,
    *,
    engine_rate: float,
    base_rss: float,
    warmup_s: float,
    duration_s: float,
    progress: bool = True,
) -> WorkerBench:
    """Run a built (not started) worker and measure it after ``warmup_s``."""
    cameras = list(worker.cameras.values())
    worker.start()
    time.sleep(warmup_s)
    processed0 = sum(c.stats.processed for c in cameras)
    for camera in cameras:
        camera.pipeline.timer.ms.clear()
    updates0 = len(sink.updates)
    cpu0 = tree_cpu_s()
    split0 = _cpu_now()
    read0 = sum(c.capture.health.frames_read for c in cameras)
    decoded0 = sum(c.capture.health.frames_decoded for c in cameras)
    start = time.time()
    for _ in tqdm(range(int(duration_s)), desc=f"{len(cameras)} cameras", unit="s", disable=not progress):
        time.sleep(1.0)
    elapsed = time.time() - start
    processed = sum(c.stats.processed for c in cameras) - processed0
    split1 = _cpu_now()
    read = sum(c.capture.health.frames_read for c in cameras) - read0
    decoded = sum(c.capture.health.frames_decoded for c in cameras) - decoded0
    cpu1 = tree_cpu_s()
    rings = [c.main.ring.bytes / 1024 for c in cameras if c.main is not None]
    rss = rss_mb()
    gpu = _gpu_memory_mb()
    worker.stop()
    timings: dict[str, float] = {}
    for camera in cameras:
        for stage, ms in camera.pipeline.timer.ms.items():
            timings[stage] = timings.get(stage, 0.0) + ms
    latencies = [
        (emitted - update.frame_time) * 1000
        for update, emitted in zip(sink.updates[updates0:], sink.emitted_at[updates0:], strict=True)
        if update.frame_time is not None and emitted <= start + elapsed
    ]
    offsets = [
        abs(float(offset))
        for update, emitted in zip(sink.updates[updates0:], sink.emitted_at[updates0:], strict=True)
        if isinstance(offset := update.details.get("main_stream_offset_ms"), int | float)
        and emitted <= start + elapsed
    ]
    demand = sum(c.detect_fps for c in cameras)
    fps_total = processed / elapsed
    stages = {k: v / max(processed, 1) for k, v in timings.items()}
    smoking_ms = sum(v for k, v in stages.items() if k.startswith("smoking_"))
    work_fps = 1000.0 / (1000.0 / engine_rate + smoking_ms)
    return WorkerBench(
        cameras=len(cameras),
        demand_fps=demand,
        fps_total=fps_total,
        engine_fps=engine_rate,
        ratio=fps_total / engine_rate,
        ratio_of_capacity=fps_total / min(engine_rate, demand),
        engine_work_fps=work_fps,
        ratio_of_engine_work=fps_total / min(work_fps, demand),
        stages_ms=stages,
        latency_p95_ms=statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else None,
        latency_samples=len(latencies),
        dropped=sum(c.stats.queue_dropped for c in cameras),
        motion_skipped=sum(c.gate.skipped for c in cameras),
        rss_mb_per_camera=(rss - base_rss) / len(cameras),
        duration_s=elapsed,
        cpu_cores=None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) / elapsed,
        gpu_memory_mb=gpu,
        cpu=_split(split0, split1, elapsed, len(cameras), processed, read, decoded)
        if cpu0 is not None
        else None,
        decoded_share=decoded / read if read else None,
        main_offset_ms_p95=_p95(offsets),
        main_offset_samples=len(offsets),
        main_ring_kb=statistics.mean(rings) if rings else None,
    )


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    return values[0] if len(values) == 1 else statistics.quantiles(values, n=20)[-1]


def _split(
    before: dict[str, float],
    after: dict[str, float],
    elapsed: float,
    cameras: int,
    looks: int,
    read: int,
    decoded: int,
) -> CpuSplit:
    used = {key: after[key] - before[key] for key in before}
    per_min = 60.0 / elapsed
    rest = max(0.0, used["total"] - used["decode"] - used["main"] - used["motion"])
    return CpuSplit(
        decode_s_per_camera_min=used["decode"] * per_min / cameras,
        main_s_per_camera_min=used["main"] * per_min / cameras,
        motion_s_per_min=used["motion"] * per_min,
        inference_s_per_min=rest * per_min,
        inference_s_per_look=rest / looks if looks else 0.0,
        decode_ms_per_frame=1000.0 * used["decode"] / decoded if decoded else 0.0,
        read_fps_per_camera=read / elapsed / cameras,
    )


def _gpu_memory_mb() -> float | None:
    """CUDA memory PyTorch holds, when it is loaded and has CUDA (the GPU backend); else ``None``."""
    import sys

    torch = sys.modules.get("torch")  # never imported here: only measured where a backend loaded it
    if torch is None or not torch.cuda.is_available():
        return None
    return float(torch.cuda.memory_reserved()) / 2**20
