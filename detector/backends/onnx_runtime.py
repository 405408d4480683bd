"""YOLO on onnxruntime: letterbox, one session, decoding of raw or end-to-end outputs."""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from detector import modelfiles
from detector.backends.interface import BackendOptions, BatchResult, register
from detector.decode import DecodeParams, OutputLayout, decode, infer_layout
from detector.letterbox import Letterbox, letterbox
from detector.modelfiles import ModelFileError
from detector.timing import StageTimer
from detector.types import make_detections

logger = logging.getLogger(__name__)

PROVIDER_ALIASES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}


def select_providers(wanted: Sequence[str]) -> list[str]:
    """Map short provider names to onnxruntime's and keep those installed, CPU always last resort.

    Example:
        >>> select_providers(["cuda", "cpu"])[-1]
        'CPUExecutionProvider'
    """
    available = set(ort.get_available_providers())
    chosen: list[str] = []
    for name in wanted:
        full = PROVIDER_ALIASES.get(name.lower(), name)
        if full in available:
            chosen.append(full)
        else:
            logger.warning("execution provider %s is not installed; skipping it", full)
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


def make_session(path: Path, options: BackendOptions) -> ort.InferenceSession:
    """Open an onnxruntime session on a verified model file.

    Raises:
        ModelFileError: the file is missing, altered or not a loadable ONNX model.
    """
    modelfiles.verify(path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = options.intra_op_threads
    so.inter_op_num_threads = options.inter_op_threads
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if not options.spin:
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), so, providers=select_providers(options.providers))
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise ModelFileError(f"model file {path} could not be loaded by onnxruntime: {exc}") from exc


def parse_names(meta: dict[str, str], path: Path) -> dict[int, str]:
    """Read class names from ultralytics' ONNX metadata (``names: "{0: 'person', ...}"``)."""
    raw = meta.get("names")
    if raw is None:
        raise ModelFileError(f"model file {path} has no 'names' in its metadata; cannot name the classes")
    try:
        names: Any = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as exc:
        raise ModelFileError(f"model file {path}: metadata 'names' is not a mapping: {raw!r}") from exc
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict):
        raise ModelFileError(f"model file {path}: metadata 'names' is not a mapping: {raw!r}")
    return {int(k): str(v) for k, v in names.items()}


@register("onnx")
class OnnxYolo:
    """A YOLO detector exported to ONNX by ultralytics, run on onnxruntime.

    Args:
        path: the ``.onnx`` file (checked against ``SHA256SUMS``).
        options: execution providers and threads.

    Example:
        >>> from detector.modelfiles import resolve
        >>> model = OnnxYolo(resolve("ppe"), BackendOptions())
        >>> model.names[2], model.input_size
        ('no_helmet', (640, 640))
    """

    def __init__(self, path: Path, options: BackendOptions) -> None:
        self.path = path
        self.session = self.open_session(path, options)
        meta = self.session.get_modelmeta().custom_metadata_map
        self.names = parse_names(meta, path)
        inp = self.session.get_inputs()[0]
        shape = inp.shape
        if len(shape) != 4 or shape[1] != 3 or not all(isinstance(s, int) for s in shape[2:]):
            raise ModelFileError(
                f"model file {path}: input {inp.name} has shape {shape}; expected [B, 3, H, W], fixed H and W"
            )
        self.input_name: str = inp.name
        self.input_size: tuple[int, int] = (int(shape[2]), int(shape[3]))
        #: Frames per ``session.run``: the fixed batch of the export, or ``None`` when it is dynamic.
        self.fixed_batch: int | None = shape[0] if isinstance(shape[0], int) else None
        e2e_meta = meta.get("end2end")
        self._end2end = None if e2e_meta is None else e2e_meta.strip().lower() == "true"
        out_shape = self.session.get_outputs()[0].shape
        self.layout: OutputLayout | None = None
        #: OpenCV interpolation used to shrink frames (see :func:`detector.letterbox.letterbox`).
        self.shrink_interpolation: int = cv2.INTER_LINEAR
        self._input_buffer: np.ndarray | None = None
        if all(isinstance(s, int) for s in out_shape[1:]):
            try:
                self.layout = infer_layout(tuple(out_shape), len(self.names), self._end2end)
            except ValueError as exc:
                raise ModelFileError(f"model file {path}: {exc}") from exc
        # The first run allocates buffers; do it now rather than on the first camera frame.
        self.detect([np.zeros((*self.input_size, 3), np.uint8)], DecodeParams())

    def open_session(self, path: Path, options: BackendOptions) -> Any:
        """The session the detector runs: an onnxruntime one here; other runtimes return an object with
        the same ``get_modelmeta``, ``get_inputs``, ``get_outputs`` and ``run`` (see
        :mod:`detector.backends.openvino_runtime`)."""
        return make_session(path, options)

    def preprocess(
        self, frames: Sequence[np.ndarray], out: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[Letterbox]]:
        """Letterbox BGR ``frames`` into one float32 RGB ``[B, 3, H, W]`` blob scaled to 0..1.

        Args:
            frames: BGR images.
            out: a buffer of the right shape to fill instead of allocating one.
        """
        h, w = self.input_size
        blob = out if out is not None else np.empty((len(frames), 3, h, w), np.float32)
        boxes = []
        scale = np.float32(1 / 255.0)
        for i, frame in enumerate(frames):
            img, lb = letterbox(frame, self.input_size, shrink_interpolation=self.shrink_interpolation)
            boxes.append(lb)
            # Write each colour plane straight into the buffer, BGR to RGB: about 5x faster than
            # cv2.dnn.blobFromImage on a 2-core box, which allocates a fresh 5 MB array every frame.
            for channel, plane in enumerate(reversed(cv2.split(img))):
                np.multiply(plane, scale, out=blob[i, channel], casting="unsafe")
        return blob, boxes

    def _buffer(self, batch: int) -> np.ndarray:
        if self._input_buffer is None or len(self._input_buffer) != batch:
            self._input_buffer = np.empty((batch, 3, *self.input_size), np.float32)
        return self._input_buffer

    def run(self, blob: np.ndarray) -> np.ndarray:
        """Run the session on a preprocessed blob, in chunks when the export has a fixed batch size."""
        step = self.fixed_batch or len(blob)
        outputs = [
            self.session.run(None, {self.input_name: blob[i : i + step]})[0]
            for i in range(0, len(blob), step)
        ]
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def detect(self, frames: Sequence[np.ndarray], params: DecodeParams) -> BatchResult:
        """Detect objects in BGR ``frames``; boxes come back in each frame's own pixels."""
        timer = StageTimer()
        if not frames:
            return BatchResult([], timer.ms)
        with timer.stage("preprocess"):
            blob, boxes = self.preprocess(frames, out=self._buffer(len(frames)))
        with timer.stage("inference"):
            output = self.run(blob)
        with timer.stage("postprocess"):
            layout = self.layout or infer_layout(output.shape, len(self.names), self._end2end)
            results = []
            for out, lb in zip(output, boxes, strict=True):
                xyxy, scores, class_id = decode(out, layout, params)
                results.append(make_detections(lb.to_original(xyxy), scores, class_id, self.names))
        return BatchResult(results, timer.ms)
