"""Sites and their cameras as the API shows them: the sites a caller may see, each camera's latest
health (judged offline once its last report is older than ``SITEWATCH_CAMERA_STALE_S``), and its last
thumbnail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.core.errors import NotFoundError
from api.models import CameraHealth, FalseAlarm, Project, Site
from api.sites.false_alarm_memory import suppression_totals
from api.sites.schemas import CameraHealthPublic, CameraListed, FalseAlarmPublic, SitePublic


def visible_sites(session: Session, *, principal: Principal) -> list[SitePublic]:
    """The sites ``principal`` may see, by id."""
    query = select(Site).order_by(Site.id)
    if principal.site_ids:
        query = query.where(Site.id.in_(principal.site_ids))
    return [SitePublic.model_validate(row) for row in session.scalars(query)]


#: The columns of a camera's health that lists show (not its thumbnail: up to 200 KB a camera).
_HEALTH = (
    CameraHealth.site_id,
    CameraHealth.camera_id,
    CameraHealth.online,
    CameraHealth.input_fps,
    CameraHealth.frames_processed,
    CameraHealth.last_frame_at,
    CameraHealth.offline_since,
    CameraHealth.last_error,
    CameraHealth.reported_at,
    CameraHealth.thumbnail.is_not(None).label("has_thumbnail"),
    CameraHealth.suppression_counts,
)


def aware(at: datetime) -> datetime:
    """``at`` with its time zone: SQLite gives stored UTC times back without one."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def judged(row: Any, *, now: datetime, stale_s: float) -> dict[str, Any]:
    """A camera's health row (of :data:`_HEALTH`) as :class:`CameraHealthPublic` reads it, ``online`` as
    judged at ``now``: what was reported, unless the report is older than ``stale_s``."""
    seen = max(0.0, (now - aware(row.reported_at)).total_seconds())
    stale = seen > stale_s
    return {
        "site_id": row.site_id,
        "camera_id": row.camera_id,
        "online": bool(row.online) and not stale,
        "reported_online": bool(row.online),
        "stale": stale,
        "last_seen_s": round(seen, 1),
        "stale_after_s": stale_s,
        "input_fps": row.input_fps,
        "frames_processed": row.frames_processed,
        "last_frame_at": row.last_frame_at,
        "offline_since": row.offline_since,
        "last_error": row.last_error,
        "reported_at": row.reported_at,
        "has_thumbnail": bool(row.has_thumbnail),
        "suppressions": suppression_totals(row.suppression_counts),
    }


def cameras(
    session: Session, *, site_id: str, stale_s: float, now: datetime | None = None
) -> list[CameraHealthPublic]:
    """Every camera of ``site_id`` with its latest health, by camera id; a camera not heard from for over
    ``stale_s`` seconds is offline (:func:`judged`)."""
    now = now or datetime.now(UTC)
    rows = session.execute(
        select(*_HEALTH).where(CameraHealth.site_id == site_id).order_by(CameraHealth.camera_id)
    )
    return [CameraHealthPublic(**judged(r, now=now, stale_s=stale_s)) for r in rows]


def all_cameras(
    session: Session,
    *,
    principal: Principal,
    stale_s: float,
    offline_only: bool = False,
    now: datetime | None = None,
) -> list[CameraListed]:
    """Every camera ``principal`` may see, by project name (sites without a project last), site and camera,
    each with its site's and project's names and its unexpired false-alarm memory: two queries for any
    number of sites. ``offline_only``: only the cameras offline now (reported so, or stale)."""
    now = now or datetime.now(UTC)
    scope = [CameraHealth.site_id.in_(principal.site_ids)] if principal.site_ids else []
    rows = session.execute(
        select(
            *_HEALTH,
            Site.name.label("site_name"),
            Project.id.label("project_id"),
            Project.name.label("project_name"),
        )
        .join(Site, Site.id == CameraHealth.site_id)
        .outerjoin(Project, Project.site_id == CameraHealth.site_id)
        .where(*scope)
    )
    found = []
    for r in rows:
        camera = judged(r, now=now, stale_s=stale_s)
        if offline_only and camera["online"]:
            continue
        found.append(
            camera
            | {
                "site_name": r.site_name or "",
                "project_id": r.project_id,
                "project_name": r.project_name or "",
            }
        )
    found.sort(key=lambda c: (c["project_id"] is None, c["project_name"], c["site_id"], c["camera_id"]))
    memory: dict[tuple[str, str], list[FalseAlarmPublic]] = {}
    if found:
        entries = select(FalseAlarm).where(
            FalseAlarm.expires_at > now,
            FalseAlarm.site_id.in_({c["site_id"] for c in found}),
        )
        for entry in session.scalars(
            entries.order_by(FalseAlarm.site_id, FalseAlarm.camera_id, FalseAlarm.id)
        ):
            memory.setdefault((entry.site_id, entry.camera_id), []).append(
                FalseAlarmPublic.model_validate(entry)
            )
    return [CameraListed(**c, false_alarms=memory.get((c["site_id"], c["camera_id"]), [])) for c in found]


def thumbnail(session: Session, *, site_id: str, camera_id: str) -> bytes:
    """The JPEG of the camera's last reported frame, small.

    Raises:
        NotFoundError: no such camera, or none reported a thumbnail.
    """
    row = session.get(CameraHealth, (site_id, camera_id))
    if row is None or row.thumbnail is None:
        raise NotFoundError(f"no thumbnail of camera {camera_id}")
    return row.thumbnail
