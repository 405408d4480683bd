"""What operators read: the API's health and the deliveries of notifications to channels."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    """``/healthz``."""

    status: Literal["ok", "degraded"]
    database: bool
    storage_writable: bool
    disk_free_mb: float | None
    problems: list[str] = Field(default_factory=list, description="What makes the API degraded.")


class DeliveryPublic(BaseModel):
    """One notification's delivery to one channel."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    notification_id: int
    channel: str
    status: str
    attempts: int
    idempotency_key: str
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    response: str | None
