"""Recurring problems (类案): on a small seeded district each planted pattern is found and nothing else;
hours of the day are local hours on SQLite and PostgreSQL; tracked issues are created, listed and closed
by the roles allowed to; briefs carry the section."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from api.access.auth import Principal, create_key
from api.analysis.scope import Thresholds
from api.analysis.service import analyse
from api.core.db import make_engine, migrate, session_factory
from api.http.services import services_of
from api.models import AuditEntry, Event, Site, TrackedIssue
from sitewatch.bench.analysis import Plan, Planted, check, seed_district
from tests.api.conftest import Api

ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 11, 30, tzinfo=ZONE)  # a Monday
#: A small district: 5,000 violations in 8 weeks over 40 projects of 8 companies (seeded in a second).
SMALL = Plan(events=5000, projects=40, companies=8, weeks=8, cameras=2, rise=30)
ADMIN = Principal(name="admin", role="admin")


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Planted]]:
    """The small district, seeded once into SQLite for the tests that only read it."""
    path: Path = tmp_path_factory.mktemp("district") / "db.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        planted = seed_district(session, plan=SMALL, end=END)
    yield sessions, planted
    engine.dispose()


def findings(result: dict[str, Any], kind: str) -> set[str]:
    return {f["subject"] for f in result["findings"] if f["kind"] == kind}


@pytest.mark.parametrize("kind", ["recurring_company", "rising_project", "reopened_cases", "noisy_camera"])
def test_each_planted_pattern_is_found_and_no_other_of_its_kind(
    district: tuple[Any, Planted], kind: str
) -> None:
    sessions, planted = district
    with sessions() as session:
        result = analyse(session, principal=ADMIN, start=planted.start, end=planted.end, tz=ZONE.key)
    expected = {
        "recurring_company": {planted.company},
        "rising_project": {
            f["subject"] for f in result["findings"] if f["site_ids"] == [planted.rising_site]
        },
        "reopened_cases": {f"site:{planted.reopened_site}"},
        "noisy_camera": {planted.camera},
    }[kind]
    assert len(expected) == 1
    assert findings(result, kind) == expected
    found = next(f for f in result["findings"] if f["kind"] == kind)
    assert found["evidence"], "typical events as evidence"
    assert found["action"]["zh"] and found["action"]["en"]
    assert check(result, planted) == []


@pytest.mark.parametrize(
    ("thresholds", "kind", "found"),
    [
        (Thresholds(company_projects=4), "recurring_company", False),  # three hot projects, not four
        (Thresholds(rise_factor=10.0), "rising_project", False),
        (Thresholds(reopen_min=4), "reopened_cases", False),  # three reopened
        (Thresholds(false_share=0.9), "noisy_camera", False),  # 60 % planted
        (Thresholds(false_share=0.05), "noisy_camera", True),  # every camera dismisses ~10 %
    ],
)
def test_thresholds_decide_what_becomes_a_finding(
    district: tuple[Any, Planted], thresholds: Thresholds, kind: str, found: bool
) -> None:
    sessions, planted = district
    with sessions() as session:
        result = analyse(
            session, principal=ADMIN, start=planted.start, end=planted.end, tz=ZONE.key, thresholds=thresholds
        )
    subjects = findings(result, kind)
    if found:
        assert len(subjects) > 1
    else:
        assert not subjects


def test_the_breakdowns_add_up(district: tuple[Any, Planted]) -> None:
    sessions, planted = district
    with sessions() as session:
        result = analyse(session, principal=ADMIN, start=planted.start, end=planted.end, tz=ZONE.key)
    total = result["totals"]["violations"]
    assert total == sum(result["by_kind"].values()) == sum(result["by_hour"])
    assert total == sum(p["violations"] for p in result["by_project"])
    assert total == sum(c["violations"] for c in result["by_company"])
    assert total == sum(c["violations"] for c in result["by_camera"])
    assert total == SMALL.events - result["totals"]["dismissed"]
    hot = next(c for c in result["by_company"] if c["company"] == planted.company)
    assert hot["violations"] == max(c["violations"] for c in result["by_company"])


def test_a_scoped_reader_sees_only_its_sites(district: tuple[Any, Planted]) -> None:
    sessions, planted = district
    mine = planted.company_sites[:1]
    with sessions() as session:
        result = analyse(
            session,
            principal=Principal("s", "supervisor", tuple(mine)),
            start=planted.start,
            end=planted.end,
            tz=ZONE.key,
        )
    assert {p["site_id"] for p in result["by_project"]} == set(mine)
    assert all(set(f["site_ids"]) <= set(mine) for f in result["findings"])
    assert not findings(result, "recurring_company")  # one project of the company is not a recurrence


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 7 if day < 100 else 1, day % 100, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "utc_times", "hours"),
    [
        ("Asia/Shanghai", [at(1, 23, 30), at(2, 0, 0), at(2, 15, 59)], {7: 1, 8: 1, 23: 1}),
        ("Europe/Berlin", [at(1, 6), at(101, 6)], {8: 1, 7: 1}),  # summer +2, winter +1
        ("Asia/Kolkata", [at(1, 20, 45), at(1, 18, 29)], {2: 1, 23: 1}),  # +5:30
        ("America/New_York", [at(1, 3, 0), at(101, 3, 0)], {23: 1, 22: 1}),  # -4 summer, -5 winter
        ("UTC", [at(1, 0, 0), at(1, 0, 59), at(1, 23, 59)], {0: 2, 23: 1}),
    ],
)
def test_hours_of_the_day_are_local(
    api: Api, tz: str, utc_times: list[datetime], hours: dict[int, int]
) -> None:
    with services_of(api.app).sessions() as session:
        session.add(Site(id="site-h", name="h", created_at=datetime.now(UTC)))
        session.flush()
        session.execute(
            insert(Event),
            [
                {
                    "id": f"evt-h-{i}",
                    "site_id": "site-h",
                    "camera_id": "cam-0",
                    "kind": "no_helmet",
                    "started_at": t,
                    "updated_at": t,
                    "details": {},
                }
                for i, t in enumerate(utc_times)
            ],
        )
        session.commit()
    answer = api.client.get(
        "/api/v1/analysis",
        params={"start": "2025-12-01T00:00:00Z", "end": "2026-12-01T00:00:00Z", "tz": tz},
        headers=api.as_("admin"),
    )
    assert answer.status_code == 200, answer.text
    by_hour = answer.json()["by_hour"]
    assert {h: n for h, n in enumerate(by_hour) if n} == hours


def seeded(api: Api) -> Planted:
    """The small district in the API's database, with the test keys' sites."""
    with services_of(api.app).sessions() as session:
        planted = seed_district(session, plan=SMALL, end=END)
        for site in ("site-a", "site-b"):
            session.add(Site(id=site, name=site, created_at=datetime.now(UTC)))
        session.commit()
    return planted


def test_the_route_finds_the_planted_patterns_on_each_database(api: Api) -> None:
    planted = seeded(api)
    answer = api.client.get(
        "/api/v1/analysis",
        params={"start": planted.start.isoformat(), "end": planted.end.isoformat(), "tz": "Asia/Shanghai"},
        headers=api.as_("viewer"),
    )
    assert answer.status_code == 200, answer.text
    assert check(answer.json(), planted) == []
    fewer = api.client.get(
        "/api/v1/analysis",
        params={"start": planted.start.isoformat(), "end": planted.end.isoformat(), "min_projects": 4},
        headers=api.as_("viewer"),
    )
    assert findings(fewer.json(), "recurring_company") == set()  # three hot projects, not four


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "before end"),
        ({"start": "2024-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "at most 400 days"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"start": "2026-11-01T00:00:00", "end": "2026-11-02T00:00:00"}, "time zone offset"),
    ],
)
def test_bad_periods_get_a_clear_answer(api: Api, params: dict[str, str], why: str) -> None:
    answer = api.client.get("/api/v1/analysis", params=params, headers=api.as_("admin"))
    assert answer.status_code == 400
    assert why in answer.json()["detail"]


def finding_on(site: str) -> dict[str, Any]:
    return {
        "kind": "noisy_camera",
        "subject": f"{site}/cam-1",
        "label": f"{site} · cam-1",
        "site_ids": [site],
        "figures": {"reviewed": 30, "dismissed": 18, "false_alarm_share": 0.6},
        "evidence": [{"event_id": "evt-1", "site_id": site, "kind": "no_helmet", "started_at": "2026-11-01"}],
        "title": {"zh": "误报偏多", "en": "Many false alarms"},
        "action": {"zh": "调整角度", "en": "Re-aim it"},
    }


def body(site: str) -> dict[str, Any]:
    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return {
        "finding": finding_on(site),
        "title": f"Re-aim {site}/cam-1",
        "owner": "王工",
        "deadline_at": deadline,
    }


@pytest.mark.parametrize(
    ("who", "site", "created"),
    [
        ("admin", "site-a", 201),
        ("supervisor", "site-a", 201),
        ("supervisor", "site-b", 404),  # not one of its sites
        ("viewer", "site-a", 403),
        ("edge", "site-a", 403),
    ],
)
def test_tracked_issues_are_created_listed_and_closed_by_their_roles(
    api: Api, who: str, site: str, created: int
) -> None:
    with services_of(api.app).sessions() as session:
        for s in ("site-a", "site-b"):
            session.add(Site(id=s, name=s, created_at=datetime.now(UTC)))
        session.commit()
    answer = api.client.post("/api/v1/tracked-issues", json=body(site), headers=api.as_(who))
    assert answer.status_code == created, answer.text
    if created != 201:
        return
    issue = answer.json()
    assert (issue["status"], issue["owner"], issue["site_ids"]) == ("open", "王工", [site])
    listed = {
        w: [i["id"] for i in api.client.get("/api/v1/tracked-issues", headers=api.as_(w)).json()]
        for w in ("admin", "supervisor", "viewer", "other_site")
    }
    assert listed == {
        "admin": [issue["id"]],
        "supervisor": [issue["id"]],
        "viewer": [issue["id"]],
        "other_site": [],
    }
    url = f"/api/v1/tracked-issues/{issue['id']}/close"
    assert api.client.post(url, json={"note": "re-aimed"}, headers=api.as_("viewer")).status_code == 403
    assert api.client.post(url, json={"note": "re-aimed"}, headers=api.as_("other_site")).status_code == 404
    assert api.client.post(url, json={"note": ""}, headers=api.as_(who)).status_code == 422
    closed = api.client.post(url, json={"note": "re-aimed"}, headers=api.as_(who))
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["note"]) == ("closed", "re-aimed")
    assert api.client.post(url, json={"note": "again"}, headers=api.as_(who)).status_code == 409
    open_ = api.client.get("/api/v1/tracked-issues", params={"status": "open"}, headers=api.as_("admin"))
    assert open_.json() == []
    with services_of(api.app).sessions() as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.target.like("tracked_issue:%")))
        )
        assert sorted(actions) == ["tracked_issue.close", "tracked_issue.create"]
        assert session.get(TrackedIssue, issue["id"]) is not None


def test_a_finding_on_an_unknown_site_is_refused(api: Api) -> None:
    answer = api.client.post("/api/v1/tracked-issues", json=body("site-z"), headers=api.as_("admin"))
    assert answer.status_code == 404
    assert "site-z" in answer.json()["detail"]


def test_the_monthly_brief_holds_the_recurring_problems(api: Api) -> None:
    planted = seeded(api)
    key = None
    with services_of(api.app).sessions() as session:
        key = create_key(session, name="district", role="viewer")
    answer = api.client.get(
        "/api/v1/briefs",
        params={"period": "2026-11", "lang": "en"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert "Recurring problems of the period" in html
    assert f'data-finding="recurring_company" data-subject="{planted.company}"' in html
    assert 'data-finding="rising_project"' in html
    zh = api.client.get(
        "/api/v1/briefs", params={"period": "2026-11"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert "本期类案" in zh.text and "约谈施工单位" in zh.text
