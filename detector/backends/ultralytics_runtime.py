"""Optional backend: ultralytics ``.pt`` checkpoints (needs the ``train`` extra: ``pip install .[train]``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

from detector import modelfiles
from detector.backends.interface import BackendOptions, BatchResult, register
from detector.decode import DecodeParams
from detector.timing import StageTimer
from detector.types import CLASS_NAME, make_detections


@register("ultralytics")
class UltralyticsYolo:
    """A YOLO ``.pt`` checkpoint run through ultralytics (PyTorch); slower to start, for checks and training.

    Raises:
        ModelFileError: the file is missing or altered.
        RuntimeError: ultralytics is not installed.
    """

    def __init__(self, path: Path, options: BackendOptions) -> None:
        modelfiles.verify(path)
        try:
            from ultralytics import YOLO
        except ImportError as exc:  # the runtime image ships without torch
            raise RuntimeError(
                "the ultralytics backend needs the 'train' extra: pip install 'sitewatch[train]'"
            ) from exc
        self.path = path
        self.model: Any = YOLO(str(path))
        self.device = options.device
        self.names: dict[int, str] = {int(k): str(v) for k, v in self.model.names.items()}
        imgsz = self.model.overrides.get("imgsz", 640)
        size = int(imgsz[0] if isinstance(imgsz, list | tuple) else imgsz)
        self.input_size = (size, size)

    def detect(self, frames: Sequence[np.ndarray], params: DecodeParams) -> BatchResult:
        """Detect objects in BGR ``frames`` with ultralytics' own pre- and postprocessing."""
        timer = StageTimer()
        results = self.model.predict(
            list(frames),
            imgsz=self.input_size[0],
            conf=params.conf,
            iou=params.iou,
            max_det=params.max_det,
            agnostic_nms=params.agnostic,
            device=self.device,
            verbose=False,
        )
        out: list[sv.Detections] = []
        for result in results:
            det = sv.Detections.from_ultralytics(result)
            cid = det.class_id if det.class_id is not None else np.zeros(len(det), np.int64)
            conf = det.confidence if det.confidence is not None else np.ones(len(det), np.float32)
            out.append(make_detections(det.xyxy, conf, cid, self.names))
            for stage, ms in result.speed.items():
                timer.add(stage, float(ms))
        assert all(CLASS_NAME in d.data for d in out)
        return BatchResult(out, timer.ms)
