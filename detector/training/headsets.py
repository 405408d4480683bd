"""The head classifier's training set (``sitewatch data heads``): one patch per person the detector finds.

Each training photo goes through the shipped PPE model; every person it finds (not the labels' people, so
that the patches look like what the product will crop) gives one patch of its head band
(:func:`detector.head_crops.head_squares`). The patch's label comes from the hand-labelled head boxes that
the person's head band claims, by the same rule as the product's association (:func:`detector.ppe.assign`):

- ``helmet``: a hard hat;
- ``no_helmet``: a bare head, or a head in a cap or hood (as the PPE sets label them);
- ``none``: no labelled head there (a person seen from behind a wall, a false person, a head cut off).

Only ``train`` and ``valid`` splits are read; the patches are stored with a margin (``context``) so that
training can jitter the crop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detector.head_crops import crop_squares, head_squares
from detector.ppe import Bands, band_boxes, coverage
from detector.training.dataset import YoloDataset, read_labels

logger = logging.getLogger(__name__)

#: The head classifier's classes, in output order.
HEAD_CLASSES: tuple[str, ...] = ("helmet", "no_helmet", "none")
#: Patch side stored in a set, and the margin kept around the crop for jitter (the model sees the centre):
#: 150 keeps the centre at 120 px, more than the pretrained classifier's 96 px input, so training does not
#: enlarge its patches (80 px, the size before 2026-12-03, served the 64 px classifiers).
STORED_SIZE = 150
STORED_CONTEXT = 1.25

#: Finds people in a BGR photo: boxes ``[P, 4]`` in pixels.
PersonFinder = Callable[[np.ndarray], np.ndarray]


@dataclass
class HeadSet:
    """Patches and their labels.

    Attributes:
        patches: ``uint8 [N, STORED_SIZE, STORED_SIZE, 3]`` BGR, with the ``STORED_CONTEXT`` margin.
        labels: index into :data:`HEAD_CLASSES` per patch.
        sources: the photo each patch comes from (for reports and to keep photos apart).
    """

    patches: np.ndarray
    labels: np.ndarray
    sources: np.ndarray

    def counts(self) -> dict[str, int]:
        """Patches per class."""
        return {name: int((self.labels == i).sum()) for i, name in enumerate(HEAD_CLASSES)}

    def save(self, path: Path) -> None:
        """Write the set as one compressed ``.npz``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, patches=self.patches, labels=self.labels, sources=self.sources)

    @classmethod
    def load(cls, path: Path) -> HeadSet:
        """Read a set written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            return cls(patches=data["patches"], labels=data["labels"], sources=data["sources"])


def head_labels(people: np.ndarray, heads: np.ndarray, head_names: Sequence[str], bands: Bands) -> np.ndarray:
    """The class index of each person: the labelled head its band covers best, or ``none``.

    Args:
        people: person boxes ``[P, 4]``.
        heads: labelled head boxes ``[H, 4]`` (``helmet`` or ``no_helmet``).
        head_names: the class name of each head.
        bands: the head band geometry.

    Example:
        >>> labels = head_labels(np.array([[0, 0, 40, 100], [100, 0, 140, 100]]),
        ...                      np.array([[10, 0, 30, 20]]), ["no_helmet"], Bands())
        >>> [HEAD_CLASSES[i] for i in labels]
        ['no_helmet', 'none']
    """
    out = np.full(len(people), HEAD_CLASSES.index("none"), np.int64)
    if len(people) == 0 or len(heads) == 0:
        return out
    cover = coverage(
        np.asarray(heads, np.float64),
        band_boxes(np.asarray(people, np.float64), bands.head, bands.side_margin),
    )
    # Each head goes to the person whose band covers it most, as in the product's association; a person
    # then takes the class of the head it covers best.
    owner = np.where(cover.max(axis=1) >= bands.min_cover, cover.argmax(axis=1), -1)
    best = np.zeros(len(people))
    for h, p in enumerate(owner):
        if p >= 0 and cover[h, p] > best[p]:
            best[p] = cover[h, p]
            out[p] = HEAD_CLASSES.index(head_names[h])
    return out


def build_heads(
    splits: Sequence[tuple[Path, str]], find_people: PersonFinder, bands: Bands | None = None
) -> HeadSet:
    """Patches and labels from dataset splits (``(root, "train" | "val")``) with helmet labels.

    Raises:
        ValueError: a test split is asked for (the classifier is never trained on one).
    """
    bands = bands or Bands()
    patches: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    sources: list[str] = []
    for root, split in splits:
        if split == "test":
            raise ValueError(f"{root}: test splits are not read for training")
        dataset = YoloDataset.open(root, split)
        wanted = {i for i, n in dataset.names.items() if n in ("helmet", "no_helmet")}
        for image_path in tqdm(dataset.images, desc=f"heads {root.name}/{split}", unit="photo"):
            image = cv2.imread(str(image_path))
            if image is None:
                logger.warning("%s: not an image, skipped", image_path)
                continue
            people = find_people(image)
            if len(people) == 0:
                continue
            xyxy, cls = read_labels(image_path, image.shape[1], image.shape[0])
            keep = np.isin(cls, list(wanted))
            names = [dataset.names[int(c)] for c in cls[keep]]
            labels.append(head_labels(people, xyxy[keep], names, bands))
            squares = head_squares(people, bands)
            patches.append(crop_squares(image, squares, STORED_SIZE, context=STORED_CONTEXT))
            sources += [f"{root.name}/{split}/{image_path.stem}"] * len(people)
    if not patches:
        empty = np.empty((0, STORED_SIZE, STORED_SIZE, 3), np.uint8)
        return HeadSet(empty, np.empty(0, np.int64), np.empty(0, dtype=str))
    return HeadSet(np.concatenate(patches), np.concatenate(labels), np.array(sources))
