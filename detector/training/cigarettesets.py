"""The cigarette verifier's training set (``sitewatch data cigarettes``): one patch per cigarette proposed.

Each photo of the train (or valid) splits goes through the product's smoking path up to its proposals: the
shipped PPE model's people, their head-and-shoulders crops (:func:`detector.smoking.checked_crop`) and
the cigarette model on each crop at a low threshold (``propose_conf``). Every proposal gives one patch
around it (:func:`detector.smoking.proposal_squares`: the cigarette with the mouth or fingers beside it),
labelled

- ``cigarette``: its centre lies in a labelled cigarette (``smoking/``, hand labels);
- ``other``: anything else. In ``smoking/`` a proposal away from every labelled cigarette; in ``ppe/`` and
  ``hhw/`` (building sites, where nobody is labelled smoking) every proposal: pens, fingers, cables, the
  edge of a helmet strap, the false cigarettes the detector finds on workers.

A labelled cigarette inside a person's crop that no proposal found is added as a ``cigarette`` patch too,
so that the verifier also learns the cigarettes the detector scores low. Test splits are refused. Patches
are stored with a margin (:data:`STORED_CONTEXT`) so that training can jitter the crop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detector.head_crops import crop_squares
from detector.smoking import CIGARETTE_CLASSES, SmokingParams, checked_crop, proposal_squares
from detector.training.dataset import YoloDataset, read_labels, spread_evenly
from detector.training.headsets import HeadSet

logger = logging.getLogger(__name__)

#: Patch side stored in a set, and the margin kept around the crop for jitter.
STORED_SIZE = 120
STORED_CONTEXT = 1.25

#: People of a BGR photo: boxes ``[P, 4]`` in pixels.
FindPeople = Callable[[np.ndarray], np.ndarray]
#: Cigarettes proposed in each BGR crop: per crop, boxes ``[K, 4]`` in crop pixels and scores ``[K]``.
Propose = Callable[[list[np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]


def centres_inside(boxes: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Whether each box's centre lies in any of ``regions`` (``[N]`` booleans).

    Example:
        >>> centres_inside(np.array([[0, 0, 4, 4], [10, 10, 12, 12]]), np.array([[1, 1, 3, 3]])).tolist()
        [True, False]
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    regions = np.asarray(regions, np.float64).reshape(-1, 4)
    if len(boxes) == 0 or len(regions) == 0:
        return np.zeros(len(boxes), bool)
    cx = ((boxes[:, 0] + boxes[:, 2]) / 2)[:, None]
    cy = ((boxes[:, 1] + boxes[:, 3]) / 2)[:, None]
    inside = (cx >= regions[:, 0]) & (cx <= regions[:, 2]) & (cy >= regions[:, 1]) & (cy <= regions[:, 3])
    return np.asarray(inside.any(axis=1))


def build_cigarettes(
    splits: Sequence[tuple[Path, str]],
    find_people: FindPeople,
    propose: Propose,
    *,
    params: SmokingParams | None = None,
    photos: dict[str, int] | None = None,
) -> HeadSet:
    """Proposal patches and labels from dataset splits (``(root, "train" | "val")``).

    Args:
        splits: the splits to read; a folder named ``smoking`` has hand-labelled cigarettes, the others
            are taken to show nobody smoking.
        find_people: the PPE model's people.
        propose: the cigarette model at the proposal threshold.
        params: the smoking stage's crop geometry.
        photos: per folder name, the most photos read (spread evenly over the sorted list).

    Raises:
        ValueError: a test split is asked for.
    """
    params = params or SmokingParams()
    cigarette, other = CIGARETTE_CLASSES.index("cigarette"), CIGARETTE_CLASSES.index("other")
    patches: list[np.ndarray] = []
    labels: list[int] = []
    sources: list[str] = []
    for root, split in splits:
        if split == "test":
            raise ValueError(f"{root}: test splits are not read for training")
        dataset = YoloDataset.open(root, split)
        labelled = root.name == "smoking"
        images = spread_evenly(dataset.images, (photos or {}).get(root.name))
        for image_path in tqdm(images, desc=f"cigarettes {root.name}/{split}", unit="photo"):
            image = cv2.imread(str(image_path))
            if image is None:
                logger.warning("%s: not an image, skipped", image_path)
                continue
            people = find_people(image)
            crops = [c for p in people if (c := checked_crop(p, image.shape, params)) is not None]
            if not crops:
                continue
            truth = np.empty((0, 4))
            if labelled:
                truth, _ = read_labels(image_path, image.shape[1], image.shape[0])
            proposed = propose([image[y1:y2, x1:x2] for x1, y1, x2, y2 in crops])
            squares: list[np.ndarray] = []
            for (x1, y1, x2, y2), (boxes, _) in zip(crops, proposed, strict=True):
                crop_box = np.array([x1, y1, x2, y2], np.float64)
                found = np.asarray(boxes, np.float64).reshape(-1, 4) + crop_box[[0, 1, 0, 1]]
                right = centres_inside(found, truth)
                squares.append(proposal_squares(found, crop_box))
                labels.extend(cigarette if r else other for r in right)
                # Labelled cigarettes in this crop that no proposal found.
                here = truth[centres_inside(truth, crop_box[None])]
                missed = here[~centres_inside(here, found)] if len(found) else here
                squares.append(proposal_squares(missed, crop_box))
                labels.extend([cigarette] * len(missed))
            square = np.concatenate(squares)
            if len(square):
                patches.append(crop_squares(image, square, STORED_SIZE, context=STORED_CONTEXT))
                sources += [f"{root.name}/{split}/{image_path.stem}"] * len(square)
    if not patches:
        empty = np.empty((0, STORED_SIZE, STORED_SIZE, 3), np.uint8)
        return HeadSet(empty, np.empty(0, np.int64), np.empty(0, dtype=str))
    return HeadSet(np.concatenate(patches), np.asarray(labels, np.int64), np.array(sources))
