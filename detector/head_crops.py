"""Head crops: the square patch around each person's head that the head classifier looks at.

The same geometry and input conversion serve training (:mod:`detector.training.headsets`,
:mod:`detector.training.head_train`) and the product (:mod:`detector.heads`), so the classifier sees at
run time exactly the kind of patch it learned from: the person's head band
(:class:`detector.ppe.Bands`) made square around its centre, resized to a fixed size, with the grey of the
letterbox (114) where the square leaves the frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from detector.letterbox import PAD_VALUE
from detector.ppe import Bands, band_boxes


def head_squares(people: np.ndarray, bands: Bands) -> np.ndarray:
    """The square crop box ``[P, 4]`` around the head band of each person box ``[P, 4]``.

    Example:
        >>> head_squares(np.array([[0.0, 0.0, 40.0, 100.0]]), Bands()).round(1).tolist()
        [[-5.0, -15.0, 45.0, 35.0]]
    """
    band = band_boxes(people.reshape(-1, 4), bands.head, bands.side_margin)
    cx = (band[:, 0] + band[:, 2]) / 2
    cy = (band[:, 1] + band[:, 3]) / 2
    half = np.maximum(band[:, 2] - band[:, 0], band[:, 3] - band[:, 1]) / 2
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)


def to_input(patches: np.ndarray) -> np.ndarray:
    """BGR patches ``[N, S, S, 3]`` (0..255) as the classifier's input: RGB float ``[N, 3, S, S]`` in 0..1.
    Training and the product both go through here, so the two cannot drift apart.

    Example:
        >>> to_input(np.full((1, 2, 2, 3), (0, 0, 255), np.uint8))[0, :, 0, 0].tolist()
        [1.0, 0.0, 0.0]
    """
    return np.ascontiguousarray(patches[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def crop_squares(frame: np.ndarray, boxes: np.ndarray, size: int, *, context: float = 1.0) -> np.ndarray:
    """Resample each square box ``[N, 4]`` of a BGR ``frame`` to ``size × size`` pixels.

    Args:
        frame: BGR image.
        boxes: square boxes in frame pixels (they may leave the frame: the outside is grey).
        size: side of each patch in pixels.
        context: scale of each box around its centre before cropping (``1.25`` keeps a margin that a
            training augmentation can crop from).

    Returns:
        ``uint8 [N, size, size, 3]``.

    Example:
        >>> crop_squares(np.zeros((50, 50, 3), np.uint8), np.array([[0.0, 0.0, 10.0, 10.0]]), 8).shape
        (1, 8, 8, 3)
    """
    out = np.empty((len(boxes), size, size, 3), np.uint8)
    fh, fw = frame.shape[:2]
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4)):
        half = max(x2 - x1, y2 - y1, 2.0) * context / 2
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        left, top = round(cx - half), round(cy - half)
        side = max(2, round(2 * half))
        # Paste the part inside the frame on a grey square, then resize: INTER_AREA keeps distant
        # details when shrinking a close-up, where a plain warp would alias.
        canvas = np.full((side, side, 3), PAD_VALUE, np.uint8)
        sx1, sy1 = max(left, 0), max(top, 0)
        sx2, sy2 = min(left + side, fw), min(top + side, fh)
        if sx2 > sx1 and sy2 > sy1:
            canvas[sy1 - top : sy2 - top, sx1 - left : sx2 - left] = frame[sy1:sy2, sx1:sx2]
        interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
        out[i] = cv2.resize(canvas, (size, size), interpolation=interpolation)
    return out
