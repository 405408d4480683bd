"""Site-level resources: camera health from edge boxes, the site configuration they fetch, the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response, status

from api.access.audit import recent
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
from api.http.params import API_PREFIX
from api.http.services import ServicesDep, services_of
from api.sites import listing
from api.sites.config import CONFIG_CHECK, put_site_config, site_config
from api.sites.schemas import (
    CameraHealthIn,
    CameraHealthPublic,
    CameraListed,
    SiteConfigPublic,
    SitePublic,
)
from api.sites.service import record_health

router = APIRouter(prefix=API_PREFIX, tags=["sites"])


@router.post("/ingest/health", status_code=status.HTTP_204_NO_CONTENT, operation_id="ingest_health")
def ingest_health(body: list[CameraHealthIn], principal: Edge, session: SessionDep) -> None:
    """The health of some cameras (replaces what was reported before)."""
    for item in body:
        reporting_site(principal, item.site_id)
    record_health(session, items=body)


@router.get("/sites", response_model=list[SitePublic], operation_id="list_sites")
def sites(principal: Reader, session: SessionDep) -> list[SitePublic]:
    """The sites the caller may see."""
    return listing.visible_sites(session, principal=principal)


@router.get("/sites/{site_id}/cameras", response_model=list[CameraHealthPublic], operation_id="list_cameras")
def cameras(
    site_id: SiteIdPath, principal: Reader, session: SessionDep, services: ServicesDep
) -> list[CameraHealthPublic]:
    """Every camera of the site with its latest health (offline once its last report is older than
    ``SITEWATCH_CAMERA_STALE_S``)."""
    visible_site(principal, site_id)
    return listing.cameras(session, site_id=site_id, stale_s=services.settings.camera_stale_s)


@router.get("/cameras", response_model=list[CameraListed], operation_id="list_all_cameras")
def all_cameras(
    principal: Reader,
    session: SessionDep,
    services: ServicesDep,
    offline: Annotated[bool, Query(description="Only the cameras offline now.")] = False,
) -> list[CameraListed]:
    """Every camera of the caller's sites in one answer, by project: its latest health (offline once its
    last report is older than ``SITEWATCH_CAMERA_STALE_S``), its site's and project's names, and its
    unexpired false-alarm memory."""
    return listing.all_cameras(
        session, principal=principal, stale_s=services.settings.camera_stale_s, offline_only=offline
    )


@router.get(
    "/sites/{site_id}/cameras/{camera_id}/thumbnail",
    operation_id="camera_thumbnail",
    responses={200: {"content": {"image/jpeg": {}}}},
)
def thumbnail(site_id: SiteIdPath, camera_id: SiteIdPath, principal: Reader, session: SessionDep) -> Response:
    """The camera's last reported frame, small."""
    visible_site(principal, site_id)
    jpeg = listing.thumbnail(session, site_id=site_id, camera_id=camera_id)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=10"})


@router.put("/sites/{site_id}/config", response_model=SiteConfigPublic, operation_id="put_site_config")
def put_config(
    site_id: SiteIdPath,
    document: Annotated[dict[str, Any], Body()],
    principal: Admin,
    session: SessionDep,
    request: Request,
) -> SiteConfigPublic:
    """Store the site's configuration (the YAML of ``configs/site.example.yaml`` as JSON) if its workers
    will load it (422 with their reasons otherwise); an admin scoped to other sites is answered as if the
    site did not exist (404)."""
    visible_site(principal, site_id)
    return put_site_config(
        session,
        principal=principal,
        site_id=site_id,
        document=document,
        check=services_of(request.app).get(CONFIG_CHECK),
    )


@router.get("/sites/{site_id}/config", response_model=SiteConfigPublic, operation_id="get_site_config")
def get_config(site_id: SiteIdPath, principal: Edge, session: SessionDep) -> SiteConfigPublic:
    """The site's configuration, for its edge boxes, with its unexpired false-alarm memory."""
    return site_config(session, principal=principal, site_id=site_id)


@router.get("/audit", response_model=list[AuditPublic], operation_id="list_audit")
def audit_log(
    principal: GlobalAdmin, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[AuditPublic]:
    """The newest audit entries (of every site: an admin scoped to some sites may not read them, 403)."""
    return recent(session, limit=limit)
