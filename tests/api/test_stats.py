"""Statistics against figures worked out by hand from seeded events, reviews, cases and sightings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.builders import event, post
from tests.api.conftest import Api

SEED = [
    # (event id, kind, camera, started_at UTC) — Shanghai is UTC+8
    ("evt-st-0001", "no_helmet", "gate", "2026-11-23T01:00:00+00:00"),  # Mon 09:00 local
    ("evt-st-0002", "no_helmet", "gate", "2026-11-23T02:00:00+00:00"),
    ("evt-st-0003", "no_helmet", "yard", "2026-11-23T03:00:00+00:00"),
    ("evt-st-0004", "no_vest", "yard", "2026-11-23T17:30:00+00:00"),  # Tue 01:30 local: the next day
    ("evt-st-0005", "camera_offline", "yard", "2026-11-23T04:00:00+00:00"),  # not a violation
]


def test_stats_by_day_site_camera_kind_cases_and_presence(api: Api) -> None:
    for event_id, kind, camera, started in SEED:
        assert (
            post(
                api, event(event_id, kind=kind, camera_id=camera, started_at=started, evidence={})
            ).status_code
            == 201
        )
    for event_id, verdict in [
        ("evt-st-0001", "confirmed"),
        ("evt-st-0003", "confirmed"),
        ("evt-st-0002", "false_alarm"),
    ]:
        api.client.post(
            f"/api/v1/events/{event_id}/review", json={"verdict": verdict}, headers=api.as_("supervisor")
        )
    cases = api.client.get("/api/v1/cases", headers=api.as_("admin")).json()
    # gate and yard no_helmet (confirmed), and camera_offline (opened at its start by the default policy)
    assert sorted((c["camera_id"], c["kind"]) for c in cases) == [
        ("gate", "no_helmet"),
        ("yard", "camera_offline"),
        ("yard", "no_helmet"),
    ]
    gate = next(c for c in cases if c["camera_id"] == "gate")
    api.client.patch(f"/api/v1/cases/{gate['id']}", json={"status": "closed"}, headers=api.as_("supervisor"))

    params = {
        "since": "2026-11-23T00:00:00+08:00",
        "until": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "tz": "Asia/Shanghai",
    }
    stats = api.client.get("/api/v1/stats", params=params, headers=api.as_("viewer")).json()
    assert stats["totals"]["violations"] == 4
    assert stats["totals"]["by_kind"] == {"no_helmet": 3, "no_vest": 1}
    assert stats["totals"]["false_alarm_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert {d: v["violations"] for d, v in stats["by_day"].items()} == {"2026-11-23": 3, "2026-11-24": 1}
    assert {c: v["violations"] for c, v in stats["by_camera"].items()} == {"site-a/gate": 2, "site-a/yard": 2}
    # 3 cases: gate (closed at once), yard (open) and camera_offline (opened at its start, open)
    assert stats["cases"]["opened"] == 3 and stats["cases"]["closed"] == 1
    assert stats["cases"]["closure_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert stats["cases"]["closed_within_24h_share"] == pytest.approx(1 / 3, abs=1e-3)
    assert stats["cases"]["median_handling_hours"] < 0.1


def test_officer_on_site_share_of_working_hours(api: Api) -> None:
    # Monday 09:00-10:00 Shanghai, seen every minute: one hour of a 08:00-18:00 day.
    for minute in range(61):
        at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC) + timedelta(minutes=minute)
        body = {"site_id": "site-a", "officer": "zhang_wei", "camera_id": "gate", "at": at.isoformat()}
        api.client.post("/api/v1/ingest/sightings", json=body, headers=api.as_("edge"))
    params = {
        "since": "2026-11-23T00:00:00+08:00",
        "until": "2026-11-24T00:00:00+08:00",
        "tz": "Asia/Shanghai",
    }
    stats = api.client.get("/api/v1/stats", params=params, headers=api.as_("viewer")).json()
    assert stats["officer_on_site_share"] == {"site-a": pytest.approx(0.1, abs=1e-3)}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"tz": "Nowhere/Land"}, 400),
        ({"since": "2026-11-24T00:00:00+00:00", "until": "2026-11-23T00:00:00+00:00"}, 400),
        ({"since": "2026-11-23T00:00:00"}, 400),  # no offset
        # Regressions found by the fuzzer: calendar edges were 500s, a 2,000-year period took seconds. Times
        # outside the years 2000..2099 are now refused as invalid (422) before the route sees them.
        ({"until": "0001-01-02T00:00:00+00:00"}, 422),
        ({"until": "9999-12-31T23:59:59+00:00"}, 422),
        ({"since": "0001-01-01T00:00:00+00:00"}, 422),
        ({"since": "2025-01-01T00:00:00+00:00", "until": "2026-03-01T00:00:00+00:00"}, 400),
    ],
)
def test_bad_stats_queries_are_400(api: Api, params: dict[str, str], status: int) -> None:
    assert api.client.get("/api/v1/stats", params=params, headers=api.as_("viewer")).status_code == status


@pytest.mark.parametrize(
    ("tz", "since", "until", "days"),
    [
        # Berlin moves its clocks back on 25 October 2026 (UTC+2, then UTC+1): days counted across the change
        ("Europe/Berlin", "2026-10-20T00:00:00+02:00", "2026-10-30T00:00:00+01:00",
         {"2026-10-24": 1, "2026-10-25": 1, "2026-10-26": 1}),
        # Shanghai keeps UTC+8: 21:30 UTC is the next day there (below: 25, 25, 26 and 26 October)
        ("Asia/Shanghai", "2026-10-20T00:00:00+08:00", "2026-10-30T00:00:00+08:00",
         {"2026-10-25": 2, "2026-10-26": 2}),
    ],
)  # fmt: skip
def test_days_are_counted_in_the_time_zone_asked_for(
    api: Api, tz: str, since: str, until: str, days: dict[str, int]
) -> None:
    for event_id, started in [
        ("evt-tz-0001", "2026-10-24T21:30:00+00:00"),  # Berlin 24 Oct 23:30 (CEST); Shanghai 25 Oct 05:30
        ("evt-tz-0002", "2026-10-25T12:00:00+00:00"),  # Berlin 25 Oct 13:00 (CET); Shanghai 25 Oct 20:00
        ("evt-tz-0003", "2026-10-25T23:30:00+00:00"),  # Berlin 26 Oct 00:30; Shanghai 26 Oct 07:30
    ]:
        body = event(event_id, kind="no_helmet", camera_id="gate", started_at=started, evidence={})
        assert post(api, body).status_code == 201
    if tz == "Asia/Shanghai":
        extra = event("evt-tz-0004", kind="no_vest", camera_id="yard", started_at="2026-10-26T01:00:00+00:00")
        assert post(api, extra | {"evidence": {}}).status_code == 201  # Shanghai 26 Oct 09:00
    params = {"since": since, "until": until, "tz": tz}
    stats = api.client.get("/api/v1/stats", params=params, headers=api.as_("viewer")).json()
    assert {d: v["violations"] for d, v in stats["by_day"].items()} == days
