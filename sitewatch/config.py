"""The configuration contract: pydantic models that forbid unknown keys and document every field.

Load a file with :func:`load_config`; errors name the file, the line and the key path. Secrets are
written as ``${ENV_VAR}`` placeholders and filled from the environment.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from alerts.config import AlertsConfig
from detector.backend import BackendOptions
from detector.decode import DecodeParams
from detector.engine import EngineSettings
from detector.faces import FaceSettings
from detector.kinds import KindName
from detector.ppe import Bands
from detector.smoking import SmokingParams
from sitewatch.yamlpos import ConfigError, LocatedYaml, load_yaml, load_yaml_file
from streams.sources import url_problem

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    """Base of every configuration section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteConfig(Strict):
    """The site this box watches."""

    id: str = Field(
        description="Short identifier of the site, used in events and the API.",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
    )
    name: str = Field(default="", description="Human-readable site name.", max_length=200)
    timezone: str = Field(default="UTC", description="IANA time zone of the site, e.g. Asia/Shanghai.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class ModelsConfig(Strict):
    """Where the model files are."""

    dir: Path | None = Field(
        default=None, description="Folder of the model files; the repository's models/ when empty."
    )
    ppe: str = Field(
        default="ppe",
        description="PPE detector: alias 'ppe', 'ppe-int8' (see models/README.md), an .onnx or .pt path.",
    )
    smoking: str | None = Field(
        default="smoking", description="Cigarette detector (alias, path), or null to disable smoking checks."
    )


class RuntimeConfig(Strict):
    """How models run."""

    providers: list[str] = Field(
        default_factory=lambda: ["cpu"],
        description="onnxruntime execution providers in order of preference: cpu, cuda, tensorrt, openvino.",
        min_length=1,
    )
    intra_op_threads: int = Field(
        default=0, ge=0, le=256, description="Threads per operator; 0 = one per core."
    )
    inter_op_threads: int = Field(default=0, ge=0, le=256, description="Threads across operators; 0 = auto.")
    device: str = Field(default="cpu", description="Device for .pt models on ultralytics: cpu, 0, 1...")
    spin: bool = Field(
        default=True,
        description="Let idle onnxruntime threads spin-wait (faster; off gives CPU to capture threads).",
    )
    backend: Literal["onnxruntime", "openvino"] = Field(
        default="onnxruntime",
        description="What runs the .onnx models: onnxruntime (with `providers`), or OpenVINO on the CPU "
        "(pip install 'sitewatch[openvino]'; `intra_op_threads` sets its threads).",
    )


class DetectConfig(Strict):
    """Thresholds of the PPE detector."""

    conf: float = Field(default=0.35, gt=0.0, lt=1.0, description="Minimum box score.")
    iou: float = Field(default=0.6, gt=0.0, le=1.0, description="NMS IoU threshold (class-aware).")
    max_det: int = Field(default=100, ge=1, le=1000, description="Most boxes kept per frame.")


class AssociationConfig(Strict):
    """How helmet and vest boxes are matched to people (fractions of the person box height)."""

    head_band: tuple[float, float] = Field(
        default=(-0.15, 0.35), description="Top and bottom of the head band (may start above the box)."
    )
    torso_band: tuple[float, float] = Field(
        default=(0.1, 0.75), description="Top and bottom of the torso band."
    )
    side_margin: Fraction = Field(default=0.1, description="Band widening on each side, fraction of width.")
    min_cover: Fraction = Field(default=0.5, description="Share of an item's area that must lie in the band.")

    @field_validator("head_band", "torso_band")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        top, bottom = value
        if not (-0.5 <= top < bottom <= 1.0):
            raise ValueError("expected [top, bottom] with -0.5 <= top < bottom <= 1")
        return value


class SmokingConfig(Strict):
    """The cigarette check on upper-body crops."""

    conf: float = Field(
        default=0.55,
        gt=0.0,
        lt=1.0,
        description="Minimum cigarette score (0.55: about 2 % of crops of non-smokers fire).",
    )
    recheck_frames: int = Field(
        default=15,
        ge=1,
        le=1000,
        description="Check each tracked person at most once every N frames (15: every 3 s at 5 fps).",
    )
    max_crops_per_frame: int = Field(default=1, ge=1, le=64, description="Most crops checked on one frame.")
    min_crop_px: int = Field(default=48, ge=8, le=1024, description="Skip people whose crop is smaller.")


class FaceConfig(Strict):
    """Face models for recognising the safety officer."""

    detector: str = Field(default="face-det", description="Face detector ONNX (SCRFD, or a YuNet file).")
    recognizer: str = Field(default="face-rec", description="ArcFace-style recogniser ONNX.")
    pack: Path | None = Field(
        default=None, description="An insightface model pack folder; replaces both files."
    )
    det_size: int = Field(default=640, ge=128, le=1920, description="Detector input size in pixels.")
    det_threshold: float = Field(default=0.5, gt=0.0, lt=1.0, description="Minimum face score.")
    match_threshold: float = Field(
        default=0.42, gt=0.0, lt=1.0, description="Smallest cosine similarity that names a face."
    )
    min_face_px: int = Field(
        default=40, ge=16, le=1024, description="Faces smaller than this are not recognised."
    )


class CameraConfig(Strict):
    """One camera."""

    url: str = Field(description="rtsp:// URL, a video file path or a USB device index.", min_length=1)
    name: str = Field(default="", description="Human-readable camera name.", max_length=200)
    enabled: bool = Field(default=True, description="Set false to keep the camera configured but unwatched.")
    detect_fps: float = Field(
        default=5.0, gt=0.0, le=30.0, description="Frames per second sent to detection."
    )
    loop: bool = Field(default=False, description="Restart a video file at its end (demo, benchmarks).")
    zones: list[Annotated[list[tuple[Fraction, Fraction]], Field(min_length=3)]] = Field(
        default_factory=list,
        description="Polygons in relative coordinates (0-1, x then y); rules apply to people whose feet are "
        "inside one, or everywhere when empty.",
    )
    offline_after_s: float = Field(
        default=60.0, ge=1.0, le=86400.0, description="Offline this long raises camera_offline."
    )

    @field_validator("url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem is not None:  # the message never quotes the URL: it may hold a password
            raise ValueError(problem)
        return value


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ArmedMode = Literal["working_hours", "off_hours", "always"]
WORKDAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat")


class ScheduleConfig(Strict):
    """Working hours, in the site's time zone."""

    days: list[Day] = Field(default_factory=lambda: list(WORKDAYS), description="Working days.")
    start: time = Field(default=time(8, 0), description="Start of the working day, HH:MM local time.")
    end: time = Field(
        default=time(18, 0), description="End of the working day; earlier than start for a night shift."
    )

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

    k: int = Field(default=3, ge=1, le=100, description="Violating in at least k ...")
    n: int = Field(default=5, ge=1, le=100, description="... of the person's last n observations.")
    min_duration_s: float = Field(default=2.0, ge=0.0, le=600.0, description="And for at least this long.")

    @model_validator(mode="after")
    def _k_le_n(self) -> PersistenceConfig:
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) must not exceed n ({self.n})")
        return self


class RuleConfig(Strict):
    """One violation rule."""

    enabled: bool = Field(default=True, description="Watch for this violation at all.")
    armed: ArmedMode = Field(
        default="working_hours", description="When it raises events: working_hours, off_hours or always."
    )
    persistence: PersistenceConfig = Field(default_factory=PersistenceConfig, description="Debouncing.")


def _smoking_rule() -> RuleConfig:
    # A person is checked for smoking only every few seconds, so fewer observations must agree.
    return RuleConfig(persistence=PersistenceConfig(k=2, n=3, min_duration_s=0.0))


class RulesConfig(Strict):
    """The rules and how incidents are merged."""

    no_helmet: RuleConfig = Field(default_factory=RuleConfig, description="A person without a hard hat.")
    no_vest: RuleConfig = Field(default_factory=RuleConfig, description="A person without a hi-vis vest.")
    smoking: RuleConfig = Field(default_factory=_smoking_rule, description="A person smoking.")
    cooldown_s: float = Field(
        default=30.0,
        ge=0.0,
        le=3600.0,
        description="An incident ends this long after its last violation; new people within it join it.",
    )
    update_interval_s: float = Field(
        default=5.0, ge=0.0, le=3600.0, description="Least time between two snapshot updates of an event."
    )


class MotionConfig(Strict):
    """The motion gate in front of inference."""

    enabled: bool = Field(default=True, description="Skip inference on still scenes.")
    pixel_delta: int = Field(default=12, ge=1, le=255, description="Grey-level change that counts as moving.")
    min_changed: Fraction = Field(default=0.002, description="Share of moving pixels that counts as motion.")
    force_interval_s: float = Field(
        default=3.0, gt=0.0, le=600.0, description="Detect at least this often even without motion."
    )


class OfficersConfig(Strict):
    """Recognising the site's safety officers."""

    gallery: Path | None = Field(
        default=None, description="Gallery file of enrolled officers (sitewatch faces enroll); none: off."
    )
    from_api: bool = Field(
        default=False,
        description="Take the gallery from the API (officers enrolled there, refreshed every refresh_min) "
        "and report sightings to it; `sitewatch worker` needs sink.type http for this.",
    )
    refresh_min: float = Field(default=5.0, gt=0.0, le=1440.0, description="Gallery refresh period.")
    absent_after_min: float = Field(
        default=30.0,
        gt=0.0,
        le=1440.0,
        description="No officer seen this long in working hours: officer_absent.",
    )
    attempts: int = Field(default=4, ge=1, le=50, description="Face attempts per person track.")
    agree: int = Field(default=2, ge=1, le=50, description="Attempts that must name the same officer.")


class FalseAlarmsConfig(Strict):
    """The false-alarm memory: detections supervisors rejected are suppressed at their camera."""

    enabled: bool = Field(
        default=True,
        description="Fetch the site's false-alarm memory from the API (sink.type http) and suppress "
        "detections matching it.",
    )
    iou: float = Field(
        default=0.5,
        gt=0.0,
        le=1.0,
        description="Least overlap (IoU) of a person's box with a remembered one.",
    )
    similarity: float = Field(
        default=0.8, gt=0.0, le=1.0, description="Least likeness (0..1) of the person crop's colours to it."
    )
    refresh_min: float = Field(default=1.0, gt=0.0, le=1440.0, description="Memory refresh period.")


class SinkConfig(Strict):
    """Where the worker sends events."""

    type: Literal["memory", "http"] = Field(
        default="memory", description="memory: in-process (sitewatch run); http: the central API."
    )
    url: str | None = Field(default=None, description="Central API base URL, for type http.")
    api_key: str | None = Field(default=None, description="The edge key; write it as ${SITEWATCH_EDGE_KEY}.")
    outbox: Path | None = Field(
        default=None, description="Outbox database; data_dir/outbox.sqlite by default."
    )
    retry_max_s: float = Field(default=60.0, gt=0.0, le=3600.0, description="Cap of the retry backoff.")

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

    queue_size: int = Field(default=4, ge=1, le=256, description="Frames waiting for inference at most.")
    batch_size: int = Field(default=4, ge=1, le=64, description="Frames of several cameras per engine call.")
    jpeg_quality: int = Field(default=85, ge=30, le=100, description="Quality of evidence snapshots.")
    clip_seconds: float = Field(
        default=10.0,
        ge=0.0,
        le=60.0,
        description="Length of the MP4 clip (the seconds before it) sent with a violation's start; 0: none.",
    )
    clip_max_mb: float = Field(
        default=60.0, ge=1.0, le=1024.0, description="Most memory each camera's clip frames may take."
    )


class CasePolicyConfig(Strict):
    """When the central API opens a case for a kind of event on this site."""

    trigger: Literal["on_start", "on_confirm", "never"] = Field(
        description="on_start: at once; on_confirm: when a supervisor confirms the event; never."
    )
    deadline_hours: float = Field(default=24.0, gt=0, le=24 * 90, description="Time to rectify.")


class Config(Strict):
    """A sitewatch configuration file."""

    site: SiteConfig = Field(description="The site this box watches.")
    models: ModelsConfig = Field(default_factory=ModelsConfig, description="Model files.")
    runtime: RuntimeConfig = Field(
        default_factory=RuntimeConfig, description="Execution providers and threads."
    )
    detect: DetectConfig = Field(default_factory=DetectConfig, description="PPE detector thresholds.")
    association: AssociationConfig = Field(default_factory=AssociationConfig, description="PPE to people.")
    smoking: SmokingConfig = Field(default_factory=SmokingConfig, description="Smoking check.")
    face: FaceConfig = Field(default_factory=FaceConfig, description="Face recognition models.")
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig, description="Working hours.")
    rules: RulesConfig = Field(default_factory=RulesConfig, description="Violation rules.")
    motion: MotionConfig = Field(default_factory=MotionConfig, description="Motion gate.")
    officers: OfficersConfig = Field(default_factory=OfficersConfig, description="Officer presence.")
    false_alarms: FalseAlarmsConfig = Field(
        default_factory=FalseAlarmsConfig, description="Suppressing what supervisors marked false alarms."
    )
    sink: SinkConfig = Field(default_factory=SinkConfig, description="Where events go.")
    worker: WorkerConfig = Field(default_factory=WorkerConfig, description="Worker queues and evidence.")
    case_policies: dict[KindName, CasePolicyConfig] = Field(
        default_factory=dict, description="Case policies `sitewatch run` sets for this site."
    )
    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig, description="Notification channels and routes (`sitewatch run`)."
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("SITEWATCH_DATA_DIR") or "data"),
        description="Folder for the outbox and local evidence (sitewatch run: the API's database too); "
        "$SITEWATCH_DATA_DIR, else ./data, when not set here.",
    )
    cameras: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)], CameraConfig] = Field(
        default_factory=dict, description="Cameras by id."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")

    def engine_settings(self) -> EngineSettings:
        """The detection engine's settings from this configuration."""
        return EngineSettings(
            ppe_model=self.models.ppe,
            smoking_model=self.models.smoking,
            models_dir=self.models.dir,
            backend=BackendOptions(
                providers=tuple(self.runtime.providers),
                intra_op_threads=self.runtime.intra_op_threads,
                inter_op_threads=self.runtime.inter_op_threads,
                device=self.runtime.device,
                spin=self.runtime.spin,
                runtime=self.runtime.backend,
            ),
            ppe=DecodeParams(conf=self.detect.conf, iou=self.detect.iou, max_det=self.detect.max_det),
            bands=Bands(
                head=self.association.head_band,
                torso=self.association.torso_band,
                side_margin=self.association.side_margin,
                min_cover=self.association.min_cover,
            ),
            smoking=SmokingParams(conf=self.smoking.conf, min_crop_px=self.smoking.min_crop_px),
        )

    def face_settings(self) -> FaceSettings:
        """The face models' settings from this configuration."""
        return FaceSettings(
            detector=self.face.detector,
            recognizer=self.face.recognizer,
            pack=self.face.pack,
            det_size=(self.face.det_size, self.face.det_size),
            det_threshold=self.face.det_threshold,
        )


def _format_errors(exc: ValidationError, doc: LocatedYaml) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = doc.line_of(loc)
        where = f"{doc.source}:{line}" if line is not None else doc.source
        key = ".".join(str(part) for part in loc) or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{where}: {key}: {message}")
    return "\n".join(lines)


def parse_config(doc: LocatedYaml) -> Config:
    """Validate parsed YAML as a :class:`Config`.

    Raises:
        ConfigError: one line per problem, ``file:line: key.path: message``.
    """
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{doc.source}:1: the configuration must be a mapping of keys")
    try:
        return Config.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, doc)) from None


def load_config(path: Path) -> Config:
    """Read, fill and validate the configuration file at ``path``.

    Example:
        >>> load_config(Path("configs/demo.yaml")).site.id
        'demo'
    """
    return parse_config(load_yaml_file(path))


def config_from_text(text: str, source: str = "<config>") -> Config:
    """Validate a configuration given as YAML text (tests and the API use it)."""
    return parse_config(load_yaml(text, source))


class CentralConfig(Strict):
    """The configuration of ``sitewatch api --config FILE``: the central API's notifications. A site's
    configuration file is accepted too; only its ``alerts`` section counts here."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    alerts: AlertsConfig = Field(
        default_factory=AlertsConfig, description="Notification channels and routes."
    )


def load_central_config(path: Path) -> CentralConfig:
    """Read and validate the central API's configuration file.

    Raises:
        ConfigError: one line per problem, ``file:line: key.path: message``.
    """
    doc = load_yaml_file(path)
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{doc.source}:1: the configuration must be a mapping of keys")
    try:
        return CentralConfig.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, doc)) from None
