"""Letterbox resizing: fit an image into the model's square input without distorting it."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114  # grey, as ultralytics pads during training and export


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image was placed in the model input, to map boxes back.

    Attributes:
        scale: resize factor applied to the original image.
        pad_x: left padding in input pixels.
        pad_y: top padding in input pixels.
        width: original image width.
        height: original image height.
    """

    scale: float
    pad_x: float
    pad_y: float
    width: int
    height: int

    @property
    def resized(self) -> tuple[int, int]:
        """The (width, height) the image takes in the input, before padding."""
        return round(self.width * self.scale), round(self.height * self.scale)

    def to_original(self, xyxy: np.ndarray) -> np.ndarray:
        """Map boxes from model-input pixels back to the original image, clipped to its bounds.

        Example:
            >>> lb = Letterbox(scale=0.5, pad_x=0, pad_y=10, width=100, height=60)
            >>> lb.to_original(np.array([[0.0, 10.0, 50.0, 40.0]])).tolist()
            [[0.0, 0.0, 100.0, 60.0]]
        """
        out = np.empty_like(xyxy, dtype=np.float32)
        out[:, [0, 2]] = (xyxy[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (xyxy[:, [1, 3]] - self.pad_y) / self.scale
        # Fancy indexing copies, so clip by assignment (``out=`` would write into a temporary).
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, self.width)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, self.height)
        return out


def placement(height: int, width: int, size: tuple[int, int]) -> Letterbox:
    """Where an image of ``height`` × ``width`` goes in an input of ``size`` (height, width): scaled to fit,
    keeping its aspect, and centred, the odd pixel of padding going right and bottom (as ultralytics'
    ``LetterBox(center=True)``). Every backend letterboxes by it, on the CPU or on a GPU.

    Example:
        >>> box = placement(100, 200, (640, 640))
        >>> box.scale, box.pad_y, box.resized
        (3.2, 160.0, (640, 320))
    """
    th, tw = size
    scale = min(th / height, tw / width)
    nw, nh = round(width * scale), round(height * scale)
    left, top = round((tw - nw) / 2 - 0.1), round((th - nh) / 2 - 0.1)
    return Letterbox(scale=scale, pad_x=float(left), pad_y=float(top), width=width, height=height)


def letterbox(
    image: np.ndarray, size: tuple[int, int], *, shrink_interpolation: int = cv2.INTER_LINEAR
) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` (H×W×3) to fit ``size`` (height, width), keeping its aspect, and pad with grey.

    The image is centred; the padding is split evenly (the odd pixel goes right and bottom), as in
    ultralytics' ``LetterBox(center=True)``.

    Args:
        image: BGR or RGB image, ``uint8``.
        size: target (height, width).
        shrink_interpolation: OpenCV interpolation when the image is made smaller. Linear is fast;
            ``cv2.INTER_AREA`` is what ultralytics uses when it evaluates, so evaluation asks for it.

    Returns:
        The padded image of exactly ``size`` and the :class:`Letterbox` to map boxes back.

    Example:
        >>> img, lb = letterbox(np.zeros((100, 200, 3), np.uint8), (640, 640))
        >>> img.shape, lb.scale, lb.pad_y
        ((640, 640, 3), 3.2, 160.0)
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 image, got shape {image.shape}")
    h, w = image.shape[:2]
    th, tw = size
    box = placement(h, w, size)
    nw, nh = box.resized
    if (nw, nh) != (w, h):
        interpolation = shrink_interpolation if box.scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (nw, nh), interpolation=interpolation)
    left, top = int(box.pad_x), int(box.pad_y)
    right, bottom = tw - nw - left, th - nh - top
    if left or top or right or bottom:
        image = cv2.copyMakeBorder(
            image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
        )
    return image, box
