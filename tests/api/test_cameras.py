"""Cameras that go stale (issue 21, item 6): a camera whose edge box has not reported for longer than
``SITEWATCH_CAMERA_STALE_S`` is offline on every list, on the map and in ``/metrics``; every visible camera
comes in one request, scoped by site."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import CameraHealth
from tests.api.builders import create_project
from tests.api.conftest import Api


def report(api: Api, key: str, *cameras: tuple[str, str, bool]) -> None:
    """Camera health as an edge box reports it: (site, camera, online) each."""
    body = [{"site_id": s, "camera_id": c, "online": on} for s, c, on in cameras]
    assert api.client.post("/api/v1/ingest/health", json=body, headers=api.as_(key)).status_code == 204


def backdate(api: Api, site: str, camera: str, *, seconds: float) -> None:
    """Make the camera's last report ``seconds`` old, as if its edge box had gone silent since."""
    with services_of(api.app).sessions() as session:
        session.execute(
            update(CameraHealth)
            .where(CameraHealth.site_id == site, CameraHealth.camera_id == camera)
            .values(reported_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )
        session.commit()


def set_stale_s(api: Api, stale_s: float | None) -> None:
    """The app's ``camera_stale_s`` (``None``: the default, untouched)."""
    if stale_s is not None:
        services = services_of(api.app)
        services.settings = services.settings.model_copy(update={"camera_stale_s": stale_s})


def test_the_default_and_the_environment_set_the_stale_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ApiSettings().camera_stale_s == 120
    monkeypatch.setenv("SITEWATCH_CAMERA_STALE_S", "600")
    assert ApiSettings.from_env().camera_stale_s == 600
    monkeypatch.setenv("SITEWATCH_CAMERA_STALE_S", "0")
    with pytest.raises(ValueError, match="SITEWATCH_CAMERA_STALE_S"):
        ApiSettings.from_env()


@pytest.mark.parametrize(
    ("stale_s", "online"),
    [
        (None, False),  # the default, 120 s: three minutes of silence is offline
        (600, True),  # ten minutes allowed: still online
        (179, False),
        (181, True),
    ],
)
def test_a_camera_silent_for_three_minutes_is_offline_past_the_stale_limit(
    api: Api, stale_s: float | None, online: bool
) -> None:
    create_project(api)
    report(api, "edge", ("site-a", "gate", True), ("site-a", "yard", True))
    backdate(api, "site-a", "gate", seconds=180)
    set_stale_s(api, stale_s)

    listed = api.client.get("/api/v1/sites/site-a/cameras", headers=api.as_("viewer")).json()
    gate = next(c for c in listed if c["camera_id"] == "gate")
    assert (gate["online"], gate["reported_online"], gate["stale"]) == (online, True, not online)
    assert 179 <= gate["last_seen_s"] < 240
    assert next(c for c in listed if c["camera_id"] == "yard")["online"] is True

    everything = api.client.get("/api/v1/cameras", headers=api.as_("viewer")).json()
    assert {(c["camera_id"], c["online"]) for c in everything} == {("gate", online), ("yard", True)}
    offline = api.client.get("/api/v1/cameras?offline=true", headers=api.as_("viewer")).json()
    assert [c["camera_id"] for c in offline] == ([] if online else ["gate"])

    [marker] = api.client.get("/api/v1/projects/map", headers=api.as_("viewer")).json()
    assert (marker["cameras"], marker["cameras_offline"]) == (2, 0 if online else 1)
    assert marker["status"] == ("active" if online else "offline")


def test_a_camera_reported_offline_is_offline_however_fresh(api: Api) -> None:
    report(api, "edge", ("site-a", "gate", False))
    [gate] = api.client.get("/api/v1/cameras", headers=api.as_("viewer")).json()
    assert (gate["online"], gate["reported_online"], gate["stale"]) == (False, False, False)


def test_every_visible_camera_comes_in_one_request_with_its_site_and_project(api: Api) -> None:
    create_project(api, name="幸福路 12 号外墙改造")
    report(api, "edge", ("site-a", "yard", True), ("site-a", "gate", False))
    report(api, "edge_b", ("site-b", "north", True))
    backdate(api, "site-b", "north", seconds=3600)

    def listed(who: str, query: str = "") -> list[tuple[Any, ...]]:
        response = api.client.get(f"/api/v1/cameras{query}", headers=api.as_(who))
        assert response.status_code == 200, response.text
        return [(c["site_id"], c["camera_id"], c["project_name"], c["online"]) for c in response.json()]

    # by project name, sites without a project last; then by camera
    assert listed("viewer") == [
        ("site-a", "gate", "幸福路 12 号外墙改造", False),
        ("site-a", "yard", "幸福路 12 号外墙改造", True),
        ("site-b", "north", "", False),
    ]
    assert listed("supervisor") == [
        ("site-a", "gate", "幸福路 12 号外墙改造", False),
        ("site-a", "yard", "幸福路 12 号外墙改造", True),
    ]
    assert listed("other_site") == [("site-b", "north", "", False)]
    assert listed("viewer", "?offline=true") == [
        ("site-a", "gate", "幸福路 12 号外墙改造", False),
        ("site-b", "north", "", False),
    ]
    assert listed("supervisor", "?offline=true") == [("site-a", "gate", "幸福路 12 号外墙改造", False)]
    assert api.client.get("/api/v1/cameras").status_code == 401


def gauge(text: str, site: str, state: str) -> float | None:
    prefix = f'sitewatch_site_cameras{{site="{site}",state="{state}"}} '
    found = [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]
    return float(found[0]) if found else None


@pytest.mark.parametrize(
    ("stale_s", "site_a", "site_b"),
    [
        # site-a: gate online, yard offline, old online but silent for 3 min; site-b: north online
        (None, {"online": 1, "offline": 1, "stale": 1}, {"online": 1, "offline": 0, "stale": 0}),
        (600, {"online": 2, "offline": 1, "stale": 0}, {"online": 1, "offline": 0, "stale": 0}),
    ],
)
def test_metrics_count_each_sites_cameras_online_offline_and_stale(
    api: Api, stale_s: float | None, site_a: dict[str, int], site_b: dict[str, int]
) -> None:
    report(api, "edge", ("site-a", "gate", True), ("site-a", "yard", False), ("site-a", "old", True))
    report(api, "edge_b", ("site-b", "north", True))
    backdate(api, "site-a", "old", seconds=180)
    set_stale_s(api, stale_s)
    text = api.client.get("/metrics", headers=api.as_("viewer")).text
    for site, expected in (("site-a", site_a), ("site-b", site_b)):
        assert {state: gauge(text, site, state) for state in expected} == expected
    scoped = api.client.get("/metrics", headers=api.as_("other_site")).text
    assert gauge(scoped, "site-b", "online") == 1
    assert 'site="site-a"' not in scoped
