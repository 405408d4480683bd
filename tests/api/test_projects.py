"""Projects (issue 16): the registry, its personal data, the arming of a site's rules, the map."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from api.access.auth import KEY_CACHE, KeyCache
from api.app import create_app
from api.core.secretkeys import MissingKeyError, data_keys
from api.core.settings import ApiSettings
from api.http.services import services_of
from api.models import Case, Event, Project
from api.projects.service import decrypt_phone, encrypt_phone
from api.sites.service import ensure_site
from tests.api.builders import ANNOTATED, JPEG, PHONE, ZONE, create_project, event, post, project_body, today
from tests.api.conftest import Api, counted_statements


def audit_log(api: Api) -> list[dict[str, Any]]:
    response = api.client.get("/api/v1/audit", headers=api.as_("admin"))
    assert response.status_code == 200
    return list(response.json())


@pytest.mark.parametrize(
    ("who", "site", "code"),
    [
        ("admin", "site-a", 201),
        ("supervisor", "site-a", 201),  # a supervisor of the site
        ("other_site", "site-a", 404),  # a supervisor of another site: as if the site did not exist
        ("viewer", "site-a", 403),
        ("edge", "site-a", 403),
    ],
)
def test_who_may_register_a_project(api: Api, who: str, site: str, code: int) -> None:
    response = api.client.post("/api/v1/projects", json=project_body(site_id=site), headers=api.as_(who))
    assert response.status_code == code, response.text
    listed = api.client.get("/api/v1/projects", headers=api.as_("admin")).json()
    assert len(listed) == (1 if code == 201 else 0)


def test_create_edit_extend_and_close(api: Api) -> None:
    created = create_project(api, who="supervisor")
    assert created["state"] == "active" and created["company"] == "宏达建筑" and created["closed_at"] is None
    assert (
        api.client.post("/api/v1/projects", json=project_body(), headers=api.as_("admin")).status_code == 409
    )
    path = f"/api/v1/projects/{created['id']}"

    edited = api.client.patch(path, json={"name": "外墙改造", "lat": None}, headers=api.as_("supervisor"))
    assert edited.status_code == 200, edited.text
    assert edited.json()["name"] == "外墙改造" and edited.json()["lat"] is None
    assert edited.json()["planned_end"] == created["planned_end"]

    new_end = (today() + timedelta(days=90)).isoformat()
    extended = api.client.patch(path, json={"planned_end": new_end}, headers=api.as_("supervisor"))
    assert extended.status_code == 200 and extended.json()["planned_end"] == new_end
    extensions = [e for e in audit_log(api) if e["action"] == "project.extend"]
    assert [(e["target"], e["details"]) for e in extensions] == [
        (f"project:{created['id']}", {"old_end": created["planned_end"], "new_end": new_end})
    ]

    closed = api.client.post(f"{path}/close", headers=api.as_("supervisor"))
    assert closed.status_code == 200 and closed.json()["state"] == "finished" and closed.json()["closed_at"]
    again = api.client.post(f"{path}/close", headers=api.as_("supervisor"))
    assert again.json()["closed_at"] == closed.json()["closed_at"]  # closing twice keeps the first time
    assert api.client.get(path, headers=api.as_("viewer")).json()["state"] == "finished"
    assert api.client.patch(path, json={"name": "x"}, headers=api.as_("viewer")).status_code == 403
    assert api.client.get(path, headers=api.as_("other_site")).status_code == 404


@pytest.mark.parametrize(
    ("method", "change", "field"),
    [
        ("post", {"planned_end": "2020-01-01"}, "planned_end"),  # end before start
        ("post", {"contact_phone": "call me"}, "contact_phone"),
        ("post", {"lat": 91}, "lat"),
        ("post", {"name": ""}, "name"),
        ("post", {"planned_start": "1899-01-01"}, "planned_start"),
        ("post", {"site_id": "no/slash"}, "site_id"),
        ("post", {"colour": "red"}, "colour"),  # unknown keys are refused
        ("patch", {"planned_end": "2020-01-01"}, "planned_end"),  # before the stored start
        ("patch", {"planned_start": "2099-01-01"}, "planned_end"),  # after the stored end
        ("patch", {"name": None}, "name"),  # a required field cannot be cleared
    ],
)
def test_bad_input_gets_422_naming_the_field(
    api: Api, method: str, change: dict[str, Any], field: str
) -> None:
    if method == "post":
        response = api.client.post("/api/v1/projects", json=project_body(**change), headers=api.as_("admin"))
    else:
        project = create_project(api)
        response = api.client.patch(
            f"/api/v1/projects/{project['id']}", json=change, headers=api.as_("admin")
        )
    assert response.status_code == 422, response.text
    assert any(field in problem["loc"] for problem in response.json()["detail"]), response.text


@pytest.mark.parametrize(
    ("who", "phone", "audited"),
    [
        ("admin", PHONE, True),
        ("supervisor", PHONE, True),
        ("viewer", "138****5678", False),
    ],
)
def test_phone_is_full_for_supervisors_masked_for_viewers_and_full_reads_are_audited(
    api: Api, who: str, phone: str, audited: bool
) -> None:
    project = create_project(api)
    before = len([e for e in audit_log(api) if e["action"] == "project.phone_read"])
    one = api.client.get(f"/api/v1/projects/{project['id']}", headers=api.as_(who)).json()
    listed = api.client.get("/api/v1/projects", headers=api.as_(who)).json()
    assert one["contact_phone"] == phone and listed[0]["contact_phone"] == phone
    reads = [e for e in audit_log(api) if e["action"] == "project.phone_read"]
    expected = [f"project:{project['id']}"] * 2 if audited else []
    assert [e["target"] for e in reads[: len(reads) - before]] == expected  # newest first: the two reads


def test_a_listing_is_audited_once_naming_every_project_shown(api: Api) -> None:
    first, second = create_project(api), create_project(api, site_id="site-b", name="second")

    def reads() -> list[dict[str, Any]]:
        return [e for e in audit_log(api) if e["action"] == "project.phone_read"]  # newest first

    before = len(reads())
    listed = api.client.get("/api/v1/projects", headers=api.as_("admin")).json()
    assert {p["contact_phone"] for p in listed} == {PHONE}
    after = reads()
    assert len(after) == before + 1
    assert sorted(after[0]["details"]["projects"]) == sorted([first["id"], second["id"]])


def test_phone_is_stored_encrypted(api: Api) -> None:
    project = create_project(api)
    with services_of(api.app).sessions() as session:
        raw = session.execute(
            text("SELECT contact_phone FROM projects WHERE id = :id"), {"id": project["id"]}
        )
        stored = raw.scalar_one()
        key = data_keys(session).pii
    assert PHONE not in stored and "5678" not in stored
    assert decrypt_phone(stored, key=key) == PHONE


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("", ["甲", "乙", "丙"]),
        ("?state=active", ["甲"]),
        ("?state=planned", ["乙"]),
        ("?state=finished", ["丙"]),
        ("?company=宏达建筑", ["甲", "丙"]),
        ("?company=平安", ["乙"]),  # regression: the contractor filter needed the company's full name
        ("?company=%25", []),
        ("?q=SG-9", ["乙"]),
        ("?q=%25", []),  # a LIKE wildcard is searched for as text
    ],
)
def test_list_filters(api: Api, query: str, names: list[str]) -> None:
    day = today()
    create_project(api, site_id="site-a", name="甲")
    create_project(
        api,
        site_id="site-b",
        name="乙",
        company="平安建设",
        permit_no="SG-9",
        planned_start=(day + timedelta(days=1)).isoformat(),
    )
    create_project(api, site_id="site-c", name="丙", planned_end=(day - timedelta(days=1)).isoformat())
    response = api.client.get(f"/api/v1/projects{query}", headers=api.as_("viewer"))
    assert response.status_code == 200, response.text
    assert [p["name"] for p in response.json()] == names
    scoped = api.client.get(f"/api/v1/projects{query}", headers=api.as_("supervisor")).json()
    assert [p["site_id"] for p in scoped] == (["site-a"] if "甲" in names else [])


def violation(event_id: str, *, kind: str = "no_helmet", started: datetime | None = None) -> dict[str, Any]:
    at = (started or datetime.now(UTC)).isoformat()
    return event(event_id, kind=kind, started_at=at, updated_at=at)


def counted(api: Api, site: str, kind: str) -> float:
    """The value of ``sitewatch_disarmed_violations_total{site,kind}`` in the API's metrics."""
    metrics = api.client.get("/metrics", headers=api.as_("admin"))
    assert metrics.status_code == 200
    return sum(
        float(line.split()[-1])
        for line in metrics.text.splitlines()
        if line.startswith("sitewatch_disarmed_violations_total{")
        and f'site="{site}"' in line
        and f'kind="{kind}"' in line
    )


