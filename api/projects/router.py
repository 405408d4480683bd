"""``/api/v1/projects``: the registry of small construction projects (工程, issue 16) and their map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.access.deps import IdPath, Reader, Reviewer, SessionDep, visible_site
from api.core.secretkeys import MissingKeyError
from api.http.params import API_PREFIX
from api.models import Project
from api.projects.map import markers
from api.projects.schemas import ProjectIn, ProjectMarker, ProjectPatch, ProjectPublic, ProjectState
from api.projects.service import (
    close_project,
    create_project,
    decrypt_phone,
    list_projects,
    mask_phone,
    state_of,
    today,
    update_project,
)

router = APIRouter(prefix=API_PREFIX, tags=["projects"])

#: Roles that see a contact's phone number in full (each read audited); others see it masked.
PHONE_ROLES = frozenset({"admin", "supervisor"})
#: What a project shows as stored (the phone number and state are worked out).
_COLUMNS = tuple(name for name in ProjectPublic.model_fields if name not in ("contact_phone", "state"))


def _public(session: Session, principal: Principal, *found: Project) -> list[ProjectPublic]:
    """The public form of ``found``; phone numbers shown in full are audited (``project.phone_read``, one
    entry per read naming every project whose number was shown) and committed with the read."""
    full = principal.role in PHONE_ROLES
    day = today()
    shown = []
    read: list[int] = []
    for project in found:
        phone = None
        if project.contact_phone is not None:
            try:
                phone = decrypt_phone(project.contact_phone)
            except MissingKeyError as exc:
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
            if full:
                read.append(project.id)
            else:
                phone = mask_phone(phone)
        fields = {name: getattr(project, name) for name in _COLUMNS}
        shown.append(ProjectPublic(**fields, contact_phone=phone, state=state_of(project, today=day)))
    if read:
        target = f"project:{read[0]}" if len(read) == 1 else f"projects:{len(read)}"
        details: dict[str, object] = {"projects": read}
        audit(session, actor=principal.name, action="project.phone_read", target=target, details=details)
        session.commit()
    return shown


def _project(session: Session, principal: Principal, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None or not principal.sees(project.site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no project {project_id}")
    return project


def _conflict(session: Session, site_id: str) -> HTTPException:
    session.rollback()
    return HTTPException(status.HTTP_409_CONFLICT, f"site {site_id} already has a project")


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
    try:
        project = create_project(session, body=body, actor=principal.name)
        session.commit()
    except IntegrityError:
        raise _conflict(session, body.site_id) from None
    return _public(session, principal, project)[0]


@router.get("/projects", response_model=list[ProjectPublic], operation_id="list_projects")
def projects(
    principal: Reader,
    session: SessionDep,
    state: ProjectState | None = None,
    company: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> list[ProjectPublic]:
    """The projects of the caller's sites, filtered by state (today), company and a text in their name,
    address, company or permit number."""
    for text in (company, q):
        if text is not None and "\x00" in text:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "text must not contain NUL characters")
    found = list_projects(session, site_ids=principal.site_ids, state=state, company=company, q=q)
    return _public(session, principal, *found)


@router.get("/projects/map", response_model=list[ProjectMarker], operation_id="project_map")
def project_map(principal: Reader, session: SessionDep) -> list[ProjectMarker]:
    """Every visible project with its cameras (offline too), open and overdue cases, and the most urgent
    of them as ``status`` (a constant number of queries for any number of projects)."""
    return markers(session, site_ids=principal.site_ids)


@router.get("/projects/{project_id}", response_model=ProjectPublic, operation_id="get_project")
def project(project_id: IdPath, principal: Reader, session: SessionDep) -> ProjectPublic:
    """One project."""
    return _public(session, principal, _project(session, principal, project_id))[0]


@router.patch(
    "/projects/{project_id}",
    response_model=ProjectPublic,
    operation_id="update_project",
    responses={409: {"description": "The new site already has a project."}},
)
def update(project_id: IdPath, body: ProjectPatch, principal: Reviewer, session: SessionDep) -> ProjectPublic:
    """Change a project: any field, e.g. a later ``planned_end`` to extend it (audited with the old and new
    end). Moving it to another site needs that site in the caller's scope too."""
    row = _project(session, principal, project_id)
    if body.site_id is not None:
        visible_site(principal, body.site_id)
    try:
        update_project(session, project=row, patch=body, actor=principal.name)
        session.commit()
    except ValueError as exc:
        session.rollback()
        # The shape of FastAPI's own 422s, naming the field, so that a form shows it by the field too.
        problem = {"type": "value_error", "loc": ["body", "planned_end"], "msg": str(exc)}
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [problem]) from None
    except IntegrityError:
        raise _conflict(session, body.site_id or row.site_id) from None
    return _public(session, principal, row)[0]


@router.post("/projects/{project_id}/close", response_model=ProjectPublic, operation_id="close_project")
def close(project_id: IdPath, principal: Reviewer, session: SessionDep) -> ProjectPublic:
    """Close a project: its cameras stop raising violations; its open cases stay open."""
    row = close_project(session, project=_project(session, principal, project_id), actor=principal.name)
    session.commit()
    return _public(session, principal, row)[0]
