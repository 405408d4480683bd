"""Training the head classifier: a short run on patches of real photos exports a model the stage loads,
and a stopped run resumes from its checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector import modelfiles
from detector.head_crops import crop_squares, head_squares
from detector.heads import HeadClassifier
from detector.ppe import Bands
from detector.training.dataset import read_labels
from detector.training.head_train import per_class_accuracy, train_heads
from detector.training.headsets import HEAD_CLASSES, STORED_CONTEXT, STORED_SIZE, HeadSet, head_labels
from tests.conftest import DATA

pytest.importorskip("torch")


def _patches(tmp_path: Path) -> tuple[Path, Path]:
    """Patches of the labelled people of tests/data/ppe, split four photos / four photos."""
    sets = []
    photos = sorted((DATA / "ppe" / "images").glob("*.jpg"))
    for part in (photos[::2], photos[1::2]):
        patches, labels, sources = [], [], []
        for photo in part:
            frame = cv2.imread(str(photo))
            xyxy, cls = read_labels(photo, frame.shape[1], frame.shape[0])
            people = xyxy[cls == 0]
            heads = np.isin(cls, [1, 2])
            names = ["helmet" if c == 1 else "no_helmet" for c in cls[heads]]
            labels.append(head_labels(people, xyxy[heads], names, Bands()))
            squares = head_squares(people, Bands())
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
    train, val = _patches(tmp_path)
    out = tmp_path / "models" / "tiny-heads.onnx"
    result = train_heads(train_set=train, val_set=val, out=out, epochs=2, batch=4, width=4)
    assert result.onnx == out and out.with_suffix(".ckpt").is_file()
    # Recorded in the folder's manifest, so the checksum check applies to it like to the shipped models.
    assert modelfiles.expected_sha256(out) == result.onnx_sha256
    classifier = HeadClassifier(out)
    assert set(classifier.names.values()) == set(HEAD_CLASSES) and classifier.size == 64
    probs = classifier.classify(np.zeros((5, 64, 64, 3), np.uint8))
    assert probs.shape == (5, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)

    # One more epoch continues from the checkpoint instead of starting again.
    with caplog.at_level(logging.INFO, logger="detector.training.head_train"):
        train_heads(train_set=train, val_set=val, out=out, epochs=3, batch=4, width=4)
    assert "at epoch 2" in caplog.text


@pytest.mark.parametrize(
    ("labels", "predicted", "helmet", "no_helmet", "overall"),
    [
        ([0, 0, 1, 1], [0, 0, 1, 1], 1.0, 1.0, 1.0),
        ([0, 0, 1, 1], [0, 1, 1, 2], 0.5, 0.5, 0.5),
        ([0, 0, 0, 1], [0, 0, 0, 0], 1.0, 0.0, 0.75),
    ],
)
def test_per_class_accuracy(
    labels: list[int], predicted: list[int], helmet: float, no_helmet: float, overall: float
) -> None:
    got = per_class_accuracy(np.array(labels), np.array(predicted))
    assert (got["helmet"], got["no_helmet"], got["all"]) == (helmet, no_helmet, overall)
    assert np.isnan(got["none"])  # no patch of that class: undefined, not zero
