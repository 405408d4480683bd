"""``sitewatch bench analysis``: a district's year seeded with planted patterns, the analysis timed on it,
and the planted findings checked.

:func:`seed_district` is also what the tests seed (smaller): sites and projects spread over companies,
violations at random hours of the working day, half of them reviewed (10 % dismissed), and four planted
patterns: a company with three projects at three times the usual rate, a camera with 60 % false alarms, a
project whose last full week has several times its usual violations, and a site whose cases reopen.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.analysis.rankings import rankings
from api.analysis.service import analyse
from api.core.db import make_engine, migrate, session_factory
from api.core.kinds import VIOLATIONS
from api.models import Case, CaseEvent, CaseHistory, Event, Project, Site
from detector.evaluation.figures import figures

#: The zone of the seeded district's days and hours.
ZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class Plan:
    """The seeded district.

    Attributes:
        events: violations in all (the planted ones included).
        projects: projects, one site each.
        companies: contractors, the projects dealt out among them in turn.
        weeks: the length of the seeded period, ending on a Monday 00:00 local.
        cameras: cameras per site.
        rise: extra violations of the rising project in the last week.
        reopened: cases of the planted site reopened after closure.
        seed: of the random numbers (the same district every run).
    """

    events: int = 100_000
    projects: int = 300
    companies: int = 40
    weeks: int = 52
    cameras: int = 3
    rise: int = 40
    reopened: int = 3
    seed: int = 16


@dataclass(slots=True)
class Planted:
    """What :func:`seed_district` planted, to be found."""

    start: datetime
    end: datetime
    company: str
    company_sites: list[str]
    camera: str  # site/camera
    rising_site: str
    reopened_site: str
    closed_sites: list[str] = field(default_factory=list)  # cases closed and never reopened


def seed_district(session: Session, *, plan: Plan, end: datetime, tz: str = ZONE) -> Planted:
    """Seed ``plan`` into an empty database, the period ending at ``end`` (a Monday 00:00 in ``tz``)."""
    rng = random.Random(plan.seed)
    zone = ZoneInfo(tz)
    start = end - timedelta(weeks=plan.weeks)
    sites = [f"site-{i:03d}" for i in range(plan.projects)]
    companies = [f"建工{j:02d}" for j in range(plan.companies)]
    company_of = {s: companies[i % plan.companies] for i, s in enumerate(sites)}
    hot = [s for s in sites if company_of[s] == companies[0]][:3]
    rising = next(s for s in sites if company_of[s] == companies[1])
    reopened = next(s for s in sites if company_of[s] == companies[2])
    noisy = (next(s for s in sites if company_of[s] == companies[3]), "cam-1")
    now = datetime.now(UTC)
    session.execute(insert(Site), [{"id": s, "name": s, "created_at": start} for s in sites])
    session.execute(
        insert(Project),
        [
            {
                "site_id": s,
                "name": f"项目{s[5:]}",
                "company": company_of[s],
                "planned_start": start.date(),
                "planned_end": end.date(),
                "created_at": now,
                "updated_at": now,
            }
            for s in sites
        ],
    )
    weights = [3.0 if s in hot else 1.0 for s in sites]
    last_week = end - timedelta(weeks=1)
    picks = rng.choices(sites, weights, k=plan.events - plan.rise)
    rows = []
    for n, site in enumerate([*picks, *[rising] * plan.rise]):
        planted_rise = n >= len(picks)
        day = rng.uniform(0 if not planted_rise else (last_week - start).days, (end - start).days - 1)
        local = (start + timedelta(days=int(day))).astimezone(zone).replace(hour=0, minute=0)
        hour = min(23, max(0, int(rng.gauss(13, 3))))  # most in the working day
        started = (local + timedelta(hours=hour, minutes=rng.randrange(60))).astimezone(UTC)
        started = min(max(started, start), end - timedelta(minutes=1))
        camera = f"cam-{rng.randrange(plan.cameras)}"
        status = "pending"
        if rng.random() < 0.5:
            false_share = 0.6 if (site, camera) == noisy else 0.1
            status = "false_alarm" if rng.random() < false_share else "confirmed"
        rows.append(
            {
                "id": f"evt-{n:06d}",
                "site_id": site,
                "camera_id": camera,
                "kind": VIOLATIONS[n % len(VIOLATIONS)],
                "status": "ended",
                "started_at": started,
                "updated_at": started,
                "score": round(rng.uniform(0.4, 0.99), 3),
                "people_count": 1,
                "review_status": status,
                "details": {},
                "last_seq": 0,
            }
        )
    for chunk in range(0, len(rows), 5000):
        session.execute(insert(Event), rows[chunk : chunk + 5000])
    planted = Planted(start, end, companies[0], hot, f"{noisy[0]}/{noisy[1]}", rising, reopened)
    planted.closed_sites = [s for s in sites if s not in (reopened,)][:5]
    _cases(session, rows, planted, plan)
    session.commit()
    return planted


def _cases(session: Session, rows: list[dict[str, Any]], planted: Planted, plan: Plan) -> None:
    """Cases on the reopened site (closed, then reopened) and on a few others (closed for good)."""
    by_site: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_site.setdefault(row["site_id"], []).append(row)
    todo = [(planted.reopened_site, True)] * plan.reopened + [(s, False) for s in planted.closed_sites]
    for n, (site, reopen) in enumerate(todo):
        event = sorted(by_site[site], key=lambda r: r["started_at"])[n % len(by_site[site])]
        at = event["started_at"]
        case = Case(
            site_id=site,
            camera_id=event["camera_id"],
            kind=event["kind"],
            status="reopened" if reopen else "closed",
            created_at=at,
            updated_at=at,
            deadline_at=at + timedelta(days=1),
            closed_at=None if reopen else at + timedelta(hours=5),
        )
        session.add(case)
        session.flush()
        session.add(CaseEvent(case_id=case.id, event_id=event["id"]))
        steps = [(None, "open"), ("open", "closed")] + ([("closed", "reopened")] if reopen else [])
        for hours, (before, after) in enumerate(steps):
            session.add(
                CaseHistory(
                    case_id=case.id,
                    at=at + timedelta(hours=hours * 5),
                    actor="seed",
                    from_status=before,
                    to_status=after,
                )
            )


def check(result: dict[str, Any], planted: Planted) -> list[str]:
    """What the analysis missed of the planted patterns, or found besides them (empty: all as planted)."""
    found = {(f["kind"], f["subject"]) for f in result["findings"]}
    rising = next((f["subject"] for f in result["findings"] if f["site_ids"] == [planted.rising_site]), "?")
    expected = {
        ("recurring_company", planted.company),
        ("noisy_camera", planted.camera),
        ("rising_project", rising),
        ("reopened_cases", f"site:{planted.reopened_site}"),
    }
    problems = [f"missed {kind} {subject}" for kind, subject in sorted(expected - found)]
    problems += [f"unplanted {kind} {subject}" for kind, subject in sorted(found - expected)]
    return problems


def bench_analysis(*, plan: Plan | None = None, runs: int = 3, folder: Path | None = None) -> dict[str, Any]:
    """Seed ``plan`` into a fresh SQLite database, time :func:`api.analysis.service.analyse` and
    :func:`api.analysis.rankings.rankings` over the whole period (best and median of ``runs``, wall clock,
    and the least CPU time: on a busy machine the wall clock measures the neighbours too), and check the
    planted findings."""
    plan = plan or Plan()
    with tempfile.TemporaryDirectory(prefix="sitewatch-analysis-") as temp:
        path = (folder or Path(temp)) / "analysis.sqlite"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        sessions = session_factory(engine, key_pepper=b"bench")
        end = datetime(2026, 11, 30, tzinfo=ZoneInfo(ZONE))
        began = time.perf_counter()
        with sessions() as session:
            planted = seed_district(session, plan=plan, end=end)
        seeded_s = time.perf_counter() - began
        times, cpu = [], []
        principal = Principal(name="bench", role="admin")
        for _ in range(runs):
            with sessions() as session:
                began, used = time.perf_counter(), time.process_time()
                result = analyse(session, principal=principal, start=planted.start, end=planted.end, tz=ZONE)
                times.append(time.perf_counter() - began)
                cpu.append(time.process_time() - used)  # SQLite runs in this process: its CPU time too
        ranked, ranked_cpu = [], []
        for _ in range(runs):  # the recurring page's rankings, the period and the one before
            with sessions() as session:
                began, used = time.perf_counter(), time.process_time()
                rankings(session, principal=principal, start=planted.start, end=planted.end, tz=ZONE)
                ranked.append(time.perf_counter() - began)
                ranked_cpu.append(time.process_time() - used)
        engine.dispose()
    ranked.sort()
    times.sort()
    return figures(
        {
            "events": plan.events,
            "projects": plan.projects,
            "companies": plan.companies,
            "seed_s": seeded_s,
            "analysis_best_s": times[0],
            "analysis_median_s": times[len(times) // 2],
            "analysis_cpu_s": min(cpu),
            "rankings_best_s": ranked[0],
            "rankings_cpu_s": min(ranked_cpu),
            "findings": len(result["findings"]),
            "problems": check(result, planted),
        }
    )
