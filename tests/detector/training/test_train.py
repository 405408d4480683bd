"""The train path: one epoch on eight images at 160 px, ONNX export, loaded by our runtime."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
import torch

from detector import modelfiles
from detector.backends.factory import create
from detector.decode import DecodeParams
from detector.modelfiles import resolve
from detector.training.train import _unfinished, export_onnx, train
from tests.conftest import DATA


@pytest.mark.slow
def test_one_epoch_exports_an_onnx_our_runtime_loads(tmp_path: Path) -> None:
    data = tmp_path / "ppe"
    shutil.copytree(DATA / "ppe", data)  # ultralytics writes a labels.cache beside the labels
    out = tmp_path / "models"
    result = train(
        data=data,
        base=resolve("ppe.pt"),
        out_dir=out,
        name="tiny",
        epochs=1,
        imgsz=160,
        batch=8,
        device="cpu",
        workers=0,
    )
    assert result.onnx == out / "tiny.onnx" and result.weights.exists()
    # No place of the machine that trained it rides along in the files meant for the repository.
    state = torch.load(result.weights, map_location="cpu", weights_only=False)
    assert "git" not in state
    assert not [v for v in state["train_args"].values() if isinstance(v, str) and Path(v).is_absolute()]
    description = create("onnx", result.onnx).session.get_modelmeta().custom_metadata_map["description"]
    assert str(tmp_path) not in description and "/tmp" not in description
    # Recorded in the folder's manifest, so the checksum check applies to the new file too.
    assert modelfiles.expected_sha256(result.onnx) == result.onnx_sha256
    model = create("onnx", result.onnx)
    assert model.input_size == (160, 160)
    assert model.names == {0: "person", 1: "helmet", 2: "no_helmet", 3: "vest", 4: "no_vest"}
    image = cv2.imread(str(next((DATA / "ppe" / "images").glob("*.jpg"))))
    batch = model.detect([image], DecodeParams(conf=0.01))
    assert batch.timings_ms["inference"] > 0
    assert len(batch.detections[0]) > 0  # one epoch from the trained checkpoint still finds things

    ultralytics_model = create("ultralytics", result.weights)
    assert len(ultralytics_model.detect([image], DecodeParams(conf=0.01)).detections[0]) > 0


def test_training_needs_a_data_yaml(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"data\.yaml"):
        train(data=tmp_path, base=resolve("ppe.pt"), out_dir=tmp_path, name="x", epochs=1)


RUN_IN_CHILD = """
import sys
from pathlib import Path
from detector.modelfiles import resolve
from detector.training.train import train
data, out, run = map(Path, sys.argv[1:4])
train(data=data, base=resolve("ppe.pt"), out_dir=out, name="tiny", epochs=5, imgsz=96, batch=8,
      device="cpu", workers=0, run_dir=run)
"""


@pytest.mark.slow
def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    """A long CPU run stopped with Ctrl-C after its first epoch goes on from there when started again.

    Regression: the run's data.yaml lived in a temporary folder that Ctrl-C removed, so the resume failed.
    """
    data = tmp_path / "ppe"
    shutil.copytree(DATA / "ppe", data)
    out, run = tmp_path / "models", tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", RUN_IN_CHILD, str(data), str(out), str(run)])
    last = run / "weights" / "last.pt"
    try:
        deadline = time.monotonic() + 300
        while not last.is_file() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # let the first save finish writing
    finally:
        child.send_signal(signal.SIGINT)  # what a person at the terminal does
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    assert last.is_file() and _unfinished(last), "the child should have been stopped mid-run"
    assert not (out / "tiny.onnx").exists()
    done = int(torch.load(last, map_location="cpu", weights_only=False)["epoch"]) + 1
    rows_before = len((run / "results.csv").read_text().strip().splitlines()) - 1

    result = train(data=data, base=resolve("ppe.pt"), out_dir=out, name="tiny", imgsz=96, run_dir=run)
    rows_after = len((out / "tiny.results.csv").read_text().strip().splitlines()) - 1
    # Only the epochs after the checkpoint were trained again, not the whole run from the start.
    assert 1 <= done < 5 and rows_after == rows_before + 5 - done
    assert result.onnx.is_file() and not _unfinished(last)


@pytest.mark.slow
def test_a_wide_export_keeps_the_weights_and_its_input_size(tmp_path: Path) -> None:
    """``sitewatch export-onnx``: the shipped checkpoint at a wide input, loaded by our runtime."""
    out = tmp_path / "wide.onnx"
    digest = export_onnx(resolve("ppe.pt"), out, imgsz=(96, 160))
    assert modelfiles.expected_sha256(out) == digest
    model = create("onnx", out)
    assert model.input_size == (96, 160)
    assert model.names == create("onnx", resolve("ppe")).names
    assert (
        not (modelfiles.models_dir() / "ppe-yolov8n.onnx").stat().st_mtime > out.stat().st_mtime
    )  # untouched
