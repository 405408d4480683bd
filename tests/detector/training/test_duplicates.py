"""Telling the same photo apart from another: export file names and perceptual hashes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.training.duplicates import dhash, near_duplicates, source_stem
from tests.detector.training.test_trainsets import picture


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("IMG_12_jpg.rf.4c6bf6bf30e8.jpg", "img_12"),
        ("-0378D390-png_jpg.rf.9e69.jpg", "-0378d390-png"),
        ("smoke_7.jpg", "smoke_7"),
        ("00012.webp", "00012"),
    ],
)
def test_the_source_photo_of_an_export_file(name: str, stem: str) -> None:
    assert source_stem(Path(name)) == stem


def test_a_picture_re_exported_is_a_near_duplicate_and_another_is_not() -> None:
    original = picture(1, (200, 300))
    # Roboflow's "fit (black edges)": shrunk into a square with black bars, then re-encoded.
    letterboxed = np.zeros((320, 320, 3), np.uint8)
    letterboxed[53:266] = cv2.resize(original, (320, 213))
    _, jpeg = cv2.imencode(".jpg", letterboxed, [cv2.IMWRITE_JPEG_QUALITY, 60])
    copy = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    hashes = np.array([dhash(copy), dhash(picture(2, (200, 300)))], np.uint64)
    assert near_duplicates(hashes, np.array([dhash(original)], np.uint64)).tolist() == [True, False]
