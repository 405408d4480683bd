"""Reading events and reviewing them."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.cases.service import maybe_open_case
from api.core.errors import BadRequestError
from api.core.schemas import bounded_time
from api.events.schemas import EventPage, EventPublic, PendingCount
from api.models import Event, Project, Review
from api.notifications.notify import notify_event
from api.sites.false_alarm_memory import forget_event, remember

#: A SELECT over ``events``, whatever its columns.
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


class CursorError(BadRequestError, ValueError):
    """A pagination cursor that this API did not hand out (answered with 400)."""


def encode_cursor(event: Event) -> str:
    """An opaque cursor after ``event`` in newest-first order."""
    raw = json.dumps([event.started_at.isoformat(), event.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (started_at, id) a cursor points after.

    Raises:
        CursorError: the cursor is malformed.
    """
    try:
        started, event_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return bounded_time(datetime.fromisoformat(started)), str(event_id)
    except (ValueError, TypeError, RecursionError) as exc:  # RecursionError: brackets nested thousands deep
        raise CursorError("invalid cursor") from exc


@dataclass(frozen=True)
class EventFilters:
    """What an events list narrows to; empty fields filter nothing. ``contractor`` is a part of the site's
    project's company, any case; ``q`` a part of the project's name, address or company, or of the event's
    id or camera; ``since``/``until`` bound the start (``until`` excluded)."""

    site_id: str | None = None
    camera_id: str | None = None
    kind: str | None = None
    review_status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    project_id: int | None = None
    contractor: str | None = None
    q: str | None = None

    def described(self) -> dict[str, Any]:
        """The filters set, as plain values (for the audit log of an export)."""
        return {
            k: v.isoformat() if isinstance(v, datetime) else v
            for k, v in asdict(self).items()
            if v is not None
        }


def filtered_events(query: Q, filters: EventFilters, *, principal: Principal) -> Q:
    """``query`` (over ``events``) joined to the events' projects and narrowed to ``filters`` within
    ``principal``'s sites.

    Raises:
        BadRequestError: a text with a NUL character.
    """
    f = filters
    for text in (f.contractor, f.q):
        if text is not None and "\x00" in text:
            raise BadRequestError("text must not contain NUL characters")
    query = query.outerjoin(Project, Project.site_id == Event.site_id)
    if principal.site_ids:
        query = query.where(Event.site_id.in_(principal.site_ids))
    for column, value in (
        (Event.site_id, f.site_id),
        (Event.camera_id, f.camera_id),
        (Event.kind, f.kind),
        (Event.review_status, f.review_status),
        (Project.id, f.project_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if f.since is not None:
        query = query.where(Event.started_at >= f.since)
    if f.until is not None:
        query = query.where(Event.started_at < f.until)
    if f.contractor:
        query = query.where(Project.company.icontains(f.contractor, autoescape=True))
    if f.q and f.q.strip():
        text = f.q.strip()
        columns = (Project.name, Project.address, Project.company, Event.id, Event.camera_id)
        query = query.where(or_(*(c.icontains(text, autoescape=True) for c in columns)))
    return query


def event_page(
    session: Session,
    *,
    principal: Principal,
    filters: EventFilters | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> EventPage:
    """One page of the events the principal may see, newest first, filtered, with the cursor of the next
    and the exact number matching (all pages together; two queries for any page size).

    Raises:
        CursorError: the cursor is malformed.
    """
    filters = filters or EventFilters()
    total = session.scalar(filtered_events(select(func.count(Event.id)), filters, principal=principal))
    query = filtered_events(select(Event), filters, principal=principal)
    if cursor:
        started, event_id = decode_cursor(cursor)
        query = query.where(
            or_(Event.started_at < started, and_(Event.started_at == started, Event.id < event_id))
        )
    rows = list(session.scalars(query.order_by(Event.started_at.desc(), Event.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return EventPage(
        data=[EventPublic.model_validate(r) for r in rows[:limit]],
        next_cursor=next_cursor,
        total=int(total or 0),
    )


def review_event(
    session: Session,
    *,
    principal: Principal,
    event: Event,
    verdict: str,
    note: str,
    false_alarm_days: float = 30.0,
) -> Review:
    """Record a supervisor's verdict and set the event's review status.

    A false alarm is remembered for ``false_alarm_days`` so that edge boxes suppress the same detection
    at the same camera (``api.sites.false_alarm_memory``); another verdict forgets what an earlier one
    remembered.
    """
    review = Review(
        event_id=event.id, verdict=verdict, note=note, reviewer=principal.name, created_at=datetime.now(UTC)
    )
    session.add(review)
    event.review_status = verdict
    audit(
        session,
        actor=principal.name,
        action="review",
        target=f"event:{event.id}",
        details={"verdict": verdict},
    )
    if verdict == "false_alarm":
        remembered = remember(session, event=event, actor=principal.name, ttl_days=false_alarm_days)
        if remembered:
            audit(
                session,
                actor=principal.name,
                action="remember_false_alarm",
                target=f"event:{event.id}",
                details={"camera_id": event.camera_id, "kind": event.kind, "entries": len(remembered)},
            )
    else:
        forget_event(session, event_id=event.id)
    if verdict == "confirmed":
        notify_event(session, topic="event.confirmed", event=event)
        maybe_open_case(session, event=event, moment="on_confirm", actor=principal.name)
    session.commit()
    return review


def pending_count(session: Session, *, principal: Principal) -> PendingCount:
    """How many events the principal may see wait for review, and when the newest of them started (one
    indexed aggregate: cheap enough for every open page to poll)."""
    query = select(func.count(), func.max(Event.started_at)).where(Event.review_status == "pending")
    if principal.site_ids:
        query = query.where(Event.site_id.in_(principal.site_ids))
    count, newest = session.execute(query).one()
    session.rollback()  # a read-only transaction: end it
    return PendingCount(pending=count, newest_started_at=newest)
