"""YOLO on OpenVINO: the same ONNX files, letterbox and decoding as :class:`OnnxYolo`, another runtime.

Selected with ``runtime.backend: openvino`` in the configuration (``pip install sitewatch[openvino]``).
Only the session differs: :class:`OpenVinoSession` compiles the ONNX file with OpenVINO's ``Core`` on
the CPU and answers the few calls :class:`OnnxYolo` makes of an onnxruntime session. Inference runs in
float32 (``INFERENCE_PRECISION_HINT``), so that on CPUs with bfloat16 the results stay those of the
float model; an INT8 (QDQ) file from ``sitewatch quantize`` runs on OpenVINO's INT8 kernels.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detector import modelfiles
from detector.backends.interface import BackendOptions, register
from detector.backends.onnx_runtime import OnnxYolo
from detector.modelfiles import ModelFileError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Meta:
    custom_metadata_map: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Port:
    name: str
    shape: list[int | str]


def read_metadata(path: Path) -> dict[str, str]:
    """The ONNX file's ``metadata_props`` (ultralytics writes the class names there)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {prop.key: prop.value for prop in model.metadata_props}


def _ports(ports: Sequence[Any]) -> list[_Port]:
    return [
        _Port(
            port.get_any_name(),
            [d.get_length() if d.is_static else "?" for d in port.get_partial_shape()],
        )
        for port in ports
    ]


class OpenVinoSession:
    """An OpenVINO compiled model behind the part of ``onnxruntime.InferenceSession`` that OnnxYolo uses.

    Args:
        path: the ``.onnx`` file (checked against ``SHA256SUMS``).
        options: ``intra_op_threads`` becomes OpenVINO's ``INFERENCE_NUM_THREADS`` (0: its choice).

    Raises:
        ModelFileError: the file is missing, altered or not loadable by OpenVINO.
        RuntimeError: OpenVINO is not installed.
    """

    def __init__(self, path: Path, options: BackendOptions) -> None:
        modelfiles.verify(path)
        try:
            import openvino as ov
        except ImportError as exc:
            raise RuntimeError(
                "runtime.backend 'openvino' needs the openvino package: pip install 'sitewatch[openvino]'"
            ) from exc
        core = ov.Core()
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        if options.intra_op_threads:
            config["INFERENCE_NUM_THREADS"] = options.intra_op_threads
        try:
            model = core.read_model(str(path))
            self._compiled = core.compile_model(model, "CPU", config)
            self._meta = read_metadata(path)
        except Exception as exc:  # OpenVINO and onnx raise several unrelated types for a bad file
            raise ModelFileError(f"model file {path} could not be loaded by OpenVINO: {exc}") from exc
        self._request = self._compiled.create_infer_request()
        self._inputs = _ports(self._compiled.inputs)
        self._outputs = _ports(self._compiled.outputs)
        logger.info("%s compiled by OpenVINO %s on the CPU", path.name, ov.__version__)

    def get_modelmeta(self) -> _Meta:
        """The model's metadata, as ``onnxruntime.ModelMetadata.custom_metadata_map`` holds it."""
        return _Meta(dict(self._meta))

    def get_inputs(self) -> list[_Port]:
        """Input names and shapes (dynamic dimensions as strings)."""
        return list(self._inputs)

    def get_outputs(self) -> list[_Port]:
        """Output names and shapes (dynamic dimensions as strings)."""
        return list(self._outputs)

    def run(self, output_names: Sequence[str] | None, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Infer synchronously: every output (``output_names`` is ignored), copied from OpenVINO's buffers."""
        results = self._request.infer(dict(feed), share_inputs=True)
        return [np.array(results[port], copy=True) for port in self._compiled.outputs]


@register("openvino")
class OpenVinoYolo(OnnxYolo):
    """:class:`OnnxYolo` whose session is OpenVINO's: same preprocessing, decoding and results.

    Example:
        >>> import pytest; _ = pytest.importorskip("openvino")
        >>> from detector.modelfiles import resolve
        >>> model = OpenVinoYolo(resolve("ppe"), BackendOptions())
        >>> model.names[2], model.input_size
        ('no_helmet', (640, 640))
    """

    def open_session(self, path: Path, options: BackendOptions) -> OpenVinoSession:
        """Compile the model with OpenVINO instead of opening an onnxruntime session."""
        return OpenVinoSession(path, options)
