"""The central API's ingest, reading, review and auth on a real SQLite database."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.access.auth import hash_key
from api.http.services import services_of
from tests.api.builders import ANNOTATED, JPEG, event, evidence_accounted_for, other_jpeg, post
from tests.api.conftest import Api


def test_health_is_open_and_everything_else_needs_a_key(api: Api) -> None:
    health = api.client.get("/healthz")
    assert health.status_code == 200 and health.json()["database"] and health.json()["storage_writable"]
    for method, path in [
        ("get", "/api/v1/events"),
        ("post", "/api/v1/ingest/events"),
        ("post", "/api/v1/keys"),
    ]:
        assert getattr(api.client, method)(path).status_code == 401
    assert api.client.get("/api/v1/events", headers={"Authorization": "Bearer sw_wrong"}).status_code == 401


def test_ingest_is_idempotent_and_stores_evidence_once(api: Api) -> None:
    first = post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    assert first.status_code == 201 and first.json()["status"] == "stored"
    again = post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    stored = list((api.data_dir / "evidence").rglob("*"))
    assert len([p for p in stored if p.is_file()]) == 2
    listed = api.client.get("/api/v1/events", headers=api.as_("supervisor")).json()["data"]
    assert len(listed) == 1 and listed[0]["status"] == "open" and listed[0]["people_count"] == 1


def test_updates_fold_into_the_event_and_end_it(api: Api) -> None:
    post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    post(api, event(seq=2, people_count=3, phase="end", ended_at="2026-11-23T02:01:00+00:00", evidence={}))
    post(api, event(seq=1, people_count=2, evidence={}))  # arrives late: only fills gaps
    row = api.client.get("/api/v1/events/evt-00000001", headers=api.as_("viewer")).json()
    assert row["status"] == "ended" and row["people_count"] == 3
    assert row["ended_at"].startswith("2026-11-23T02:01:00")


@pytest.mark.parametrize(
    ("body", "files", "message"),
    [
        (event(), {"snapshot": b"GIF89a..."}, "part 'snapshot' is not a JPEG image"),
        (event(), {"snapshot": ANNOTATED}, "part 'snapshot' has sha256"),
        (event(kind="dancing"), {}, "invalid event: kind"),
        (event(seq=-1), {}, "invalid event: seq"),
        ({"event_id": "x"}, {}, "invalid event"),
    ],
)
def test_bad_uploads_are_refused_with_the_reason_and_store_nothing(
    api: Api, body: dict[str, Any], files: dict[str, bytes], message: str
) -> None:
    response = post(api, body, files=files)
    assert response.status_code == 422 and message in response.json()["detail"]
    assert api.client.get("/api/v1/events", headers=api.as_("admin")).json()["data"] == []


def test_an_edge_key_reports_only_for_its_site(api: Api) -> None:
    response = post(api, event(site="site-a"), key="edge_b")
    assert response.status_code == 403 and "site site-a" in response.json()["detail"]


def test_sites_scope_what_people_see(api: Api) -> None:
    post(api, event("evt-site-a-1"), files={"snapshot": JPEG, "annotated": ANNOTATED})
    post(api, event("evt-site-b-1", site="site-b"), key="edge_b")
    seen = {e["id"] for e in api.client.get("/api/v1/events", headers=api.as_("other_site")).json()["data"]}
    assert seen == {"evt-site-b-1"}
    assert api.client.get("/api/v1/events/evt-site-a-1", headers=api.as_("other_site")).status_code == 404


def test_filters_and_cursor_pagination_newest_first(api: Api) -> None:
    for i in range(7):
        kind = "no_vest" if i % 2 else "no_helmet"
        post(api, event(f"evt-page-{i:04d}", kind=kind, started_at=f"2026-11-23T03:{i:02d}:00+00:00"))
    ids, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.client.get("/api/v1/events", params=params, headers=api.as_("admin")).json()
        ids += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ids == [f"evt-page-{i:04d}" for i in reversed(range(7))]
    vests = api.client.get("/api/v1/events", params={"kind": "no_vest"}, headers=api.as_("admin")).json()[
        "data"
    ]
    assert [e["id"] for e in vests] == ["evt-page-0005", "evt-page-0003", "evt-page-0001"]
    bad = api.client.get("/api/v1/events", params={"cursor": "garbage"}, headers=api.as_("admin"))
    assert bad.status_code == 400


def test_snapshots_and_review(api: Api) -> None:
    post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    clean = api.client.get("/api/v1/events/evt-00000001/snapshot", headers=api.as_("supervisor"))
    marked = api.client.get(
        "/api/v1/events/evt-00000001/snapshot", params={"annotated": "true"}, headers=api.as_("supervisor")
    )
    assert (
        clean.headers["content-type"] == "image/jpeg"
        and clean.content == JPEG
        and marked.content == ANNOTATED
    )
    assert (
        api.client.post(
            "/api/v1/events/evt-00000001/review", json={"verdict": "confirmed"}, headers=api.as_("viewer")
        ).status_code
        == 403
    )
    reviewed = api.client.post(
        "/api/v1/events/evt-00000001/review",
        json={"verdict": "false_alarm", "note": "a cap"},
        headers=api.as_("supervisor"),
    )
    assert reviewed.status_code == 200 and reviewed.json()["review_status"] == "false_alarm"
    pending = api.client.get("/api/v1/events", params={"review_status": "pending"}, headers=api.as_("admin"))
    assert pending.json()["data"] == []


def test_admin_creates_keys_that_work_and_only_hashes_are_stored(api: Api) -> None:
    created = api.client.post(
        "/api/v1/keys",
        json={"name": "new edge", "role": "edge", "site_ids": ["site-c"]},
        headers=api.as_("admin"),
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert post(api, event(site="site-c"), key="admin").status_code == 201
    api.keys["new"] = key
    assert post(api, event("evt-by-new-key", site="site-c"), key="new").status_code == 201
    assert (
        api.client.post(
            "/api/v1/keys", json={"name": "x", "role": "admin"}, headers=api.as_("supervisor")
        ).status_code
        == 403
    )
    with services_of(api.app).engine.connect() as db:
        rows = [tuple(r) for r in db.execute(text("SELECT * FROM api_keys"))]
    assert not any(key in str(value) for row in rows for value in row)
    stored = [value for row in rows for value in row]
    assert hashlib.sha256(key.encode()).hexdigest() not in stored  # peppered (test_keys)
    assert hash_key(key, services_of(api.app).key_pepper) in stored
    if api.database_url.startswith("sqlite"):
        raw = b"".join(p.read_bytes() for p in api.data_dir.glob("db.sqlite*"))  # with the WAL
        assert key.encode() not in raw


def test_openapi_has_stable_operation_ids(api: Api) -> None:
    ops = {
        op["operationId"]
        for path in api.client.get("/openapi.json").json()["paths"].values()
        for op in path.values()
    }
    assert {
        "health",
        "ingest_event",
        "list_events",
        "get_event",
        "get_event_snapshot",
        "review_event",
        "create_key",
    } <= ops


def test_the_same_update_sent_concurrently_is_stored_once(api: Api) -> None:
    body = event("evt-concurrent-1")
    results: list[int] = []

    def send() -> None:
        results.append(post(api, body, files={"snapshot": JPEG, "annotated": ANNOTATED}).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] * 5 + [201]
    listed = api.client.get("/api/v1/events", headers=api.as_("admin")).json()["data"]
    assert [e["id"] for e in listed] == ["evt-concurrent-1"]
    assert len([p for p in (api.data_dir / "evidence").rglob("*") if p.is_file()]) == 2


def test_an_oversized_upload_is_refused_with_413(api: Api) -> None:
    services_of(api.app).settings = services_of(api.app).settings.model_copy(update={"max_upload_mb": 0.001})
    response = post(api, event(), files={"snapshot": JPEG + bytes(4096)})
    assert response.status_code == 413 and "exceeds" in response.json()["detail"]
    assert api.client.get("/api/v1/events", headers=api.as_("admin")).json()["data"] == []


@pytest.mark.parametrize("path", ["%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5c..%5cwindows", "x" * 300])
def test_path_like_or_unknown_ids_are_a_clear_4xx(api: Api, path: str) -> None:
    for suffix in ("", "/snapshot"):
        response = api.client.get(f"/api/v1/events/{path}{suffix}", headers=api.as_("admin"))
        assert response.status_code in (404, 422) and response.json()["detail"]
    unknown = api.client.get("/api/v1/events/evt-never-seen", headers=api.as_("admin"))
    assert unknown.status_code == 404 and "no event evt-never-seen" in unknown.json()["detail"]


def test_a_write_conflict_with_another_update_is_retried_not_reported_as_duplicate(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: when a concurrent request created the same site first, the update was answered
    # "duplicate" and never stored. Make that race certain: another session creates the site just
    # before this update's first attempt writes it.
    import api.ingest.write as write_module
    from api.events.schemas import IngestEventIn
    from api.ingest.service import ingest_update
    from api.models import Site

    real_ensure_site = write_module.ensure_site
    calls: list[str] = []

    def racing_ensure_site(session: Session, *, site_id: str) -> None:
        if not calls:
            with services_of(api.app).sessions() as other:
                other.add(Site(id=site_id, created_at=datetime.now(UTC)))
                other.commit()
            calls.append("raced")
            session.add(Site(id=site_id, created_at=datetime.now(UTC)))
            session.flush()  # conflicts with the row the other session committed
        real_ensure_site(session, site_id=site_id)

    monkeypatch.setattr(write_module, "ensure_site", racing_ensure_site)
    update = IngestEventIn.model_validate(event("evt-race-0001", site="site-new"))
    with services_of(api.app).sessions() as session:
        result = ingest_update(session, update=update, files={}, store=services_of(api.app).store)
    assert calls == ["raced"] and result.status == "stored"
    assert api.client.get("/api/v1/events/evt-race-0001", headers=api.as_("admin")).status_code == 200


def test_metrics_need_a_key_and_count_requests_and_ingest(api: Api) -> None:
    post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED})
    post(api, event(kind="dancing"))
    assert api.client.get("/metrics").status_code == 401
    text_ = api.client.get("/metrics", headers=api.as_("viewer")).text
    assert 'sitewatch_ingest_updates_total{result="stored"} 1.0' in text_
    assert 'sitewatch_ingest_updates_total{result="duplicate"} 1.0' in text_
    assert (
        'sitewatch_http_requests_total{method="POST",route="/api/v1/ingest/events",status="422"} 1.0' in text_
    )
    assert 'sitewatch_events{status="open"} 1.0' in text_
    assert f"sitewatch_evidence_bytes {float(len(JPEG) + len(ANNOTATED))}" in text_


def test_time_filters_compare_instants_whatever_the_offset(api: Api) -> None:
    # Regression: SQLite stored and compared wall-clock times without their offset, so an event at
    # 02:00 UTC sent as 10:00+08:00 fell outside a filter that spelled the same instant in UTC.
    post(api, event("evt-offset-1", started_at="2026-11-23T10:00:00+08:00"))
    params = {"since": "2026-11-23T01:30:00+00:00", "until": "2026-11-23T02:30:00+00:00"}
    found = api.client.get("/api/v1/events", params=params, headers=api.as_("admin")).json()["data"]
    assert [e["id"] for e in found] == ["evt-offset-1"]
    assert found[0]["started_at"].startswith("2026-11-23T02:00:00")


def test_the_clip_is_served_and_its_download_audited(api: Api) -> None:
    mp4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    assert post(api, event("evt-clip-0001"), files={"snapshot": JPEG, "clip": mp4}).status_code == 201
    assert post(api, event("evt-clip-0002"), files={"snapshot": JPEG}).status_code == 201
    got = api.client.get("/api/v1/events/evt-clip-0001/clip", headers=api.as_("supervisor"))
    assert got.status_code == 200 and got.content == mp4 and got.headers["content-type"] == "video/mp4"
    none = api.client.get("/api/v1/events/evt-clip-0002/clip", headers=api.as_("supervisor"))
    assert none.status_code == 404 and "has no clip" in none.json()["detail"]
    assert (
        api.client.get("/api/v1/events/evt-clip-0001/clip", headers=api.as_("other_site")).status_code == 404
    )
    audit = api.client.get("/api/v1/audit", headers=api.as_("admin")).json()
    assert any(a["action"] == "download_clip" and a["target"] == "event:evt-clip-0001" for a in audit)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("started_at", "9999-12-31T23:59:59-23:59"),  # year 10000 in UTC: overflowed (500)
        ("started_at", "0001-01-01T00:00:00+14:00"),  # year 0 in UTC
        ("updated_at", "1970-01-01T00:00:00+00:00"),
        ("updated_at", "2100-01-01T00:00:00+00:00"),
        ("ended_at", "9999-12-31T23:59:59+00:00"),
    ],
)
def test_times_out_of_bounds_are_refused_with_the_reason(api: Api, field: str, value: str) -> None:
    # Regression (issue 13, finding 4): started_at 9999-12-31T23:59:59-23:59 answered 500 (OverflowError).
    response = post(api, event(**{field: value}), files={"snapshot": JPEG})
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"] and "outside the years 2000..2099" in response.json()["detail"]
    assert api.client.get("/api/v1/events", headers=api.as_("admin")).json()["data"] == []


@pytest.mark.parametrize(
    ("seq", "details"),
    [
        (1, {"note": "rewritten"}),  # a later update of the event
        (0, {}),  # a repeat of its first update: not even "duplicate" is told
    ],
)
def test_an_edge_key_cannot_change_an_event_of_another_site(
    api: Api, seq: int, details: dict[str, str]
) -> None:
    # Regression (issue 13, finding 6): an edge key of site b sent an update with site_id b and a site-a
    # event's id, got 201, and replaced the confirmed event's snapshot and details.
    post(api, event("evt-owned-by-a", details={"note": "original"}), files={"snapshot": JPEG})
    review = api.client.post(
        "/api/v1/events/evt-owned-by-a/review", json={"verdict": "confirmed"}, headers=api.as_("supervisor")
    )
    assert review.status_code == 200
    intruder = event("evt-owned-by-a", seq=seq, site="site-b", details=details)
    intruder["evidence"] = {"snapshot_sha256": hashlib.sha256(ANNOTATED).hexdigest()}
    response = post(api, intruder, key="edge_b", files={"snapshot": ANNOTATED})
    assert response.status_code == 409 and "belongs to another site" in response.json()["detail"]
    stored = api.client.get("/api/v1/events/evt-owned-by-a", headers=api.as_("admin")).json()
    assert stored["site_id"] == "site-a" and stored["details"] == {"note": "original"}
    assert stored["snapshot_sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert stored["review_status"] == "confirmed"


@pytest.mark.parametrize(
    ("key", "site", "expected"),
    [
        ("edge", "site-a", 200),  # a repeat of a stored (event id, seq) with new parts: "duplicate"
        ("edge_b", "site-b", 409),  # refused: the event belongs to another site
    ],
)
def test_files_of_updates_not_stored_do_not_stay(api: Api, key: str, site: str, expected: int) -> None:
    # Regression (issue 13, finding 7): three repeats with new 5 MiB parts answered "duplicate" but left
    # 45 MiB of files that no evidence_files row (so no retention, no quota) accounted for.
    assert post(api, event(), files={"snapshot": JPEG, "annotated": ANNOTATED}).status_code == 201
    for i in range(3):
        snapshot, annotated = other_jpeg(i), other_jpeg(100 + i)
        evidence = {
            "snapshot_sha256": hashlib.sha256(snapshot).hexdigest(),
            "annotated_sha256": hashlib.sha256(annotated).hexdigest(),
        }
        body = event(site=site, evidence=evidence)
        response = post(api, body, key=key, files={"snapshot": snapshot, "annotated": annotated})
        assert response.status_code == expected, response.text
    assert evidence_accounted_for(api)
