"""``/api/v1/stats``: figures for dashboards and briefs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, status

from api.access.deps import NameQuery, Reader, SessionDep, TzQuery, period, time_zone
from api.core.schemas import Time
from api.http.params import API_PREFIX
from api.reports.stats import compute_stats

router = APIRouter(prefix=API_PREFIX, tags=["statistics"])


@router.get("/stats", operation_id="get_stats")
def stats(
    principal: Reader,
    session: SessionDep,
    since: Time | None = None,
    until: Time | None = None,
    site_id: NameQuery = None,
    tz: TzQuery = "UTC",
) -> dict[str, Any]:
    """Violations, false-alarm share, cases, handling times, officer on-site share (default: last 7 days)."""
    time_zone(tz)
    since, until = period(since, until, default=timedelta(days=7), names=("since", "until"))
    try:
        return compute_stats(session, principal=principal, since=since, until=until, tz=tz, site_id=site_id)
    except OverflowError:  # dates at the edge of the calendar
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "since or until is out of range") from None
