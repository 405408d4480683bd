"""``sitewatch bench live``: what a live view costs the edge box, and how late its frames reach a viewer.

An API on loopback (in this process) and an edge process of its own (``python -m sitewatch.bench.live``):
a capture thread reading a video in real time and the live uploader (:class:`sitewatch.live.LiveUploader`),
as ``sitewatch worker`` runs them. The edge process's CPU time (from ``/proc``) is read over ``seconds``
with nobody watching, then over ``seconds`` with one viewer reading the MJPEG stream; each frame's latency
is the viewer's clock less its ``X-Frame-Time`` (one machine, one clock). Inference is left out: watching
does not change it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.sites.live import mjpeg_parts
from detector.evaluation.figures import figures

SITE, CAMERA = "bench-live", "cam-1"


@dataclass(frozen=True, slots=True)
class LiveBench:
    """Attributes:
    seconds: each of the two measured spans.
    idle_cpu_pct: the edge process's CPU (% of one core) with the camera unwatched (capture and long poll).
    watched_cpu_pct: the same with one viewer.
    added_cpu_pct: what one watched camera adds.
    frames: frames the viewer received while measured.
    latency_p50_ms: capture to viewer, median.
    latency_p95_ms: the same, 95th percentile.
    jpeg_kb: a frame's median size.
    """

    seconds: float
    idle_cpu_pct: float
    watched_cpu_pct: float
    added_cpu_pct: float
    frames: int
    latency_p50_ms: float
    latency_p95_ms: float
    jpeg_kb: float

    def to_json(self) -> dict[str, object]:
        """All figures, rounded the benchmarks' one way (:func:`detector.evaluation.figures.figures`)."""
        return figures(self)


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_live(*, video: Path, seconds: float, port: int) -> LiveBench:
    """Serve an API on ``port``, start an edge process on ``video``, measure it unwatched and watched."""
    import uvicorn

    folder = Path(tempfile.mkdtemp(prefix="sitewatch-bench-live-"))
    app = create_app(ApiSettings(data_dir=folder, admin_key=None), dispatch=False)
    with services_of(app).sessions() as session:
        edge_key = create_key(session, name="bench edge", role="edge", site_ids=[SITE])
        viewer_key = create_key(session, name="bench viewer", role="supervisor", site_ids=[SITE])
    health = [{"site_id": SITE, "camera_id": CAMERA, "online": True}]
    with nullcontext(TestClient(app)) as client:  # the camera must have reported before it can be watched
        client.post("/api/v1/ingest/health", json=health, headers={"Authorization": f"Bearer {edge_key}"})
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    edge = subprocess.Popen(
        [sys.executable, "-m", "sitewatch.bench.live", url, edge_key, str(video)],
        stdout=subprocess.PIPE,
        text=True,
    )
    latencies: list[float] = []
    sizes: list[int] = []
    stop = threading.Event()

    def view() -> None:
        headers = {"Authorization": f"Bearer {viewer_key}"}
        live = f"{url}/api/v1/sites/{SITE}/cameras/{CAMERA}/live"
        with httpx.Client(headers=headers, timeout=30) as http, http.stream("GET", live) as stream:
            for part_headers, jpeg in mjpeg_parts(stream.iter_raw()):
                latencies.append(time.time() - float(part_headers["x-frame-time"]))
                sizes.append(len(jpeg))
                if stop.is_set():
                    return

    try:
        assert edge.stdout is not None
        edge.stdout.readline()  # "ready"
        time.sleep(2.0)  # the capture settles
        start = process_cpu_s(edge.pid)
        time.sleep(seconds)
        idle = process_cpu_s(edge.pid) - start
        viewer = threading.Thread(target=view, daemon=True)
        viewer.start()
        time.sleep(2.0)  # the box hears of the viewer and starts sending
        start, seen = process_cpu_s(edge.pid), len(latencies)
        time.sleep(seconds)
        watched = process_cpu_s(edge.pid) - start
        measured = latencies[seen:] or latencies
        stop.set()
        viewer.join(timeout=5)
    finally:
        edge.kill()
        edge.wait()
        server.should_exit = True
        services_of(app).engine.dispose()
    if not measured:
        raise RuntimeError("the viewer received no frame: the live view did not start")
    return LiveBench(
        seconds=seconds,
        idle_cpu_pct=100 * idle / seconds,
        watched_cpu_pct=100 * watched / seconds,
        added_cpu_pct=100 * (watched - idle) / seconds,
        frames=len(measured),
        latency_p50_ms=1000 * statistics.median(measured),
        latency_p95_ms=1000 * sorted(measured)[int(0.95 * (len(measured) - 1))],
        jpeg_kb=statistics.median(sizes) / 1024,
    )


def edge_main(url: str, key: str, video: str) -> None:
    """The edge process: a real-time capture of ``video`` and the live uploader, until killed."""
    from sitewatch.live import LiveUploader
    from streams.capture import CaptureThread
    from streams.sources import SourceParams

    capture = CaptureThread(CAMERA, SourceParams(url=video, loop=True, realtime=True, max_fps=5.0))
    capture.start()
    uploader = LiveUploader(
        lambda _camera: capture.latest(), [CAMERA], site_id=SITE, api_url=url, api_key=key, wait_s=25.0
    )
    uploader.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    threading.Event().wait()


if __name__ == "__main__":
    edge_main(*sys.argv[1:4])

__all__ = ["LiveBench", "bench_live"]
