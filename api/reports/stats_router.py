"""``/api/v1/stats``: figures for dashboards and briefs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.access.deps import NameQuery, Reader, SessionDep, ZoneDep
from api.core.schemas import Time
from api.http.params import API_PREFIX
from api.reports.stats import stats_of

router = APIRouter(prefix=API_PREFIX, tags=["statistics"])


@router.get("/stats", operation_id="get_stats")
def stats(
    principal: Reader,
    session: SessionDep,
    zone: ZoneDep,
    since: Time | None = None,
    until: Time | None = None,
    site_id: NameQuery = None,
) -> dict[str, Any]:
    """Violations, false-alarm share, cases, handling times, officer on-site share (default: last 7 days;
    days in ``tz``, by default the API's time zone)."""
    return stats_of(session, principal=principal, since=since, until=until, tz=zone.key, site_id=site_id)
