"""Ending events whose edge fell silent.

An edge box ends its events itself: on a clean stop, and after a crash at its next start (its outbox
remembers what was open). One that never comes back (power lost for good, the box replaced) would leave its
open events open forever, so the API ends, with a reason, every open event that had no update for
``SITEWATCH_EVENT_SILENCE_MIN`` minutes while its edge box reported no camera health either (a steady
violation sends no updates, but a box that runs reports its cameras every few seconds).

The end is stored like an edge's update, through :func:`api.ingest.service.ingest_update` (``event.ended``
goes out as usual), with sequence number :data:`SILENCE_SEQ`, above any an edge uses: should the box come back
with the event's own updates, they are stored and fill in the gaps, and the event stays ended.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from api.events.schemas import IngestEventIn
from api.ingest.prepare import IngestError
from api.ingest.service import ingest_update
from api.models import CameraHealth, Event
from api.storage.interface import EvidenceStore

logger = logging.getLogger(__name__)

#: The sequence number of an end the API makes: the largest the ingest accepts, never an edge's.
SILENCE_SEQ = 1_000_000


def end_silent_events(
    session: Session,
    *,
    store: EvidenceStore,
    silence: timedelta,
    reason: str,
    site_id: str | None = None,
    edge_alive_counts: bool = True,
    now: datetime | None = None,
) -> list[str]:
    """End the open events with no update for ``silence``; return their ids.

    Args:
        session: a database session (each end commits).
        store: the evidence store (an end carries no files).
        silence: how long without an update (and, with ``edge_alive_counts``, without camera health from
            the event's camera, or for a site-wide event from any camera of its site).
        reason: recorded in the event's ``details.reason``.
        site_id: only this site's events.
        edge_alive_counts: keep events whose edge box still reports health (off: the caller knows the
            events' edge is gone, e.g. ``sitewatch run`` starting again after a crash).
        now: the current time.
    """
    now = now or datetime.now(UTC)
    cutoff = now - silence
    query = select(
        Event.id,
        Event.kind,
        Event.site_id,
        Event.camera_id,
        Event.started_at,
        Event.updated_at,
        Event.score,
        Event.people_count,
    ).where(Event.status == "open", Event.updated_at < cutoff)
    if site_id is not None:
        query = query.where(Event.site_id == site_id)
    if edge_alive_counts:
        reported = exists().where(
            CameraHealth.site_id == Event.site_id,
            CameraHealth.reported_at >= cutoff,
            or_(Event.camera_id.is_(None), CameraHealth.camera_id == Event.camera_id),
        )
        query = query.where(~reported)
    events = session.execute(query.order_by(Event.updated_at)).all()
    session.rollback()  # each end is its own transaction
    ended: list[str] = []
    for event in events:
        update = IngestEventIn(
            event_id=event.id,
            seq=SILENCE_SEQ,
            phase="end",
            kind=event.kind,
            site_id=event.site_id,
            camera_id=event.camera_id,
            started_at=event.started_at,
            updated_at=now,
            ended_at=event.updated_at,
            score=event.score,
            people_count=event.people_count,
            details={"reason": reason, "ended_by": "api"},
        )
        try:
            ingest_update(session, update=update, files={}, store=store, actor="api")
        except IngestError:
            session.rollback()
            logger.exception("could not end the silent event %s", event.id)
            continue
        ended.append(event.id)
    if ended:
        logger.warning("ended %d event(s) whose edge fell silent: %s", len(ended), ", ".join(ended))
    return ended
