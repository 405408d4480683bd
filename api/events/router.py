"""Events: list, detail, evidence, review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.access.deps import Reader, Reviewer, SessionDep, StoreDep
from api.events import evidence
from api.events.deps import EventFiltersDep, VisibleEvent
from api.events.export import Lang, export_events
from api.events.schemas import EventPage, EventPublic, PendingCount, ReviewIn
from api.events.service import event_page, pending_count, review_event
from api.http.export import MEDIA_TYPES, ExportFormat
from api.http.params import API_PREFIX
from api.http.services import ServicesDep, services_of

router = APIRouter(prefix=f"{API_PREFIX}/events", tags=["events"])


@router.get("", response_model=EventPage, operation_id="list_events")
def events(
    principal: Reader,
    session: SessionDep,
    filters: EventFiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> EventPage:
    """Events newest first, with filters, cursor pagination and the exact number matching (``total``)."""
    return event_page(session, principal=principal, filters=filters, limit=limit, cursor=cursor)


@router.get(
    "/export",
    operation_id="export_events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, MEDIA_TYPES["xlsx"]: {}}}},
)
def events_export(
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    filters: EventFiltersDep,
    fmt: Annotated[ExportFormat, Query(alias="format")] = "csv",
    lang: Lang = "zh",
) -> StreamingResponse:
    """Every event matching the filters (the list's), newest first, as CSV (UTF-8 with a byte-order mark)
    or XLSX, with Chinese (``lang=zh``) or English headers; audited as an export."""
    return export_events(
        session, sessions=services.sessions, principal=principal, filters=filters, fmt=fmt, lang=lang
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
