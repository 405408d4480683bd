"""The event a request names, as a dependency: 404 for none, or one of a site the caller may not see."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query

from api.access.deps import Caller, EventIdPath, NameQuery, SessionDep
from api.access.scope import visible_or_404
from api.core.schemas import Time
from api.events.service import EventFilters
from api.models import Event


def visible_event(event_id: EventIdPath, principal: Caller, session: SessionDep) -> Event:
    """The event ``event_id`` of the path, if the caller's sites include its site.

    Raises:
        NotFoundError: no such event, or one the caller may not see (the same answer, so that ids of other
            sites' events cannot be probed).
    """
    return visible_or_404(session, Event, event_id, principal=principal, what="event")


VisibleEvent = Annotated[Event, Depends(visible_event)]


def event_filters(
    site_id: NameQuery = None,
    camera_id: NameQuery = None,
    kind: NameQuery = None,
    review_status: Literal["pending", "confirmed", "false_alarm"] | None = None,
    since: Time | None = None,
    until: Time | None = None,
    project_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    contractor: Annotated[
        str | None, Query(max_length=200, description="A part of the project's company (施工单位), any case.")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="A part of the project's name, address or company, the event or camera.",
        ),
    ] = None,
) -> EventFilters:
    """An events list's filters from the query string (the same for the list and its export)."""
    return EventFilters(
        site_id=site_id,
        camera_id=camera_id,
        kind=kind,
        review_status=review_status,
        since=since,
        until=until,
        project_id=project_id,
        contractor=contractor,
        q=q,
    )


#: The filters of an events list (api.events.service.EventFilters).
EventFiltersDep = Annotated[EventFilters, Depends(event_filters)]
