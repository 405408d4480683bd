"""Configuration sections of what is watched and when: site, cameras, working hours, rules, motion gate.

Their defaults are the library's (``streams``); each section builds the library's parameters through
its links (see :mod:`sitewatch.config.links`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from detector.kinds import PERSON_KINDS
from sitewatch.config.links import AS_TUPLE, Fraction, Strict, same_keys
from streams.motion import MotionParams
from streams.rules import Persistence, RuleParams
from streams.schedule import Schedule
from streams.sources import SourceParams, url_problem
from streams.worker import Worker

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ArmedMode = Literal["working_hours", "off_hours", "always"]

ZONE = same_keys(Schedule, "timezone", internal=frozenset({"days", "start", "end"}))  # schedule section
SCHEDULE = same_keys(
    Schedule, "days", "start", "end", internal=frozenset({"timezone"}), convert={"days": AS_TUPLE}
)
SOURCE = same_keys(
    SourceParams,
    "url",
    "loop",
    # Reading and reconnecting are tuned in the library; max_fps is the detect rate, set by the worker.
    # hwaccel: the box's video hardware is used when there is some, else software (said in the log).
    internal=frozenset(
        {"realtime", "read_timeout_s", "backoff_initial_s", "backoff_max_s", "max_fps", "hwaccel"}
    ),
)
CAMERA = same_keys(
    Worker.add_camera,
    "detect_fps",
    "offline_after_s",
    # Set by the edge assembly from the camera's id, the other sections and the sink.
    internal=frozenset({"camera_id", "source", "pipeline", "motion", "site_id", "ring", "main"}),
)
PERSISTENCE = same_keys(Persistence, "k", "n", "min_duration_s")
RULES = same_keys(
    RuleParams,
    "cooldown_s",
    "update_interval_s",
    # persistence: from each rule's section; default: for kinds without one (none here);
    # min_score_gain: what makes a better snapshot, tuned in the library.
    internal=frozenset({"persistence", "default", "min_score_gain"}),
)
MOTION = same_keys(
    MotionParams,
    "enabled",
    "pixel_delta",
    "min_changed",
    "force_interval_s",
    internal=frozenset({"size"}),  # the compared image's side: an implementation detail
)


class SiteConfig(Strict):
    """The site this box watches."""

    LINKS = (ZONE,)
    OWN = frozenset({"id", "name", "language"})  # who the site is: the API's, not the library's

    id: str = Field(
        description="Short identifier of the site, used in events and the API.",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
    )
    name: str = Field(default="", description="Human-readable site name.", max_length=200)
    timezone: str = ZONE.field("timezone", description="IANA time zone of the site, e.g. Asia/Shanghai.")
    language: Literal["zh", "en"] = Field(
        default="zh", description="Language of the labels drawn on annotated snapshots (zh: Chinese)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class CameraConfig(Strict):
    """One camera."""

    LINKS = (SOURCE, CAMERA)
    # naming, switching off, where rules apply, and the substream (which makes url the evidence's stream)
    OWN = frozenset({"name", "enabled", "zones", "detect_url"})

    url: str = Field(
        description="rtsp:// URL, a video file path or a USB device index; with detect_url, the main stream, "
        "kept for evidence.",
        min_length=1,
    )
    detect_url: str | None = Field(
        default=None,
        min_length=1,
        description="The camera's substream (e.g. 640x360), decoded for detection while url (the main "
        "stream) is kept for snapshots, taken at the same moment; unset: url is decoded for both.",
    )
    name: str = Field(default="", description="Human-readable camera name.", max_length=200)
    enabled: bool = Field(default=True, description="Set false to keep the camera configured but unwatched.")
    detect_fps: float = CAMERA.field(
        "detect_fps", gt=0.0, le=30.0, description="Frames per second sent to detection."
    )
    loop: bool = SOURCE.field("loop", description="Restart a video file at its end (demo, benchmarks).")
    zones: list[Annotated[list[tuple[Fraction, Fraction]], Field(min_length=3)]] = Field(
        default_factory=list,
        description="Polygons in relative coordinates (0-1, x then y); rules apply to people whose feet are "
        "inside one, or everywhere when empty.",
    )
    offline_after_s: float = CAMERA.field(
        "offline_after_s", ge=1.0, le=86400.0, description="Offline this long raises camera_offline."
    )

    @field_validator("url", "detect_url")
    @classmethod
    def _usable_url(cls, value: str | None) -> str | None:
        problem = url_problem(value) if value is not None else None
        if problem is not None:  # the message never quotes the URL: it may hold a password
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _two_streams(self) -> CameraConfig:
        if self.detect_url is not None and SourceParams(self.url).kind == "usb":
            raise ValueError("detect_url: a USB camera has one stream (url); leave detect_url out")
        if self.detect_url is not None and SourceParams(self.detect_url).kind == "usb":
            raise ValueError("detect_url: a substream is an rtsp:// URL or a video file, not a USB camera")
        return self

    def source(self) -> SourceParams:
        """How to read the stream detection looks at: the substream when there is one, else ``url``."""
        params = SOURCE.build(self)
        return params if self.detect_url is None else replace(params, url=self.detect_url)

    def main_source(self) -> SourceParams | None:
        """How to read the main stream kept for evidence; ``None`` for a camera of one stream."""
        return SOURCE.build(self) if self.detect_url is not None else None


class ScheduleConfig(Strict):
    """Working hours, in the site's time zone."""

    LINKS = (SCHEDULE,)

    days: list[Day] = SCHEDULE.field("days", description="Working days.")
    start: time = SCHEDULE.field("start", description="Start of the working day, HH:MM local time.")
    end: time = SCHEDULE.field(
        "end", description="End of the working day; earlier than start for a night shift."
    )

    @field_validator("days")
    @classmethod
    def _some_days(cls, value: list[Day]) -> list[Day]:
        if not value:
            raise ValueError(
                "no working day: the site would never be working (for round-the-clock watching set the "
                "rules' armed: always)"
            )
        return value

    @model_validator(mode="after")
    def _some_hours(self) -> ScheduleConfig:
        if self.start == self.end:
            raise ValueError(
                f"start and end are both {self.start:%H:%M}: the site would never be working "
                "(for round-the-clock watching set the rules' armed: always)"
            )
        return self


