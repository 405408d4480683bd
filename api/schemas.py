"""What the API reads and writes, split by direction (In, Public)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Base64Bytes,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from detector.kinds import KindName
from detector.wire import TIMES, EventUpdateWire

#: The years a time the API accepts may fall in (in UTC): enough for any real event, and far from the ends
#: of what Python and the databases can hold, so that no conversion overflows.
YEARS = (2000, 2100)


def bounded_time(value: datetime) -> datetime:
    """``value`` if it falls in :data:`YEARS` once in UTC (a naive time is taken as UTC), else ``ValueError``
    (answered 422 with the reason)."""
    try:
        utc = value.astimezone(UTC) if value.tzinfo is not None else value
    except OverflowError:
        utc = None
    if utc is None or not YEARS[0] <= utc.year < YEARS[1]:
        raise ValueError(f"time {value.isoformat()} is outside the years {YEARS[0]}..{YEARS[1] - 1} (UTC)")
    return value


#: A time in a request: bounded by :func:`bounded_time`.
Time = Annotated[datetime, AfterValidator(bounded_time)]


#: How deeply JSON documents the API reads may nest (a site configuration needs a handful of levels).
MAX_DEPTH = 32


def contains_nul(value: object) -> bool:
    """Whether a string anywhere in ``value`` holds a NUL character (PostgreSQL text cannot store one)."""
    return check_document(value, max_depth=None) is not None


def check_document(value: object, *, max_depth: int | None = MAX_DEPTH) -> str | None:
    """What is wrong with a JSON document, or ``None``: text with a NUL character (PostgreSQL text cannot
    store one), or nesting deeper than ``max_depth`` (which recursive code downstream would not survive).
    Walks the document without recursion."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "text must not contain NUL characters"
        elif isinstance(item, dict | list | tuple):
            if max_depth is not None and depth >= max_depth:
                return f"the document is nested deeper than {max_depth} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


class InModel(BaseModel):
    """Base of request bodies: unknown keys are refused (422, naming them: an integrator's typo must not
    be ignored silently), and so are text with NUL characters and documents nested deeper than
    :data:`MAX_DEPTH`, before any database or recursive code sees them."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: object) -> object:
        if (problem := check_document(data)) is not None:
            raise ValueError(problem)
        return data


EventKindName = KindName


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
    violation while its site's project is not active (acknowledged, not stored: api.arming)."""

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


class ReviewIn(InModel):
    """A supervisor's verdict."""

    verdict: Literal["confirmed", "false_alarm"]
    note: str = Field(default="", max_length=2000)


class KeyIn(InModel):
    """A key to create."""

    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "supervisor", "viewer", "edge", "integration"]
    site_ids: list[str] = Field(default_factory=list, description="Sites it may see; empty: all.")


class KeyCreated(BaseModel):
    """The new key, shown this once."""

    id: int
    name: str
    role: str
    key: str


class KeyPublic(BaseModel):
    """A key as admins see it: never the key itself, only its first characters to recognise it by."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: str
    site_ids: list[str]
    created_at: datetime
    revoked_at: datetime | None


class Health(BaseModel):
    """``/healthz``."""

    status: Literal["ok", "degraded"]
    database: bool
    storage_writable: bool
    disk_free_mb: float | None
    problems: list[str] = Field(default_factory=list, description="What makes the API degraded.")


class CaseHistoryPublic(BaseModel):
    """One change of a case."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    from_status: str | None
    to_status: str
    note: str


class CasePublic(BaseModel):
    """A case with its events and history."""

    id: int
    site_id: str
    camera_id: str | None
    kind: str
    status: str
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime
    closed_at: datetime | None
    overdue: bool
    external_id: str | None
    event_ids: list[str]
    history: list[CaseHistoryPublic]
    project_name: str | None = Field(default=None, description="The site's project (工程), if it has one.")
    company: str | None = Field(default=None, description="The project's construction company (施工单位).")


class CaseIn(InModel):
    """Open (or join) a case for events by hand."""

    event_ids: list[str] = Field(min_length=1, max_length=100)
    note: str = Field(default="", max_length=2000)


class CasePatch(InModel):
    """A state change and/or the case system's own number.

    ``rectified`` is what the case system reports when the site says it has put things right: the case
    goes to ``reinspection`` and the camera is watched for the re-inspection window.
    """

    status: (
        Literal["open", "dispatched", "rectifying", "rectified", "reinspection", "closed", "reopened"] | None
    ) = None
    note: str = Field(default="", max_length=2000)
    external_id: str | None = Field(default=None, max_length=100)


