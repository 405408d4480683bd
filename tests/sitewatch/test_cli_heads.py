"""``sitewatch data heads`` and ``sitewatch train --task heads``, end to end on the real PPE model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from detector.heads import HeadClassifier
from detector.training.headsets import HeadSet
from tests.conftest import DATA
from tests.sitewatch.test_cli import sitewatch

pytest.importorskip("torch")


def _sources(root: Path) -> Path:
    """A sources folder whose ppe/ and hhw/ both hold the eight photos of tests/data/ppe as train and val."""
    for name in ("ppe", "hhw"):
        shutil.copytree(DATA / "ppe", root / name)
    return root


@pytest.mark.slow
def test_data_heads_then_train_heads_gives_a_classifier(tmp_path: Path) -> None:
    sources, patches, models = _sources(tmp_path / "sources"), tmp_path / "heads", tmp_path / "models"
    built = sitewatch("data", "heads", "--sources", sources, "--out", patches)
    assert built.returncode == 0, built.stderr
    assert "train helmet" in built.stdout and "sitewatch train --task heads" in built.stdout
    train = HeadSet.load(patches / "train.npz")
    # The PPE model finds people in these photos, and both a hard hat and a bare head among them.
    assert len(train.labels) >= 8 and {0, 1} <= set(train.labels.tolist())
    val = HeadSet.load(patches / "val.npz")
    # The fixture's splits hold the same photos; each set is made of its own split only.
    assert len(val.labels) == len(train.labels)
    assert {s.split("/")[1] for s in val.sources} == {"val"} and {s.split("/")[1] for s in train.sources} == {
        "train"
    }

    trained = sitewatch(
        "train", "--task", "heads", "--data", patches, "--name", "h", "--out", models, "--epochs", "1"
    )
    assert trained.returncode == 0, trained.stderr
    assert "validation patches" in trained.stdout
    probs = HeadClassifier(models / "h.onnx").classify(np.zeros((2, 64, 64, 3), np.uint8))
    assert probs.shape == (2, 3)


def test_data_heads_needs_its_sources(tmp_path: Path) -> None:
    result = sitewatch("data", "heads", "--sources", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert result.returncode != 0
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr
