"""From PPE boxes to people: which helmet or bare head, which vest or bare torso, belongs to whom.

The PPE model finds ``person``, ``helmet``, ``no_helmet``, ``vest`` and ``no_vest`` boxes independently.
A helmet box counts for a person when most of it lies in the person's *head band* (the top of the box,
reaching a little above it, since a helmet often sticks out of a tight person box); a vest box counts in
the *torso band*. Each item goes to the one person whose band covers it best. A bare head or bare torso
that no person box claims is still a violation: it becomes an inferred person of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import supervision as sv

from detector.types import CLASS_NAME, HELMET, INFERRED, PERSON, SMOKING, VEST, Attr, Violation, subset


@dataclass(frozen=True, slots=True)
class Bands:
    """Vertical bands of a person box, as fractions of its height from its top edge.

    Attributes:
        head: (top, bottom) of the head band; a negative top reaches above the box.
        torso: (top, bottom) of the torso band.
        side_margin: widening of both bands on each side, as a fraction of the box width.
        min_cover: smallest fraction of an item's area that must lie in a band to count.
    """

    head: tuple[float, float] = (-0.15, 0.35)
    torso: tuple[float, float] = (0.1, 0.75)
    side_margin: float = 0.1
    min_cover: float = 0.5


#: The item classes of each attribute: (positive, negative).
ATTRIBUTE_CLASSES: dict[str, tuple[str, str]] = {HELMET: ("helmet", "no_helmet"), VEST: ("vest", "no_vest")}


def band_boxes(people: np.ndarray, band: tuple[float, float], side_margin: float) -> np.ndarray:
    """The band ``(top, bottom)`` of each person box ``[P, 4]`` as boxes ``[P, 4]``.

    Example:
        >>> band_boxes(np.array([[0.0, 0.0, 10.0, 100.0]]), (0.0, 0.3), 0.0).tolist()
        [[0.0, 0.0, 10.0, 30.0]]
    """
    w = people[:, 2] - people[:, 0]
    h = people[:, 3] - people[:, 1]
    return np.stack(
        [
            people[:, 0] - side_margin * w,
            people[:, 1] + band[0] * h,
            people[:, 2] + side_margin * w,
            people[:, 1] + band[1] * h,
        ],
        axis=1,
    )


def people_bands(people: sv.Detections, band: tuple[float, float], side_margin: float) -> np.ndarray:
    """Each person's band (:func:`band_boxes`) ``[P, 4]``; an inferred person's box is the bare head or
    torso itself, so it stands for its band.

    Example:
        >>> from detector.types import make_detections
        >>> det = make_detections(np.array([[0, 0, 50, 200], [100, 0, 130, 30]]), np.array([0.9, 0.8]),
        ...                       np.array([0, 2]), {0: "person", 2: "no_helmet"})
        >>> people_bands(associate(det), (0.0, 0.5), 0.0).tolist()  # a person, and a bare head on nobody
        [[0.0, 0.0, 50.0, 100.0], [100.0, 0.0, 130.0, 30.0]]
    """
    regions = band_boxes(people.xyxy, band, side_margin)
    inferred = np.asarray(people.data.get(INFERRED, np.zeros(len(people), bool)), bool)
    regions[inferred] = people.xyxy[inferred]
    return regions


def coverage(items: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Fraction of each item's area ``[M, 4]`` inside each region ``[P, 4]``, as ``[M, P]``."""
    lt = np.maximum(items[:, None, :2], regions[None, :, :2])
    rb = np.minimum(items[:, None, 2:], regions[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area = np.clip(items[:, 2:] - items[:, :2], 1e-6, None).prod(axis=1)
    return np.asarray(inter / area[:, None], dtype=np.float64)


def assign(items: np.ndarray, regions: np.ndarray, min_cover: float) -> np.ndarray:
    """Give each item to the region that covers it most (at least ``min_cover``), or ``-1``.

    Example:
        >>> assign(np.array([[0, 0, 2, 2], [50, 50, 52, 52]]), np.array([[0, 0, 10, 10]]), 0.5).tolist()
        [0, -1]
    """
    if len(items) == 0 or len(regions) == 0:
        return np.full(len(items), -1, dtype=np.int64)
    cover = coverage(items, regions)
    best = cover.argmax(axis=1)
    return np.where(cover[np.arange(len(items)), best] >= min_cover, best, -1).astype(np.int64)


def _attribute(
    people_xyxy: np.ndarray, items: sv.Detections, classes: tuple[str, str], band: np.ndarray, bands: Bands
) -> tuple[np.ndarray, np.ndarray]:
    """Resolve one attribute per person; return it and a mask of negative items no person claimed."""
    names = items.data[CLASS_NAME]
    relevant = np.isin(names, classes)
    owner = np.full(len(items), -1, dtype=np.int64)
    owner[relevant] = assign(items.xyxy[relevant], band, bands.min_cover)
    values = np.full(len(people_xyxy), Attr.UNKNOWN.value, dtype=object)
    best_score = np.zeros(len(people_xyxy))
    assert items.confidence is not None
    # The most confident item a person owns decides (a helmet and a bare head on one person: trust the
    # stronger box).
    for i in np.flatnonzero(owner >= 0):
        p = owner[i]
        if items.confidence[i] > best_score[p]:
            best_score[p] = items.confidence[i]
            values[p] = Attr.YES.value if names[i] == classes[0] else Attr.NO.value
    orphans = relevant & (owner < 0) & (names == classes[1])
    return values, orphans


def associate(detections: sv.Detections, bands: Bands | None = None) -> sv.Detections:
    """Turn PPE detections into people with ``helmet`` and ``vest`` attributes.

    Args:
        detections: output of the PPE model for one frame (with ``class_name`` data).
        bands: geometry of the head and torso bands.

    Returns:
        One row per person, as ``Detections`` with data ``helmet`` and ``vest`` (``yes``/``no``/
        ``unknown``), ``smoking`` (``no`` until the smoking stage says otherwise) and ``inferred``
        (``True`` for a bare head or torso that no person box claimed; its box is that head or torso).

    Example:
        >>> from detector.types import make_detections
        >>> det = make_detections(np.array([[0, 0, 50, 200], [10, 0, 40, 30]]), np.array([0.9, 0.8]),
        ...                       np.array([0, 2]), {0: "person", 2: "no_helmet"})
        >>> associate(det).data["helmet"].tolist()
        ['no']
    """
    bands = bands or Bands()
    names = detections.data.get(CLASS_NAME, np.empty(0, dtype=object))
    people = subset(detections, names == PERSON)
    items = subset(detections, names != PERSON)
    head = band_boxes(people.xyxy, bands.head, bands.side_margin)
    torso = band_boxes(people.xyxy, bands.torso, bands.side_margin)
    helmet, lone_heads = _attribute(people.xyxy, items, ATTRIBUTE_CLASSES[HELMET], head, bands)
    vest, lone_torsos = _attribute(people.xyxy, items, ATTRIBUTE_CLASSES[VEST], torso, bands)

    people.data = {
        CLASS_NAME: np.full(len(people), PERSON, dtype=object),
        HELMET: helmet,
        VEST: vest,
        SMOKING: np.full(len(people), Attr.NO.value, dtype=object),
        INFERRED: np.zeros(len(people), dtype=bool),
    }
    lone = subset(items, lone_heads | lone_torsos)
    lone_names = lone.data[CLASS_NAME]
    lone.data = {
        CLASS_NAME: np.full(len(lone), PERSON, dtype=object),
        HELMET: np.where(lone_names == "no_helmet", Attr.NO.value, Attr.UNKNOWN.value).astype(object),
        VEST: np.where(lone_names == "no_vest", Attr.NO.value, Attr.UNKNOWN.value).astype(object),
        SMOKING: np.full(len(lone), Attr.NO.value, dtype=object),
        INFERRED: np.ones(len(lone), dtype=bool),
    }
    lone.class_id = np.zeros(len(lone), dtype=np.int64)
    return sv.Detections.merge([people, lone]) if len(lone) else people


def violations(people: sv.Detections, index: int) -> list[Violation]:
    """The violations of person ``index``: a ``no`` helmet or vest, or ``yes`` smoking.

    Example:
        >>> from detector.types import make_detections
        >>> box = np.array([[10, 0, 40, 30]])
        >>> det = make_detections(box, np.array([0.8]), np.array([2]), {2: "no_helmet"})
        >>> violations(associate(det), 0)
        [<Violation.NO_HELMET: 'no_helmet'>]
    """
    found = []
    if people.data[HELMET][index] == Attr.NO.value:
        found.append(Violation.NO_HELMET)
    if people.data[VEST][index] == Attr.NO.value:
        found.append(Violation.NO_VEST)
    if people.data[SMOKING][index] == Attr.YES.value:
        found.append(Violation.SMOKING)
    return found
