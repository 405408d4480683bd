"""Sites and their cameras as the API shows them: the sites a caller may see, each camera's latest
health, and its last thumbnail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.core.errors import NotFoundError
from api.models import CameraHealth, Site
from api.sites.false_alarm_memory import suppression_totals
from api.sites.schemas import CameraHealthPublic, SitePublic


def visible_sites(session: Session, *, principal: Principal) -> list[SitePublic]:
    """The sites ``principal`` may see, by id."""
    query = select(Site).order_by(Site.id)
    if principal.site_ids:
        query = query.where(Site.id.in_(principal.site_ids))
    return [SitePublic.model_validate(row) for row in session.scalars(query)]


def cameras(session: Session, *, site_id: str) -> list[CameraHealthPublic]:
    """Every camera of ``site_id`` with its latest health, by camera id."""
    rows = session.scalars(
        select(CameraHealth).where(CameraHealth.site_id == site_id).order_by(CameraHealth.camera_id)
    )
    return [
        CameraHealthPublic.model_validate(r).model_copy(
            update={
                "has_thumbnail": r.thumbnail is not None,
                "suppressions": suppression_totals(r.suppression_counts),
            }
        )
        for r in rows
    ]


def thumbnail(session: Session, *, site_id: str, camera_id: str) -> bytes:
    """The JPEG of the camera's last reported frame, small.

    Raises:
        NotFoundError: no such camera, or none reported a thumbnail.
    """
    row = session.get(CameraHealth, (site_id, camera_id))
    if row is None or row.thumbnail is None:
        raise NotFoundError(f"no thumbnail of camera {camera_id}")
    return row.thumbnail
