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
import random
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from alerts.channels import Channel, Outcome, make_channel
from alerts.config import AlertsConfig, BriefSchedule, RouteConfig
from alerts.contract import BriefNotice, build_notice
from api.auth import Principal
from api.briefs import PdfUnavailableError, Period, brief_data, render_html, render_pdf
from api.cases import close_reinspected
from api.models import Brief, Case, Delivery, Event, EvidenceFile, Notification
from api.storage import EvidenceStore

logger = logging.getLogger(__name__)

#: ``(sha256, ttl seconds) -> URL`` of a signed evidence link.
LinkMaker = Callable[[str, float], str]


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


#: How often the dispatcher closes cases whose re-inspection window passed.
SWEEP_EVERY_S = 1.0
#: The PostgreSQL advisory lock that dispatchers take turns routing under (any fixed number of our own).
ROUTING_LOCK = 0x5177_0001


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


def due_period(schedule: BriefSchedule, now: datetime, zone: ZoneInfo) -> str:
    """The period whose brief is due at ``now``: the week before the latest Monday at ``schedule.at``, or
    the month before the latest 1st at that time.

    Example:
        >>> from datetime import time
        >>> monday_9am = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
        >>> weekly = BriefSchedule(every="week", at=time(8, 0), channels=["c"])
        >>> due_period(weekly, monday_9am, ZoneInfo("Asia/Shanghai"))
        '2026-W48'
        >>> due_period(weekly, monday_9am - timedelta(hours=2), ZoneInfo("Asia/Shanghai"))
        '2026-W47'
    """
    local = now.astimezone(zone)
    if schedule.every == "week":
        monday = local.date() - timedelta(days=local.weekday())
        if local < datetime.combine(monday, schedule.at, zone):
            monday -= timedelta(days=7)
        year, week, _ = (monday - timedelta(days=7)).isocalendar()
        return f"{year}-W{week:02d}"
    first = local.date().replace(day=1)
    if local < datetime.combine(first, schedule.at, zone):
        first = (first - timedelta(days=1)).replace(day=1)
    before = first - timedelta(days=1)
    return f"{before.year}-{before.month:02d}"


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
        sweep_reinspection: close cases whose re-inspection window passed (at most every ``SWEEP_EVERY_S``).
        store: the evidence store, where scheduled briefs are kept (no store: no scheduled briefs).
        lock: held while routing, the busiest writes (:func:`api.db.writer_lock`); none by default.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: AlertsConfig,
        *,
        links: LinkMaker,
        lease_margin_s: float = 5.0,
        sweep_reinspection: bool = True,
        store: EvidenceStore | None = None,
        lock: Callable[[], AbstractContextManager[None]] = nullcontext,
    ) -> None:
        self.sessions = sessions
        self.lock = lock
        self.config = config
        self.links = links
        self.lease_margin_s = lease_margin_s
        self.sweep_reinspection = sweep_reinspection
        self.store = store
        self._briefs_checked = float("-inf")
        self._swept = float("-inf")
        self.zone = ZoneInfo(config.timezone)
        self.channels: dict[str, Channel] = {
            name: make_channel(name, channel, self.zone) for name, channel in config.channels.items()
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
        """One pass: route new notifications, close re-inspected cases, send what is due. Returns the
        number of rows routed or sent."""
        routed = self.route()
        # Re-inspection windows last hours: once a second is plenty, and under a stream of events passes
        # follow each other closely.
        if self.sweep_reinspection and time.monotonic() - self._swept >= SWEEP_EVERY_S:
            self._swept = time.monotonic()
            with self.sessions() as session:
                closed = close_reinspected(session)
            if closed:
                logger.info("re-inspection passed without recurrence: closed cases %s", closed)
        if self.store is not None and self.config.briefs and time.monotonic() - self._briefs_checked > 60:
            self._briefs_checked = time.monotonic()
            routed += self.send_briefs()
        sent = sum(self.deliver(name) for name in self.channels)
        return routed + sent

    # -- scheduled briefs -------------------------------------------------------------------------------

    def send_briefs(self, now: datetime | None = None) -> int:
        """Generate and queue every scheduled brief that is due and not yet sent; returns how many."""
        now = now or datetime.now(UTC)
        made = 0
        for schedule in self.config.briefs:
            period = due_period(schedule, now, self.zone)
            with self.sessions() as session:
                taken = session.scalar(
                    select(Brief.id).where(
                        Brief.period == period, Brief.scope == schedule.site, Brief.lang == schedule.lang
                    )
                )
                if taken is not None:
                    continue
                try:
                    self._send_brief(session, schedule, period, now)
                    made += 1
                except IntegrityError:  # another dispatcher made it first
                    session.rollback()
        return made

    def _send_brief(self, session: Session, schedule: BriefSchedule, label: str, now: datetime) -> None:
        assert self.store is not None
        data = brief_data(
            session,
            principal=Principal(name="brief schedule", role="admin"),
            period=Period.parse(label, self.config.timezone),
            store=self.store,
            site_id=None if schedule.site == "*" else schedule.site,
            lang=schedule.lang,
        )
        html = render_html(data).encode()
        try:
            pdf: bytes | None = render_pdf(html.decode())
        except PdfUnavailableError as exc:
            logger.warning("brief %s sent without a PDF: %s", label, exc)
            pdf = None
        digests = {}
        for media, blob in (("text/html", html), ("application/pdf", pdf)):
            if blob is None:
                continue
            digest = self.store.put(blob)
            if session.get(EvidenceFile, digest) is None:
                session.add(EvidenceFile(sha256=digest, media_type=media, size=len(blob), created_at=now))
            digests[media] = digest
        brief = Brief(
            period=label,
            scope=schedule.site,
            lang=schedule.lang,
            html_sha256=digests["text/html"],
            pdf_sha256=digests.get("application/pdf"),
            created_at=now,
        )
        notification = Notification(
            topic="brief.ready", site_id=schedule.site, kind=schedule.every, created_at=now, routed=True
        )
        session.add_all([brief, notification])
        session.flush()
        for name in schedule.channels:
            channel = self.channels[name]
            ttl = channel.config.link_ttl_s
            pdf_sha = digests.get("application/pdf")
            notice = BriefNotice(
                notification_id=notification.id,
                sent_at=now,
                title=data["title"],
                period=label,
                scope=schedule.site,
                html_url=self.links(digests["text/html"], ttl),
                pdf_url=self.links(pdf_sha, ttl) if pdf_sha else None,
                links_expire_at=now + timedelta(seconds=ttl),
                figures={f["label"]: f["shown"] for f in data["figures"]},
            )
            session.add(
                new_delivery(
                    notification.id, name, f"brief:{brief.id}", channel.render(notice), due=now, now=now
                )
            )
        session.commit()
        logger.info("brief %s (%s) queued for %s", label, schedule.site, ", ".join(schedule.channels))

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
            session.add(
                new_delivery(notification.id, name, order_key, channel.render(notice), due=due, now=now)
            )

    # -- delivery ---------------------------------------------------------------------------------------

    def _claim(self, name: str) -> list[Delivery]:
        channel = self.channels[name].config
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
        with self.sessions() as session:
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
                    lease_until=now + timedelta(seconds=channel.timeout_s + self.lease_margin_s),
                )
            )
            session.commit()
            return list(
                session.scalars(select(Delivery).where(Delivery.lease_token == token).order_by(Delivery.id))
            )

    def deliver(self, name: str) -> int:
        """Send the due deliveries of channel ``name``, record the outcomes, return how many were tried."""
        rows = self._claim(name)
        if not rows:
            return 0
        channel = self.channels[name]
        bucket = self.buckets.get(name)
        sendable: list[tuple[Delivery, float]] = []
        held: list[tuple[Delivery, float]] = []
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
        self._record(
            name, [(row, outcome) for (row, _), outcome in zip(sendable, outcomes, strict=True)], held
        )
        return len(sendable)

    def _record(
        self, name: str, results: list[tuple[Delivery, Outcome]], held: list[tuple[Delivery, float]]
    ) -> None:
        config = self.channels[name].config
        now = datetime.now(UTC)
        with self.sessions() as session:
            # Plain successes, the bulk of the traffic, are recorded in one statement per answer.
            plain: dict[str, list[Delivery]] = {}
            for row, outcome in results:
                if outcome.delivered and not outcome.case_number:
                    plain.setdefault(outcome.detail, []).append(row)
            for detail, rows in plain.items():
                self.delivered += len(rows)
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
                    self.delivered += 1
                    assert outcome.case_number is not None
                    self._keep_case_number(session, row, outcome.case_number)
                else:
                    self.failed += 1
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
            session.commit()

    @staticmethod
    def _keep_case_number(session: Session, row: Delivery, number: str) -> None:
        notification = session.get(Notification, row.notification_id)
        if notification is None or notification.case_id is None:
            return
        session.execute(
            update(Case)
            .where(and_(Case.id == notification.case_id, Case.external_id.is_(None)))
            .values(external_id=number)
        )