def rows(api: Api, event_id: str) -> tuple[int, int]:
    """The events stored under ``event_id`` and the cases of site-a."""
    with services_of(api.app).sessions() as session:
        events = session.scalar(select(func.count()).select_from(Event).where(Event.id == event_id)) or 0
        cases = session.scalar(select(func.count()).select_from(Case).where(Case.site_id == "site-a")) or 0
    return events, cases


@pytest.mark.parametrize("kind", ["no_helmet", "no_vest", "smoking", "officer_absent"])
def test_a_finished_project_raises_no_violations(api: Api, kind: str) -> None:
    policy = api.client.put(
        f"/api/v1/sites/site-a/case-policies/{kind}",
        json={"trigger": "on_start", "deadline_hours": 24},
        headers=api.as_("admin"),
    )
    assert policy.status_code == 204
    project = create_project(api)
    during = post(api, violation("evt-during-1", kind=kind), files={"snapshot": JPEG, "annotated": ANNOTATED})
    assert during.status_code == 201 and during.json()["status"] == "stored"
    assert rows(api, "evt-during-1") == (1, 1)  # an event and its case

    yesterday = (today() - timedelta(days=1)).isoformat()
    ended = api.client.patch(
        f"/api/v1/projects/{project['id']}", json={"planned_end": yesterday}, headers=api.as_("admin")
    )
    assert ended.status_code == 200 and ended.json()["state"] == "finished"
    after = post(api, violation("evt-after-1", kind=kind), files={"snapshot": JPEG, "annotated": ANNOTATED})
    assert after.status_code == 200 and after.json()["status"] == "disarmed"  # acknowledged: no retries
    assert rows(api, "evt-after-1") == (0, 1)  # no event, no new case
    assert counted(api, "site-a", kind) == 1
    later = post(api, violation("evt-after-1", kind=kind) | {"seq": 1, "phase": "end"})
    assert later.status_code == 200 and rows(api, "evt-after-1") == (0, 1)  # its other updates too
    cases = api.client.get("/api/v1/cases", headers=api.as_("supervisor")).json()
    assert [c["status"] for c in cases] == ["open"]  # the case of the project's time stays open
    # Updates of an event stored while the project ran go on being stored.
    update = violation("evt-during-1", kind=kind) | {"seq": 1, "phase": "end"}
    assert post(api, update).json()["status"] == "stored"


