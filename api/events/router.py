"""Events: list, detail, evidence, review."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from api.access.audit import audit
from api.access.deps import EventIdPath, NameQuery, Reader, Reviewer, SessionDep, StoreDep
from api.access.scope import get_event
from api.core.schemas import Time
from api.events.schemas import EventPage, EventPublic, ReviewIn
from api.events.service import CursorError, list_events, review_event
from api.http.params import API_PREFIX

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
    try:
        rows, next_cursor = list_events(
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
    except CursorError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return EventPage(data=[EventPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{event_id}", response_model=EventPublic, operation_id="get_event")
def event(event_id: EventIdPath, principal: Reader, session: SessionDep) -> EventPublic:
    """One event."""
    row = get_event(session, principal=principal, event_id=event_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id}")
    return EventPublic.model_validate(row)


@router.get(
    "/{event_id}/snapshot",
    operation_id="get_event_snapshot",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def snapshot(
    event_id: EventIdPath, principal: Reader, session: SessionDep, store: StoreDep, annotated: bool = False
) -> Response:
    """The event's best frame as JPEG; ``?annotated=true`` for the copy with boxes and labels."""
    row = get_event(session, principal=principal, event_id=event_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id}")
    digest = row.annotated_sha256 if annotated else row.snapshot_sha256
    if digest is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"event {event_id} has no snapshot")
    audit(
        session,
        actor=principal.name,
        action="download_snapshot",
        target=f"event:{event_id}",
        details={"annotated": annotated},
    )
    session.commit()
    return Response(
        store.get(digest), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get(
    "/{event_id}/clip",
    operation_id="get_event_clip",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}}}},
)
def clip(event_id: EventIdPath, principal: Reader, session: SessionDep, store: StoreDep) -> Response:
    """The event's MP4 clip, when the edge recorded one."""
    row = get_event(session, principal=principal, event_id=event_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id}")
    if row.clip_sha256 is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"event {event_id} has no clip")
    audit(session, actor=principal.name, action="download_clip", target=f"event:{event_id}")
    session.commit()
    return Response(store.get(row.clip_sha256), media_type="video/mp4")


@router.post("/{event_id}/review", response_model=EventPublic, operation_id="review_event")
def review(
    event_id: EventIdPath, body: ReviewIn, principal: Reviewer, session: SessionDep, request: Request
) -> EventPublic:
    """Confirm an event or dismiss it as a false alarm (which the event's camera then remembers)."""
    row = get_event(session, principal=principal, event_id=event_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no event {event_id}")
    review_event(
        session,
        principal=principal,
        event=row,
        verdict=body.verdict,
        note=body.note,
        false_alarm_days=request.app.state.settings.false_alarm_days,
    )
    return EventPublic.model_validate(row)
