"""What operators read: the API's health."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    """``/healthz``."""

    status: Literal["ok", "degraded"]
    database: bool
    storage_writable: bool
    disk_free_mb: float | None
    problems: list[str] = Field(default_factory=list, description="What makes the API degraded.")
