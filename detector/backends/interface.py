"""The detector backend interface and its registry.

Pipeline code holds a :class:`DetectorBackend` and never branches on which one it is. Backends register
under a name (``onnx``, ``ultralytics``); :mod:`detector.backends.factory` makes one by name, or picks it
from the model file's suffix (``.pt``: ultralytics, else onnx): the configuration names a model file, not
a backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import supervision as sv

from detector.decode import DecodeParams


@dataclass(frozen=True, slots=True)
class BackendOptions:
    """How to run a model, whatever the backend.

    Attributes:
        providers: onnxruntime execution providers in order of preference (short names ``cpu``, ``cuda``,
            ``tensorrt``, ``openvino`` or full provider names); unavailable ones are skipped with a warning.
        intra_op_threads: threads inside one operator; 0 lets onnxruntime choose (one per core).
        inter_op_threads: threads across operators; 0 lets onnxruntime choose.
        device: device for the ultralytics and torch backends (``cpu``, ``cuda``, ``cuda:1``, ``0``…).
        spin: let onnxruntime's idle threads spin-wait for work; faster alone, but on a small box the
            spinning takes CPU from the capture threads.
        runtime: what runs ``.onnx`` files: ``onnxruntime``, or ``openvino`` (the ``openvino`` extra).
    """

    providers: tuple[str, ...] = ("cpu",)
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    device: str = "cpu"
    spin: bool = True
    runtime: str = "onnxruntime"


@dataclass(slots=True)
class BatchResult:
    """Detections for each frame of a batch, in original-image pixels, and the time each stage took."""

    detections: list[sv.Detections]
    timings_ms: dict[str, float] = field(default_factory=dict)


class DetectorBackend(Protocol):
    """A YOLO detector: frames in, :class:`supervision.Detections` out."""

    path: Path
    names: dict[int, str]
    input_size: tuple[int, int]

    def detect(self, frames: Sequence[np.ndarray], params: DecodeParams) -> BatchResult:
        """Detect objects in BGR ``frames``."""
        ...


BackendFactory = Callable[[Path, BackendOptions], DetectorBackend]
REGISTRY: dict[str, BackendFactory] = {}


def register(name: str) -> Callable[[BackendFactory], BackendFactory]:
    """Class decorator: make a backend available under ``name``."""

    def wrap(factory: BackendFactory) -> BackendFactory:
        REGISTRY[name] = factory
        return factory

    return wrap
