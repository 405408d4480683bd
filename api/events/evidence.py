"""An event's evidence downloaded through the API: its snapshot (plain or annotated) and its clip, each
download audited in a transaction that it commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.core.errors import NotFoundError
from api.models import Event
from api.storage.interface import EvidenceStore


def snapshot(
    session: Session, *, principal: Principal, event: Event, store: EvidenceStore, annotated: bool = False
) -> bytes:
    """The JPEG of ``event``'s best frame (``annotated``: the copy with boxes and labels); audited.

    Raises:
        NotFoundError: the event has no such snapshot.
    """
    digest = event.annotated_sha256 if annotated else event.snapshot_sha256
    if digest is None:
        raise NotFoundError(f"event {event.id} has no snapshot")
    audit(
        session,
        actor=principal.name,
        action="download_snapshot",
        target=f"event:{event.id}",
        details={"annotated": annotated},
    )
    session.commit()
    return store.get(digest)


def clip(session: Session, *, principal: Principal, event: Event, store: EvidenceStore) -> bytes:
    """The MP4 clip of ``event``; audited.

    Raises:
        NotFoundError: the edge recorded no clip of it.
    """
    if event.clip_sha256 is None:
        raise NotFoundError(f"event {event.id} has no clip")
    audit(session, actor=principal.name, action="download_clip", target=f"event:{event.id}")
    session.commit()
    return store.get(event.clip_sha256)
