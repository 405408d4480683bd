"""Projects (工程, issue 16): which project watches a site, whether its rules are armed, its safety contact.

A project's rules are armed from ``planned_start`` to ``planned_end``, local dates in the API's time zone
(the alerts configuration's ``timezone``, which briefs and quiet hours use: see
:func:`api.core.db.local_zone`), both included, and not after it was closed. A site without a project
is armed, as before projects existed.

Example:
    >>> from datetime import date
    >>> p = Project(planned_start=date(2026, 11, 1), planned_end=date(2026, 11, 30), closed_at=None)
    >>> state_of(p, today=date(2026, 12, 1)), state_of(p, today=date(2026, 11, 30))
    ('finished', 'active')
    >>> mask_phone("13812345678")
    '138****5678'
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.core.db import local_zone
from api.core.errors import InvalidError
from api.core.secretkeys import SecretKey, data_keys
from api.models import Project
from api.projects.schemas import ProjectIn, ProjectPatch, ProjectState
from api.sites.service import ensure_site

logger = logging.getLogger(__name__)


def today(*, zone: ZoneInfo) -> date:
    """Today's local date in ``zone`` (the app's: :func:`api.core.db.local_zone`)."""
    return datetime.now(zone).date()


def state_of(project: Project, *, today: date) -> ProjectState:
    """``planned`` before its start, ``active`` from start to end, ``finished`` after it or once closed."""
    if project.closed_at is not None or today > project.planned_end:
        return "finished"
    return "planned" if today < project.planned_start else "active"


def state_clause(state: ProjectState, *, today: date) -> ColumnElement[bool]:
    """The SQL condition of projects in ``state`` on ``today`` (as :func:`state_of`)."""
    open_ = Project.closed_at.is_(None)
    if state == "planned":
        return and_(open_, Project.planned_start > today)
    if state == "active":
        return and_(open_, Project.planned_start <= today, Project.planned_end >= today)
    return or_(Project.closed_at.is_not(None), Project.planned_end < today)


def project_for_site(session: Session, *, site_id: str) -> Project | None:
    """The project watched through ``site_id``'s cameras, if any (one per site)."""
    return session.scalar(select(Project).where(Project.site_id == site_id))


def is_armed(project: Project | None, *, at: datetime, zone: ZoneInfo) -> bool:
    """Whether the project's rules were armed at ``at`` (an event's start): from its first to its last
    planned day in ``zone``, and before it was closed. No project: armed."""
    if project is None:
        return True
    moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    day = moment.astimezone(zone).date()
    if not project.planned_start <= day <= project.planned_end:
        return False
    closed = project.closed_at
    return closed is None or moment < (closed if closed.tzinfo is not None else closed.replace(tzinfo=UTC))


def contact_of(session: Session, *, site_id: str) -> tuple[str, str] | None:
    """The site's project's safety contact: (name, decrypted phone), or ``None`` without a project or
    phone number (callers that show or dial it must audit that themselves)."""
    project = project_for_site(session, site_id=site_id)
    if project is None or project.contact_phone is None:
        return None
    return project.contact_name, decrypt_phone(project.contact_phone, key=data_keys(session).pii)


def encrypt_phone(phone: str | None, *, key: SecretKey) -> str | None:
    """A phone number as stored: a Fernet token under ``key`` (the app's ``DataKeys.pii``)."""
    return None if phone is None else key.encrypt(phone.encode()).decode()


def decrypt_phone(token: str, *, key: SecretKey) -> str:
    """The phone number of a stored token.

    Raises:
        api.core.secretkeys.MissingKeyError: the key is missing or not the one it was stored with.
    """
    return key.decrypt(token.encode()).decode()


def mask_phone(phone: str) -> str:
    """``phone`` with all but its first three and last four digits hidden (``138****5678``)."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def names_of(session: Session, *, site_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The (project name, company) of each of ``site_ids`` that has a project, in one query."""
    wanted = sorted(set(site_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Project.site_id, Project.name, Project.company).where(Project.site_id.in_(wanted))
    )
    return {site: (name, company) for site, name, company in rows}


