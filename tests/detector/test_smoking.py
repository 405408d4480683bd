from __future__ import annotations

import cv2
import numpy as np
import pytest
import supervision as sv

from detector.decode import DecodeParams
from detector.engine import Engine
from detector.ppe import associate
from detector.smoking import SmokingParams, SmokingScheduler, SmokingStage, upper_body_box
from detector.types import SMOKING, make_detections
from tests.conftest import DATA


@pytest.mark.parametrize(
    ("recheck_s", "per_frame", "frames", "expected"),
    [
        (0.2, 4, [(0.0, [1, 2, 3])], [[0, 1, 2]]),
        (0.2, 2, [(0.0, [1, 2, 3]), (0.2, [1, 2, 3])], [[0, 1], [2, 0]]),  # the one left waiting goes first
        (0.6, 1, [(t, [1, 2]) for t in (0.0, 0.2, 0.4, 0.6)], [[0], [1], [], [0]]),
        (0.4, 5, [(0.0, [1]), (0.2, [1]), (0.4, [1])], [[0], [], [0]]),
        (1.0, 5, [(0.0, [1]), (0.2, [2]), (0.4, [1, 2])], [[0], [0], []]),  # a new track is checked at once
        (0.4, 5, [(0.0, [1]), (0.2, []), (0.4, [1])], [[0], [], [0]]),  # it left and came back when due
        (1.0, 5, [(0.0, [1]), (0.2, []), (0.4, [1])], [[0], [], []]),  # hidden a frame: not rechecked early
        # Seconds, not frames: a camera looked at once in 1.5 s (still scene, busy box) still checks a
        # person every 3 s (regression: 15 frames were 22 s at that rate, and smokers were missed).
        (3.0, 1, [(1.5 * i, [7]) for i in range(5)], [[0], [], [0], [], [0]]),
        (3.0, 1, [(10.0, [7]), (2.0, [7])], [[0], [0]]),  # the frame clock went back: due again
    ],
)
def test_scheduler(
    recheck_s: float, per_frame: int, frames: list[tuple[float, list[int]]], expected: list[list[int]]
) -> None:
    scheduler = SmokingScheduler(recheck_s=recheck_s, max_per_frame=per_frame)
    assert [scheduler.choose(keys, now) for now, keys in frames] == expected


@pytest.mark.parametrize(
    ("person", "frame", "box"),
    [
        ([100, 100, 150, 300], (480, 640), (65, 90, 185, 210)),
        ([0, 0, 50, 300], (480, 640), (0, 0, 115, 165)),  # clipped at the left and top
        ([600, 400, 640, 480], (480, 640), (594, 396, 640, 448)),  # clipped at the right
    ],
)
def test_upper_body_box(person: list[float], frame: tuple[int, int], box: tuple[int, int, int, int]) -> None:
    assert upper_body_box(np.array(person, np.float32), (*frame, 3), SmokingParams()) == box


def test_cigarette_close_up_is_smoking_and_a_bare_wall_is_not(engine: Engine) -> None:
    # A close-up from the smoking test split: the whole photo is one person's upper body.
    frame = cv2.imread(str(DATA / "smoking" / "smoker.jpg"))
    h, w = frame.shape[:2]
    person = make_detections(np.array([[0, 0, w, h * 1.8]]), np.array([0.9]), np.array([0]), {0: "person"})
    people = associate(person)
    assert engine.smoking is not None
    cigarettes, timings = engine.smoking.check(frame, people)
    assert people.data[SMOKING].tolist() == ["yes"]
    assert len(cigarettes) >= 1 and cigarettes.data["class_name"][0] == "cigarette"
    assert timings["smoking_inference"] > 0

    wall = np.full_like(frame, 180)
    people = associate(person)
    cigarettes, _ = engine.smoking.check(wall, people)
    assert people.data[SMOKING].tolist() == ["no"] and len(cigarettes) == 0


class _Verifier:
    """A stand-in verifier that gives every patch the same ``cigarette`` probability and counts its
    patches (the real one is scored in models/README.md and below)."""

    size = 96

    def __init__(self, probability: float) -> None:
        self.index = {"cigarette": 0, "other": 1}
        self.probability = probability
        self.patches = 0

    def classify(self, patches: np.ndarray) -> np.ndarray:
        assert patches.shape[1:] == (96, 96, 3)
        self.patches += len(patches)
        return np.tile([self.probability, 1 - self.probability], (len(patches), 1)).astype(np.float32)


