"""The stages' patch classifiers (``detector/patches.py``), on the shipped files: the mirror look averages
the answers for a patch and for its mirror image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.head_crops import crop_squares
from detector.heads import HEAD_CLASSES
from detector.modelfiles import ModelFileError, resolve
from detector.patches import PatchClassifier
from detector.smoking import CIGARETTE_CLASSES
from detector.vests import VEST_CLASSES
from tests.conftest import DATA

SHIPPED = [("heads", HEAD_CLASSES), ("vests", VEST_CLASSES), ("cigarettes", CIGARETTE_CLASSES)]


def _patches(size: int) -> np.ndarray:
    """Four patches of a real photo that are far from mirror-symmetric (its left, middle and right)."""
    frame = cv2.imread(str(DATA / "smoking" / "smoker.jpg"))
    h, w = frame.shape[:2]
    side = min(h, w) / 2
    boxes = np.array([[x, 0.0, x + side, side] for x in (0.0, w / 4, w - side)] + [[0.0, 0.0, w, h]])
    return crop_squares(frame, boxes, size)


@pytest.mark.parametrize(("alias", "classes"), SHIPPED)
def test_the_mirror_look_averages_a_patch_and_its_mirror_image(alias: str, classes: tuple[str, ...]) -> None:
    plain = PatchClassifier(resolve(alias), classes)
    mirrored = PatchClassifier(resolve(alias), classes, flip=True)
    patches = _patches(plain.size)
    once, twice = plain.classify(patches), mirrored.classify(patches)
    by_hand = (once + plain.classify(np.ascontiguousarray(patches[:, :, ::-1]))) / 2
    np.testing.assert_allclose(twice, by_hand, atol=1e-5)
    assert np.abs(twice - once).max() > 1e-4  # the mirror images really were looked at
    np.testing.assert_allclose(twice.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("flip", [False, True])
def test_no_patches_give_no_rows(flip: bool) -> None:
    classifier = PatchClassifier(resolve("vests"), VEST_CLASSES, flip=flip)
    assert classifier.classify(np.empty((0, classifier.size, classifier.size, 3), np.uint8)).shape == (0, 3)


def test_a_file_with_other_classes_is_refused_by_name() -> None:
    with pytest.raises(ModelFileError, match=r"cigarette-cls\.onnx has classes \['cigarette', 'other'\]"):
        PatchClassifier(resolve("cigarettes"), HEAD_CLASSES)
