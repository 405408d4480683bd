"""Delivering one channel's rows of the outbox: leasing the due ones, the rate limit, the backoff of
retries and recording what each receiver answered."""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from alerts.channels import Outcome
from alerts.config import ChannelConfig
from api.models import Case, Delivery, Notification

logger = logging.getLogger(__name__)


class TokenBucket:
    """``per_minute`` sends per minute, in bursts of at most ``per_minute``."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.tokens = float(per_minute)
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take a token: 0.0 if one was free, else the seconds until one will be (nothing taken)."""
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return float((1.0 - self.tokens) / self.rate)


def backoff(attempts: int, first_s: float, cap_s: float) -> float:
    """Delay before attempt ``attempts + 1``: doubling from ``first_s``, capped, with equal jitter.

    Example:
        >>> 4.0 <= backoff(3, 2.0, 600.0) <= 8.0
        True
    """
    delay = min(cap_s, first_s * 2 ** max(0, attempts - 1))
    return float(delay / 2 + random.uniform(0, delay / 2))


def new_delivery(
    notification_id: int, channel: str, order_key: str, body: dict[str, Any], *, due: datetime, now: datetime
) -> Delivery:
    """A pending delivery of one notification to one channel. Its idempotency key names both, so that every
    retry and every replica sends the same key."""
    return Delivery(
        notification_id=notification_id,
        channel=channel,
        order_key=order_key,
        idempotency_key=f"sitewatch-{notification_id}-{channel}",
        body=body,
        status="pending",
        attempts=0,
        next_attempt_at=due,
        created_at=now,
    )


def claim(
    sessions: sessionmaker[Session], name: str, channel: ChannelConfig, *, lease_margin_s: float
) -> list[Delivery]:
    """Lease the due deliveries of channel ``name`` that no earlier pending one of their case or event holds
    back, dropping the ones that expired first; returns the leased rows."""
    now = datetime.now(UTC)
    earlier = aliased(Delivery)
    blocked = exists().where(
        earlier.channel == Delivery.channel,
        earlier.order_key == Delivery.order_key,
        earlier.id < Delivery.id,
        earlier.status == "pending",
    )
    free = or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)
    token = secrets.token_hex(8)
    with sessions() as session:
        if channel.expires_after_s is not None:  # stale on-site warnings are dropped, not played late
            session.execute(
                update(Delivery)
                .where(
                    Delivery.channel == name,
                    Delivery.status == "pending",
                    Delivery.created_at < now - timedelta(seconds=channel.expires_after_s),
                    free,
                )
                .values(status="dropped", last_error="expired before it could be delivered")
            )
        ids = list(
            session.scalars(
                select(Delivery.id)
                .where(
                    Delivery.channel == name,
                    Delivery.status == "pending",
                    Delivery.next_attempt_at <= now,
                )
                .where(free, ~blocked)
                .order_by(Delivery.id)
                .limit(channel.concurrency * 16)
            )
        )
        if not ids:
            session.commit()
            return []
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids), Delivery.status == "pending", free)
            .values(
                lease_token=token,
                lease_until=now + timedelta(seconds=channel.timeout_s + lease_margin_s),
            )
        )
        session.commit()
        return list(
            session.scalars(select(Delivery).where(Delivery.lease_token == token).order_by(Delivery.id))
        )


def record(
    sessions: sessionmaker[Session],
    name: str,
    config: ChannelConfig,
    results: list[tuple[Delivery, Outcome]],
    held: list[tuple[Delivery, float]],
    *,
    also: Callable[[Session], None] | None = None,
) -> tuple[int, int]:
    """Record the outcomes of a channel's sends (``results``) and put the rows held back by its rate limit
    (``held``, with the seconds to wait) off; returns how many were delivered and how many failed.
    ``also`` adds what goes with them to the same transaction (the case history of a call)."""
    delivered = failed = 0
    now = datetime.now(UTC)
    with sessions() as session:
        # Plain successes, the bulk of the traffic, are recorded in one statement per answer.
        plain: dict[str, list[Delivery]] = {}
        for row, outcome in results:
            if outcome.delivered and not outcome.case_number:
                plain.setdefault(outcome.detail, []).append(row)
        for detail, rows in plain.items():
            delivered += len(rows)
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_([r.id for r in rows]), Delivery.lease_token == rows[0].lease_token)
                .values(
                    status="delivered",
                    delivered_at=now,
                    response=detail,
                    attempts=Delivery.attempts + 1,
                    lease_until=None,
                    lease_token=None,
                )
            )
        for row, outcome in results:
            if outcome.delivered and not outcome.case_number:
                continue
            values: dict[str, object] = {
                "lease_until": None,
                "lease_token": None,
                "attempts": row.attempts + 1,
            }
            if outcome.delivered:
                values |= {"status": "delivered", "delivered_at": now, "response": outcome.detail}
                delivered += 1
                assert outcome.case_number is not None
                _keep_case_number(session, row, outcome.case_number)
            else:
                failed += 1
                dead = outcome.permanent or row.attempts + 1 >= config.max_attempts
                values |= {"last_error": outcome.detail}
                if dead:
                    values["status"] = "failed"
                    logger.error(
                        "delivery %d to %s dead-lettered after %d attempts: %s",
                        row.id,
                        name,
                        row.attempts + 1,
                        outcome.detail,
                    )
                else:
                    delay = backoff(row.attempts + 1, config.backoff_s, config.backoff_max_s)
                    values["next_attempt_at"] = now + timedelta(seconds=delay)
                    logger.warning(
                        "delivery %d to %s failed (%s); retry in %.1f s",
                        row.id,
                        name,
                        outcome.detail,
                        delay,
                    )
            # The token guards against recording over a row whose lease ran out and was taken again.
            session.execute(
                update(Delivery)
                .where(Delivery.id == row.id, Delivery.lease_token == row.lease_token)
                .values(values)
            )
        for row, wait in held:  # over the rate limit: not an attempt, just later
            session.execute(
                update(Delivery)
                .where(Delivery.id == row.id, Delivery.lease_token == row.lease_token)
                .values(lease_until=None, lease_token=None, next_attempt_at=now + timedelta(seconds=wait))
            )
        if also is not None:
            also(session)
        session.commit()
    return delivered, failed


def _keep_case_number(session: Session, row: Delivery, number: str) -> None:
    notification = session.get(Notification, row.notification_id)
    if notification is None or notification.case_id is None:
        return
    session.execute(
        update(Case)
        .where(and_(Case.id == notification.case_id, Case.external_id.is_(None)))
        .values(external_id=number)
    )
