"""Benchmark figures, reported one way: significant digits, whatever the size of the figure."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from detector.evaluation.figures import figures, rounded


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12.34567, 12.35),
        (1234.567, 1235.0),
        (123456.7, 123500.0),
        (0.0123456, 0.01235),  # a small stage keeps its digits instead of rounding to 0.01
        (0.00004321, 0.00004321),
        (-2.71828, -2.718),
        (1.0, 1.0),
        (0.0, 0.0),
    ],
)
def test_a_figure_keeps_four_significant_digits(value: float, expected: float) -> None:
    assert rounded(value) == expected


def test_non_finite_figures_stay_as_they_are() -> None:
    assert rounded(math.inf) == math.inf and math.isnan(rounded(math.nan))


@dataclass
class _Result:
    engine_ms: float
    runs: int
    label: str
    raw_ms: float | None
    ok: bool
    stages_ms: dict[str, float] = field(default_factory=dict)
    samples: list[float] = field(default_factory=list)


def test_every_float_of_a_result_is_rounded_and_nothing_else_changes() -> None:
    result = _Result(12.34567, 100, "onnxruntime fp32", None, True, {"nms": 0.0123456}, [1.23456, 7])  # type: ignore[list-item]
    assert figures(result) == {
        "engine_ms": 12.35,
        "runs": 100,
        "label": "onnxruntime fp32",
        "raw_ms": None,
        "ok": True,
        "stages_ms": {"nms": 0.01235},
        "samples": [1.235, 7],
    }
    assert figures({"fps": 81.0049}) == {"fps": 81.0}


@pytest.mark.parametrize("not_a_result", [3.5, "engine_ms", _Result])
def test_anything_but_a_result_is_refused(not_a_result: object) -> None:
    with pytest.raises(TypeError, match="dataclass instance or a mapping"):
        figures(not_a_result)
