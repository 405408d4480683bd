"""Training a stage classifier on pretrained features: a short run on torso patches of real photos exports
a model the torso stage loads, and a stopped run resumes from its checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector import modelfiles
from detector.head_crops import crop_squares
from detector.patches import PatchClassifier
from detector.ppe import Bands
from detector.training.dataset import read_labels
from detector.training.headsets import HeadSet
from detector.training.torsosets import STORED_CONTEXT, STORED_SIZE, band_labels
from detector.vests import VEST_CLASSES, torso_squares
from tests.conftest import DATA, ROOT

pytest.importorskip("torch")
pytest.importorskip("ultralytics")

NAMES = {0: "person", 1: "helmet", 2: "no_helmet", 3: "vest", 4: "no_vest"}


def _patches(tmp_path: Path) -> tuple[Path, Path]:
    """Torso patches of the labelled people of tests/data/ppe, split by photo."""
    sets = []
    photos = sorted((DATA / "ppe" / "images").glob("*.jpg"))
    for part in (photos[::2], photos[1::2]):
        patches, labels, sources = [], [], []
        for photo in part:
            frame = cv2.imread(str(photo))
            xyxy, cls = read_labels(photo, frame.shape[1], frame.shape[0])
            people = xyxy[cls == 0]
            items = np.isin(cls, [3, 4])
            names = [NAMES[int(c)] for c in cls[items]]
            labels.append(band_labels(people, xyxy[items], names, Bands().torso, Bands(), VEST_CLASSES, 2))
            squares = torso_squares(people, Bands())
            patches.append(crop_squares(frame, squares, STORED_SIZE, context=STORED_CONTEXT))
            sources += [photo.stem] * len(people)
        sets.append(HeadSet(np.concatenate(patches), np.concatenate(labels), np.array(sources)))
    train, val = tmp_path / "train.npz", tmp_path / "val.npz"
    sets[0].save(train)
    sets[1].save(val)
    return train, val


@pytest.mark.slow
def test_a_short_run_exports_a_classifier_the_stage_loads_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from detector.training.stage_train import train_stage

    train, val = _patches(tmp_path)
    out = tmp_path / "models" / "tiny-vests.onnx"
    common = {
        "train_set": train,
        "val_set": val,
        "out": out,
        "classes": VEST_CLASSES,
        "weights": ROOT / "models" / "init" / "yolov8n-coco.pt",
        "size": 64,
        "batch": 4,
    }
    result = train_stage(epochs=1, **common)  # type: ignore[arg-type]
    assert result.onnx == out and out.with_suffix(".ckpt").is_file()
    assert modelfiles.expected_sha256(out) == result.onnx_sha256
    classifier = PatchClassifier(out, VEST_CLASSES)
    assert classifier.size == 64
    probs = classifier.classify(np.zeros((5, 64, 64, 3), np.uint8))
    assert probs.shape == (5, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)

    with caplog.at_level(logging.INFO, logger="detector.training.stage_train"):
        train_stage(epochs=2, **common)  # type: ignore[arg-type]
    assert "at epoch 1" in caplog.text
