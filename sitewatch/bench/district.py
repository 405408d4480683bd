"""A district's data for the UI benchmark, written in bulk: the map's projects (:mod:`sitewatch.bench.map`),
then ``events`` violations over the last 60 days on their sites and ``cases`` cases opened from them, each
with its history: most closed (after 2 to 200 hours), the rest open, dispatched or rectifying, some overdue.

Bulk inserts, not the API: 100,000 events through the ingest endpoint would take the benchmark longer than
what it measures (the web UI's tests seed 10,000 cases through the API instead, :mod:`tests.web.district`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, insert, select
from tqdm import tqdm

from api.http.services import services_of
from api.models import Case, CaseEvent, CaseHistory, Event, Project
from detector.kinds import PERSON_KINDS
from sitewatch.bench.map import seed_projects

#: Rows a bulk insert writes at once.
CHUNK = 5000
#: The statuses of cases still open, in turn.
OPEN_STATES = ("open", "dispatched", "rectifying")


def seed_district(
    app: FastAPI, *, projects: int = 300, cases: int = 10_000, events: int = 100_000, progress: bool = True
) -> None:
    """Seed ``projects`` projects, ``events`` events and ``cases`` cases (``cases`` <= ``events``) into the
    app's database, on the sites of its first ``projects`` projects (the map's, made here when it has none).
    One case in ten is still open; of those, one in three is overdue."""
    if cases > events:
        raise ValueError(f"{cases} cases need at least as many events ({events})")
    with services_of(app).sessions() as session:
        known = session.scalar(select(func.count()).select_from(Project)) or 0
    if not known:  # the map's projects, when the benchmark seeded none before
        seed_projects(app, count=projects)
    now = datetime.now(UTC)
    with services_of(app).sessions() as session:
        sites = list(session.scalars(select(Project.site_id).order_by(Project.id).limit(projects)))
        first_case = (session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0) + 1
    span = timedelta(days=60)
    bar = tqdm(total=events + cases, desc="seed district", unit="row", disable=not progress)
    with services_of(app).sessions() as session:
        for start in range(0, events, CHUNK):
            rows: list[dict[str, Any]] = []
            for i in range(start, min(events, start + CHUNK)):
                at = now - span * ((i * 7919) % events) / events
                rows.append(
                    {
                        "id": f"dist-{i:08d}",
                        "site_id": sites[i % len(sites)],
                        "camera_id": f"cam-{i % 2}",
                        "kind": PERSON_KINDS[i % len(PERSON_KINDS)],
                        "status": "ended",
                        "started_at": at,
                        "updated_at": at,
                        "last_seq": 1,
                        "score": 0.6 + (i % 40) / 100,
                        "people_count": 1 + i % 4,
                        "review_status": "confirmed" if i < cases else ("pending", "false_alarm")[i % 2],
                        "details": {},
                    }
                )
            session.execute(insert(Event), rows)
            bar.update(len(rows))
        session.commit()
        for start in range(0, cases, CHUNK):
            made, links, history = [], [], []
            for i in range(start, min(cases, start + CHUNK)):
                case_id = first_case + i
                opened = now - span * ((i * 7919) % events) / events
                still_open = i % 10 == 0
                status = OPEN_STATES[(i // 30) % len(OPEN_STATES)] if still_open else "closed"
                closed = None if still_open else opened + timedelta(hours=2 + (i * 37) % 199)
                if not still_open:
                    deadline = opened + timedelta(days=3)
                elif i % 30 == 0:  # a third of the open cases are overdue
                    deadline = now - timedelta(hours=1 + i % 48)
                else:
                    deadline = now + timedelta(hours=1 + i % 48)
                made.append(
                    {
                        "id": case_id,
                        "site_id": sites[i % len(sites)],
                        "camera_id": f"cam-{i % 2}",
                        "kind": PERSON_KINDS[i % len(PERSON_KINDS)],
                        "status": status,
                        "created_at": opened,
                        "updated_at": closed or opened,
                        "deadline_at": deadline,
                        "closed_at": closed,
                    }
                )
                links.append({"case_id": case_id, "event_id": f"dist-{i:08d}"})
                history.append(
                    {"case_id": case_id, "at": opened, "actor": "system", "from_status": None,
                     "to_status": "open", "note": ""}
                )  # fmt: skip
                if status != "open":
                    history.append(
                        {"case_id": case_id, "at": closed or opened + timedelta(hours=1), "actor": "bench",
                         "from_status": "open", "to_status": status, "note": ""}
                    )  # fmt: skip
            session.execute(insert(Case), made)
            session.execute(insert(CaseEvent), links)
            session.execute(insert(CaseHistory), history)
            bar.update(len(made))
        session.commit()
    bar.close()


__all__ = ["seed_district"]
