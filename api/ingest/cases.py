"""Case work for the events a batch of updates started, with one look-up for the whole batch."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, CompoundSelect, bindparam, literal, null, select, union_all
from sqlalchemy.orm import Session

from api.cases.service import default_policy, maybe_open_case, recurrence
from api.models import Case, CasePolicy, Event

# Built once: building a statement (and its cache key) costs more CPU than running it.
_SITES: BindParameter[str] = bindparam("sites", expanding=True)
#: Everything case work at an event's start depends on, for the batch's sites, in one round trip:
#: ("reinspection", site, camera, kind) for each case under re-inspection, and (trigger, site, None, kind)
#: for each case policy a site has set.
_CASE_WORK: CompoundSelect[str, str, str | None, str] = union_all(
    select(literal("reinspection"), Case.site_id, Case.camera_id, Case.kind).where(
        Case.status == "reinspection", Case.site_id.in_(_SITES)
    ),
    select(CasePolicy.trigger, CasePolicy.site_id, null(), CasePolicy.kind).where(
        CasePolicy.site_id.in_(_SITES)
    ),
)


def open_cases(
    session: Session, *, started: list[str], actors: dict[str, str], rows: dict[str, dict[str, Any]]
) -> None:
    """Case work for events that started: reopen a re-inspected case the violation came back to, and open a
    case where the site's policy says so at the start. Most starts need neither, which one look-up for the
    whole batch establishes; only the rest load their event."""
    if not started:
        return
    sites = sorted({rows[i]["site_id"] for i in started})
    inspected: set[tuple[str, str | None, str]] = set()
    custom: dict[tuple[str, str], str] = {}
    for what, site, camera, kind in session.connection().execute(_CASE_WORK, {"sites": sites}):
        if what == "reinspection":
            inspected.add((site, camera, kind))
        else:
            custom[(site, kind)] = what
    for event_id in started:
        row = rows[event_id]
        reinspected = (row["site_id"], row["camera_id"], row["kind"]) in inspected
        on_start = _trigger(custom, row["site_id"], row["kind"]) == "on_start"
        if not (reinspected or on_start):
            continue
        event = session.get_one(Event, event_id)
        if reinspected:
            recurrence(session, event=event)
        if on_start:
            maybe_open_case(session, event=event, moment="on_start", actor=actors[event_id])


def _trigger(custom: dict[tuple[str, str], str], site_id: str, kind: str) -> str:
    """The trigger of ``kind`` on ``site_id``: the site's policy, else the default (as
    api.cases.service.policy)."""
    return custom.get((site_id, kind)) or default_policy(kind)[0]
