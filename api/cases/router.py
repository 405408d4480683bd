"""Cases: list, detail, open by hand, move through their states; case policies per site."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.access.deps import (
    Admin,
    IdPath,
    NameQuery,
    Reader,
    Reviewer,
    SessionDep,
    SiteIdPath,
    require,
    visible_site,
)
from api.access.scope import get_event
from api.cases.callbacks import CallbackReceipts, signed_callback
from api.cases.schemas import CaseHistoryPublic, CaseIn, CasePatch, CasePolicyIn, CasePublic
from api.cases.service import TransitionError, events_and_histories, move, open_case_for, set_policy
from api.core.kinds import EventKindName
from api.models import Case
from api.projects.service import names_of
from api.sites.service import ensure_site

logger = logging.getLogger(__name__)

router = APIRouter(tags=["cases"])
#: The idempotency key of a signed callback (``None``: unsigned), see api.cases.callbacks.
SignedKey = Annotated[str | None, Depends(signed_callback)]
CaseWriter = Annotated[Principal, Depends(require("supervisor", "integration"))]


def _public(session: Session, *found: Case) -> list[CasePublic]:
    """The public form of ``found`` cases, with their events and history fetched together."""
    events, changes = events_and_histories(session, case_ids=[c.id for c in found])
    projects = names_of(session, site_ids=[c.site_id for c in found])  # one query for the page
    now = datetime.now(UTC)
    return [
        CasePublic(
            id=case.id,
            site_id=case.site_id,
            camera_id=case.camera_id,
            kind=case.kind,
            status=case.status,
            created_at=case.created_at,
            updated_at=case.updated_at,
            deadline_at=case.deadline_at,
            closed_at=case.closed_at,
            overdue=case.status != "closed" and case.deadline_at < now,
            external_id=case.external_id,
            event_ids=events[case.id],
            history=[CaseHistoryPublic.model_validate(h) for h in changes[case.id]],
            project_name=projects[case.site_id][0] if case.site_id in projects else None,
            company=projects[case.site_id][1] if case.site_id in projects else None,
        )
        for case in found
    ]


def _case(session: Session, principal: Principal, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or not principal.sees(case.site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return case


@router.get("/cases", response_model=list[CasePublic], operation_id="list_cases")
def cases(
    principal: Reader,
    session: SessionDep,
    site_id: NameQuery = None,
    case_status: Annotated[str | None, Query(alias="status", max_length=16, pattern=r"^[a-z_]+$")] = None,
    kind: NameQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CasePublic]:
    """Cases newest first, filtered by site, status and kind."""
    query = select(Case).order_by(Case.id.desc()).limit(limit)
    if principal.site_ids:
        query = query.where(Case.site_id.in_(principal.site_ids))
    for column, value in ((Case.site_id, site_id), (Case.status, case_status), (Case.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    return _public(session, *session.scalars(query))


@router.get("/cases/{case_id}", response_model=CasePublic, operation_id="get_case")
def case(case_id: IdPath, principal: Reader, session: SessionDep) -> CasePublic:
    """One case with its events and history."""
    return _public(session, _case(session, principal, case_id))[0]


@router.post(
    "/cases", response_model=CasePublic, status_code=status.HTTP_201_CREATED, operation_id="open_case"
)
def open_case(body: CaseIn, principal: Reviewer, session: SessionDep) -> CasePublic:
    """Open a case for events by hand (or add them to the incident's active case)."""
    events = [get_event(session, principal=principal, event_id=e) for e in body.event_ids]
    missing = [e for e, row in zip(body.event_ids, events, strict=True) if row is None]
    if missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {', '.join(missing)}")
    opened = None
    for row in events:
        assert row is not None
        opened = open_case_for(session, event=row, actor=principal.name)
    session.commit()
    assert opened is not None
    return _public(session, opened)[0]


@router.patch(
    "/cases/{case_id}",
    response_model=CasePublic,
    operation_id="update_case",
    responses={401: {"description": "No valid key, or a signed callback whose signature or time fails."}},
)
def update_case(
    request: Request,
    case_id: IdPath,
    body: CasePatch,
    principal: CaseWriter,
    session: SessionDep,
    signed: SignedKey,
) -> Any:
    """Move a case to its next state and/or record the case system's number; illegal moves get 409.

    A callback signed like our webhooks (``X-Sitewatch-Timestamp``, ``Idempotency-Key``,
    ``X-Sitewatch-Signature`` keyed by a webhook channel's secret) must be fresh (401 otherwise), and a
    repeat of its idempotency key within 10 minutes gets the first answer without being applied again.
    """
    if signed is None:
        return _patch_case(request, session, principal, case_id, body)

    def apply() -> tuple[int, Any]:
        try:
            return 200, jsonable_encoder(_patch_case(request, session, principal, case_id, body))
        except HTTPException as exc:
            return exc.status_code, {"detail": exc.detail}

    receipts: CallbackReceipts = request.app.state.callback_receipts
    code, answer, repeated = receipts.answer(signed, apply)
    if repeated:
        logger.info("signed callback %r for case %d repeated: first answer given again", signed[:64], case_id)
    return JSONResponse(answer, status_code=code)


def _patch_case(
    request: Request, session: Session, principal: Principal, case_id: int, body: CasePatch
) -> CasePublic:
    row = _case(session, principal, case_id)
    if body.external_id is not None:
        row.external_id = body.external_id
        audit(session, actor=principal.name, action="case_external_id", target=f"case:{row.id}")
    if body.status is not None and body.status != row.status:
        try:
            move(
                session,
                case=row,
                to=body.status,
                actor=principal.name,
                note=body.note,
                reinspection_hours=request.app.state.settings.reinspection_hours,
            )
        except TransitionError as exc:
            session.rollback()
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    return _public(session, row)[0]


@router.put(
    "/sites/{site_id}/case-policies/{kind}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="set_case_policy",
)
def case_policy(
    site_id: SiteIdPath, kind: EventKindName, body: CasePolicyIn, principal: Admin, session: SessionDep
) -> None:
    """Set when a site's events of ``kind`` open a case, and its deadline (404 for a site the admin's
    scope does not include)."""
    visible_site(principal, site_id)
    ensure_site(session, site_id=site_id)
    set_policy(session, site_id=site_id, kind=kind, trigger=body.trigger, deadline_hours=body.deadline_hours)
    audit(
        session,
        actor=principal.name,
        action="set_case_policy",
        target=f"site:{site_id}:{kind}",
        details=body.model_dump(),
    )
    session.commit()
