"""What the API reads and writes about events: ingest, listings, reviews, remembered false alarms."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.core.schemas import InModel, bounded_time
from detector.wire import TIMES, EventUpdateWire


class IngestEventIn(InModel, EventUpdateWire):
    """The ``event`` part of an ingest request: one update of an edge event, in the wire format of
    :class:`detector.wire.EventUpdateWire`, with times in :data:`YEARS`."""

    model_config = ConfigDict(extra="ignore")

    @field_validator(*TIMES)
    @classmethod
    def _bounded(cls, value: datetime | None) -> datetime | None:
        return None if value is None else bounded_time(value)


class IngestResult(BaseModel):
    """The answer to an ingest: ``stored`` the first time, ``duplicate`` for a repeat, ``disarmed`` for a
    violation while its site's project is not active (acknowledged, not stored: api.ingest.arming)."""

    status: Literal["stored", "duplicate", "disarmed"]
    event_id: str
    seq: int


class EventPublic(BaseModel):
    """An event as supervisors and integrations see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    site_id: str
    camera_id: str | None
    kind: str
    status: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    score: float
    people_count: int
    best_box: list[Any] | None
    snapshot_sha256: str | None
    annotated_sha256: str | None
    clip_sha256: str | None
    review_status: str
    details: dict[str, Any]


class EventPage(BaseModel):
    """A page of events, newest first."""

    data: list[EventPublic]
    next_cursor: str | None
    total: int | None = Field(
        default=None, description="The exact number of events the filters match, all pages together."
    )


class ReviewIn(InModel):
    """A supervisor's verdict."""

    verdict: Literal["confirmed", "false_alarm"]
    note: str = Field(default="", max_length=2000)


class PendingCount(BaseModel):
    """How many events wait for review (of the sites the caller sees), for a badge that polls it."""

    pending: int = Field(description="Events whose review status is pending.")
    newest_started_at: datetime | None = Field(
        description="When the newest pending event started (a new one changes it even when as many were "
        "reviewed meanwhile); null when none waits."
    )
