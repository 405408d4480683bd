"""``/api/v1/analysis`` (recurring problems of a period) and ``/api/v1/tracked-issues`` (those taken up)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, status

from api.access.deps import Reader, Reviewer, SessionDep
from api.analysis.deps import PeriodDep, VisibleIssue
from api.analysis.rankings import rankings_of
from api.analysis.schemas import (
    AnalysisPublic,
    RankingsPublic,
    TrackedIssueClose,
    TrackedIssueIn,
    TrackedIssuePublic,
)
from api.analysis.service import analysis_of
from api.analysis.tracked_issues import close_tracked, public_issues, track_finding
from api.http.params import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["analysis"])


@router.get("/analysis", response_model=AnalysisPublic, operation_id="get_analysis")
def analysis(principal: Reader, session: SessionDep, asked: PeriodDep) -> dict[str, Any]:
    """Violations of ``[start, end)`` (default: the last 28 days) per project, company, kind, camera and
    local hour, and the recurring problems found in them, on the caller's sites. ``tz``: the time zone of
    hours and weeks (default: the API's, as for briefs); ``min_projects``: of a company, with violations
    well above the usual, for it to recur."""
    return analysis_of(session, principal=principal, asked=asked)


@router.get("/analysis/rankings", response_model=RankingsPublic, operation_id="get_rankings")
def ranked(principal: Reader, session: SessionDep, asked: PeriodDep) -> dict[str, Any]:
    """Violations of ``[start, end)`` (default: the last 28 days) ranked per contractor, project, local hour
    and camera on the caller's sites: count, share, cases open now and the count of the period as long
    before; with the thresholds the findings of ``/analysis`` apply."""
    return rankings_of(session, principal=principal, asked=asked)


@router.post(
    "/tracked-issues",
    response_model=TrackedIssuePublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_tracked_issue",
)
def create(body: TrackedIssueIn, principal: Reviewer, session: SessionDep) -> dict[str, Any]:
    """Track a finding of the analysis with an owner and a deadline (supervisors of all its sites)."""
    return track_finding(session, principal=principal, body=body)


@router.get("/tracked-issues", response_model=list[TrackedIssuePublic], operation_id="list_tracked_issues")
def issues(
    principal: Reader, session: SessionDep, status: Literal["open", "closed"] | None = None
) -> list[dict[str, Any]]:
    """The tracked issues of the caller's sites, open ones first, the nearest deadline first."""
    return public_issues(session, principal=principal, status=status)


@router.post(
    "/tracked-issues/{issue_id}/close",
    response_model=TrackedIssuePublic,
    operation_id="close_tracked_issue",
)
def close(
    body: TrackedIssueClose, principal: Reviewer, issue: VisibleIssue, session: SessionDep
) -> dict[str, Any]:
    """Close a tracked issue with a note of how it was resolved (409 if it is closed already)."""
    return close_tracked(session, principal=principal, issue=issue, note=body.note)
