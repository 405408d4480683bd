"""The dispatcher: routes outbox notifications to channels and delivers them with retries.

Guarantees:

- **Nothing lost.** Notifications are committed with their change; routing writes every delivery and
  marks the notification routed in one transaction; a delivery stays ``pending`` until a receiver took it.
- **At least once, deduplicated by the receiver.** A dispatcher leases the rows it sends; one that dies
  between sending and recording leaves the lease to expire, and the row is sent again with the same
  ``Idempotency-Key``. Several dispatchers (API replicas) never hold the same row at once.
- **In order per case.** A delivery is not sent while an earlier one of the same channel and case (or
  event) is still pending; a dead-lettered one no longer holds the others back.
- **Bounded.** Per channel: requests in flight, timeout, rate per minute; exponential backoff with jitter;
  dead letter after ``max_attempts`` (``failed``), replayable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Channel, Outcome
from alerts.config import ALIYUN_TYPES, AlertsConfig, RouteConfig
from alerts.factory import make_channel
from api.core.secretkeys import data_keys
from api.delivery import contacts
from api.delivery.attempts import TokenBucket, claim, new_delivery, record
from api.http.services import Slot
from api.models import Case, Delivery, Event, Notification
from api.notifications.notices import build_notice
from api.projects.service import decrypt_phone

logger = logging.getLogger(__name__)

#: ``(sha256, ttl seconds) -> URL`` of a signed evidence link.
LinkMaker = Callable[[str, float], str]
#: The PostgreSQL advisory lock that dispatchers take turns routing under (any fixed number of our own).
ROUTING_LOCK = 0x5177_0001


def quiet_until(route: RouteConfig, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The end of the route's quiet hours if ``now`` falls inside them, else ``None``."""
    quiet = route.quiet_hours
    if quiet is None:
        return None
    local = now.astimezone(zone)
    if not quiet.contains(local.time()):
        return None
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)


