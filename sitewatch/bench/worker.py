"""``sitewatch bench cameras N``: N file sources through the whole worker, against the engine alone."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detector.engine import Engine
from detector.evaluation.figures import figures
from sitewatch.bench.proc import tree_cpu_s, tree_rss_mb
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

    @property
    def looks_per_camera(self) -> float:
        """Frames detected per second for each camera, on average (its detect rate asks for
        ``demand_fps / cameras``)."""
        return self.fps_total / self.cameras

    def to_json(self) -> dict[str, object]:
        """All figures (and looks per camera), rounded the benchmarks' one way
        (:func:`detector.evaluation.figures.figures`)."""
        return figures({**figures(self), "looks_per_camera": self.looks_per_camera})


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
    start = time.time()
    for _ in tqdm(range(int(duration_s)), desc=f"{len(cameras)} cameras", unit="s", disable=not progress):
        time.sleep(1.0)
    elapsed = time.time() - start
    processed = sum(c.stats.processed for c in cameras) - processed0
    cpu1 = tree_cpu_s()
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
    )


def _gpu_memory_mb() -> float | None:
    """CUDA memory PyTorch holds, when it is loaded and has CUDA (the GPU backend); else ``None``."""
    import sys

    torch = sys.modules.get("torch")  # never imported here: only measured where a backend loaded it
    if torch is None or not torch.cuda.is_available():
        return None
    return float(torch.cuda.memory_reserved()) / 2**20
