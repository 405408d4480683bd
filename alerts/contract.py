"""The JSON contract of the case-management webhook: what we send, as pydantic models.

``alerts/schemas/case-webhook.schema.json`` is generated from these models (``python -m alerts.contract``)
and checked by the tests; the API's OpenAPI document lists the same bodies under ``webhooks``.

Every request carries ``X-Sitewatch-Timestamp`` (Unix seconds), ``Idempotency-Key`` (the same on every
retry of one notification) and ``X-Sitewatch-Signature: sha256=<hex HMAC-SHA256 of
"<timestamp>.<key>.<url>." followed by the raw body>``, where ``<url>`` is the receiver's own address
exactly as the channel's ``url`` names it; a receiver checks the signature with its own URL (so a request
sent to another receiver sharing the secret is refused) and refuses a timestamp more than 5 minutes away.
Its signed callbacks (``PATCH /api/v1/cases/{id}``) sign the URL they are sent to. A receiver
answers 2xx, with ``{"case_number": "..."}`` for ``case.created``; we keep that number as the case's
``external_id``. Answers 409 mean "already have it" and count as delivered.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter

from detector.kinds import KINDS

SCHEMA_VERSION: Literal[1] = 1


class Evidence(BaseModel):
    """Evidence of one event: time-limited links that need no API key, and the files' SHA-256."""

    snapshot_url: str | None = Field(description="The clean JPEG.")
    annotated_url: str | None = Field(description="The JPEG with boxes and labels.")
    clip_url: str | None = Field(description="An MP4 around the moment, when recorded.")
    snapshot_sha256: str | None
    annotated_sha256: str | None
    clip_sha256: str | None
    links_expire_at: datetime = Field(description="After this the links answer 403.")


class EventInfo(BaseModel):
    """One violation event as the edge box reported it."""

    id: str
    site_id: str
    camera_id: str | None
    kind: str = Field(description=", ".join(KINDS) + ".")
    started_at: datetime
    ended_at: datetime | None
    score: float
    people_count: int
    review_status: Literal["pending", "confirmed", "false_alarm"]
    evidence: Evidence


class CaseChange(BaseModel):
    """A change of a case's state."""

    from_status: str | None
    to_status: str
    at: datetime
    actor: str
    note: str


class CaseInfo(BaseModel):
    """A case: the events of one incident, followed to closure."""

    id: int = Field(description="Our case id; the callback PATCH /api/v1/cases/{id} uses it.")
    external_id: str | None = Field(description="Your case number, once you have answered with it.")
    site_id: str
    camera_id: str | None
    kind: str
    status: Literal["open", "dispatched", "rectifying", "reinspection", "closed", "reopened"]
    created_at: datetime
    deadline_at: datetime
    closed_at: datetime | None
    people_count: int = Field(description="Most people seen in one of its events.")


class CaseNotice(BaseModel):
    """``case.created`` (create a case on your side), ``case.updated`` (its state changed) or
    ``case.due_soon`` (its deadline is near and it is not closed; once per case)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    type: Literal["case.created", "case.updated", "case.due_soon"]
    notification_id: int
    sent_at: datetime
    case: CaseInfo
    change: CaseChange | None = Field(description="The change this notice reports (case.updated).")
    events: list[EventInfo] = Field(description="The case's events, oldest first (at most 20).")


class EventNotice(BaseModel):
    """``event.started``, ``event.ended`` or ``event.confirmed``, for receivers that follow events."""

    schema_version: Literal[1] = SCHEMA_VERSION
    type: Literal["event.started", "event.ended", "event.confirmed"]
    notification_id: int
    sent_at: datetime
    event: EventInfo


class BriefNotice(BaseModel):
    """``brief.ready``: a scheduled weekly or monthly brief, as links that need no API key."""

    schema_version: Literal[1] = SCHEMA_VERSION
    type: Literal["brief.ready"] = "brief.ready"
    notification_id: int
    sent_at: datetime
    title: str
    period: str = Field(description="2026-W48 or 2026-11.")
    scope: str = Field(description="A site id, or * for the whole district.")
    html_url: str
    pdf_url: str | None = Field(description="Absent where the server could not print a PDF.")
    links_expire_at: datetime
    figures: dict[str, str] = Field(description="Headline figures as shown in the brief.")


Notice = Annotated[CaseNotice | EventNotice | BriefNotice, Field(discriminator="type")]
NOTICE = TypeAdapter(Notice)


def json_schema() -> str:
    """The contract as a JSON Schema document (what ``alerts/schemas/case-webhook.schema.json`` holds)."""
    schema = NOTICE.json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "sitewatch webhook notice"
    schema["description"] = (__doc__ or "").strip()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "case-webhook.schema.json"

if __name__ == "__main__":
    SCHEMA_FILE.write_text(json_schema())
