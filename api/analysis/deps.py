"""The tracked issue a request names, as a dependency: 404 for none, or one the caller may not see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import Caller, IdPath, SessionDep
from api.analysis.tracked_issues import visible
from api.core.errors import NotFoundError
from api.models import TrackedIssue


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
