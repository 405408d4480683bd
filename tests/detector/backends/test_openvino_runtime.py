"""OpenVINO runs the same ONNX files as onnxruntime and gives the same detections on real photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.backends.factory import backend_for, create
from detector.backends.interface import BackendOptions
from detector.backends.onnx_runtime import OnnxYolo
from detector.decode import DecodeParams
from detector.engine import Engine, EngineSettings
from detector.evaluation.average_precision import box_iou
from detector.modelfiles import ModelFileError, resolve
from sitewatch.config import Config
from tests.conftest import DATA

pytest.importorskip("openvino")

from detector.backends.openvino_runtime import OpenVinoYolo

PHOTOS = sorted((DATA / "ppe" / "images").glob("*.jpg"))
PARAMS = DecodeParams(conf=0.25, iou=0.6, max_det=100)
#: Detections this far above (below) the threshold in one runtime must (must not) appear in the other.
SCORE_TOL = 0.01
BOX_TOL_PX = 1.0


@pytest.fixture(scope="module")
def runtimes() -> tuple[OnnxYolo, OpenVinoYolo]:
    return OnnxYolo(resolve("ppe"), BackendOptions()), OpenVinoYolo(resolve("ppe"), BackendOptions())


@pytest.mark.parametrize("photo", PHOTOS, ids=[p.name[:24] for p in PHOTOS])
def test_openvino_finds_what_onnxruntime_finds(runtimes: tuple[OnnxYolo, OpenVinoYolo], photo: Path) -> None:
    frame = cv2.imread(str(photo))
    ort_det, ov_det = (m.detect([frame], PARAMS).detections[0] for m in runtimes)
    assert ort_det.confidence is not None and ov_det.confidence is not None
    for ref, other in ((ort_det, ov_det), (ov_det, ort_det)):
        assert ref.confidence is not None and other.confidence is not None
        clear = ref.confidence >= PARAMS.conf + SCORE_TOL
        iou = box_iou(ref.xyxy[clear], other.xyxy)
        same_class = ref.class_id[clear][:, None] == other.class_id[None, :]
        best = np.where(same_class, iou, 0.0).argmax(axis=1) if len(other) else np.array([], int)
        for row, j in enumerate(best):
            i = np.flatnonzero(clear)[row]
            assert ref.class_id[i] == other.class_id[j]
            assert np.abs(ref.xyxy[i] - other.xyxy[j]).max() <= BOX_TOL_PX
            assert abs(ref.confidence[i] - other.confidence[j]) <= SCORE_TOL
    assert len(ort_det) > 0


def test_the_configuration_selects_openvino() -> None:
    config = Config.model_validate({"site": {"id": "t"}, "runtime": {"backend": "openvino"}})
    engine = Engine(config.engine_settings())
    assert isinstance(engine.ppe, OpenVinoYolo)
    assert engine.smoking is not None and isinstance(engine.smoking.model, OpenVinoYolo)
    assert type(Engine(EngineSettings(smoking_model=None)).ppe) is OnnxYolo


@pytest.mark.parametrize(
    ("options", "kind"),
    [
        (None, OnnxYolo),
        (BackendOptions(), OnnxYolo),
        (BackendOptions(runtime="openvino"), OpenVinoYolo),
        (BackendOptions(runtime="openvino", intra_op_threads=1), OpenVinoYolo),
    ],
)
def test_backend_for_follows_the_runtime_option(options: BackendOptions | None, kind: type) -> None:
    assert type(backend_for(resolve("ppe"), options)) is kind


def test_a_missing_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"nothing\.onnx is missing"):
        create("openvino", tmp_path / "nothing.onnx")
