"""Configuration sections of the edge box's services: officers, false-alarm memory, sink, worker, cases.

Their defaults are the library's (``streams``, :mod:`sitewatch.gallery_sync`); each section builds the
library's objects through its links (see :mod:`sitewatch.config.links`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from sitewatch.config.links import MEGABYTES, MINUTES, Link, Strict, same_keys
from sitewatch.gallery_sync import OfficerSync
from streams.clips import ClipSink
from streams.evidence import EvidenceMaker
from streams.memory import MatchParams
from streams.presence import FaceParams
from streams.sinks import HttpSink, Sink
from streams.worker import WorkerParams

FACE_TRIES = same_keys(FaceParams, "attempts", "agree", internal=frozenset({"min_face_px"}))  # face section
OFFICER_SYNC = Link(
    OfficerSync,
    {"refresh_min": "refresh_s"},
    # Who and where are set by the edge assembly; retries and the sightings queue are tuned in it.
    internal=frozenset({"site_id", "gallery", "fetch", "send", "retry_s", "capacity"}),
    convert={"refresh_min": MINUTES},
)
MATCH = same_keys(MatchParams, "iou", "similarity")
HTTP_SINK = Link(
    HttpSink,
    {"url": "base_url", "api_key": "api_key", "retry_max_s": "backoff_max_s"},
    # outbox: opened by the edge assembly from the `outbox` path; the first retry and the request
    # timeout are tuned in the library.
    internal=frozenset({"outbox", "backoff_initial_s", "timeout_s"}),
)
WORKER = same_keys(
    WorkerParams,
    "queue_size",
    "batch_size",
    "capture",
    internal=frozenset({"tick_s"}),  # tick_s: housekeeping
)
# language: the site's (site.language), set by the edge assembly
EVIDENCE = same_keys(EvidenceMaker, "jpeg_quality", internal=frozenset({"language"}))
CLIPS = Link(
    ClipSink,
    {"clip_seconds": "seconds", "clip_max_mb": "max_bytes"},
    internal=frozenset({"inner"}),  # the sink the clips go to, set by the edge assembly
    convert={"clip_max_mb": MEGABYTES},
)


class OfficersConfig(Strict):
    """Recognising the site's safety officers."""

    LINKS = (FACE_TRIES, OFFICER_SYNC)
    # Where the gallery comes from, and the absence limit (OfficerPresence has no default: it is the
    # site's rule).
    OWN = frozenset({"gallery", "from_api", "absent_after_min"})

    gallery: Path | None = Field(
        default=None, description="Gallery file of enrolled officers (sitewatch faces enroll); none: off."
    )
    from_api: bool = Field(
        default=False,
        description="Take the gallery from the API (officers enrolled there, refreshed every refresh_min) "
        "and report sightings to it; `sitewatch worker` needs sink.type http for this.",
    )
    refresh_min: float = OFFICER_SYNC.field(
        "refresh_min", gt=0.0, le=1440.0, description="Gallery refresh period."
    )
    absent_after_min: float = Field(
        default=30.0,
        gt=0.0,
        le=1440.0,
        description="No officer seen this long in working hours: officer_absent.",
    )
    attempts: int = FACE_TRIES.field("attempts", ge=1, le=50, description="Face attempts per person track.")
    agree: int = FACE_TRIES.field(
        "agree", ge=1, le=50, description="Attempts that must name the same officer."
    )


class FalseAlarmsConfig(Strict):
    """The false-alarm memory: detections supervisors rejected are suppressed at their camera."""

    LINKS = (MATCH,)
    # enabled: the site's choice; refresh_min: sitewatch.false_alarms reads this configuration, so its
    # refresher cannot be linked here without an import cycle (it is always given this value).
    OWN = frozenset({"enabled", "refresh_min"})

    enabled: bool = Field(
        default=True,
        description="Fetch the site's false-alarm memory from the API (sink.type http) and suppress "
        "detections matching it.",
    )
    iou: float = MATCH.field(
        "iou", gt=0.0, le=1.0, description="Least overlap (IoU) of a person's box with a remembered one."
    )
    similarity: float = MATCH.field(
        "similarity", gt=0.0, le=1.0, description="Least likeness (0..1) of the person crop's colours to it."
    )
    refresh_min: float = Field(default=1.0, gt=0.0, le=1440.0, description="Memory refresh period.")

    def params(self) -> MatchParams:
        """How close a detection must be to a remembered one to be suppressed."""
        return MATCH.build(self)


class SinkConfig(Strict):
    """Where the worker sends events."""

    LINKS = (HTTP_SINK,)
    OWN = frozenset({"type", "outbox"})  # which sink, and the outbox's file (the library takes it open)

    type: Literal["memory", "http"] = Field(
        default="memory", description="memory: in-process (sitewatch run); http: the central API."
    )
    url: str | None = Field(default=None, description="Central API base URL, for type http.")
    api_key: str | None = Field(default=None, description="The edge key; write it as ${SITEWATCH_EDGE_KEY}.")
    outbox: Path | None = Field(
        default=None, description="Outbox database; data_dir/outbox.sqlite by default."
    )
    retry_max_s: float = HTTP_SINK.field(
        "retry_max_s", gt=0.0, le=3600.0, description="Cap of the retry backoff."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// address with a host, e.g. http://central:8000")
        return value

    @model_validator(mode="after")
    def _http_needs_url(self) -> SinkConfig:
        if self.type == "http" and not self.url:
            raise ValueError("type http needs a url")
        return self


class WorkerConfig(Strict):
    """The edge worker's queues."""

    LINKS = (WORKER, EVIDENCE, CLIPS)

    queue_size: int = WORKER.field(
        "queue_size", ge=1, le=256, description="Frames waiting for inference at most."
    )
    batch_size: int = WORKER.field(
        "batch_size", ge=1, le=64, description="Frames of several cameras per engine call."
    )
    capture: Literal["thread", "process"] = WORKER.field(
        "capture",
        description="Where each camera is decoded: thread (in the worker's process) or process (a process "
        "of its own per camera, frames handed over in shared memory: for servers with many cameras).",
    )
    jpeg_quality: int = EVIDENCE.field(
        "jpeg_quality", ge=30, le=100, description="Quality of evidence snapshots."
    )
    clip_seconds: float = CLIPS.field(
        "clip_seconds",
        ge=0.0,
        le=60.0,
        description="Length of the MP4 clip (the seconds before it) sent with a violation's start; 0: none.",
    )
    clip_max_mb: float = CLIPS.field(
        "clip_max_mb", ge=1.0, le=1024.0, description="Most memory each camera's clip frames may take."
    )

    def params(self) -> WorkerParams:
        """The worker's queue sizes."""
        return WORKER.build(self)

    def evidence(self, language: str = "zh") -> EvidenceMaker:
        """The maker of evidence snapshots, labelling the annotated copy in ``language``."""
        return EVIDENCE.build(self, language=language)

    def clips(self, inner: Sink) -> ClipSink:
        """A sink that adds clips to what it passes on to ``inner`` (only when ``clip_seconds`` > 0)."""
        return CLIPS.build(self, inner=inner)


class CasePolicyConfig(Strict):
    """When the central API opens a case for a kind of event on this site."""

    OWN = frozenset({"trigger", "deadline_hours"})  # the central API's policy, sent as it is

    trigger: Literal["on_start", "on_confirm", "never"] = Field(
        description="on_start: at once; on_confirm: when a supervisor confirms the event; never."
    )
    deadline_hours: float = Field(default=24.0, gt=0, le=24 * 90, description="Time to rectify.")
