"""A district's case board (issue 21): the cases list filtered, counted and paged by the server, its
summary, its export, and the actions the case dialog needs (extend the deadline, add a note), against a few
hundred seeded cases whose expected answers are worked out here from what was seeded."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from api.http.services import services_of
from api.models import AuditEntry, Project
from tests.api.builders import create_project, seed_district, violation
from tests.api.conftest import Api, counted_statements

NOW = datetime.now(UTC)
Seeded = list[dict[str, Any]]
Params = dict[str, Any]


@pytest.fixture
def district(api: Api) -> Seeded:
    with services_of(api.app).sessions() as session:
        return seed_district(session, cases=300, now=NOW)


def overdue(c: dict[str, Any], now: datetime) -> bool:
    return c["status"] != "closed" and c["deadline_at"] < now


def text_match(c: dict[str, Any], q: str) -> bool:
    fields = (c["name"], c["address"], c["company"], c["external_id"] or "")
    number = q.removeprefix("#")
    return any(q.lower() in f.lower() for f in fields) or (number.isdigit() and c["id"] == int(number))


SINCE, UNTIL = NOW - timedelta(days=35), NOW - timedelta(days=33)
#: (query parameters, which seeded cases they must find)
FILTERS: list[tuple[Params, Callable[[dict[str, Any]], bool]]] = [
    ({}, lambda c: True),
    ({"site_id": "site-b"}, lambda c: c["site_id"] == "site-b"),
    ({"site_id": "site-b", "camera_id": "cam-1"},
     lambda c: c["site_id"] == "site-b" and c["camera_id"] == "cam-1"),
    ({"contractor": "鹏安"}, lambda c: "鹏安" in c["company"]),
    ({"contractor": "greatwall"}, lambda c: "greatwall" in c["company"].lower()),
    ({"street": "南山街道"}, lambda c: c["street"] == "南山街道"),
    ({"community": "南光社区"}, lambda c: c["community"] == "南光社区"),
    ({"kind": "smoking"}, lambda c: c["kind"] == "smoking"),
    ({"status": ["open", "dispatched"]}, lambda c: c["status"] in ("open", "dispatched")),
    ({"state": "active"}, lambda c: c["status"] != "closed"),
    ({"state": "closed"}, lambda c: c["status"] == "closed"),
    ({"overdue": "true"}, lambda c: overdue(c, NOW)),
    ({"overdue": "false"}, lambda c: not overdue(c, NOW)),
    ({"since": SINCE.isoformat(), "until": UNTIL.isoformat()}, lambda c: SINCE <= c["created_at"] < UNTIL),
    ({"q": "滨江"}, lambda c: text_match(c, "滨江")),
    ({"q": "SZ-2026-0010"}, lambda c: text_match(c, "SZ-2026-0010")),
    ({"q": "A_B"}, lambda c: text_match(c, "A_B")),
    ({"q": "50%"}, lambda c: False),
    (
        {"contractor": "鹏安", "kind": "no_helmet", "state": "active", "street": "福田街道"},
        lambda c: "鹏安" in c["company"] and c["kind"] == "no_helmet" and c["status"] != "closed"
        and c["street"] == "福田街道",
    ),
]  # fmt: skip


def all_pages(api: Api, params: Params, who: str = "admin", limit: int = 100) -> tuple[list[int], int]:
    """Every case id of the list, page after page, and the total the header gave."""
    ids: list[int] = []
    totals = set()
    offset = 0
    while True:
        answer = api.client.get(
            "/api/v1/cases", params=params | {"offset": offset, "limit": limit}, headers=api.as_(who)
        )
        assert answer.status_code == 200, answer.text
        totals.add(int(answer.headers["X-Total-Count"]))
        page = [c["id"] for c in answer.json()]
        ids += page
        if len(page) < limit:
            break
        offset += limit
    assert len(totals) == 1
    return ids, totals.pop()


@pytest.mark.parametrize(("params", "wanted"), FILTERS, ids=lambda v: str(v) if isinstance(v, dict) else "")
def test_filters_find_exactly_their_cases_with_exact_totals(
    api: Api, district: Seeded, params: Params, wanted: Callable[[dict[str, Any]], bool]
) -> None:
    expected = [c for c in district if wanted(c)]
    if params == {"q": "50%"}:
        assert not expected
    elif params:
        assert 0 < len(expected) < len(district), "the filter must split the seeded cases"
    ids, total = all_pages(api, params)
    assert total == len(expected)
    assert sorted(ids) == sorted(c["id"] for c in expected)
    assert len(set(ids)) == len(ids)  # no case twice across pages
    summary = api.client.get("/api/v1/cases/summary", params=params, headers=api.as_("admin"))
    assert summary.status_code == 200, summary.text
    assert summary.json() == {
        "total": len(expected),
        "open": sum(c["status"] != "closed" for c in expected),
        "overdue": sum(overdue(c, NOW) for c in expected),
        "by_status": dict(Counter(c["status"] for c in expected)),
    }


def test_a_project_id_filter_and_the_case_fields(api: Api, district: Seeded) -> None:
    project_id = next(c["project_id"] for c in district if c["site_id"] == "site-c")
    answer = api.client.get(f"/api/v1/cases?project_id={project_id}&limit=500", headers=api.as_("viewer"))
    assert answer.status_code == 200
    cases = answer.json()
    assert {c["site_id"] for c in cases} == {"site-c"}
    assert len(cases) == sum(c["site_id"] == "site-c" for c in district)
    one = cases[0]
    assert (one["project_id"], one["street"], one["community"]) == (project_id, "福田街道", "岗厦社区")
    assert one["company"] == "鹏安建设(福田)分公司" and one["contact_name"] == "福田小学改造负责人"
    assert one["contact_phone"] == "139****0002"  # masked for a viewer, as the projects API does
    assert one["open_s"] > 0
    late = [c for c in cases if c["overdue"]]
    assert late and all(c["overdue_s"] > 0 for c in late)
    assert all(c["overdue_s"] == 0 for c in cases if not c["overdue"])


def test_phones_in_full_for_supervisors_are_audited(api: Api, district: Seeded) -> None:
    answer = api.client.get("/api/v1/cases?site_id=site-a&limit=3", headers=api.as_("supervisor"))
    assert [c["contact_phone"] for c in answer.json()] == ["13900000000"] * 3
    with services_of(api.app).sessions() as session:
        reads = session.scalars(select(AuditEntry).where(AuditEntry.action == "project.phone_read")).all()
    assert [(r.actor, r.details) for r in reads] == [
        ("supervisor A", {"projects": [district[0]["project_id"]]})
    ]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("newest", lambda c: (-c["created_at"].timestamp(), -c["id"])),
        ("oldest", lambda c: (c["created_at"].timestamp(), c["id"])),
        ("deadline", lambda c: (c["deadline_at"].timestamp(), c["id"])),
        (
            "overdue-first",
            lambda c: (c["status"] == "closed",
                       0 if c["status"] == "closed" else c["deadline_at"].timestamp(),
                       -(c["closed_at"] or NOW).timestamp(), -c["id"]),
        ),
    ],
)  # fmt: skip
def test_sort_orders(api: Api, district: Seeded, sort: str, key: Callable[[dict[str, Any]], Any]) -> None:
    ids, _ = all_pages(api, {"sort": sort}, limit=70)
    assert ids == [c["id"] for c in sorted(district, key=key)]


def test_a_site_scoped_key_sees_only_its_sites(api: Api, district: Seeded) -> None:
    own = [c for c in district if c["site_id"] == "site-a"]
    ids, total = all_pages(api, {}, who="supervisor")
    assert total == len(own) and sorted(ids) == sorted(c["id"] for c in own)
    assert all_pages(api, {"site_id": "site-b"}, who="supervisor") == ([], 0)
    assert all_pages(api, {"contractor": "greatwall"}, who="supervisor") == ([], 0)
    summary = api.client.get("/api/v1/cases/summary", headers=api.as_("supervisor")).json()
    assert summary["total"] == len(own) and summary["by_status"] == dict(Counter(c["status"] for c in own))
    exported = api.client.get("/api/v1/cases/export?format=csv&lang=en", headers=api.as_("supervisor"))
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(c["id"] for c in own)


def test_a_page_costs_the_same_queries_for_10_or_100_cases(api: Api, district: Seeded) -> None:
    engine = services_of(api.app).engine
    counts = []
    api.client.get("/api/v1/cases?limit=1", headers=api.as_("admin"))  # the key: looked up once, then cached
    for limit in (10, 100):
        with counted_statements(engine) as seen:
            answer = api.client.get(
                f"/api/v1/cases?limit={limit}&sort=overdue-first", headers=api.as_("admin")
            )
        assert answer.status_code == 200 and len(answer.json()) == limit
        counts.append(len(seen))
    assert counts[0] == counts[1], counts
    with counted_statements(engine) as seen:
        assert api.client.get("/api/v1/cases/summary", headers=api.as_("admin")).status_code == 200
    assert len([s for s in seen if "FROM cases" in s]) == 1


def test_bad_filters_are_refused(api: Api) -> None:
    for query in ("status=gone", "state=some", "limit=501", "offset=-1", "sort=random", "overdue=maybe"):
        assert api.client.get(f"/api/v1/cases?{query}", headers=api.as_("admin")).status_code == 422, query
    assert api.client.get("/api/v1/cases?q=a%00b", headers=api.as_("admin")).status_code == 400
    assert api.client.get("/api/v1/cases/summary").status_code == 401
    assert api.client.get("/api/v1/cases/export").status_code == 401


def test_an_xlsx_export_of_2000_cases(api: Api) -> None:
    with services_of(api.app).sessions() as session:
        seeded = seed_district(session, cases=2100, now=NOW)
    answer = api.client.get("/api/v1/cases/export?format=xlsx&lang=zh&sort=newest", headers=api.as_("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2101
    assert rows[0][:4] == ("案件编号", "工程名称", "施工单位", "街道")
    assert [r[0] for r in rows[1:]] == sorted((c["id"] for c in seeded), reverse=True)
    newest = seeded[-1]
    assert rows[1][1:5] == (newest["name"] or None, newest["company"] or None, newest["street"] or None,
                            newest["community"] or None)  # fmt: skip
    with services_of(api.app).sessions() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "cases.export")).all()
    assert entry.details["rows"] == 2100 and entry.details["format"] == "xlsx"


def test_a_csv_export_keeps_filters_and_english_headers(api: Api, district: Seeded) -> None:
    answer = api.client.get(
        "/api/v1/cases/export",
        params={"format": "csv", "lang": "en", "contractor": "鹏安"},
        headers=api.as_("admin"),
    )
    assert answer.status_code == 200
    assert answer.content.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as UTF-8
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Case", "Project", "Contractor"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(c["id"] for c in district if "鹏安" in c["company"])
    assert {r[2] for r in rows[1:]} == {"深圳市鹏安建设有限公司", "鹏安建设(福田)分公司"}
    assert all("****" in r[16] for r in rows[1:])  # phones masked in a file


def history(api: Api, case_id: int) -> list[dict[str, Any]]:
    return list(api.client.get(f"/api/v1/cases/{case_id}", headers=api.as_("admin")).json()["history"])


def test_extend_the_deadline_and_add_notes(api: Api, district: Seeded) -> None:
    case = next(c for c in district if c["site_id"] == "site-a" and c["status"] == "open")
    url = f"/api/v1/cases/{case['id']}"
    extended = api.client.post(
        f"{url}/extend", json={"hours": 48, "reason": "雨天停工"}, headers=api.as_("supervisor")
    )
    assert extended.status_code == 200, extended.text
    body = extended.json()
    assert datetime.fromisoformat(body["deadline_at"]) == case["deadline_at"] + timedelta(hours=48)
    last = body["history"][-1]
    assert last["actor"] == "supervisor A" and last["from_status"] == last["to_status"] == "open"
    assert last["note"].startswith("deadline extended to ") and last["note"].endswith(": 雨天停工")
    later = (case["deadline_at"] + timedelta(days=10)).isoformat()
    moved = api.client.post(
        f"{url}/extend", json={"deadline_at": later, "reason": "材料未到"}, headers=api.as_("admin")
    )
    assert datetime.fromisoformat(moved.json()["deadline_at"]) == case["deadline_at"] + timedelta(days=10)
    same = {"deadline_at": case["deadline_at"].isoformat(), "reason": "x"}
    earlier = api.client.post(f"{url}/extend", json=same, headers=api.as_("admin"))
    assert earlier.status_code == 422
    for bad in (
        {"hours": 2},
        {"reason": "x"},
        {"hours": 2, "deadline_at": later, "reason": "x"},
        {"hours": -1, "reason": "x"},
    ):
        assert api.client.post(f"{url}/extend", json=bad, headers=api.as_("admin")).status_code == 422, bad
    noted = api.client.post(
        f"{url}/notes", json={"note": "已电话提醒项目经理"}, headers=api.as_("supervisor")
    )
    assert noted.status_code == 200 and noted.json()["status"] == "open"
    notes = [h["note"] for h in history(api, case["id"])]
    assert notes[-1] == "已电话提醒项目经理" and len(notes) == 4
    assert api.client.post(f"{url}/notes", json={"note": "x"}, headers=api.as_("viewer")).status_code == 403
    other = next(c for c in district if c["site_id"] == "site-b")
    assert api.client.post(f"/api/v1/cases/{other['id']}/notes", json={"note": "x"},
                           headers=api.as_("supervisor")).status_code == 404  # fmt: skip
    closed = next(c for c in district if c["status"] == "closed")
    assert api.client.post(f"/api/v1/cases/{closed['id']}/extend", json={"hours": 1, "reason": "x"},
                           headers=api.as_("admin")).status_code == 409  # fmt: skip
    with services_of(api.app).sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("case.extend") == 2 and actions.count("case.note") == 1


def test_contact_without_a_phone_channel_is_refused_and_recorded(api: Api, district: Seeded) -> None:
    case = next(c for c in district if c["site_id"] == "site-a")
    answer = api.client.post(
        f"/api/v1/cases/{case['id']}/contact", json={"channel": "call"}, headers=api.as_("admin")
    )
    assert answer.status_code == 409
    assert "aliyun_voice" in answer.json()["detail"]
    assert history(api, case["id"])[-1]["note"].startswith(
        "call requested, not sent: no aliyun_voice channel"
    )


def test_events_carry_their_total_and_filter_by_project(api: Api, district: Seeded) -> None:
    for i in range(5):
        violation(api, f"event-a-{i}", site="site-a")
    for i in range(3):
        violation(api, f"event-b-{i}", key="edge_b", site="site-b")
    page = api.client.get("/api/v1/events?limit=2", headers=api.as_("admin")).json()
    assert page["total"] == 8 and len(page["data"]) == 2 and page["next_cursor"]
    nxt = api.client.get(
        f"/api/v1/events?limit=2&cursor={page['next_cursor']}", headers=api.as_("admin")
    ).json()
    assert nxt["total"] == 8
    project_b = next(c["project_id"] for c in district if c["site_id"] == "site-b")
    for params, ids in (
        ({"contractor": "GREATWALL"}, {f"event-b-{i}" for i in range(3)}),
        ({"project_id": project_b}, {f"event-b-{i}" for i in range(3)}),
        ({"q": "滨江"}, {f"event-a-{i}" for i in range(5)}),
        ({"q": "event-a-3"}, {"event-a-3"}),
    ):
        found = api.client.get("/api/v1/events", params=params, headers=api.as_("admin")).json()
        assert found["total"] == len(ids) and {e["id"] for e in found["data"]} == ids, params
    scoped = api.client.get("/api/v1/events", headers=api.as_("supervisor")).json()
    assert scoped["total"] == 5
    exported = api.client.get("/api/v1/events/export?format=csv&lang=zh", headers=api.as_("supervisor"))
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == "事件编号" and sorted(r[0] for r in rows[1:]) == [f"event-a-{i}" for i in range(5)]
    assert {r[1] for r in rows[1:]} == {"滨江花园三期"}


def test_an_unreadable_phone_leaves_the_board_working(api: Api, district: Seeded) -> None:
    with services_of(api.app).sessions() as session:
        project = session.get(Project, district[0]["project_id"])
        assert project is not None
        project.contact_phone = "gAAAAAnot-a-token-of-this-key"
        session.commit()
    answer = api.client.get("/api/v1/cases?site_id=site-a&limit=5", headers=api.as_("supervisor"))
    assert answer.status_code == 200
    assert [c["contact_phone"] for c in answer.json()] == [None] * 5
    assert {c["contact_name"] for c in answer.json()} == {"滨江花园三期负责人"}


def test_a_projects_street_and_community_are_kept_and_filter_its_cases(api: Api) -> None:
    project = create_project(api, street="沙河街道", community="白石洲社区")
    assert (project["street"], project["community"]) == ("沙河街道", "白石洲社区")
    url = f"/api/v1/projects/{project['id']}"
    moved = api.client.patch(url, json={"community": "华夏社区"}, headers=api.as_("admin"))
    assert moved.status_code == 200 and moved.json()["community"] == "华夏社区"
    assert api.client.patch(url, json={"street": None}, headers=api.as_("admin")).status_code == 422
    violation(api, "event-street-1", site="site-a")
    body = {"event_ids": ["event-street-1"]}
    opened = api.client.post("/api/v1/cases", json=body, headers=api.as_("admin"))
    assert opened.status_code == 201
    assert (opened.json()["street"], opened.json()["community"]) == ("沙河街道", "华夏社区")
    exact = (({"street": "沙河街道"}, 1), ({"community": "华夏社区"}, 1), ({"street": "沙河"}, 0))
    for params, found in exact:
        answer = api.client.get("/api/v1/cases", params=params, headers=api.as_("viewer"))
        assert int(answer.headers["X-Total-Count"]) == found == len(answer.json()), params
