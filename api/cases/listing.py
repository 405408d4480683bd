"""Cases as the API shows them: each with its events, history, project and whether it is overdue, in a
constant number of queries for any number of cases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.cases.schemas import CaseHistoryPublic, CasePublic
from api.cases.service import events_and_histories
from api.models import Case
from api.projects.service import names_of


def public(session: Session, *found: Case) -> list[CasePublic]:
    """The public form of ``found`` cases, with their events and history fetched together."""
    events, changes = events_and_histories(session, case_ids=[c.id for c in found])
    projects = names_of(session, site_ids=[c.site_id for c in found])  # one query for the page
    now = datetime.now(UTC)
    return [
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
            overdue=case.status != "closed" and case.deadline_at < now,
            external_id=case.external_id,
            event_ids=events[case.id],
            history=[CaseHistoryPublic.model_validate(h) for h in changes[case.id]],
            project_name=projects[case.site_id][0] if case.site_id in projects else None,
            company=projects[case.site_id][1] if case.site_id in projects else None,
        )
        for case in found
    ]


def list_cases(
    session: Session,
    *,
    principal: Principal,
    site_id: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[CasePublic]:
    """The cases ``principal`` may see, newest first, filtered by site, status and kind."""
    query = select(Case).order_by(Case.id.desc()).limit(limit)
    if principal.site_ids:
        query = query.where(Case.site_id.in_(principal.site_ids))
    for column, value in ((Case.site_id, site_id), (Case.status, status), (Case.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    return public(session, *session.scalars(query))
