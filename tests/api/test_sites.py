"""Camera health from edge boxes, the site configuration they fetch, and the audit log."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from api.http.services import services_of
from api.sites.config import CONFIG_CHECK
from tests.api.builders import ANNOTATED, JPEG, event, post
from tests.api.conftest import Api


def test_camera_health_is_reported_and_read(api: Api) -> None:
    report = [
        {"site_id": "site-a", "camera_id": "gate", "online": True, "input_fps": 9.8, "frames_processed": 120},
        {
            "site_id": "site-a",
            "camera_id": "yard",
            "online": False,
            "offline_since": "2026-11-23T01:00:00+00:00",
            "last_error": "stream dropped",
        },
    ]
    assert api.client.post("/api/v1/ingest/health", json=report, headers=api.as_("edge")).status_code == 204
    report[0]["input_fps"] = 5.0
    api.client.post("/api/v1/ingest/health", json=report[:1], headers=api.as_("edge"))
    cameras = api.client.get("/api/v1/sites/site-a/cameras", headers=api.as_("viewer")).json()
    assert [(c["camera_id"], c["online"], c["input_fps"]) for c in cameras] == [
        ("gate", True, 5.0),
        ("yard", False, 0.0),
    ]
    assert cameras[1]["last_error"] == "stream dropped"
    assert api.client.post("/api/v1/ingest/health", json=report, headers=api.as_("edge_b")).status_code == 403
    assert api.client.get("/api/v1/sites/site-a/cameras", headers=api.as_("other_site")).status_code == 404


def test_the_last_frame_thumbnail_is_kept_and_served(api: Api) -> None:
    item = {
        "site_id": "site-a",
        "camera_id": "gate",
        "online": True,
        "thumbnail_jpeg": base64.b64encode(JPEG).decode(),
    }
    assert api.client.post("/api/v1/ingest/health", json=[item], headers=api.as_("edge")).status_code == 204
    [camera] = api.client.get("/api/v1/sites/site-a/cameras", headers=api.as_("viewer")).json()
    assert camera["has_thumbnail"] and "thumbnail_jpeg" not in camera
    thumb = api.client.get("/api/v1/sites/site-a/cameras/gate/thumbnail", headers=api.as_("viewer"))
    assert (
        thumb.status_code == 200 and thumb.content == JPEG and thumb.headers["content-type"] == "image/jpeg"
    )
    other = api.client.get("/api/v1/sites/site-a/cameras/gate/thumbnail", headers=api.as_("other_site"))
    assert other.status_code == 404
    assert (
        api.client.get("/api/v1/sites/site-a/cameras/yard/thumbnail", headers=api.as_("viewer")).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("thumbnail", "says"),
    [(base64.b64encode(b"GIF89a not a jpeg").decode(), "not a JPEG"), ("%%%not base64", "base64")],
)
def test_a_bad_thumbnail_is_refused_and_nothing_is_stored(api: Api, thumbnail: str, says: str) -> None:
    item = {"site_id": "site-a", "camera_id": "gate", "online": True, "thumbnail_jpeg": thumbnail}
    response = api.client.post("/api/v1/ingest/health", json=[item], headers=api.as_("edge"))
    assert response.status_code == 422 and says in response.text
    assert api.client.get("/api/v1/sites/site-a/cameras", headers=api.as_("viewer")).json() == []


def test_sites_are_listed_within_the_callers_scope(api: Api) -> None:
    for key in ("edge", "edge_b"):
        item = {"site_id": "site-a" if key == "edge" else "site-b", "camera_id": "gate", "online": True}
        assert api.client.post("/api/v1/ingest/health", json=[item], headers=api.as_(key)).status_code == 204
    every = api.client.get("/api/v1/sites", headers=api.as_("viewer")).json()
    assert [s["id"] for s in every] == ["site-a", "site-b"]
    mine = api.client.get("/api/v1/sites", headers=api.as_("supervisor")).json()
    assert [s["id"] for s in mine] == ["site-a"]


def test_site_configuration_is_kept_versioned_and_fetched_by_the_edge(api: Api) -> None:
    document = {
        "site": {"id": "site-a", "timezone": "Asia/Shanghai"},
        "cameras": {"gate": {"url": "rtsp://x/1"}},
    }
    first = api.client.put("/api/v1/sites/site-a/config", json=document, headers=api.as_("admin"))
    assert first.status_code == 200 and first.json()["version"] == 1
    document["cameras"]["yard"] = {"url": "rtsp://x/2"}
    assert (
        api.client.put("/api/v1/sites/site-a/config", json=document, headers=api.as_("admin")).json()[
            "version"
        ]
        == 2
    )
    fetched = api.client.get("/api/v1/sites/site-a/config", headers=api.as_("edge")).json()
    assert fetched["version"] == 2 and set(fetched["document"]["cameras"]) == {"gate", "yard"}
    assert api.client.get("/api/v1/sites/site-a/config", headers=api.as_("edge_b")).status_code == 404
    wrong = api.client.put(
        "/api/v1/sites/site-a/config", json={"site": {"id": "other"}}, headers=api.as_("admin")
    )
    assert wrong.status_code == 422
    assert (
        api.client.put(
            "/api/v1/sites/site-a/config", json=document, headers=api.as_("supervisor")
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("document", "reasons"),
    [
        ({"bogus": 1}, ["site-site-a.yaml:2: bogus: unknown key"]),
        (
            {"schedule": {"start": "08:00", "end": "08:00"}},
            ["site-site-a.yaml:2: schedule: Value error, start and end are both 08:00"],
        ),
        ({"schedule": {"days": []}}, ["site-site-a.yaml:3: schedule.days: Value error, no working day"]),
        (  # the worker completes a sink of its own only where there is none
            {"sink": {"type": "http", "url": "ftp://central"}, "cameras": {"gate": {"url": ""}}},
            [
                "site-site-a.yaml:4: sink.url: Value error, expected an http://",
                "site-site-a.yaml:7: cameras.gate.url",
            ],
        ),
        (
            {"cameras": {"gate": {"url": "rtsp://cam/${CAMERA_PASSWORD}"}}},
            ["uses ${...} placeholders, which a fetched configuration may not (they would read the worker's"],
        ),
    ],
)
def test_a_configuration_the_workers_would_refuse_is_not_stored(
    api: Api, document: dict[str, Any], reasons: list[str]
) -> None:
    answer = api.client.put("/api/v1/sites/site-a/config", json=document, headers=api.as_("admin"))
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert len(detail) == len(reasons) and all(r in d for r, d in zip(reasons, detail, strict=True)), detail
    assert api.client.get("/api/v1/sites/site-a/config", headers=api.as_("edge")).status_code == 404


def test_a_configuration_is_stored_only_by_an_api_that_can_check_it(api: Api) -> None:
    # A document without a site: the worker gives it the site's id, so it is good.
    document = {"cameras": {"gate": {"url": "rtsp://cam/gate"}}}
    assert (
        api.client.put("/api/v1/sites/site-a/config", json=document, headers=api.as_("admin")).status_code
        == 200
    )
    services_of(api.app).owned.swap(CONFIG_CHECK, None)
    answer = api.client.put("/api/v1/sites/site-a/config", json=document, headers=api.as_("admin"))
    assert answer.status_code == 503 and "configuration check" in answer.text


def test_the_audit_log_records_reviews_downloads_and_changes(api: Api) -> None:
    post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    api.client.get("/api/v1/events/evt-00000001/snapshot", headers=api.as_("supervisor"))
    api.client.post(
        "/api/v1/events/evt-00000001/review", json={"verdict": "confirmed"}, headers=api.as_("supervisor")
    )
    entries = api.client.get("/api/v1/audit", headers=api.as_("admin")).json()
    actions = [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]
    assert ("supervisor A", "download_snapshot", "event:evt-00000001") in actions
    assert ("supervisor A", "review", "event:evt-00000001") in actions
    assert ("supervisor A", "open_case", "case:1") in actions
    assert api.client.get("/api/v1/audit", headers=api.as_("supervisor")).status_code == 403
