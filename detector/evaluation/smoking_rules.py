"""Choosing the smoking stage's thresholds on the valid splits: the cigarette model's ``conf`` and the
verifier's ``verify``.

The engine runs once per photo: its people, their head-and-shoulders crops, and every cigarette the model
proposes there at a low floor, each with the verifier's ``cigarette`` probability. Every rule of a grid is
then applied to those stored scores:

- on a split with labelled cigarettes (``smoking/valid``): the share of photos with a cigarette where
  someone is flagged (photo recall, as ``sitewatch eval --alarms`` counts it);
- on building-site splits where nobody is labelled smoking (``ppe/valid``, ``hhw/valid``): the share of
  checked people flagged, and of photos with a flag (false alarms).

Run it with ``sitewatch eval ../shared/datasets --smoking-rules`` (valid splits only; the chosen rule is
then scored once on the test split with ``sitewatch eval --alarms``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from detector.decode import DecodeParams
from detector.engine import Engine
from detector.training.dataset import YoloDataset, read_labels, spread_evenly

#: Per checked person of a photo, the ``(score, cigarette probability)`` of each proposal.
PhotoProposals = list[list[tuple[float, float]]]


@dataclass(frozen=True, slots=True)
class SplitProposals:
    """The proposals of one split, and whether each photo has a labelled cigarette."""

    name: str
    photos: list[PhotoProposals]
    labelled: list[bool]


def photo_proposals(engine: Engine, image: np.ndarray, floor: float) -> PhotoProposals:
    """Every proposal at ``floor`` or more of each person the engine checks in ``image``."""
    stage = engine.smoking
    assert stage is not None
    people = engine.detect([image], smoking=False)[0].people
    crops = [box for _, box in stage.crops(image.shape, people)]
    if not crops:
        return []
    found, _ = stage.propose(image, crops, DecodeParams(conf=floor, iou=0.5, max_det=10))
    out: PhotoProposals = []
    for crop, det in zip(crops, found, strict=True):
        if not len(det):
            out.append([])
            continue
        probs = stage.cigarette_probability(image, det.xyxy, np.array(crop, np.float64))
        assert det.confidence is not None
        out.append([(float(c), float(p)) for c, p in zip(det.confidence, probs, strict=True)])
    return out


def split_proposals(engine: Engine, root: Path, split: str, floor: float, most: int | None) -> SplitProposals:
    """:func:`photo_proposals` of a split's photos (at most ``most``, spread evenly).

    Raises:
        ValueError: a test split is asked for.
    """
    if split == "test":
        raise ValueError(f"{root}: thresholds are never chosen on a test split")
    dataset = YoloDataset.open(root, split)
    images = spread_evenly(dataset.images, most)
    cigarette = {i for i, n in dataset.names.items() if n == "cigarette"}
    photos, labelled = [], []
    for path in tqdm(images, desc=f"proposals {root.name}/{split}", unit="photo"):
        image = cv2.imread(str(path))
        if image is None:
            raise ValueError(f"cannot read image {path}")
        _, cls = read_labels(path, image.shape[1], image.shape[0])
        photos.append(photo_proposals(engine, image, floor))
        labelled.append(bool(np.isin(cls, list(cigarette)).any()))
    return SplitProposals(f"{root.name}/{split}", photos, labelled)


def flagged(person: Sequence[tuple[float, float]], conf: float, verify: float) -> bool:
    """Whether a person's proposals flag them under the rule.

    Example:
        >>> flagged([(0.4, 0.9), (0.7, 0.1)], 0.35, 0.5), flagged([(0.4, 0.9)], 0.45, 0.5)
        (True, False)
    """
    return any(c >= conf and p >= verify for c, p in person)


def rule_rows(
    splits: Sequence[SplitProposals], confs: Iterable[float], verifies: Iterable[float]
) -> list[dict[str, object]]:
    """One row per rule: photo recall on each labelled split, people and photos flagged on the others."""
    rows: list[dict[str, object]] = []
    for conf in confs:
        for verify in verifies:
            row: dict[str, object] = {"conf": conf, "verify": verify}
            for split in splits:
                alarms = [any(flagged(p, conf, verify) for p in photo) for photo in split.photos]
                if any(split.labelled):
                    hits = [a for a, lab in zip(alarms, split.labelled, strict=True) if lab]
                    row[f"{split.name} recall"] = round(sum(hits) / len(hits), 3)
                else:
                    people = [flagged(p, conf, verify) for photo in split.photos for p in photo]
                    row[f"{split.name} people"] = round(sum(people) / max(len(people), 1), 4)
                    row[f"{split.name} photos"] = round(sum(alarms) / max(len(alarms), 1), 4)
            rows.append(row)
    return rows
