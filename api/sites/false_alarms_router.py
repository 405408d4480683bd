"""The false-alarm memory: list a site's entries (people and edge boxes), remove one (supervisors)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.access.audit import audit
from api.access.deps import IdPath, NameQuery, ReaderOrEdge, Reviewer, SessionDep, SiteIdPath, visible_site
from api.http.params import API_PREFIX
from api.models import FalseAlarm
from api.sites.false_alarm_memory import active_entries
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
def delete_false_alarm(entry_id: IdPath, principal: Reviewer, session: SessionDep) -> None:
    """Forget one entry: its detection alarms again once the edge boxes refresh their memory."""
    row = session.get(FalseAlarm, entry_id)
    if row is None or not principal.sees(row.site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no false-alarm entry {entry_id}")
    audit(
        session,
        actor=principal.name,
        action="delete_false_alarm",
        target=f"false_alarm:{entry_id}",
        details={"camera_id": row.camera_id, "kind": row.kind, "event_id": row.event_id},
    )
    session.delete(row)
    session.commit()
