"""The cigarette detector's training set on the smoking stage's own crops (``sitewatch data smoking-crops``).

The product never shows the cigarette model a whole frame: it runs on the head-and-shoulders crop of each
person the PPE model finds (:func:`detector.smoking.checked_crop`). This set is made of exactly those crops,
so that a fine-tune sees what the model sees at run time:

- ``smoking/`` photos (hand-labelled cigarettes): one image per person's crop, with the labelled cigarettes
  that lie mostly inside it (:data:`MIN_INSIDE` of their area), clipped to the crop; a close-up in which no
  person is found is kept whole (it is already a crop);
- ``ppe/`` and ``hhw/`` photos (building sites, nobody labelled smoking): every ``negatives_every``-th
  person's crop, as a background image (no boxes), so that the model learns the pens, straps and vest
  stripes it wrongly proposes there.

A share of the train crops (``night_share``) is made infrared-like (:func:`detector.training.night.
random_infrared`). Test splits are refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detector.smoking import SmokingParams, checked_crop
from detector.training.dataset import YoloDataset, read_labels, spread_evenly
from detector.training.night import random_infrared

logger = logging.getLogger(__name__)

#: The least share of a labelled cigarette's area inside a crop for it to be labelled there.
MIN_INSIDE = 0.4
#: Output split folder of each source split.
OUT_SPLITS = {"train": "train", "val": "valid"}

#: People of a BGR photo: boxes ``[P, 4]`` in pixels.
FindPeople = Callable[[np.ndarray], np.ndarray]


@dataclass
class CropCounts:
    """Images written per ``split source`` and whether they hold a cigarette."""

    images: dict[str, int] = field(default_factory=dict)

    def add(self, key: str) -> None:
        """Count one image under ``key``."""
        self.images[key] = self.images.get(key, 0) + 1


def crop_rows(
    truth: np.ndarray, crop: tuple[int, int, int, int], min_inside: float = MIN_INSIDE
) -> np.ndarray:
    """YOLO rows ``[K, 5]`` (class 0, centre x, centre y, width, height, normalised to the crop) of the
    boxes ``truth`` ``[N, 4]`` (frame pixels) that lie at least ``min_inside`` of their area inside
    ``crop``, clipped to it.

    Example:
        >>> truth = np.array([[10.0, 10.0, 30.0, 20.0], [90.0, 0.0, 130.0, 10.0]])
        >>> crop_rows(truth, (0, 0, 100, 100)).round(3).tolist()
        [[0.0, 0.2, 0.15, 0.2, 0.1]]
    """
    truth = np.asarray(truth, np.float64).reshape(-1, 4)
    x1, y1, x2, y2 = (float(v) for v in crop)
    cw, ch = x2 - x1, y2 - y1
    clipped = np.clip(truth, [x1, y1, x1, y1], [x2, y2, x2, y2])
    area = (truth[:, 2] - truth[:, 0]) * (truth[:, 3] - truth[:, 1])
    inside = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    kept = clipped[(area > 0) & (inside >= min_inside * area)]
    return np.stack(
        [
            np.zeros(len(kept)),
            ((kept[:, 0] + kept[:, 2]) / 2 - x1) / cw,
            ((kept[:, 1] + kept[:, 3]) / 2 - y1) / ch,
            (kept[:, 2] - kept[:, 0]) / cw,
            (kept[:, 3] - kept[:, 1]) / ch,
        ],
        axis=1,
    )


def _write(out: Path, stem: str, image: np.ndarray, rows: np.ndarray) -> None:
    cv2.imwrite(str(out / "images" / f"{stem}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    text = "".join(f"0 {r[1]:.6f} {r[2]:.6f} {r[3]:.6f} {r[4]:.6f}\n" for r in rows)
    (out / "labels" / f"{stem}.txt").write_text(text)


def build_smoking_crops(
    splits: Sequence[tuple[Path, str]],
    find_people: FindPeople,
    out: Path,
    *,
    params: SmokingParams | None = None,
    photos: dict[str, int] | None = None,
    negatives_every: int = 3,
    night_share: float = 0.25,
    seed: int = 0,
) -> CropCounts:
    """Write the crops of ``splits`` (``(root, "train" | "val")``) as a one-class YOLO set in ``out``.

    Args:
        splits: the splits to read; a folder named ``smoking`` has hand-labelled cigarettes, the others
            are taken to show nobody smoking.
        find_people: the PPE model's people.
        out: the folder to write (``data.yaml``, ``train/``, ``valid/``).
        params: the smoking stage's crop geometry.
        photos: per folder name, the most photos read (spread evenly over the sorted list).
        negatives_every: of the people on building-site photos, every n-th one's crop is kept.
        night_share: share of train crops made infrared-like.
        seed: the random seed of the infrared-like choice and transform.

    Raises:
        ValueError: a test split is asked for.
    """
    params = params or SmokingParams()
    rng = np.random.default_rng(seed)
    counts = CropCounts()
    negatives = 0
    for root, split in splits:
        if split not in OUT_SPLITS:
            raise ValueError(f"{root}: only train and val splits are read for training, not {split!r}")
        target = out / OUT_SPLITS[split]
        (target / "images").mkdir(parents=True, exist_ok=True)
        (target / "labels").mkdir(parents=True, exist_ok=True)
        labelled = root.name == "smoking"
        dataset = YoloDataset.open(root, split)
        for path in tqdm(
            spread_evenly(dataset.images, (photos or {}).get(root.name)), desc=f"crops {root.name}/{split}"
        ):
            image = cv2.imread(str(path))
            if image is None:
                logger.warning("%s: not an image, skipped", path)
                continue
            height, width = image.shape[:2]
            crops = [c for p in find_people(image) if (c := checked_crop(p, image.shape, params)) is not None]
            truth = read_labels(path, width, height)[0] if labelled else np.empty((0, 4))
            if labelled and not crops:
                crops = [(0, 0, width, height)]  # a close-up nobody was found in is its own crop
            for k, crop in enumerate(crops):
                if not labelled:
                    negatives += 1
                    if negatives % negatives_every:
                        continue
                x1, y1, x2, y2 = crop
                patch = image[y1:y2, x1:x2]
                if split == "train" and rng.random() < night_share:
                    patch = random_infrared(patch, rng)
                rows = crop_rows(truth, crop)
                _write(target, f"{root.name}-{path.stem}-{k}", patch, rows)
                counts.add(f"{OUT_SPLITS[split]} {root.name} {'cigarette' if len(rows) else 'none'}")
    (out / "data.yaml").write_text(
        "path: .\ntrain: train/images\nval: valid/images\nnames:\n  0: cigarette\n"
    )
    return counts
