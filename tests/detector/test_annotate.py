"""Annotated snapshots a person can read (issue 22, item 5): one label per person naming its violations in
the site's language (Chinese by default, drawn with a CJK font), labels that never cover each other, a
legend; the clean snapshot stays the untouched frame."""

from __future__ import annotations

import logging
from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv

from detector.annotate import CJK_FONTS, SceneAnnotator
from detector.engine import Engine, Scene
from detector.types import CLASS_NAME, HELMET, INFERRED, PERSON, SMOKING, VEST, make_detections
from streams.evidence import EvidenceMaker
from tests.conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "annotate"
HAS_CJK_FONT = any(Path(path).is_file() for path, _ in CJK_FONTS)


def scene(people: list[tuple[tuple[int, int, int, int], str, str, str]]) -> Scene:
    """A scene of people (box, helmet, vest, smoking) and a helmet item over the first one's head."""
    xyxy = np.array([box for box, *_ in people], dtype=np.float32).reshape(-1, 4)
    crowd = sv.Detections(
        xyxy=xyxy,
        confidence=np.full(len(people), 0.9, np.float32),
        class_id=np.zeros(len(people), np.int64),
        data={
            CLASS_NAME: np.full(len(people), PERSON, dtype=object),
            HELMET: np.array([p[1] for p in people], dtype=object),
            VEST: np.array([p[2] for p in people], dtype=object),
            SMOKING: np.array([p[3] for p in people], dtype=object),
            INFERRED: np.zeros(len(people), dtype=bool),
        },
    )
    x1, y1, x2, _ = people[0][0]
    items = make_detections(
        np.array([[x1 + 10, y1, x2 - 10, y1 + 30]]), np.array([0.8]), np.array([1]), {1: "helmet"}
    )
    return Scene(detections=items, people=crowd, timings_ms={})


#: Two workers side by side (their boxes overlap), both with violations, and a compliant one near them.
CROWD = scene(
    [
        ((200, 150, 300, 420), "no", "no", "yes"),
        ((250, 160, 350, 430), "no", "yes", "no"),
        ((330, 140, 430, 410), "yes", "yes", "no"),
    ]
)


def frame() -> np.ndarray:
    image = cv2.imread(str(ROOT / "configs" / "demo" / "images" / "site-1.jpg"))
    assert image is not None
    return image


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


@pytest.mark.skipif(not HAS_CJK_FONT, reason="no CJK font: `make system-deps` installs fonts-noto-cjk")
def test_labels_name_each_persons_violations_in_chinese_without_overlapping() -> None:
    image = frame()
    annotator = SceneAnnotator()
    labels, legend = annotator.labels(image.shape, CROWD)
    assert [label.text for label in labels] == ["未戴安全帽 · 未穿反光衣 · 吸烟", "未戴安全帽", "合格"]
    assert legend is not None
    rects = [label.rect for label in labels] + [legend.rect]
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in rects:
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
    for a, b in combinations(rects, 2):
        assert overlap(a, b) == 0, (a, b)
    drawn = annotator.annotate(image, CROWD)
    for label in labels:  # each label's background is drawn where its rectangle says, in its colour
        x1, y1, x2, y2 = label.rect
        corner = drawn[y1 + 1, x1 + 1].astype(int)
        expected = (47, 47, 211) if label.color == 1 else (50, 125, 46)  # #d32f2f, #2e7d32 as BGR
        assert np.abs(corner - expected).max() <= 2, (label, corner)
        # the text is drawn: white pixels inside the label
        assert (drawn[y1:y2, x1:x2].min(axis=2) > 200).sum() > 20
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(ARTIFACTS / "crowd-zh.png"), drawn)


def test_english_labels_when_the_site_speaks_english() -> None:
    labels, _ = SceneAnnotator(language="en").labels(frame().shape, CROWD)
    assert [label.text for label in labels] == ["No hard hat · No vest · Smoking", "No hard hat", "ok"]


def test_without_a_cjk_font_labels_fall_back_to_english_with_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from detector import annotate

    annotate._font.cache_clear()
    annotate._no_cjk_font.cache_clear()
    try:
        annotator = SceneAnnotator(language="zh", fonts=[("/nonexistent/font.ttc", 0)])
        with caplog.at_level(logging.WARNING, logger="detector.annotate"):
            labels, _ = annotator.labels(frame().shape, CROWD)
            annotator.annotate(frame(), CROWD)
            SceneAnnotator(language="zh", fonts=[("/nonexistent/font.ttc", 0)], text_scale=0.05).annotate(
                frame(), CROWD
            )
        assert labels[0].text == "No hard hat · No vest · Smoking"
        assert [r.getMessage() for r in caplog.records].count(
            "no CJK font found (install fonts-noto-cjk): snapshot labels are drawn in English"
        ) == 1
    finally:
        annotate._font.cache_clear()
        annotate._no_cjk_font.cache_clear()


def test_the_clean_snapshot_is_the_untouched_frame_and_the_annotated_one_differs() -> None:
    image = frame()
    before = image.copy()
    maker = EvidenceMaker(jpeg_quality=90)
    evidence = maker.make(image, CROWD)
    assert np.array_equal(image, before)  # the frame itself is not drawn on
    assert evidence.snapshot == cv2.imencode(".jpg", before, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    clean = cv2.imdecode(np.frombuffer(evidence.snapshot, np.uint8), cv2.IMREAD_COLOR)
    annotated = cv2.imdecode(np.frombuffer(evidence.annotated, np.uint8), cv2.IMREAD_COLOR)
    assert evidence.annotated != evidence.snapshot and clean.shape == annotated.shape
    assert np.abs(clean.astype(int) - annotated.astype(int)).max() > 100  # labels and boxes drawn


def test_a_scene_of_the_engine_is_annotated_with_a_label_per_person(engine: Engine) -> None:
    image = frame()
    found = engine.detect([image])[0]
    annotator = SceneAnnotator()
    labels, legend = annotator.labels(image.shape, found)
    assert len(labels) == len(found.people)
    rects = [label.rect for label in labels] + ([legend.rect] if legend else [])
    assert all(overlap(a, b) == 0 for a, b in combinations(rects, 2))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(ARTIFACTS / "site-1-zh.png"), annotator.annotate(image, found))
