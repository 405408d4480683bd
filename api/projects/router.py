"""``/api/v1/projects``: the registry of small construction projects (工程, issue 16) and their map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.access.deps import Reader, Reviewer, SessionDep, visible_site
from api.http.params import API_PREFIX
from api.http.services import ServicesDep
from api.projects import actions
from api.projects.deps import VisibleProject
from api.projects.map import markers
from api.projects.schemas import ProjectIn, ProjectMarker, ProjectPatch, ProjectPublic, ProjectState

router = APIRouter(prefix=API_PREFIX, tags=["projects"])


@router.post(
    "/projects",
    response_model=ProjectPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_project",
    responses={409: {"description": "The site already has a project."}},
)
def create(body: ProjectIn, principal: Reviewer, session: SessionDep) -> ProjectPublic:
    """Register a project on a site (admins, and supervisors of the site; another site is answered 404)."""
    visible_site(principal, body.site_id)
    return actions.create(session, principal=principal, body=body)


@router.get("/projects", response_model=list[ProjectPublic], operation_id="list_projects")
def projects(
    principal: Reader,
    session: SessionDep,
    state: ProjectState | None = None,
    company: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ProjectPublic]:
    """The projects of the caller's sites, filtered by state (today), company (a part of its name) and a
    text in their name, address, company or permit number."""
    return actions.search(session, principal=principal, state=state, company=company, q=q)


@router.get("/projects/map", response_model=list[ProjectMarker], operation_id="project_map")
def project_map(principal: Reader, session: SessionDep, services: ServicesDep) -> list[ProjectMarker]:
    """Every visible project with its cameras (offline too: reported so, or not heard from for longer than
    ``SITEWATCH_CAMERA_STALE_S``), open and overdue cases, and the most urgent of them as ``status`` (a
    constant number of queries for any number of projects)."""
    return markers(session, site_ids=principal.site_ids, stale_s=services.settings.camera_stale_s)


@router.get("/projects/{project_id}", response_model=ProjectPublic, operation_id="get_project")
def project(principal: Reader, project: VisibleProject, session: SessionDep) -> ProjectPublic:
    """One project."""
    return actions.public(session, principal, project)[0]


@router.patch(
    "/projects/{project_id}",
    response_model=ProjectPublic,
    operation_id="update_project",
    responses={409: {"description": "The new site already has a project."}},
)
def update(
    body: ProjectPatch, principal: Reviewer, project: VisibleProject, session: SessionDep
) -> ProjectPublic:
    """Change a project: any field, e.g. a later ``planned_end`` to extend it (audited with the old and new
    end). Moving it to another site needs that site in the caller's scope too."""
    if body.site_id is not None:
        visible_site(principal, body.site_id)
    return actions.update(session, principal=principal, project=project, patch=body)


@router.post("/projects/{project_id}/close", response_model=ProjectPublic, operation_id="close_project")
def close(principal: Reviewer, project: VisibleProject, session: SessionDep) -> ProjectPublic:
    """Close a project: its cameras stop raising violations; its open cases stay open."""
    return actions.close(session, principal=principal, project=project)
