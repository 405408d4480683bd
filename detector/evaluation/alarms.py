"""Alarm-level evaluation (``sitewatch eval --alarms``): what a supervisor would see, not mAP.

The engine runs at the configured operating point and makes the same person-level decisions as a camera
worker (:func:`detector.ppe.associate`, the smoking stage). Its flagged people are scored against a YOLO
dataset's labels in two ways:

- **per photo**: "this photo has a person without a helmet" (and the same for vests and smoking) against
  "a ``no_helmet`` (``no_vest``, cigarette) box is labelled in it": precision, recall and the false-alarm
  rate (the share of photos without a labelled violation that alarm).
- **per person**: a labelled bare head is *found* when it lies in the head band of a person flagged
  ``no_helmet`` (or is the box of an inferred bare-head person); a flagged person is *right* when a
  labelled bare head lies in their band; a labelled hard hat lying in the band of a flagged person is a
  compliant worker flagged. Vests likewise with the torso band and ``vest`` / ``no_vest`` boxes.

A kind is scored on a dataset only where the dataset labels it: a set that labels neither ``vest`` nor
``no_vest`` (Hard Hat Workers) is not scored for vests, and cigarettes only where the set names them;
with ``smoking_everywhere`` a set that names no cigarette is taken to show nobody smoking (building-site
photos), and its photos that alarm for smoking are false alarms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import supervision as sv
from tqdm import tqdm

from detector.engine import Engine, Scene
from detector.ppe import Bands, coverage, people_bands, violations
from detector.training.dataset import YoloDataset, read_labels
from detector.training.night import infrared_like
from detector.types import Violation


@dataclass(frozen=True, slots=True)
class KindSpec:
    """How one violation kind maps onto labels and people.

    Attributes:
        kind: the violation (a person is flagged when :func:`detector.ppe.violations` names it).
        violation_class: the labelled class that means "violation here" (``no_helmet``).
        compliant_class: the labelled class that means "compliant here" (``helmet``), if any.
        band: which band of a person holds it (``head``, ``torso``), or None for photo-level only.
    """

    kind: Violation
    violation_class: str
    compliant_class: str | None
    band: str | None


KINDS = (
    KindSpec(Violation.NO_HELMET, "no_helmet", "helmet", "head"),
    KindSpec(Violation.NO_VEST, "no_vest", "vest", "torso"),
    KindSpec(Violation.SMOKING, "cigarette", None, None),
)


@dataclass(slots=True)
class KindCounts:
    """Running counts of one kind over a dataset."""

    photos: int = 0
    photos_with: int = 0
    photo_tp: int = 0
    photo_fp: int = 0
    photo_fn: int = 0
    labelled: int = 0
    labelled_found: int = 0
    flagged: int = 0
    flagged_right: int = 0
    compliant: int = 0
    compliant_flagged: int = 0

    def summary(self) -> dict[str, Any]:
        """Rates (None where undefined) and the counts behind them."""
        without = self.photos - self.photos_with
        return {
            "photos": self.photos,
            "photos_with_violation": self.photos_with,
            "photo_precision": _ratio(self.photo_tp, self.photo_tp + self.photo_fp),
            "photo_recall": _ratio(self.photo_tp, self.photo_tp + self.photo_fn),
            "photo_false_alarm_rate": _ratio(self.photo_fp, without),
            "labelled": self.labelled,
            "person_recall": _ratio(self.labelled_found, self.labelled),
            "flagged": self.flagged,
            "person_precision": _ratio(self.flagged_right, self.flagged),
            "compliant": self.compliant,
            "compliant_flagged_rate": _ratio(self.compliant_flagged, self.compliant),
        }


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


@dataclass(slots=True)
class AlarmReport:
    """Alarm-level figures per violation kind scored on a dataset."""

    dataset: str
    conf: float
    kinds: dict[str, KindCounts] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: dataset, operating point and each kind's summary."""
        return {
            "dataset": self.dataset,
            "conf": self.conf,
            "kinds": {k: c.summary() for k, c in self.kinds.items()},
        }


