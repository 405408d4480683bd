"""Making a detector backend: by its registered name, or from a model file.

Importing this module registers the shipped backends (:mod:`detector.backends.onnx_runtime`,
:mod:`detector.backends.openvino_runtime`, which imports openvino only when it loads a model,
:mod:`detector.backends.torch_runtime`, which imports torch only when it loads a model, and
:mod:`detector.backends.ultralytics_runtime`, which imports ultralytics only when it loads a model).
"""

from __future__ import annotations

from pathlib import Path

from detector.backends import (  # noqa: F401 - they register themselves
    onnx_runtime,
    openvino_runtime,
    torch_runtime,
    ultralytics_runtime,
)
from detector.backends.interface import REGISTRY, BackendOptions, DetectorBackend


def create(kind: str, path: Path, options: BackendOptions | None = None) -> DetectorBackend:
    """Instantiate the backend registered as ``kind`` for the model at ``path``.

    Raises:
        ValueError: no backend of that name.
    """
    if kind not in REGISTRY:
        raise ValueError(f"unknown detector backend {kind!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[kind](path, options or BackendOptions())


def backend_for(path: Path, options: BackendOptions | None = None) -> DetectorBackend:
    """Pick the backend from the file: ``.pt`` runs on ultralytics, ``.torchscript`` on PyTorch (the GPU
    backend), anything else on onnxruntime (or on OpenVINO when ``options.runtime`` is ``openvino``)."""
    onnx_kind = "openvino" if options is not None and options.runtime == "openvino" else "onnx"
    by_suffix = {".pt": "ultralytics", ".torchscript": "torch"}
    return create(by_suffix.get(path.suffix, onnx_kind), path, options)
