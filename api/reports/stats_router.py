"""``/api/v1/stats``: figures for dashboards and briefs."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.access.deps import NameQuery, Reader, SessionDep, ZoneDep
from api.core.schemas import Time
from api.http.params import API_PREFIX
from api.http.services import ServicesDep
from api.reports.closed_loop import targets_of
from api.reports.stats import stats_of

router = APIRouter(prefix=API_PREFIX, tags=["statistics"])

PeriodQuery = Annotated[
    Literal["this_week", "this_month", "last_month", "last_7d", "last_30d"] | None,
    Query(description="A period by name, in ``tz`` (instead of since/until)."),
]
DayQuery = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2099, 12, 31))]


@router.get("/stats", operation_id="get_stats")
def stats(
    principal: Reader,
    session: SessionDep,
    zone: ZoneDep,
    services: ServicesDep,
    since: Time | None = None,
    until: Time | None = None,
    site_id: NameQuery = None,
    period: PeriodQuery = None,
    baseline_since: DayQuery = None,
    baseline_until: DayQuery = None,
) -> dict[str, Any]:
    """Violations, false-alarm share, cases, handling times, officer on-site share (default: last 7 days;
    days in ``tz``, by default the API's time zone); the closed loop's figures (``closed_loop``: closure
    rate, mean and median handling hours, fast-close rate, call share) against the period before and the
    baseline (the district's, or ``baseline_since``..``baseline_until``, local days, both included); the
    cases open and overdue now (``open_now``, ``overdue_now``)."""
    return stats_of(
        session,
        principal=principal,
        since=since,
        until=until,
        tz=zone.key,
        site_id=site_id,
        period_name=period,
        targets=targets_of(services.settings),
        baseline_since=baseline_since,
        baseline_until=baseline_until,
    )
