"""The false-alarm memory end to end: the real worker and models on a looping video of a bare-headed,
vest-less worker, sending through the HTTP sink to the real API on loopback. A supervisor marks the
no_helmet event a false alarm; the edge box refreshes its memory; the same scene then raises no no_helmet
event, while the other violation at the same camera (no_vest) still does, and the suppressions reach the
camera's health and /metrics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from detector.engine import Engine
from sitewatch.config import config_from_text
from sitewatch.edge import build_worker
from sitewatch.false_alarms import FalseAlarmSync, api_fetch
from sitewatch.health_reporter import health_report
from streams.memory import FalseAlarmMemory
from streams.outbox import Outbox
from streams.sinks import HEALTH_PATH, HttpSink, json_poster
from streams.worker import Worker
from tests.streams.rtsp import free_port
from tests.streams.test_worker_rtsp import PHOTOS
from tests.waiting import wait_for


def scene_video(path: Path, frames: int = 50, size: int = 640) -> Path:
    """The photo of a worker without hard hat and vest, held with a small camera sway, as an MP4."""
    # IMG_0871: a bare head and no vest, both found by the shipped model (the masked close-up of PHOTOS[0]
    # is one of its known misses, see tests/detector/test_engine.py)
    image = cv2.resize(cv2.imread(str(PHOTOS[1])), (size, size))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (size, size))
    for i in range(frames):
        matrix = np.float32([[1, 0, 4 * np.sin(i / 2)], [0, 1, 3 * np.cos(i / 3)]])
        writer.write(cv2.warpAffine(image, matrix, (size, size), borderMode=cv2.BORDER_REFLECT))
    writer.release()
    return path


@pytest.fixture
def central(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """The central API under uvicorn on a free loopback port."""
    port = free_port()
    app = create_app(ApiSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: server.started, 30, "the API")
    yield base, app
    server.should_exit = True
    thread.join(timeout=10)
    services_of(app).engine.dispose()


def events(base: str, key: str) -> list[dict[str, object]]:
    answer = httpx.get(
        f"{base}/api/v1/events", params={"limit": 100}, headers={"Authorization": f"Bearer {key}"}
    )
    answer.raise_for_status()
    data: list[dict[str, object]] = answer.json()["data"]
    return data


def test_a_false_alarm_does_not_alarm_again_but_another_violation_does(
    central: tuple[str, FastAPI], engine: Engine, tmp_path: Path
) -> None:
    base, app = central
    with services_of(app).sessions() as session:
        edge_key = create_key(session, name="edge", role="edge", site_ids=["test-site"])
        supervisor = create_key(session, name="supervisor", role="supervisor", site_ids=["test-site"])
    video = scene_video(tmp_path / "scene.mp4")
    config = config_from_text(f"""
site: {{id: test-site, timezone: Asia/Shanghai}}
rules:
  no_helmet: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  no_vest: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  smoking: {{enabled: false}}
  cooldown_s: 3
motion: {{enabled: false}}
cameras:
  gate: {{url: "{video}", loop: true, detect_fps: 4}}
""")
    sync = FalseAlarmSync(FalseAlarmMemory(), api_fetch(base, edge_key, "test-site"), refresh_s=3600)
    sync.start()  # nothing remembered yet

    def run(outbox: str) -> Worker:
        sink = HttpSink(base, edge_key, Outbox(tmp_path / outbox), backoff_initial_s=0.1, backoff_max_s=0.5)
        worker = build_worker(config, sink=sink, engine=engine, memory=sync.memory)
        worker.start()
        return worker

    def started(kind: str) -> list[str]:
        return [str(e["id"]) for e in events(base, supervisor) if e["kind"] == kind]

    # 1. The scene raises both violations, with the people's boxes and looks recorded.
    worker = run("outbox-1.sqlite")
    try:
        wait_for(lambda: started("no_helmet") and started("no_vest"), 120, "both events at the API", poll=0.2)
    finally:
        worker.stop()
    (helmet_event,) = started("no_helmet")
    first_vest = set(started("no_vest"))

    # 2. A supervisor marks the no_helmet event a false alarm: its camera remembers the person.
    auth = {"Authorization": f"Bearer {supervisor}"}
    answer = httpx.post(
        f"{base}/api/v1/events/{helmet_event}/review", json={"verdict": "false_alarm"}, headers=auth
    )
    assert answer.status_code == 200, answer.text
    entries = httpx.get(f"{base}/api/v1/sites/test-site/false-alarms", headers=auth).json()
    assert [(e["camera_id"], e["kind"]) for e in entries] == [("gate", "no_helmet")] * len(
        entries
    ) and entries

    # 3. The edge box refreshes; the same scene raises no no_helmet event, the no_vest one still comes.
    assert sync.refresh() and len(sync.memory) == len(entries)
    worker = run("outbox-2.sqlite")
    pipeline = worker.cameras["gate"].pipeline
    try:
        wait_for(lambda: set(started("no_vest")) - first_vest, 120, "a new no_vest event", poll=0.2)
        wait_for(lambda: pipeline.suppressed.get("no_helmet", 0) >= 8, 60, "looks suppressed", poll=0.2)
        assert started("no_helmet") == [helmet_event]
        json_poster(base, edge_key, HEALTH_PATH)(health_report(worker, "test-site"))
    finally:
        worker.stop()
        sync.stop()
    assert started("no_helmet") == [helmet_event]
    assert "no_vest" not in pipeline.suppressed

    # 4. Nothing was dropped silently: the camera's page and /metrics show the suppressions.
    (camera,) = httpx.get(f"{base}/api/v1/sites/test-site/cameras", headers=auth).json()
    assert camera["suppressions"]["no_helmet"] >= 8
    metrics = httpx.get(f"{base}/metrics", headers=auth).text
    assert (
        'sitewatch_false_alarm_suppressions_total{camera="gate",kind="no_helmet",site="test-site"}' in metrics
    )
