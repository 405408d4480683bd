"""The map benchmark's seed (sitewatch.bench.map) is what the projects API serves: every marker status
appears, positions stay in the district, phone numbers decrypt."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.core.settings import ApiSettings
from api.http.services import services_of
from sitewatch.bench.map import CENTRE, SPREAD, close_a_case, seed_projects

ADMIN = "sw_bench-map-admin-key-0123456789abcdefgh"


def test_the_seed_shows_every_status_on_the_map_and_a_change_moves_one(tmp_path: Path) -> None:
    app = create_app(
        ApiSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", data_dir=tmp_path, admin_key=ADMIN),
        dispatch=False,
    )
    seed_projects(app, count=60)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    with TestClient(app) as client:
        markers = client.get("/api/v1/projects/map", headers=headers).json()
        assert len(markers) == 60
        statuses = Counter(m["status"] for m in markers)
        assert set(statuses) == {"overdue", "open_cases", "offline", "active", "planned", "finished"}
        for m in markers:
            assert abs(m["lat"] - CENTRE[0]) <= SPREAD and abs(m["lon"] - CENTRE[1]) <= SPREAD
        first = client.get(f"/api/v1/projects/{markers[0]['id']}", headers=headers).json()
        assert first["contact_phone"] == "13800000000"
        close_a_case(app)
        after = Counter(m["status"] for m in client.get("/api/v1/projects/map", headers=headers).json())
        assert after - statuses == Counter(active=1) and statuses - after == Counter(open_cases=1)
    services_of(app).engine.dispose()
