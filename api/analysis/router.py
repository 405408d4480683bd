"""``/api/v1/analysis`` (recurring problems of a period) and ``/api/v1/tracked-issues`` (those taken up)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import select

from api.access.deps import IdPath, NameQuery, Reader, Reviewer, SessionDep, period, time_zone, visible_site
from api.analysis.schemas import AnalysisPublic, TrackedIssueClose, TrackedIssueIn, TrackedIssuePublic
from api.analysis.scope import Thresholds
from api.analysis.service import analyse
from api.analysis.tracked_issues import (
    IssueClosedError,
    close_issue,
    create_issue,
    list_issues,
    public,
    visible,
)
from api.core.schemas import Time
from api.http.params import API_PREFIX
from api.models import Site, TrackedIssue

router = APIRouter(prefix=API_PREFIX, tags=["analysis"])


@router.get("/analysis", response_model=AnalysisPublic, operation_id="get_analysis")
def analysis(
    request: Request,
    principal: Reader,
    session: SessionDep,
    start: Time | None = None,
    end: Time | None = None,
    site_id: NameQuery = None,
    tz: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    min_projects: Annotated[int, Query(ge=2, le=100)] = 2,
) -> dict[str, Any]:
    """Violations of ``[start, end)`` (default: the last 28 days) per project, company, kind, camera and
    local hour, and the recurring problems found in them, on the caller's sites. ``tz``: the time zone of
    hours and weeks (default: the API's, as for briefs); ``min_projects``: of a company, with violations
    well above the usual, for it to recur."""
    zone = time_zone(tz or request.app.state.timezone)
    if site_id is not None:
        visible_site(principal, site_id)
    start, end = period(start, end, default=timedelta(days=28), names=("start", "end"))
    try:
        return analyse(
            session,
            principal=principal,
            start=start,
            end=end,
            tz=zone.key,
            site_id=site_id,
            thresholds=Thresholds(company_projects=min_projects),
        )
    except OverflowError:  # weeks around a period at the edge of the calendar
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "start or end is out of range") from None


@router.post(
    "/tracked-issues",
    response_model=TrackedIssuePublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_tracked_issue",
)
def create(body: TrackedIssueIn, principal: Reviewer, session: SessionDep) -> dict[str, Any]:
    """Track a finding of the analysis with an owner and a deadline (supervisors of all its sites)."""
    sites = sorted(set(body.finding.site_ids))
    for site in sites:
        visible_site(principal, site)
    known = set(session.scalars(select(Site.id).where(Site.id.in_(sites))))
    if missing := [s for s in sites if s not in known]:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no site {', '.join(missing)}")
    if body.deadline_at.tzinfo is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "deadline_at needs a time zone offset")
    finding = body.finding.model_dump(mode="json") | {"site_ids": sites}
    issue = create_issue(
        session,
        principal=principal,
        finding=finding,
        title=body.title,
        owner=body.owner,
        deadline_at=body.deadline_at,
    )
    session.commit()
    return public(issue)


@router.get("/tracked-issues", response_model=list[TrackedIssuePublic], operation_id="list_tracked_issues")
def issues(
    principal: Reader, session: SessionDep, status: Literal["open", "closed"] | None = None
) -> list[dict[str, Any]]:
    """The tracked issues of the caller's sites, open ones first, the nearest deadline first."""
    now = datetime.now(UTC)
    return [public(i, now=now) for i in list_issues(session, principal=principal, status=status)]


@router.post(
    "/tracked-issues/{issue_id}/close",
    response_model=TrackedIssuePublic,
    operation_id="close_tracked_issue",
)
def close(
    issue_id: IdPath, body: TrackedIssueClose, principal: Reviewer, session: SessionDep
) -> dict[str, Any]:
    """Close a tracked issue with a note of how it was resolved (409 if it is closed already)."""
    issue = session.get(TrackedIssue, issue_id)
    if issue is None or not visible(principal, issue):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no tracked issue {issue_id}")
    try:
        close_issue(session, principal=principal, issue=issue, note=body.note)
    except IssueClosedError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    return public(issue)
