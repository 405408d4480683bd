"""The configuration contract: pydantic models that forbid unknown keys and document every field.

Load a file with :func:`load_config`; errors name the file, the line and the key path. Secrets are
written as ``${ENV_VAR}`` placeholders and filled from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationError

from alerts.config import AlertsConfig
from detector.engine import EngineSettings
from detector.faces import FaceSettings
from detector.kinds import KindName
from sitewatch.config.detection import (
    BACKEND,
    BANDS,
    DECODE,
    FACE,
    HEADS,
    MODELS,
    SMOKING,
    VESTS,
    ZOOM,
    AssociationConfig,
    DetectConfig,
    FaceConfig,
    HeadsConfig,
    ModelsConfig,
    RuntimeConfig,
    SmokingConfig,
    VestsConfig,
    ZoomConfig,
)
from sitewatch.config.links import Strict
from sitewatch.config.services import (
    CasePolicyConfig,
    FalseAlarmsConfig,
    OfficersConfig,
    SinkConfig,
    WorkerConfig,
)
from sitewatch.config.watching import CameraConfig, MotionConfig, RulesConfig, ScheduleConfig, SiteConfig
from sitewatch.yamlpos import ConfigError, LocatedYaml, load_yaml, load_yaml_file


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
    heads: HeadsConfig = Field(default_factory=HeadsConfig, description="Head classifier.")
    vests: VestsConfig = Field(default_factory=VestsConfig, description="Torso classifier.")
    zoom: ZoomConfig = Field(default_factory=ZoomConfig, description="Zoomed look at flagged bare heads.")
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
        return MODELS.build(
            self.models,
            backend=BACKEND.build(self.runtime),
            ppe=DECODE.build(self.detect),
            bands=BANDS.build(self.association),
            smoking=SMOKING.build(self.smoking),
            heads=HEADS.build(self.heads),
            vests=VESTS.build(self.vests),
            zoom=ZOOM.build(self.zoom),
        )

    def face_settings(self) -> FaceSettings:
        """The face models' settings from this configuration."""
        return FACE.build(self.face)


#: Keys that an earlier release read, and what a configuration says instead now.
RENAMED_KEYS: dict[tuple[str, ...], str] = {
    ("smoking", "recheck_frames"): "replaced by smoking.recheck_s, in seconds (15 frames at 5 fps is 3.0)",
}


def _format_errors(exc: ValidationError, doc: LocatedYaml) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = doc.line_of(loc)
        where = f"{doc.source}:{line}" if line is not None else doc.source
        key = ".".join(str(part) for part in loc) or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = RENAMED_KEYS.get(tuple(str(part) for part in loc), "unknown key")
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


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, fill and validate the configuration file at ``path``; its ``${VAR}`` placeholders are filled
    from ``env`` (the process environment by default).

    Example:
        >>> load_config(Path("configs/demo.yaml")).site.id
        'demo'
    """
    return parse_config(load_yaml_file(path, env))


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
