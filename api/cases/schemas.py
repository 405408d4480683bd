"""What the API reads and writes about cases, their history and the policies that open them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.core.schemas import InModel


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
