"""``sitewatch quantize``: onnxruntime static INT8 quantisation of a YOLO ONNX export.

Calibration images go through the runtime's own letterbox (:meth:`OnnxYolo.preprocess`), so the
activation ranges are those the model sees on an edge box. Weights are quantised per channel (int8),
activations per tensor (uint8), in QDQ format, which both onnxruntime (fused into ``QLinearConv``) and
OpenVINO (as its own INT8 kernels) run.

The detection head's decoding (the ``/model.N/`` nodes after the box and class branches: reshapes, DFL,
the anchor arithmetic and the final concat of pixel boxes with 0..1 scores) always stays in float:
one uint8 scale cannot hold both. ``float_head="convs"`` also keeps the last convolution of each
box and class branch in float.

Needs the ``onnx`` package (the ``dev``, ``train`` and ``openvino`` extras install it).
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from detector.backends.interface import BackendOptions
from detector.backends.onnx_runtime import OnnxYolo
from detector.training.dataset import IMAGE_SUFFIXES

logger = logging.getLogger(__name__)

FloatHead = Literal["decode", "convs", "none"]
Method = Literal["minmax", "percentile", "entropy"]
_LAYER = re.compile(r"^/model\.(\d+)/")


@dataclass(frozen=True, slots=True)
class QuantizeReport:
    """What :func:`quantize_model` did.

    Attributes:
        out: the INT8 model written.
        calibration_images: images the activation ranges were calibrated on.
        float_nodes: nodes left in float on purpose.
        quantized_convs: convolutions that run in INT8.
        convs: convolutions in the model.
    """

    out: Path
    calibration_images: int
    float_nodes: list[str]
    quantized_convs: int
    convs: int


def calibration_images(folders: Sequence[Path], limits: Sequence[int | None] | None = None) -> list[Path]:
    """Images of each folder (or of its ``images/`` sub-folder), sorted, the first ``limits[i]`` of each.

    Raises:
        FileNotFoundError: a folder holds no image.
    """
    picked: list[Path] = []
    for i, folder in enumerate(folders):
        root = folder / "images" if (folder / "images").is_dir() else folder
        found = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise FileNotFoundError(f"no calibration images in {folder}")
        limit = limits[i] if limits is not None and i < len(limits) else None
        picked += found[:limit]
    return picked


def parse_calib(spec: str) -> tuple[Path, int | None]:
    """``DIR`` or ``DIR:N`` (the first N images of DIR, sorted) as given to ``sitewatch quantize --calib``.

    Example:
        >>> parse_calib("../shared/datasets/hhw/valid:30")
        (PosixPath('../shared/datasets/hhw/valid'), 30)
    """
    head, sep, tail = spec.rpartition(":")
    if sep and tail.isdigit():
        return Path(head), int(tail)
    return Path(spec), None


def float_head_nodes(model: Any, float_head: FloatHead) -> list[str]:
    """Names of the nodes of an ultralytics export to keep in float.

    The head is the last ``/model.N/`` block; its decoding is every node of it outside the ``cv*``
    branches. With ``convs``, the convolutions that feed the decoding directly are added.
    """
    if float_head == "none":
        return []
    layers = [int(m.group(1)) for n in model.graph.node if (m := _LAYER.match(n.name))]
    if not layers:
        raise ValueError("not an ultralytics export: no /model.N/ node names to find the head by")
    prefix = f"/model.{max(layers)}/"
    head = [n for n in model.graph.node if n.name.startswith(prefix)]
    decode = [n for n in head if not n.name[len(prefix) :].startswith(("cv", "one2one_cv"))]
    names = [n.name for n in decode]
    if float_head == "convs":
        decode_inputs = {i for n in decode for i in n.input}
        names += [
            n.name
            for n in head
            if n.op_type == "Conv" and n.name not in names and set(n.output) & decode_inputs
        ]
    return names


class LetterboxCalibration:
    """onnxruntime's ``CalibrationDataReader`` over image files, preprocessed as the runtime does."""

    def __init__(self, model: OnnxYolo, images: Sequence[Path]) -> None:
        self.model = model
        self.images = list(images)
        self._iter: Iterator[Path] = iter(self.images)

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next preprocessed image as the model's input feed, or ``None`` at the end."""
        for path in self._iter:
            frame = cv2.imread(str(path))
            if frame is None:
                logger.warning("calibration image %s cannot be read; skipped", path)
                continue
            blob, _ = self.model.preprocess([frame])
            return {self.model.input_name: blob}
        return None

    def rewind(self) -> None:
        """Start again from the first image."""
        self._iter = iter(self.images)


def quantize_model(
    src: Path,
    out: Path,
    images: Sequence[Path],
    *,
    float_head: FloatHead = "decode",
    method: Method = "minmax",
    per_channel: bool = True,
) -> QuantizeReport:
    """Write an INT8 (QDQ) copy of the ONNX model ``src`` to ``out``, calibrated on ``images``.

    Args:
        src: the float model (its checksum is verified).
        out: the INT8 model to write.
        images: calibration images (never a test split).
        float_head: which part of the detection head stays float (see the module docstring).
        method: how activation ranges are chosen from the calibration statistics.
        per_channel: one weight scale per output channel (better accuracy, same speed).
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not images:
        raise ValueError("quantisation needs calibration images")
    reader = LetterboxCalibration(OnnxYolo(src, BackendOptions()), images)
    methods = {
        "minmax": CalibrationMethod.MinMax,
        "percentile": CalibrationMethod.Percentile,
        "entropy": CalibrationMethod.Entropy,
    }
    with tempfile.TemporaryDirectory(prefix="sitewatch-quant-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(src), str(prepared), skip_symbolic_shape=False)
        model = onnx.load(str(prepared))
        keep = float_head_nodes(model, float_head)
        logger.info("calibrating %s on %d images, %d nodes kept float", src.name, len(images), len(keep))
        out.parent.mkdir(parents=True, exist_ok=True)
        quantize_static(
            str(prepared),
            str(out),
            reader,
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=keep,
            calibrate_method=methods[method],
            extra_options={"CalibTensorRangeSymmetric": False, "CalibMovingAverage": False},
        )
    _copy_metadata(src, out)
    quantized = onnx.load(str(out))
    convs = [n for n in quantized.graph.node if n.op_type == "Conv"]
    dequantized = {o for n in quantized.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    int8 = sum(1 for n in convs if n.input[1] in dequantized)  # an INT8 convolution has INT8 weights
    return QuantizeReport(out, len(images), keep, int8, len(convs))


def _copy_metadata(src: Path, out: Path) -> None:
    """Give ``out`` the metadata of ``src`` (class names, stride…), which quantisation may drop."""
    import onnx

    source = onnx.load(str(src), load_external_data=False)
    target = onnx.load(str(out))
    del target.metadata_props[:]
    for prop in source.metadata_props:
        target.metadata_props.add(key=prop.key, value=prop.value)
    target.metadata_props.add(key="quantization", value="int8 static QDQ (sitewatch quantize)")
    onnx.save(target, str(out))
