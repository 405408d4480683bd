"""Storing event updates from edge boxes, exactly once per (event id, seq)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.cases import maybe_open_case, recurrence
from api.models import Event, EvidenceFile, IngestedUpdate
from api.notify import notify_event
from api.schemas import IngestEventIn, IngestResult
from api.sites import ensure_site
from api.storage import EvidenceStore

MEDIA = {"snapshot": "image/jpeg", "annotated": "image/jpeg", "clip": "video/mp4"}


class IngestError(ValueError):
    """The update cannot be stored as sent; the message says why (answered with 422)."""


def check_file(name: str, data: bytes) -> None:
    """Refuse a part that is not what its name says.

    Raises:
        IngestError: empty, not a JPEG (``snapshot``, ``annotated``) or not an MP4 (``clip``).
    """
    if not data:
        raise IngestError(f"part '{name}' is empty")
    if MEDIA[name] == "image/jpeg" and not data.startswith(b"\xff\xd8"):
        raise IngestError(f"part '{name}' is not a JPEG image")
    if MEDIA[name] == "video/mp4" and data[4:8] != b"ftyp":
        raise IngestError(f"part '{name}' is not an MP4 video")


def ingest_update(
    session: Session,
    *,
    update: IngestEventIn,
    files: dict[str, bytes],
    store: EvidenceStore,
    actor: str = "edge",
) -> IngestResult:
    """Store one update and its evidence; a repeat of an accepted (event id, seq) changes nothing.

    Evidence hashes announced in the update must match the files sent with it.

    Raises:
        IngestError: a file is malformed, or its hash differs from the announced one.
    """
    key = (update.event_id, update.seq)
    if session.get(IngestedUpdate, key) is not None:
        return IngestResult(status="duplicate", event_id=update.event_id, seq=update.seq)
    digests: dict[str, str] = {}
    for name, data in files.items():
        check_file(name, data)
        announced = update.evidence.get(f"{name}_sha256")
        actual = hashlib.sha256(data).hexdigest()
        if announced is not None and announced != actual:
            raise IngestError(
                f"part '{name}' has sha256 {actual[:12]}…, the event announces {announced[:12]}…"
            )
        digests[name] = actual
    for name, data in files.items():
        store.put(data, sha256=digests[name])
    for _attempt in range(3):
        try:
            _store(session, update=update, files=files, digests=digests, actor=actor)
            return IngestResult(status="stored", event_id=update.event_id, seq=update.seq)
        except IntegrityError:
            # A concurrent request (another replica, or a retry racing the original) wrote a row we
            # wanted too. If it was this very update, this one is a repeat; otherwise (the same site,
            # event or file from another update) try again on top of what it wrote.
            session.rollback()
            if session.get(IngestedUpdate, key) is not None:
                return IngestResult(status="duplicate", event_id=update.event_id, seq=update.seq)
    raise IngestError(f"update {update.event_id}/{update.seq} kept conflicting with concurrent writes; retry")


def _store(
    session: Session, *, update: IngestEventIn, files: dict[str, bytes], digests: dict[str, str], actor: str
) -> None:
    now = datetime.now(UTC)
    for name, digest in digests.items():
        if session.get(EvidenceFile, digest) is None:
            session.add(
                EvidenceFile(sha256=digest, media_type=MEDIA[name], size=len(files[name]), created_at=now)
            )
    ensure_site(session, site_id=update.site_id)
    session.add(
        IngestedUpdate(
            event_id=update.event_id,
            seq=update.seq,
            phase=update.phase,
            received_at=now,
            body=update.model_dump(mode="json"),
        )
    )
    event = _apply(session, update, digests)
    if update.phase == "start":
        session.flush()
        notify_event(session, topic="event.started", event=event)
        recurrence(session, event=event)
        maybe_open_case(session, event=event, moment="on_start", actor=actor)
    elif update.phase == "end":
        notify_event(session, topic="event.ended", event=event)
    session.commit()


def _apply(session: Session, update: IngestEventIn, digests: dict[str, str]) -> Event:
    """Fold the update into the event row; an older update arriving late only fills gaps."""
    event = session.scalar(select(Event).where(Event.id == update.event_id))
    if event is None:
        event = Event(
            id=update.event_id,
            site_id=update.site_id,
            camera_id=update.camera_id,
            kind=update.kind,
            started_at=update.started_at,
            updated_at=update.updated_at,
            last_seq=-1,
            details={},
        )
        session.add(event)
    newest = update.seq > event.last_seq
    if newest:
        event.last_seq = update.seq
        event.updated_at = update.updated_at
        event.score = update.score
        event.people_count = max(event.people_count or 0, update.people_count)
        event.best_box = update.best_box
        event.details = {**(event.details or {}), **update.details}
    if update.phase == "end":
        event.status = "ended"
        event.ended_at = update.ended_at or update.updated_at
    for name, digest in digests.items():
        if newest or getattr(event, f"{name}_sha256") is None:
            setattr(event, f"{name}_sha256", digest)
    return event
