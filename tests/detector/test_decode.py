from __future__ import annotations

import numpy as np
import pytest

from detector.decode import DecodeParams, OutputLayout, decode, infer_layout, nms, xywh_to_xyxy


def raw_output(
    rows: list[tuple[float, float, float, float, list[float]]], nc: int, n: int = 50
) -> np.ndarray:
    """A raw [4+nc, N] output with the given (cx, cy, w, h, scores) rows and zero-score filler."""
    out = np.zeros((4 + nc, n), np.float32)
    out[:4] = 10.0  # filler boxes with no score
    for i, (cx, cy, w, h, scores) in enumerate(rows):
        out[:4, i] = (cx, cy, w, h)
        out[4:, i] = scores
    return out


@pytest.mark.parametrize(
    ("shape", "nc", "end2end", "layout"),
    [
        ((1, 9, 8400), 5, None, OutputLayout.RAW),
        ((1, 9, 8400), 5, False, OutputLayout.RAW),
        ((1, 300, 6), 5, None, OutputLayout.END2END),
        ((1, 300, 6), 5, True, OutputLayout.END2END),
        ((1, 5, 3549), 1, None, OutputLayout.RAW),
        ((1, 6, 8400), 2, None, OutputLayout.RAW),  # 4 + 2 classes: raw despite a 6
        ((1, 6, 6), 2, True, OutputLayout.END2END),  # ambiguous shape: the metadata decides
        ((1, 6, 6), 2, False, OutputLayout.RAW),
    ],
)
def test_infer_layout(
    shape: tuple[int, int, int], nc: int, end2end: bool | None, layout: OutputLayout
) -> None:
    assert infer_layout(shape, nc, end2end) is layout


@pytest.mark.parametrize("shape", [(1, 10, 8400), (1, 8400), (1, 300, 7)])
def test_infer_layout_rejects_other_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="shape"):
        infer_layout(shape, 5)


def test_raw_decoding_keeps_the_best_class_and_suppresses_duplicates() -> None:
    out = raw_output(
        [
            (50, 50, 20, 40, [0.9, 0.1]),  # class 0
            (51, 50, 20, 40, [0.8, 0.0]),  # duplicate of the first: suppressed
            (51, 50, 20, 40, [0.0, 0.7]),  # same place, other class: kept (class-aware)
            (200, 200, 10, 10, [0.1, 0.2]),  # below threshold
        ],
        nc=2,
    )
    xyxy, scores, cls = decode(out, OutputLayout.RAW, DecodeParams(conf=0.25, iou=0.5))
    assert cls.tolist() == [0, 1]
    np.testing.assert_allclose(scores, [0.9, 0.7], rtol=1e-6)
    np.testing.assert_allclose(xyxy[0], [40, 30, 60, 70])


def test_multi_label_yields_one_detection_per_class_above_threshold() -> None:
    out = raw_output([(50, 50, 20, 40, [0.6, 0.5])], nc=2)
    _, _, single = decode(out, OutputLayout.RAW, DecodeParams(conf=0.3))
    _, _, multi = decode(out, OutputLayout.RAW, DecodeParams(conf=0.3, multi_label=True))
    assert single.tolist() == [0]
    assert sorted(multi.tolist()) == [0, 1]


def test_max_det_keeps_the_highest_scores() -> None:
    rows = [(20.0 * i + 10, 10, 5, 5, [0.3 + 0.05 * i]) for i in range(10)]
    _, scores, _ = decode(raw_output(rows, nc=1), OutputLayout.RAW, DecodeParams(conf=0.1, max_det=3))
    np.testing.assert_allclose(scores, [0.75, 0.7, 0.65], rtol=1e-6)


def test_end2end_decoding_filters_and_sorts() -> None:
    out = np.array(
        [[0, 0, 10, 10, 0.4, 1], [5, 5, 20, 20, 0.9, 0], [1, 1, 2, 2, 0.1, 2], [0, 0, 0, 0, 0.0, 0]],
        np.float32,
    )
    xyxy, scores, cls = decode(out, OutputLayout.END2END, DecodeParams(conf=0.25))
    assert cls.tolist() == [0, 1]
    np.testing.assert_allclose(scores, [0.9, 0.4], rtol=1e-6)
    np.testing.assert_allclose(xyxy[0], [5, 5, 20, 20])


@pytest.mark.parametrize(
    ("boxes", "scores", "classes", "iou", "agnostic", "kept"),
    [
        ([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], [0, 0], 0.5, False, [0]),
        ([[0, 0, 10, 10], [0, 0, 10, 10]], [0.8, 0.9], [0, 0], 0.5, False, [1]),
        ([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], [0, 1], 0.5, False, [0, 1]),
        ([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], [0, 1], 0.5, True, [0]),
        ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], [0, 0], 0.5, False, [0, 1]),  # IoU 1/3
        ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], [0, 0], 0.3, False, [0]),
        ([[0, 0, 10, 10], [20, 20, 30, 30], [1, 1, 9, 9]], [0.5, 0.7, 0.6], [0, 0, 0], 0.5, False, [1, 2]),
        ([], [], [], 0.5, False, []),
    ],
)
def test_nms(
    boxes: list[list[float]],
    scores: list[float],
    classes: list[int],
    iou: float,
    agnostic: bool,
    kept: list[int],
) -> None:
    keep = nms(
        np.array(boxes, np.float32).reshape(-1, 4),
        np.array(scores, np.float32),
        np.array(classes, np.int64),
        iou,
        agnostic=agnostic,
    )
    assert keep.tolist() == kept


def test_xywh_to_xyxy() -> None:
    np.testing.assert_allclose(xywh_to_xyxy(np.array([[10.0, 20.0, 4.0, 6.0]])), [[8, 17, 12, 23]])
