"""Cases: list (filtered, paged, counted), summary, export, detail, open by hand, move through their states,
extend, note; case policies per site."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, StreamingResponse

from api.access.auth import Principal
from api.access.deps import Admin, Reader, Reviewer, SessionDep, SiteIdPath, require, visible_site
from api.cases import actions
from api.cases.callbacks import CALLBACK_RECEIPTS, signed_callback
from api.cases.deps import CaseFiltersDep, VisibleCase
from api.cases.export import Lang, export_cases
from api.cases.filters import CaseSort
from api.cases.listing import case_page, public, summary
from api.cases.schemas import (
    CaseExtendIn,
    CaseIn,
    CaseNoteIn,
    CasePatch,
    CasePolicyIn,
    CasePublic,
    CaseSummary,
)
from api.core.errors import DomainError
from api.core.kinds import EventKindName
from api.http.export import MEDIA_TYPES, ExportFormat
from api.http.params import API_PREFIX
from api.http.services import ServicesDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix=API_PREFIX, tags=["cases"])
#: The idempotency key of a signed callback (``None``: unsigned), see api.cases.callbacks.
SignedKey = Annotated[str | None, Depends(signed_callback)]
CaseWriter = Annotated[Principal, Depends(require("supervisor", "integration"))]


#: The header of a list's exact number of matching cases (all pages together).
TOTAL_HEADER = "X-Total-Count"
TOTAL_DOC = {
    TOTAL_HEADER: {
        "description": "The exact number of cases the filters match, all pages together.",
        "schema": {"type": "integer"},
    }
}
CaseSortQuery = Annotated[
    CaseSort,
    Query(
        description="``newest`` (the default) or ``oldest`` opened, nearest ``deadline`` first, or "
        "``overdue-first``: the cases not closed by deadline (the most overdue first), then the closed ones."
    ),
]


@router.get(
    "/cases",
    response_model=list[CasePublic],
    operation_id="list_cases",
    responses={200: {"headers": TOTAL_DOC}},
)
def cases(
    principal: Reader,
    session: SessionDep,
    filters: CaseFiltersDep,
    response: Response,
    sort: CaseSortQuery = "newest",
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CasePublic]:
    """Cases matching the filters, a page of ``limit`` from ``offset``; the exact number matching is in
    the ``X-Total-Count`` header. Contact phones are masked except to supervisors and admins (audited)."""
    page, total = case_page(
        session, principal=principal, filters=filters, sort=sort, offset=offset, limit=limit
    )
    response.headers[TOTAL_HEADER] = str(total)
    return page


@router.get("/cases/summary", response_model=CaseSummary, operation_id="case_summary")
def cases_summary(principal: Reader, session: SessionDep, filters: CaseFiltersDep) -> CaseSummary:
    """Exact counts of the cases matching the filters (the list's): all, not closed, overdue, per status."""
    return summary(session, principal=principal, filters=filters)


@router.get(
    "/cases/export",
    operation_id="export_cases",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, MEDIA_TYPES["xlsx"]: {}}}},
)
def cases_export(
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    filters: CaseFiltersDep,
    fmt: Annotated[ExportFormat, Query(alias="format")] = "csv",
    lang: Lang = "zh",
) -> StreamingResponse:
    """Every case matching the filters (the list's), newest first, as CSV (UTF-8 with a byte-order mark) or
    XLSX, with Chinese (``lang=zh``) or English headers; phone numbers masked; audited as an export."""
    return export_cases(
        session, sessions=services.sessions, principal=principal, filters=filters, fmt=fmt, lang=lang
    )


@router.get("/cases/{case_id}", response_model=CasePublic, operation_id="get_case")
def case(principal: Reader, case: VisibleCase, session: SessionDep) -> CasePublic:
    """One case with its events and history."""
    return public(session, case, principal=principal)[0]


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


@router.post("/cases/{case_id}/extend", response_model=CasePublic, operation_id="extend_case")
def extend_case(
    body: CaseExtendIn, principal: CaseWriter, case: VisibleCase, session: SessionDep
) -> CasePublic:
    """Move a case's deadline later (``hours`` more, or a new ``deadline_at``) with a reason, written in its
    history; 409 for a closed case, 422 for a deadline not later than the current one."""
    return actions.extend_deadline(session, principal=principal, case=case, body=body)


@router.post("/cases/{case_id}/notes", response_model=CasePublic, operation_id="add_case_note")
def add_case_note(
    body: CaseNoteIn, principal: CaseWriter, case: VisibleCase, session: SessionDep
) -> CasePublic:
    """Write a note in a case's history without changing its status."""
    return actions.note_case(session, principal=principal, case=case, body=body)


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
