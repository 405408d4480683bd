"""Officers: enrolment from photos, roster, disable, delete; the gallery for edge boxes; presence."""

from __future__ import annotations

from datetime import UTC, date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from api.access.deps import (
    Edge,
    Reader,
    Reviewer,
    SessionDep,
    SiteIdPath,
    ZoneDep,
    reporting_site,
    visible_site,
)
from api.http.params import API_PREFIX
from api.http.services import ServicesDep
from api.officers import actions
from api.officers.deps import VisibleOfficer
from api.officers.face_models import FACE_MODELS, FaceModels
from api.officers.schemas import GalleryPublic, OfficerPatch, OfficerPublic, PresencePublic, SightingIn
from api.officers.service import delete_officer, gallery, record_sighting

router = APIRouter(prefix=API_PREFIX, tags=["officers"])


@router.post(
    "/sites/{site_id}/officers",
    response_model=OfficerPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="enroll_officer",
)
async def enroll(
    site_id: SiteIdPath,
    services: ServicesDep,
    faces: Annotated[FaceModels, Depends(FACE_MODELS)],
    principal: Reviewer,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")],
    photos: Annotated[list[UploadFile], File(description="Photos of the officer alone, face visible.")],
) -> OfficerPublic:
    """Enrol an officer from photos (at most 20, each at most ``max_upload_mb`` and 50 megapixels); faces
    are embedded here, in a worker thread, one enrolment at a time, and the photos are not kept."""
    visible_site(principal, site_id)
    return await actions.enrol(
        session,
        principal=principal,
        site_id=site_id,
        name=name,
        photos=photos,
        max_bytes=int(services.settings.max_upload_mb * 2**20),
        turn=faces.turn,
        analyzer=faces.analyzer,
    )


@router.get("/sites/{site_id}/officers", response_model=list[OfficerPublic], operation_id="list_officers")
def roster(site_id: SiteIdPath, principal: Reader, session: SessionDep) -> list[OfficerPublic]:
    """The site's officers."""
    visible_site(principal, site_id)
    return actions.roster(session, site_id=site_id)


@router.patch("/officers/{officer_id}", response_model=OfficerPublic, operation_id="update_officer")
def update(
    body: OfficerPatch, principal: Reviewer, officer: VisibleOfficer, session: SessionDep
) -> OfficerPublic:
    """Enable or disable an officer (a disabled one leaves the edge gallery)."""
    return actions.set_enabled(session, principal=principal, officer=officer, enabled=body.enabled)


@router.delete(
    "/officers/{officer_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_officer"
)
def remove(principal: Reviewer, officer: VisibleOfficer, session: SessionDep) -> None:
    """Delete an officer and all their face data."""
    delete_officer(session, officer=officer, actor=principal.name)


@router.get("/sites/{site_id}/gallery", response_model=GalleryPublic, operation_id="get_gallery")
def site_gallery(site_id: SiteIdPath, principal: Edge, session: SessionDep) -> GalleryPublic:
    """Embeddings of the site's enabled officers, for its edge boxes."""
    visible_site(principal, site_id)
    return GalleryPublic(site_id=site_id, officers=gallery(session, site_id=site_id))


@router.post("/ingest/sightings", status_code=status.HTTP_204_NO_CONTENT, operation_id="ingest_sighting")
def sighting(body: SightingIn, principal: Edge, session: SessionDep) -> None:
    """An officer recognised on site; extends the presence timeline."""
    reporting_site(principal, body.site_id)
    at = body.at if body.at.tzinfo else body.at.replace(tzinfo=UTC)
    record_sighting(session, site_id=body.site_id, officer=body.officer, camera_id=body.camera_id, at=at)


@router.get("/sites/{site_id}/presence", response_model=list[PresencePublic], operation_id="get_presence")
def presence(
    site_id: SiteIdPath,
    day: date,
    principal: Reader,
    session: SessionDep,
    zone: ZoneDep,
) -> list[PresencePublic]:
    """The officers' presence on a day (in time zone ``tz``, by default the API's)."""
    visible_site(principal, site_id)
    return actions.presence(session, site_id=site_id, day=day, zone=zone)
