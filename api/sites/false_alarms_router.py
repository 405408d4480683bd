"""The false-alarm memory: list a site's entries (people and edge boxes), remove one (supervisors)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.access.deps import NameQuery, ReaderOrEdge, Reviewer, SessionDep, SiteIdPath, visible_site
from api.http.params import API_PREFIX
from api.sites.deps import VisibleFalseAlarm
from api.sites.false_alarm_memory import active_entries, forget_entry
from api.sites.schemas import FalseAlarmPublic

router = APIRouter(prefix=API_PREFIX, tags=["false alarms"])


@router.get(
    "/sites/{site_id}/false-alarms", response_model=list[FalseAlarmPublic], operation_id="list_false_alarms"
)
def false_alarms(
    site_id: SiteIdPath, principal: ReaderOrEdge, session: SessionDep, camera_id: NameQuery = None
) -> list[FalseAlarmPublic]:
    """The site's unexpired false-alarm entries (of one camera), which its edge boxes suppress."""
    visible_site(principal, site_id)
    rows = active_entries(session, site_id=site_id, camera_id=camera_id)
    return [FalseAlarmPublic.model_validate(r) for r in rows]


@router.delete(
    "/false-alarms/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_false_alarm"
)
def delete_false_alarm(principal: Reviewer, entry: VisibleFalseAlarm, session: SessionDep) -> None:
    """Forget one entry: its detection alarms again once the edge boxes refresh their memory."""
    forget_entry(session, actor=principal.name, entry=entry)
