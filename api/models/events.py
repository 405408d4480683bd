"""The tables of what edge boxes report: events, their updates, evidence files, reviews and false alarms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base


class Event(Base):
    """An event reported by an edge box, as its latest update left it."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the edge's event id
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    camera_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | ended
    started_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    people_count: Mapped[int] = mapped_column(Integer, default=0)
    best_box: Mapped[list[Any] | None]
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    annotated_sha256: Mapped[str | None] = mapped_column(String(64))
    clip_sha256: Mapped[str | None] = mapped_column(String(64))
    review_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_events_site_started", "site_id", "started_at"),)


class IngestedUpdate(Base):
    """Each (event id, seq) ever accepted: what makes ingest idempotent."""

    __tablename__ = "ingested_updates"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    phase: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    body: Mapped[dict[str, Any]]


class EvidenceFile(Base):
    """A stored evidence file, by content hash."""

    __tablename__ = "evidence_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class Review(Base):
    """A supervisor's verdict on an event."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class FalseAlarm(Base):
    """A detection a supervisor rejected, remembered per camera and kind until ``expires_at``: where in the
    frame (``box``, x1, y1, x2, y2 in 0..1) and what it looked like (``signature``, see
    ``streams.memory``). Edge boxes suppress new detections that match it."""

    __tablename__ = "false_alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    camera_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    box: Mapped[list[Any]]
    signature: Mapped[list[Any]]
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)  # the rejected event
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_false_alarms_site_camera", "site_id", "camera_id", "expires_at"),)
