"""The false-alarm entry a request names, as a dependency: 404 for none, or one of a site the caller may
not see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import Caller, IdPath, SessionDep
from api.access.scope import visible_or_404
from api.models import FalseAlarm


def visible_false_alarm(entry_id: IdPath, principal: Caller, session: SessionDep) -> FalseAlarm:
    """The false-alarm entry ``entry_id`` of the path, if the caller's sites include its site.

    Raises:
        NotFoundError: no such entry, or one the caller may not see (the same answer).
    """
    return visible_or_404(session, FalseAlarm, entry_id, principal=principal, what="false-alarm entry")


VisibleFalseAlarm = Annotated[FalseAlarm, Depends(visible_false_alarm)]
