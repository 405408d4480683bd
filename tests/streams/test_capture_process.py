"""Capture in a process of its own: the demo video decoded in a child process reaches the worker through
shared memory, whole, with its health; large frames are shrunk to fit; nothing is left behind."""

from __future__ import annotations

from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.engine import Engine
from sitewatch.config import config_from_text
from sitewatch.edge import build_worker
from streams.capture_process import CaptureProcess
from streams.sinks import MemorySink
from streams.sources import SourceParams
from tests.conftest import ROOT
from tests.waiting import wait_for

VIDEO = ROOT / "configs" / "demo" / "site-demo.mp4"


def _first_frame() -> np.ndarray:
    cap = cv2.VideoCapture(str(VIDEO))
    ok, frame = cap.read()
    cap.release()
    assert ok
    return frame


@pytest.mark.parametrize(
    ("max_frame_bytes", "shrunk"),
    [(1920 * 1088 * 3, False), (320 * 180 * 3, True)],
)
def test_frames_and_health_cross_from_the_child(max_frame_bytes: int, shrunk: bool) -> None:
    params = SourceParams(url=str(VIDEO), loop=True, max_fps=10.0)
    capture = CaptureProcess("gate", params, max_frame_bytes=max_frame_bytes, health_s=0.2)
    name = capture._shm.name
    capture.start()
    try:
        wait_for(lambda: capture.latest()[2] is not None, 30, "a frame from the child")
        seq, at, frame = capture.latest()
        assert frame is not None and seq >= 1 and at > 0
        height, width = _first_frame().shape[:2]
        if shrunk:
            assert frame.nbytes <= max_frame_bytes and frame.shape[0] < height
            assert abs(frame.shape[1] / frame.shape[0] - width / height) < 0.02  # the aspect is kept
        else:
            assert frame.shape == (height, width, 3)
        wait_for(lambda: capture.latest()[0] > seq, 10, "a newer frame")
        wait_for(lambda: capture.health.online and capture.health.input_fps > 0, 10, "health")
        assert capture.latest() is capture.latest()  # an unchanged frame is not copied again
    finally:
        capture.stop()
        capture.join(timeout=20)
    assert not capture.is_alive()
    with pytest.raises(FileNotFoundError):
        SharedMemory(name=name)  # the buffer is freed


def test_a_missing_file_is_reported_offline_by_the_child(tmp_path: Path) -> None:
    params = SourceParams(url=str(tmp_path / "gone.mp4"), backoff_initial_s=0.2)
    capture = CaptureProcess("gate", params, health_s=0.2)
    capture.start()
    try:
        wait_for(lambda: "not found" in str(capture.health.last_error), 30, "the error from the child")
        assert not capture.health.online and capture.latest()[2] is None
    finally:
        capture.stop()
        capture.join(timeout=20)


def test_a_worker_with_capture_processes_detects_on_the_demo_video(engine: Engine) -> None:
    config = config_from_text(
        f"""
site: {{id: s}}
worker: {{capture: process}}
cameras:
  gate: {{url: "{VIDEO}", loop: true}}
  yard: {{url: "{VIDEO}", loop: true}}
"""
    )
    worker = build_worker(config, sink=MemorySink(), engine=engine)
    assert all(isinstance(c.capture, CaptureProcess) for c in worker.cameras.values())
    worker.start()
    try:
        wait_for(lambda: all(c.stats.processed >= 3 for c in worker.cameras.values()), 60, "detections")
        assert all(h["online"] for h in worker.health().values())
    finally:
        worker.stop()
