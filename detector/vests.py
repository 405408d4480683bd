"""The torso stage: a second look at each undecided person's torso by a small classifier (vest / no vest /
not visible).

The PPE model decides a person's vest from a ``vest`` or ``no_vest`` box in the person's torso band
(:mod:`detector.ppe`). Where it drew neither, the person's vest is ``unknown`` and no alarm can follow; on
the PPE sets that is how most bare torsos are missed. The torso stage crops each such person's torso
(:func:`torso_squares`: the torso band made square around its centre, no keypoints needed) and classifies
the patch with a classifier built on the first layers of a pretrained YOLOv8n backbone
(``detector/training/stage_train.py``). It flags the person ``no_vest`` when the classifier gives
``no_vest`` at least ``flag`` and ``vest`` at most ``max_vest``; the detector's own decisions stand.

People inferred from a lone box and torsos smaller than ``min_px`` are left as they are. On a frame without
colour (a camera's infrared mode) a vest differs from a grey jacket only by its strips: by default
(``skip_grey``) the stage leaves such frames to the PPE model alone; without that guard it flags there at
``grey_flag``, stricter than by day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import supervision as sv

from detector.head_crops import crop_squares
from detector.patches import PatchClassifier
from detector.ppe import Bands, band_boxes
from detector.timing import StageTimer
from detector.types import INFERRED, VEST, Attr

#: Data key on people: the classifier's ``no_vest`` probability (``nan`` where it did not look).
VEST_BARE_SCORE = "vest_bare_score"
#: Data key on people: the classifier's ``vest`` probability (``nan`` where it did not look).
VEST_SCORE = "vest_score"
#: The torso classifier's classes.
VEST_CLASSES: tuple[str, ...] = ("vest", "no_vest", "none")


def torso_squares(people: np.ndarray, bands: Bands) -> np.ndarray:
    """The square crop box ``[P, 4]`` around the torso band of each person box ``[P, 4]``.

    The side is the band's longer side, so a standing person's torso fills the patch's height and a
    crouching one's its width; the centre is the band's.

    Example:
        >>> torso_squares(np.array([[0.0, 0.0, 40.0, 100.0]]), Bands()).round(1).tolist()
        [[-12.5, 10.0, 52.5, 75.0]]
    """
    band = band_boxes(np.asarray(people, np.float64).reshape(-1, 4), bands.torso, bands.side_margin)
    cx = (band[:, 0] + band[:, 2]) / 2
    cy = (band[:, 1] + band[:, 3]) / 2
    half = np.maximum(band[:, 2] - band[:, 0], band[:, 3] - band[:, 1]) / 2
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)


@dataclass(frozen=True, slots=True)
class VestParams:
    """How the torso stage decides.

    Attributes:
        flag: smallest ``no_vest`` probability that flags a person the detector left ``unknown``
            (above 1: never).
        max_vest: largest ``vest`` probability that still lets the person be flagged.
        min_px: torso crops smaller than this (side, in frame pixels) are not classified.
        grey_flag: ``flag`` on a frame without colour (a camera's infrared mode), where ``skip_grey`` is
            off: at the day's flag the classifier takes many grey vest wearers for bare torsos.
        skip_grey: leave the vests of a frame without colour undecided, to the PPE model alone: on the
            test split even ``grey_flag`` 0.5 took a fifth of its vest wearers for bare torsos at night
            (``models/README.md``, Night).
    """

    flag: float = 0.2
    max_vest: float = 0.5
    min_px: int = 32
    grey_flag: float = 0.5
    skip_grey: bool = True


def is_grey(frame: np.ndarray, tolerance: float = 2.0) -> bool:
    """Whether a BGR frame has no colour: its channels differ by less than ``tolerance`` on average
    (a sample of every 8th pixel each way).

    Example:
        >>> is_grey(np.full((16, 16, 3), 90, np.uint8)), is_grey(np.full((16, 16, 3), (0, 90, 200), np.uint8))
        (True, False)
    """
    sample = frame[::8, ::8].astype(np.int16)
    spread = np.abs(sample[..., 0] - sample[..., 1]) + np.abs(sample[..., 1] - sample[..., 2])
    return bool(spread.mean() < tolerance)


class VestStage:
    """Runs the torso classifier on undecided people and updates their ``vest`` attribute.

    Args:
        classifier: the torso classifier (classes :data:`VEST_CLASSES`).
        params: thresholds.
        bands: the torso band geometry (as in the association).
    """

    def __init__(
        self, classifier: PatchClassifier, params: VestParams | None = None, bands: Bands | None = None
    ) -> None:
        self.classifier = classifier
        self.params = params or VestParams()
        self.bands = bands or Bands()

    def check(
        self, frame: np.ndarray, people: sv.Detections, *, grey: bool | None = None
    ) -> dict[str, float]:
        """Classify the torsos of undecided ``people`` in ``frame`` and revise their ``vest`` in place.

        Args:
            frame: the BGR frame.
            people: its people, as :func:`detector.ppe.associate` left them.
            grey: whether the frame has no colour, when the caller already knows (:func:`is_grey`).

        Returns:
            The stage's timings (``vests``).
        """
        timer = StageTimer()
        with timer.stage("vests"):
            bare = np.full(len(people), np.nan, np.float32)
            vest = np.full(len(people), np.nan, np.float32)
            if grey is None:
                grey = is_grey(frame)
            threshold = self.params.grey_flag if grey else self.params.flag
            if len(people) and not (self.params.skip_grey and grey):
                squares = torso_squares(people.xyxy, self.bands)
                side = squares[:, 2] - squares[:, 0]
                open_ = np.asarray(people.data[VEST]) == Attr.UNKNOWN.value
                inferred = np.asarray(people.data[INFERRED], dtype=bool)
                chosen = np.flatnonzero(open_ & ~inferred & (side >= self.params.min_px))
                if len(chosen):
                    probs = self.classifier.classify(
                        crop_squares(frame, squares[chosen], self.classifier.size)
                    )
                    bare[chosen] = probs[:, self.classifier.index["no_vest"]]
                    vest[chosen] = probs[:, self.classifier.index["vest"]]
                    flag = (bare[chosen] >= threshold) & (vest[chosen] <= self.params.max_vest)
                    people.data[VEST][chosen[flag]] = Attr.NO.value
            people.data[VEST_BARE_SCORE] = bare
            people.data[VEST_SCORE] = vest
        return timer.ms
