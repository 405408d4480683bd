"""What a camera worker reports: event updates with their evidence.

An event is one incident of one kind on one camera (or, for ``officer_absent``, on the site). It goes
through ``start``, any number of ``update`` (a better snapshot, more people) and ``end``. Every update
carries the event's id, generated on the edge, and a sequence number, so that a receiver can drop a
repeat delivery without losing anything.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

# The kinds and phases are defined with all else the system knows of them, in ``detector.kinds``.
from detector.kinds import EventKind as EventKind
from detector.kinds import Phase as Phase
from detector.wire import EventUpdateWire, edge_json


def new_event_id() -> str:
    """A fresh, globally unique event id."""
    return str(uuid.uuid4())


def iso(ts: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string."""
    return None if ts is None else _utc(ts).isoformat(timespec="milliseconds")


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True, slots=True)
class Evidence:
    """JPEG snapshots of the event's best frame (clean and annotated) and optionally a clip."""

    snapshot: bytes
    annotated: bytes
    clip: bytes | None = None

    def hashes(self) -> dict[str, str]:
        """SHA-256 of each file, recorded with the event."""
        out = {
            "snapshot_sha256": hashlib.sha256(self.snapshot).hexdigest(),
            "annotated_sha256": hashlib.sha256(self.annotated).hexdigest(),
        }
        if self.clip is not None:
            out["clip_sha256"] = hashlib.sha256(self.clip).hexdigest()
        return out


@dataclass(frozen=True, slots=True)
class EventUpdate:
    """One update of an event, as it leaves the worker.

    Attributes:
        event_id: edge-generated id, the same for every update of the event.
        seq: 0 for ``start``, then 1, 2, ... for each later update and the end.
        phase: start, update or end.
        kind: the event kind.
        site_id: the site.
        camera_id: the camera, or ``None`` for site-wide events.
        started_at: when the violation was confirmed (epoch seconds).
        updated_at: when this update was made.
        ended_at: when the violation last held, on ``end``.
        score: confidence of the best observation.
        people_count: most people violating at once.
        track_ids: person tracks in the incident.
        best_box: the best frame's violating person box, ``x1, y1, x2, y2`` in pixels.
        frame_time: capture time of the frame behind this update (for latency measurements).
        evidence: snapshots, when this update carries new ones.
        details: anything else worth knowing (officer name, offline since ...).
    """

    event_id: str
    seq: int
    phase: Phase
    kind: EventKind
    site_id: str
    camera_id: str | None
    started_at: float
    updated_at: float
    ended_at: float | None = None
    score: float = 0.0
    people_count: int = 0
    track_ids: tuple[int, ...] = ()
    best_box: tuple[float, float, float, float] | None = None
    frame_time: float | None = None
    evidence: Evidence | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON part of the wire format (:class:`detector.wire.EventUpdateWire`; evidence travels as
        separate files, named by hash)."""
        return edge_json(
            EventUpdateWire.model_construct(
                event_id=self.event_id,
                seq=self.seq,
                phase=self.phase.value,
                kind=self.kind.value,
                site_id=self.site_id,
                camera_id=self.camera_id,
                started_at=_utc(self.started_at),
                updated_at=_utc(self.updated_at),
                ended_at=None if self.ended_at is None else _utc(self.ended_at),
                score=self.score,
                people_count=self.people_count,
                track_ids=list(self.track_ids),
                best_box=None if self.best_box is None else list(self.best_box),
                evidence=self.evidence.hashes() if self.evidence else {},
                details=self.details,
            )
        )

    def body(self) -> str:
        """``to_json`` as compact JSON text."""
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def begin(
        cls,
        kind: EventKind,
        site_id: str,
        camera_id: str | None,
        started_at: float,
        now: float,
        **fields: Any,
    ) -> EventUpdate:
        """The ``start`` of a new event, with a fresh id and sequence number 0."""
        return cls(
            event_id=new_event_id(),
            seq=0,
            phase=Phase.START,
            kind=kind,
            site_id=site_id,
            camera_id=camera_id,
            started_at=started_at,
            updated_at=now,
            **fields,
        )

    def next(self, phase: Phase, now: float, **changes: Any) -> EventUpdate:
        """The following update of the same event."""
        return replace(self, seq=self.seq + 1, phase=phase, updated_at=now, evidence=None, **changes)
