"""What people and the case system do to cases through the API, each one transaction that it commits:
open a case by hand, move a case or record the case system's number, extend its deadline, note something
in its history, set a site's case policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.access.scope import get_event
from api.cases.listing import aware, public
from api.cases.schemas import CaseExtendIn, CaseNoteIn, CasePatch, CasePolicyIn, CasePublic
from api.cases.service import add_note, move, open_case_for, set_policy
from api.core.db import local_zone
from api.core.errors import ConflictError, InvalidError, NotFoundError
from api.models import Case
from api.notifications.notify import notify_case
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
    return public(session, opened[-1], principal=principal)[0]


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
    return public(session, case, principal=principal)[0]


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


def extend_deadline(session: Session, *, principal: Principal, case: Case, body: CaseExtendIn) -> CasePublic:
    """Move ``case``'s deadline later by ``body.hours`` or to ``body.deadline_at``, with the reason in its
    history (the status unchanged) and the audit log (``case.extend``); integrations hear ``case.updated``.

    Raises:
        ConflictError: the case is closed.
        InvalidError: the new deadline is not later than the current one.
    """
    if case.status == "closed":
        raise ConflictError("a closed case has no deadline to extend")
    old = aware(case.deadline_at)
    new = old + timedelta(hours=body.hours) if body.hours is not None else body.deadline_at
    assert new is not None  # the schema asks for one of the two
    new = aware(new)
    if new <= old:
        message = f"the new deadline {new.isoformat()} is not later than {old.isoformat()}"
        raise InvalidError([{"type": "value_error", "loc": ["body", "deadline_at"], "msg": message}])
    local = local_zone(session)
    shown = new.astimezone(local).strftime("%Y-%m-%d %H:%M")
    add_note(session, case=case, actor=principal.name, note=f"deadline extended to {shown}: {body.reason}")
    case.deadline_at = new
    case.updated_at = datetime.now(UTC)
    audit(
        session,
        actor=principal.name,
        action="case.extend",
        target=f"case:{case.id}",
        details={"from": old.isoformat(), "to": new.isoformat(), "reason": body.reason},
    )
    notify_case(session, topic="case.updated", case=case)
    session.commit()
    return public(session, case, principal=principal)[0]


def note_case(session: Session, *, principal: Principal, case: Case, body: CaseNoteIn) -> CasePublic:
    """Add ``body.note`` to ``case``'s history without changing its status (audited as ``case.note``)."""
    add_note(session, case=case, actor=principal.name, note=body.note)
    case.updated_at = datetime.now(UTC)
    audit(session, actor=principal.name, action="case.note", target=f"case:{case.id}")
    session.commit()
    return public(session, case, principal=principal)[0]
