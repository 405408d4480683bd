"""What the API reads and writes about cases, their history and the policies that open them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.core.schemas import InModel, Time


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
    project_id: int | None = Field(default=None, description="The site's project, if it has one.")
    street: str | None = Field(default=None, description="The project's street (街道).")
    community: str | None = Field(default=None, description="The project's community (社区).")
    contact_name: str | None = Field(default=None, description="The project's person responsible for safety.")
    contact_phone: str | None = Field(
        default=None,
        description="Their phone: in full to supervisors and admins (each read audited), masked "
        "(``138****5678``) to others.",
    )
    open_s: float = Field(default=0.0, description="Seconds from opening to closure, or to now while open.")
    overdue_s: float = Field(
        default=0.0, description="Seconds past the deadline of a case not closed (0 when not overdue)."
    )


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


class CaseSummary(BaseModel):
    """Exact counts of the cases a filter matches: all, those not closed, the overdue ones, per status."""

    total: int
    open: int = Field(description="Cases not closed.")
    overdue: int = Field(description="Cases not closed whose deadline has passed.")
    by_status: dict[str, int] = Field(description="Every status with at least one case, and its count.")


class CaseExtendIn(InModel):
    """A later deadline: ``hours`` added to the current one, or a ``deadline_at`` (exactly one), and why."""

    hours: float | None = Field(default=None, gt=0, le=24 * 365)
    deadline_at: Time | None = None
    reason: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _one_of(self) -> CaseExtendIn:
        if (self.hours is None) == (self.deadline_at is None):
            raise ValueError("give either hours or deadline_at")
        return self


class CaseNoteIn(InModel):
    """A note in a case's history, its status unchanged."""

    note: str = Field(min_length=1, max_length=2000)


class CaseContactIn(InModel):
    """Call (``call``: a voice call) or text (``sms``) the project's person responsible for safety now."""

    channel: Literal["call", "sms"]
