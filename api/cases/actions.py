"""What people and the case system do to cases through the API, each one transaction that it commits:
open a case by hand, move a case or record the case system's number, set a site's case policy."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.access.scope import get_event
from api.cases.listing import public
from api.cases.schemas import CasePatch, CasePolicyIn, CasePublic
from api.cases.service import add_note, move, open_case_for, set_policy
from api.core.errors import NotFoundError
from api.models import Case
from api.sites.service import ensure_site


def open_by_hand(session: Session, *, principal: Principal, event_ids: list[str]) -> CasePublic:
    """Open a case for ``event_ids`` (or add them to their incident's active case).

    Raises:
        NotFoundError: an event that does not exist or that the principal may not see.
    """
    events = [get_event(session, principal=principal, event_id=e) for e in event_ids]
    if missing := [e for e, row in zip(event_ids, events, strict=True) if row is None]:
        raise NotFoundError(f"no event {', '.join(missing)}")
    opened = [open_case_for(session, event=row, actor=principal.name) for row in events if row is not None]
    session.commit()
    return public(session, opened[-1])[0]


def update_case(
    session: Session, *, principal: Principal, case: Case, patch: CasePatch, reinspection_hours: float
) -> CasePublic:
    """Record the case system's number and/or move ``case`` to ``patch.status``.

    Raises:
        TransitionError: the state machine does not allow the move; nothing is changed.
    """
    if patch.external_id is not None:
        if patch.external_id != case.external_id:  # in the case's history too, its status unchanged
            was = case.external_id or "none"
            add_note(
                session,
                case=case,
                actor=principal.name,
                note=f"case system number {was} -> {patch.external_id}",
            )
        case.external_id = patch.external_id
        audit(session, actor=principal.name, action="case_external_id", target=f"case:{case.id}")
    if patch.status is not None and patch.status != case.status:
        move(
            session,
            case=case,
            to=patch.status,
            actor=principal.name,
            note=patch.note,
            reinspection_hours=reinspection_hours,
        )
    session.commit()
    return public(session, case)[0]


def set_case_policy(
    session: Session, *, principal: Principal, site_id: str, kind: str, policy: CasePolicyIn
) -> None:
    """Set when ``site_id``'s events of ``kind`` open a case, and its deadline; audited."""
    ensure_site(session, site_id=site_id)
    set_policy(
        session, site_id=site_id, kind=kind, trigger=policy.trigger, deadline_hours=policy.deadline_hours
    )
    audit(
        session,
        actor=principal.name,
        action="set_case_policy",
        target=f"site:{site_id}:{kind}",
        details=policy.model_dump(),
    )
    session.commit()