@pytest.mark.parametrize(
    ("change", "kind", "result"),
    [
        ({}, "no_helmet", "stored"),
        ({"planned_start": "+1"}, "no_helmet", "disarmed"),  # not started yet
        ({"close": True}, "no_helmet", "disarmed"),
        ({"close": True}, "camera_offline", "stored"),  # not a violation: reported whatever the dates
        ({"site_id": "site-b"}, "no_helmet", "stored"),  # a site without a project, as before
    ],
)
def test_arming_follows_the_project(api: Api, change: dict[str, Any], kind: str, result: str) -> None:
    extra: dict[str, Any] = {}
    if change.get("planned_start"):
        extra["planned_start"] = (today() + timedelta(days=1)).isoformat()
    if "site_id" in change:
        extra["site_id"] = change["site_id"]
    project = create_project(api, **extra)
    if change.get("close"):
        assert api.client.post(f"/api/v1/projects/{project['id']}/close", headers=api.as_("admin")).is_success
    answer = post(api, violation("evt-arming-1", kind=kind), files={"snapshot": JPEG, "annotated": ANNOTATED})
    assert answer.is_success and answer.json()["status"] == result
    assert rows(api, "evt-arming-1")[0] == (1 if result == "stored" else 0)


def test_an_event_that_started_while_the_project_ran_is_stored_after_it_closed(api: Api) -> None:
    """An edge box that was offline delivers late: the event's start decides, not its arrival."""
    project = create_project(api)
    start = datetime.now(UTC) - timedelta(hours=1)
    assert api.client.post(f"/api/v1/projects/{project['id']}/close", headers=api.as_("admin")).is_success
    late = post(api, violation("evt-late-1", started=start), files={"snapshot": JPEG, "annotated": ANNOTATED})
    assert late.status_code == 201 and late.json()["status"] == "stored"


