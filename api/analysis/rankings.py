"""The full rankings of a period (类案排名): contractors, projects, local hours of the day and cameras, each
row with its violations, its share of the period's, its cases open now and its violations in the period
before (as long, just before), and the thresholds the findings of :mod:`api.analysis.findings` apply, as
figures the UI can explain.

Four aggregate queries (``GROUP BY``) for any number of projects and events, each over the period and the
one before at once; Python only rolls the projects up per contractor and per street (街道), from the
projects' registry.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.analysis.scope import DISMISSED, AskedPeriod, Scope, Thresholds
from api.analysis.sql import local_hour
from api.core.errors import BadRequestError
from api.core.kinds import VIOLATIONS
from api.models import Case, Event, Project


def rankings_of(session: Session, *, principal: Principal, asked: AskedPeriod) -> dict[str, Any]:
    """:func:`rankings` of the period a request asks for (:func:`api.analysis.deps.asked_period`).

    Raises:
        BadRequestError: the period before reaches past the calendar's start.
    """
    try:
        return rankings(
            session,
            principal=principal,
            start=asked.start,
            end=asked.end,
            tz=asked.tz,
            site_id=asked.site_id,
            thresholds=asked.thresholds,
        )
    except OverflowError:  # the period before reaches past the calendar's start
        raise BadRequestError("start or end is out of range") from None


def rankings(
    session: Session,
    *,
    principal: Principal,
    start: datetime,
    end: datetime,
    tz: str,
    site_id: str | None = None,
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """The violations of ``[start, end)`` ranked per contractor, project, local hour and camera, against the
    period as long just before (``previous``), with the open cases of each and the findings' thresholds.

    A violation counts as :mod:`api.analysis.service` counts it (a violation kind, not dismissed as a false
    alarm); ``open_cases``: the cases not closed now, whenever they were opened (the backlog).
    """
    t = thresholds or Thresholds()
    scope = Scope(session, principal, start, end, ZoneInfo(tz), site_id, t)
    before = start - (end - start)
    projects = {
        row.site_id: row
        for row in session.execute(
            select(Project.id, Project.site_id, Project.name, Project.company, Project.street).where(
                *scope.sites(Project.site_id)
            )
        )
    }
    now_ = and_(Event.started_at >= start, Event.review_status != DISMISSED)
    then = and_(Event.started_at < start, Event.review_status != DISMISSED)
    in_now = func.sum(case((now_, 1), else_=0))
    in_then = func.sum(case((then, 1), else_=0))
    in_period = Event.started_at >= start
    reviewed = func.sum(case((and_(in_period, Event.review_status != "pending"), 1), else_=0))
    dismissed = func.sum(case((and_(in_period, Event.review_status == DISMISSED), 1), else_=0))
    both = [Event.started_at >= before, Event.started_at < end, Event.kind.in_(VIOLATIONS), *scope.sites()]
    cameras: dict[tuple[str, str | None], dict[str, int]] = {}
    for site, camera, n, m, r, d in session.execute(
        select(Event.site_id, Event.camera_id, in_now, in_then, reviewed, dismissed)
        .where(*both)
        .group_by(Event.site_id, Event.camera_id)
    ):
        cameras[(site, camera)] = dict(count=int(n), previous=int(m), reviewed=int(r), dismissed=int(d))
    hour = local_hour(session, Event.started_at, scope.zone, before, end)
    hours: list[dict[str, Any]] = [{"hour": h, "count": 0, "previous": 0} for h in range(24)]
    for h, n, m in session.execute(
        select(hour, in_now, in_then).where(*both, Event.review_status != DISMISSED).group_by(hour)
    ):
        hours[int(h)]["count"] += int(n)
        hours[int(h)]["previous"] += int(m)
    open_cases: dict[tuple[str, str | None], int] = {}
    for site, camera, n in session.execute(
        select(Case.site_id, Case.camera_id, func.count())
        .where(Case.status != "closed", *scope.sites(Case.site_id))
        .group_by(Case.site_id, Case.camera_id)
    ):
        open_cases[(site, camera)] = int(n)

    sites: defaultdict[str, dict[str, int]] = defaultdict(lambda: dict(count=0, previous=0, open_cases=0))
    for (site, _), c in cameras.items():
        sites[site]["count"] += c["count"]
        sites[site]["previous"] += c["previous"]
    for (site, _), n in open_cases.items():
        sites[site]["open_cases"] += n
    total = sum(s["count"] for s in sites.values())
    counts = [s["count"] for s in sites.values() if s["count"]]
    median = statistics.median(counts) if counts else 0
    bar = max(t.project_min, t.project_factor * median)

    def share(n: int) -> float:
        return round(n / total, 4) if total else 0.0

    by_project: list[dict[str, Any]] = [
        {
            "site_id": site,
            "project_id": projects[site].id if site in projects else None,
            "name": projects[site].name if site in projects else site,
            "company": projects[site].company if site in projects else "",
            "street": projects[site].street if site in projects else "",
            **s,
            "share": share(s["count"]),
            "over_bar": s["count"] >= bar and s["count"] > 0,
        }
        for site, s in sites.items()
        if s["count"] or s["previous"] or s["open_cases"]
    ]
    by_project.sort(key=lambda p: (-p["count"], -p["open_cases"], p["site_id"]))
    contractors = rollup(by_project, key=lambda p: str(p["company"]), share=share)
    for row in contractors:
        row["company"] = row.pop("key")
        row["projects_total"] = sum(1 for p in projects.values() if p.company == row["company"])
        row["recurring"] = row["projects_over_bar"] >= t.company_projects
    streets = rollup(by_project, key=lambda p: str(p["street"]), share=share)
    for row in streets:
        row["street"] = row.pop("key")
        row["projects_total"] = sum(1 for p in projects.values() if p.street == row["street"])
    by_camera: list[dict[str, Any]] = [
        {
            "site_id": site,
            "camera_id": camera,
            "project_id": projects[site].id if site in projects else None,
            "name": projects[site].name if site in projects else site,
            "count": c["count"],
            "previous": c["previous"],
            "share": share(c["count"]),
            "open_cases": open_cases.get((site, camera), 0),
            "reviewed": c["reviewed"],
            "dismissed": c["dismissed"],
            "false_alarm_share": round(c["dismissed"] / c["reviewed"], 4) if c["reviewed"] else None,
        }
        for (site, camera), c in cameras.items()
        if c["count"] or c["previous"] or c["dismissed"]
    ]
    by_camera.sort(key=lambda c: (-c["count"], c["site_id"], c["camera_id"] or ""))
    for row in hours:
        row["share"] = share(row["count"])
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "tz": tz},
        "previous": {"start": before.isoformat(), "end": start.isoformat()},
        "totals": {
            "count": total,
            "previous": sum(s["previous"] for s in sites.values()),
            "open_cases": sum(open_cases.values()),
            "projects": len(projects),
        },
        "thresholds": {
            "median_project": median,
            "project_bar": bar,
            "project_factor": t.project_factor,
            "project_min": t.project_min,
            "company_projects": t.company_projects,
            "rise_factor": t.rise_factor,
            "rise_min": t.rise_min,
            "reopen_min": t.reopen_min,
            "false_share": t.false_share,
            "false_min": t.false_min,
        },
        "contractors": contractors,
        "streets": streets,
        "projects": by_project,
        "hours": hours,
        "cameras": by_camera,
    }


def rollup(
    projects: list[dict[str, Any]], *, key: Callable[[dict[str, Any]], str], share: Callable[[int], float]
) -> list[dict[str, Any]]:
    """The project rows of :func:`rankings` added up per ``key`` (the contractor, the street), rows without
    one left out: ``count``, ``previous``, ``open_cases``, ``share``, ``projects``
    (with a row) and ``projects_over_bar`` (above the findings' bar), the most violations first."""
    groups: dict[str, dict[str, Any]] = {}
    for p in projects:
        name = key(p)
        if not name:
            continue
        g = groups.setdefault(
            name, dict(key=name, count=0, previous=0, open_cases=0, projects=0, projects_over_bar=0)
        )
        g["count"] += p["count"]
        g["previous"] += p["previous"]
        g["open_cases"] += p["open_cases"]
        g["projects"] += 1
        g["projects_over_bar"] += int(p["over_bar"])
    rows = sorted(groups.values(), key=lambda g: (-g["count"], -g["open_cases"], g["key"]))
    for g in rows:
        g["share"] = share(g["count"])
    return rows
