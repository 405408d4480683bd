from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.engine import Engine
from detector.ppe import associate
from detector.smoking import SmokingParams, SmokingScheduler, upper_body_box
from detector.types import SMOKING, make_detections
from tests.conftest import DATA


@pytest.mark.parametrize(
    ("recheck", "per_frame", "frames", "expected"),
    [
        (1, 4, [[1, 2, 3]], [[0, 1, 2]]),
        (1, 2, [[1, 2, 3], [1, 2, 3]], [[0, 1], [2, 0]]),  # the one left waiting goes first next frame
        (3, 1, [[1, 2]] * 4, [[0], [1], [], [0]]),
        (2, 5, [[1], [1], [1]], [[0], [], [0]]),
        (5, 5, [[1], [2], [1, 2]], [[0], [0], []]),  # a new track is checked at once
        (2, 5, [[1], [], [1]], [[0], [], [0]]),  # a track that left and came back when due
        (5, 5, [[1], [], [1]], [[0], [], []]),  # a track hidden for a frame is not rechecked early
    ],
)
def test_scheduler(recheck: int, per_frame: int, frames: list[list[int]], expected: list[list[int]]) -> None:
    scheduler = SmokingScheduler(recheck_frames=recheck, max_per_frame=per_frame)
    assert [scheduler.choose(keys) for keys in frames] == expected


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
