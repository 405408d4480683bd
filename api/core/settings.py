"""Settings of the central API, from arguments and the environment (secrets only from the environment)."""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

#: What every variable of the API's settings begins with.
ENV_PREFIX = "SITEWATCH_"


class ApiSettings(BaseSettings):
    """Where the API keeps its data, and how it treats what it keeps.

    Each setting comes from the code that builds it (tests, the all-in-one product) or, through
    :meth:`from_env`, from the environment variable named after it: ``SITEWATCH_`` and the attribute's name
    in capitals (``max_upload_mb``: ``SITEWATCH_MAX_UPLOAD_MB``). An empty variable counts as unset.

    Attributes:
        database_url: SQLAlchemy URL; SQLite in ``data_dir`` by default, ``postgresql+psycopg://...``
            for a central deployment.
        data_dir: evidence files and the default database.
        admin_key: the first admin key (``SITEWATCH_ADMIN_KEY``); without it one is created and printed
            once on first start.
        max_upload_mb: largest accepted evidence file (``SITEWATCH_MAX_UPLOAD_MB``).
        retention_days: evidence older than this is deleted (unless its case is active)
            (``SITEWATCH_RETENTION_DAYS``).
        quota_mb: evidence above this total is deleted, oldest first; ``None``: no quota
            (``SITEWATCH_QUOTA_MB``).
        min_free_mb: the disk space evidence never eats into: below it, the oldest evidence goes, as much as
            makes up the shortfall (``SITEWATCH_MIN_FREE_MB``).
        min_evidence_age_s: evidence younger than this is never deleted for the quota or the free disk
            (``SITEWATCH_MIN_EVIDENCE_AGE_S``).
        s3_bucket: keep evidence in this bucket of an S3-compatible store instead of ``data_dir``
            (``SITEWATCH_S3_BUCKET``); credentials from ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``.
        s3_endpoint: the store's URL, e.g. ``http://minio:9000`` (``SITEWATCH_S3_ENDPOINT``); ``None``: AWS.
        s3_prefix: key prefix inside the bucket (``SITEWATCH_S3_PREFIX``).
        s3_region: region name (``SITEWATCH_S3_REGION``).
        reinspection_hours: how long a camera is watched after a case is reported rectified
            (``SITEWATCH_REINSPECTION_HOURS``).
        public_url: the API's address as receivers of notifications reach it, for evidence links
            (``SITEWATCH_PUBLIC_URL``).
        link_key: the key that signs evidence links (``SITEWATCH_LINK_KEY``); replicas must share it.
            Without it, one is made and kept in ``data_dir/link.key`` (readable by the owner only).
        orphan_min_age_s: evidence files that no database row accounts for (left by a crash) are removed at
            start and hourly once older than this (``SITEWATCH_ORPHAN_MIN_AGE_S``): longer than any upload
            takes from its file's write to its commit.
        key_pepper: what API keys are hashed under (``SITEWATCH_KEY_PEPPER``); replicas must share it.
            Without it, one is made and kept in ``data_dir/key.pepper`` (readable by the owner only).
        key_cache_s: how long a replica trusts an API key it has checked without looking again
            (``SITEWATCH_KEY_CACHE_S``): the longest a key revoked through another replica still works
            there; 0 checks every request.
        false_alarm_days: how long edge boxes suppress what a supervisor marked a false alarm
            (``SITEWATCH_FALSE_ALARM_DAYS``).
        large_uploads: bodies over 1 MiB one process reads at once; more wait up to ``upload_wait_s``, then
            503 (``SITEWATCH_LARGE_UPLOADS``).
        upload_wait_s: how long a large body waits for its turn (``SITEWATCH_UPLOAD_WAIT_S``).
        body_timeout_s: the longest pause while a request body arrives before a 408
            (``SITEWATCH_BODY_TIMEOUT_S``).
        event_silence_min: an open event with no update for this many minutes, whose edge box reported no
            camera health either, is ended by the API (``SITEWATCH_EVENT_SILENCE_MIN``); 0: never.
        map_tiles: the URL template of the district map's tiles, e.g.
            ``https://tiles.example/{z}/{x}/{y}.png`` or ``/tiles/{z}/{x}/{y}.png`` on this server
            (``SITEWATCH_MAP_TILES``); ``None``: the map draws its markers on a plain background, offline.
        map_attribution: the tiles' attribution (``SITEWATCH_MAP_ATTRIBUTION``), shown on the map.
        camera_stale_s: a camera whose edge box last reported its health longer ago than this is shown
            offline everywhere (camera lists, the map, ``/metrics``), whatever it last reported: a box that
            lost power or its network reports nothing at all (``SITEWATCH_CAMERA_STALE_S``).
        fast_close_hours: the district's target for closing a case: the share of closed cases closed within
            it is the fast-close rate, 速办率 (``SITEWATCH_FAST_CLOSE_HOURS``).
        baseline_since: the first day (local) of the period the closed loop's figures are compared with,
            e.g. the year before the service started (``SITEWATCH_BASELINE_SINCE``, ``2025-01-01``).
        baseline_until: its last day, included (``SITEWATCH_BASELINE_UNTIL``); no baseline unless both are
            set.
        live_fps: frames per second an edge box sends of a camera someone watches live
            (``SITEWATCH_LIVE_FPS``).
        live_width: the width in pixels edge boxes scale live frames down to (``SITEWATCH_LIVE_WIDTH``).
        live_viewers: live viewers one camera may have at once; one more is refused, 429
            (``SITEWATCH_LIVE_VIEWERS``).
        live_max_s: the longest one live view lasts, in seconds (``SITEWATCH_LIVE_MAX_S``): a site's uplink
            is paid by the byte, so a view left open ends; the viewer opens it again.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="forbid"
    )

    database_url: str = ""  # made from data_dir when empty (see _default_database)
    data_dir: Path = Path("data")
    admin_key: str | None = None
    max_upload_mb: float = Field(20.0, gt=0)
    retention_days: float = Field(180.0, gt=0)
    quota_mb: float | None = Field(None, gt=0)
    min_free_mb: float = Field(500.0, ge=0)
    min_evidence_age_s: float = Field(3600.0, ge=0)
    s3_bucket: str | None = None
    s3_endpoint: str | None = None
    s3_prefix: str = ""
    s3_region: str | None = None
    reinspection_hours: float = Field(24.0, ge=0)
    public_url: str = "http://127.0.0.1:8000"
    link_key: str | None = None
    key_pepper: str | None = None
    key_cache_s: float = Field(5.0, ge=0)
    false_alarm_days: float = Field(30.0, ge=0)
    orphan_min_age_s: float = Field(900.0, ge=0)
    large_uploads: int = Field(4, ge=1)
    upload_wait_s: float = Field(10.0, ge=0)
    body_timeout_s: float = Field(30.0, gt=0)
    event_silence_min: float = Field(10.0, ge=0)
    map_tiles: str | None = None
    map_attribution: str = ""
    camera_stale_s: float = Field(120.0, gt=0)
    fast_close_hours: float = Field(24.0, gt=0, le=24 * 366)
    baseline_since: date | None = None
    baseline_until: date | None = None
    live_fps: float = Field(2.0, gt=0, le=10)
    live_width: int = Field(640, ge=160, le=1920)
    live_viewers: int = Field(4, ge=1, le=100)
    live_max_s: float = Field(600.0, gt=0)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings built in code are what the code says; only from_env reads the environment, so that a
        # variable left in a test's or a worker's environment never changes another app's settings.
        return (init_settings, env_settings) if _READING_ENV.get() else (init_settings,)

    @model_validator(mode="after")
    def _default_database(self) -> ApiSettings:
        if not self.database_url:  # SQLite in the data folder
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'sitewatch.db'}")
        return self

    @model_validator(mode="after")
    def _baseline(self) -> ApiSettings:
        if (self.baseline_since is None) != (self.baseline_until is None):
            raise ValueError("set both SITEWATCH_BASELINE_SINCE and SITEWATCH_BASELINE_UNTIL, or neither")
        if self.baseline_since and self.baseline_until and self.baseline_until < self.baseline_since:
            raise ValueError("SITEWATCH_BASELINE_UNTIL is before SITEWATCH_BASELINE_SINCE")
        return self

    @field_validator("map_tiles", "map_attribution", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("map_tiles")
    @classmethod
    def _tiles(cls, value: str | None) -> str | None:
        return tile_template(value or None)

    @classmethod
    def from_env(cls, data_dir: Path | None = None, database_url: str | None = None) -> ApiSettings:
        """The defaults, overridden by the environment (``SITEWATCH_<NAME>``), overridden by the arguments.

        Raises:
            ValueError: a value the setting cannot take; the message names the variable and its value.
        """
        given: dict[str, Any] = {
            k: v for k, v in (("data_dir", data_dir), ("database_url", database_url)) if v is not None
        }
        token = _READING_ENV.set(True)
        try:
            return cls(**given)
        except ValidationError as exc:
            raise ValueError("; ".join(_named(error) for error in exc.errors())) from None
        finally:
            _READING_ENV.reset(token)


#: Whether :meth:`ApiSettings.from_env` is building settings (and so reads the environment).
_READING_ENV: ContextVar[bool] = ContextVar("reading_env", default=False)


def _named(error: ErrorDetails) -> str:
    """One problem of the settings in the words of the environment: the variable, its value, what is wrong."""
    field = ".".join(str(part) for part in error["loc"])
    name = f"{ENV_PREFIX}{field.upper()}"
    raw = os.environ.get(name, error.get("input"))
    if error["type"] in ("float_parsing", "int_parsing", "int_from_float"):
        return f"{name}={raw!r} is not a number"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message if message.startswith(name) else f"{name}={raw!r}: {message}"


def tile_template(template: str | None) -> str | None:
    """Check a map tile URL template (``SITEWATCH_MAP_TILES``): ``http(s)://host/...`` or a path on this
    server (``/...``), with ``{z}``, ``{x}`` and ``{y}``; ``{s}`` (subdomains) only as the host's first
    label, so that the page's Content-Security-Policy can admit the host (``*.host``).

    Example:
        >>> tile_template("https://{s}.tiles.example/{z}/{x}/{y}.png")
        'https://{s}.tiles.example/{z}/{x}/{y}.png'

    Raises:
        ValueError: what is wrong with it.
    """
    if template is None:
        return None
    missing = [part for part in ("{z}", "{x}", "{y}") if part not in template]
    if missing:
        raise ValueError(f"SITEWATCH_MAP_TILES={template!r} lacks {', '.join(missing)}")
    if template.startswith("/") and not template.startswith("//"):
        return template
    scheme, _, rest = template.partition("://")
    host = rest.split("/", 1)[0]
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"SITEWATCH_MAP_TILES={template!r} is neither http(s)://host/... nor /path")
    if "{" in host.removeprefix("{s}."):
        raise ValueError(f"SITEWATCH_MAP_TILES={template!r}: only {{s}}. may begin the host name")
    if any(c in host for c in " ;,'\"\\"):  # the host goes into the page's Content-Security-Policy
        raise ValueError(f"SITEWATCH_MAP_TILES={template!r}: a forbidden character in the host name")
    return template
