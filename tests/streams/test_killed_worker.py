"""Events a worker had open when it was killed are ended: by the worker's next start, or by the API when
the edge stays silent. A clean stop ends camera_offline; a video file that goes away is offline.

Regression (issue 13, finding 20): a worker killed mid-event (SIGKILL, a real ``sitewatch worker``
process) left its events open forever; the API never closed them; a camera whose file was gone stayed
"online"; a clean stop left camera_offline open.
"""

from __future__ import annotations

import dataclasses
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import Event
from detector.engine import Engine
from sitewatch.config import config_from_text
from sitewatch.edge import build_worker
from streams.events import EventKind, Phase
from streams.outbox import RESTART_REASON
from streams.sinks import MemorySink
from tests.conftest import ROOT
from tests.streams.rtsp import free_port
from tests.streams.test_durability import start_worker
from tests.waiting import wait_for

PPE = ("no_helmet", "no_vest")


@dataclasses.dataclass
class Central:
    app: FastAPI
    url: str
    key: str

    def events(self) -> dict[str, Event]:
        with services_of(self.app).sessions() as session:
            return {e.id: e for e in session.scalars(select(Event))}


@pytest.fixture
def central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Central]:
    """The real API on loopback; ``request.param`` is its SITEWATCH_EVENT_SILENCE_MIN."""
    settings = ApiSettings.from_env(data_dir=tmp_path / "central").model_copy(
        update={"event_silence_min": request.param}
    )
    app = create_app(settings)
    with services_of(app).sessions() as session:
        key = create_key(session, name="edge", role="edge", site_ids=["demo"])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, "the API")
    yield Central(app, f"http://127.0.0.1:{port}", key)
    server.should_exit = True
    thread.join(timeout=30)
    services_of(app).engine.dispose()


def edge_config(path: Path, central: Central) -> Path:
    """A worker on the looping demo video whose incidents stay open (a long cooldown) until it stops."""
    path.write_text(
        f"""
site: {{id: demo, timezone: Asia/Shanghai}}
rules:
  no_helmet: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  no_vest: {{armed: always, persistence: {{k: 2, n: 4, min_duration_s: 0.5}}}}
  smoking: {{enabled: false}}
  cooldown_s: 600
false_alarms: {{enabled: false}}
sink: {{type: http, url: "{central.url}", api_key: "{central.key}", outbox: "{path.parent / "outbox.sqlite"}",
        retry_max_s: 0.5}}
cameras:
  gate: {{url: {ROOT / "configs" / "demo" / "site-demo.mp4"}, loop: true}}
"""
    )
    return path


@pytest.mark.parametrize(
    ("central", "restart", "reason"),
    [
        (60.0, True, RESTART_REASON),  # the worker's next start ends what the killed one had open
        (0.1, False, "no update from the edge box for 0.1 min"),  # no restart: the API ends them
    ],
    indirect=["central"],
)
def test_events_of_a_killed_worker_are_ended(
    central: Central, tmp_path: Path, restart: bool, reason: str
) -> None:
    config = edge_config(tmp_path / "edge.yaml", central)
    log = tmp_path / "worker.log"
    worker = start_worker(config, log)
    try:

        def open_ppe() -> set[str]:
            return {i for i, e in central.events().items() if e.kind in PPE and e.status == "open"}

        wait_for(open_ppe, 120, "an open violation in the API", poll=0.2)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        left_open = open_ppe()
        if restart:
            worker = start_worker(config, log)
        wait_for(lambda: not (left_open & open_ppe()), 90, "the killed worker's events ended", poll=0.5)
        events = central.events()
        for event_id in left_open:
            assert events[event_id].status == "ended" and events[event_id].ended_at is not None
            assert events[event_id].details["reason"] == reason
        if restart:  # the new run goes on watching, and its clean stop ends everything it opened
            wait_for(lambda: open_ppe() - left_open, 60, "a new event after the restart", poll=0.2)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=60) == 0
            wait_for(lambda: not open_ppe(), 30, "every event ended after a clean stop", poll=0.2)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
    assert central.key not in log.read_text()


def test_a_vanished_file_goes_offline_and_a_clean_stop_ends_camera_offline(
    engine: Engine, tmp_path: Path
) -> None:
    video = tmp_path / "gate.mp4"
    shutil.copy(ROOT / "configs" / "demo" / "site-demo.mp4", video)
    config = config_from_text(
        f"site: {{id: demo}}\ncameras:\n  gate: {{url: {video}, loop: true, offline_after_s: 1}}\n"
    )
    sink = MemorySink()
    worker = build_worker(config, sink=sink, engine=engine)
    worker.start()
    try:
        capture = worker.cameras["gate"].capture
        wait_for(lambda: capture.health.online, 30, "the file camera online")
        video.unlink()  # the open handle could play on: the file must be seen gone
        wait_for(lambda: not capture.health.online, 10, "the camera offline")
        assert "no longer readable" in str(capture.health.last_error) or "not found" in str(
            capture.health.last_error
        )
        wait_for(
            lambda: any(u.kind is EventKind.CAMERA_OFFLINE for u in list(sink.updates)), 10, "camera_offline"
        )
    finally:
        worker.stop()
    offline = [u for u in sink.updates if u.kind is EventKind.CAMERA_OFFLINE]
    assert [u.phase for u in offline] == [Phase.START, Phase.END]
    assert offline[1].details["reason"] == "worker stopped"


def test_the_outbox_ends_what_a_previous_run_left_open(tmp_path: Path) -> None:
    """The outbox alone: a start and an update left open, another event ended, then a new run's sink."""
    from streams.events import EventUpdate
    from streams.outbox import Outbox

    outbox = Outbox(tmp_path / "outbox.sqlite")
    first = EventUpdate.begin(EventKind.NO_HELMET, "demo", "gate", started_at=100.0, now=100.0)
    closed = EventUpdate.begin(EventKind.NO_VEST, "demo", "gate", started_at=100.0, now=100.0)
    for update in (
        first,
        closed,
        first.next(Phase.UPDATE, 105.0, people_count=2),
        closed.next(Phase.END, 106.0, ended_at=104.0),
    ):
        outbox.put(update)
    assert outbox.end_open(200.0, RESTART_REASON) == [first.event_id]
    assert outbox.end_open(201.0, RESTART_REASON) == []  # once
    rows = []
    while (item := outbox.oldest()) is not None:
        rows.append(item[1])
        outbox.delete(item[0])
    last = rows[-1]
    assert f'"event_id":"{first.event_id}","seq":2,"phase":"end"' in last
    assert '"ended_at":"1970-01-01T00:01:45.000+00:00"' in last and RESTART_REASON in last
