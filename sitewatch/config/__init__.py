"""The configuration contract: pydantic models that forbid unknown keys and document every field.

Load a file with :func:`load_config`; errors name the file, the line and the key path. Secrets are
written as ``${ENV_VAR}`` placeholders and filled from the environment. The sections take their
defaults from the library's parameters and build them (:mod:`sitewatch.config.links`):

- :mod:`sitewatch.config.detection`: models, runtime, detect, association, smoking, face;
- :mod:`sitewatch.config.watching`: site, cameras, schedule, rules, motion;
- :mod:`sitewatch.config.services`: officers, false alarms, sink, worker, case policies;
- :mod:`sitewatch.config.load`: the whole file, and reading it.
"""

from sitewatch.config.detection import (
    AssociationConfig,
    DetectConfig,
    FaceConfig,
    ModelsConfig,
    RuntimeConfig,
    SmokingConfig,
)
from sitewatch.config.links import Fraction, Link, Strict
from sitewatch.config.load import (
    CentralConfig,
    Config,
    config_from_text,
    load_central_config,
    load_config,
    parse_config,
)
from sitewatch.config.services import (
    CasePolicyConfig,
    FalseAlarmsConfig,
    OfficersConfig,
    SinkConfig,
    WorkerConfig,
)
from sitewatch.config.watching import (
    ArmedMode,
    CameraConfig,
    Day,
    MotionConfig,
    PersistenceConfig,
    RuleConfig,
    RulesConfig,
    ScheduleConfig,
    SiteConfig,
)

__all__ = [
    "ArmedMode",
    "AssociationConfig",
    "CameraConfig",
    "CasePolicyConfig",
    "CentralConfig",
    "Config",
    "Day",
    "DetectConfig",
    "FaceConfig",
    "FalseAlarmsConfig",
    "Fraction",
    "Link",
    "ModelsConfig",
    "MotionConfig",
    "OfficersConfig",
    "PersistenceConfig",
    "RuleConfig",
    "RulesConfig",
    "RuntimeConfig",
    "ScheduleConfig",
    "SinkConfig",
    "SiteConfig",
    "SmokingConfig",
    "Strict",
    "WorkerConfig",
    "config_from_text",
    "load_central_config",
    "load_config",
    "parse_config",
]
