"""What the analysis routes take as dependencies: the period a request asks about (checked once for the
analysis and its rankings), and the tracked issue a path names (404 for none, or one the caller may not
see)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Query

from api.access.deps import Caller, IdPath, NameQuery, Reader, SessionDep, ZoneDep, period, visible_site
from api.analysis.scope import AskedPeriod, Thresholds
from api.analysis.tracked_issues import visible
from api.core.errors import NotFoundError
from api.core.schemas import Time
from api.models import TrackedIssue

#: The period analysed when a request names none: the last four weeks.
DEFAULT_PERIOD = timedelta(days=28)


def asked_period(
    principal: Reader,
    zone: ZoneDep,
    start: Time | None = None,
    end: Time | None = None,
    site_id: NameQuery = None,
    min_projects: Annotated[
        int, Query(ge=2, le=100, description="Projects of a company well above the usual for it to recur.")
    ] = 2,
) -> AskedPeriod:
    """The period of ``start`` and ``end`` (by default the last 28 days) on ``site_id`` or every site.

    Raises:
        HTTPException: 400 for a period that is not one (:func:`api.access.deps.period`); 404 for a site
            the caller may not see.
    """
    if site_id is not None:
        visible_site(principal, site_id)
    start, end = period(start, end, default=DEFAULT_PERIOD, names=("start", "end"))
    return AskedPeriod(start, end, zone.key, site_id, Thresholds(company_projects=min_projects))


PeriodDep = Annotated[AskedPeriod, Depends(asked_period)]


def visible_issue(issue_id: IdPath, principal: Caller, session: SessionDep) -> TrackedIssue:
    """The tracked issue ``issue_id`` of the path, if the caller sees every site of it.

    Raises:
        NotFoundError: no such issue, or one the caller may not see (the same answer).
    """
    issue = session.get(TrackedIssue, issue_id)
    if issue is None or not visible(principal, issue):
        raise NotFoundError(f"no tracked issue {issue_id}")
    return issue


VisibleIssue = Annotated[TrackedIssue, Depends(visible_issue)]
