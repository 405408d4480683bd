"""``/api/v1/stats``: figures for dashboards and briefs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, status

from api.deps import NameQuery, Reader, SessionDep
from api.stats import compute_stats

router = APIRouter(prefix="/api/v1", tags=["statistics"])


@router.get("/stats", operation_id="get_stats")
def stats(
    principal: Reader,
    session: SessionDep,
    since: datetime | None = None,
    until: datetime | None = None,
    site_id: NameQuery = None,
    tz: str = "UTC",
) -> dict[str, Any]:
    """Violations, false-alarm share, cases, handling times, officer on-site share (default: last 7 days)."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unknown time zone {tz!r}") from None
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=7)
    if since.tzinfo is None or until.tzinfo is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "since and until need a time zone offset")
    if since >= until:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "since must be before until")
    return compute_stats(session, principal=principal, since=since, until=until, tz=tz, site_id=site_id)
