"""The photos behind ``sitewatch eval --alarms`` figures, to look at: each kind's false alarms and misses.

A rate says how often the engine is wrong, not why. ``--review DIR`` writes, for every kind scored, the
photos that alarmed with no labelled violation (``false_alarm``) and those with a labelled violation that
did not alarm (``missed``), drawn as a supervisor would see them (the engine's people and verdicts) with the
labelled boxes of the kind on top, and a ``review.csv`` that lists them. Its rows per kind add up to the
report's false alarms and misses.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detector.annotate import SceneAnnotator
from detector.engine import Engine, Scene
from detector.evaluation.alarms import (
    AlarmReport,
    KindSpec,
    SceneScored,
    Scored,
    run_scenes,
    score_dataset,
    scored_kinds,
    scored_people,
)
from detector.ppe import violations
from detector.training.dataset import YoloDataset
from detector.training.night import infrared_like
from detector.types import CLASS_NAME

FALSE_ALARM = "false_alarm"
MISSED = "missed"

#: Labelled boxes are drawn in these colours (BGR): the violation's class yellow, the compliant one cyan;
#: the engine's cigarettes magenta with their score, apart from the amber of its other boxes.
_VIOLATION_COLOUR = (0, 215, 255)
_COMPLIANT_COLOUR = (255, 255, 0)
_CIGARETTE_COLOUR = (255, 0, 255)
#: The cigarette model's class name, as the engine's scenes carry it.
_CIGARETTE = "cigarette"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One photo a kind got wrong: its index in the scored photos and how it was wrong."""

    kind: str
    outcome: str
    index: int


def photo_outcomes(photos: Sequence[Scored], specs: Sequence[KindSpec]) -> list[Outcome]:
    """The photos each kind of ``specs`` got wrong at the photo level, in the order of ``photos``.

    Example:
        >>> from detector.evaluation.alarms import KINDS
        >>> from detector.ppe import associate
        >>> from detector.types import make_detections
        >>> boxes = np.array([[0, 0, 50, 200], [10, 0, 40, 30]])
        >>> bare = associate(make_detections(boxes, np.array([0.9, 0.8]), np.array([0, 2]),
        ...                                  {0: "person", 2: "no_helmet"}))
        >>> from detector.types import subset
        >>> nobody = subset(bare, np.zeros(len(bare), bool))
        >>> photos = [(bare, np.zeros((0, 4)), np.array([], object)),
        ...           (nobody, np.array([[10, 0, 40, 30]]), np.array(["no_helmet"], object))]
        >>> [(o.outcome, o.index) for o in photo_outcomes(photos, KINDS[:1])]
        [('false_alarm', 0), ('missed', 1)]
    """
    out: list[Outcome] = []
    for spec in specs:
        for index, (people, _, names) in enumerate(photos):
            alarmed = any(spec.kind in violations(people, i) for i in range(len(people)))
            labelled = bool((names == spec.violation_class).any())
            if alarmed != labelled:
                out.append(Outcome(spec.kind.value, FALSE_ALARM if alarmed else MISSED, index))
    return out


def _draw_labels(canvas: np.ndarray, spec: KindSpec, xyxy: np.ndarray, names: np.ndarray) -> None:
    """Draw the labelled boxes of ``spec``'s classes (thin, with the class name) on ``canvas`` in place."""
    colours = {spec.violation_class: _VIOLATION_COLOUR}
    if spec.compliant_class:
        colours[spec.compliant_class] = _COMPLIANT_COLOUR
    for box, name in zip(xyxy, names, strict=True):
        colour = colours.get(str(name))
        if colour is None:
            continue
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 1)
        cv2.putText(canvas, f"label: {name}", (x1, max(10, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1)


def _draw_cigarettes(canvas: np.ndarray, scene: Scene) -> None:
    """Draw the scene's cigarettes on ``canvas`` in place, with their scores: what smoking came from."""
    found = scene.detections
    if not len(found) or found.confidence is None:
        return
    for box, name, score in zip(found.xyxy, found.data[CLASS_NAME], found.confidence, strict=True):
        if str(name) != _CIGARETTE:
            continue
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), _CIGARETTE_COLOUR, 2)
        cv2.putText(
            canvas,
            f"cigarette {score:.2f}",
            (x1, y2 + 12),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            _CIGARETTE_COLOUR,
            1,
        )


def write_review(
    out_dir: Path,
    *,
    paths: Sequence[Path],
    scenes: Sequence[SceneScored],
    specs: Sequence[KindSpec],
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    annotator: SceneAnnotator | None = None,
) -> list[Outcome]:
    """Write the photos ``specs`` got wrong into ``out_dir/<kind>/<outcome>/`` and list them in
    ``out_dir/review.csv`` (kind, outcome, photo, written file); return what was written.

    Args:
        out_dir: the folder to write into (created).
        paths: the photo files, in the order of ``scenes``.
        scenes: what :func:`detector.evaluation.alarms.run_scenes` returned for them: each photo's scene
            (its people are scored; its boxes, a proposed cigarette or a hard hat, are drawn too) and labels.
        specs: the kinds scored.
        transform: what the photos went through before the engine (the infrared-like transform), so the
            drawing shows what the engine saw.
        annotator: how people are drawn (the product's own labels, in Chinese by default).

    Raises:
        ValueError: ``paths`` and ``scenes`` differ in length, or a photo cannot be read.
    """
    if len(paths) != len(scenes):
        raise ValueError(f"{len(paths)} photo files for {len(scenes)} scored photos")
    annotator = annotator or SceneAnnotator()
    by_kind = {spec.kind.value: spec for spec in specs}
    outcomes = photo_outcomes(scored_people(scenes), specs)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    for outcome in outcomes:
        path = paths[outcome.index]
        image = cv2.imread(str(path))
        if image is None:
            raise ValueError(f"cannot read image {path}")
        if transform is not None:
            image = transform(image)
        scene, xyxy, names = scenes[outcome.index]
        canvas = annotator.annotate(image, scene)
        _draw_cigarettes(canvas, scene)
        _draw_labels(canvas, by_kind[outcome.kind], xyxy, names)
        target = out_dir / outcome.kind / outcome.outcome / f"{path.stem}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(target), canvas)
        rows.append([outcome.kind, outcome.outcome, str(path), str(target.relative_to(out_dir))])
    with (out_dir / "review.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["kind", "outcome", "photo", "drawn"])
        writer.writerows(rows)
    return outcomes


def review_alarms(
    engine: Engine,
    dataset: YoloDataset,
    out_dir: Path,
    *,
    night: bool = False,
    progress: bool = True,
    smoking_everywhere: bool = False,
) -> AlarmReport:
    """:func:`detector.evaluation.alarms.evaluate_alarms` that also writes what it got wrong into
    ``out_dir`` (:func:`write_review`); the same arguments, the same report.

    Raises:
        ValueError: an image cannot be read.
    """
    transform = infrared_like if night else None
    scenes = run_scenes(
        engine, dataset, transform=transform, progress=progress, smoking_everywhere=smoking_everywhere
    )
    photos = scored_people(scenes)
    specs = scored_kinds(photos, set(dataset.names.values()), smoking_everywhere=smoking_everywhere)
    write_review(out_dir, paths=list(dataset), scenes=scenes, specs=specs, transform=transform)
    return score_dataset(photos, engine, dataset, smoking_everywhere=smoking_everywhere)
