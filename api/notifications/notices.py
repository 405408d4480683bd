"""Notices from the outbox's rows: a notification, with the case or event it names as the database holds
it now, in the webhook contract's terms (:mod:`alerts.contract`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.contract import CaseChange, CaseInfo, CaseNotice, EventInfo, EventNotice, Evidence
from api.models import Case, CaseEvent, CaseHistory, Event, Notification

#: ``sha256 -> signed URL`` (``None`` in, ``None`` out).
Links = Callable[[str | None], str | None]


def event_info(event: Event, links: Links, expires_at: datetime) -> EventInfo:
    """An event in the contract's terms, with links made by ``links``."""
    return EventInfo(
        id=event.id,
        site_id=event.site_id,
        camera_id=event.camera_id,
        kind=event.kind,
        started_at=event.started_at,
        ended_at=event.ended_at,
        score=event.score,
        people_count=event.people_count,
        review_status=event.review_status,
        evidence=Evidence(
            snapshot_url=links(event.snapshot_sha256),
            annotated_url=links(event.annotated_sha256),
            clip_url=links(event.clip_sha256),
            snapshot_sha256=event.snapshot_sha256,
            annotated_sha256=event.annotated_sha256,
            clip_sha256=event.clip_sha256,
            links_expire_at=expires_at,
        ),
    )


def build_notice(
    session: Session, notification: Notification, *, links: Links, expires_at: datetime, now: datetime
) -> CaseNotice | EventNotice | None:
    """The notice of ``notification`` as the database holds it now; ``None`` if its subject is gone."""
    if notification.case_id is not None:
        case = session.get(Case, notification.case_id)
        if case is None:
            return None
        events = list(
            session.scalars(
                select(Event)
                .join(CaseEvent, CaseEvent.event_id == Event.id)
                .where(CaseEvent.case_id == case.id)
                .order_by(Event.started_at)
                .limit(20)
            )
        )
        change = None
        if notification.topic == "case.updated":
            last = session.scalar(
                select(CaseHistory)
                .where(CaseHistory.case_id == case.id, CaseHistory.at <= notification.created_at)
                .order_by(CaseHistory.id.desc())
            )
            if last is not None:
                change = CaseChange(
                    from_status=last.from_status,
                    to_status=last.to_status,
                    at=last.at,
                    actor=last.actor,
                    note=last.note,
                )
        return CaseNotice(
            type=notification.topic,
            notification_id=notification.id,
            sent_at=now,
            case=CaseInfo(
                id=case.id,
                external_id=case.external_id,
                site_id=case.site_id,
                camera_id=case.camera_id,
                kind=case.kind,
                status=case.status,
                created_at=case.created_at,
                deadline_at=case.deadline_at,
                closed_at=case.closed_at,
                people_count=max((e.people_count for e in events), default=0),
            ),
            change=change,
            events=[event_info(e, links, expires_at) for e in events],
        )
    event = session.get(Event, notification.event_id) if notification.event_id else None
    if event is None:
        return None
    return EventNotice(
        type=notification.topic,
        notification_id=notification.id,
        sent_at=now,
        event=event_info(event, links, expires_at),
    )
