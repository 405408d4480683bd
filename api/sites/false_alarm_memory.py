"""The false-alarm memory: what supervisors rejected, per camera and kind, for the edge boxes to suppress.

A review with the verdict ``false_alarm`` remembers every violating person the event recorded
(``details["people"]``: a normalised box and an appearance signature each, see ``streams.memory``) until
``now + SITEWATCH_FALSE_ALARM_DAYS``; a later ``confirmed`` verdict on the same event forgets them again.
Edge boxes fetch the unexpired entries of their site and report how many looks each camera suppressed
with their camera health, which this module adds up across restarts of the box.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.models import Event, FalseAlarm
from detector import kinds

logger = logging.getLogger(__name__)

#: The kinds a person's look raises, which the memory applies to.
PERSON_KINDS = frozenset(kinds.PERSON_KINDS)
#: Values of an appearance signature (``streams.memory.SIGNATURE_SIZE``).
SIGNATURE_SIZE = 64


def _person(item: object) -> tuple[list[float], list[float]] | None:
    """The (box, signature) of one recorded person, or ``None`` when it is not well formed."""
    if not isinstance(item, dict):
        return None
    box, sig = item.get("box"), item.get("signature")
    if not (isinstance(box, list) and len(box) == 4 and isinstance(sig, list) and len(sig) == SIGNATURE_SIZE):
        return None
    values = [*box, *sig]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return None
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0):
        return None
    return [x1, y1, x2, y2], [float(v) for v in sig]


def remember(session: Session, *, event: Event, actor: str, ttl_days: float) -> list[FalseAlarm]:
    """Remember the violating people of ``event`` as false alarms of its camera and kind (replacing what
    an earlier review of the same event remembered); added to the caller's transaction."""
    forget_event(session, event_id=event.id)
    if event.kind not in PERSON_KINDS or event.camera_id is None:
        return []
    now = datetime.now(UTC)
    entries = []
    for item in (event.details or {}).get("people") or []:
        person = _person(item)
        if person is None:
            logger.warning("event %s: a recorded person without a usable box and signature", event.id)
            continue
        entries.append(
            FalseAlarm(
                site_id=event.site_id,
                camera_id=event.camera_id,
                kind=event.kind,
                box=person[0],
                signature=person[1],
                event_id=event.id,
                created_by=actor,
                created_at=now,
                expires_at=now + timedelta(days=ttl_days),
            )
        )
    session.add_all(entries)
    return entries


def forget_event(session: Session, *, event_id: str) -> None:
    """Drop the entries remembered from one event (it was reviewed again)."""
    session.execute(delete(FalseAlarm).where(FalseAlarm.event_id == event_id))


def active_entries(
    session: Session, *, site_id: str, camera_id: str | None = None, now: datetime | None = None
) -> list[FalseAlarm]:
    """The site's unexpired entries (of one camera), by camera, then oldest first."""
    query = select(FalseAlarm).where(
        FalseAlarm.site_id == site_id, FalseAlarm.expires_at > (now or datetime.now(UTC))
    )
    if camera_id is not None:
        query = query.where(FalseAlarm.camera_id == camera_id)
    return list(session.scalars(query.order_by(FalseAlarm.camera_id, FalseAlarm.id)))


def forget_entry(session: Session, *, actor: str, entry: FalseAlarm) -> None:
    """Forget ``entry`` (its detection alarms again once the edge boxes refresh their memory); audited as
    ``delete_false_alarm``; commits."""
    audit(
        session,
        actor=actor,
        action="delete_false_alarm",
        target=f"false_alarm:{entry.id}",
        details={"camera_id": entry.camera_id, "kind": entry.kind, "event_id": entry.event_id},
    )
    session.delete(entry)
    session.commit()


def add_suppressions(
    stored: dict[str, Any] | None, *, run: str | None, counts: dict[str, int]
) -> dict[str, Any]:
    """Fold a health report's suppression counts (since the edge run ``run`` started) into the stored
    record ``{"total": {kind: n}, "run": ..., "at_run_start": {kind: n}}``.

    A new run starts counting from 0, so what earlier runs counted is kept as ``at_run_start``; counts
    without a run cannot be told apart from those already added and are ignored.
    """
    stored = stored or {}
    if run is None:
        return stored
    total: dict[str, int] = dict(stored.get("total") or {})
    base: dict[str, int] = dict(stored.get("at_run_start") or {})
    if run != stored.get("run"):
        base = total
    kinds = set(base) | set(counts)
    return {
        "total": {kind: base.get(kind, 0) + counts.get(kind, 0) for kind in sorted(kinds)},
        "run": run,
        "at_run_start": base,
    }


def suppression_totals(stored: dict[str, Any] | None) -> dict[str, int]:
    """The suppressions per kind in a stored record of :func:`add_suppressions`."""
    return dict((stored or {}).get("total") or {})
