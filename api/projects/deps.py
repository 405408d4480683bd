"""The project a request names, as a dependency: 404 for none, or one of a site the caller may not see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import Caller, IdPath, SessionDep
from api.core.errors import NotFoundError
from api.models import Project


def visible_project(project_id: IdPath, principal: Caller, session: SessionDep) -> Project:
    """The project ``project_id`` of the path, if the caller's sites include its site.

    Raises:
        NotFoundError: no such project, or one the caller may not see (the same answer).
    """
    project = session.get(Project, project_id)
    if project is None or not principal.sees(project.site_id):
        raise NotFoundError(f"no project {project_id}")
    return project


VisibleProject = Annotated[Project, Depends(visible_project)]
