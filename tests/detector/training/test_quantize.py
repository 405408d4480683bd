"""``sitewatch quantize``: an INT8 copy that keeps the names, the float decoding and the detections."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.backends.factory import create
from detector.backends.interface import BackendOptions
from detector.decode import DecodeParams
from detector.evaluation.average_precision import box_iou
from detector.modelfiles import resolve
from detector.training.quantize import FloatHead, calibration_images, float_head_nodes, parse_calib
from sitewatch.cli import main
from tests.conftest import DATA, ROOT

onnx = pytest.importorskip("onnx")

#: Calibration for the tests: the demo photos (never a test split).
CALIB = ROOT / "configs" / "demo" / "images"
PHOTO = sorted((DATA / "ppe" / "images").glob("image_55*.jpg"))[0]


@pytest.mark.parametrize(
    ("spec", "folder", "limit"),
    [("a/b", "a/b", None), ("a/b:30", "a/b", 30), ("c:/x", "c:/x", None), ("/d/e:0", "/d/e", 0)],
)
def test_calibration_folders_take_an_optional_count(spec: str, folder: str, limit: int | None) -> None:
    assert parse_calib(spec) == (Path(folder), limit)


@pytest.mark.parametrize(("limits", "count"), [(None, 4), ([2], 2), ([0], 0)])
def test_calibration_images_are_sorted_and_limited(limits: list[int | None] | None, count: int) -> None:
    images = calibration_images([CALIB], limits)
    assert len(images) == count and images == sorted(images)


@pytest.mark.parametrize(
    ("float_head", "convs", "decoding"),
    [("none", 0, 0), ("decode", 1, 20), ("convs", 7, 20)],
)
def test_the_head_nodes_kept_float(float_head: FloatHead, convs: int, decoding: int) -> None:
    model = onnx.load(str(resolve("ppe")))
    names = float_head_nodes(model, float_head)
    ops = {n.name: n.op_type for n in model.graph.node}
    assert sum(ops[n] == "Conv" for n in names) == convs  # the DFL's fixed convolution, then the branches'
    assert sum(ops[n] != "Conv" for n in names) >= decoding
    assert all(n.startswith("/model.22/") for n in names)
    assert "/model.22/Concat_3" in names or float_head == "none"


@pytest.fixture(scope="module")
def int8_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("int8") / "ppe-int8.onnx"
    code = main(["quantize", "--model", "ppe", "--calib", f"{CALIB}:3", "--out", str(out)])
    assert code == 0
    return out


def test_the_int8_model_keeps_metadata_and_float_decoding(int8_model: Path) -> None:
    model = onnx.load(str(int8_model))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["names"].startswith("{0: 'person'") and "int8" in meta["quantization"]
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("QuantizeLinear") > 50
    last = next(n for n in model.graph.node if n.output[0] == model.graph.output[0].name)
    assert last.op_type == "Concat"  # boxes and scores leave in float, never through one uint8 scale
    assert (int8_model.parent / "SHA256SUMS").read_text().strip().endswith("ppe-int8.onnx")


@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_the_int8_model_finds_the_same_people(int8_model: Path, runtime: str) -> None:
    if runtime == "openvino":
        pytest.importorskip("openvino")
    frame = cv2.imread(str(PHOTO))
    params = DecodeParams(conf=0.35)
    ref = create("onnx", resolve("ppe"), BackendOptions()).detect([frame], params).detections[0]
    got = create(runtime, int8_model, BackendOptions()).detect([frame], params).detections[0]
    people = ref.xyxy[ref.class_id == 0]
    assert len(people) > 0
    iou = box_iou(people, got.xyxy[got.class_id == 0])
    assert iou.shape[1] > 0 and np.all(iou.max(axis=1) > 0.8)
