"""Cases: the states, the legal moves between them, deadlines, and opening cases from events.

::

    open ──► dispatched ──► rectifying ──► reinspection ──► closed
      │           │                              │            │
      └───────────┴──────────► closed            └─► reopened ◄┘
                                                      │
                                          dispatched ◄┴► rectifying
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.core.errors import ConflictError
from api.models import Case, CaseEvent, CaseHistory, CasePolicy, Event
from api.notifications.notify import notify_case
from detector.kinds import SPECS

Status = Literal["open", "dispatched", "rectifying", "reinspection", "closed", "reopened"]
Trigger = Literal["on_start", "on_confirm", "never"]

#: The legal moves: from each state, where a case may go next.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"dispatched", "closed"}),
    "dispatched": frozenset({"rectifying", "closed"}),
    "rectifying": frozenset({"reinspection"}),
    "reinspection": frozenset({"closed", "reopened"}),
    "closed": frozenset({"reopened"}),
    "reopened": frozenset({"dispatched", "rectifying"}),
}
ACTIVE = ("open", "dispatched", "rectifying", "reinspection", "reopened")

#: Defaults when a site has no policy of its own (set per kind in :data:`detector.kinds.SPECS`): violations
#: wait for a supervisor's confirmation, a camera offline opens a case at once.
DEFAULT_POLICY: dict[str, tuple[Trigger, float]] = {
    kind.value: (spec.case_trigger, spec.deadline_hours) for kind, spec in SPECS.items()
}


#: How long a camera is watched after a case is reported rectified, unless the settings say otherwise.
REINSPECTION_HOURS = 24.0


class TransitionError(ConflictError):
    """A move the state machine does not allow (answered with 409)."""


def policy(session: Session, *, site_id: str, kind: str) -> tuple[Trigger, float]:
    """The trigger and deadline (hours) of ``kind`` on ``site_id``."""
    row = session.get(CasePolicy, (site_id, kind))
    if row is not None:
        return row.trigger, row.deadline_hours  # type: ignore[return-value]
    return default_policy(kind)


def default_policy(kind: str) -> tuple[Trigger, float]:
    """The trigger and deadline (hours) of ``kind`` on a site that has set no policy for it."""
    return DEFAULT_POLICY.get(kind, ("on_confirm", 24.0))


def set_policy(session: Session, *, site_id: str, kind: str, trigger: Trigger, deadline_hours: float) -> None:
    """Set a site's policy for one kind."""
    row = session.get(CasePolicy, (site_id, kind))
    if row is None:
        session.add(CasePolicy(site_id=site_id, kind=kind, trigger=trigger, deadline_hours=deadline_hours))
    else:
        row.trigger, row.deadline_hours = trigger, deadline_hours


def open_case_for(session: Session, *, event: Event, actor: str) -> Case:
    """The active case of the event's site, camera and kind, with the event added; a new one if none.

    The caller commits.
    """
    case = session.scalar(
        select(Case)
        .where(Case.site_id == event.site_id, Case.camera_id == event.camera_id, Case.kind == event.kind)
        .where(Case.status.in_(ACTIVE))
        .order_by(Case.id.desc())
    )
    now = datetime.now(UTC)
    if case is None:
        _, hours = policy(session, site_id=event.site_id, kind=event.kind)
        case = Case(
            site_id=event.site_id,
            camera_id=event.camera_id,
            kind=event.kind,
            status="open",
            created_at=now,
            updated_at=now,
            deadline_at=now + timedelta(hours=hours),
        )
        session.add(case)
        session.flush()
        session.add(CaseHistory(case_id=case.id, at=now, actor=actor, from_status=None, to_status="open"))
        audit(session, actor=actor, action="open_case", target=f"case:{case.id}", details={"event": event.id})
        notify_case(session, topic="case.created", case=case, event_id=event.id)
    if session.get(CaseEvent, (case.id, event.id)) is None:
        session.add(CaseEvent(case_id=case.id, event_id=event.id))
    return case


def add_note(session: Session, *, case: Case, actor: str, note: str, at: datetime | None = None) -> None:
    """Write ``note`` into the case's history without moving it (a call placed, a text sent), in the
    caller's transaction."""
    session.add(
        CaseHistory(
            case_id=case.id,
            at=at or datetime.now(UTC),
            actor=actor,
            from_status=case.status,
            to_status=case.status,
            note=note,
        )
    )


