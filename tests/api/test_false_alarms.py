"""The false-alarm memory in the API: a false_alarm review remembers the event's people, readers and the
site's edge boxes list them (and get them with the site configuration), supervisors remove them, expired
ones are left out; suppression counts from camera health add up across edge restarts into /metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from api.http.services import services_of
from api.models import FalseAlarm
from tests.api.builders import ANNOTATED, JPEG, event, post
from tests.api.conftest import Api

SIG = [0.125] * 64  # unit length: 64 * 0.125**2 == 1
PEOPLE = [
    {"track_id": 3, "box": [0.1, 0.2, 0.3, 0.9], "signature": SIG},
    {"track_id": 5, "box": [0.5, 0.2, 0.7, 0.9], "signature": SIG},
    {"track_id": 8, "box": [0.5, 0.2, 0.4, 0.9], "signature": SIG},  # x2 < x1: not remembered
    {"track_id": 9, "box": [0.1, 0.2, 0.3, 0.9], "signature": [0.5] * 3},  # not a signature
]


def raise_event(api: Api, event_id: str, **extra: Any) -> None:
    body = event(event_id, details={"people": PEOPLE}, **extra)
    assert post(api, body, files={"snapshot": JPEG, "annotated": ANNOTATED}).status_code == 201


def review(api: Api, event_id: str, verdict: str, who: str = "supervisor") -> int:
    answer = api.client.post(
        f"/api/v1/events/{event_id}/review", json={"verdict": verdict}, headers=api.as_(who)
    )
    return answer.status_code


def listed(api: Api, who: str = "supervisor", query: str = "") -> list[dict[str, Any]]:
    answer = api.client.get(f"/api/v1/sites/site-a/false-alarms{query}", headers=api.as_(who))
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()
    return result


def test_a_false_alarm_is_remembered_per_person_and_forgotten_when_confirmed(api: Api) -> None:
    raise_event(api, "evt-fam-0001")
    assert review(api, "evt-fam-0001", "false_alarm") == 200
    entries = listed(api)
    assert [(e["camera_id"], e["kind"], e["box"], e["event_id"]) for e in entries] == [
        ("gate", "no_helmet", [0.1, 0.2, 0.3, 0.9], "evt-fam-0001"),
        ("gate", "no_helmet", [0.5, 0.2, 0.7, 0.9], "evt-fam-0001"),
    ]
    first = entries[0]
    assert first["signature"] == SIG and first["created_by"] == "supervisor A"
    lifetime = datetime.fromisoformat(first["expires_at"]) - datetime.fromisoformat(first["created_at"])
    assert lifetime == timedelta(days=30)

    assert review(api, "evt-fam-0001", "false_alarm") == 200  # reviewed again: not remembered twice
    assert len(listed(api)) == 2
    assert review(api, "evt-fam-0001", "confirmed") == 200  # changed their mind: forgotten
    assert listed(api) == []


@pytest.mark.parametrize(
    ("extra", "remembered"),
    [
        ({}, 2),
        ({"kind": "officer_absent"}, 0),  # not a person's look
        ({"camera_id": None}, 0),
        ({"details": {}}, 0),  # an edge box that records no people
    ],
)
def test_what_a_false_alarm_review_remembers(api: Api, extra: dict[str, Any], remembered: int) -> None:
    body = event("evt-fam-0002", details={"people": PEOPLE})
    body.update(extra)
    assert post(api, body, files={"snapshot": JPEG, "annotated": ANNOTATED}).status_code == 201
    assert review(api, "evt-fam-0002", "false_alarm") == 200
    assert len(listed(api)) == remembered


@pytest.mark.parametrize(
    ("who", "status", "count"),
    [
        ("supervisor", 200, 2),
        ("viewer", 200, 2),
        ("edge", 200, 2),
        ("admin", 200, 2),
        ("other_site", 404, 0),
        ("edge_b", 404, 0),
    ],
)
def test_who_lists_a_sites_memory(api: Api, who: str, status: int, count: int) -> None:
    raise_event(api, "evt-fam-0003")
    assert review(api, "evt-fam-0003", "false_alarm") == 200
    answer = api.client.get("/api/v1/sites/site-a/false-alarms", headers=api.as_(who))
    assert answer.status_code == status
    assert len(answer.json()) == count if status == 200 else True
    assert len(listed(api, query="?camera_id=gate")) == 2 and listed(api, query="?camera_id=yard") == []


@pytest.mark.parametrize(
    ("who", "status"),
    [("viewer", 403), ("edge", 403), ("other_site", 404), ("supervisor", 204), ("admin", 204)],
)
def test_who_removes_an_entry(api: Api, who: str, status: int) -> None:
    raise_event(api, "evt-fam-0004")
    assert review(api, "evt-fam-0004", "false_alarm") == 200
    entry = listed(api)[0]
    answer = api.client.delete(f"/api/v1/false-alarms/{entry['id']}", headers=api.as_(who))
    assert answer.status_code == status
    left = [e["id"] for e in listed(api)]
    assert (entry["id"] in left) is (status != 204) and len(left) == (1 if status == 204 else 2)
    if status == 204:
        audit = api.client.get("/api/v1/audit", headers=api.as_("admin")).json()
        assert audit[0]["action"] == "delete_false_alarm"
        assert (
            api.client.delete(f"/api/v1/false-alarms/{entry['id']}", headers=api.as_(who)).status_code == 404
        )


def test_the_site_configuration_carries_the_unexpired_memory(api: Api) -> None:
    document = {"site": {"id": "site-a"}, "cameras": {"gate": {"url": "rtsp://cam/gate"}}}
    assert (
        api.client.put("/api/v1/sites/site-a/config", json=document, headers=api.as_("admin")).status_code
        == 200
    )
    raise_event(api, "evt-fam-0005")
    assert review(api, "evt-fam-0005", "false_alarm") == 200
    config = api.client.get("/api/v1/sites/site-a/config", headers=api.as_("edge")).json()
    assert config["document"] == document and len(config["false_alarms"]) == 2

    expired = config["false_alarms"][0]["id"]
    with services_of(api.app).sessions() as session:
        session.execute(
            update(FalseAlarm)
            .where(FalseAlarm.id == expired)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    config = api.client.get("/api/v1/sites/site-a/config", headers=api.as_("edge")).json()
    assert [e["id"] for e in config["false_alarms"]] != [] and expired not in [
        e["id"] for e in config["false_alarms"]
    ]
    assert expired not in [e["id"] for e in listed(api, who="edge")]


def health(run: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "site_id": "site-a",
            "camera_id": "gate",
            "online": True,
            "suppressions": {"no_helmet": count},
            "suppressions_run": run,
        }
    ]


def test_suppression_counts_add_up_across_edge_restarts_into_the_camera_and_metrics(api: Api) -> None:
    # (run, count since that run started) as an edge box reports them, and the total the API then holds
    reports = [("run-1", 3, 3), ("run-1", 5, 5), ("run-2", 0, 5), ("run-2", 2, 7), ("run-2", 2, 7)]
    for run, count, total in reports:
        answer = api.client.post("/api/v1/ingest/health", json=health(run, count), headers=api.as_("edge"))
        assert answer.status_code == 204, answer.text
        cameras = api.client.get("/api/v1/sites/site-a/cameras", headers=api.as_("viewer")).json()
        assert cameras[0]["suppressions"] == {"no_helmet": total}
    metrics = api.client.get("/metrics", headers=api.as_("viewer")).text
    assert (
        'sitewatch_false_alarm_suppressions_total{camera="gate",kind="no_helmet",site="site-a"} 7.0'
        in metrics
    )
    bad = health("run-3", -1)
    assert api.client.post("/api/v1/ingest/health", json=bad, headers=api.as_("edge")).status_code == 422
