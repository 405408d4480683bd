"""The project a request names, as a dependency: 404 for none, or one of a site the caller may not see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import Caller, IdPath, SessionDep
from api.access.scope import visible_or_404
from api.models import Project


def visible_project(project_id: IdPath, principal: Caller, session: SessionDep) -> Project:
    """The project ``project_id`` of the path, if the caller's sites include its site.

    Raises:
        NotFoundError: no such project, or one the caller may not see (the same answer).
    """
    return visible_or_404(session, Project, project_id, principal=principal, what="project")


VisibleProject = Annotated[Project, Depends(visible_project)]
