"""The officer a request names, as a dependency: 404 for none, or one of a site the caller may not see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import Caller, IdPath, SessionDep
from api.access.scope import visible_or_404
from api.models import Officer


def visible_officer(officer_id: IdPath, principal: Caller, session: SessionDep) -> Officer:
    """The officer ``officer_id`` of the path, if the caller's sites include their site.

    Raises:
        NotFoundError: no such officer, or one the caller may not see (the same answer).
    """
    return visible_or_404(session, Officer, officer_id, principal=principal, what="officer")


VisibleOfficer = Annotated[Officer, Depends(visible_officer)]
