"""Cases as the API shows them: each with its events, history, project, contact and whether it is overdue,
in a constant number of queries for any number of cases; pages and exact counts of a filter."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import case as when
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.cases.filters import CaseFilters, CaseSort, filtered, ordering, overdue_clause
from api.cases.schemas import CaseHistoryPublic, CasePublic, CaseSummary
from api.cases.service import events_and_histories
from api.core.secretkeys import MissingKeyError, SecretKey, data_keys
from api.models import Case, Project
from api.projects.actions import PHONE_ROLES
from api.projects.service import decrypt_phone, mask_phone

logger = logging.getLogger(__name__)


def aware(moment: datetime) -> datetime:
    """``moment`` with its zone (SQLite gives naive UTC back)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def projects_of(session: Session, *, site_ids: list[str]) -> dict[str, Project]:
    """The project of each of ``site_ids`` that has one, in one query."""
    wanted = sorted(set(site_ids))
    if not wanted:
        return {}
    return {p.site_id: p for p in session.scalars(select(Project).where(Project.site_id.in_(wanted)))}


def phone_shown(project: Project, *, full: bool, key: SecretKey) -> str | None:
    """The contact's phone as ``full`` or masked; ``None`` without one, or where the key cannot read it
    (logged: a case board must not go dark for a lost key; the projects API answers 503 for that)."""
    if project.contact_phone is None:
        return None
    try:
        phone = decrypt_phone(project.contact_phone, key=key)
    except MissingKeyError:
        logger.warning("the phone number of project %d cannot be read with the key: not shown", project.id)
        return None
    return phone if full else mask_phone(phone)


def public(session: Session, *found: Case, principal: Principal | None = None) -> list[CasePublic]:
    """The public form of ``found`` cases, with their events, history and project fetched together.

    The project's contact phone is shown in full to :data:`api.projects.actions.PHONE_ROLES` (one audit
    entry ``project.phone_read`` per read, naming the projects, committed with it), masked to others and
    where no ``principal`` is given.
    """
    events, changes = events_and_histories(session, case_ids=[c.id for c in found])
    projects = projects_of(session, site_ids=[c.site_id for c in found])
    full = principal is not None and principal.role in PHONE_ROLES
    key = data_keys(session).pii
    now = datetime.now(UTC)
    shown = []
    read: set[int] = set()
    for case in found:
        project = projects.get(case.site_id)
        phone = phone_shown(project, full=full, key=key) if project is not None else None
        if phone is not None and full and project is not None:
            read.add(project.id)
        deadline = aware(case.deadline_at)
        late = case.status != "closed" and deadline < now
        end = aware(case.closed_at) if case.closed_at is not None and case.status == "closed" else now
        shown.append(
            CasePublic(
                id=case.id,
                site_id=case.site_id,
                camera_id=case.camera_id,
                kind=case.kind,
                status=case.status,
                created_at=case.created_at,
                updated_at=case.updated_at,
                deadline_at=case.deadline_at,
                closed_at=case.closed_at,
                overdue=late,
                external_id=case.external_id,
                event_ids=events[case.id],
                history=[CaseHistoryPublic.model_validate(h) for h in changes[case.id]],
                project_name=project.name if project else None,
                company=project.company if project else None,
                project_id=project.id if project else None,
                street=project.street if project else None,
                community=project.community if project else None,
                contact_name=project.contact_name if project else None,
                contact_phone=phone,
                open_s=max(0.0, (end - aware(case.created_at)).total_seconds()),
                overdue_s=(now - deadline).total_seconds() if late else 0.0,
            )
        )
    if read and principal is not None:
        ids = sorted(read)
        target = f"project:{ids[0]}" if len(ids) == 1 else f"projects:{len(ids)}"
        audit(
            session,
            actor=principal.name,
            action="project.phone_read",
            target=target,
            details={"projects": ids},
        )
        session.commit()
    return shown


def count_cases(session: Session, *, principal: Principal, filters: CaseFilters, now: datetime) -> int:
    """The exact number of cases ``filters`` match within ``principal``'s sites (one query)."""
    query = filtered(select(func.count(Case.id)), filters, principal=principal, now=now)
    return int(session.scalar(query) or 0)


def case_page(
    session: Session,
    *,
    principal: Principal,
    filters: CaseFilters,
    sort: CaseSort = "newest",
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[CasePublic], int]:
    """One page of the cases ``principal`` may see that ``filters`` match, in ``sort`` order, and the
    exact number matching, in a constant number of queries for any page size."""
    now = datetime.now(UTC)
    total = count_cases(session, principal=principal, filters=filters, now=now)
    query = filtered(select(Case), filters, principal=principal, now=now)
    rows = list(session.scalars(query.order_by(*ordering(sort)).offset(offset).limit(limit)))
    return public(session, *rows, principal=principal), total


def summary(session: Session, *, principal: Principal, filters: CaseFilters) -> CaseSummary:
    """Exact counts of the cases ``filters`` match, by status, with the open and overdue ones: one
    ``GROUP BY`` query for any number of cases."""
    now = datetime.now(UTC)
    late = func.sum(when((overdue_clause(now), 1), else_=0))
    query = filtered(select(Case.status, func.count(Case.id), late), filters, principal=principal, now=now)
    by_status: dict[str, int] = {}
    overdue = 0
    for status, count, overdue_count in session.execute(query.group_by(Case.status).order_by(Case.status)):
        by_status[status] = int(count)
        overdue += int(overdue_count or 0)
    total = sum(by_status.values())
    return CaseSummary(
        total=total, open=total - by_status.get("closed", 0), overdue=overdue, by_status=by_status
    )
