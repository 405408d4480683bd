"""Deliveries of notifications: the dead letters and their replay; signed evidence links."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from sqlalchemy import select

from api.access.audit import audit
from api.access.deps import GlobalAdmin, IdPath, SessionDep, StoreDep
from api.delivery.links import valid
from api.delivery.schemas import DeliveryPublic
from api.http.params import API_PREFIX
from api.models import Delivery, EvidenceFile

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
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if delivery_status is not None:
        query = query.where(Delivery.status == delivery_status)
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    return [DeliveryPublic.model_validate(row) for row in session.scalars(query)]


@router.post(
    "/deliveries/{delivery_id}/replay", response_model=DeliveryPublic, operation_id="replay_delivery"
)
def replay(
    delivery_id: IdPath, request: Request, principal: GlobalAdmin, session: SessionDep
) -> DeliveryPublic:
    """Send a dead-lettered (or dropped) delivery again, with the same body and idempotency key."""
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no delivery {delivery_id}")
    if row.status not in ("failed", "dropped"):
        raise HTTPException(status.HTTP_409_CONFLICT, f"delivery {delivery_id} is {row.status}, not failed")
    row.status, row.attempts = "pending", 0
    row.next_attempt_at, row.created_at = datetime.now(UTC), datetime.now(UTC)
    row.lease_until = row.lease_token = None
    audit(session, actor=principal.name, action="replay_delivery", target=f"delivery:{row.id}")
    session.commit()
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()
    return DeliveryPublic.model_validate(row)


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
    if not valid(request.app.state.link_key, sha256, expires, sig):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the link is invalid or has expired")
    row = session.get(EvidenceFile, sha256)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this evidence is no longer kept")
    audit(session, actor="signed-link", action="download_evidence", target=f"evidence:{sha256}")
    session.commit()
    try:
        data = store.get(sha256)
    except FileNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this evidence is no longer kept") from None
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    if row.media_type == "text/html":  # a brief: its own styles and data: pictures, nothing else
        headers["Content-Security-Policy"] = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return Response(data, media_type=row.media_type, headers=headers)