def maybe_open_case(session: Session, *, event: Event, moment: Trigger, actor: str) -> Case | None:
    """Open (or join) a case when the site's policy for the event's kind says so at this ``moment``."""
    trigger, _ = policy(session, site_id=event.site_id, kind=event.kind)
    if trigger != moment:
        return None
    return open_case_for(session, event=event, actor=actor)


def move(
    session: Session,
    *,
    case: Case,
    to: str,
    actor: str,
    note: str = "",
    reinspection_hours: float = REINSPECTION_HOURS,
) -> Case:
    """Move a case to state ``to``, recording who and why, and notify integrations.

    Moving to ``reinspection`` opens the re-inspection window of ``reinspection_hours``; ``rectified``
    (the case system's word) means the same move.

    Raises:
        TransitionError: the state machine does not allow it; nothing is changed.
    """
    if to == "rectified":
        if case.status in ("dispatched", "reopened"):  # the case system skipped reporting the work itself
            move(session, case=case, to="rectifying", actor=actor, note="rectified without a report of work")
        to = "reinspection"
    if to not in TRANSITIONS.get(case.status, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(case.status, frozenset()))) or "nothing"
        raise TransitionError(f"a {case.status} case cannot become {to} (allowed: {allowed})")
    now = datetime.now(UTC)
    session.add(
        CaseHistory(case_id=case.id, at=now, actor=actor, from_status=case.status, to_status=to, note=note)
    )
    audit(
        session,
        actor=actor,
        action="move_case",
        target=f"case:{case.id}",
        details={"from": case.status, "to": to},
    )
    case.status = to
    case.updated_at = now
    case.closed_at = now if to == "closed" else None
    case.reinspect_until = now + timedelta(hours=reinspection_hours) if to == "reinspection" else None
    notify_case(session, topic="case.updated", case=case)
    return case


def recurrence(session: Session, *, event: Event, actor: str = "reinspection") -> Case | None:
    """Reopen the case of the event's site, camera and kind if it is being re-inspected: the violation came
    back within the window. Returns the reopened case (the caller commits)."""
    case = session.scalar(
        select(Case).where(
            Case.site_id == event.site_id,
            Case.camera_id == event.camera_id,
            Case.kind == event.kind,
            Case.status == "reinspection",
        )
    )
    if case is None or case.reinspect_until is None or case.reinspect_until < event.started_at:
        return None
    move(session, case=case, to="reopened", actor=actor, note=f"recurred during re-inspection: {event.id}")
    if session.get(CaseEvent, (case.id, event.id)) is None:
        session.add(CaseEvent(case_id=case.id, event_id=event.id))
    return case


def close_reinspected(session: Session, *, now: datetime | None = None) -> list[int]:
    """Close every case whose re-inspection window has passed without a recurrence; commits.

    Returns:
        The ids of the cases closed.
    """
    now = now or datetime.now(UTC)
    due = session.scalars(
        select(Case).where(Case.status == "reinspection", Case.reinspect_until <= now).with_for_update()
    ).all()
    for case in due:
        move(session, case=case, to="closed", actor="reinspection", note="no recurrence during re-inspection")
    session.commit()
    return [case.id for case in due]


def events_and_histories(
    session: Session, *, case_ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[CaseHistory]]]:
    """The events and the history (oldest first) of each of ``case_ids``, in two queries for any number
    of cases (a listed page must not cost two queries per case)."""
    events: dict[int, list[str]] = {i: [] for i in case_ids}
    changes: dict[int, list[CaseHistory]] = {i: [] for i in case_ids}
    if not case_ids:
        return events, changes
    for case_id, event_id in session.execute(
        select(CaseEvent.case_id, CaseEvent.event_id).where(CaseEvent.case_id.in_(case_ids))
    ):
        events[case_id].append(event_id)
    for change in session.scalars(
        select(CaseHistory).where(CaseHistory.case_id.in_(case_ids)).order_by(CaseHistory.id)
    ):
        changes[change.case_id].append(change)
    return events, changes
