"""Deliveries of notifications: the dead letters and their replay; signed evidence links; calling or
texting a case's responsible person now."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from api.access.auth import Principal
from api.access.deps import GlobalAdmin, SessionDep, StoreDep, require
from api.cases.deps import VisibleCase
from api.cases.schemas import CaseContactIn, CasePublic
from api.delivery.case_contact import contact_now
from api.delivery.deps import KnownDelivery
from api.delivery.dispatcher import DISPATCHER
from api.delivery.evidence import open_link
from api.delivery.links import LINK_KEY
from api.delivery.replay import list_deliveries
from api.delivery.replay import replay as replay_delivery
from api.delivery.schemas import DeliveryPublic
from api.http.params import API_PREFIX
from api.http.services import services_of

router = APIRouter(prefix=API_PREFIX, tags=["alerts"])
#: Evidence behind a signed link: no principal, the signature is the credential (listed in
#: :data:`api.app.OPEN_ROUTES`).
open_router = APIRouter(prefix=API_PREFIX, tags=["alerts"])
Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.get("/deliveries", response_model=list[DeliveryPublic], operation_id="list_deliveries")
def deliveries(
    principal: GlobalAdmin,
    session: SessionDep,
    delivery_status: Annotated[
        Literal["pending", "delivered", "failed", "dropped"] | None, Query(alias="status")
    ] = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryPublic]:
    """Deliveries newest first; ``?status=failed`` lists the dead letters."""
    return list_deliveries(session, status=delivery_status, channel=channel, limit=limit)


@router.post(
    "/cases/{case_id}/contact",
    response_model=CasePublic,
    operation_id="contact_case",
    tags=["cases"],
    responses={409: {"description": "No phone channel of that kind is configured, or no contact phone."}},
)
def contact_case(
    request: Request,
    body: CaseContactIn,
    principal: Annotated[Principal, Depends(require("supervisor", "integration"))],
    case: VisibleCase,
    session: SessionDep,
) -> CasePublic:
    """Call (``call``) or text (``sms``) the case's responsible person now, through the configured Alibaba
    Cloud voice or SMS channels; the request, and then each attempt, is written in the case's history."""
    return contact_now(
        session,
        principal=principal,
        case=case,
        channel=body.channel,
        dispatcher=services_of(request.app).get(DISPATCHER),
    )


@router.post(
    "/deliveries/{delivery_id}/replay", response_model=DeliveryPublic, operation_id="replay_delivery"
)
def replay(
    request: Request, principal: GlobalAdmin, delivery: KnownDelivery, session: SessionDep
) -> DeliveryPublic:
    """Send a dead-lettered (or dropped) delivery again, with the same body and idempotency key."""
    return replay_delivery(
        session,
        principal=principal,
        delivery=delivery,
        dispatcher=services_of(request.app).get(DISPATCHER),
    )


@open_router.get(
    "/evidence/{sha256}",
    operation_id="evidence_by_link",
    responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}}}, 403: {"description": "Bad or expired"}},
)
def evidence(
    sha256: Sha256Path,
    request: Request,
    session: SessionDep,
    store: StoreDep,
    expires: Annotated[int, Query(ge=0, le=2**62)],
    sig: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    """One evidence file through a signed, time-limited link (sent in notifications); no key needed."""
    data, media_type = open_link(
        session,
        store=store,
        key=services_of(request.app).get(LINK_KEY),
        sha256=sha256,
        expires=expires,
        sig=sig,
    )
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    if media_type == "text/html":  # a brief: its own styles and data: pictures, nothing else
        headers["Content-Security-Policy"] = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return Response(data, media_type=media_type, headers=headers)
