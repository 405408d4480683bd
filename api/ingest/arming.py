"""Which incoming violations a project's dates disarm (issue 16), for the ingest's batches.

A violation whose event starts while its site's project is not active (before its start, after its end,
or once closed: :func:`api.projects.service.is_armed`) is acknowledged but not stored: no event row, no
case. Sites without a project are armed, as before projects existed; events already stored go on being
updated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import get_args

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from api.core.db import local_zone
from api.core.kinds import EventKindName
from api.events.schemas import IngestEventIn
from api.models import Project
from api.projects.service import is_armed

logger = logging.getLogger(__name__)

#: The kinds a project's dates arm: the violations (a camera going offline is reported whatever the dates).
ARMED_KINDS = frozenset(get_args(EventKindName)) - {"camera_offline"}

_PROJECTS = select(Project).where(Project.site_id.in_(bindparam("sites", expanding=True)))


def disarmed(session: Session, *, updates: Iterable[tuple[int, IngestEventIn]]) -> set[int]:
    """The indexes of ``updates`` (index, update of an event not stored yet) that fall outside their
    site's project's dates: one query for the whole batch, none when no update is a violation."""
    candidates = [(i, u) for i, u in updates if u.kind in ARMED_KINDS]
    if not candidates:
        return set()
    sites = sorted({u.site_id for _, u in candidates})
    projects = {p.site_id: p for p in session.scalars(_PROJECTS, {"sites": sites})}
    dropped = set()
    zone = local_zone(session)
    for index, update in candidates:
        project = projects.get(update.site_id)
        if project is not None and not is_armed(project, at=update.started_at, zone=zone):
            logger.debug(
                "%s of event %s (site %s, started %s) dropped: project %d is not active then",
                update.kind,
                update.event_id,
                update.site_id,
                update.started_at.isoformat(),
                project.id,
            )
            dropped.add(index)
    return dropped
