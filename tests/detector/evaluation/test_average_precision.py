from __future__ import annotations

import numpy as np
import pytest

from detector.evaluation.average_precision import (
    DetectionMetrics,
    box_iou,
    interpolated_ap,
    match_predictions,
)

BOX = [0.0, 0.0, 10.0, 10.0]
SHIFTED = [0.0, 0.0, 10.0, 14.0]  # IoU 100/140 = 0.714 with BOX


@pytest.mark.parametrize(
    ("preds", "truths", "correct_at_50", "correct_at_75"),
    [
        ([(BOX, 0)], [(BOX, 0)], [True], [True]),
        ([(SHIFTED, 0)], [(BOX, 0)], [True], [False]),
        ([(BOX, 1)], [(BOX, 0)], [False], [False]),  # wrong class never matches
        ([(BOX, 0), (BOX, 0)], [(BOX, 0)], [True, False], [True, False]),  # one truth, one match
        # Predictions come sorted by score; as in ultralytics, a truth keeps the first (most confident)
        # prediction that reaches the threshold, so the better-placed second one only wins at 0.75.
        ([(SHIFTED, 0), (BOX, 0)], [(BOX, 0)], [True, False], [False, True]),
        ([], [(BOX, 0)], [], []),
        ([(BOX, 0)], [], [False], [False]),
    ],
)
def test_match_predictions(
    preds: list[tuple[list[float], int]],
    truths: list[tuple[list[float], int]],
    correct_at_50: list[bool],
    correct_at_75: list[bool],
) -> None:
    correct = match_predictions(
        np.array([p[0] for p in preds], np.float32).reshape(-1, 4),
        np.array([p[1] for p in preds], np.int64),
        np.array([t[0] for t in truths], np.float32).reshape(-1, 4),
        np.array([t[1] for t in truths], np.int64),
    )
    assert correct[:, 0].tolist() == correct_at_50
    assert correct[:, 5].tolist() == correct_at_75


@pytest.mark.parametrize(
    ("recall", "precision", "ap"),
    [
        ([1.0], [1.0], 1.0),
        # The envelope is interpolated linearly up to the sentinel (recall 1, precision 0), as ultralytics
        # does: half the recall at full precision, then a ramp down to 0.
        ([0.5], [1.0], 0.75),
        ([0.5, 1.0], [1.0, 0.5], 0.5 + 0.5 * (1.0 + 0.5) / 2 - 0.0025),
        ([0.0], [0.0], 0.0),
    ],
)
def test_interpolated_ap(recall: list[float], precision: list[float], ap: float) -> None:
    assert interpolated_ap(np.array(recall), np.array(precision)) == pytest.approx(ap, abs=0.006)


def test_summary_over_images() -> None:
    metrics = DetectionMetrics({0: "person", 1: "helmet"})
    box = np.array([BOX], np.float32)
    # Image 1: a person found; image 2: a person missed and a false helmet; image 3: a helmet found.
    metrics.update(box, np.array([0.9]), np.array([0]), box, np.array([0]))
    metrics.update(box + 50, np.array([0.8]), np.array([1]), box, np.array([0]))
    metrics.update(box, np.array([0.7]), np.array([1]), box, np.array([1]))
    summary = metrics.summary()
    assert summary.images == 3 and summary.instances == 3
    # person: one of two found at precision 1, so AP is that of recall 0.5 (see test_interpolated_ap)
    assert summary.per_class["person"].ap50 == pytest.approx(0.75, abs=0.01)
    # helmet: the first (0.8) is false, the second true: precision 0.5 at recall 1
    assert summary.per_class["helmet"].ap50 == pytest.approx(0.5, abs=0.01)
    assert summary.map50 == pytest.approx(0.625, abs=0.01)
    assert set(summary.to_json()) >= {"map50", "map50_95", "per_class", "images"}


def test_box_iou() -> None:
    iou = box_iou(np.array([BOX]), np.array([SHIFTED, [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[100 / 140, 0.0]], atol=1e-6)
