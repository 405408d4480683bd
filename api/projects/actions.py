"""What people do to projects through the API, each one transaction that it commits: register, list, show,
change and close them. A phone number shown in full is audited with the read."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.core.db import local_zone
from api.core.errors import BadRequestError, ConflictError
from api.core.secretkeys import data_keys
from api.models import Project
from api.projects.schemas import ProjectIn, ProjectPatch, ProjectPublic, ProjectState
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

#: Roles that see a contact's phone number in full (each read audited); others see it masked.
PHONE_ROLES = frozenset({"admin", "supervisor"})
#: What a project shows as stored (the phone number and state are worked out).
_COLUMNS = tuple(name for name in ProjectPublic.model_fields if name not in ("contact_phone", "state"))


def public(session: Session, principal: Principal, *found: Project) -> list[ProjectPublic]:
    """The public form of ``found``; phone numbers shown in full are audited (``project.phone_read``, one
    entry per read naming every project whose number was shown) and committed with the read.

    Raises:
        api.core.secretkeys.MissingKeyError: a phone number the key cannot read (503).
    """
    full = principal.role in PHONE_ROLES
    day = today(zone=local_zone(session))
    key = data_keys(session).pii
    shown = []
    read: list[int] = []
    for project in found:
        phone = None
        if project.contact_phone is not None:
            phone = decrypt_phone(project.contact_phone, key=key)
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


def _conflict(site_id: str) -> ConflictError:
    return ConflictError(f"site {site_id} already has a project")


def create(session: Session, *, principal: Principal, body: ProjectIn) -> ProjectPublic:
    """Register the project of ``body`` (audited as ``project.create``).

    Raises:
        ConflictError: its site already has a project.
    """
    try:
        project = create_project(session, body=body, actor=principal.name)
        session.commit()
    except IntegrityError:
        raise _conflict(body.site_id) from None
    return public(session, principal, project)[0]


def search(
    session: Session,
    *,
    principal: Principal,
    state: ProjectState | None = None,
    company: str | None = None,
    q: str | None = None,
) -> list[ProjectPublic]:
    """The projects of ``principal``'s sites, filtered by state (today), company and a text.

    Raises:
        BadRequestError: a text with a NUL character.
    """
    for text in (company, q):
        if text is not None and "\x00" in text:
            raise BadRequestError("text must not contain NUL characters")
    found = list_projects(session, site_ids=principal.site_ids, state=state, company=company, q=q)
    return public(session, principal, *found)


def update(session: Session, *, principal: Principal, project: Project, patch: ProjectPatch) -> ProjectPublic:
    """Apply ``patch`` to ``project`` (audited as ``project.update``, and ``project.extend`` for a new end).

    Raises:
        InvalidError: it would end before it starts.
        ConflictError: the new site already has a project.
    """
    try:
        update_project(session, project=project, patch=patch, actor=principal.name)
        session.commit()
    except IntegrityError:
        raise _conflict(patch.site_id or project.site_id) from None
    return public(session, principal, project)[0]


def close(session: Session, *, principal: Principal, project: Project) -> ProjectPublic:
    """Close ``project`` (audited as ``project.close``): its cameras stop raising violations."""
    close_project(session, project=project, actor=principal.name)
    session.commit()
    return public(session, principal, project)[0]