class Dispatcher:
    """Delivers the outbox of one database to the configured channels, in a background thread.

    Args:
        sessions: the API's session factory.
        config: channels and routes.
        links: makes signed evidence links.
        lease_margin_s: how long past a channel's timeout a claimed row stays leased.
        lock: held while routing, the busiest writes (:func:`api.core.db.writer_lock`); none by default.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: AlertsConfig,
        *,
        links: LinkMaker,
        lease_margin_s: float = 5.0,
        lock: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.sessions = sessions
        self.lock = lock
        self.config = config
        self.links = links
        self.lease_margin_s = lease_margin_s
        self.zone = ZoneInfo(config.timezone)
        reveal = partial(decrypt_phone, key=data_keys(sessions).pii)  # phone numbers read just in time
        self.channels: dict[str, Channel] = {
            name: make_channel(name, channel, self.zone, reveal=reveal)
            for name, channel in config.channels.items()
        }
        self.buckets = {
            name: TokenBucket(c.per_minute) for name, c in config.channels.items() if c.per_minute is not None
        }
        self.limits = {name: threading.Semaphore(c.concurrency) for name, c in config.channels.items()}
        workers = min(64, max(1, sum(c.concurrency for c in config.channels.values())))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="deliver")
        self._client = httpx.Client(limits=httpx.Limits(max_connections=workers * 2))
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.failed = 0

    # -- the loop ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Run in a background thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for work now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the pass in progress and stop; pending rows wait for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._pool.shutdown(wait=True)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a database hiccup must not end deliveries; the next pass retries
                logger.exception("dispatcher pass failed")
                busy = 0
            if not busy:
                self._wake.wait(self.config.poll_s)
                self._wake.clear()

    def run_once(self) -> int:
        """One pass: route new notifications, send what is due. Returns the number of rows routed or sent."""
        routed = self.route()
        sent = sum(self.deliver(name) for name in self.channels)
        return routed + sent

    # -- routing ----------------------------------------------------------------------------------------

    def route(self, batch: int = 200) -> int:
        """Turn unrouted notifications into deliveries, one per matching channel."""
        with self.lock(), self.sessions() as session:
            if not self._route_turn(session):
                return 0
            notifications = list(
                session.scalars(
                    select(Notification)
                    .where(Notification.routed.is_(False))
                    .order_by(Notification.id)
                    .limit(batch)
                )
            )
            if not notifications:
                return 0
            now = datetime.now(UTC)
            # Most notifications match no route (kinds nobody subscribed to): only those that do are
            # rendered, and all are marked routed in one statement.
            targeted = [(n, targets) for n in notifications if (targets := self._targets(n, now))]
            # Load the events and cases to render in two queries; the notices then find them in the session.
            event_ids = {n.event_id for n, _ in targeted if n.event_id is not None}
            case_ids = {n.case_id for n, _ in targeted if n.case_id is not None}
            if event_ids:
                list(session.scalars(select(Event).where(Event.id.in_(event_ids))))
            if case_ids:
                list(session.scalars(select(Case).where(Case.id.in_(case_ids))))
            for notification, targets in targeted:
                self._add_deliveries(session, notification, targets, now)
            session.execute(
                update(Notification)
                .where(Notification.id.in_([n.id for n in notifications]))
                .values(routed=True)
                .execution_options(synchronize_session=False)
            )
            try:
                session.commit()
            except IntegrityError:  # another dispatcher routed the same rows first
                session.rollback()
                return 0
            return len(notifications)

    @staticmethod
    def _route_turn(session: Session) -> bool:
        """Whether this dispatcher may route now. On PostgreSQL, replicas take turns through an advisory lock
        held until the transaction ends: the others skip routing rather than route the same rows again
        (which would cost double and end in a rolled-back conflict). Routing stays serial, which keeps the
        deliveries of a case in the order of its notifications."""
        if session.get_bind().dialect.name != "postgresql":
            return True  # SQLite: the writer lock lets one in at a time
        return bool(session.scalar(select(func.pg_try_advisory_xact_lock(ROUTING_LOCK))))

    def _targets(self, notification: Notification, now: datetime) -> dict[str, datetime]:
        """The channels a notification goes to, each with when it is due (later in quiet hours)."""
        targets: dict[str, datetime] = {}
        for route in self.config.routes:
            if not route.matches(
                topic=notification.topic, site_id=notification.site_id, kind=notification.kind
            ):
                continue
            due = quiet_until(route, now, self.zone) or now
            for name in route.channels:
                targets[name] = min(targets.get(name, due), due)
        return targets

    def _add_deliveries(
        self, session: Session, notification: Notification, targets: dict[str, datetime], now: datetime
    ) -> None:
        if notification.case_id is not None:
            order_key = f"case:{notification.case_id}"
        else:
            order_key = f"event:{notification.event_id}"
        for name, due in targets.items():
            channel = self.channels[name]
            ttl = channel.config.link_ttl_s
            notice = build_notice(
                session,
                notification,
                links=lambda digest, ttl=ttl: self.links(digest, ttl) if digest else None,  # type: ignore[misc]
                expires_at=now + timedelta(seconds=ttl),
                now=now,
            )
            if notice is None:
                logger.warning("notification %d: its subject is gone; not sent to %s", notification.id, name)
                continue
            body = contacts.render(session, channel, notice)
            session.add(new_delivery(notification.id, name, order_key, body, due=due, now=now))

    def channels_of_type(self, *types: str) -> list[str]:
        """The names of the configured channels of ``types`` (``aliyun_voice`` ...), in their order."""
        return [name for name, channel in self.channels.items() if channel.config.type in types]

    def queue_now(self, session: Session, notification: Notification, names: list[str]) -> None:
        """Add deliveries of ``notification`` (flushed, and marked routed by the caller) to the channels
        ``names``, due now, rendered as routed ones are, whatever the routes say (a supervisor asked for
        them); in the caller's transaction. :meth:`wake` after the commit sends them at once."""
        now = datetime.now(UTC)
        self._add_deliveries(session, notification, dict.fromkeys(names, now), now)

    # -- delivery ---------------------------------------------------------------------------------------

    def deliver(self, name: str) -> int:
        """Send the due deliveries of channel ``name``, record the outcomes, return how many were tried."""
        rows = claim(self.sessions, name, self.channels[name].config, lease_margin_s=self.lease_margin_s)
        if not rows:
            return 0
        channel = self.channels[name]
        bucket = self.buckets.get(name)
        sendable: list[tuple[Delivery, float]] = []
        held: list[tuple[Delivery, float]] = []
        phones = channel.config.type in ALIYUN_TYPES
        if phones:  # at most so many calls or texts an hour to one number
            rows, held = contacts.hold_over_limit(self.sessions, name, channel.config, rows)
        for row in rows:
            wait = bucket.take() if bucket is not None else 0.0
            (held if wait else sendable).append((row, wait))

        def attempt(row: Delivery) -> Outcome:
            with self.limits[name]:
                try:
                    return channel.send(self._client, row.body, idempotency_key=row.idempotency_key)
                except httpx.HTTPError as exc:
                    return Outcome(False, detail=f"{type(exc).__name__}: {exc}"[:300])

        outcomes = list(self._pool.map(attempt, [row for row, _ in sendable]))
        results = [(row, outcome) for (row, _), outcome in zip(sendable, outcomes, strict=True)]
        delivered, failed = record(
            self.sessions,
            name,
            channel.config,
            results,
            held,
            also=(lambda s: contacts.record_in_history(s, name, channel.config, results)) if phones else None,
        )
        self.delivered += delivered
        self.failed += failed
        return len(sendable)


#: The app's dispatcher; ``None`` where the app delivers nothing (``dispatch=False``).
DISPATCHER: Slot[Dispatcher | None] = Slot("the dispatcher")
