"""Site-level resources: camera health from edge boxes, the site configuration they fetch, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Response, status
from sqlalchemy import select

from api.access.audit import audit
from api.access.deps import (
    Admin,
    Edge,
    GlobalAdmin,
    Reader,
    SessionDep,
    SiteIdPath,
    reporting_site,
    visible_site,
)
from api.access.schemas import AuditPublic
from api.core.schemas import check_document
from api.http.params import API_PREFIX
from api.models import AuditEntry, CameraHealth, Site, SiteConfig
from api.sites.false_alarm_memory import active_entries, suppression_totals
from api.sites.schemas import (
    CameraHealthIn,
    CameraHealthPublic,
    FalseAlarmPublic,
    SiteConfigPublic,
    SitePublic,
)
from api.sites.service import ensure_site, record_health

router = APIRouter(prefix=API_PREFIX, tags=["sites"])


@router.post("/ingest/health", status_code=status.HTTP_204_NO_CONTENT, operation_id="ingest_health")
def ingest_health(body: list[CameraHealthIn], principal: Edge, session: SessionDep) -> None:
    """The health of some cameras (replaces what was reported before)."""
    for item in body:
        reporting_site(principal, item.site_id)
    try:
        record_health(session, items=body)
    except ValueError as exc:
        session.rollback()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.get("/sites", response_model=list[SitePublic], operation_id="list_sites")
def sites(principal: Reader, session: SessionDep) -> list[SitePublic]:
    """The sites the caller may see."""
    query = select(Site).order_by(Site.id)
    if principal.site_ids:
        query = query.where(Site.id.in_(principal.site_ids))
    return [SitePublic.model_validate(row) for row in session.scalars(query)]


@router.get("/sites/{site_id}/cameras", response_model=list[CameraHealthPublic], operation_id="list_cameras")
def cameras(site_id: SiteIdPath, principal: Reader, session: SessionDep) -> list[CameraHealthPublic]:
    """Every camera of the site with its latest health."""
    visible_site(principal, site_id)
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


@router.get(
    "/sites/{site_id}/cameras/{camera_id}/thumbnail",
    operation_id="camera_thumbnail",
    responses={200: {"content": {"image/jpeg": {}}}},
)
def thumbnail(site_id: SiteIdPath, camera_id: SiteIdPath, principal: Reader, session: SessionDep) -> Response:
    """The camera's last reported frame, small."""
    visible_site(principal, site_id)
    row = session.get(CameraHealth, (site_id, camera_id))
    if row is None or row.thumbnail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no thumbnail of camera {camera_id}")
    return Response(row.thumbnail, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=10"})


@router.put("/sites/{site_id}/config", response_model=SiteConfigPublic, operation_id="put_site_config")
def put_config(
    site_id: SiteIdPath, document: Annotated[dict[str, Any], Body()], principal: Admin, session: SessionDep
) -> SiteConfigPublic:
    """Store the site's configuration (the YAML of ``configs/site.example.yaml`` as JSON); an admin scoped
    to other sites is answered as if the site did not exist (404)."""
    visible_site(principal, site_id)
    if (problem := check_document(document)) is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
    site = document.get("site")
    if site is not None and (not isinstance(site, dict) or site.get("id") not in (None, site_id)):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"site.id must be {site_id!r}")
    ensure_site(session, site_id=site_id)
    row = session.get(SiteConfig, site_id)
    now = datetime.now(UTC)
    if row is None:
        row = SiteConfig(site_id=site_id, document=document, version=1, updated_at=now)
        session.add(row)
    else:
        row.document, row.version, row.updated_at = document, row.version + 1, now
    audit(session, actor=principal.name, action="put_site_config", target=f"site:{site_id}", details={})
    session.commit()
    return SiteConfigPublic(
        site_id=site_id, version=row.version, updated_at=row.updated_at, document=row.document
    )


@router.get("/sites/{site_id}/config", response_model=SiteConfigPublic, operation_id="get_site_config")
def get_config(site_id: SiteIdPath, principal: Edge, session: SessionDep) -> SiteConfigPublic:
    """The site's configuration, for its edge boxes, with its unexpired false-alarm memory."""
    row = session.get(SiteConfig, site_id) if principal.sees(site_id) else None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no configuration for site {site_id}")
    return SiteConfigPublic(
        site_id=site_id,
        version=row.version,
        updated_at=row.updated_at,
        document=row.document,
        false_alarms=[FalseAlarmPublic.model_validate(e) for e in active_entries(session, site_id=site_id)],
    )


@router.get("/audit", response_model=list[AuditPublic], operation_id="list_audit")
def audit_log(
    principal: GlobalAdmin, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[AuditPublic]:
    """The newest audit entries (of every site: an admin scoped to some sites may not read them, 403)."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [AuditPublic.model_validate(r) for r in rows]
