"""Tracked issues (类案跟踪): recurring problems a supervisor took up from the analysis, with an owner and a
deadline, until closed with a note. Each issue keeps the finding it came from, sites included, and is seen
only by those who see all of its sites."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.access.deps import visible_site
from api.analysis.schemas import TrackedIssueIn
from api.core.errors import BadRequestError, ConflictError, NotFoundError
from api.models import Site, TrackedIssue


class IssueClosedError(ConflictError, ValueError):
    """The issue is closed already (answered with 409)."""


def sites_of(issue: TrackedIssue) -> list[str]:
    """The sites of the finding the issue came from."""
    sites = issue.finding.get("site_ids", [])
    return [str(s) for s in sites] if isinstance(sites, list) else []


def visible(principal: Principal, issue: TrackedIssue) -> bool:
    """Whether ``principal`` sees every site of ``issue`` (an issue of no site: only unscoped callers)."""
    sites = sites_of(issue)
    return not principal.site_ids or (bool(sites) and all(principal.sees(s) for s in sites))


def create_issue(
    session: Session,
    *,
    principal: Principal,
    finding: dict[str, Any],
    title: str,
    owner: str,
    deadline_at: datetime,
) -> TrackedIssue:
    """Track ``finding`` (as :func:`api.analysis.service.analyse` returned it); audited, committed by the
    caller."""
    issue = TrackedIssue(
        finding_kind=finding["kind"],
        subject=finding["subject"],
        title=title,
        finding=finding,
        owner=owner,
        deadline_at=deadline_at,
        status="open",
        created_by=principal.name,
        created_at=datetime.now(UTC),
    )
    session.add(issue)
    session.flush()
    audit(
        session,
        actor=principal.name,
        action="tracked_issue.create",
        target=f"tracked_issue:{issue.id}",
        details={"kind": issue.finding_kind, "subject": issue.subject, "owner": owner},
    )
    return issue


def list_issues(
    session: Session, *, principal: Principal, status: str | None = None, limit: int = 500
) -> list[TrackedIssue]:
    """The issues ``principal`` sees, open ones first, the nearest deadline first."""
    query = select(TrackedIssue).order_by(
        TrackedIssue.status.desc(), TrackedIssue.deadline_at, TrackedIssue.id
    )
    if status is not None:
        query = query.where(TrackedIssue.status == status)
    # The sites live in the finding (JSON, queried alike on no two databases): scoped callers are
    # filtered here, over a table that grows by hand, a few issues a week.
    return [i for i in session.scalars(query) if visible(principal, i)][:limit]


def close_issue(session: Session, *, principal: Principal, issue: TrackedIssue, note: str) -> TrackedIssue:
    """Close ``issue`` with ``note``; audited, committed by the caller.

    Raises:
        IssueClosedError: it is closed already.
    """
    if issue.status == "closed":
        raise IssueClosedError(f"tracked issue {issue.id} is closed already")
    issue.status = "closed"
    issue.note = note
    issue.closed_at = datetime.now(UTC)
    audit(
        session,
        actor=principal.name,
        action="tracked_issue.close",
        target=f"tracked_issue:{issue.id}",
        details={"note": note[:200]},
    )
    return issue


def public(issue: TrackedIssue, *, now: datetime | None = None) -> dict[str, Any]:
    """``issue`` as :class:`api.analysis.schemas.TrackedIssuePublic` reads it."""
    now = now or datetime.now(UTC)
    return {
        "id": issue.id,
        "finding_kind": issue.finding_kind,
        "subject": issue.subject,
        "title": issue.title,
        "site_ids": sites_of(issue),
        "finding": issue.finding,
        "owner": issue.owner,
        "deadline_at": issue.deadline_at,
        "overdue": issue.status != "closed" and issue.deadline_at < now,
        "status": issue.status,
        "note": issue.note,
        "created_by": issue.created_by,
        "created_at": issue.created_at,
        "closed_at": issue.closed_at,
    }


def track_finding(session: Session, *, principal: Principal, body: TrackedIssueIn) -> dict[str, Any]:
    """Track ``body``'s finding with an owner and a deadline, as :func:`public` shows it; the caller must
    see every site of the finding. One transaction, committed.

    Raises:
        HTTPException: 404 for a site the caller may not see.
        NotFoundError: a site that does not exist.
        BadRequestError: a deadline without a time zone offset.
    """
    sites = sorted(set(body.finding.site_ids))
    for site in sites:
        visible_site(principal, site)
    known = set(session.scalars(select(Site.id).where(Site.id.in_(sites))))
    if missing := [s for s in sites if s not in known]:
        raise NotFoundError(f"no site {', '.join(missing)}")
    if body.deadline_at.tzinfo is None:
        raise BadRequestError("deadline_at needs a time zone offset")
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


def public_issues(
    session: Session, *, principal: Principal, status: str | None = None
) -> list[dict[str, Any]]:
    """:func:`list_issues` as :func:`public` shows them."""
    now = datetime.now(UTC)
    return [public(i, now=now) for i in list_issues(session, principal=principal, status=status)]


def close_tracked(
    session: Session, *, principal: Principal, issue: TrackedIssue, note: str
) -> dict[str, Any]:
    """Close ``issue`` with ``note`` (:func:`close_issue`), committed; as :func:`public` shows it.

    Raises:
        IssueClosedError: it is closed already.
    """
    close_issue(session, principal=principal, issue=issue, note=note)
    session.commit()
    return public(issue)
