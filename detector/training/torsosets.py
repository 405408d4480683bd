"""The torso classifier's training set (``sitewatch data vests``): one patch per person the detector finds.

Each photo of the train (or valid) splits goes through the shipped PPE model; every person it finds gives
one patch of its torso (:func:`detector.vests.torso_squares`, the crop the product takes). The label is
the vest box the person's torso band claims (the product's association rule):

- ``ppe/``: its hand-labelled ``vest`` / ``no_vest`` boxes; a person whose band claims neither is ``none``
  (torso hidden, cut off, or a false person);
- ``hhw/`` (which labels heads only, though its ``data.yaml`` names vests): the PPE model's own ``vest``
  / ``no_vest`` boxes at confidence ``teacher_conf`` (the teacher); a person the teacher leaves undecided
  is left out, not called ``none``.

Test splits are refused. Patches are stored with a margin (:data:`STORED_CONTEXT`) so that training can
jitter the crop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import cv2
import numpy as np
import supervision as sv
from tqdm import tqdm

from detector.head_crops import crop_squares
from detector.ppe import Bands, band_boxes, coverage
from detector.training.dataset import YoloDataset, read_labels, spread_evenly
from detector.training.headsets import HeadSet
from detector.types import CLASS_NAME, PERSON
from detector.vests import VEST_CLASSES, torso_squares

logger = logging.getLogger(__name__)

#: Patch side stored in a set, and the margin kept around the crop for jitter.
STORED_SIZE = 120
STORED_CONTEXT = 1.25

#: Runs the PPE model on a BGR photo.
Detect = Callable[[np.ndarray], sv.Detections]


def band_labels(
    people: np.ndarray,
    items: np.ndarray,
    item_names: Sequence[str],
    band: tuple[float, float],
    bands: Bands,
    classes: Sequence[str],
    empty: int,
) -> np.ndarray:
    """The class index of each person: the item its band covers best (each item going to the person
    whose band covers it most, as in the association), or ``empty``.

    Example:
        >>> band_labels(np.array([[0, 0, 40, 100], [100, 0, 140, 100]]), np.array([[5, 20, 35, 60]]),
        ...             ["vest"], Bands().torso, Bands(), VEST_CLASSES, 2).tolist()
        [0, 2]
    """
    out = np.full(len(people), empty, np.int64)
    if len(people) == 0 or len(items) == 0:
        return out
    regions = band_boxes(np.asarray(people, np.float64), band, bands.side_margin)
    cover = coverage(np.asarray(items, np.float64), regions)
    owner = np.where(cover.max(axis=1) >= bands.min_cover, cover.argmax(axis=1), -1)
    best = np.zeros(len(people))
    for i, p in enumerate(owner):
        if p >= 0 and cover[i, p] > best[p]:
            best[p] = cover[i, p]
            out[p] = list(classes).index(item_names[i])
    return out


def build_torsos(
    splits: Sequence[tuple[Path, str]],
    detect: Detect,
    *,
    bands: Bands | None = None,
    teacher_conf: float = 0.5,
    teacher: Collection[str] = ("hhw",),
    teacher_photos: int | None = None,
) -> HeadSet:
    """Torso patches and labels from dataset splits (``(root, "train" | "val")``).

    A dataset whose folder is named in ``teacher`` is labelled by the teacher (see the module), from at
    most ``teacher_photos`` of its photos, spread evenly over the sorted list (the CPU's time goes to the
    hand-labelled photos first).

    Raises:
        ValueError: a test split is asked for.
    """
    bands = bands or Bands()
    none = VEST_CLASSES.index("none")
    patches: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    sources: list[str] = []
    for root, split in splits:
        if split == "test":
            raise ValueError(f"{root}: test splits are not read for training")
        dataset = YoloDataset.open(root, split)
        by_hand = root.name not in teacher
        images = dataset.images if by_hand else spread_evenly(dataset.images, teacher_photos)
        for image_path in tqdm(images, desc=f"torsos {root.name}/{split}", unit="photo"):
            image = cv2.imread(str(image_path))
            if image is None:
                logger.warning("%s: not an image, skipped", image_path)
                continue
            found = detect(image)
            names = np.asarray(found.data[CLASS_NAME])
            people = np.asarray(found.xyxy[names == PERSON], np.float64)
            if len(people) == 0:
                continue
            if by_hand:
                xyxy, cls = read_labels(image_path, image.shape[1], image.shape[0])
                item_names = np.array([dataset.names[int(c)] for c in cls], dtype=object)
                keep = np.isin(item_names, ("vest", "no_vest"))
                label = band_labels(
                    people, xyxy[keep], list(item_names[keep]), bands.torso, bands, VEST_CLASSES, none
                )
            else:
                assert found.confidence is not None
                keep = np.isin(names, ("vest", "no_vest")) & (found.confidence >= teacher_conf)
                label = band_labels(
                    people, found.xyxy[keep], list(names[keep]), bands.torso, bands, VEST_CLASSES, -1
                )
            use = label >= 0
            if not use.any():
                continue
            squares = torso_squares(people[use], bands)
            patches.append(crop_squares(image, squares, STORED_SIZE, context=STORED_CONTEXT))
            labels.append(label[use])
            sources += [f"{root.name}/{split}/{image_path.stem}"] * int(use.sum())
    if not patches:
        empty = np.empty((0, STORED_SIZE, STORED_SIZE, 3), np.uint8)
        return HeadSet(empty, np.empty(0, np.int64), np.empty(0, dtype=str))
    return HeadSet(np.concatenate(patches), np.concatenate(labels), np.array(sources))
