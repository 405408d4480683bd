"""The district GPU server's configuration (configs/gpu-server.example.yaml) runs the whole worker: the
PyTorch backend (on the CPU here, falling back from ``cuda``), capture processes and large batches, and
raises the demo video's violations on every camera."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from sitewatch.config import CameraConfig, load_config
from sitewatch.edge import build_worker
from streams.events import EventKind, Phase
from streams.sinks import MemorySink
from tests.conftest import ROOT
from tests.waiting import wait_for

pytest.importorskip("torch")
pytest.importorskip("ultralytics")


@pytest.fixture(scope="module")
def torchscript(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from detector.backends.torch_runtime import export_torchscript
    from detector.modelfiles import resolve

    folder = tmp_path_factory.mktemp("gpu-server")
    weights = folder / "ppe.pt"
    weights.write_bytes(resolve("ppe.pt").read_bytes())
    with contextlib.redirect_stdout(io.StringIO()):  # ultralytics reports on stdout
        return export_torchscript(weights, folder / "ppe-yolov8n.torchscript")


def test_the_gpu_server_configuration_raises_the_demo_violations(
    torchscript: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEWATCH_EDGE_KEY", "unused")
    shipped = load_config(ROOT / "configs" / "gpu-server.example.yaml")
    video = str(ROOT / "configs" / "demo" / "site-demo.mp4")
    rules = shipped.rules.model_copy(
        update={
            k: getattr(shipped.rules, k).model_copy(update={"armed": "always"})
            for k in ("no_helmet", "no_vest")
        }
    )
    config = shipped.model_copy(
        update={
            "models": shipped.models.model_copy(update={"ppe": str(torchscript)}),
            "cameras": {name: CameraConfig(url=video, loop=True) for name in ("a", "b")},
            "rules": rules,
        }
    )
    sink = MemorySink()
    worker = build_worker(config, sink=sink, engine=None)
    assert type(worker.engine.ppe).__name__ == "TorchYolo"
    assert worker.params.capture == "process" and worker.params.batch_size == 64
    worker.start()
    try:
        wanted = {(c, k) for c in ("a", "b") for k in (EventKind.NO_HELMET, EventKind.NO_VEST)}

        def raised() -> set[tuple[str, EventKind]]:
            return {(u.camera_id, u.kind) for u in list(sink.updates) if u.phase is Phase.START}

        wait_for(lambda: wanted <= raised(), 120, "no_helmet and no_vest on both cameras")
    finally:
        worker.stop()
