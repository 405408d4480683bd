"""The smoking stage: the cigarette detector on upper-body crops of people, and a verifier of what it finds.

The cigarette model was trained on close-ups, so it runs on a square crop around each person's head and
shoulders rather than on the whole frame; it is fine-tuned on exactly those crops
(:mod:`detector.training.smokingcrops`). Each cigarette it proposes at ``conf`` or more is, when the
stage has a verifier, looked at again: a small classifier (:class:`detector.patches.PatchClassifier`, a
pretrained YOLOv8n backbone, ``detector/training/stage_train.py``) on a patch around the proposal
(:func:`proposal_squares`: the cigarette with the mouth or the fingers beside it) says ``cigarette`` or
``other``. A person is smoking when a proposal is kept. The verifier lets the detector propose at a lower
threshold, and so find more cigarettes, for the same false alarms (``models/README.md``).

Checking every person on every frame is costly (one model run per crop); :class:`SmokingScheduler`
spreads the checks over frames for tracked people, and the camera's rules want a cigarette in several
checks in a row before they raise an event.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import supervision as sv

from detector.backends.interface import DetectorBackend
from detector.decode import DecodeParams
from detector.head_crops import crop_squares
from detector.timing import StageTimer
from detector.types import INFERRED, SMOKING, Attr, empty_detections, make_detections, subset

if TYPE_CHECKING:
    from detector.patches import PatchClassifier

#: The verifier's classes.
CIGARETTE_CLASSES: tuple[str, ...] = ("cigarette", "other")
#: Side of a proposal's patch as a share of the side of the person's crop it was found in.
PROPOSAL_SCALE = 0.5


@dataclass(frozen=True, slots=True)
class SmokingParams:
    """How the smoking stage crops and decides.

    Attributes:
        conf: without a verifier, the least cigarette score for "smoking".
        propose: with a verifier, the least cigarette score of a proposal it looks at.
        verify: with a verifier, the least ``cigarette`` probability that keeps a proposal.
        upper_body: (top, bottom) of the crop as fractions of the person box height.
        side_margin: widening of the crop on each side, as a fraction of the box width.
        min_crop_px: crops smaller than this on their short side are not checked.
        flip: also run the cigarette model on each crop mirrored left to right (one batch of twice the
            crops), keeping the stronger of two overlapping proposals; with a verifier, it looks at each
            patch mirrored too and averages the two answers.
    """

    conf: float = 0.55
    propose: float = 0.15
    verify: float = 0.5
    upper_body: tuple[float, float] = (-0.05, 0.55)
    side_margin: float = 0.15
    min_crop_px: int = 48
    flip: bool = True


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


def checked_crop(
    person: np.ndarray, frame_shape: tuple[int, ...], params: SmokingParams
) -> tuple[int, int, int, int] | None:
    """The :func:`upper_body_box` of ``person`` that the stage checks, or ``None`` when it is smaller
    than ``params.min_crop_px`` on its short side.

    Example:
        >>> checked_crop(np.array([100.0, 100.0, 150.0, 300.0]), (480, 640, 3), SmokingParams())
        (65, 90, 185, 210)
        >>> checked_crop(np.array([100.0, 100.0, 110.0, 130.0]), (480, 640, 3), SmokingParams()) is None
        True
    """
    box = upper_body_box(person, frame_shape, params)
    return box if min(box[2] - box[0], box[3] - box[1]) >= params.min_crop_px else None


def proposal_squares(boxes: np.ndarray, crop: np.ndarray) -> np.ndarray:
    """The square patch box ``[K, 4]`` around each proposed cigarette ``[K, 4]`` found in the person's
    ``crop`` box ``[4]`` (all in frame pixels): centred on the proposal, :data:`PROPOSAL_SCALE` of the crop's
    side, or twice the proposal's longer side when that is more.

    Example:
        >>> crop = np.array([0.0, 0.0, 100.0, 100.0])
        >>> proposal_squares(np.array([[50.0, 50.0, 60.0, 54.0]]), crop).tolist()
        [[30.0, 27.0, 80.0, 77.0]]
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    crop_side = max(float(crop[2] - crop[0]), float(crop[3] - crop[1]))
    longer = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    half = np.maximum(PROPOSAL_SCALE * crop_side, 2 * longer) / 2
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    return np.stack([cx - half, cy - half, cx + half, cy + half], axis=1)


