"""The torso classifier's patches: labels from hand-labelled vests by the association rule, the teacher's
vests on a set that labels none, and never a test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import supervision as sv

from detector.ppe import Bands
from detector.training.dataset import YoloDataset, read_labels
from detector.training.torsosets import STORED_SIZE, band_labels, build_torsos
from detector.types import make_detections
from detector.vests import VEST_CLASSES
from tests.conftest import DATA

NAMES = {0: "person", 1: "helmet", 2: "no_helmet", 3: "vest", 4: "no_vest"}


def _labelled(image: np.ndarray, path: Path) -> sv.Detections:
    xyxy, cls = read_labels(path, image.shape[1], image.shape[0])
    return make_detections(xyxy, np.full(len(cls), 0.9), cls, NAMES)


def test_a_test_split_is_refused() -> None:
    with pytest.raises(ValueError, match="test splits"):
        build_torsos([(DATA / "ppe", "test")], lambda image: sv.Detections.empty())


def test_hand_labelled_patches_follow_the_association(monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = YoloDataset.open(DATA / "ppe", "val")
    current: list[Path] = []
    real_imread = __import__("cv2").imread

    def imread(path: str) -> np.ndarray:
        current[:] = [Path(path)]
        return np.asarray(real_imread(path))

    monkeypatch.setattr("detector.training.torsosets.cv2.imread", imread)
    got = build_torsos([(DATA / "ppe", "val")], lambda image: _labelled(image, current[0]), teacher=())
    expected = []
    for path in dataset.images:
        image = real_imread(str(path))
        xyxy, cls = read_labels(path, image.shape[1], image.shape[0])
        items = np.isin(cls, [3, 4])
        names = [NAMES[int(c)] for c in cls[items]]
        expected.append(
            band_labels(xyxy[cls == 0], xyxy[items], names, Bands().torso, Bands(), VEST_CLASSES, 2)
        )
    assert got.labels.tolist() == np.concatenate(expected).tolist()
    assert got.patches.shape[1:] == (STORED_SIZE, STORED_SIZE, 3)
    assert {"vest", "no_vest"} <= {VEST_CLASSES[i] for i in got.labels}


def test_a_teacher_labelled_set_keeps_only_the_people_the_teacher_decided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people = np.array([[0, 0, 40, 100], [100, 0, 140, 100]], np.float32)
    vest = np.array([[5, 20, 35, 60]], np.float32)
    weak = np.array([[105, 20, 135, 60]], np.float32)

    def detect(image: np.ndarray) -> sv.Detections:
        boxes = np.concatenate([people, vest, weak])
        return make_detections(boxes, np.array([0.9, 0.9, 0.8, 0.3]), np.array([0, 0, 3, 4]), NAMES)

    got = build_torsos([(DATA / "ppe", "val")], detect, teacher=("ppe",), teacher_photos=2)
    # Two photos, each: the vested person kept, the one with only a weak (0.3) bare torso left out.
    assert got.labels.tolist() == [VEST_CLASSES.index("vest")] * 2
