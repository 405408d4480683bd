"""The infrared-like transforms: the fixed one that ``eval --alarms --night`` scores through, and the
random one of training."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detector.training.night import infrared_like, random_infrared
from tests.conftest import DATA

PHOTO = sorted((DATA / "ppe" / "images").glob("*.jpg"))[0]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.asarray(cv2.imread(str(PHOTO)))


def _is_grey(image: np.ndarray) -> bool:
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def test_the_fixed_transform_is_deterministic_grey_and_keeps_the_shape(photo: np.ndarray) -> None:
    first, second = infrared_like(photo), infrared_like(photo.copy())
    assert np.array_equal(first, second)
    assert first.shape == photo.shape and first.dtype == np.uint8
    assert _is_grey(first)
    assert not _is_grey(photo)  # the photo had colour to lose


def test_the_fixed_transform_lowers_contrast_and_adds_noise(photo: np.ndarray) -> None:
    grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY).astype(np.float64)
    night = infrared_like(photo)[..., 0].astype(np.float64)
    assert night.std() < grey.std()
    # The noise is fixed by the seed: another seed gives another picture.
    assert not np.array_equal(infrared_like(photo, seed=1), infrared_like(photo))
    assert abs(night.mean() - grey.mean()) < 3


def test_the_random_transform_is_grey_and_varies(photo: np.ndarray) -> None:
    patch = cv2.resize(photo, (96, 96))
    rng = np.random.default_rng(0)
    outs = [random_infrared(patch, rng) for _ in range(4)]
    assert all(o.shape == patch.shape and o.dtype == np.uint8 and _is_grey(o) for o in outs)
    assert not np.array_equal(outs[0], outs[1])