class SmokingStage:
    """Runs the cigarette model on people's upper-body crops, and the verifier on what it proposes.

    Args:
        model: the cigarette detector (one class).
        params: crop geometry and thresholds.
        verifier: the proposal classifier (classes :data:`CIGARETTE_CLASSES`), or ``None`` to trust the
            detector's score alone.
    """

    def __init__(
        self,
        model: DetectorBackend,
        params: SmokingParams | None = None,
        verifier: PatchClassifier | None = None,
    ) -> None:
        self.model = model
        self.params = params or SmokingParams()
        self.verifier = verifier
        least = self.params.conf if verifier is None else self.params.propose
        self._decode = DecodeParams(conf=least, iou=0.5, max_det=10)

    def check(
        self, frame: np.ndarray, people: sv.Detections, indices: Sequence[int] | None = None
    ) -> tuple[sv.Detections, dict[str, float]]:
        """Check people ``indices`` (all by default) of ``frame`` and set their ``smoking`` attribute.

        People whose crop is too small are left as they were. ``people`` is updated in place.

        Returns:
            The cigarettes found, in frame pixels, and the stage timings.
        """
        timer = StageTimer()
        with timer.stage("smoking_crop"):
            boxes = self.crops(frame.shape, people, indices)
        if not boxes:
            return empty_detections(), timer.ms
        proposed, timings = self.propose(frame, [box for _, box in boxes])
        timer.merge(timings, prefix="smoking_")
        found = []
        for (i, box), det in zip(boxes, proposed, strict=True):
            if len(det) and self.verifier is not None:
                with timer.stage("smoking_verify"):
                    det = subset(det, self.verified(frame, det.xyxy, np.array(box, np.float64)))
            people.data[SMOKING][i] = Attr.YES.value if len(det) else Attr.NO.value
            if len(det):
                found.append(det)
        if not found:
            return empty_detections(), timer.ms
        merged = sv.Detections.merge(found)
        assert merged.confidence is not None and merged.class_id is not None
        cigarettes = make_detections(merged.xyxy, merged.confidence, merged.class_id, self.model.names)
        return cigarettes, timer.ms

    def propose(
        self,
        frame: np.ndarray,
        boxes: Sequence[tuple[int, int, int, int]],
        decode: DecodeParams | None = None,
    ) -> tuple[list[sv.Detections], dict[str, float]]:
        """The cigarettes the model proposes in each crop box of ``frame`` (``x1, y1, x2, y2``), in frame
        pixels, one batch for all the crops (and their mirror images with ``params.flip``).

        Args:
            frame: the BGR frame.
            boxes: the crops, as :meth:`crops` gives them.
            decode: the model's thresholds; by default the stage's (``propose`` with a verifier, else
                ``conf``).

        Returns:
            The proposals of each crop, and the model's timings.
        """
        decode = decode or self._decode
        crops = [frame[y1:y2, x1:x2] for x1, y1, x2, y2 in boxes]
        if self.params.flip:
            crops += [np.ascontiguousarray(crop[:, ::-1]) for crop in crops]
        result = self.model.detect(crops, decode)
        out = []
        for k, (x1, y1, x2, _) in enumerate(boxes):
            det = result.detections[k]
            if self.params.flip:
                mirrored = result.detections[k + len(boxes)]
                if len(mirrored):
                    xyxy = mirrored.xyxy.copy()
                    xyxy[:, [0, 2]] = (x2 - x1) - mirrored.xyxy[:, [2, 0]]
                    mirrored.xyxy = xyxy
                    det = sv.Detections.merge([det, mirrored]).with_nms(
                        threshold=decode.iou, class_agnostic=True
                    )
            if len(det):
                det.xyxy = det.xyxy + np.array([x1, y1, x1, y1], dtype=np.float32)
            out.append(det)
        return out, result.timings_ms

    def crops(
        self, frame_shape: tuple[int, ...], people: sv.Detections, indices: Sequence[int] | None = None
    ) -> list[tuple[int, tuple[int, int, int, int]]]:
        """The people among ``indices`` (all by default) the stage can check, each with its
        :func:`checked_crop`: not a person inferred from a lone bare head or torso (no body to crop
        around), nor one too small."""
        chosen = range(len(people)) if indices is None else indices
        out = []
        for i in chosen:
            if people.data[INFERRED][i]:
                continue
            box = checked_crop(people.xyxy[i], frame_shape, self.params)
            if box is not None:
                out.append((i, box))
        return out

    def cigarette_probability(self, frame: np.ndarray, proposals: np.ndarray, crop: np.ndarray) -> np.ndarray:
        """The verifier's ``cigarette`` probability ``[K]`` of each proposal ``[K, 4]`` (frame pixels)
        found in the person's ``crop`` box; ones without a verifier."""
        if self.verifier is None:
            return np.ones(len(proposals), np.float32)
        patches = crop_squares(frame, proposal_squares(proposals, crop), self.verifier.size)
        probs = self.verifier.classify(patches)
        return probs[:, self.verifier.index["cigarette"]]

    def verified(self, frame: np.ndarray, proposals: np.ndarray, crop: np.ndarray) -> np.ndarray:
        """Which proposals ``[K, 4]`` the verifier keeps (all without one)."""
        return self.cigarette_probability(frame, proposals, crop) >= self.params.verify


