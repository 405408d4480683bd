"""The API's tables (SQLAlchemy 2.0, typed). Times are timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database.

    SQLite has no time zones: it would store an aware value's wall-clock time without its offset and
    return it naive, so values and comparisons would depend on the offset the client happened to send.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UTCDateTime(),
    }


class Site(Base):
    """A construction site."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


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


class ApiKey(Base):
    """A machine's or person's key; only its hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | supervisor | viewer | edge | integration
    site_ids: Mapped[list[Any]] = mapped_column(default=list)  # empty: all sites
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who did what: every mutating action and every evidence download by a person."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Case(Base):
    """A case in the closed loop: the events of one incident, followed from dispatch to closure."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    camera_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    external_id: Mapped[str | None] = mapped_column(String(100))  # the case system's own number
    reinspect_until: Mapped[datetime | None]  # end of the re-inspection window, while in reinspection


class CaseEvent(Base):
    """An event belonging to a case."""

    __tablename__ = "case_events"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), primary_key=True, index=True)


class CaseHistory(Base):
    """Every change of a case's state: when, who, from what to what, why."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class CasePolicy(Base):
    """Per site and kind: when a case is opened automatically, and its deadline."""

    __tablename__ = "case_policies"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # on_start | on_confirm | never
    deadline_hours: Mapped[float] = mapped_column(Float)


class Officer(Base):
    """A site's designated safety officer. Photos are not kept; embeddings are, encrypted."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class OfficerEmbedding(Base):
    """One face embedding of an officer, encrypted with the key from ``SITEWATCH_FACE_KEY``."""

    __tablename__ = "officer_embeddings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id", ondelete="CASCADE"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class PresenceInterval(Base):
    """An officer seen on site from ``start`` to ``end`` (sightings closer than a gap merged)."""

    __tablename__ = "presence_intervals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    officer: Mapped[str] = mapped_column(String(100))
    camera_id: Mapped[str | None] = mapped_column(String(64))
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]


class CameraHealth(Base):
    """The latest health an edge box reported for a camera."""

    __tablename__ = "camera_health"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    online: Mapped[bool]
    input_fps: Mapped[float] = mapped_column(Float, default=0.0)
    frames_processed: Mapped[int] = mapped_column(Integer, default=0)
    last_frame_at: Mapped[datetime | None]
    offline_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    reported_at: Mapped[datetime]
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary)  # a small JPEG of the last frame
    # False-alarm suppressions per kind: {"total": {kind: n}, "run": id, "at_run_start": {kind: n}}, so
    # that the total goes on growing across restarts of the edge box (whose counts start again at 0).
    suppression_counts: Mapped[dict[str, Any] | None]


class SiteConfig(Base):
    """A site's configuration document, as its edge boxes fetch it (validated on the edge)."""

    __tablename__ = "site_configs"

    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    document: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]


class User(Base):
    """A person who logs in (supervisors, viewers, admins); the password is stored as an scrypt hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    site_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)


class WebSession(Base):
    """A logged-in browser session; only the hash of its token is stored."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Notification(Base):
    """Something integrations may want to hear of (a case opened or moved, an event started, ended or was
    confirmed), written in the same transaction as the change itself: the outbox.

    The dispatcher routes each one to its channels (one :class:`Delivery` each) and marks it routed.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(32))  # case.created | case.updated | event.started | ...
    site_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    camera_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    routed: Mapped[bool] = mapped_column(default=False, index=True)


class Delivery(Base):
    """One notification to one channel, with its rendered body, retried until delivered or dead."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    order_key: Mapped[str] = mapped_column(String(80))  # deliveries of one key go out in order
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|failed|dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]  # a dispatcher holds the row until then
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_order", "channel", "order_key", "status"),
    )


class Brief(Base):
    """A brief generated on a schedule: kept as evidence files, sent once per period, scope and language."""

    __tablename__ = "briefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(8))  # 2026-W48 | 2026-11
    scope: Mapped[str] = mapped_column(String(64))  # a site id, or * for the district
    lang: Mapped[str] = mapped_column(String(2))
    html_sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ux_briefs_once", "period", "scope", "lang", unique=True),)


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


class Project(Base):
    """A small construction project (工程) under supervision, watched through one site's cameras.

    Its rules are armed from ``planned_start`` to ``planned_end`` (local dates, both included); extending a
    project moves ``planned_end``. ``closed_at`` is set when a supervisor closes it early or after the end.
    ``contact_phone`` is personal data: stored encrypted (a Fernet token), shown masked to viewers.
    """

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    builder: Mapped[str] = mapped_column(String(200), default="")  # 建设单位, the client
    company: Mapped[str] = mapped_column(String(200), default="", index=True)  # 施工单位, the contractor
    permit_no: Mapped[str] = mapped_column(String(100), default="")  # permit or filing number
    contact_name: Mapped[str] = mapped_column(String(100), default="")  # person responsible for safety
    contact_phone: Mapped[str | None] = mapped_column(Text)  # encrypted
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TrackedIssue(Base):
    """A recurring problem (类案) a supervisor chose to track: found by the analysis, given an owner and a
    deadline, closed like a case. ``finding`` keeps what the analysis found (kind, subject, figures)."""

    __tablename__ = "tracked_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_kind: Mapped[str] = mapped_column(String(32))  # recurring_company | rising_project | ...
    subject: Mapped[str] = mapped_column(String(200))  # the company, project id, camera or kind concerned
    title: Mapped[str] = mapped_column(String(300))
    finding: Mapped[dict[str, Any]] = mapped_column(default=dict)
    owner: Mapped[str] = mapped_column(String(100))
    deadline_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | closed
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
