"""The worker end to end against a real RTSP server on loopback, with the real models.

The stream is made of test photos with bare heads and torsos (tests/data/ppe, CC BY 4.0). The worker must
connect, detect and emit no_helmet / no_vest events with snapshots; survive the server going away
(camera_offline after its delay) and resume within 10 s of its return without a restart; and report a
corrupt file and an unreachable address without stopping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.engine import Engine
from sitewatch.config import config_from_text
from sitewatch.edge import build_worker
from streams.events import EventKind, Phase
from streams.sinks import MemorySink
from streams.worker import Worker
from tests.conftest import DATA
from tests.streams.rtsp import RtspServer, require_gstreamer, write_frames
from tests.waiting import wait_for

# Labelled bare head and bare torso (Movie-...-24: no helmet, no vest; IMG_0871: no helmet).
PHOTOS = [
    next((DATA / "ppe" / "images").glob("Movie-on-10-31-22-at-10_08-AM_mov-24*")),
    next((DATA / "ppe" / "images").glob("IMG_0871_mp4-23*")),
]


def config_text(cameras: str) -> str:
    return f"""
site: {{id: test-site, timezone: Asia/Shanghai}}
rules:
  no_helmet: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  no_vest: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  smoking: {{enabled: false}}
  cooldown_s: 5
cameras:
{cameras}
"""


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[RtspServer]:
    require_gstreamer()
    server = RtspServer(write_frames(PHOTOS, tmp_path / "frames")).start()
    yield server
    server.stop()


def kinds(sink: MemorySink, phase: Phase) -> set[EventKind]:
    return {u.kind for u in list(sink.updates) if u.phase is phase}


def test_rtsp_camera_to_events_through_outage_and_back(
    stream: RtspServer, engine: Engine, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(2000))  # a truncated, undecodable video
    config = config_from_text(
        config_text(
            f"""  gate: {{url: "{stream.url}", offline_after_s: 2}}
  broken: {{url: "{broken}", offline_after_s: 2}}
  nowhere: {{url: "rtsp://127.0.0.1:9/none", offline_after_s: 2}}"""
        )
    )
    sink = MemorySink()
    worker = build_worker(config, sink=sink, engine=engine)
    worker.start()
    try:
        gate = worker.cameras["gate"]
        wait_for(
            lambda: {EventKind.NO_HELMET, EventKind.NO_VEST} <= kinds(sink, Phase.START), 90, "PPE events"
        )
        ppe = (EventKind.NO_HELMET, EventKind.NO_VEST)
        starts = [u for u in list(sink.updates) if u.phase is Phase.START and u.kind in ppe]
        assert {u.camera_id for u in starts} == {"gate"}
        for update in starts:
            assert update.evidence is not None and update.site_id == "test-site"
            image = cv2.imdecode(np.frombuffer(update.evidence.snapshot, np.uint8), cv2.IMREAD_COLOR)
            assert image is not None and image.shape == (640, 640, 3)
            assert update.evidence.annotated != update.evidence.snapshot
            assert {"snapshot_sha256", "annotated_sha256"} <= set(update.to_json()["evidence"])
        health = worker.health()["gate"]
        assert health["online"] and health["frames_processed"] > 0 and health["input_fps"] > 0

        # The bad sources are reported, offline, while the good camera goes on.
        for name, error in [("broken", "cannot open video file"), ("nowhere", "cannot open rtsp://")]:
            wait_for(
                lambda n=name: any(  # type: ignore[misc]
                    u.kind is EventKind.CAMERA_OFFLINE and u.camera_id == n for u in list(sink.updates)
                ),
                20,
                f"{name} offline",
            )
            assert not worker.health()[name]["online"]
            assert error in str(worker.health()[name]["last_error"])

        # The server goes away: offline, then camera_offline after its 2 s delay.
        stream.stop()
        wait_for(lambda: not gate.capture.health.online, 20, "gate offline")
        wait_for(lambda: _offline(sink, "gate", Phase.START), 20, "camera_offline start")
        processed = gate.stats.processed

        # It comes back: the same worker resumes within 10 s, and camera_offline ends.
        stream.start()
        resumed = wait_for(
            lambda: gate.capture.health.online and gate.stats.processed > processed, 10, "resume"
        )
        wait_for(lambda: _offline(sink, "gate", Phase.END), 5, "camera_offline end")
        assert resumed <= 10
        assert gate.capture.health.reconnects >= 1
    finally:
        worker.stop()
    # Violation incidents end when the worker stops; a camera still offline stays reported as offline.
    ends = {u.event_id for u in sink.updates if u.phase is Phase.END}
    ppe_starts = {u.event_id for u in sink.updates if u.phase is Phase.START and u.kind in ppe}
    assert ppe_starts and ppe_starts <= ends


def _offline(sink: MemorySink, camera: str, phase: Phase) -> bool:
    return any(
        u.kind is EventKind.CAMERA_OFFLINE and u.camera_id == camera and u.phase is phase
        for u in list(sink.updates)
    )


def test_worker_health_before_any_frame(engine: Engine) -> None:
    config = config_from_text(config_text('  gate: {url: "rtsp://127.0.0.1:9/none"}'))
    worker: Worker = build_worker(config, sink=MemorySink(), engine=engine)
    health = worker.health()["gate"]
    assert health["online"] is False and health["frames_processed"] == 0


def test_a_camera_whose_pipeline_fails_does_not_stop_the_others(
    stream: RtspServer, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipelines run on a thread of their own, after inference: one camera's failing frames are logged
    and counted, and the next camera's frames of the same batch still go through."""
    config = config_from_text(config_text(f'  bad: {{url: "{stream.url}"}}\n  good: {{url: "{stream.url}"}}'))
    sink = MemorySink()
    worker = build_worker(config, sink=sink, engine=engine)
    failures: list[float] = []

    def fail(frame: np.ndarray, frame_time: float, scene: object) -> list[object]:
        failures.append(frame_time)
        raise RuntimeError("a broken pipeline")

    monkeypatch.setattr(worker.cameras["bad"].pipeline, "process", fail)
    worker.start()
    try:
        wait_for(lambda: kinds(sink, Phase.START) >= {EventKind.NO_HELMET}, 90, "the good camera's events")
        wait_for(lambda: len(failures) >= 3, 30, "the bad camera's frames to keep coming")
    finally:
        worker.stop()
    assert {u.camera_id for u in sink.updates if u.kind is EventKind.NO_HELMET} == {"good"}
    # A frame its pipeline failed on is not counted as processed (as before the pipelines had a thread).
    assert worker.cameras["bad"].stats.processed == 0 and worker.cameras["good"].stats.processed > 0
