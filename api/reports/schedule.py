"""Scheduled briefs: once a period is over, its brief is made (HTML and, where Chromium is, PDF), kept with
the evidence and queued to the schedule's channels as links that need no key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from alerts.channels import Channel
from alerts.config import BriefSchedule
from alerts.contract import BriefNotice
from api.access.auth import Principal
from api.delivery.attempts import new_delivery
from api.models import Brief, EvidenceFile, Notification
from api.reports.briefs import brief_data, render_html
from api.reports.closed_loop import LoopTargets
from api.reports.pdf import PdfUnavailableError, render_pdf
from api.reports.periods import Period
from api.storage.interface import EvidenceStore

logger = logging.getLogger(__name__)


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


class BriefScheduler:
    """Makes and queues the briefs of ``schedules`` when they fall due.

    Args:
        sessions: the API's session factory.
        schedules: which briefs, when, to which channels.
        channels: the dispatcher's channels by name (they render the notice).
        links: ``(sha256, ttl seconds) -> URL`` of a signed evidence link.
        store: the evidence store the briefs are kept in.
        timezone: where weeks and months begin.
        targets: the closed loop's fast-close target and baseline (the API's settings).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        schedules: list[BriefSchedule],
        *,
        channels: dict[str, Channel],
        links: Callable[[str, float], str],
        store: EvidenceStore,
        timezone: str,
        targets: LoopTargets | None = None,
    ) -> None:
        self.sessions = sessions
        self.schedules = schedules
        self.channels = channels
        self.links = links
        self.store = store
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self.targets = targets or LoopTargets()

    def send_briefs(self, now: datetime | None = None) -> int:
        """Generate and queue every scheduled brief that is due and not yet sent; returns how many."""
        now = now or datetime.now(UTC)
        made = 0
        for schedule in self.schedules:
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
                except IntegrityError:  # another replica made it first
                    session.rollback()
        return made

    def _send_brief(self, session: Session, schedule: BriefSchedule, label: str, now: datetime) -> None:
        data = brief_data(
            session,
            principal=Principal(name="brief schedule", role="admin"),
            period=Period.parse(label, self.timezone),
            store=self.store,
            site_id=None if schedule.site == "*" else schedule.site,
            lang=schedule.lang,
            targets=self.targets,
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
