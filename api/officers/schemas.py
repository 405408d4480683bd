"""What the API reads and writes about safety officers: the officers, their gallery, sightings, presence."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.core.schemas import InModel, Time


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
