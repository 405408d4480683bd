"""What the deliveries' routes answer: one notification's delivery to one channel."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


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