def score_image(
    counts: KindCounts,
    spec: KindSpec,
    people: sv.Detections,
    truth_xyxy: np.ndarray,
    truth_names: np.ndarray,
    bands: Bands,
) -> None:
    """Add one image's decisions for ``spec`` to ``counts``.

    Args:
        counts: the kind's running counts.
        spec: the kind.
        people: the engine's people for the image (with attribute data).
        truth_xyxy: labelled boxes ``[N, 4]`` in pixels.
        truth_names: their class names ``[N]``.
        bands: the band geometry the engine used.

    Example:
        >>> from detector.ppe import associate
        >>> from detector.types import make_detections
        >>> det = make_detections(np.array([[0, 0, 50, 200], [10, 0, 40, 30]]), np.array([0.9, 0.8]),
        ...                       np.array([0, 2]), {0: "person", 2: "no_helmet"})
        >>> c = KindCounts()
        >>> score_image(c, KINDS[0], associate(det), np.array([[12, 2, 38, 28]]), np.array(["no_helmet"]),
        ...             Bands())
        >>> (c.photo_tp, c.labelled_found, c.flagged_right)
        (1, 1, 1)
    """
    flagged = np.array([spec.kind in violations(people, i) for i in range(len(people))], bool)
    has_violation = bool((truth_names == spec.violation_class).any())
    alarmed = bool(flagged.any())
    counts.photos += 1
    counts.photos_with += has_violation
    counts.photo_tp += has_violation and alarmed
    counts.photo_fp += alarmed and not has_violation
    counts.photo_fn += has_violation and not alarmed
    if spec.band is None:
        return
    violating = truth_xyxy[truth_names == spec.violation_class]
    compliant = truth_xyxy[truth_names == spec.compliant_class]
    span = bands.head if spec.band == "head" else bands.torso
    regions = people_bands(people, span, bands.side_margin)[flagged]
    counts.labelled += len(violating)
    counts.flagged += int(flagged.sum())
    counts.compliant += len(compliant)
    if len(regions) == 0:
        return
    if len(violating):
        cover = coverage(violating, regions) >= bands.min_cover  # [labelled, flagged]
        counts.labelled_found += int(cover.any(axis=1).sum())
        counts.flagged_right += int(cover.any(axis=0).sum())
    if len(compliant):
        counts.compliant_flagged += int((coverage(compliant, regions) >= bands.min_cover).any(axis=1).sum())


#: One photo as scored: the engine's people and the labelled boxes with their class names.
Scored = tuple[sv.Detections, np.ndarray, np.ndarray]
#: The same with the engine's whole scene of the photo instead of its people alone (for drawing).
SceneScored = tuple[Scene, np.ndarray, np.ndarray]


def run_photos(
    engine: Engine,
    dataset: YoloDataset,
    *,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    progress: bool = True,
    smoking_everywhere: bool = False,
) -> list[Scored]:
    """Run ``engine`` over every photo of ``dataset`` (through ``transform`` first, when given).

    Raises:
        ValueError: an image cannot be read.
    """
    scenes = run_scenes(
        engine, dataset, transform=transform, progress=progress, smoking_everywhere=smoking_everywhere
    )
    return scored_people(scenes)


def scored_people(scenes: Sequence[SceneScored]) -> list[Scored]:
    """The photos of :func:`run_scenes` as :func:`run_photos` gives them: each scene's people alone."""
    return [(scene.people, xyxy, names) for scene, xyxy, names in scenes]


