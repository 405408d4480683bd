"""Decoding of YOLO outputs into boxes, and class-aware non-maximum suppression.

Two output layouts exist:

* raw (``end2end: False``): ``[B, 4 + nc, N]``, rows ``cx, cy, w, h`` then one score per class; needs NMS.
* end-to-end (``end2end: True``): ``[B, N, 6]``, rows ``x1, y1, x2, y2, score, class``; NMS is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cv2
import numpy as np

# OpenCV's stubs declare Python sequences; the binding takes numpy arrays directly, which is faster.
_nms_batched: Any = cv2.dnn.NMSBoxesBatched


class OutputLayout(StrEnum):
    """The two YOLO output layouts."""

    RAW = "raw"
    END2END = "end2end"


@dataclass(frozen=True, slots=True)
class DecodeParams:
    """Thresholds for turning scores into detections.

    Attributes:
        conf: minimum score kept.
        iou: IoU above which a lower-scored box of the same class is suppressed.
        max_det: most detections kept per image (highest scores first).
        multi_label: let one raw box yield a detection for every class above ``conf`` (as ultralytics
            ``val`` does); otherwise only its best class.
        agnostic: suppress across classes too.
    """

    conf: float = 0.25
    iou: float = 0.7
    max_det: int = 300
    multi_label: bool = False
    agnostic: bool = False


def infer_layout(shape: tuple[int, ...], num_classes: int, end2end: bool | None = None) -> OutputLayout:
    """Tell the layout of an output of ``shape`` for a model of ``num_classes`` classes.

    ``end2end`` from the ONNX metadata wins when known; otherwise the shape decides.

    Raises:
        ValueError: the shape fits neither layout.
    """
    if len(shape) != 3:
        raise ValueError(f"expected a 3-D output, got shape {shape}")
    fits_raw = shape[1] == 4 + num_classes
    fits_e2e = shape[2] == 6
    if end2end is not None and (fits_e2e if end2end else fits_raw):
        return OutputLayout.END2END if end2end else OutputLayout.RAW
    if fits_raw and not (fits_e2e and shape[1] == 6 and end2end):
        return OutputLayout.RAW
    if fits_e2e:
        return OutputLayout.END2END
    raise ValueError(f"output shape {shape} is neither raw [B, 4+{num_classes}, N] nor end-to-end [B, N, 6]")


def xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    """Convert centre-size boxes ``[N, 4]`` to corner boxes.

    Example:
        >>> xywh_to_xyxy(np.array([[10.0, 10.0, 4.0, 2.0]])).tolist()
        [[8.0, 9.0, 12.0, 11.0]]
    """
    half = xywh[:, 2:4] / 2
    return np.concatenate([xywh[:, 0:2] - half, xywh[:, 0:2] + half], axis=1)


def nms(
    xyxy: np.ndarray, scores: np.ndarray, class_id: np.ndarray, iou: float, *, agnostic: bool = False
) -> np.ndarray:
    """Class-aware non-maximum suppression.

    Args:
        xyxy: boxes ``[N, 4]``.
        scores: ``[N]``.
        class_id: ``[N]``; boxes of different classes never suppress each other unless ``agnostic``.
        iou: suppression threshold.
        agnostic: ignore classes.

    Returns:
        Indices of the kept boxes, highest score first.

    Example:
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10]], np.float32)
        >>> nms(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 0, 1]), 0.5).tolist()
        [0, 2]
    """
    if len(xyxy) == 0:
        return np.empty((0,), dtype=np.int64)
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1).astype(np.float64)
    ids = np.zeros_like(class_id) if agnostic else class_id
    kept = _nms_batched(
        xywh, scores.astype(np.float32), ids.astype(np.int32), score_threshold=-1.0, nms_threshold=iou
    )
    keep = np.asarray(kept, dtype=np.int64).reshape(-1)
    # OpenCV sorts per class; order the survivors by score across classes.
    return keep[np.argsort(-scores[keep], kind="stable")]


def decode_raw(output: np.ndarray, params: DecodeParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one image's raw output ``[4 + nc, N]`` into ``(xyxy, scores, class_id)`` after NMS.

    Boxes are in model-input pixels.
    """
    preds = output.T  # [N, 4 + nc]
    cls_scores = preds[:, 4:]
    if params.multi_label and cls_scores.shape[1] > 1:
        rows, cols = np.nonzero(cls_scores > params.conf)
        boxes = preds[rows, :4]
        scores = cls_scores[rows, cols]
        class_id = cols
    else:
        class_id = cls_scores.argmax(axis=1)
        scores = cls_scores[np.arange(len(cls_scores)), class_id]
        mask = scores > params.conf
        boxes, scores, class_id = preds[mask, :4], scores[mask], class_id[mask]
    xyxy = xywh_to_xyxy(boxes)
    keep = nms(xyxy, scores, class_id, params.iou, agnostic=params.agnostic)[: params.max_det]
    return xyxy[keep], scores[keep], class_id[keep].astype(np.int64)


def decode_end2end(output: np.ndarray, params: DecodeParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one image's end-to-end output ``[N, 6]`` into ``(xyxy, scores, class_id)``.

    Boxes are in model-input pixels. The model already suppressed duplicates.
    """
    scores = output[:, 4]
    mask = scores > params.conf
    rows = output[mask]
    order = np.argsort(-rows[:, 4], kind="stable")[: params.max_det]
    rows = rows[order]
    return rows[:, :4].copy(), rows[:, 4].copy(), rows[:, 5].astype(np.int64)


def decode(
    output: np.ndarray, layout: OutputLayout, params: DecodeParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one image's output (batch dimension removed) in either layout."""
    if layout is OutputLayout.RAW:
        return decode_raw(output, params)
    return decode_end2end(output, params)
