"""Throughput of the PyTorch (GPU) backend by batch size, and of video decoding by stream size: the two
bounds of a server that watches many cameras (``sitewatch bench gpu``).

A "detection" here is one frame through the PPE model with its letterbox and decoding, as the worker
counts it. Decoding is measured apart because a server must decode every frame of an H.264 stream even
when it looks at only a few a second.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detector.backends.interface import DetectorBackend
from detector.decode import DecodeParams
from detector.evaluation.figures import figures
from streams.video import encode_mp4

#: Camera stream sizes (width, height): a substream and a 1080p main stream.
STREAMS = {"substream 640x360": (640, 360), "main 1920x1080": (1920, 1080)}


@dataclass(slots=True)
class BatchFigure:
    """Detections per second at one batch size, with the median time of each stage per batch."""

    device: str
    frame: str
    batch: int
    detections_per_s: float
    ms_per_batch: float
    preprocess_ms: float
    inference_ms: float
    postprocess_ms: float

    def to_json(self) -> dict[str, object]:
        """All figures, rounded the benchmarks' one way (:func:`detector.evaluation.figures.figures`)."""
        return figures(self)


@dataclass(slots=True)
class DecodeFigure:
    """Frames one decoding thread turns out per second for one stream size and codec."""

    stream: str
    codec: str
    frames_per_s: float
    cameras_at_25fps: float  # how many such cameras one core keeps decoded at 25 frames/s

    def to_json(self) -> dict[str, object]:
        """All figures, rounded the benchmarks' one way (:func:`detector.evaluation.figures.figures`)."""
        return figures(self)


def bench_batches(
    model: DetectorBackend,
    images: Sequence[np.ndarray],
    *,
    batches: Sequence[int],
    runs: int,
    device: str,
    params: DecodeParams | None = None,
    progress: bool = True,
) -> list[BatchFigure]:
    """Time ``model.detect`` on batches built from ``images`` (repeated as needed), per batch size.

    Args:
        model: a loaded backend (the first call at each size is a warm-up and is not timed).
        images: BGR frames, all the same size.
        batches: batch sizes to measure.
        runs: timed calls per batch size.
        device: the device's name, for the table.
        params: decoding thresholds (the engine's default operating point when ``None``).
        progress: show a progress bar.
    """
    params = params or DecodeParams(conf=0.35, iou=0.6, max_det=100)
    h, w = images[0].shape[:2]
    figures = []
    for size in batches:
        frames = [images[i % len(images)] for i in range(size)]
        model.detect(frames, params)  # warm-up: allocations, CUDA graph capture
        totals: list[float] = []
        stages: dict[str, list[float]] = {"preprocess": [], "inference": [], "postprocess": []}
        for _ in tqdm(range(runs), desc=f"batch {size}", unit="run", disable=not progress, leave=False):
            start = time.perf_counter()
            result = model.detect(frames, params)
            totals.append((time.perf_counter() - start) * 1000.0)
            for stage, values in stages.items():
                values.append(result.timings_ms.get(stage, 0.0))
        ms = statistics.median(totals)
        figures.append(
            BatchFigure(
                device=device,
                frame=f"{w}x{h}",
                batch=size,
                detections_per_s=size * 1000.0 / ms,
                ms_per_batch=ms,
                preprocess_ms=statistics.median(stages["preprocess"]),
                inference_ms=statistics.median(stages["inference"]),
                postprocess_ms=statistics.median(stages["postprocess"]),
            )
        )
    return figures


def _write_clip(path: Path, size: tuple[int, int], frames: int, source: np.ndarray) -> str:
    """Encode a moving clip of ``source`` at ``size`` with the codec event clips use (H.264); its name."""
    base = cv2.resize(source, size)
    # motion, so that frames are not all skipped
    encode_mp4((np.roll(base, 8 * i, axis=1) for i in range(frames)), 25.0, path)
    return "h264"


def bench_decode(source: np.ndarray, *, frames: int = 125, progress: bool = True) -> list[DecodeFigure]:
    """Decode a clip of each :data:`STREAMS` size on one thread; frames per second of each."""
    cv2.setNumThreads(1)
    figures = []
    with tempfile.TemporaryDirectory(prefix="sitewatch-decode-") as tmp:
        for name, size in tqdm(STREAMS.items(), desc="decode", disable=not progress, leave=False):
            path = Path(tmp) / f"{size[0]}x{size[1]}.mp4"
            codec = _write_clip(path, size, frames, source)
            cap = cv2.VideoCapture(str(path))
            cap.set(cv2.CAP_PROP_N_THREADS, 1)
            count, start = 0, time.perf_counter()
            while cap.grab():  # grab decodes; retrieve would only convert the colours
                count += 1
            seconds = time.perf_counter() - start
            cap.release()
            fps = count / seconds if seconds > 0 else 0.0
            figures.append(
                DecodeFigure(stream=name, codec=codec, frames_per_s=fps, cameras_at_25fps=fps / 25)
            )
    return figures
