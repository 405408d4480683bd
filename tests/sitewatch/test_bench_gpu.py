"""``sitewatch bench gpu``: the PyTorch backend's detections per second by batch size (on the CPU here,
on CUDA where there is one) and video decoding per stream size."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from detector.backends.factory import create
from detector.backends.interface import BackendOptions
from detector.modelfiles import resolve
from sitewatch.bench.gpu import STREAMS, bench_batches, bench_decode
from tests.conftest import ROOT

IMAGES = sorted((ROOT / "configs" / "demo" / "images").glob("*.jpg"))


@pytest.fixture(scope="module")
def torchscript(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("ultralytics")
    from detector.backends.torch_runtime import export_torchscript

    folder = tmp_path_factory.mktemp("ts")
    weights = folder / "ppe.pt"
    weights.write_bytes(resolve("ppe.pt").read_bytes())
    return export_torchscript(weights, folder / "ppe.torchscript")


def test_the_gpu_bench_reports_every_batch_size_with_its_stages(torchscript: Path) -> None:
    model = create("torch", torchscript, BackendOptions(device="cpu"))
    frames = [cv2.resize(cv2.imread(str(IMAGES[0])), (640, 360))]
    figures = bench_batches(model, frames, batches=[1, 2], runs=2, device="cpu", progress=False)
    assert [(f.batch, f.frame) for f in figures] == [(1, "640x360"), (2, "640x360")]
    for f in figures:
        # The stages are timed inside the call, so together they cannot exceed it.
        assert 0 < f.preprocess_ms + f.inference_ms + f.postprocess_ms <= f.ms_per_batch * 1.05


def test_the_decode_bench_decodes_every_stream_size() -> None:
    figures = bench_decode(cv2.imread(str(IMAGES[0])), frames=10, progress=False)
    assert [f.stream for f in figures] == list(STREAMS)
    assert all(f.codec in {"h264", "mpeg4"} and f.frames_per_s > 0 for f in figures)
