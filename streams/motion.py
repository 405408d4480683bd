"""The motion gate: skip inference on a still scene, but look at least every few seconds."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, slots=True)
class MotionParams:
    """Attributes:
    enabled: gate at all; when off every sampled frame is detected.
    pixel_delta: grey-level change (0-255) that counts a pixel as moving.
    min_changed: share of moving pixels that counts as motion.
    force_interval_s: detect at least this often, motion or not, so a still worker is not missed.
    size: side of the small grey image compared, in pixels.
    """

    enabled: bool = True
    pixel_delta: int = 12
    min_changed: float = 0.002
    force_interval_s: float = 3.0
    size: int = 64


class MotionGate:
    """Frame differencing on a small, blurred grey copy of each frame.

    Example:
        >>> gate = MotionGate(MotionParams(force_interval_s=10))
        >>> still = np.zeros((120, 160, 3), np.uint8)
        >>> gate.check(still, 0.0), gate.check(still, 1.0), gate.check(still + 80, 2.0)
        (True, False, True)
    """

    def __init__(self, params: MotionParams | None = None) -> None:
        self.params = params or MotionParams()
        self._previous: np.ndarray | None = None
        self._last_pass = -1e18
        self.skipped = 0
        #: Whether the last frame checked showed no motion (the gate on): its camera may decode less.
        self.still = False

    def check(self, frame: np.ndarray, now: float) -> bool:
        """Whether ``frame`` should be detected; counts the ones skipped."""
        small = cv2.resize(frame, (self.params.size, self.params.size), interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (3, 3), 0)
        previous, self._previous = self._previous, grey
        moving = (
            previous is None
            or float((cv2.absdiff(grey, previous) > self.params.pixel_delta).mean())
            >= self.params.min_changed
        )
        due = now - self._last_pass >= self.params.force_interval_s
        self.still = self.params.enabled and not moving
        if not self.params.enabled or moving or due:
            self._last_pass = now
            return True
        self.skipped += 1
        return False