def test_cases_name_the_project_and_company(api: Api) -> None:
    create_project(api)
    for event_id, site, key in (("evt-named-1", "site-a", "edge"), ("evt-named-2", "site-b", "edge_b")):
        sent = post(api, violation(event_id) | {"site_id": site}, key=key)
        assert sent.status_code == 201, sent.text
        opened = api.client.post("/api/v1/cases", json={"event_ids": [event_id]}, headers=api.as_("admin"))
        assert opened.status_code == 201
    listed = api.client.get("/api/v1/cases", headers=api.as_("viewer")).json()
    assert [(c["site_id"], c["project_name"], c["company"]) for c in listed] == [
        ("site-b", None, None),
        ("site-a", "幸福路 12 号外墙改造", "宏达建筑"),
    ]
    one = api.client.get(f"/api/v1/cases/{listed[1]['id']}", headers=api.as_("viewer")).json()
    assert one["project_name"] == "幸福路 12 号外墙改造"


@pytest.fixture
def statements(api: Api) -> Iterator[list[str]]:
    """The SQL statements the API runs while the test looks (cleared by the test where it starts)."""
    with counted_statements(services_of(api.app).engine) as seen:
        yield seen


def add_projects(api: Api, count: int, *, first: int = 0) -> None:
    """``count`` projects, each on a site with two cameras (one offline), an open and an overdue case."""
    now = datetime.now(UTC)
    day = today()
    with services_of(api.app).sessions() as session:
        for i in range(first, first + count):
            site = f"map-{i}"
            ensure_site(session, site_id=site)
            session.add(
                Project(
                    site_id=site,
                    name=f"P{i}",
                    company="宏达建筑",
                    lat=31.0,
                    lon=121.0,
                    planned_start=day - timedelta(days=10),
                    planned_end=day + timedelta(days=10),
                    created_at=now,
                    updated_at=now,
                )
            )
            for deadline in (now + timedelta(days=1), now - timedelta(days=1)):
                session.add(
                    Case(
                        site_id=site,
                        camera_id="gate",
                        kind="no_helmet",
                        status="open",
                        created_at=now,
                        updated_at=now,
                        deadline_at=deadline,
                    )
                )
        session.commit()
    health = [
        {"site_id": f"map-{i}", "camera_id": camera, "online": camera == "gate"}
        for i in range(first, first + count)
        for camera in ("gate", "yard")
    ]
    with services_of(api.app).sessions() as session:
        from api.sites.schemas import CameraHealthIn
        from api.sites.service import record_health

        record_health(session, items=[CameraHealthIn.model_validate(h) for h in health])
        session.commit()


def test_the_map_counts_cameras_and_cases_in_constant_queries(api: Api, statements: list[str]) -> None:
    def markers() -> tuple[list[dict[str, Any]], int]:
        statements.clear()
        response = api.client.get("/api/v1/projects/map", headers=api.as_("viewer"))
        assert response.status_code == 200, response.text
        return list(response.json()), len(statements)

    # The viewer's key is looked up once, then cached for the whole test (seeding 50 projects on a busy
    # machine may take longer than the usual few seconds, and a second lookup is not the map's doing).
    services_of(api.app).owned.swap(KEY_CACHE, KeyCache(3600.0))
    assert markers()[0] == []
    add_projects(api, 1)
    one, queries_one = markers()
    assert [
        (m["cameras"], m["cameras_offline"], m["open_cases"], m["overdue_cases"], m["status"]) for m in one
    ] == [(2, 1, 2, 1, "overdue")]
    add_projects(api, 49, first=1)
    fifty, queries_fifty = markers()
    assert len(fifty) == 50 and queries_fifty == queries_one
    assert {m["status"] for m in fifty} == {"overdue"}


