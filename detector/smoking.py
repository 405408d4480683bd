"""The smoking stage: the cigarette detector on upper-body crops of people.

The cigarette model was trained on close-ups, so it runs on a square crop around each person's head and
shoulders rather than on the whole frame. A person is smoking when a cigarette is found in their crop.
Checking every person on every frame is costly (one model run per crop); :class:`SmokingScheduler`
spreads the checks over frames for tracked people.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import supervision as sv

from detector.backends.interface import DetectorBackend
from detector.decode import DecodeParams
from detector.timing import StageTimer
from detector.types import INFERRED, SMOKING, Attr, empty_detections, make_detections


@dataclass(frozen=True, slots=True)
class SmokingParams:
    """How the smoking stage crops and decides.

    Attributes:
        conf: minimum cigarette score for "smoking".
        upper_body: (top, bottom) of the crop as fractions of the person box height.
        side_margin: widening of the crop on each side, as a fraction of the box width.
        min_crop_px: crops smaller than this on their short side are not checked.
    """

    conf: float = 0.55
    upper_body: tuple[float, float] = (-0.05, 0.55)
    side_margin: float = 0.15
    min_crop_px: int = 48


def upper_body_box(
    person: np.ndarray, frame_shape: tuple[int, ...], params: SmokingParams
) -> tuple[int, int, int, int]:
    """A square crop around the head and shoulders of ``person`` (``x1, y1, x2, y2``), inside the frame.

    Example:
        >>> upper_body_box(np.array([100.0, 100.0, 150.0, 300.0]), (480, 640, 3), SmokingParams())
        (65, 90, 185, 210)
    """
    x1, y1, x2, y2 = (float(v) for v in person)
    w, h = x2 - x1, y2 - y1
    top, bottom = y1 + params.upper_body[0] * h, y1 + params.upper_body[1] * h
    left, right = x1 - params.side_margin * w, x2 + params.side_margin * w
    side = max(bottom - top, right - left)
    cx = (left + right) / 2
    left, right = cx - side / 2, cx + side / 2
    bottom = top + side
    fh, fw = frame_shape[:2]
    return (
        max(0, round(left)),
        max(0, round(top)),
        min(fw, round(right)),
        min(fh, round(bottom)),
    )


class SmokingStage:
    """Runs the cigarette model on people's upper-body crops.

    Args:
        model: the cigarette detector (one class).
        params: crop geometry and threshold.
    """

    def __init__(self, model: DetectorBackend, params: SmokingParams | None = None) -> None:
        self.model = model
        self.params = params or SmokingParams()
        self._decode = DecodeParams(conf=self.params.conf, iou=0.5, max_det=10)

    def check(
        self, frame: np.ndarray, people: sv.Detections, indices: Sequence[int] | None = None
    ) -> tuple[sv.Detections, dict[str, float]]:
        """Check people ``indices`` (all by default) of ``frame`` and set their ``smoking`` attribute.

        People whose crop is too small are left as they were. ``people`` is updated in place.

        Returns:
            The cigarettes found, in frame pixels, and the stage timings.
        """
        timer = StageTimer()
        chosen = range(len(people)) if indices is None else indices
        crops: list[np.ndarray] = []
        origins: list[tuple[int, int, int]] = []
        with timer.stage("smoking_crop"):
            for i in chosen:
                if people.data[INFERRED][i]:
                    continue  # a lone bare head or torso: no body to crop around
                x1, y1, x2, y2 = upper_body_box(people.xyxy[i], frame.shape, self.params)
                if min(x2 - x1, y2 - y1) < self.params.min_crop_px:
                    continue
                crops.append(frame[y1:y2, x1:x2])
                origins.append((i, x1, y1))
        if not crops:
            return empty_detections(), timer.ms
        result = self.model.detect(crops, self._decode)
        timer.merge(result.timings_ms, prefix="smoking_")
        found = []
        for (i, x1, y1), det in zip(origins, result.detections, strict=True):
            people.data[SMOKING][i] = Attr.YES.value if len(det) else Attr.NO.value
            if len(det):
                det.xyxy = det.xyxy + np.array([x1, y1, x1, y1], dtype=np.float32)
                found.append(det)
        if not found:
            return empty_detections(), timer.ms
        merged = sv.Detections.merge(found)
        assert merged.confidence is not None and merged.class_id is not None
        cigarettes = make_detections(merged.xyxy, merged.confidence, merged.class_id, self.model.names)
        return cigarettes, timer.ms


class SmokingScheduler:
    """Chooses which tracked people to check for smoking on this frame.

    Each track is checked at most once every ``recheck_frames`` frames, and at most
    ``max_per_frame`` crops are run on one frame; the tracks waiting longest go first. A new track is
    checked at once (when the frame's budget allows).

    Example:
        >>> s = SmokingScheduler(recheck_frames=3, max_per_frame=1)
        >>> [s.choose([1, 2]) for _ in range(4)]
        [[0], [1], [], [0]]
    """

    def __init__(self, recheck_frames: int = 15, max_per_frame: int = 1) -> None:
        self.recheck_frames = recheck_frames
        self.max_per_frame = max_per_frame
        self._frame = 0
        self._last: dict[Hashable, int] = {}

    def choose(self, keys: Sequence[Hashable]) -> list[int]:
        """Return the indices into ``keys`` (track ids of this frame's people) to check now."""
        self._frame += 1
        due = [
            (self._last.get(key, -(10**9)), i)
            for i, key in enumerate(keys)
            if self._frame - self._last.get(key, -(10**9)) >= self.recheck_frames
        ]
        chosen = [i for _, i in sorted(due)[: self.max_per_frame]]
        for i in chosen:
            self._last[keys[i]] = self._frame
        # Forget only tracks that would be due anyway, so one hidden for a frame or two is not
        # rechecked early when it reappears.
        self._last = {k: v for k, v in self._last.items() if self._frame - v < self.recheck_frames}
        return chosen
