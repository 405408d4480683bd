"""Alarm-level evaluation: the worker's person-level decisions scored per photo and per person."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from detector.decode import DecodeParams
from detector.engine import Engine, EngineSettings
from detector.evaluation.alarms import KINDS, KindCounts, evaluate_alarms, score_image, score_photos
from detector.ppe import Bands, associate
from detector.training.dataset import YoloDataset
from detector.types import SMOKING, Attr, make_detections

NAMES = {0: "person", 1: "helmet", 2: "no_helmet", 3: "vest", 4: "no_vest"}
PERSON = [100, 100, 200, 400]  # head band: y 55..205, x 90..210
HEAD = [130, 105, 170, 145]
FAR_HEAD = [500, 100, 540, 140]


def people(*items: tuple[list[float], int]) -> object:
    """The engine's people for hand-made detections ``(box, class id)``."""
    boxes = np.array([b for b, _ in items], np.float32).reshape(-1, 4)
    classes = np.array([c for _, c in items], np.int64)
    return associate(make_detections(boxes, np.full(len(items), 0.9), classes, NAMES))


@pytest.mark.parametrize(
    ("detected", "truth", "expected"),
    [
        pytest.param(
            [(PERSON, 0), (HEAD, 2)],
            [(HEAD, "no_helmet")],
            {"photo_tp": 1, "labelled_found": 1, "flagged": 1, "flagged_right": 1},
            id="bare head found on its person",
        ),
        pytest.param(
            [(PERSON, 0), (HEAD, 2)],
            [(HEAD, "helmet")],
            {"photo_fp": 1, "flagged": 1, "flagged_right": 0, "compliant": 1, "compliant_flagged": 1},
            id="hard-hat wearer flagged",
        ),
        pytest.param(
            [(PERSON, 0), (HEAD, 1)],
            [(HEAD, "no_helmet")],
            {"photo_fn": 1, "labelled": 1, "labelled_found": 0, "flagged": 0},
            id="bare head taken for a hard hat",
        ),
        pytest.param(
            [(PERSON, 0), (HEAD, 2)],
            [(FAR_HEAD, "no_helmet")],
            {"photo_tp": 1, "labelled": 1, "labelled_found": 0, "flagged": 1, "flagged_right": 0},
            id="alarm right for the photo, wrong person",
        ),
        pytest.param(
            [(FAR_HEAD, 2)],
            [(FAR_HEAD, "no_helmet")],
            {"photo_tp": 1, "labelled_found": 1, "flagged_right": 1},
            id="lone bare head with no person box",
        ),
        pytest.param(
            [(PERSON, 0)],
            [],
            {"photos": 1, "photos_with": 0, "photo_fp": 0, "flagged": 0},
            id="nothing to see",
        ),
    ],
)
def test_one_photo_is_scored_as_a_supervisor_would(
    detected: list[tuple[list[float], int]], truth: list[tuple[list[float], str]], expected: dict[str, int]
) -> None:
    counts = KindCounts()
    xyxy = np.array([b for b, _ in truth], np.float32).reshape(-1, 4)
    names = np.array([n for _, n in truth], dtype=object)
    score_image(counts, KINDS[0], people(*detected), xyxy, names, Bands())  # type: ignore[arg-type]
    for key, value in expected.items():
        assert getattr(counts, key) == value, key


def test_rates_are_none_where_nothing_was_there_to_count() -> None:
    summary = KindCounts(photos=3).summary()
    assert summary["photo_recall"] is None
    assert summary["photo_false_alarm_rate"] == 0.0
    assert summary["person_precision"] is None


@pytest.fixture(scope="module")
def ppe_sample() -> YoloDataset:
    return YoloDataset.open(Path("tests/data/ppe"), "val")