class CasePolicyIn(InModel):
    """When a site's events of one kind open a case, and the deadline."""

    trigger: Literal["on_start", "on_confirm", "never"]
    deadline_hours: float = Field(gt=0, le=24 * 90)


class OfficerPublic(BaseModel):
    """An enrolled officer (never their face data)."""

    id: int
    site_id: str
    name: str
    enabled: bool
    created_at: datetime
    embeddings: int
    rejected: list[str] = Field(default_factory=list, description="Photos refused at enrolment, and why.")


class OfficerPatch(InModel):
    """Enable or disable an officer."""

    enabled: bool


class GalleryPublic(BaseModel):
    """What an edge box needs to recognise a site's officers: embeddings only."""

    site_id: str
    officers: dict[str, list[list[float]]]


class SightingIn(InModel):
    """An officer recognised by an edge box."""

    site_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    officer: str = Field(min_length=1, max_length=100)
    camera_id: str | None = Field(default=None, max_length=64)
    at: Time


class PresencePublic(BaseModel):
    """One stretch of an officer's presence."""

    model_config = ConfigDict(from_attributes=True)

    officer: str
    camera_id: str | None
    start: datetime
    end: datetime


class CameraHealthIn(InModel):
    """A camera's health as an edge worker reports it (``streams.worker.Worker.health``)."""

    site_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    camera_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    online: bool
    input_fps: float = Field(default=0.0, ge=0, le=1000)
    frames_processed: int = Field(default=0, ge=0, le=2**31 - 1)
    last_frame_at: Time | None = None
    offline_since: Time | None = None
    last_error: str | None = Field(default=None, max_length=500)
    thumbnail_jpeg: Base64Bytes | None = Field(
        default=None, max_length=200_000, description="A small JPEG of the last frame, base64."
    )
    suppressions: dict[EventKindName, Annotated[int, Field(ge=0, le=2**53)]] = Field(
        default_factory=dict,
        description="Violating looks the false-alarm memory suppressed, per kind, since the run started.",
    )
    suppressions_run: str | None = Field(
        default=None,
        max_length=64,
        description="The edge worker's run the counts belong to (a new run counts from 0 again).",
    )


class CameraHealthPublic(BaseModel):
    """A camera's latest health."""

    model_config = ConfigDict(from_attributes=True)

    site_id: str
    camera_id: str
    online: bool
    input_fps: float
    frames_processed: int
    last_frame_at: datetime | None
    offline_since: datetime | None
    last_error: str | None
    reported_at: datetime
    has_thumbnail: bool = False
    suppressions: dict[str, int] = Field(
        default_factory=dict, description="Looks the false-alarm memory suppressed, per kind, in total."
    )


class FalseAlarmPublic(BaseModel):
    """A remembered false alarm: edge boxes suppress new detections of its camera and kind that match it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: str
    camera_id: str
    kind: str
    box: list[float] = Field(description="Where in the frame: x1, y1, x2, y2 in 0..1.")
    signature: list[float] = Field(description="Appearance signature of the crop (streams.memory).")
    event_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime


class SitePublic(BaseModel):
    """A site the caller may see."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str | None = None
    created_at: datetime


class SiteConfigPublic(BaseModel):
    """A site's configuration document and its version."""

    site_id: str
    version: int
    updated_at: datetime
    document: dict[str, Any]
    false_alarms: list[FalseAlarmPublic] = Field(
        default_factory=list, description="The site's unexpired false-alarm memory."
    )


class AuditPublic(BaseModel):
    """One audit log entry."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


class LoginIn(InModel):
    """A person's credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class UserIn(InModel):
    """A user to create."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=200, description="At least 10 characters.")
    role: Literal["admin", "supervisor", "viewer"]
    site_ids: list[str] = Field(default_factory=list, description="Sites the user may see; empty: all.")


class PasswordIn(InModel):
    """A user's new password, set by an admin."""

    password: str = Field(min_length=10, max_length=200, description="At least 10 characters.")


class PasswordChangeIn(InModel):
    """A logged-in person's own password change."""

    old_password: str = Field(min_length=1, max_length=200, description="The current password.")
    new_password: str = Field(min_length=10, max_length=200, description="At least 10 characters.")


class UserPublic(BaseModel):
    """A user, without the password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: str
    site_ids: list[str]
    disabled: bool


class UserChanged(BaseModel):
    """A user after an admin's change, and how many of their web sessions it ended."""

    user: UserPublic
    sessions_ended: int


class DeliveryPublic(BaseModel):
    """One notification's delivery to one channel."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    notification_id: int
    channel: str
    status: str
    attempts: int
    idempotency_key: str
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    response: str | None
