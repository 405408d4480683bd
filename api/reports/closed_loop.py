"""The closed loop's four headline figures, by which a district's handling of cases is measured, for a
period, against the period before and against a baseline the district chooses.

The figures (each over the cases *created* in the period ``[since, until)``, of the sites the caller sees):

- **closure rate** (办结率, 当月办结率 for a month): the cases closed by the end of the period (status
  ``closed`` and ``closed_at < until``) out of the cases created in it;
- **mean and median handling time** (平均处理时长), in hours: ``closed_at - created_at`` of those closed
  cases;
- **fast-close rate** (速办率): the share of those closed cases closed within the district's target
  (``ApiSettings.fast_close_hours``, 24 h by default);
- **call share** (云呼占比): the share of the cases created in which the responsible person was called or
  texted: the case's history holds at least one attempt by a phone or SMS channel (``alerts:<channel>``
  rows, written by :func:`api.delivery.contacts.record_in_history` for every attempt, accepted or failed,
  and only by the Aliyun voice and SMS channels), whenever it was made. A delivery still waiting for its
  first attempt does not count: nobody was reached yet.

Each figure comes with its counts (``count`` of ``total``) and its change: shares in percentage points,
hours in hours; ``better`` says which way is good (``higher`` or ``lower``), so that a view colours a change
by good or bad, not by direction.

Every figure is an SQL aggregate: two queries a period (the counts and mean, and the median's middle
rows), one more for the cases open and overdue now, whatever the number of cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Select

from api.access.auth import Principal
from api.core.settings import ApiSettings
from api.models import Case, CaseHistory

#: The actor of the case history rows that the phone and SMS channels write for each attempt.
PHONE_ACTOR_PREFIX = "alerts:"

#: SQLite's day numbers are doubles: a case closed exactly on its target may come out a few microseconds
#: over it, so the target is compared with this much room (well under a second).
_EPSILON_H = 1e-6

#: The shorthands of ``GET /api/v1/stats?period=``.
PeriodName = Literal["this_week", "this_month", "last_month", "last_7d", "last_30d"]
PERIOD_NAMES: tuple[str, ...] = ("this_week", "this_month", "last_month", "last_7d", "last_30d")

#: Each figure: its unit (``share``: changes in percentage points; ``hours``) and which way is better.
FIGURES: dict[str, tuple[str, str]] = {
    "closure_rate": ("share", "higher"),
    "mean_handling_hours": ("hours", "lower"),
    "median_handling_hours": ("hours", "lower"),
    "fast_close_rate": ("share", "higher"),
    "call_share": ("share", "higher"),
}


@dataclass(frozen=True, slots=True)
class LoopTargets:
    """What a district measures its loop against: the fast-close target and its baseline period (local
    dates, both days included; ``None``: no baseline)."""

    fast_close_hours: float = 24.0
    baseline_since: date | None = None
    baseline_until: date | None = None

    def baseline(self, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        """The baseline as ``[start, end)`` in ``zone``; ``None`` unless both dates are set."""
        if self.baseline_since is None or self.baseline_until is None:
            return None
        return day_span(self.baseline_since, self.baseline_until, zone)


def day_span(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``[first 00:00, the day after last 00:00)`` in ``zone``."""
    return datetime.combine(first, time(0), zone), datetime.combine(last + timedelta(days=1), time(0), zone)


@dataclass(frozen=True, slots=True)
class Span:
    """A period of figures, the period it is compared with, and whether it is still under way."""

    since: datetime
    until: datetime
    previous_since: datetime
    previous_until: datetime
    partial: bool
    name: str | None = None


def named_span(name: str, *, now: datetime, zone: ZoneInfo) -> Span:
    """The period a shorthand names, in ``zone``, at ``now``.

    ``this_week`` (from Monday) and ``this_month`` end now and are partial; they are compared with as much of
    the week or month before (the same length from its start). ``last_month`` is the last complete month,
    compared with the month before it. ``last_7d`` and ``last_30d`` end now, compared with the same length
    before them.

    Example:
        >>> z = ZoneInfo("Asia/Shanghai")
        >>> s = named_span("this_month", now=datetime(2026, 12, 3, 2, tzinfo=UTC), zone=z)
        >>> s.since.isoformat(), s.previous_since.isoformat(), s.previous_until.isoformat(), s.partial
        ('2026-12-01T00:00:00+08:00', '2026-11-01T00:00:00+08:00', '2026-11-03T10:00:00+08:00', True)

    Raises:
        ValueError: not one of :data:`PERIOD_NAMES`.
    """
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), time(0), zone)
    if name in ("last_7d", "last_30d"):
        length = timedelta(days=7 if name == "last_7d" else 30)
        return Span(now - length, now, now - 2 * length, now - length, partial=False, name=name)
    if name == "this_week":
        start = today - timedelta(days=local.weekday())
        before = start - timedelta(days=7)
    elif name == "this_month":
        start = today.replace(day=1)
        before = _month_before(start)
    elif name == "last_month":
        end = today.replace(day=1)
        start = _month_before(end)
        return Span(start, end, _month_before(start), start, partial=False, name=name)
    else:
        raise ValueError(f"unknown period {name!r}: one of {', '.join(PERIOD_NAMES)}")
    elapsed = now - start
    return Span(start, now, before, min(before + elapsed, start), partial=True, name=name)


