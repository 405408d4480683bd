"""The edge HTTP sink against the real API under uvicorn on loopback; the `sitewatch api` command."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import uvicorn
from sqlalchemy import func, select
from sqlalchemy import update as update_

from api.access.auth import Role, create_key, key_digest
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import ApiKey, IngestedUpdate
from streams.events import EventKind, EventUpdate, Evidence, Phase
from streams.outbox import Outbox
from streams.sinks import HttpSink
from tests.conftest import ROOT
from tests.streams.rtsp import free_port
from tests.waiting import wait_for


def updates() -> list[EventUpdate]:
    jpeg = cv2.imencode(".jpg", np.full((40, 40, 3), 30, np.uint8))[1].tobytes()
    marked = cv2.imencode(".jpg", np.full((40, 40, 3), 220, np.uint8))[1].tobytes()
    out = []
    for i in range(3):
        start = EventUpdate.begin(
            EventKind.NO_VEST,
            "site-a",
            "gate",
            started_at=1_764_000_000.0 + i,
            now=1_764_000_000.0 + i,
            score=0.7,
            people_count=1,
            evidence=Evidence(jpeg, marked),
        )
        out += [start, start.next(Phase.END, start.updated_at + 30, ended_at=start.updated_at + 20)]
    return out


def test_updates_sent_while_the_api_is_down_arrive_once_when_it_is_up(tmp_path: Path) -> None:
    port = free_port()
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=None
    )
    app = create_app(settings)
    with services_of(app).sessions() as session:
        key = create_key(session, name="edge", role="edge", site_ids=["site-a"])
    sink = HttpSink(
        f"http://127.0.0.1:{port}",
        key,
        Outbox(tmp_path / "outbox.sqlite"),
        backoff_initial_s=0.1,
        backoff_max_s=0.3,
    )
    sent = updates()
    for update in sent:
        sink.emit(update)
    wait_for(lambda: sink.failures >= 2, 20, "failed deliveries while the API is down")

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(sink.outbox) == 0, 30, "the outbox to drain")
        for update in sent[:2]:  # a retry of something already stored changes nothing
            sink.emit(update)
        wait_for(lambda: len(sink.outbox) == 0, 30, "the retries to be answered")
        sink.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    with services_of(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestedUpdate)) == 6
    stored = [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]
    assert len(stored) == 2  # the same two JPEGs, stored once each


def test_api_command_starts_without_configuration_and_shows_the_admin_key_once(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SITEWATCH_ADMIN_KEY"}

    def start() -> tuple[subprocess.Popen[str], list[str]]:
        process = subprocess.Popen(
            [sys.executable, "-m", "sitewatch.cli", "api", "--port", str(port), "--data-dir", str(tmp_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("sitewatch API on"):
                break
        return process, lines

    first, lines = start()
    first.terminate()
    first.wait(timeout=30)
    assert any(line.startswith("first start: admin key") for line in lines), lines
    second, lines = start()
    second.terminate()
    second.wait(timeout=30)
    assert not any("admin key" in line for line in lines)


@pytest.mark.parametrize(
    ("key_role", "refusal"),
    [
        (None, "HTTP 401"),  # a key the API does not know (yet)
        ("viewer", "HTTP 403"),  # a key of the wrong role
    ],
)
def test_updates_refused_for_the_key_are_held_until_the_key_is_fixed(
    tmp_path: Path, key_role: Role | None, refusal: str
) -> None:
    # Regression (issue 13, finding 19): every update refused with 401 was set aside and never sent again,
    # even after the key was fixed. A refusal of the key holds the queue, is reported, and is retried.
    port = free_port()
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=None, key_cache_s=0
    )
    app = create_app(settings, dispatch=False)
    secret = "sw_edge-key-installed-before-it-exists-000000"
    if key_role is not None:
        with services_of(app).sessions() as session:
            create_key(session, name="edge", role=key_role, site_ids=["site-a"], key=secret)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    sink = HttpSink(
        f"http://127.0.0.1:{port}",
        secret,
        Outbox(tmp_path / "outbox.sqlite"),
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )
    try:
        for update in updates():
            sink.emit(update)
        wait_for(lambda: sink.failures >= 3, 30, "refused deliveries")
        health = sink.health()
        assert refusal in str(health["auth_error"]) and health["pending"] == 6
        with services_of(app).sessions() as session:  # the admin fixes the key
            if key_role is None:
                create_key(session, name="edge", role="edge", site_ids=["site-a"], key=secret)
            else:
                digest = key_digest(session, secret)
                fixed = update_(ApiKey).where(ApiKey.key_hash == digest).values(role="edge")
                session.execute(fixed)
                session.commit()
        wait_for(lambda: len(sink.outbox) == 0, 30, "the held updates to arrive")
        assert sink.health()["auth_error"] is None
        sink.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    with services_of(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestedUpdate)) == 6
