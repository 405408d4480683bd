"""The case a request names, as a dependency: 404 for none, or one of a site the caller may not see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import Caller, IdPath, SessionDep
from api.access.scope import visible_or_404
from api.models import Case


def visible_case(case_id: IdPath, principal: Caller, session: SessionDep) -> Case:
    """The case ``case_id`` of the path, if the caller's sites include its site.

    Raises:
        NotFoundError: no such case, or one the caller may not see (the same answer, so that ids of other
            sites' cases cannot be probed).
    """
    return visible_or_404(session, Case, case_id, principal=principal, what="case")


VisibleCase = Annotated[Case, Depends(visible_case)]