@pytest.mark.parametrize(
    ("state", "overdue", "open_cases", "offline", "status"),
    [
        ("active", 1, 2, 1, "overdue"),
        ("active", 0, 2, 1, "open_cases"),
        ("active", 0, 0, 1, "offline"),
        ("active", 0, 0, 0, "active"),
        ("finished", 1, 1, 1, "finished"),
        ("planned", 0, 0, 1, "planned"),
    ],
)
def test_marker_status_is_the_most_urgent(
    state: Any, overdue: int, open_cases: int, offline: int, status: str
) -> None:
    from api.projects.map import marker_status

    assert marker_status(state, overdue=overdue, open_cases=open_cases, offline=offline) == status


def test_helpers_find_the_project_and_its_contact(api: Api) -> None:
    from api.projects.service import contact_of, is_armed, project_for_site

    create_project(api, contact_name="王工")
    with services_of(api.app).sessions() as session:
        project = project_for_site(session, site_id="site-a")
        assert project is not None and project.name == "幸福路 12 号外墙改造"
        assert project_for_site(session, site_id="site-b") is None
        assert contact_of(session, site_id="site-a") == ("王工", PHONE)
        assert contact_of(session, site_id="site-b") is None
        assert is_armed(project, at=datetime.now(UTC), zone=ZONE) and is_armed(
            None, at=datetime.now(UTC), zone=ZONE
        )
        assert not is_armed(project, at=datetime.now(UTC) + timedelta(days=40), zone=ZONE)


@pytest.mark.parametrize(
    ("at", "armed"),
    [
        ("2026-10-31T15:59:59+00:00", False),  # 23:59:59 on 31 October in Shanghai: the day before
        ("2026-10-31T16:00:00+00:00", True),  # midnight on 1 November in Shanghai: the first day
        ("2026-11-30T15:59:59+00:00", True),  # the last day, both ends included
        ("2026-11-30T16:00:00+00:00", False),
    ],
)
def test_armed_days_are_local_days(at: str, armed: bool) -> None:
    from zoneinfo import ZoneInfo

    from api.projects.service import is_armed

    project = Project(planned_start=date(2026, 11, 1), planned_end=date(2026, 11, 30), closed_at=None)
    moment = datetime.fromisoformat(at)
    assert is_armed(project, at=moment, zone=ZoneInfo("Asia/Shanghai")) is armed


def test_a_phone_number_the_key_cannot_read_is_answered_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    made = create_project(api)
    reads = [e for e in audit_log(api) if e["action"] == "project.phone_read"]
    monkeypatch.setenv("SITEWATCH_PII_KEY", Fernet.generate_key().decode())  # not the key it was stored with
    for who in ("admin", "viewer"):
        response = api.client.get(f"/api/v1/projects/{made['id']}", headers=api.as_(who))
        assert response.status_code == 503, response.text
        assert response.json() == {"detail": "SITEWATCH_PII_KEY does not decrypt the stored personal data"}
    assert [e for e in audit_log(api) if e["action"] == "project.phone_read"] == reads  # nothing was shown


def test_two_apps_in_one_process_keep_their_own_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the keys of personal data were process globals, so the second app made in a process
    switched the first one to its own key file and the first could no longer read its phone numbers."""
    monkeypatch.delenv("SITEWATCH_PII_KEY", raising=False)
    monkeypatch.delenv("SITEWATCH_FACE_KEY", raising=False)
    apps = [create_app(ApiSettings(data_dir=tmp_path / name), dispatch=False) for name in ("one", "two")]
    one, two = (data_keys(services_of(app).sessions) for app in apps)
    token = encrypt_phone(PHONE, key=one.pii)
    assert token is not None
    assert decrypt_phone(token, key=one.pii) == PHONE  # still the first app's key after the second started
    with pytest.raises(MissingKeyError):
        decrypt_phone(token, key=two.pii)
    assert one.face.file == tmp_path / "one" / "face.key" and two.face.file == tmp_path / "two" / "face.key"
