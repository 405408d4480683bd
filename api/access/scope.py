"""Rows a principal may see, looked up by id: what is outside the principal's sites does not exist for it.

>>> from api.access.auth import Principal
>>> Principal(name="x", role="viewer", site_ids=("a",)).sees("b")
False
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.models import Event


def get_event(session: Session, *, principal: Principal, event_id: str) -> Event | None:
    """One event, or ``None`` when it does not exist or the principal may not see its site."""
    event = session.get(Event, event_id)
    if event is None or not principal.sees(event.site_id):
        return None
    return event
