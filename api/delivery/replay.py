"""Deliveries as admins see them, the dead letters among them, and their replay (one transaction that it
commits)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.core.errors import ConflictError
from api.delivery.dispatcher import Dispatcher
from api.delivery.schemas import DeliveryPublic
from api.models import Delivery


def list_deliveries(
    session: Session, *, status: str | None = None, channel: str | None = None, limit: int = 100
) -> list[DeliveryPublic]:
    """Deliveries newest first, filtered by status (``failed``: the dead letters) and channel."""
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Delivery.status == status)
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    return [DeliveryPublic.model_validate(row) for row in session.scalars(query)]


def replay(
    session: Session, *, principal: Principal, delivery: Delivery, dispatcher: Dispatcher | None = None
) -> DeliveryPublic:
    """Send a dead-lettered (or dropped) ``delivery`` again, with the same body and idempotency key;
    audited, then ``dispatcher`` (when the app runs one) is woken to send it now.

    Raises:
        ConflictError: the delivery is neither failed nor dropped.
    """
    if delivery.status not in ("failed", "dropped"):
        raise ConflictError(f"delivery {delivery.id} is {delivery.status}, not failed")
    delivery.status, delivery.attempts = "pending", 0
    delivery.next_attempt_at, delivery.created_at = datetime.now(UTC), datetime.now(UTC)
    delivery.lease_until = delivery.lease_token = None
    audit(session, actor=principal.name, action="replay_delivery", target=f"delivery:{delivery.id}")
    session.commit()
    if dispatcher is not None:
        dispatcher.wake()
    return DeliveryPublic.model_validate(delivery)
