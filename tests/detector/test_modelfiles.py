from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from detector import modelfiles
from detector.backends.factory import create
from detector.backends.interface import BackendOptions
from detector.modelfiles import ModelFileError, resolve


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A copy of the PPE model with its own manifest."""
    path = tmp_path / "ppe.onnx"
    shutil.copyfile(resolve("ppe"), path)
    modelfiles.record(path)
    return path


def test_the_shipped_models_match_their_checksums() -> None:
    manifest = modelfiles.read_manifest(modelfiles.models_dir())
    assert len(manifest) >= 8
    for path, digest in manifest.items():
        assert modelfiles.sha256(Path(path)) == digest, path


def test_a_missing_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"missing\.onnx is missing"):
        create("onnx", tmp_path / "missing.onnx")


def test_an_altered_model_is_named(model_copy: Path) -> None:
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_copy.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"ppe\.onnx is altered"):
        create("onnx", model_copy)


def test_a_truncated_unlisted_model_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cut.onnx"
    path.write_bytes(resolve("ppe").read_bytes()[:1000])
    with pytest.raises(ModelFileError, match=r"cut\.onnx could not be loaded"):
        create("onnx", path)


def tiny_model(path: Path, input_shape: list[int], output_shape: list[int]) -> Path:
    """A valid ONNX file with ultralytics-style metadata for 5 classes and the given shapes."""
    output = np.zeros(output_shape, np.float32)
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["output0"], value=numpy_helper.from_array(output))],
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, output_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"names": str(dict(enumerate("abcde")))})
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("input_shape", "output_shape", "message"),
    [
        ([1, 3, 64, 64], [1, 7, 84], r"output shape \(1, 7, 84\) is neither raw"),
        ([1, 1, 64, 64], [1, 9, 84], r"input images has shape \[1, 1, 64, 64\]"),
        ([1, 3, 64, 64], [1, 84], r"expected a 3-D output"),
    ],
)
def test_a_model_of_the_wrong_shape_is_named(
    tmp_path: Path, input_shape: list[int], output_shape: list[int], message: str
) -> None:
    path = tiny_model(tmp_path / "odd.onnx", input_shape, output_shape)
    with pytest.raises(ModelFileError, match=r"odd\.onnx.*" + message):
        create("onnx", path)


def test_a_model_without_class_names_is_named(tmp_path: Path) -> None:
    # The face recogniser is a valid ONNX file, but not a YOLO export.
    path = tmp_path / "not-a-detector.onnx"
    shutil.copyfile(resolve("face-rec"), path)
    with pytest.raises(ModelFileError, match=r"not-a-detector\.onnx has no 'names'"):
        create("onnx", path)


def test_a_well_formed_tiny_model_loads(tmp_path: Path) -> None:
    model = create("onnx", tiny_model(tmp_path / "tiny.onnx", [1, 3, 64, 64], [1, 9, 84]))
    assert model.input_size == (64, 64) and model.names[4] == "e"


def test_an_intact_copy_loads(model_copy: Path) -> None:
    model = create("onnx", model_copy, BackendOptions(intra_op_threads=1))
    assert model.names[0] == "person"


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown detector backend 'tensorflow'"):
        create("tensorflow", resolve("ppe"))
