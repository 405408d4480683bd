"""Builders of what the API tests send and seed: event updates as edge boxes send them, their evidence, a
violation stored end to end, projects. One home for what test modules used to import from each other.

>>> body = event("evt-1", seq=2, kind="smoking")
>>> (body["phase"], body["kind"], body["updated_at"])
('update', 'smoking', '2026-11-23T02:00:02+00:00')
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from alerts.config import AlertsConfig
from api.core.secretkeys import data_keys
from api.http.services import services_of
from api.models import Case, CaseHistory, Project
from api.projects import service as projects
from api.sites.service import ensure_site
from tests.api.conftest import Api

#: A clean snapshot and its annotated copy, as an edge box sends them.
JPEG = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))[1].tobytes()
ANNOTATED = cv2.imencode(".jpg", np.full((48, 64, 3), 200, np.uint8))[1].tobytes()
#: The time zone of the API's local dates when the test does not configure one (the alerts' default).
ZONE = ZoneInfo(AlertsConfig().timezone)
#: The phone number of :func:`project_body`'s safety contact.
PHONE = "13812345678"


def jpeg(seed: int, size: tuple[int, int] = (120, 160)) -> bytes:
    """A JPEG of noise, different for each ``seed`` (so stored once each) and the same for the same seed."""
    noise = np.random.default_rng(seed).integers(0, 255, (*size, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def labelled_jpeg(text: str, shade: int = 90) -> bytes:
    """A 320×240 grey JPEG of ``shade`` with ``text`` written on it: a snapshot a person can tell apart in
    a screenshot of the web UI."""
    picture = np.full((240, 320, 3), shade, np.uint8)
    cv2.putText(picture, text, (10, 120), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    return cv2.imencode(".jpg", picture)[1].tobytes()


def edge_upload(body: dict[str, Any], snapshot: bytes) -> dict[str, Any]:
    """The keyword arguments of an httpx or TestClient ``post`` that sends ``body`` as an edge box does,
    with ``snapshot`` as both the clean and the annotated frame (its hash in the body's evidence)."""
    body = {**body, "evidence": {"snapshot_sha256": hashlib.sha256(snapshot).hexdigest()}}
    files = {"snapshot": ("s.jpg", snapshot, "image/jpeg"), "annotated": ("a.jpg", snapshot, "image/jpeg")}
    return {"data": {"event": json.dumps(body)}, "files": files}


def other_jpeg(i: int) -> bytes:
    """:data:`JPEG` made different by ``i`` and 64 KiB larger: a file of its own for each ``i``."""
    return JPEG + bytes([i]) * 2**16


def event(event_id: str = "evt-00000001", seq: int = 0, site: str = "site-a", **extra: Any) -> dict[str, Any]:
    """An update of a ``no_helmet`` event at camera ``gate`` whose evidence hashes are :data:`JPEG`'s and
    :data:`ANNOTATED`'s; ``extra`` replaces any field."""
    body = {
        "event_id": event_id,
        "seq": seq,
        "phase": "start" if seq == 0 else "update",
        "kind": "no_helmet",
        "site_id": site,
        "camera_id": "gate",
        "started_at": "2026-11-23T02:00:00+00:00",
        "updated_at": f"2026-11-23T02:00:{seq:02d}+00:00",
        "score": 0.8,
        "people_count": 1,
        "evidence": {
            "snapshot_sha256": hashlib.sha256(JPEG).hexdigest(),
            "annotated_sha256": hashlib.sha256(ANNOTATED).hexdigest(),
        },
    }
    body.update(extra)
    return body


def post(api: Api, body: dict[str, Any], key: str = "edge", files: dict[str, bytes] | None = None) -> Any:
    """Send ``body`` with ``files`` (part name to JPEG bytes) as the edge key ``key`` would; the response."""
    parts = {name: (f"{name}.jpg", data, "image/jpeg") for name, data in (files or {}).items()}
    return api.client.post(
        "/api/v1/ingest/events", data={"event": json.dumps(body)}, files=parts or None, headers=api.as_(key)
    )


def violation(
    api: Api,
    event_id: str,
    *,
    key: str = "edge",
    snapshot: bytes = JPEG,
    annotated: bytes | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Store a violation's first update with its evidence (the hashes made to match), asserting the 201;
    the body sent. ``extra`` replaces fields of :func:`event` (``site``, ``kind``, ``started_at`` ...)."""
    hashes = {"snapshot_sha256": hashlib.sha256(snapshot).hexdigest()}
    files = {"snapshot": snapshot}
    if annotated is not None:
        hashes["annotated_sha256"] = hashlib.sha256(annotated).hexdigest()
        files["annotated"] = annotated
    body = event(event_id, evidence=hashes, **extra)
    sent = post(api, body, key=key, files=files)
    assert sent.status_code == 201, sent.text
    return body


def evidence_accounted_for(api: Api) -> bool:
    """Whether the evidence folder holds exactly the files that evidence_files rows account for."""
    from api.models import EvidenceFile

    on_disk = sorted(p.name for p in (api.data_dir / "evidence").rglob("*") if p.is_file())
    with services_of(api.app).sessions() as session:
        rows = sorted(session.scalars(select(EvidenceFile.sha256)))
    return on_disk == rows


def today() -> date:
    """Today in :data:`ZONE`, as the API counts projects' dates."""
    return projects.today(zone=ZONE)


def project_body(**extra: Any) -> dict[str, Any]:
    """A project on site-a running from a month ago to a month ahead; ``extra`` replaces any field."""
    day = today()
    return {
        "site_id": "site-a",
        "name": "幸福路 12 号外墙改造",
        "address": "幸福路 12 号",
        "lat": 31.23,
        "lon": 121.47,
        "builder": "幸福小区业委会",
        "company": "宏达建筑",
        "permit_no": "SG-2026-0042",
        "contact_name": "王工",
        "contact_phone": PHONE,
        "planned_start": (day - timedelta(days=30)).isoformat(),
        "planned_end": (day + timedelta(days=30)).isoformat(),
    } | extra


def create_project(api: Api, who: str = "admin", **extra: Any) -> dict[str, Any]:
    """Create :func:`project_body` (with ``extra``) as ``who``, asserting the 201; the project."""
    response = api.client.post("/api/v1/projects", json=project_body(**extra), headers=api.as_(who))
    assert response.status_code == 201, response.text
    return dict(response.json())


#: The projects of :func:`seed_district`, by site (site-f has none): name, company, street, community,
#: address. Two companies contain 鹏安, two "greatwall" in different cases; one name holds ``A_B`` and another
#: ``AxB`` (a LIKE wildcard must not make the one match the other).
DISTRICT: dict[str, tuple[str, str, str, str, str]] = {
    "site-a": ("滨江花园三期", "深圳市鹏安建设有限公司", "南山街道", "南光社区", "南山区滨海大道1号"),
    "site-b": ("前海大厦", "Shenzhen Greatwall Builders", "南山街道", "南山社区", "前海路88号"),
    "site-c": ("福田小学改造", "鹏安建设(福田)分公司", "福田街道", "岗厦社区", "福华路3号"),
    "site-d": ("罗湖旧改A_B", "中建三局", "桂园街道", "人民桥社区", "人民南路5号"),
    "site-e": ("盐田港AxB", "GREATWALL Engineering", "桂园街道", "老围社区", "盐田路7号"),
}
DISTRICT_SITES = (*DISTRICT, "site-f")
CASE_STATUSES = ("open", "dispatched", "rectifying", "reinspection", "closed", "reopened")
CASE_KINDS = ("no_helmet", "smoking", "no_vest")


def seed_district(session: Session, *, cases: int, now: datetime) -> list[dict[str, Any]]:
    """``cases`` cases over :data:`DISTRICT_SITES` (site ``i % 6``), each with one history line, inserted
    in bulk, with projects on five of the sites; commits. Case ``i`` has kind ``i // 3 % 3``, status
    ``i // 7 % 6`` (closed ones closed an hour after opening), opened ``i`` hours after ``now`` minus 40 days,
    a deadline ``(i % 11) * 80`` hours after it, and a case-system number ``SZ-2026-<i>`` for every tenth.

    Returns:
        One dict per case (``id``, ``site_id``, ``kind``, ``status``, ``created_at``, ``deadline_at``,
        ``external_id``, and its project's ``project_id``, ``name``, ``company``, ``street``, ``community``,
        ``address``, empty without one), oldest first.
    """
    for site_id in DISTRICT_SITES:
        ensure_site(session, site_id=site_id)
    project_ids: dict[str, int] = {}
    key = data_keys(session).pii
    for site_id, (name, company, street, community, address) in DISTRICT.items():
        found = session.scalar(select(Project).where(Project.site_id == site_id))
        if found is None:
            found = Project(
                site_id=site_id, name=name, company=company, street=street, community=community,
                address=address, contact_name=f"{name}负责人",
                contact_phone=projects.encrypt_phone(f"1390000{len(project_ids):04d}", key=key),
                planned_start=now.date() - timedelta(days=60), planned_end=now.date() + timedelta(days=300),
                created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(found)
            session.flush()
        project_ids[site_id] = found.id
    start = now - timedelta(days=40)
    first = (session.scalar(select(func.max(Case.id))) or 0) + 1
    rows: list[dict[str, Any]] = []
    for i in range(cases):
        site_id = DISTRICT_SITES[i % len(DISTRICT_SITES)]
        created = start + timedelta(hours=i)
        status = CASE_STATUSES[i // 7 % len(CASE_STATUSES)]
        rows.append({
            "id": first + i, "site_id": site_id, "camera_id": f"cam-{i % 4}", "kind": CASE_KINDS[i // 3 % 3],
            "status": status, "created_at": created, "updated_at": created,
            "deadline_at": created + timedelta(hours=(i % 11) * 80),
            "closed_at": created + timedelta(hours=1) if status == "closed" else None,
            "external_id": f"SZ-2026-{i:04d}" if i % 10 == 0 else None,
        })  # fmt: skip
    session.execute(insert(Case), rows)
    if session.get_bind().dialect.name == "postgresql":  # ids given: move the sequence past them
        sequence = "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"
        session.execute(text(sequence))
    session.execute(
        insert(CaseHistory),
        [{"case_id": r["id"], "at": r["created_at"], "actor": "seed", "from_status": None,
          "to_status": r["status"], "note": "seeded"} for r in rows],
    )  # fmt: skip
    session.commit()
    described = []
    for r in rows:
        name, company, street, community, address = DISTRICT.get(r["site_id"], ("", "", "", "", ""))
        described.append(
            r | {"project_id": project_ids.get(r["site_id"]), "name": name, "company": company,
                 "street": street, "community": community, "address": address}
        )  # fmt: skip
    return described
