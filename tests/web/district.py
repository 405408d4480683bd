"""A district's cases seeded through the public API, as its edge boxes and supervisors make them: projects on
their own sites (60 contractors, 10 streets), case policies that open a case on a violation's start, one
ingested violation per case, then some cases dispatched and some closed. The numbers of what was made are
returned for the tests to compare with what the pages show.

A case's deadline comes from its site's policy: every fourth site has a deadline of about a second, so its
cases are overdue by the time a page is opened; the others have three days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tqdm import tqdm

from detector.kinds import PERSON_KINDS
from tests.api.builders import JPEG, edge_upload, event, project_body

#: A case of an overdue site is overdue about a second after it opens.
OVERDUE_HOURS = 0.0003
ON_TIME_HOURS = 72.0


class Client(Protocol):
    """What the seeder needs of an HTTP client (httpx.Client, FastAPI's TestClient)."""

    def post(self, url: str, **kwargs: Any) -> Any: ...
    def put(self, url: str, **kwargs: Any) -> Any: ...
    def patch(self, url: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed_district` made."""

    projects: int
    cases: int
    closed: int
    dispatched: int


def site_of(i: int) -> str:
    return f"lg-{i:03d}"


def seed_district(
    client: Client, *, admin: dict[str, str], edge: dict[str, str], projects: int = 300, cases: int = 10_000
) -> Seeded:
    """Seed ``projects`` projects and ``cases`` cases through the API (``admin`` and ``edge``: the headers of
    an admin's and an edge box's key for every site). Cases are spread over the sites, kinds and up to 12
    cameras a site, so that each violation opens a case of its own; every 7th case is closed and every 3rd of
    the rest dispatched."""
    day = datetime.now(UTC).date()
    for i in tqdm(range(projects), desc="projects", leave=False):
        body = project_body(
            site_id=site_of(i),
            name=f"龙岗区第{i:03d}号工程",
            address=f"龙岗大道 {i} 号",
            company=f"深圳市鹏安建设{i % 60:02d}有限公司",
            permit_no=f"LG-2026-{i:04d}",
            contact_name=f"负责人{i:03d}",
            planned_start=(day - timedelta(days=60)).isoformat(),
            planned_end=(day + timedelta(days=60)).isoformat(),
        )
        answer = client.post("/api/v1/projects", json=body, headers=admin)
        assert answer.status_code == 201, answer.text
        hours = OVERDUE_HOURS if i % 4 == 0 else ON_TIME_HOURS
        for kind in PERSON_KINDS:
            policy = {"trigger": "on_start", "deadline_hours": hours}
            answer = client.put(
                f"/api/v1/sites/{site_of(i)}/case-policies/{kind}", json=policy, headers=admin
            )
            assert answer.status_code == 204, answer.text
    started = datetime.now(UTC).isoformat()
    for n in tqdm(range(cases), desc="violations", leave=False):
        slot = n // projects  # the n-th violation of its site: its own camera and kind, so its own case
        body = event(
            f"evt-lg-{n:06d}",
            site=site_of(n % projects),
            kind=PERSON_KINDS[slot % len(PERSON_KINDS)],
            camera_id=f"cam-{slot // len(PERSON_KINDS):02d}",
            started_at=started,
            updated_at=started,
        )
        answer = client.post("/api/v1/ingest/events", **edge_upload(body, JPEG), headers=edge)
        assert answer.status_code == 201, answer.text
    closed = dispatched = 0
    for case_id in tqdm(range(1, cases + 1), desc="case moves", leave=False):
        move = "closed" if case_id % 7 == 0 else "dispatched" if case_id % 3 == 0 else None
        if move is None:
            continue
        answer = client.patch(
            f"/api/v1/cases/{case_id}", json={"status": move, "note": "seed"}, headers=admin
        )
        assert answer.status_code == 200, answer.text
        closed += move == "closed"
        dispatched += move == "dispatched"
    return Seeded(projects=projects, cases=cases, closed=closed, dispatched=dispatched)
