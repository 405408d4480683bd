"""The projects' map (issue 16): each visible project with its cameras and cases, in three queries for any
number of projects (the projects; camera counts per site; case counts per site)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from api.core.db import local_zone
from api.models import CameraHealth, Case, Project
from api.projects.schemas import MarkerStatus, ProjectMarker, ProjectState
from api.projects.service import state_of, today


def markers(
    session: Session, *, site_ids: Sequence[str], stale_s: float, now: datetime | None = None
) -> list[ProjectMarker]:
    """A marker for each project of ``site_ids`` (``[]``: every site), by id; a camera is offline when its
    edge box reported it so, or reported nothing for over ``stale_s`` seconds."""
    now = now or datetime.now(UTC)
    day = today(zone=local_zone(session))

    scope = [Project.site_id.in_(site_ids)] if site_ids else []

    projects = session.scalars(select(Project).where(*scope).order_by(Project.id))
    cameras: defaultdict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    stale = now - timedelta(seconds=stale_s)
    offline = func.sum(
        case((or_(CameraHealth.online.is_(False), CameraHealth.reported_at < stale), 1), else_=0)
    )
    for site, total, down in session.execute(
        select(CameraHealth.site_id, func.count(), offline)
        .join(Project, Project.site_id == CameraHealth.site_id)
        .where(*scope)
        .group_by(CameraHealth.site_id)
    ):
        cameras[site] = (int(total), int(down or 0))
    cases: defaultdict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    overdue = func.sum(case((Case.deadline_at < now, 1), else_=0))
    for site, open_, late in session.execute(
        select(Case.site_id, func.count(), overdue)
        .join(Project, Project.site_id == Case.site_id)
        .where(Case.status != "closed", *scope)
        .group_by(Case.site_id)
    ):
        cases[site] = (int(open_), int(late or 0))
    found = []
    for project in projects:
        state = state_of(project, today=day)
        total, down = cameras[project.site_id]
        open_, late = cases[project.site_id]
        found.append(
            ProjectMarker(
                id=project.id,
                site_id=project.site_id,
                name=project.name,
                company=project.company,
                lat=project.lat,
                lon=project.lon,
                state=state,
                cameras=total,
                cameras_offline=down,
                open_cases=open_,
                overdue_cases=late,
                status=marker_status(state, overdue=late, open_cases=open_, offline=down),
            )
        )
    return found


def marker_status(state: ProjectState, *, overdue: int, open_cases: int, offline: int) -> MarkerStatus:
    """The most urgent of a project's conditions (finished and planned projects keep their state).

    Example:
        >>> marker_status("active", overdue=0, open_cases=2, offline=1)
        'open_cases'
    """
    if state != "active":
        return state
    if overdue:
        return "overdue"
    if open_cases:
        return "open_cases"
    return "offline" if offline else "active"