def list_projects(
    session: Session,
    *,
    site_ids: Sequence[str],
    state: ProjectState | None = None,
    company: str | None = None,
    q: str | None = None,
) -> list[Project]:
    """Projects of ``site_ids`` (``[]``: every site), by id, filtered by state (today), company (a part of
    its name, any letter case: "鹏安" finds "深圳市鹏安建设有限公司") and ``q`` (a part of the name, address,
    company or permit number)."""
    query = select(Project).order_by(Project.id)
    if site_ids:
        query = query.where(Project.site_id.in_(site_ids))
    if state is not None:
        query = query.where(state_clause(state, today=today(zone=local_zone(session))))
    if company:
        query = query.where(Project.company.icontains(company, autoescape=True))
    if q:
        columns = (Project.name, Project.address, Project.company, Project.permit_no)
        query = query.where(or_(*(column.icontains(q, autoescape=True) for column in columns)))
    return list(session.scalars(query))


def create_project(session: Session, *, body: ProjectIn, actor: str) -> Project:
    """Add a project (audited as ``project.create``); the caller commits."""
    ensure_site(session, site_id=body.site_id)
    now = datetime.now(UTC)
    fields = body.model_dump(exclude={"contact_phone"})
    phone = encrypt_phone(body.contact_phone, key=data_keys(session).pii)
    project = Project(**fields, contact_phone=phone, created_at=now, updated_at=now)
    session.add(project)
    session.flush()
    target = f"project:{project.id}"
    audit(session, actor=actor, action="project.create", target=target, details=_plain(fields))
    return project


def update_project(session: Session, *, project: Project, patch: ProjectPatch, actor: str) -> Project:
    """Apply ``patch`` (audited as ``project.update`` with the fields changed; a changed end also as
    ``project.extend`` with the old and new end); the caller commits.

    Raises:
        InvalidError: the result would end before it starts (in the shape of FastAPI's own 422s, naming
            ``planned_end``, so that a form shows it by the field too).
    """
    changes = patch.model_dump(exclude_unset=True)
    start = changes.get("planned_start", project.planned_start)
    end = changes.get("planned_end", project.planned_end)
    if end < start:
        message = f"planned_end {end} is before planned_start {start}"
        raise InvalidError([{"type": "value_error", "loc": ["body", "planned_end"], "msg": message}])
    if "site_id" in changes:
        ensure_site(session, site_id=changes["site_id"])
    old_end = project.planned_end
    changed: dict[str, Any] = {}
    for name, value in changes.items():
        stored = encrypt_phone(value, key=data_keys(session).pii) if name == "contact_phone" else value
        if name == "contact_phone" or getattr(project, name) != value:
            setattr(project, name, stored)
            changed[name] = "(changed)" if name == "contact_phone" else value
    project.updated_at = datetime.now(UTC)
    target = f"project:{project.id}"
    audit(session, actor=actor, action="project.update", target=target, details=_plain(changed))
    if end != old_end:
        audit(
            session,
            actor=actor,
            action="project.extend",
            target=target,
            details={"old_end": old_end.isoformat(), "new_end": end.isoformat()},
        )
    return project


def close_project(session: Session, *, project: Project, actor: str) -> Project:
    """Close the project now (its rules disarm; its open cases stay open); closing again changes nothing.
    Audited as ``project.close``; the caller commits."""
    if project.closed_at is None:
        project.closed_at = project.updated_at = datetime.now(UTC)
        audit(session, actor=actor, action="project.close", target=f"project:{project.id}")
    return project


def _plain(fields: dict[str, Any]) -> dict[str, object]:
    """``fields`` as JSON values for the audit log (dates as ISO text)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in fields.items()}
