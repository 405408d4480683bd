"""``bench live`` on the demo video: a viewer gets frames, each with a latency, and the edge's CPU is read
with the camera unwatched and watched."""

from __future__ import annotations

from sitewatch.bench.live import bench_live
from tests.conftest import ROOT
from tests.streams.rtsp import free_port


def test_a_watched_camera_is_measured() -> None:
    result = bench_live(video=ROOT / "configs" / "demo" / "site-demo.mp4", seconds=3.0, port=free_port())
    assert result.frames >= 2  # 2 frames a second are sent while someone watches
    assert 0 < result.latency_p50_ms <= result.latency_p95_ms
    assert result.watched_cpu_pct > 0 and result.idle_cpu_pct >= 0
    assert result.jpeg_kb > 1
