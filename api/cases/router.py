"""Cases: list, detail, open by hand, move through their states; case policies per site."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.access.auth import Principal
from api.access.deps import Admin, NameQuery, Reader, Reviewer, SessionDep, SiteIdPath, require, visible_site
from api.cases import actions
from api.cases.callbacks import CALLBACK_RECEIPTS, signed_callback
from api.cases.deps import VisibleCase
from api.cases.listing import list_cases, public
from api.cases.schemas import CaseIn, CasePatch, CasePolicyIn, CasePublic
from api.core.errors import DomainError
from api.core.kinds import EventKindName
from api.http.params import API_PREFIX
from api.http.services import ServicesDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix=API_PREFIX, tags=["cases"])
#: The idempotency key of a signed callback (``None``: unsigned), see api.cases.callbacks.
SignedKey = Annotated[str | None, Depends(signed_callback)]
CaseWriter = Annotated[Principal, Depends(require("supervisor", "integration"))]


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
    return list_cases(
        session, principal=principal, site_id=site_id, status=case_status, kind=kind, limit=limit
    )


@router.get("/cases/{case_id}", response_model=CasePublic, operation_id="get_case")
def case(principal: Reader, case: VisibleCase, session: SessionDep) -> CasePublic:
    """One case with its events and history."""
    return public(session, case)[0]


@router.post(
    "/cases", response_model=CasePublic, status_code=status.HTTP_201_CREATED, operation_id="open_case"
)
def open_case(body: CaseIn, principal: Reviewer, session: SessionDep) -> CasePublic:
    """Open a case for events by hand (or add them to the incident's active case)."""
    return actions.open_by_hand(session, principal=principal, event_ids=body.event_ids)


@router.patch(
    "/cases/{case_id}",
    response_model=CasePublic,
    operation_id="update_case",
    responses={401: {"description": "No valid key, or a signed callback whose signature or time fails."}},
)
def update_case(
    services: ServicesDep,
    body: CasePatch,
    principal: CaseWriter,
    case: VisibleCase,
    session: SessionDep,
    signed: SignedKey,
) -> Any:
    """Move a case to its next state and/or record the case system's number; illegal moves get 409.

    A callback signed like our webhooks (``X-Sitewatch-Timestamp``, ``Idempotency-Key``,
    ``X-Sitewatch-Signature`` keyed by a webhook channel's secret) must be fresh (401 otherwise), and a
    repeat of its idempotency key within 10 minutes gets the first answer without being applied again.
    """
    hours = services.settings.reinspection_hours
    if signed is None:
        return actions.update_case(
            session, principal=principal, case=case, patch=body, reinspection_hours=hours
        )

    def apply() -> tuple[int, Any]:
        try:
            answer = actions.update_case(
                session, principal=principal, case=case, patch=body, reinspection_hours=hours
            )
        except DomainError as exc:
            return exc.status_code, {"detail": exc.detail}
        return 200, jsonable_encoder(answer)

    receipts = services.get(CALLBACK_RECEIPTS)
    code, answer, repeated = receipts.answer(signed, apply)
    if repeated:
        logger.info("signed callback %r for case %d repeated: first answer given again", signed[:64], case.id)
    return JSONResponse(answer, status_code=code)


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
    actions.set_case_policy(session, principal=principal, site_id=site_id, kind=kind, policy=body)
