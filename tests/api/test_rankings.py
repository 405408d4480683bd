"""The rankings of the recurring page (issue 21, item 5): contractors, projects, local hours and cameras of a
small hand-seeded district, whose every figure is written here from what was seeded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.http.services import services_of
from api.models import Case, Event, Project, Site
from tests.api.conftest import Api

ZONE = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 11, 30, tzinfo=ZONE)
START = END - timedelta(days=7)  # the period; the one before is the week before it

#: site -> (project name, contractor); site-d has no project.
PROJECTS = {
    "site-a": ("甲项目", "宏达建筑"),
    "site-b": ("乙项目", "宏达建筑"),
    "site-c": ("丙项目", "安居建设"),
    "site-e": ("戊项目", "安居建设"),
}
#: site -> street (街道); site-e's is not recorded.
STREETS = {"site-a": "龙城街道", "site-b": "布吉街道", "site-c": "龙城街道", "site-e": ""}
#: (site, camera, violations, local hour, week: 0 the period, 1 the week before, 3 long before, review)
SEEDED = [
    ("site-a", "cam-1", 12, 9, 0, "pending"),
    ("site-a", "cam-2", 3, 14, 0, "confirmed"),
    ("site-a", "cam-2", 2, 14, 0, "false_alarm"),  # dismissed: no violation, but the camera's false alarms
    ("site-a", "cam-1", 4, 9, 1, "pending"),
    ("site-a", "cam-1", 5, 9, 3, "pending"),  # before both periods: not counted
    ("site-b", "cam-1", 14, 9, 0, "pending"),
    ("site-b", "cam-1", 10, 9, 1, "pending"),
    ("site-c", "cam-1", 1, 14, 0, "pending"),
    ("site-e", "cam-1", 1, 14, 0, "pending"),
    ("site-d", "cam-9", 1, 22, 0, "pending"),
]
#: (site, camera, status): two open cases on site-a, one closed, one open on site-c without a camera.
CASES = [("site-a", "cam-1", "open"), ("site-a", "cam-2", "dispatched"), ("site-a", "cam-1", "closed"),
         ("site-c", None, "open")]  # fmt: skip


def seed(api: Api) -> None:
    now = datetime.now(UTC)
    with services_of(api.app).sessions() as session:
        for site in ("site-a", "site-b", "site-c", "site-d", "site-e"):
            session.add(Site(id=site, name=site, created_at=now))
        session.flush()
        for site, (name, company) in PROJECTS.items():
            session.add(
                Project(site_id=site, name=name, company=company, street=STREETS[site],
                        planned_start=date(2026, 1, 1), planned_end=date(2027, 1, 1), created_at=now,
                        updated_at=now)
            )  # fmt: skip
        n = 0
        for site, camera, count, hour, week, review in SEEDED:
            for i in range(count):
                day = START.date() - timedelta(days=7 * week) + timedelta(days=i % 7)
                at = datetime(day.year, day.month, day.day, hour, 30, tzinfo=ZONE)
                n += 1
                session.add(
                    Event(id=f"evt-{n:05d}", site_id=site, camera_id=camera, kind="no_helmet", status="ended",
                          started_at=at, updated_at=at, review_status=review, details={})
                )  # fmt: skip
        # Not a violation kind: never counted.
        session.add(
            Event(id="evt-absent", site_id="site-a", camera_id="cam-1", kind="officer_absent", status="ended",
                  started_at=START + timedelta(hours=3), updated_at=START, details={})
        )  # fmt: skip
        for site, camera, status in CASES:
            session.add(
                Case(site_id=site, camera_id=camera, kind="no_helmet", status=status, created_at=now,
                     updated_at=now, deadline_at=now + timedelta(days=1))
            )  # fmt: skip
        session.commit()


def rankings(api: Api, who: str = "viewer", **extra: str) -> dict[str, Any]:
    params = {"start": START.isoformat(), "end": END.isoformat(), "tz": ZONE.key} | extra
    response = api.client.get("/api/v1/analysis/rankings", params=params, headers=api.as_(who))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_every_ranking_counts_what_was_seeded(api: Api) -> None:
    seed(api)
    r = rankings(api)
    # 15 + 14 + 1 + 1 + 1 violations in the period; 4 + 10 in the week before; open: a 2, c 1
    assert r["totals"] == {"count": 32, "previous": 14, "open_cases": 3, "projects": 4}
    # site counts 15, 14, 1, 1, 1: the median 1, the bar max(5, 2 × 1) = 5
    assert r["thresholds"]["median_project"] == 1
    assert r["thresholds"]["project_bar"] == 5
    assert [
        (c["company"], c["count"], c["previous"], c["open_cases"], c["projects"], c["projects_over_bar"],
         c["recurring"], c["share"])
        for c in r["contractors"]
    ] == [
        ("宏达建筑", 29, 14, 2, 2, 2, True, round(29 / 32, 4)),
        ("安居建设", 2, 0, 1, 2, 0, False, round(2 / 32, 4)),
    ]  # fmt: skip
    # 龙城: a 15 + c 1, before 4, open 2 + 1, a over the bar; 布吉: b 14, before 10; e has no street
    assert [
        (x["street"], x["count"], x["previous"], x["open_cases"], x["projects"], x["projects_over_bar"],
         x["projects_total"], x["share"])
        for x in r["streets"]
    ] == [
        ("龙城街道", 16, 4, 3, 2, 1, 2, round(16 / 32, 4)),
        ("布吉街道", 14, 10, 0, 1, 1, 1, round(14 / 32, 4)),
    ]  # fmt: skip
    assert [(p["site_id"], p["name"], p["count"], p["previous"], p["open_cases"], p["over_bar"])
            for p in r["projects"]] == [
        ("site-a", "甲项目", 15, 4, 2, True),
        ("site-b", "乙项目", 14, 10, 0, True),
        ("site-c", "丙项目", 1, 0, 1, False),  # as many as d and e, but an open case
        ("site-d", "site-d", 1, 0, 0, False),  # no project: its site
        ("site-e", "戊项目", 1, 0, 0, False),
    ]  # fmt: skip
    assert r["projects"][0]["project_id"] is not None and r["projects"][3]["project_id"] is None
    hours = {h["hour"]: (h["count"], h["previous"]) for h in r["hours"] if h["count"] or h["previous"]}
    assert hours == {9: (26, 14), 14: (5, 0), 22: (1, 0)}
    assert [(c["site_id"], c["camera_id"], c["count"], c["previous"], c["open_cases"], c["dismissed"])
            for c in r["cameras"]] == [
        ("site-b", "cam-1", 14, 10, 0, 0),
        ("site-a", "cam-1", 12, 4, 1, 0),
        ("site-a", "cam-2", 3, 0, 1, 2),
        ("site-c", "cam-1", 1, 0, 0, 0),
        ("site-d", "cam-9", 1, 0, 0, 0),
        ("site-e", "cam-1", 1, 0, 0, 0),
    ]  # fmt: skip
    assert r["cameras"][2]["false_alarm_share"] == 0.4  # 2 of 5 reviewed


def test_the_rankings_agree_with_the_analysis_and_its_findings(api: Api) -> None:
    seed(api)
    params = {"start": START.isoformat(), "end": END.isoformat(), "tz": ZONE.key}
    analysis = api.client.get("/api/v1/analysis", params=params, headers=api.as_("viewer")).json()
    r = rankings(api)
    assert analysis["totals"]["violations"] == r["totals"]["count"]
    assert analysis["by_hour"] == [h["count"] for h in r["hours"]]
    recurring = [f for f in analysis["findings"] if f["kind"] == "recurring_company"]
    assert [f["subject"] for f in recurring] == [c["company"] for c in r["contractors"] if c["recurring"]]
    assert recurring[0]["figures"]["median_project"] == r["thresholds"]["median_project"]


@pytest.mark.parametrize(
    ("who", "sites", "count"),
    [("supervisor", ["site-a"], 15), ("other_site", ["site-b"], 14), ("viewer", None, 32)],
)
def test_a_scoped_reader_ranks_only_its_sites(
    api: Api, who: str, sites: list[str] | None, count: int
) -> None:
    seed(api)
    r = rankings(api, who)
    assert r["totals"]["count"] == count
    if sites is not None:
        assert {p["site_id"] for p in r["projects"]} == set(sites)
        assert {c["site_id"] for c in r["cameras"]} == set(sites)
        [contractor] = r["contractors"]
        assert (contractor["company"], contractor["projects_total"]) == ("宏达建筑", 1)
        assert contractor["recurring"] is False  # one project: never two over the bar


def test_one_site_and_the_refusals(api: Api) -> None:
    seed(api)
    assert rankings(api, site_id="site-b")["totals"]["count"] == 14
    bad = api.client.get(
        "/api/v1/analysis/rankings", params={"site_id": "site-b"}, headers=api.as_("supervisor")
    )
    assert bad.status_code == 404
    reversed_ = {"start": END.isoformat(), "end": START.isoformat()}
    assert (
        api.client.get("/api/v1/analysis/rankings", params=reversed_, headers=api.as_("viewer")).status_code
        == 400
    )