class SmokingScheduler:
    """Chooses which tracked people to check for smoking on this frame.

    Each track is checked at most once every ``recheck_s`` seconds of frame time, and at most
    ``max_per_frame`` crops are run on one frame; the tracks waiting longest go first. A new track is
    checked at once (when the frame's budget allows). The interval is in seconds, not frames, because a
    camera is looked at less often when its scene is still (the motion gate) or the box is busy: counted
    in frames, a smoker standing still was checked once in 10-15 s instead of every 3 s, too seldom for
    the smoking rule's 2 checks of 3 while a photo of the event check was on screen.

    Example:
        >>> s = SmokingScheduler(recheck_s=1.0, max_per_frame=1)
        >>> [s.choose([1, 2], now=t) for t in (0.0, 0.5, 1.0, 1.5)]
        [[0], [1], [0], [1]]
    """

    def __init__(self, recheck_s: float = 3.0, max_per_frame: int = 1) -> None:
        self.recheck_s = recheck_s
        self.max_per_frame = max_per_frame
        self._last: dict[Hashable, float] = {}

    def choose(self, keys: Sequence[Hashable], now: float) -> list[int]:
        """Return the indices into ``keys`` (track ids of this frame's people) to check at ``now`` (the
        frame's time, seconds)."""

        def waited(key: Hashable) -> float:
            last = self._last.get(key)
            # A time earlier than the last check (the camera's clock was reset) makes the track due.
            return float("inf") if last is None or now < last else now - last

        due = [(-waited(key), i) for i, key in enumerate(keys) if waited(key) >= self.recheck_s]
        chosen = [i for _, i in sorted(due)[: self.max_per_frame]]
        for i in chosen:
            self._last[keys[i]] = now
        # Forget only tracks that would be due anyway, so one hidden for a frame or two is not
        # rechecked early when it reappears.
        self._last = {k: v for k, v in self._last.items() if 0 <= now - v < self.recheck_s}
        return chosen
