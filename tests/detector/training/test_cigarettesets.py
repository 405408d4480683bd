"""The cigarette verifier's patches: a proposal on a labelled cigarette is ``cigarette``, any other is
``other`` (every one on a building-site set), a labelled cigarette no proposal found is added, and a test
split is never read."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.smoking import CIGARETTE_CLASSES, SmokingParams, upper_body_box
from detector.training.cigarettesets import STORED_SIZE, build_cigarettes

PERSON = np.array([[50.0, 0.0, 150.0, 200.0]])
#: Frame pixels: a cigarette at the mouth (labelled in the smoking set) and a pen in a pocket.
CIGARETTE = np.array([90.0, 25.0, 110.0, 35.0])
PEN = np.array([60.0, 80.0, 70.0, 100.0])


def _split(root: Path, name: str, labels: str | None) -> Path:
    folder = root / name
    (folder / "valid" / "images").mkdir(parents=True)
    (folder / "data.yaml").write_text(f"path: .\nval: valid/images\nnames:\n  0: {name}-thing\n")
    if name == "smoking":
        (folder / "data.yaml").write_text("path: .\nval: valid/images\nnames:\n  0: cigarette\n")
    cv2.imwrite(str(folder / "valid" / "images" / "a.jpg"), np.full((200, 200, 3), 128, np.uint8))
    if labels is not None:
        (folder / "valid" / "labels").mkdir()
        (folder / "valid" / "labels" / "a.txt").write_text(labels)
    return folder


def _proposer(boxes: list[np.ndarray]):  # type: ignore[no-untyped-def]
    """Proposes ``boxes`` (frame pixels) in the one person's crop, in crop pixels."""
    x1, y1, _, _ = upper_body_box(PERSON[0], (200, 200, 3), SmokingParams())

    def propose(crops: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
        assert len(crops) == 1
        found = np.array([b - [x1, y1, x1, y1] for b in boxes]).reshape(-1, 4)
        return [(found, np.full(len(found), 0.4))]

    return propose


@pytest.mark.parametrize(
    ("name", "proposed", "expected"),
    [
        ("smoking", [CIGARETTE, PEN], ["cigarette", "other"]),
        ("smoking", [PEN], ["other", "cigarette"]),  # the labelled one no proposal found is added
        ("smoking", [], ["cigarette"]),
        ("ppe", [CIGARETTE, PEN], ["other", "other"]),  # nobody smokes on a building-site set
        ("ppe", [], []),
    ],
)
def test_labels(tmp_path: Path, name: str, proposed: list[np.ndarray], expected: list[str]) -> None:
    # The labelled cigarette, as a YOLO row (centre 100, 30; 20 x 10 of a 200 x 200 photo).
    root = _split(tmp_path, name, "0 0.5 0.15 0.1 0.05\n" if name == "smoking" else None)
    got = build_cigarettes([(root, "val")], lambda image: PERSON, _proposer(proposed))
    assert [CIGARETTE_CLASSES[i] for i in got.labels] == expected
    assert got.patches.shape == (len(expected), STORED_SIZE, STORED_SIZE, 3)
    assert set(got.sources.tolist()) <= {f"{name}/val/a"}


def test_people_too_small_to_check_give_nothing(tmp_path: Path) -> None:
    root = _split(tmp_path, "smoking", "0 0.5 0.15 0.1 0.05\n")
    tiny = np.array([[95.0, 20.0, 105.0, 40.0]])
    got = build_cigarettes([(root, "val")], lambda image: tiny, _proposer([CIGARETTE]))
    assert len(got.labels) == 0


def test_a_test_split_is_refused(tmp_path: Path) -> None:
    root = _split(tmp_path, "smoking", None)
    with pytest.raises(ValueError, match="test splits"):
        build_cigarettes([(root, "test")], lambda image: PERSON, _proposer([]))
