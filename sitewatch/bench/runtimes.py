"""``sitewatch bench runtimes``: the PPE engine on each runtime and model precision, in one run.

onnxruntime and OpenVINO, each on the float model and on its INT8 copy (those installed and present),
take turns frame by frame (the order rotating every frame), so a busy machine slows each alike. Each
option is the whole engine without the smoking stage: letterbox, inference, decoding, association.
onnxruntime's threads do not spin-wait here whatever the configuration says: a session spinning after
its turn would take the CPU from the next option's.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from detector.engine import Engine, EngineSettings
from detector.evaluation.figures import figures

logger = logging.getLogger(__name__)

RUNTIMES = ("onnxruntime", "openvino")


@dataclass(frozen=True, slots=True)
class RuntimeOption:
    """One way to run the PPE model.

    Attributes:
        label: ``<runtime> <precision>``, as the table prints it.
        runtime: ``onnxruntime`` or ``openvino`` (:attr:`BackendOptions.runtime`).
        model: the model file.
    """

    label: str
    runtime: str
    model: Path


@dataclass(frozen=True, slots=True)
class RuntimeBench:
    """Medians over the timed frames, in milliseconds per frame.

    Attributes:
        option: what was timed.
        engine_ms: the whole engine (without smoking).
        inference_ms: the model's inference stage alone.
        vs_first: ``engine_ms`` relative to the first option's.
        fps: ``1000 / engine_ms``.
        runs: frames timed.
    """

    option: RuntimeOption
    engine_ms: float
    inference_ms: float
    vs_first: float
    fps: float
    runs: int

    def to_json(self) -> dict[str, object]:
        """One row, rounded the benchmarks' one way (:func:`detector.evaluation.figures.figures`)."""
        return figures(
            {
                "option": self.option.label,
                "runtime": self.option.runtime,
                "model": self.option.model.name,
                "engine_ms": self.engine_ms,
                "inference_ms": self.inference_ms,
                "vs_first": self.vs_first,
                "fps": self.fps,
                "runs": self.runs,
            }
        )


def available_options(fp32: Path, int8: Path | None) -> list[RuntimeOption]:
    """The options this machine can run: onnxruntime always, OpenVINO when installed; INT8 when the file
    exists."""
    models = [("fp32", fp32)] + ([("int8", int8)] if int8 is not None and int8.is_file() else [])
    if int8 is not None and not int8.is_file():
        logger.warning("INT8 model %s not found (make it with `sitewatch quantize`); skipping it", int8)
    runtimes = [r for r in RUNTIMES if r != "openvino" or importlib.util.find_spec("openvino") is not None]
    if "openvino" not in runtimes:
        logger.warning("openvino is not installed (pip install 'sitewatch[openvino]'); skipping it")
    return [RuntimeOption(f"{r} {p}", r, m) for r in runtimes for p, m in models]


def bench_runtimes(
    options: Sequence[RuntimeOption],
    images: Sequence[np.ndarray],
    settings: EngineSettings,
    *,
    runs: int = 100,
    warmup: int = 5,
    progress: bool = True,
) -> list[RuntimeBench]:
    """Time the engine with each option on ``images`` (cycled), interleaved frame by frame.

    Args:
        options: what to compare; the first is the reference of ``vs_first``.
        images: BGR frames.
        settings: the engine's settings (thresholds, threads); model and runtime come from each option.
        runs: frames timed per option.
        warmup: untimed frames first.
        progress: show a progress bar.
    """
    if not options or not images:
        raise ValueError("bench runtimes needs at least one option and one image")
    engines = [
        Engine(
            dataclasses.replace(
                settings,
                ppe_model=str(o.model),
                smoking_model=None,
                backend=dataclasses.replace(settings.backend, runtime=o.runtime, spin=False),
            )
        )
        for o in options
    ]
    total: list[list[float]] = [[] for _ in options]
    inference: list[list[float]] = [[] for _ in options]
    for i in tqdm(range(warmup + runs), desc="runtimes", unit="frame", disable=not progress):
        img = images[i % len(images)]
        for k in range(len(engines)):
            j = (i + k) % len(engines)
            start = time.perf_counter()
            scene = engines[j].detect([img], smoking=False)[0]
            elapsed = (time.perf_counter() - start) * 1000.0
            if i >= warmup:
                total[j].append(elapsed)
                inference[j].append(scene.timings_ms.get("inference", 0.0))
    medians = [statistics.median(t) for t in total]
    return [
        RuntimeBench(
            o, medians[j], statistics.median(inference[j]), medians[j] / medians[0], 1000 / medians[j], runs
        )
        for j, o in enumerate(options)
    ]
