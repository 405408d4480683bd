"""Writing notifications into the outbox, inside the caller's transaction.

A notification is committed together with the change it reports, or not at all: a crash between the
change and its delivery loses nothing, and a rolled-back change notifies nobody. Routing to channels and
delivery are the dispatcher's job (:mod:`api.delivery.dispatcher`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, get_args

from sqlalchemy.orm import Session

from api.models import Case, Event, Notification

Topic = Literal[
    "case.created", "case.updated", "case.due_soon", "event.started", "event.ended", "event.confirmed"
]
TOPICS: tuple[Topic, ...] = get_args(Topic)


def notify_event(session: Session, *, topic: Topic, event: Event) -> None:
    """Add a notification about ``event`` to the session (the caller commits)."""
    session.add(
        Notification(
            topic=topic,
            site_id=event.site_id,
            kind=event.kind,
            camera_id=event.camera_id,
            event_id=event.id,
            created_at=datetime.now(UTC),
        )
    )


def notify_case(session: Session, *, topic: Topic, case: Case, event_id: str | None = None) -> None:
    """Add a notification about ``case`` (flushed, so it has an id) to the session."""
    session.add(
        Notification(
            topic=topic,
            site_id=case.site_id,
            kind=case.kind,
            camera_id=case.camera_id,
            case_id=case.id,
            event_id=event_id,
            created_at=datetime.now(UTC),
        )
    )
