"""``sitewatch eval``: run a detector over a YOLO dataset with our own runtime and score it."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
from tqdm import tqdm

from detector.backends.interface import DetectorBackend
from detector.backends.onnx_runtime import OnnxYolo
from detector.decode import DecodeParams
from detector.evaluation.average_precision import DetectionMetrics, MetricsSummary
from detector.training.dataset import YoloDataset, read_labels

logger = logging.getLogger(__name__)

#: The settings of ultralytics ``val`` that the model card's figures come from.
VAL_PARAMS = DecodeParams(conf=0.001, iou=0.7, max_det=300, multi_label=True)


def evaluate(
    model: DetectorBackend,
    dataset: YoloDataset,
    *,
    params: DecodeParams = VAL_PARAMS,
    progress: bool = True,
) -> MetricsSummary:
    """Score ``model`` on every image of ``dataset``.

    Args:
        model: any detector backend; its class names must match the dataset's by index.
        dataset: the split to score on.
        params: decoding thresholds (ultralytics ``val`` settings by default).
        progress: show a progress bar on standard error.

    Raises:
        ValueError: the model's classes differ from the dataset's, or an image cannot be read.
    """
    mismatch = {i: (n, model.names.get(i)) for i, n in dataset.names.items() if model.names.get(i) != n}
    if mismatch:
        raise ValueError(
            f"model {model.path} and dataset {dataset.root} name classes differently: {mismatch}"
        )
    if isinstance(model, OnnxYolo):
        model.shrink_interpolation = cv2.INTER_AREA  # as ultralytics' loader shrinks images
    metrics = DetectionMetrics(dataset.names)
    for image_path in tqdm(dataset, desc=f"eval {dataset.root.name}", unit="img", disable=not progress):
        image = cv2.imread(str(image_path))
        if image is None:
            raise ValueError(f"cannot read image {image_path}")
        det = model.detect([image], params).detections[0]
        true_xyxy, true_cls = read_labels(image_path, image.shape[1], image.shape[0])
        assert det.confidence is not None and det.class_id is not None
        metrics.update(det.xyxy, det.confidence, det.class_id, true_xyxy, true_cls)
    return metrics.summary()


def load_dataset(path: Path) -> YoloDataset:
    """Open a dataset folder, taking its ``test`` split when it has one and ``val`` otherwise."""
    try:
        return YoloDataset.open(path, "test")
    except ValueError:
        return YoloDataset.open(path, "val")
