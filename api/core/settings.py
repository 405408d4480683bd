"""Settings of the central API, from arguments and the environment (secrets only from the environment)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Where the API keeps its data.

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
    """

    database_url: str
    data_dir: Path
    admin_key: str | None = None
    max_upload_mb: float = 20.0
    retention_days: float = 180.0
    quota_mb: float | None = None
    min_free_mb: float = 500.0
    min_evidence_age_s: float = 3600.0
    s3_bucket: str | None = None
    s3_endpoint: str | None = None
    s3_prefix: str = ""
    s3_region: str | None = None
    reinspection_hours: float = 24.0
    public_url: str = "http://127.0.0.1:8000"
    link_key: str | None = None
    key_pepper: str | None = None
    key_cache_s: float = 5.0
    false_alarm_days: float = 30.0
    orphan_min_age_s: float = 900.0
    large_uploads: int = 4
    upload_wait_s: float = 10.0
    body_timeout_s: float = 30.0
    event_silence_min: float = 10.0
    map_tiles: str | None = None
    map_attribution: str = ""

    @classmethod
    def from_env(cls, data_dir: Path | None = None, database_url: str | None = None) -> ApiSettings:
        """Defaults, overridden by the environment.

        Reads ``SITEWATCH_DATA_DIR``, ``SITEWATCH_DATABASE_URL``, ``SITEWATCH_ADMIN_KEY``, the
        ``SITEWATCH_S3_*`` variables and those named with each attribute.

        Raises:
            ValueError: a number that is not one, or a tile template that is not one (the message names
                the variable).
        """
        folder = data_dir or Path(os.environ.get("SITEWATCH_DATA_DIR", "data"))
        url = (
            database_url or os.environ.get("SITEWATCH_DATABASE_URL") or f"sqlite:///{folder / 'sitewatch.db'}"
        )
        env = os.environ

        def number(name: str, default: float) -> float:
            raw = env.get(name, "").strip()
            try:
                return float(raw) if raw else default
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a number") from None

        quota = env.get("SITEWATCH_QUOTA_MB", "").strip()
        return cls(
            database_url=url,
            data_dir=folder,
            admin_key=env.get("SITEWATCH_ADMIN_KEY") or None,
            max_upload_mb=number("SITEWATCH_MAX_UPLOAD_MB", 20.0),
            retention_days=number("SITEWATCH_RETENTION_DAYS", 180.0),
            quota_mb=number("SITEWATCH_QUOTA_MB", 0.0) if quota else None,
            min_free_mb=number("SITEWATCH_MIN_FREE_MB", 500.0),
            min_evidence_age_s=number("SITEWATCH_MIN_EVIDENCE_AGE_S", 3600.0),
            s3_bucket=env.get("SITEWATCH_S3_BUCKET") or None,
            s3_endpoint=env.get("SITEWATCH_S3_ENDPOINT") or None,
            s3_prefix=env.get("SITEWATCH_S3_PREFIX", ""),
            s3_region=env.get("SITEWATCH_S3_REGION") or None,
            reinspection_hours=float(env.get("SITEWATCH_REINSPECTION_HOURS", "24")),
            public_url=env.get("SITEWATCH_PUBLIC_URL", "http://127.0.0.1:8000"),
            link_key=env.get("SITEWATCH_LINK_KEY") or None,
            key_pepper=env.get("SITEWATCH_KEY_PEPPER") or None,
            key_cache_s=float(env.get("SITEWATCH_KEY_CACHE_S", "5")),
            false_alarm_days=number("SITEWATCH_FALSE_ALARM_DAYS", 30.0),
            orphan_min_age_s=number("SITEWATCH_ORPHAN_MIN_AGE_S", 900.0),
            large_uploads=max(1, int(number("SITEWATCH_LARGE_UPLOADS", 4))),
            upload_wait_s=number("SITEWATCH_UPLOAD_WAIT_S", 10.0),
            body_timeout_s=number("SITEWATCH_BODY_TIMEOUT_S", 30.0),
            event_silence_min=number("SITEWATCH_EVENT_SILENCE_MIN", 10.0),
            map_tiles=tile_template(env.get("SITEWATCH_MAP_TILES", "").strip() or None),
            map_attribution=env.get("SITEWATCH_MAP_ATTRIBUTION", "").strip(),
        )


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
