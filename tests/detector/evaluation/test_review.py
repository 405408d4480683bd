"""``sitewatch eval --alarms --review``: the photos behind the figures, drawn and listed."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv

from detector.engine import Scene
from detector.evaluation.alarms import KINDS, SceneScored, Scored
from detector.evaluation.review import FALSE_ALARM, MISSED, photo_outcomes, write_review
from detector.ppe import associate
from detector.types import make_detections, subset

NAMES = {0: "person", 1: "helmet", 2: "no_helmet"}
HEAD = np.array([10.0, 0.0, 40.0, 30.0])
EVAL = [sys.executable, "-m", "sitewatch.cli", "eval", "tests/data/ppe"]


def _people(head_class: int | None) -> sv.Detections:
    """One person whose head box is ``head_class`` (1 helmet, 2 no_helmet), or nobody (None)."""
    if head_class is None:
        found = associate(make_detections(np.array([[0, 0, 50, 200]]), np.array([0.9]), np.array([0]), NAMES))
        return subset(found, np.zeros(len(found), bool))
    boxes = np.array([[0, 0, 50, 200], HEAD])
    return associate(make_detections(boxes, np.array([0.9, 0.8]), np.array([0, head_class]), NAMES))


def _scene(people: sv.Detections) -> Scene:
    """A scene holding only ``people`` (they carry their class name, so they are its boxes too)."""
    return Scene(detections=people, people=people, timings_ms={})


@pytest.mark.parametrize(
    ("head", "label", "expected"),
    [
        (2, None, FALSE_ALARM),  # flagged, nothing labelled
        (2, "no_helmet", None),  # flagged and labelled: right
        (None, "no_helmet", MISSED),  # labelled, nobody found
        (1, "no_helmet", MISSED),  # labelled, the person read as wearing a hard hat
        (1, "helmet", None),  # compliant and quiet
        (None, None, None),  # empty and quiet
    ],
)
def test_each_photo_is_right_a_false_alarm_or_missed(
    head: int | None, label: str | None, expected: str | None
) -> None:
    names = np.array([] if label is None else [label], dtype=object)
    xyxy = np.zeros((0, 4)) if label is None else HEAD[None]
    photos: list[Scored] = [(_people(head), xyxy, names)]
    assert [o.outcome for o in photo_outcomes(photos, KINDS[:1])] == ([] if expected is None else [expected])


def test_the_drawn_photos_are_written_and_listed(tmp_path: Path) -> None:
    paths = []
    for name in ("a", "b", "c"):
        path = tmp_path / "photos" / f"{name}.jpg"
        path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(path), np.full((240, 160, 3), 128, np.uint8))
        paths.append(path)
    no_label = (np.zeros((0, 4)), np.array([], dtype=object))
    bare_label = (HEAD[None], np.array(["no_helmet"], dtype=object))
    scenes: list[SceneScored] = [
        (_scene(_people(2)), *no_label),
        (_scene(_people(2)), *bare_label),
        (_scene(_people(None)), *bare_label),
    ]

    out = tmp_path / "review"
    outcomes = write_review(out, paths=paths, scenes=scenes, specs=KINDS[:1])

    with (out / "review.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["outcome"], Path(r["photo"]).name) for r in rows] == [
        (FALSE_ALARM, "a.jpg"),
        (MISSED, "c.jpg"),
    ]
    assert len(outcomes) == 2
    for row in rows:
        drawn = cv2.imread(str(out / row["drawn"]))
        assert drawn is not None and drawn.shape == (240, 160, 3)
    # The miss shows its labelled bare head: a yellow (BGR: little blue, much red) edge on the grey photo.
    drawn_miss = cv2.imread(str(out / "no_helmet" / MISSED / "c.jpg"))
    assert drawn_miss is not None
    missed = drawn_miss.astype(int)
    edge, elsewhere = missed[5:25, 10], missed[100:120, 100]
    assert (edge[:, 2] - edge[:, 0]).mean() > 50
    assert np.abs(elsewhere[:, 2] - elsewhere[:, 0]).mean() < 10
    with pytest.raises(ValueError, match="3 photo files for 2"):
        write_review(out, paths=paths, scenes=scenes[:2], specs=KINDS[:1])


@pytest.mark.slow
def test_the_command_lists_as_many_photos_as_its_figures_count(tmp_path: Path) -> None:
    """On the fixture set with the shipped models, at a threshold high enough to miss people."""
    out = tmp_path / "review"
    done = subprocess.run(
        [*EVAL, "--alarms", "--conf", "0.6", "--review", str(out), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    with (out / "review.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    wrong = 0
    for kind, figures in report["kinds"].items():
        photos_without = figures["photos"] - figures["photos_with_violation"]
        false_alarms = round(figures["photo_false_alarm_rate"] * photos_without) if photos_without else 0
        missed = round((1 - figures["photo_recall"]) * figures["photos_with_violation"])
        listed = [r for r in rows if r["kind"] == kind]
        assert sum(r["outcome"] == FALSE_ALARM for r in listed) == false_alarms
        assert sum(r["outcome"] == MISSED for r in listed) == missed
        wrong += false_alarms + missed
    assert wrong > 0, "the fixture should give the command something to draw at conf 0.6"
    assert all((out / r["drawn"]).is_file() for r in rows)


def test_review_without_alarms_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [*EVAL, "--review", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "--alarms" in done.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("with_cigarette", [True, False])
def test_the_boxes_behind_a_verdict_are_drawn(tmp_path: Path, with_cigarette: bool) -> None:
    """A smoking false alarm is looked into by where the cigarette was proposed: the scene's own boxes."""
    path = tmp_path / "a.jpg"
    cv2.imwrite(str(path), np.full((240, 160, 3), 128, np.uint8))
    people = _people(2)
    found = np.array([[0, 0, 50, 200], HEAD, [100, 150, 140, 170]])  # a person, a bare head, a cigarette
    boxes = make_detections(found, np.array([0.9, 0.8, 0.7]), np.array([0, 2, 3]), {**NAMES, 3: "cigarette"})
    scene = Scene(detections=boxes, people=people, timings_ms={}) if with_cigarette else _scene(people)
    out = tmp_path / "review"
    no_label = (np.zeros((0, 4)), np.array([], dtype=object))
    write_review(out, paths=[path], scenes=[(scene, *no_label)], specs=KINDS[:1])
    drawn = cv2.imread(str(out / "no_helmet" / FALSE_ALARM / "a.jpg"))
    assert drawn is not None
    edge = drawn[154:166, 100].astype(int)  # the cigarette box's left edge: magenta (BGR 255, 0, 255)
    assert bool((edge[:, 0] + edge[:, 2] - 2 * edge[:, 1]).mean() > 150) is with_cigarette
