"""The tables of what goes out: notifications (the outbox), their deliveries to channels, generated briefs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base


class Notification(Base):
    """Something integrations may want to hear of (a case opened or moved, an event started, ended or was
    confirmed), written in the same transaction as the change itself: the outbox.

    The dispatcher routes each one to its channels (one :class:`Delivery` each) and marks it routed.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(32))  # case.created | case.updated | event.started | ...
    site_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    camera_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    routed: Mapped[bool] = mapped_column(default=False, index=True)


class Delivery(Base):
    """One notification to one channel, with its rendered body, retried until delivered or dead."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    order_key: Mapped[str] = mapped_column(String(80))  # deliveries of one key go out in order
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|failed|dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]  # a dispatcher holds the row until then
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_order", "channel", "order_key", "status"),
    )


class Brief(Base):
    """A brief generated on a schedule: kept as evidence files, sent once per period, scope and language."""

    __tablename__ = "briefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    period: Mapped[str] = mapped_column(String(8))  # 2026-W48 | 2026-11
    scope: Mapped[str] = mapped_column(String(64))  # a site id, or * for the district
    lang: Mapped[str] = mapped_column(String(2))
    html_sha256: Mapped[str] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]

    __table_args__ = (Index("ux_briefs_once", "period", "scope", "lang", unique=True),)