class PersistenceConfig(Strict):
    """How long a violation must hold on one person before it starts an event."""

    LINKS = (PERSISTENCE,)

    k: int = PERSISTENCE.field("k", ge=1, le=100, description="Violating in at least k ...")
    n: int = PERSISTENCE.field("n", ge=1, le=100, description="... of the person's last n observations.")
    min_duration_s: float = PERSISTENCE.field(
        "min_duration_s", ge=0.0, le=600.0, description="And for at least this long."
    )

    @model_validator(mode="after")
    def _k_le_n(self) -> PersistenceConfig:
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) must not exceed n ({self.n})")
        return self


class RuleConfig(Strict):
    """One violation rule."""

    # Whether and when a kind raises events is the site's choice; the library arms what it is given.
    OWN = frozenset({"enabled", "armed", "persistence"})

    enabled: bool = Field(default=True, description="Watch for this violation at all.")
    armed: ArmedMode = Field(
        default="working_hours", description="When it raises events: working_hours, off_hours or always."
    )
    persistence: PersistenceConfig = Field(default_factory=PersistenceConfig, description="Debouncing.")


class SmokingRuleConfig(RuleConfig):
    """The smoking rule: a person is checked for smoking only every few seconds, so fewer observations
    must agree. The default belongs to the field, so that a section that leaves its persistence out (the
    demo's ``smoking: {armed: always}``) keeps it too (regression: it fell back to the generic 3 of 5 for
    2 s, three cigarettes in a row, and missed every smoker of the event check)."""

    persistence: PersistenceConfig = Field(
        default_factory=lambda: PersistenceConfig(k=2, n=3, min_duration_s=0.0), description="Debouncing."
    )


class RulesConfig(Strict):
    """The rules and how incidents are merged."""

    LINKS = (RULES,)
    OWN = frozenset(PERSON_KINDS)  # the rules themselves (sections, one per person kind)

    no_helmet: RuleConfig = Field(default_factory=RuleConfig, description="A person without a hard hat.")
    no_vest: RuleConfig = Field(default_factory=RuleConfig, description="A person without a hi-vis vest.")
    smoking: SmokingRuleConfig = Field(default_factory=SmokingRuleConfig, description="A person smoking.")
    cooldown_s: float = RULES.field(
        "cooldown_s",
        ge=0.0,
        le=3600.0,
        description="An incident ends this long after its last violation; new people within it join it.",
    )
    update_interval_s: float = RULES.field(
        "update_interval_s",
        ge=0.0,
        le=3600.0,
        description="Least time between two snapshot updates of an event.",
    )


class MotionConfig(Strict):
    """The motion gate in front of inference."""

    LINKS = (MOTION,)

    enabled: bool = MOTION.field("enabled", description="Skip inference on still scenes.")
    pixel_delta: int = MOTION.field(
        "pixel_delta", ge=1, le=255, description="Grey-level change that counts as moving."
    )
    min_changed: Fraction = MOTION.field(
        "min_changed", description="Share of moving pixels that counts as motion."
    )
    force_interval_s: float = MOTION.field(
        "force_interval_s", gt=0.0, le=600.0, description="Detect at least this often even without motion."
    )

    def params(self) -> MotionParams:
        """The motion gate's parameters."""
        return MOTION.build(self)