def run_scenes(
    engine: Engine,
    dataset: YoloDataset,
    *,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    progress: bool = True,
    smoking_everywhere: bool = False,
) -> list[SceneScored]:
    """:func:`run_photos` with the engine's whole scene of each photo (the cigarettes and PPE boxes too,
    for drawing), in the order of ``dataset``.

    Raises:
        ValueError: an image cannot be read.
    """
    # The cigarette check costs a model run per person; it is run only where cigarettes are labelled,
    # unless its false alarms elsewhere are asked for.
    labelled = "cigarette" in set(dataset.names.values())
    smoking = engine.smoking is not None and (labelled or smoking_everywhere)
    out: list[SceneScored] = []
    for path in tqdm(dataset, desc=f"alarms {dataset.root.name}", unit="img", disable=not progress):
        image = cv2.imread(str(path))
        if image is None:
            raise ValueError(f"cannot read image {path}")
        xyxy, cls = read_labels(path, image.shape[1], image.shape[0])
        labelled_names = np.array([dataset.names.get(int(c), "") for c in cls], dtype=object)
        if transform is not None:
            image = transform(image)
        out.append((engine.detect([image], smoking=smoking)[0], xyxy, labelled_names))
    return out


def score_photos(
    photos: list[Scored],
    names: set[str],
    bands: Bands,
    *,
    dataset: str,
    conf: float,
    smoking_everywhere: bool = False,
) -> AlarmReport:
    """Score the people of :func:`run_photos` against the labels, for each kind the dataset labels
    (``names``: the dataset's class names), and smoking everywhere with ``smoking_everywhere``."""
    report = AlarmReport(dataset=dataset, conf=conf)
    for spec in scored_kinds(photos, names, smoking_everywhere=smoking_everywhere):
        counts = report.kinds.setdefault(spec.kind.value, KindCounts())
        for people, xyxy, labelled_names in photos:
            score_image(counts, spec, people, xyxy, labelled_names, bands)
    return report


def scored_kinds(
    photos: list[Scored], names: set[str], *, smoking_everywhere: bool = False
) -> list[KindSpec]:
    """The kinds a dataset is scored for: those whose violation class it names (``names``) and labels,
    violation or compliant, somewhere in ``photos``; smoking too with ``smoking_everywhere``."""
    present = {str(n) for _, _, ns in photos for n in ns}
    out = []
    for spec in KINDS:
        labelled_here = spec.violation_class in names and (
            spec.violation_class in present or (spec.compliant_class or "") in present
        )
        labelled_here |= smoking_everywhere and spec.kind is Violation.SMOKING
        if labelled_here:
            out.append(spec)
    return out


def evaluate_alarms(
    engine: Engine,
    dataset: YoloDataset,
    *,
    night: bool = False,
    progress: bool = True,
    smoking_everywhere: bool = False,
) -> AlarmReport:
    """Run ``engine`` over ``dataset`` and score its alarms (see the module's docstring).

    Args:
        engine: the engine at the operating point to score (its PPE decode settings and bands).
        dataset: a YOLO split with class names (``no_helmet``, ``vest``, ``cigarette``...).
        night: score every photo through the fixed infrared-like transform
            (:func:`detector.training.night.infrared_like`) instead of as it is.
        progress: show a progress bar.
        smoking_everywhere: check everyone for smoking on a set that labels no cigarettes too, and count
            its smoking alarms as false ones.

    Raises:
        ValueError: an image cannot be read.
    """
    photos = run_photos(
        engine,
        dataset,
        transform=infrared_like if night else None,
        progress=progress,
        smoking_everywhere=smoking_everywhere,
    )
    return score_dataset(photos, engine, dataset, smoking_everywhere=smoking_everywhere)


def score_dataset(
    photos: list[Scored], engine: Engine, dataset: YoloDataset, *, smoking_everywhere: bool = False
) -> AlarmReport:
    """:func:`score_photos` with the dataset's class names and the engine's bands and operating point."""
    return score_photos(
        photos,
        set(dataset.names.values()),
        engine.settings.bands,
        dataset=str(dataset.root),
        conf=engine.settings.ppe.conf,
        smoking_everywhere=smoking_everywhere,
    )