def _smoker() -> tuple[np.ndarray, object]:
    frame = cv2.imread(str(DATA / "smoking" / "smoker.jpg"))
    h, w = frame.shape[:2]
    person = make_detections(np.array([[0, 0, w, h * 1.8]]), np.array([0.9]), np.array([0]), {0: "person"})
    return frame, person


@pytest.mark.parametrize(("probability", "smoking"), [(0.95, "yes"), (0.5, "no")])
def test_the_verifier_keeps_or_drops_what_the_detector_proposes(
    engine: Engine, probability: float, smoking: str
) -> None:
    assert engine.smoking is not None
    verifier = _Verifier(probability)
    stage = SmokingStage(engine.smoking.model, SmokingParams(propose=0.15, verify=0.9), verifier)  # type: ignore[arg-type]
    frame, person = _smoker()
    people = associate(person)  # type: ignore[arg-type]
    cigarettes, timings = stage.check(frame, people)
    assert verifier.patches >= 1 and "smoking_verify" in timings
    assert people.data[SMOKING].tolist() == [smoking]
    assert (len(cigarettes) >= 1) == (smoking == "yes")


def test_the_shipped_verifier_confirms_the_close_up(engine: Engine) -> None:
    assert engine.smoking is not None and engine.smoking.verifier is not None
    frame, person = _smoker()
    people = associate(person)  # type: ignore[arg-type]
    engine.smoking.check(frame, people)
    assert people.data[SMOKING].tolist() == ["yes"]


@pytest.mark.parametrize(("verifier", "least"), [(None, 0.55), (_Verifier(1.0), 0.15)])
def test_the_detector_threshold_depends_on_the_verifier(
    engine: Engine, verifier: _Verifier | None, least: float
) -> None:
    """Without a verifier the detector's own threshold decides (a low proposal threshold alone would
    flag a worker in three); with one, it proposes low and the verifier decides."""
    assert engine.smoking is not None
    stage = SmokingStage(engine.smoking.model, SmokingParams(), verifier)  # type: ignore[arg-type]
    assert stage._decode.conf == least


def _mirrored(det_xyxy: np.ndarray, width: int) -> np.ndarray:
    out = det_xyxy.copy()
    out[:, [0, 2]] = width - det_xyxy[:, [2, 0]]
    return out


def test_with_flip_the_proposals_of_a_mirrored_frame_are_the_mirrored_proposals(engine: Engine) -> None:
    # The smoker close-up left of centre in a wider frame, so that a crop's offset and the mirroring
    # inside it would both show if either were wrong.
    smoker = cv2.imread(str(DATA / "smoking" / "smoker.jpg"))
    h, w = smoker.shape[:2]
    frame = np.full((h, 2 * w, 3), 90, np.uint8)
    frame[:, w // 4 : w // 4 + w] = smoker
    box = (w // 4 - 10, 0, w // 4 + w + 10, h)
    mirror_box = (2 * w - box[2], 0, 2 * w - box[0], h)
    assert engine.smoking is not None
    stage = SmokingStage(engine.smoking.model, SmokingParams(flip=True))
    plain = SmokingStage(engine.smoking.model, SmokingParams())
    decode = DecodeParams(conf=0.15, iou=0.5, max_det=10)

    [both], timings = stage.propose(frame, [box], decode)
    [mirror_both], _ = stage.propose(np.ascontiguousarray(frame[:, ::-1]), [mirror_box], decode)
    [once], _ = plain.propose(frame, [box], decode)

    assert len(once) >= 1 and timings["inference"] > 0
    assert len(both) == len(mirror_both) >= len(once)
    order = np.lexsort(both.xyxy.T[::-1])
    mirror_order = np.lexsort(_mirrored(mirror_both.xyxy, 2 * w).T[::-1])
    np.testing.assert_allclose(both.xyxy[order], _mirrored(mirror_both.xyxy, 2 * w)[mirror_order], atol=1e-3)
    # Every proposal of the plain look is kept (or a stronger one over it), in frame pixels.
    assert both.confidence is not None and once.confidence is not None
    for xyxy, score in zip(once.xyxy, once.confidence, strict=True):
        assert box[0] <= xyxy[0] and xyxy[2] <= box[2]
        ious = sv.box_iou_batch(xyxy[None], both.xyxy)[0]
        assert (both.confidence[ious > 0.5] >= score - 1e-6).any()
