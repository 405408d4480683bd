"""The event a request names, as a dependency: 404 for none, or one of a site the caller may not see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import Caller, EventIdPath, SessionDep
from api.access.scope import visible_or_404
from api.models import Event


def visible_event(event_id: EventIdPath, principal: Caller, session: SessionDep) -> Event:
    """The event ``event_id`` of the path, if the caller's sites include its site.

    Raises:
        NotFoundError: no such event, or one the caller may not see (the same answer, so that ids of other
            sites' events cannot be probed).
    """
    return visible_or_404(session, Event, event_id, principal=principal, what="event")


VisibleEvent = Annotated[Event, Depends(visible_event)]
