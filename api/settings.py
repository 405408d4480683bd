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
        max_upload_mb: largest accepted evidence file.
        retention_days: evidence older than this is deleted (unless its case is active).
        quota_mb: evidence above this total is deleted, oldest first; ``None``: no quota.
        min_free_mb: the disk space evidence never eats into.
    """

    database_url: str
    data_dir: Path
    admin_key: str | None = None
    max_upload_mb: float = 20.0
    retention_days: float = 180.0
    quota_mb: float | None = None
    min_free_mb: float = 500.0

    @classmethod
    def from_env(cls, data_dir: Path | None = None, database_url: str | None = None) -> ApiSettings:
        """Defaults, overridden by the environment.

        Reads ``SITEWATCH_DATA_DIR``, ``SITEWATCH_DATABASE_URL`` and ``SITEWATCH_ADMIN_KEY``.
        """
        folder = data_dir or Path(os.environ.get("SITEWATCH_DATA_DIR", "data"))
        url = (
            database_url or os.environ.get("SITEWATCH_DATABASE_URL") or f"sqlite:///{folder / 'sitewatch.db'}"
        )
        return cls(database_url=url, data_dir=folder, admin_key=os.environ.get("SITEWATCH_ADMIN_KEY") or None)
