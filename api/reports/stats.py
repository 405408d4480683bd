"""Statistics for dashboards and briefs: violations, false alarms, cases and their handling, officer presence.

Violations and cases are counted by the database (GROUP BY and aggregates: a request makes the same few
queries whatever the number of rows); days are counted in the time zone the caller gives (shifted in the
database; on SQLite, which knows no time zones, a period across a clock change is counted from its rows).
The closed loop's four figures are :mod:`api.reports.closed_loop`'s.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.access.deps import period, time_zone
from api.core.errors import BadRequestError
from api.core.kinds import VIOLATIONS
from api.models import Event, PresenceInterval
from api.projects.service import names_of
from api.reports.closed_loop import (
    LoopTargets,
    case_handling,
    closed_loop,
    custom_span,
    named_span,
    open_and_overdue,
)

#: What a site without a project shows in place of the project's name and company.
_NO_PROJECT: dict[str, str | None] = {"project_name": None, "company": None}


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The hours an officer should be on site (for the on-site share)."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday = 0
    start: time = time(8, 0)
    end: time = time(18, 0)


@dataclass(slots=True)
class _Tally:
    violations: int = 0
    reviewed: int = 0
    false_alarms: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, review_status: str, count: int) -> None:
        """Count ``count`` violations of ``kind`` with ``review_status``."""
        self.violations += count
        self.by_kind[kind] += count
        if review_status != "pending":
            self.reviewed += count
            self.false_alarms += count if review_status == "false_alarm" else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "violations": self.violations,
            "reviewed": self.reviewed,
            "false_alarms": self.false_alarms,
            "false_alarm_share": round(self.false_alarms / self.reviewed, 4) if self.reviewed else None,
            "by_kind": dict(self.by_kind),
        }


def compute_stats(
    session: Session,
    *,
    principal: Principal,
    since: datetime,
    until: datetime,
    tz: str = "UTC",
    site_id: str | None = None,
    hours: WorkingHours | None = None,
) -> dict[str, Any]:
    """Statistics of the events and cases that started in ``[since, until)``.

    Grouped by day (in ``tz``), site and camera, each with counts per kind.
    """
    zone = ZoneInfo(tz)
    hours = hours or WorkingHours()
    scope = [Event.started_at >= since, Event.started_at < until, Event.kind.in_(VIOLATIONS)]
    if site_id is not None:
        scope.append(Event.site_id == site_id)
    if principal.site_ids:
        scope.append(Event.site_id.in_(principal.site_ids))

    # Counted by the database, grouped (a month of a busy district is 10^5 events; the groups a few
    # thousand at most): per camera (which sums to the sites and the total), and per local day.
    total = _Tally()
    by_day: defaultdict[str, _Tally] = defaultdict(_Tally)
    by_site: defaultdict[str, _Tally] = defaultdict(_Tally)
    by_camera: defaultdict[str, _Tally] = defaultdict(_Tally)
    n = func.count()
    per_camera = select(Event.site_id, Event.camera_id, Event.kind, Event.review_status, n).where(*scope)
    for site, camera, kind, review_status, count in session.execute(
        per_camera.group_by(Event.site_id, Event.camera_id, Event.kind, Event.review_status)
    ):
        for tally in (total, by_site[site], by_camera[f"{site}/{camera}"]):
            tally.add(kind, review_status, count)
    day = _local_day(session, zone, since, until)
    if day is not None:
        per_day = (
            select(day, Event.kind, Event.review_status, n)
            .where(*scope)
            .group_by(day, Event.kind, Event.review_status)
        )
        for local_day, kind, review_status, count in session.execute(per_day):
            by_day[local_day].add(kind, review_status, count)
    else:  # a clock change in the period, on SQLite: the days are counted here, from three columns
        for started_at, kind, review_status in session.execute(
            select(Event.started_at, Event.kind, Event.review_status).where(*scope)
        ):
            by_day[started_at.astimezone(zone).date().isoformat()].add(kind, review_status, 1)

    case_stats = case_handling(session, principal=principal, since=since, until=until, site_id=site_id)
    # Each site named by its project (issue 16), in one query.
    projects = {
        site: {"project_name": name, "company": company}
        for site, (name, company) in names_of(session, site_ids=by_site).items()
    }
    return {
        "period": {"since": since.isoformat(), "until": until.isoformat(), "tz": tz},
        "totals": total.as_dict(),
        "by_day": {k: v.as_dict() for k, v in sorted(by_day.items())},
        "by_site": {k: v.as_dict() | projects.get(k, _NO_PROJECT) for k, v in sorted(by_site.items())},
        "by_camera": {k: v.as_dict() for k, v in sorted(by_camera.items())},
        "cases": case_stats,
        "officer_on_site_share": _on_site_share(session, principal, since, until, zone, hours, site_id),
    }


def stats_of(
    session: Session,
    *,
    principal: Principal,
    since: datetime | None = None,
    until: datetime | None = None,
    tz: str = "UTC",
    site_id: str | None = None,
    period_name: str | None = None,
    targets: LoopTargets | None = None,
    baseline_since: date | None = None,
    baseline_until: date | None = None,
) -> dict[str, Any]:
    """:func:`compute_stats` of the period a request asks for: ``[since, until)``, by default the last 7
    days, or the one ``period_name`` names (:data:`api.reports.closed_loop.PERIOD_NAMES`, in ``tz``); with
    the closed loop's figures against the period before and the baseline (``targets``' dates, or
    ``baseline_since``/``baseline_until`` when given), and the cases open and overdue now.

    Raises:
        HTTPException: 400 for an unknown time zone, or a period that is not one (see
            :func:`api.access.deps.period`).
        BadRequestError: dates at the edge of the calendar; a period name with ``since`` or ``until``; a
            baseline that ends before it starts.
    """
    zone = time_zone(tz)
    targets = targets or LoopTargets()
    now = datetime.now(UTC)
    if period_name is not None:
        if since is not None or until is not None:
            raise BadRequestError("give either period or since/until, not both")
        span = named_span(period_name, now=now, zone=zone)
        since, until = span.since, span.until
    else:
        since, until = period(since, until, default=timedelta(days=7), names=("since", "until"))
    if baseline_since is not None or baseline_until is not None:
        first = baseline_since or targets.baseline_since
        last = baseline_until or targets.baseline_until
        if first is None or last is None:
            raise BadRequestError("a baseline needs both baseline_since and baseline_until")
        targets = replace(targets, baseline_since=first, baseline_until=last)
    if targets.baseline_since and targets.baseline_until and targets.baseline_until < targets.baseline_since:
        raise BadRequestError("baseline_until must not be before baseline_since")
    try:
        stats = compute_stats(session, principal=principal, since=since, until=until, tz=tz, site_id=site_id)
        if period_name is None:
            span = custom_span(since, until, now=now)
        loop = closed_loop(
            session, principal=principal, span=span, zone=zone, targets=targets, site_id=site_id
        )
    except OverflowError:  # dates at the edge of the calendar
        raise BadRequestError("since or until is out of range") from None
    open_now, overdue_now = open_and_overdue(session, principal=principal, site_id=site_id, now=now)
    stats["period"] |= {"name": span.name, "partial": span.partial}
    return stats | {"closed_loop": loop, "open_now": open_now, "overdue_now": overdue_now}


def _local_day(
    session: Session, zone: ZoneInfo, since: datetime, until: datetime
) -> ColumnElement[str] | None:
    """``Event.started_at``'s day in ``zone`` (``YYYY-MM-DD``) in the database's own terms; ``None`` on SQLite
    when the zone's offset changes within the period (SQLite knows no time zones, only a fixed shift)."""
    if session.get_bind().dialect.name != "sqlite":
        return func.to_char(func.timezone(zone.key, Event.started_at), "YYYY-MM-DD")
    days = (until - since).days + 1
    moments = [since + timedelta(days=i) for i in range(days)] + [until]
    offsets = {moment.astimezone(zone).utcoffset() for moment in moments}
    if len(offsets) != 1:
        return None
    shift = next(iter(offsets))
    assert shift is not None
    return func.strftime("%Y-%m-%d", Event.started_at, f"{int(shift.total_seconds()):+d} seconds")


