"""From one case to a class of cases (类案): violations of a period counted per project, company, kind,
camera and local hour of the day, and the recurring problems found in them (:mod:`api.analysis.findings`).

Every count is an aggregate query (``GROUP BY``) on the database, so a year of a district (10^5 events)
answers in well under a second on SQLite (``sitewatch bench analysis`` measures it); Python only rolls up
the aggregated rows (a few thousand at most). A violation is an event of a violation kind
(:data:`api.core.kinds.VIOLATIONS`) that started in ``[start, end)`` and that no supervisor dismissed as a
false alarm: dismissed events count against their camera (a camera to re-aim), not against the site.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.analysis.findings import find
from api.analysis.scope import DISMISSED, AskedPeriod, Scope, Thresholds
from api.analysis.sql import local_hour
from api.core.errors import BadRequestError
from api.core.kinds import VIOLATIONS
from api.models import Event, Project

logger = logging.getLogger(__name__)


def analysis_of(session: Session, *, principal: Principal, asked: AskedPeriod) -> dict[str, Any]:
    """:func:`analyse` of the period a request asks for (:func:`api.analysis.deps.asked_period`).

    Raises:
        BadRequestError: weeks around a period at the edge of the calendar.
    """
    try:
        return analyse(
            session,
            principal=principal,
            start=asked.start,
            end=asked.end,
            tz=asked.tz,
            site_id=asked.site_id,
            thresholds=asked.thresholds,
        )
    except OverflowError:  # weeks around a period at the edge of the calendar
        raise BadRequestError("start or end is out of range") from None


def analyse(
    session: Session,
    *,
    principal: Principal,
    start: datetime,
    end: datetime,
    tz: str,
    site_id: str | None = None,
    thresholds: Thresholds | None = None,
) -> dict[str, Any]:
    """The violations of ``[start, end)`` broken down, and the recurring problems found in them.

    Args:
        principal: whose sites are analysed (a scoped key or user: only theirs).
        tz: the time zone of hours of the day and of weeks (an IANA name).
        site_id: only this site (a site's brief).
        thresholds: when patterns become findings.

    Returns:
        ``period``, ``totals``, ``by_project``, ``by_company``, ``by_kind``, ``by_camera``, ``by_hour`` (24
        counts, local hours) and ``findings`` (see :func:`api.analysis.findings.find`).
    """
    scope = Scope(session, principal, start, end, ZoneInfo(tz), site_id, thresholds or Thresholds())
    scope.projects = {
        row.site_id: {"project_id": row.id, "name": row.name, "company": row.company}
        for row in session.execute(
            select(Project.id, Project.site_id, Project.name, Project.company).where(
                *scope.sites(Project.site_id)
            )
        )
    }
    # One pass over the period's events: counts per site, camera and kind (violations, dismissed, reviewed).
    dismissed = func.sum(case((Event.review_status == DISMISSED, 1), else_=0))
    reviewed = func.sum(case((Event.review_status != "pending", 1), else_=0))
    kept = func.sum(case((Event.review_status != DISMISSED, 1), else_=0))
    cube = (
        select(Event.site_id, Event.camera_id, Event.kind, kept, dismissed, reviewed)
        .where(Event.started_at >= start, Event.started_at < end, Event.kind.in_(VIOLATIONS), *scope.sites())
        .group_by(Event.site_id, Event.camera_id, Event.kind)
    )
    by_kind: Counter[str] = Counter()
    cameras: defaultdict[tuple[str, str | None], Counter[str]] = defaultdict(Counter)
    for site, camera, kind, n_kept, n_dismissed, n_reviewed in session.execute(cube):
        by_kind[kind] += n_kept
        scope.by_site[site] += n_kept
        tally = cameras[(site, camera)]
        tally.update(violations=n_kept, dismissed=n_dismissed, reviewed=n_reviewed)
    scope.cameras = sorted(
        (
            {
                "site_id": site,
                "camera_id": camera,
                "violations": c["violations"],
                "reviewed": c["reviewed"],
                "dismissed": c["dismissed"],
                "false_alarm_share": round(c["dismissed"] / c["reviewed"], 4) if c["reviewed"] else None,
            }
            for (site, camera), c in cameras.items()
        ),
        key=lambda c: (-c["violations"], c["site_id"], c["camera_id"] or ""),
    )
    hour = local_hour(session, Event.started_at, scope.zone, start, end)
    by_hour = [0] * 24
    for h, n in session.execute(select(hour, func.count()).where(*scope.violations()).group_by(hour)):
        by_hour[int(h)] += n
    by_project: list[dict[str, Any]] = sorted(
        (
            {
                "site_id": site,
                "project_id": scope.projects[site]["project_id"] if site in scope.projects else None,
                "name": scope.label(site),
                "company": scope.projects[site]["company"] if site in scope.projects else "",
                "violations": n,
            }
            for site, n in scope.by_site.items()
            if n
        ),
        key=lambda p: (-p["violations"], p["site_id"]),
    )
    companies: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for p in by_project:
        if p["company"]:
            companies[str(p["company"])].update(violations=int(p["violations"]), projects=1)
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "tz": tz},
        "totals": {
            "violations": sum(by_kind.values()),
            "reviewed": sum(c["reviewed"] for c in scope.cameras),
            "dismissed": sum(c["dismissed"] for c in scope.cameras),
        },
        "by_project": by_project,
        "by_company": sorted(
            (
                {"company": name, "projects": c["projects"], "violations": c["violations"]}
                for name, c in companies.items()
            ),
            key=lambda c: (-c["violations"], c["company"]),
        ),
        "by_kind": {k: by_kind[k] for k in VIOLATIONS if by_kind[k]},
        "by_camera": scope.cameras,
        "by_hour": by_hour,
        "findings": find(scope),
    }
