"""``/api/v1/stats``: figures for dashboards and briefs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, status

from api.deps import NameQuery, Reader, SessionDep, TzQuery, time_zone
from api.schemas.base import Time
from api.stats import compute_stats

router = APIRouter(prefix="/api/v1", tags=["statistics"])
#: Longest period one request may cover (a year and a month): bounds the work of one request.
MAX_PERIOD = timedelta(days=400)


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
    try:
        until = until or datetime.now(UTC)
        since = since or until - timedelta(days=7)
        if since.tzinfo is None or until.tzinfo is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "since and until need a time zone offset")
        if since >= until:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "since must be before until")
        if until - since > MAX_PERIOD:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                f"the period may span at most {MAX_PERIOD.days} days; ask per month",
            )
        return compute_stats(session, principal=principal, since=since, until=until, tz=tz, site_id=site_id)
    except OverflowError:  # dates at the edge of the calendar
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "since or until is out of range") from None
