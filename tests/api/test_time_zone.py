"""One time zone for the whole API (issue 24, item 8): the alerts configuration's ``timezone``, passed in
once. With a zone other than Shanghai's, the figures, the brief, the analysis, the officers' presence, a
project's dates and the web UI's days all count in it. The zone was a process global (projects), the
app's state (analyses), ``Asia/Shanghai`` written in the brief's route and the CLI, ``UTC`` in the
figures' and the presence's routes, a zone written in the dashboard and the browser's own on the
officers page."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alerts.config import AlertsConfig
from api.access.auth import create_key
from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from tests.api.builders import JPEG, event
from tests.api.conftest import ADMIN_KEY

ZONE = "America/Los_Angeles"
#: Monday 16 November 2026 06:30 UTC: Sunday the 15th, 22:30, in Los Angeles (ISO week 46), but Monday
#: the 16th, 14:30, in Shanghai (week 47).
MOMENT = "2026-11-16T06:30:00+00:00"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = ApiSettings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=ADMIN_KEY
    )
    app = create_app(settings, AlertsConfig(timezone=ZONE), dispatch=False)
    with services_of(app).sessions() as session:
        edge = {
            "Authorization": f"Bearer {create_key(session, name='edge', role='edge', site_ids=['site-a'])}"
        }
    with TestClient(app) as test_client:
        yield test_client, edge
    services_of(app).engine.dispose()


def upload(client: TestClient, edge: dict[str, str], event_id: str, **extra: Any) -> int:
    body = event(
        event_id,
        started_at=MOMENT,
        updated_at=MOMENT,
        evidence={"snapshot_sha256": hashlib.sha256(JPEG).hexdigest()},
        **extra,
    )
    files = {"snapshot": ("snapshot.jpg", JPEG, "image/jpeg")}
    return client.post(
        "/api/v1/ingest/events", data={"event": json.dumps(body)}, files=files, headers=edge
    ).status_code


def test_every_part_counts_in_the_configured_zone(client: tuple[TestClient, dict[str, str]]) -> None:
    http, edge = client
    assert http.get("/api/v1/auth/me", headers=ADMIN).json()["timezone"] == ZONE  # the web UI's zone
    assert upload(http, edge, "evt-zone-0001") == 201
    span = {"since": "2026-11-09T00:00:00+00:00", "until": "2026-11-23T00:00:00+00:00"}

    figures = http.get("/api/v1/stats", params=span, headers=ADMIN).json()
    assert [day for day, row in figures["by_day"].items() if row["violations"]] == ["2026-11-15"]
    assert figures["period"]["tz"] == ZONE

    found = http.get("/api/v1/analysis", params={"start": span["since"], "end": span["until"]}, headers=ADMIN)
    assert found.status_code == 200, found.text
    assert found.json()["period"]["tz"] == ZONE
    assert [hour for hour, n in enumerate(found.json()["by_hour"]) if n] == [22]

    def violations(period: str) -> str:
        html = http.get("/api/v1/briefs", params={"period": period, "lang": "en"}, headers=ADMIN).text
        match = re.search(r'data-figure="violations"><span class="muted">[^<]*</span><b>([^<]*)</b>', html)
        assert match, html[:300]
        return match[1]

    assert (violations("2026-W46"), violations("2026-W47")) == ("1", "0")

    sighting = {"site_id": "site-a", "officer": "zhang_wei", "camera_id": "gate", "at": MOMENT}
    assert http.post("/api/v1/ingest/sightings", json=sighting, headers=edge).status_code == 204
    on_the_15th = http.get("/api/v1/sites/site-a/presence", params={"day": "2026-11-15"}, headers=ADMIN)
    assert [p["officer"] for p in on_the_15th.json()] == ["zhang_wei"]


def test_a_projects_last_day_is_a_local_day(client: tuple[TestClient, dict[str, str]]) -> None:
    http, edge = client
    project = {
        "site_id": "site-a",
        "name": "幸福路外墙",
        "planned_start": "2026-11-01",
        "planned_end": "2026-11-15",  # still the 15th in Los Angeles at MOMENT, the 16th in Shanghai
    }
    assert http.post("/api/v1/projects", json=project, headers=ADMIN).status_code == 201
    assert upload(http, edge, "evt-zone-0002") == 201  # stored: armed, not "disarmed" (200)
