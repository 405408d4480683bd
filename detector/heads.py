"""The head stage: a second look at each person's head by a small classifier (helmet / no helmet / none).

The PPE model decides a person's helmet from a ``helmet`` or ``no_helmet`` box in the person's head band
(:mod:`detector.ppe`). Where it drew neither box, the person's helmet is ``unknown`` and no alarm can
follow, which is how most missed bare heads are missed: on ``ppe/valid``, 18 of 69 bare heads lie in the
head band of a person the model found but got no head box at all, even at confidence 0.1. The head stage
crops each person's head band (:mod:`detector.head_crops`) and classifies the patch; it
flags a person left ``unknown`` when the classifier gives ``no_helmet`` at least ``flag`` and ``helmet`` at
most ``max_helmet``: the classifier is often unsure between a bare head and no visible head at all, but
rarely takes a hard hat for either, so a low ``helmet`` guards precision better than a high ``no_helmet``.
Since the engine looks again, enlarged, at every flagged head (:mod:`detector.zoom`), that second look
guards precision too, and the day's ``flag`` is lower than the one of frames without colour
(``grey_flag``), where the zoomed look does not run.

This stage leaves the detector's own decisions as they are (only the zoomed look may withdraw one of its
bare heads): overruling its bare heads with the classifier's ``helmet`` was tried
on the valid splits and gained nothing (see ``models/README.md``).

The detector's doubts count too: a ``no_helmet`` box it found with a confidence from ``hint`` up to the
operating point (too low to decide alone) is a *hint*. A person left ``unknown`` with a hint in their
head band is flagged when the classifier gives ``helmet`` at most ``max_helmet``: the two weak signals
agree where neither alone would do. The engine passes no hints on frames without colour (a camera's
infrared mode): there, on the valid splits, they made more photos alarm and fewer flagged people right.

People inferred from a lone head box and heads smaller than ``min_px`` are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import supervision as sv

from detector.head_crops import crop_squares, head_squares
from detector.patches import PatchClassifier
from detector.ppe import Bands, assign, band_boxes
from detector.timing import StageTimer
from detector.types import HELMET, INFERRED, Attr

#: Data key on people: the classifier's ``no_helmet`` probability (``nan`` where it did not look: people
#: with a head box, inferred people, small heads).
HEAD_BARE_SCORE = "head_bare_score"
#: Data key on people: the classifier's ``helmet`` probability (``nan`` where it did not look).
HEAD_HELMET_SCORE = "head_helmet_score"
#: Data key on people: whether a ``no_helmet`` box below the operating point lies in their head band.
HEAD_HINT = "head_hint"
#: The head classifier's classes.
HEAD_CLASSES: tuple[str, ...] = ("helmet", "no_helmet", "none")


@dataclass(frozen=True, slots=True)
class HeadParams:
    """How the head stage decides.

    Attributes:
        flag: smallest ``no_helmet`` probability that flags a person the detector left ``unknown``
            (above 1: never).
        grey_flag: ``flag`` on a frame without colour (a camera's infrared mode), where the zoomed look
            that guards the lower day flag does not run (:mod:`detector.zoom`).
        max_helmet: largest ``helmet`` probability that still lets the person be flagged.
        min_px: head crops smaller than this (side, in frame pixels) are not classified.
        hint: lowest confidence of a ``no_helmet`` box that counts as a hint (at or above the PPE model's
            operating point: no hints).
    """

    flag: float = 0.35
    grey_flag: float = 0.45
    max_helmet: float = 0.5
    min_px: int = 24
    hint: float = 0.15


class HeadClassifier(PatchClassifier):
    """The ONNX head classifier (classes :data:`HEAD_CLASSES`): BGR patches in, probabilities per class out.

    Args:
        path: the ``.onnx`` file (input ``images [N, 3, S, S]`` RGB 0..1, output ``probs [N, C]``).
        providers: onnxruntime execution providers.
        flip: also look at each patch mirrored and average the two answers.
    """

    def __init__(self, path: Path, providers: list[str] | None = None, *, flip: bool = False) -> None:
        super().__init__(path, HEAD_CLASSES, providers, flip=flip)


class HeadStage:
    """Runs the head classifier on people's head bands and updates their ``helmet`` attribute.

    Args:
        classifier: the head classifier.
        params: thresholds.
        bands: the head band geometry (as in the association).
    """

    def __init__(
        self, classifier: HeadClassifier, params: HeadParams | None = None, bands: Bands | None = None
    ):
        self.classifier = classifier
        self.params = params or HeadParams()
        self.bands = bands or Bands()

    def check(
        self,
        frame: np.ndarray,
        people: sv.Detections,
        hints: np.ndarray | None = None,
        *,
        grey: bool = False,
    ) -> dict[str, float]:
        """Classify the heads of ``people`` in ``frame`` and revise their ``helmet`` in place.

        Args:
            frame: the BGR frame.
            people: its people, as :func:`detector.ppe.associate` left them.
            hints: ``no_helmet`` boxes ``[K, 4]`` the PPE model found below its operating point (at
                ``params.hint`` or more), or ``None``.
            grey: whether the frame has no colour (``params.grey_flag`` applies).

        Returns:
            The stage's timings (``heads``).
        """
        timer = StageTimer()
        with timer.stage("heads"):
            scores = np.full(len(people), np.nan, np.float32)
            helmets = np.full(len(people), np.nan, np.float32)
            hinted = np.zeros(len(people), bool)
            if len(people) and hints is not None and len(hints):
                bands = band_boxes(people.xyxy, self.bands.head, self.bands.side_margin)
                owner = assign(hints, bands, self.bands.min_cover)
                hinted[owner[owner >= 0]] = True
            if len(people):
                squares = head_squares(people.xyxy, self.bands)
                side = squares[:, 2] - squares[:, 0]
                # Only people without a head box can change, so only they cost a look.
                open_ = np.asarray(people.data[HELMET]) == Attr.UNKNOWN.value
                inferred = np.asarray(people.data[INFERRED], dtype=bool)
                chosen = np.flatnonzero(open_ & ~inferred & (side >= self.params.min_px))
                if len(chosen):
                    patches = crop_squares(frame, squares[chosen], self.classifier.size)
                    probs = self.classifier.classify(patches)
                    bare = probs[:, self.classifier.index["no_helmet"]]
                    helmet = probs[:, self.classifier.index["helmet"]]
                    scores[chosen] = bare
                    helmets[chosen] = helmet
                    least = self.params.grey_flag if grey else self.params.flag
                    flag = ((bare >= least) | hinted[chosen]) & (helmet <= self.params.max_helmet)
                    people.data[HELMET][chosen[flag]] = Attr.NO.value
            people.data[HEAD_BARE_SCORE] = scores
            people.data[HEAD_HELMET_SCORE] = helmets
            people.data[HEAD_HINT] = hinted
        return timer.ms
