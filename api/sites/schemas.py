"""What the API reads and writes about sites: the sites, their configuration, their cameras' health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field

from api.core.kinds import EventKindName
from api.core.schemas import InModel, Time


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
    """A camera's latest health: ``online`` as the API judges it now, which is what its edge box last
    reported (``reported_online``) unless that report is older than ``SITEWATCH_CAMERA_STALE_S``
    (``stale``): a box that lost its power or network reports nothing, and its cameras are offline."""

    model_config = ConfigDict(from_attributes=True)

    site_id: str
    camera_id: str
    online: bool = Field(description="Reported online, in a report not older than the stale limit.")
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
    reported_online: bool | None = Field(
        default=None, description="What the edge box last reported, however long ago."
    )
    stale: bool = Field(
        default=False, description="The last report is older than the stale limit (SITEWATCH_CAMERA_STALE_S)."
    )
    last_seen_s: float | None = Field(default=None, description="Seconds since the last report.")
    stale_after_s: float | None = Field(
        default=None, description="The stale limit the camera was judged by (SITEWATCH_CAMERA_STALE_S)."
    )


class CameraListed(CameraHealthPublic):
    """A camera in the list of every visible camera: its health, where it is, and its site's unexpired
    false-alarm memory of it."""

    site_name: str = ""
    project_id: int | None = None
    project_name: str = ""
    false_alarms: list[FalseAlarmPublic] = Field(
        default_factory=list, description="The camera's unexpired false-alarm memory."
    )


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


class LiveRequests(BaseModel):
    """What an edge box's long poll hears: the cameras of its site someone watches, and how to send them."""

    cameras: list[str] = Field(description="The site's watched cameras: send frames of each.")
    fps: float = Field(description="Frames per second to send at most (SITEWATCH_LIVE_FPS).")
    width: int = Field(description="Scale frames down to this width in pixels (SITEWATCH_LIVE_WIDTH).")


class LivePushed(BaseModel):
    """The answer to a pushed live frame: whether anyone still watches (stop sending when not)."""

    watching: bool
    viewers: int = Field(ge=0)
    fps: float
    width: int
