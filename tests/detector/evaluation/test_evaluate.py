"""``sitewatch eval`` reproduces the model card's figures (ultralytics ``val``) within ± 0.02."""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.backends.factory import create
from detector.evaluation.evaluate import evaluate, load_dataset
from detector.modelfiles import resolve

# From models/README.md (measured by `sitewatch eval` and ultralytics val on the ONNX files).
MODEL_CARD = {
    ("ppe", "ppe-test"): 0.570,
    # Whole photos: since 2026-12-03 the model is fine-tuned on the stage's person crops (0.674 before).
    ("smoking", "smoking-test"): 0.550,
}


@pytest.mark.slow
@pytest.mark.parametrize(("model", "dataset"), list(MODEL_CARD))
def test_eval_reproduces_the_model_card(shared_dir: Path, model: str, dataset: str) -> None:
    summary = evaluate(
        create("onnx", resolve(model)), load_dataset(shared_dir / "datasets" / dataset), progress=False
    )
    assert summary.map50 == pytest.approx(MODEL_CARD[(model, dataset)], abs=0.02)
    assert 0 < summary.map50_95 < summary.map50
    assert summary.images == len(load_dataset(shared_dir / "datasets" / dataset))


def test_eval_refuses_a_dataset_with_other_classes(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "data.yaml").write_text("val: images\nnames: {0: cat}\n")
    with pytest.raises(ValueError, match="name classes differently"):
        evaluate(create("onnx", resolve("smoking")), load_dataset(tmp_path), progress=False)


def test_eval_without_data_yaml_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"data\.yaml"):
        load_dataset(tmp_path)
