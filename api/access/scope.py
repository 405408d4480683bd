"""Rows a principal may see, looked up by id: what is outside the principal's sites does not exist for it.

>>> from api.access.auth import Principal
>>> Principal(name="x", role="viewer", site_ids=("a",)).sees("b")
False
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.core.errors import NotFoundError
from api.models import Event


class OfASite(Protocol):
    """A row that belongs to one site."""

    @property
    def site_id(self) -> str: ...


RowT = TypeVar("RowT", bound=OfASite)


def get_visible(session: Session, model: type[RowT], key: Any, *, principal: Principal) -> RowT | None:
    """The ``model`` row of primary key ``key``, or ``None`` when there is none or the principal may not see
    its site."""
    row = session.get(model, key)
    if row is None or not principal.sees(row.site_id):
        return None
    return row


def visible_or_404(session: Session, model: type[RowT], key: Any, *, principal: Principal, what: str) -> RowT:
    """As :func:`get_visible`, for the row a request's path names.

    Raises:
        NotFoundError: ``no {what} {key}``, whether the row does not exist or the principal may not see it
            (the same answer, so that ids of other sites' rows cannot be probed).
    """
    row = get_visible(session, model, key, principal=principal)
    if row is None:
        raise NotFoundError(f"no {what} {key}")
    return row


def get_event(session: Session, *, principal: Principal, event_id: str) -> Event | None:
    """One event, or ``None`` when it does not exist or the principal may not see its site."""
    return get_visible(session, Event, event_id, principal=principal)
