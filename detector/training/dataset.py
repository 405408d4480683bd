"""Reading YOLO-format datasets: ``data.yaml``, ``images/`` and ``labels/`` with normalised boxes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import yaml

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class YoloDataset:
    """A YOLO dataset split.

    Attributes:
        root: the folder holding ``data.yaml``.
        names: class index to name.
        images: the image files of the split, sorted.
    """

    root: Path
    names: dict[int, str]
    images: list[Path]

    @classmethod
    def open(cls, root: Path, split: str = "val") -> YoloDataset:
        """Open ``root/data.yaml`` and list the images of ``split`` (``train``, ``val`` or ``test``).

        Raises:
            FileNotFoundError: no ``data.yaml`` or no images folder.
            ValueError: ``data.yaml`` lacks ``names`` or the split.
        """
        data_yaml = root / "data.yaml"
        if not data_yaml.is_file():
            raise FileNotFoundError(f"{data_yaml} not found: a YOLO dataset folder needs a data.yaml")
        spec = yaml.safe_load(data_yaml.read_text()) or {}
        names = spec.get("names")
        if isinstance(names, list):
            names = dict(enumerate(names))
        if not isinstance(names, dict):
            raise ValueError(f"{data_yaml}: 'names' must map class indices to names")
        rel = spec.get(split) or (spec.get("val") if split == "test" else None)
        if rel is None:
            raise ValueError(f"{data_yaml}: no '{split}' split")
        base = root / str(spec.get("path") or ".")
        folder = (base / str(rel)).resolve()
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} (split '{split}' of {data_yaml}) is not a folder")
        images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        return cls(root=root, names={int(k): str(v) for k, v in names.items()}, images=images)

    def __iter__(self) -> Iterator[Path]:
        return iter(self.images)

    def __len__(self) -> int:
        return len(self.images)


def label_path(image: Path) -> Path:
    """The label file of an image: the last ``images`` folder of its path becomes ``labels``."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_rows(image: Path, *, polygons: bool = True) -> np.ndarray:
    """An image's YOLO label rows as ``[N, 5]`` float64 (class, cx, cy, w, h, normalised); none without a
    label file. With ``polygons``, a segmentation line (class and x y pairs) becomes its bounding box.

    Raises:
        ValueError: a line is neither ``class cx cy w h`` nor (with ``polygons``) a polygon; the message
            names file and line.
    """
    path = label_path(image)
    rows: list[list[float]] = []
    if path.is_file():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if polygons and len(fields) > 5 and len(fields) % 2 == 1:
                xs, ys = np.array(fields[1::2], float), np.array(fields[2::2], float)
                x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
                rows.append([int(fields[0]), (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])
                continue
            if len(fields) != 5:
                shape = "'class cx cy w h' or a polygon" if polygons else "'class cx cy w h'"
                raise ValueError(f"{path}:{number}: expected {shape}, got {line!r}")
            rows.append([int(fields[0]), *map(float, fields[1:])])
    return np.array(rows, np.float64).reshape(-1, 5)


def read_labels(image: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Read an image's ground truth as ``(xyxy [N, 4] in pixels, class_id [N])``; none if no label file.

    Raises:
        ValueError: a line is not ``class cx cy w h``; the message names file and line.
    """
    rows = read_rows(image, polygons=False)
    cx, cy, w, h = (rows[:, i] for i in range(1, 5))
    xyxy = np.stack(
        [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height], 1
    )
    return xyxy.astype(np.float32).reshape(-1, 4), rows[:, 0].astype(np.int64)


def spread_evenly(items: list[T], most: int | None) -> list[T]:
    """At most ``most`` of ``items``, spread evenly over the list (all of them when ``most`` is ``None``).

    Example:
        >>> spread_evenly(list(range(10)), 3), spread_evenly([1, 2], 5)
        ([0, 4, 9], [1, 2])
    """
    if most is None or len(items) <= most:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, most).round().astype(int)]
