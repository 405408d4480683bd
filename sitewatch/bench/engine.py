"""``sitewatch bench``: the detection engine's latency per stage next to the bare ``session.run``."""

from __future__ import annotations

import itertools
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from detector.backends.onnx_runtime import OnnxYolo
from detector.engine import Engine, Scene
from detector.evaluation.figures import figures
from detector.smoking import SmokingScheduler
from detector.types import INFERRED, subset

#: The look rate at which the smoking scheduler's per-frame cost is measured (the default detect rate).
LOOKS_PER_S = 5.0


@dataclass(frozen=True, slots=True)
class EngineBench:
    """Measured figures (medians over the runs, milliseconds per frame).

    Attributes:
        engine_ms: whole engine without smoking: preprocess, inference, postprocess, association.
        raw_ms: bare ``session.run`` of the same model on an already preprocessed input.
        ratio: ``engine_ms / raw_ms``.
        stages_ms: mean time per engine stage.
        fps: frames per second of the engine (``1000 / engine_ms``).
        smoking_ms_per_crop: one cigarette check (crop, letterbox, inference, decode).
        smoking_ms_per_frame: mean smoking cost per frame in a scene of ``scene_people`` tracked people
            with the scheduler's ``recheck_s`` and ``max_per_frame``, at :data:`LOOKS_PER_S`.
        scene_people: people in that scene.
        runs: frames timed per figure.
    """

    engine_ms: float
    raw_ms: float | None
    ratio: float | None
    stages_ms: dict[str, float]
    fps: float
    smoking_ms_per_crop: float | None
    smoking_ms_per_frame: float | None
    scene_people: int
    runs: int

    def to_json(self) -> dict[str, object]:
        """All figures, rounded the benchmarks' one way (:func:`detector.evaluation.figures.figures`)."""
        return figures(self)


def _times_ms(fn: Callable[[], object], runs: int, label: str, progress: bool) -> list[float]:
    """Wall-clock ms of each of ``runs`` calls of ``fn``."""
    times = []
    for _ in tqdm(range(runs), desc=label, unit="run", disable=not progress, leave=False):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def bench_engine(
    engine: Engine,
    images: Sequence[np.ndarray],
    *,
    runs: int = 50,
    warmup: int = 5,
    scene_people: int = 4,
    scheduler: SmokingScheduler | None = None,
    progress: bool = True,
) -> EngineBench:
    """Time the engine on ``images`` (cycled) and the bare session on the same inputs.

    The two are interleaved frame by frame so that a busy machine slows both alike.

    Args:
        engine: a loaded engine.
        images: BGR frames to cycle through.
        runs: frames timed.
        warmup: untimed frames first.
        scene_people: people in the smoking scene (the first image with that many is used; otherwise
            the people of the most crowded image are repeated).
        scheduler: how tracked people are picked for smoking checks (the engine's defaults if ``None``).
        progress: show progress bars.
    """
    if not images:
        raise ValueError("bench needs at least one image")
    model = engine.ppe
    blobs = [model.preprocess([img])[0] for img in images] if isinstance(model, OnnxYolo) else []
    engine_times: list[float] = []
    raw_times: list[float] = []
    stages: dict[str, float] = {}
    total = warmup + runs
    for i in tqdm(range(total), desc="engine vs raw", unit="frame", disable=not progress):
        img = images[i % len(images)]
        start = time.perf_counter()
        scene = engine.detect([img], smoking=False)[0]
        elapsed = (time.perf_counter() - start) * 1000.0
        raw = None
        if isinstance(model, OnnxYolo):
            blob = blobs[i % len(images)]
            start = time.perf_counter()
            model.run(blob)
            raw = (time.perf_counter() - start) * 1000.0
        if i >= warmup:
            engine_times.append(elapsed)
            if raw is not None:
                raw_times.append(raw)
            for stage, ms in scene.timings_ms.items():
                stages[stage] = stages.get(stage, 0.0) + ms / runs
    engine_ms = statistics.median(engine_times)
    raw_ms = statistics.median(raw_times) if raw_times else None

    per_crop, per_frame = _bench_smoking(engine, images, runs, scene_people, scheduler, progress)
    return EngineBench(
        engine_ms=engine_ms,
        raw_ms=raw_ms,
        ratio=engine_ms / raw_ms if raw_ms else None,
        stages_ms=stages,
        fps=1000.0 / engine_ms,
        smoking_ms_per_crop=per_crop,
        smoking_ms_per_frame=per_frame,
        scene_people=scene_people,
        runs=runs,
    )


def _bench_smoking(
    engine: Engine,
    images: Sequence[np.ndarray],
    runs: int,
    scene_people: int,
    scheduler: SmokingScheduler | None,
    progress: bool,
) -> tuple[float | None, float | None]:
    """Median ms of one smoking check, and mean ms per frame with ``scene_people`` tracked people."""
    if engine.smoking is None:
        return None, None
    frame, scene = _crowded_scene(engine, images, scene_people)
    if scene is None:
        return None, None
    crowd = scene
    first = [0]
    per_crop = statistics.median(
        _times_ms(lambda: engine.check_smoking(frame, crowd, first), runs, "smoking crop", progress)
    )
    sched = scheduler or SmokingScheduler()
    track_ids = list(range(scene_people))

    clock = itertools.count()

    def step() -> None:
        engine.check_smoking(frame, crowd, sched.choose(track_ids, next(clock) / LOOKS_PER_S))

    frames = max(runs, math.ceil(4 * sched.recheck_s * LOOKS_PER_S))
    per_frame = statistics.mean(_times_ms(step, frames, "smoking scene", progress))
    return per_crop, per_frame


def _crowded_scene(
    engine: Engine, images: Sequence[np.ndarray], people: int
) -> tuple[np.ndarray, Scene | None]:
    """A frame and its scene with at least ``people`` real (not inferred) people, repeating if needed."""
    best = None
    for img in images:
        scene = engine.detect([img], smoking=False)[0]
        real = subset(scene.people, ~np.asarray(scene.people.data[INFERRED], dtype=bool))
        if best is None or len(real) > len(best[1].people):
            scene.people = real
            best = (img, scene)
        if len(real) >= people:
            break
    if best is None or len(best[1].people) == 0:
        return images[0], None
    img, scene = best
    reps = [i % len(scene.people) for i in range(people)]
    scene.people = subset(scene.people, reps)
    return img, scene
