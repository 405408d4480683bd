"""An event's evidence downloaded through the API: its snapshot (plain or annotated) and its clip, each
download audited in a transaction that it commits.

Clips that browsers cannot play (the MPEG-4 part 2 ``mp4v`` that edge boxes wrote before they encoded
H.264) are transcoded the first time they are asked for: the H.264 copy is stored as evidence of its own,
the event points at it from then on (so the next request is served as it is), and the audit log keeps both
digests; the original stays stored until retention removes it. :func:`transcode_stored_clips` does the same
for every stored clip at once (``sitewatch transcode-clips``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.core.errors import NotFoundError
from api.models import Event, EvidenceFile
from api.storage.interface import EvidenceStore
from streams.video import playable, transcode

logger = logging.getLogger(__name__)

#: The media type of every clip: MP4 (the edge writes MP4; transcoded copies are MP4 too).
CLIP_MEDIA_TYPE = "video/mp4"
#: The transcoded copy's evidence row, by dialect: two first requests of the same clip at once make the
#: same copy (x264 is deterministic), and the second keeps the first's row.
_NEW_FILE: dict[str, Insert] = {
    "sqlite": sqlite_insert(EvidenceFile).on_conflict_do_nothing(),
    "postgresql": postgresql_insert(EvidenceFile).on_conflict_do_nothing(),
}


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
    """The MP4 clip of ``event``, in a codec browsers play (transcoded and kept on the first request when it
    was not: see the module); audited. A clip that cannot be transcoded is served as it is.

    Raises:
        NotFoundError: the edge recorded no clip of it.
    """
    if event.clip_sha256 is None:
        raise NotFoundError(f"event {event.id} has no clip")
    data = store.get(event.clip_sha256)
    if not playable(data):
        data = _playable_copy(session, actor=principal.name, event=event, store=store, data=data) or data
    audit(session, actor=principal.name, action="download_clip", target=f"event:{event.id}")
    session.commit()
    return data


def _playable_copy(
    session: Session, *, actor: str, event: Event, store: EvidenceStore, data: bytes
) -> bytes | None:
    """Transcode ``event``'s clip ``data`` to H.264, store the copy and point the event at it (in the
    caller's transaction, audited); the copy, or ``None`` when ``data`` cannot be transcoded."""
    old = event.clip_sha256
    try:
        copy = transcode(data)
    except ValueError as exc:
        logger.warning("clip %s of event %s cannot be transcoded: %s", old, event.id, exc)
        return None
    digest = store.put(copy)
    row = {
        "sha256": digest,
        "media_type": CLIP_MEDIA_TYPE,
        "size": len(copy),
        "created_at": datetime.now(UTC),
    }
    session.execute(_NEW_FILE[session.get_bind().dialect.name], [row])
    event.clip_sha256 = digest
    audit(
        session,
        actor=actor,
        action="transcode_clip",
        target=f"event:{event.id}",
        details={"from": old, "to": digest},
    )
    return copy


@dataclass(frozen=True)
class TranscodeResult:
    """What :func:`transcode_stored_clips` did: clips looked at, transcoded, and those that failed."""

    checked: int
    transcoded: int
    failed: int


def transcode_stored_clips(session: Session, *, store: EvidenceStore, actor: str) -> TranscodeResult:
    """Transcode every stored clip that browsers cannot play (see the module), committing after each; a
    clip shared by several events is transcoded once."""
    ids = list(session.scalars(select(Event.id).where(Event.clip_sha256.is_not(None)).order_by(Event.id)))
    done: dict[str, str | None] = {}  # old digest: the copy's, or None when it failed
    checked = transcoded = failed = 0
    for event_id in ids:
        event = session.get(Event, event_id)
        if event is None or event.clip_sha256 is None:
            continue
        checked += 1
        old = event.clip_sha256
        if old in done:
            new = done[old]
            if new is not None:
                event.clip_sha256 = new
                audit(
                    session,
                    actor=actor,
                    action="transcode_clip",
                    target=f"event:{event.id}",
                    details={"from": old, "to": new},
                )
                session.commit()
            continue
        try:
            data = store.get(old)
        except FileNotFoundError:
            logger.warning("clip %s of event %s is no longer stored", old, event.id)
            failed += 1
            continue
        if playable(data):
            continue
        copy = _playable_copy(session, actor=actor, event=event, store=store, data=data)
        session.commit()
        done[old] = event.clip_sha256 if copy is not None else None
        transcoded += copy is not None
        failed += copy is None
    return TranscodeResult(checked=checked, transcoded=transcoded, failed=failed)
