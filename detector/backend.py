"""The detector backend interface and its registry.

Pipeline code holds a :class:`DetectorBackend` and never branches on which one it is. Backends register
under a ``type`` name used by the configuration (``onnx``, ``ultralytics``).
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
        device: device for the ultralytics backend (``cpu``, ``0``…).
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
_REGISTRY: dict[str, BackendFactory] = {}


def register(name: str) -> Callable[[BackendFactory], BackendFactory]:
    """Class decorator: make a backend available under ``name``."""

    def wrap(factory: BackendFactory) -> BackendFactory:
        _REGISTRY[name] = factory
        return factory

    return wrap


def create(kind: str, path: Path, options: BackendOptions | None = None) -> DetectorBackend:
    """Instantiate the backend registered as ``kind`` for the model at ``path``.

    Raises:
        ValueError: no backend of that name.
    """
    # Importing the modules registers the backends; ultralytics is imported lazily inside its backend.
    from detector import onnx_backend, openvino_backend, ultralytics_backend  # noqa: F401

    if kind not in _REGISTRY:
        raise ValueError(f"unknown detector backend {kind!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[kind](path, options or BackendOptions())


def backend_for(path: Path, options: BackendOptions | None = None) -> DetectorBackend:
    """Pick the backend from the file: ``.pt`` runs on ultralytics, anything else on onnxruntime (or on
    OpenVINO when ``options.runtime`` is ``openvino``)."""
    onnx_kind = "openvino" if options is not None and options.runtime == "openvino" else "onnx"
    return create("ultralytics" if path.suffix == ".pt" else onnx_kind, path, options)
