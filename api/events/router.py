"""Events: list, detail, evidence, review."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.access.deps import NameQuery, Reader, Reviewer, SessionDep, StoreDep
from api.core.schemas import Time
from api.events import evidence
from api.events.deps import VisibleEvent
from api.events.schemas import EventPage, EventPublic, PendingCount, ReviewIn
from api.events.service import event_page, pending_count, review_event
from api.http.params import API_PREFIX
from api.http.services import services_of

router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"])


@router.get("", response_model=EventPage, operation_id="list_events")
def events(
    principal: Reader,
    session: SessionDep,
    site_id: NameQuery = None,
    camera_id: NameQuery = None,
    kind: NameQuery = None,
    review_status: Literal["pending", "confirmed", "false_alarm"] | None = None,
    since: Time | None = None,
    until: Time | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> EventPage:
    """Events newest first, with filters and cursor pagination."""
    return event_page(
        session,
        principal=principal,
        site_id=site_id,
        camera_id=camera_id,
        kind=kind,
        review_status=review_status,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )


@router.get("/pending-count", response_model=PendingCount, operation_id="count_pending_events")
def pending(principal: Reader, session: SessionDep) -> PendingCount:
    """How many events of the caller's sites wait for review (the web UI's badge polls it)."""
    return pending_count(session, principal=principal)


@router.get("/{event_id}", response_model=EventPublic, operation_id="get_event")
def event(principal: Reader, event: VisibleEvent) -> EventPublic:
    """One event."""
    return EventPublic.model_validate(event)


@router.get(
    "/{event_id}/snapshot",
    operation_id="get_event_snapshot",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def snapshot(
    principal: Reader, event: VisibleEvent, session: SessionDep, store: StoreDep, annotated: bool = False
) -> Response:
    """The event's best frame as JPEG; ``?annotated=true`` for the copy with boxes and labels."""
    jpeg = evidence.snapshot(session, principal=principal, event=event, store=store, annotated=annotated)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/{event_id}/clip",
    operation_id="get_event_clip",
    response_class=Response,
    responses={200: {"content": {evidence.CLIP_MEDIA_TYPE: {}}}},
)
def clip(principal: Reader, event: VisibleEvent, session: SessionDep, store: StoreDep) -> Response:
    """The event's MP4 clip (H.264), when the edge recorded one; a clip an older edge box wrote in a codec
    browsers do not play is transcoded on its first request and kept."""
    return Response(
        evidence.clip(session, principal=principal, event=event, store=store),
        media_type=evidence.CLIP_MEDIA_TYPE,
    )


@router.post("/{event_id}/review", response_model=EventPublic, operation_id="review_event")
def review(
    body: ReviewIn, principal: Reviewer, event: VisibleEvent, session: SessionDep, request: Request
) -> EventPublic:
    """Confirm an event or dismiss it as a false alarm (which the event's camera then remembers)."""
    review_event(
        session,
        principal=principal,
        event=event,
        verdict=body.verdict,
        note=body.note,
        false_alarm_days=services_of(request.app).settings.false_alarm_days,
    )
    return EventPublic.model_validate(event)