def custom_span(since: datetime, until: datetime, *, now: datetime) -> Span:
    """A period given by its ends, compared with the same length before it; partial while it lasts."""
    length = until - since
    return Span(since, until, since - length, since, partial=until > now)


def _month_before(first: datetime) -> datetime:
    """The first day of the month before the month starting at ``first`` (a local midnight)."""
    zone = first.tzinfo
    year, month = (first.year, first.month - 1) if first.month > 1 else (first.year - 1, 12)
    return datetime(year, month, 1, tzinfo=zone)


def _hours(session: Session) -> ColumnElement[Any]:
    """``closed_at - created_at`` in hours, in the database's own date arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(Case.closed_at) - func.julianday(Case.created_at)) * 24.0
    return func.extract("epoch", Case.closed_at - Case.created_at) / 3600.0


def hours_open(session: Session, now: datetime) -> ColumnElement[Any]:
    """How long a case has been open, in hours: until it closed, or until ``now`` while it is open."""
    until = func.coalesce(Case.closed_at, now)
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(until) - func.julianday(Case.created_at)) * 24.0
    return func.extract("epoch", until - Case.created_at) / 3600.0


def _scoped(query: Select[Any], principal: Principal, site_id: str | None) -> Select[Any]:
    if site_id is not None:
        query = query.where(Case.site_id == site_id)
    if principal.site_ids:
        query = query.where(Case.site_id.in_(principal.site_ids))
    return query


def figures_of(
    session: Session,
    *,
    principal: Principal,
    since: datetime,
    until: datetime,
    targets: LoopTargets,
    site_id: str | None = None,
) -> dict[str, dict[str, Any]]:
    """The five figures of the cases created in ``[since, until)``: ``{name: {value, count, total}}``
    (``value`` ``None`` when there is nothing to measure)."""
    hours = _hours(session)
    closed = and_(Case.status == "closed", Case.closed_at.is_not(None), Case.closed_at < until)
    called = exists().where(
        CaseHistory.case_id == Case.id,
        CaseHistory.actor.startswith(PHONE_ACTOR_PREFIX, autoescape=True),
    )
    one, zero = literal(1), literal(0)
    row = session.execute(
        _scoped(
            select(
                func.count(),
                func.coalesce(func.sum(case((closed, one), else_=zero)), 0),
                func.coalesce(
                    func.sum(
                        case((and_(closed, hours <= targets.fast_close_hours + _EPSILON_H), one), else_=zero)
                    ),
                    0,
                ),
                func.avg(case((closed, hours))),
                func.coalesce(func.sum(case((called, one), else_=zero)), 0),
            ).where(Case.created_at >= since, Case.created_at < until),
            principal,
            site_id,
        )
    ).one()
    total, n_closed, n_fast, mean, n_called = (int(row[0]), int(row[1]), int(row[2]), row[3], int(row[4]))
    median = _median(
        session,
        principal=principal,
        site_id=site_id,
        where=[Case.created_at >= since, Case.created_at < until, closed],
        count=n_closed,
    )

    def share(count: int, of: int) -> dict[str, Any]:
        return {"value": round(count / of, 4) if of else None, "count": count, "total": of}

    def hours_of(value: float | None) -> dict[str, Any]:
        return {
            "value": None if value is None else round(float(value), 3),
            "count": n_closed,
            "total": n_closed,
        }

    return {
        "closure_rate": share(n_closed, total),
        "mean_handling_hours": hours_of(mean),
        "median_handling_hours": hours_of(median),
        "fast_close_rate": share(n_fast, n_closed),
        "call_share": share(n_called, total),
    }


def _median(
    session: Session,
    *,
    principal: Principal,
    site_id: str | None,
    where: list[ColumnElement[bool]],
    count: int,
) -> float | None:
    """The median handling time of the ``count`` cases that ``where`` selects: the middle one or two rows by
    the database's ORDER BY, none others brought back (and the query runs with none too, so that a request
    makes as many queries whatever the data)."""
    hours = _hours(session)
    middle = session.scalars(
        _scoped(select(hours).where(*where), principal, site_id)
        .order_by(hours)
        .offset(max(0, (count - 1) // 2))
        .limit(2 if count % 2 == 0 else 1)
    ).all()
    return sum(float(v) for v in middle) / len(middle) if count and middle else None


def case_handling(
    session: Session,
    *,
    principal: Principal,
    since: datetime,
    until: datetime,
    site_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``/api/v1/stats``'s ``cases``: of the cases created in ``[since, until)``, how many were opened, are
    closed now (whenever they closed), are open and overdue now; their handling times; the share closed
    within 24 hours and the share closed, of those opened. Two queries."""
    now = now or datetime.now(UTC)
    hours = _hours(session)
    done = Case.closed_at.is_not(None)
    still_open = Case.status != "closed"
    one, zero = literal(1), literal(0)
    created = [Case.created_at >= since, Case.created_at < until]
    row = session.execute(
        _scoped(
            select(
                func.count(),
                func.coalesce(func.sum(case((done, one), else_=zero)), 0),
                func.coalesce(func.sum(case((still_open, one), else_=zero)), 0),
                func.coalesce(func.sum(case((and_(still_open, Case.deadline_at < now), one), else_=zero)), 0),
                func.avg(case((done, hours))),
                func.coalesce(func.sum(case((and_(done, hours <= 24 + _EPSILON_H), one), else_=zero)), 0),
            ).where(*created),
            principal,
            site_id,
        )
    ).one()
    opened, closed, open_now, overdue_now, within_24h = (int(row[i]) for i in (0, 1, 2, 3, 5))
    mean = row[4]
    median = _median(session, principal=principal, site_id=site_id, where=[*created, done], count=closed)
    return {
        "opened": opened,
        "closed": closed,
        "open_now": open_now,
        "overdue_now": overdue_now,
        "mean_handling_hours": None if mean is None else round(float(mean), 3),
        "median_handling_hours": None if median is None else round(median, 3),
        "closed_within_24h_share": round(within_24h / opened, 4) if opened else None,
        "closure_rate": round(closed / opened, 4) if opened else None,
    }