def _working_windows(
    since: datetime, until: datetime, zone: ZoneInfo, hours: WorkingHours
) -> list[tuple[datetime, datetime]]:
    windows = []
    day = since.astimezone(zone).date()
    while datetime.combine(day, time(0), zone) < until:
        if day.weekday() in hours.days:
            start = max(datetime.combine(day, hours.start, zone), since)
            end = min(datetime.combine(day, hours.end, zone), until)
            if end > start:
                windows.append((start, end))
        day += timedelta(days=1)
    return windows


def _on_site_share(
    session: Session,
    principal: Principal,
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
    hours: WorkingHours,
    site_id: str | None,
) -> dict[str, float | None]:
    """Per site: the share of working hours with an officer seen (intervals merged across officers)."""
    query = select(PresenceInterval).where(PresenceInterval.end >= since, PresenceInterval.start < until)
    if site_id is not None:
        query = query.where(PresenceInterval.site_id == site_id)
    if principal.site_ids:
        query = query.where(PresenceInterval.site_id.in_(principal.site_ids))
    per_site: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for row in session.scalars(query):
        per_site[row.site_id].append((row.start, row.end))
    windows = _working_windows(since, until, zone, hours)
    work = sum((end - start).total_seconds() for start, end in windows)
    shares: dict[str, float | None] = {}
    for site, intervals in per_site.items():
        covered = 0.0
        for w_start, w_end in windows:
            for start, end in _merge(intervals):
                overlap = (min(end, w_end) - max(start, w_start)).total_seconds()
                covered += max(overlap, 0.0)
        shares[site] = round(covered / work, 4) if work else None
    return shares


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
