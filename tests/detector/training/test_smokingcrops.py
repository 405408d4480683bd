"""The cigarette detector's crop set: each person's crop is an image with the labelled cigarettes that lie
mostly inside it, a close-up without people is kept whole, building-site crops are background images (one
in ``negatives_every``), and a test split is never read."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.smoking import SmokingParams, upper_body_box
from detector.training.smokingcrops import build_smoking_crops, crop_rows

PERSON = np.array([[50.0, 0.0, 150.0, 200.0]])
#: The labelled cigarette at the person's mouth (frame pixels) and its YOLO row in a 200 x 200 photo.
CIGARETTE = np.array([90.0, 25.0, 110.0, 35.0])
ROW = "0 0.5 0.15 0.1 0.05\n"


def _split(root: Path, name: str, labels: str | None, photos: int = 1) -> Path:
    folder = root / name
    (folder / "valid" / "images").mkdir(parents=True)
    (folder / "valid" / "labels").mkdir()
    thing = "cigarette" if name == "smoking" else f"{name}-thing"
    (folder / "data.yaml").write_text(f"path: .\nval: valid/images\nnames:\n  0: {thing}\n")
    for i in range(photos):
        cv2.imwrite(str(folder / "valid" / "images" / f"p{i}.jpg"), np.full((200, 200, 3), 128, np.uint8))
        if labels is not None:
            (folder / "valid" / "labels" / f"p{i}.txt").write_text(labels)
    return folder


def _labels(out: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in sorted((out / "valid" / "labels").glob("*.txt"))}


@pytest.mark.parametrize(
    ("truth", "crop", "expected"),
    [
        ([[10, 10, 30, 20]], (0, 0, 100, 100), [[0, 0.2, 0.15, 0.2, 0.1]]),
        ([[90, 10, 130, 20]], (0, 0, 100, 100), []),  # a quarter inside: left out
        ([[80, 10, 110, 20]], (0, 0, 100, 100), [[0, 0.9, 0.15, 0.2, 0.1]]),  # two thirds inside: clipped
        ([[60, 60, 80, 70]], (50, 50, 150, 150), [[0, 0.2, 0.15, 0.2, 0.1]]),  # crop-relative
        ([], (0, 0, 100, 100), []),
    ],
)
def test_crop_rows(
    truth: list[list[float]], crop: tuple[int, int, int, int], expected: list[list[float]]
) -> None:
    got = crop_rows(np.array(truth, np.float64).reshape(-1, 4), crop)
    np.testing.assert_allclose(got, np.array(expected, np.float64).reshape(-1, 5), atol=1e-9)


def test_a_smokers_crop_keeps_the_cigarette(tmp_path: Path) -> None:
    root = _split(tmp_path, "smoking", ROW)
    out = tmp_path / "set"
    counts = build_smoking_crops([(root, "val")], lambda image: PERSON, out, night_share=0.0)
    x1, y1, x2, y2 = upper_body_box(PERSON[0], (200, 200, 3), SmokingParams())
    image = cv2.imread(str(out / "valid" / "images" / "smoking-p0-0.jpg"))
    assert image.shape[:2] == (y2 - y1, x2 - x1)
    (row,) = [line.split() for line in _labels(out)["smoking-p0-0"].splitlines()]
    centre = (
        ((CIGARETTE[0] + CIGARETTE[2]) / 2 - x1) / (x2 - x1),
        ((CIGARETTE[1] + CIGARETTE[3]) / 2 - y1) / (y2 - y1),
    )
    np.testing.assert_allclose([float(row[1]), float(row[2])], centre, atol=1e-5)
    assert counts.images == {"valid smoking cigarette": 1}
    assert "val: valid/images" in (out / "data.yaml").read_text()


def test_a_close_up_without_people_is_its_own_crop(tmp_path: Path) -> None:
    root = _split(tmp_path, "smoking", ROW)
    out = tmp_path / "set"
    build_smoking_crops([(root, "val")], lambda image: np.empty((0, 4)), out, night_share=0.0)
    assert _labels(out) == {"smoking-p0-0": "0 0.500000 0.150000 0.100000 0.050000\n"}
    assert cv2.imread(str(out / "valid" / "images" / "smoking-p0-0.jpg")).shape[:2] == (200, 200)


@pytest.mark.parametrize(("every", "kept"), [(1, 6), (2, 3), (3, 2)])
def test_building_site_crops_are_background(tmp_path: Path, every: int, kept: int) -> None:
    # A pen-like label in a building-site set must not become a cigarette.
    root = _split(tmp_path, "ppe", ROW, photos=6)
    out = tmp_path / "set"
    counts = build_smoking_crops([(root, "val")], lambda image: PERSON, out, negatives_every=every)
    assert list(_labels(out).values()) == [""] * kept
    assert counts.images == {"valid ppe none": kept}


def test_a_test_split_is_refused(tmp_path: Path) -> None:
    root = _split(tmp_path, "smoking", ROW)
    with pytest.raises(ValueError, match="only train and val"):
        build_smoking_crops([(root, "test")], lambda image: PERSON, tmp_path / "set")
