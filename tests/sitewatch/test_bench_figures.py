"""Every benchmark reports its figures the same way (:mod:`detector.evaluation.figures`), whichever
package it is in."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitewatch.bench.alerts import AlertsBench
from sitewatch.bench.api import ApiBench
from sitewatch.bench.engine import EngineBench
from sitewatch.bench.gpu import BatchFigure, DecodeFigure
from sitewatch.bench.live import LiveBench
from sitewatch.bench.runtimes import RuntimeBench, RuntimeOption
from sitewatch.bench.ui import UiBench
from sitewatch.bench.worker import CpuSplit, WorkerBench

X = 1234.5678  # every float figure below: reported as 1235.0
S = 0.0123456  # every stage: reported as 0.01235

RESULTS = [
    EngineBench(X, X, X, {"inference": S}, X, X, None, 4, 10),
    WorkerBench(1, X, X, X, X, X, X, X, {"pipeline": S}, None, 3, 0, 1, X, X),  # looks per camera: X
    WorkerBench(
        1,
        X,
        X,
        X,
        X,
        X,
        X,
        X,
        {"pipeline": S},
        None,
        3,
        0,
        1,
        X,
        X,
        cpu=CpuSplit(X, X, X, X, X, X, X),
        decoded_share=X,
    ),
    AlertsBench("sqlite", 10, 4, X, 5, X, X),
    ApiBench("sqlite", 20, 64, 2, X, X, 1000, X, X, X, X),
    UiBench(
        1000, X, X, X, X, X, 1000, X, X, X, 10, 20, X, X, X, X, X, 5, X, X, 10
    ),  # every figure of the district's pages too
    LiveBench(X, X, X, X, 60, X, X, X),
    BatchFigure("cpu", "640x360", 2, X, X, X, X, X),
    DecodeFigure("main", "h264", X, X),
    RuntimeBench(RuntimeOption("onnxruntime fp32", "onnxruntime", Path("ppe.onnx")), X, X, X, X, 10),
]


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: type(r).__name__)
def test_every_benchmark_rounds_its_figures_the_same_way(result: object) -> None:
    reported = result.to_json()  # type: ignore[attr-defined]
    floats = [v for v in reported.values() if isinstance(v, float)]
    floats += [v for d in reported.values() if isinstance(d, dict) for v in d.values()]
    assert floats and all(v in (1235.0, 0.01235) for v in floats), reported
