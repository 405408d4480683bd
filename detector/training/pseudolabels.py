"""Pseudo-labels: boxes that a teacher model draws where a training set left classes unlabelled (the
people and vests of Hard Hat Workers, see :mod:`detector.training.trainsets`). Needs ultralytics (the
``train`` extra), imported only when a labeller is made."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

#: A pseudo-labeller: image paths in, one ``[N, 5]`` array of ``class cx cy w h`` (normalised) per image.
Labeler = Callable[[Sequence[Path]], list[np.ndarray]]


def ultralytics_labeler(
    weights: Path,
    *,
    classes: dict[int, int],
    conf: float,
    imgsz: int = 640,
    device: str | None = None,
    batch: int = 32,
) -> Labeler:
    """A pseudo-labeller from an ultralytics checkpoint.

    Args:
        weights: the ``.pt`` file.
        classes: which of the model's classes to keep, and the class index each becomes.
        conf: the lowest confidence kept (high: a missed box costs less than a wrong one).
        imgsz: inference size.
        device: ``cpu``, ``0``... (ultralytics' default when None).
        batch: images per forward pass.
    """
    from ultralytics import YOLO

    model = YOLO(str(weights))

    def label(images: Sequence[Path]) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for start in range(0, len(images), batch):
            chunk = [str(p) for p in images[start : start + batch]]
            results = model.predict(
                chunk, conf=conf, imgsz=imgsz, device=device, classes=sorted(classes), verbose=False
            )
            for result in results:
                boxes = result.boxes
                cls = boxes.cls.cpu().numpy().astype(int)
                xywhn = boxes.xywhn.cpu().numpy()
                mapped = np.array([classes[c] for c in cls], np.float32).reshape(-1, 1)
                out.append(np.hstack([mapped, xywhn.astype(np.float32)]).reshape(-1, 5))
        return out

    return label
