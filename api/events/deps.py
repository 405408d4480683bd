"""The event a request names, as a dependency: 404 for none, or one of a site the caller may not see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import Caller, EventIdPath, SessionDep
from api.access.scope import get_event
from api.core.errors import NotFoundError
from api.models import Event


def visible_event(event_id: EventIdPath, principal: Caller, session: SessionDep) -> Event:
    """The event ``event_id`` of the path, if the caller's sites include its site.

    Raises:
        NotFoundError: no such event, or one the caller may not see (the same answer, so that ids of other
            sites' events cannot be probed).
    """
    event = get_event(session, principal=principal, event_id=event_id)
    if event is None:
        raise NotFoundError(f"no event {event_id}")
    return event


VisibleEvent = Annotated[Event, Depends(visible_event)]
