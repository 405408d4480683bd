"""The head classifier's training set: patches of found people, labelled from the hand-labelled heads."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.ppe import Bands, associate
from detector.training.dataset import read_labels
from detector.training.headsets import HEAD_CLASSES, STORED_SIZE, HeadSet, build_heads, head_labels
from detector.types import HELMET, INFERRED, make_detections
from tests.conftest import DATA

NAMES = {0: "person", 1: "helmet", 2: "no_helmet", 3: "vest", 4: "no_vest"}
PERSON = [0.0, 0.0, 40.0, 120.0]


@pytest.mark.parametrize(
    ("heads", "names", "expected"),
    [
        ([[10, 0, 30, 20]], ["helmet"], "helmet"),
        ([[10, 0, 30, 20]], ["no_helmet"], "no_helmet"),
        ([], [], "none"),
        # A head at the person's feet is not the person's head.
        ([[10, 100, 30, 120]], ["no_helmet"], "none"),
        # Two heads in the band: the one the band covers best decides (the other mostly sticks out).
        ([[10, 0, 30, 20], [35, 0, 55, 20]], ["no_helmet", "helmet"], "no_helmet"),
    ],
)
def test_a_person_takes_the_class_of_the_head_in_its_head_band(
    heads: list[list[float]], names: list[str], expected: str
) -> None:
    labels = head_labels(np.array([PERSON]), np.array(heads, float).reshape(-1, 4), names, Bands())
    assert HEAD_CLASSES[int(labels[0])] == expected


def test_each_head_belongs_to_one_person_only() -> None:
    # Two people side by side; the head lies in both bands, but mostly in the first one's.
    people = np.array([[0, 0, 40, 120], [30, 0, 70, 120]], float)
    labels = head_labels(people, np.array([[12, 0, 34, 20]], float), ["no_helmet"], Bands())
    assert [HEAD_CLASSES[i] for i in labels] == ["no_helmet", "none"]


def _one_photo_set(root: Path, photo: Path) -> Path:
    """A YOLO set holding one photo of ``tests/data/ppe`` and its labels."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "images" / photo.name).write_bytes(photo.read_bytes())
    label = DATA / "ppe" / "labels" / f"{photo.stem}.txt"
    (root / "labels" / label.name).write_bytes(label.read_bytes())
    (root / "data.yaml").write_text((DATA / "ppe" / "data.yaml").read_text())
    return root


@pytest.mark.parametrize("index", range(3))
def test_patches_of_labelled_people_get_the_verdicts_of_the_products_association(
    tmp_path: Path, index: int
) -> None:
    photo = sorted((DATA / "ppe" / "images").glob("*.jpg"))[index]
    frame = cv2.imread(str(photo))
    xyxy, cls = read_labels(photo, frame.shape[1], frame.shape[0])
    people = np.asarray(xyxy[cls == 0])
    scene = associate(make_detections(xyxy, np.ones(len(cls)), cls, NAMES))
    verdicts = scene.data[HELMET][~scene.data[INFERRED]]
    expected = [{"yes": "helmet", "no": "no_helmet"}.get(v, "none") for v in verdicts]

    heads = build_heads([(_one_photo_set(tmp_path / "one", photo), "val")], lambda image: people)

    assert len(expected) > 0
    assert heads.patches.shape == (len(expected), STORED_SIZE, STORED_SIZE, 3)
    assert [HEAD_CLASSES[i] for i in heads.labels] == expected
    assert set(heads.sources) == {f"one/val/{photo.stem}"}


def test_photos_without_people_give_no_patches(tmp_path: Path) -> None:
    photo = sorted((DATA / "ppe" / "images").glob("*.jpg"))[0]
    heads = build_heads([(_one_photo_set(tmp_path / "one", photo), "val")], lambda image: np.empty((0, 4)))
    assert len(heads.labels) == 0 and heads.patches.shape[1:] == (STORED_SIZE, STORED_SIZE, 3)


def test_test_splits_are_refused() -> None:
    with pytest.raises(ValueError, match="test splits"):
        build_heads([(DATA / "ppe", "test")], lambda image: np.empty((0, 4)))


def test_a_set_survives_saving(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    heads = HeadSet(
        patches=rng.integers(0, 255, (3, STORED_SIZE, STORED_SIZE, 3), dtype=np.uint8),
        labels=np.array([0, 1, 2]),
        sources=np.array(["ppe/train/a", "hhw/train/b", "hhw/train/b"]),
    )
    heads.save(tmp_path / "set.npz")
    back = HeadSet.load(tmp_path / "set.npz")
    np.testing.assert_array_equal(back.patches, heads.patches)
    assert back.labels.tolist() == [0, 1, 2] and back.sources.tolist() == heads.sources.tolist()
    assert back.counts() == {"helmet": 1, "no_helmet": 1, "none": 1}
