"""The PyTorch (GPU) backend: a TorchScript export of the shipped model finds what the ONNX backend finds,
on the CPU here and on CUDA where there is one; bad files get a clear error."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.backends.factory import backend_for, create
from detector.backends.interface import BackendOptions
from detector.decode import DecodeParams
from detector.modelfiles import ModelFileError, resolve
from tests.conftest import ROOT

pytest.importorskip("torch")
pytest.importorskip("ultralytics")

PARAMS = DecodeParams(conf=0.25, iou=0.6, max_det=100)
IMAGES = sorted((ROOT / "configs" / "demo" / "images").glob("*.jpg"))


@pytest.fixture(scope="module")
def torchscript(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from detector.backends.torch_runtime import export_torchscript

    folder = tmp_path_factory.mktemp("ts")
    weights = folder / "ppe.pt"
    weights.write_bytes(resolve("ppe.pt").read_bytes())
    return export_torchscript(weights, folder / "ppe.torchscript")


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def test_the_torch_backend_finds_what_the_onnx_backend_finds(torchscript: Path) -> None:
    frames = [cv2.imread(str(p)) for p in IMAGES]
    # Frames of two sizes in one batch: each size is letterboxed on its own.
    frames.append(cv2.resize(frames[0], (640, 360)))
    model = backend_for(torchscript, BackendOptions(device="cpu"))
    assert type(model).__name__ == "TorchYolo"
    assert model.names == create("onnx", resolve("ppe")).names
    ours = model.detect(frames, PARAMS).detections
    reference = create("onnx", resolve("ppe")).detect(frames, PARAMS).detections
    compared = 0
    for got, want in zip(ours, reference, strict=True):
        assert want.confidence is not None and got.confidence is not None
        strong = want.confidence > 0.4  # boxes near the threshold may fall either side of it
        if not strong.any():
            continue
        iou = _iou(want.xyxy[strong], got.xyxy)
        same_class = want.class_id[strong][:, None] == got.class_id[None, :]
        best = np.where(same_class, iou, 0).max(axis=1)
        assert (best > 0.9).all(), best
        compared += int(strong.sum())
    assert compared >= 5


def test_a_batch_gives_the_same_boxes_as_frames_one_by_one(torchscript: Path) -> None:
    model = create("torch", torchscript, BackendOptions(device="cpu"))
    frames = [cv2.imread(str(p)) for p in IMAGES]
    together = model.detect(frames, PARAMS).detections
    for frame, batched in zip(frames, together, strict=True):
        alone = model.detect([frame], PARAMS).detections[0]
        np.testing.assert_allclose(alone.xyxy, batched.xyxy, atol=0.5)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), (b"not a model", "not a TorchScript model")],
)
def test_a_bad_file_gets_a_clear_error(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "model.torchscript"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        create("torch", path, BackendOptions(device="cpu"))


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="no CUDA here")
def test_on_cuda_fp16_with_graphs_matches_the_cpu(torchscript: Path) -> None:
    frames = [cv2.imread(str(p)) for p in IMAGES] * 4
    gpu = create("torch", torchscript, BackendOptions(device="cuda"))
    assert gpu.half and gpu.cuda_graphs
    cpu = create("torch", torchscript, BackendOptions(device="cpu"))
    for _ in range(2):  # the second call replays the captured graph
        got = gpu.detect(frames, PARAMS).detections
    want = cpu.detect(frames, PARAMS).detections
    for g, w in zip(got, want, strict=True):
        assert abs(len(g) - len(w)) <= 1