def change(name: str, now: float | None, before: float | None) -> float | None:
    """The change of figure ``name`` from ``before`` to ``now``: percentage points for shares, hours for
    times, to one decimal; ``None`` when either is missing.

    Example:
        >>> change("closure_rate", 0.99, 0.89), change("mean_handling_hours", 18.3, 168.6)
        (10.0, -150.3)
    """
    if now is None or before is None:
        return None
    unit, _ = FIGURES[name]
    return round((now - before) * (100 if unit == "share" else 1), 1)


def judge(name: str, delta: float | None) -> str:
    """``good``, ``bad`` or ``same`` for a change of figure ``name`` (``""`` with no change to judge).

    Example:
        >>> judge("closure_rate", -19.2), judge("mean_handling_hours", -3.0), judge("call_share", 0.0)
        ('bad', 'good', 'same')
    """
    if delta is None:
        return ""
    if delta == 0:
        return "same"
    _, better = FIGURES[name]
    return "good" if (delta > 0) == (better == "higher") else "bad"


def closed_loop(
    session: Session,
    *,
    principal: Principal,
    span: Span,
    zone: ZoneInfo,
    targets: LoopTargets,
    site_id: str | None = None,
) -> dict[str, Any]:
    """The closed loop's figures of ``span``, with those of the period before and of the baseline, and each
    change (see the module's docstring)."""
    baseline = targets.baseline(zone)
    now = figures_of(
        session, principal=principal, since=span.since, until=span.until, targets=targets, site_id=site_id
    )
    before = figures_of(
        session,
        principal=principal,
        since=span.previous_since,
        until=span.previous_until,
        targets=targets,
        site_id=site_id,
    )
    base = (
        figures_of(
            session,
            principal=principal,
            since=baseline[0],
            until=baseline[1],
            targets=targets,
            site_id=site_id,
        )
        if baseline
        else None
    )
    figures: dict[str, Any] = {}
    for name, (unit, better) in FIGURES.items():
        value = now[name]["value"]
        vs_previous = change(name, value, before[name]["value"])
        vs_baseline = change(name, value, base[name]["value"]) if base else None
        figures[name] = {
            **now[name],
            "unit": unit,
            "better": better,
            "previous": before[name],
            "baseline": base[name] if base else None,
            "change_vs_previous": vs_previous,
            "change_vs_baseline": vs_baseline,
            "judged_vs_previous": judge(name, vs_previous),
            "judged_vs_baseline": judge(name, vs_baseline),
        }
    return {
        "period": {
            "since": span.since.isoformat(),
            "until": span.until.isoformat(),
            "name": span.name,
            "partial": span.partial,
        },
        "previous": {"since": span.previous_since.isoformat(), "until": span.previous_until.isoformat()},
        "baseline": {"since": baseline[0].isoformat(), "until": baseline[1].isoformat()}
        if baseline
        else None,
        "fast_close_hours": targets.fast_close_hours,
        "figures": figures,
    }


def open_and_overdue(
    session: Session, *, principal: Principal, site_id: str | None = None, now: datetime | None = None
) -> tuple[int, int]:
    """The cases open now (any status but closed) and those of them past their deadline: one count query."""
    now = now or datetime.now(UTC)
    one, zero = literal(1), literal(0)
    row = session.execute(
        _scoped(
            select(
                func.count(), func.coalesce(func.sum(case((Case.deadline_at < now, one), else_=zero)), 0)
            ).where(Case.status != "closed"),
            principal,
            site_id,
        )
    ).one()
    return int(row[0]), int(row[1])


def targets_of(settings: ApiSettings) -> LoopTargets:
    """The district's targets as its settings give them."""
    return LoopTargets(
        fast_close_hours=settings.fast_close_hours,
        baseline_since=settings.baseline_since,
        baseline_until=settings.baseline_until,
    )
