"""The edge's live uploader against the API served on loopback: it starts sending a camera within a second
of a viewer opening its live view, sends the camera's newest frames scaled down, and stops within seconds
of the last viewer leaving (issue 22)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import httpx
import numpy as np
from prometheus_client import REGISTRY

from sitewatch.live import LiveUploader
from tests.api.live import live_api, mjpeg_frames


class Camera:
    """A 1080p camera whose picture changes ten times a second (its sequence number grows with it)."""

    def __init__(self) -> None:
        self.frame = np.zeros((1080, 1920, 3), np.uint8)

    def latest(self, camera: str) -> tuple[int, float, np.ndarray]:
        assert camera == "cam-1"
        seq = int(time.time() * 10)
        self.frame[:, :, 1] = seq % 256
        return seq, time.time(), self.frame.copy()


def until(check: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until ``check`` holds (polled every 20 ms); fails after ``timeout_s``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout_s, f"not within {timeout_s} s"
        time.sleep(0.02)
    return time.monotonic() - start


def sent(camera: str) -> float:
    return REGISTRY.get_sample_value("sitewatch_live_frames_sent_total", {"camera": camera}) or 0.0


def test_the_uploader_sends_while_someone_watches_and_stops_after(tmp_path: Path) -> None:
    with live_api(tmp_path) as live:
        uploader = LiveUploader(
            Camera().latest,
            ["cam-1", "cam-2"],
            site_id="site-a",
            api_url=live.url,
            api_key=live.keys["edge"],
            wait_s=25.0,
        )
        uploader.start()
        before = sent("cam-1")
        try:
            time.sleep(0.5)  # its long poll waits at the API
            assert uploader.streaming() == []
            with (
                httpx.Client(headers=live.as_("supervisor"), timeout=10) as viewer,
                viewer.stream("GET", live.live_url()) as stream,
            ):
                assert until(lambda: uploader.streaming() == ["cam-1"], 1.0) < 1.0
                parts = mjpeg_frames(stream)
                pictures = [
                    cv2.imdecode(np.frombuffer(next(parts)[1], np.uint8), cv2.IMREAD_COLOR) for _ in range(2)
                ]
                assert REGISTRY.get_sample_value("sitewatch_live_cameras_watched") == 1.0
            assert [p.shape for p in pictures] == [(360, 640, 3)] * 2  # scaled down to the API's width
            assert pictures[0][0, 0, 1] != pictures[1][0, 0, 1]  # two different frames
            until(lambda: uploader.streaming() == [], 10.0)
            assert REGISTRY.get_sample_value("sitewatch_live_cameras_watched") == 0.0
            assert sent("cam-1") - before >= 2
        finally:
            uploader.stop()