def test_a_higher_threshold_never_flags_more(ppe_sample: YoloDataset) -> None:
    """The shipped model on two labelled photos: raising the confidence can only take alarms away."""
    flagged = []
    for conf in (0.1, 0.6):
        engine = Engine(EngineSettings(smoking_model=None, ppe=DecodeParams(conf=conf, iou=0.6, max_det=100)))
        report = evaluate_alarms(engine, ppe_sample, progress=False)
        assert set(report.kinds) == {"no_helmet", "no_vest"}  # no cigarettes labelled: not scored
        flagged.append(sum(c.flagged for c in report.kinds.values()))
        for counts in report.kinds.values():
            assert counts.photos == len(ppe_sample)
            assert counts.labelled_found <= counts.labelled
            assert counts.flagged_right <= counts.flagged
    assert flagged[0] >= flagged[1]
    assert flagged[0] > 0  # the low threshold does flag someone on these photos


def test_the_command_prints_json(ppe_sample: YoloDataset) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "sitewatch.cli", "eval", "tests/data/ppe", "--alarms", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    report = json.loads(out.strip().splitlines()[-1])
    assert report["conf"] == EngineSettings().ppe.conf  # the configured operating point
    assert report["kinds"]["no_helmet"]["photos"] == len(ppe_sample)


def test_the_head_stage_is_scored_and_can_be_left_out() -> None:
    def bare_heads_found(*extra: str) -> int:
        out = subprocess.run(
            [sys.executable, "-m", "sitewatch.cli", "eval", "tests/data/ppe", "--alarms", "--json", *extra],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return int(json.loads(out.strip().splitlines()[-1])["kinds"]["no_helmet"]["person_recall"] * 1000)

    # The masked close-up's bare head gets no box from the PPE model; the head classifier flags it.
    assert bare_heads_found() > bare_heads_found("--heads", "none")


def test_night_scores_every_photo_through_the_infrared_like_transform(
    ppe_sample: YoloDataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detector.vests import is_grey

    engine = Engine(EngineSettings(smoking_model=None))
    seen: list[bool] = []
    detect = engine.detect

    def spy(frames: list[np.ndarray], **kwargs: bool) -> object:
        seen.extend(is_grey(f) for f in frames)
        return detect(frames, **kwargs)

    monkeypatch.setattr(engine, "detect", spy)
    night = evaluate_alarms(engine, ppe_sample, night=True, progress=False).to_json()
    assert len(seen) == len(ppe_sample) and all(seen)
    seen.clear()
    evaluate_alarms(engine, ppe_sample, progress=False)
    assert len(seen) == len(ppe_sample) and not any(seen)
    # The transform is fixed: the night figures are the same on every run.
    seen.clear()
    assert evaluate_alarms(engine, ppe_sample, night=True, progress=False).to_json() == night


@pytest.mark.parametrize(
    ("flags", "heads", "vests"),
    [
        ([], "heads", "vests"),
        (["--vests", "none"], "heads", None),
        (["--heads", "none", "--vests", "none"], None, None),
        (["--vests", "my-vests.onnx"], "heads", "my-vests.onnx"),
    ],
)
def test_the_stages_can_be_left_out_or_replaced(
    flags: list[str], heads: str | None, vests: str | None
) -> None:
    from sitewatch.cli import build_parser
    from sitewatch.cli.detection import _scored_config

    args = build_parser().parse_args(["eval", "tests/data/ppe", "--alarms", *flags])
    settings = _scored_config(args).engine_settings()
    assert (settings.head_model, settings.vest_model) == (heads, vests)


@pytest.mark.parametrize(("everywhere", "false_alarm_rate"), [(False, None), (True, 0.5)])
def test_smoking_alarms_on_a_set_that_labels_no_cigarettes_are_false_ones(
    everywhere: bool, false_alarm_rate: float | None
) -> None:
    smoker, worker = people((PERSON, 0)), people((PERSON, 0))
    smoker.data[SMOKING][0] = Attr.YES.value  # type: ignore[attr-defined]
    photos = [(p, np.zeros((0, 4)), np.array([], dtype=object)) for p in (smoker, worker)]
    report = score_photos(
        photos, set(NAMES.values()), Bands(), dataset="site", conf=0.35, smoking_everywhere=everywhere
    )  # type: ignore[arg-type]
    if false_alarm_rate is None:
        assert "smoking" not in report.kinds
    else:
        assert report.kinds["smoking"].summary()["photo_false_alarm_rate"] == false_alarm_rate
