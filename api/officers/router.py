"""Officers: enrolment from photos, roster, disable, delete; the gallery for edge boxes; presence."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.access.audit import audit
from api.access.auth import Principal
from api.access.deps import (
    Edge,
    IdPath,
    Reader,
    Reviewer,
    SessionDep,
    SiteIdPath,
    TzQuery,
    reporting_site,
    time_zone,
    visible_site,
)
from api.http.params import API_PREFIX
from api.models import Officer, OfficerEmbedding
from api.officers.schemas import GalleryPublic, OfficerPatch, OfficerPublic, PresencePublic, SightingIn
from api.officers.service import (
    MAX_PHOTOS,
    FaceKeyError,
    delete_officer,
    enroll_officer,
    gallery,
    record_sighting,
    timeline,
)

router = APIRouter(prefix=API_PREFIX, tags=["officers"])

#: How long an enrolment waits for the one before it to finish before a 503.
ENROLMENT_WAIT_S = 30.0


def _public(session: Session, officer: Officer, rejected: list[str] | None = None) -> OfficerPublic:
    count = session.scalar(select(func.count()).where(OfficerEmbedding.officer_id == officer.id)) or 0
    return OfficerPublic(
        id=officer.id,
        site_id=officer.site_id,
        name=officer.name,
        enabled=officer.enabled,
        created_at=officer.created_at,
        embeddings=count,
        rejected=rejected or [],
    )


def _analyzer(request: Request) -> object:
    """The face models, loaded on first use and shared."""
    if getattr(request.app.state, "face_analyzer", None) is None:
        from detector.faces import FaceAnalyzer, FaceSettings

        request.app.state.face_analyzer = FaceAnalyzer.load(FaceSettings())
    return request.app.state.face_analyzer


@router.post(
    "/sites/{site_id}/officers",
    response_model=OfficerPublic,
    status_code=status.HTTP_201_CREATED,
    operation_id="enroll_officer",
)
async def enroll(
    site_id: SiteIdPath,
    request: Request,
    principal: Reviewer,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")],
    photos: Annotated[list[UploadFile], File(description="Photos of the officer alone, face visible.")],
) -> OfficerPublic:
    """Enrol an officer from photos (at most 20, each at most ``max_upload_mb`` and 50 megapixels); faces
    are embedded here, in a worker thread, one enrolment at a time, and the photos are not kept."""
    visible_site(principal, site_id)
    if len(photos) > MAX_PHOTOS:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"{len(photos)} photos; at most {MAX_PHOTOS} per enrolment"
        )
    limit = int(request.app.state.settings.max_upload_mb * 2**20)
    data = []
    for photo in photos:
        content = await photo.read(limit + 1)
        if len(content) > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"photo {photo.filename} exceeds {limit} bytes"
            )
        data.append((photo.filename or "photo", content))
    turn = request.app.state.enrolments
    try:
        await asyncio.wait_for(turn.acquire(), ENROLMENT_WAIT_S)
    except TimeoutError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "another enrolment is running: retry shortly",
            headers={"Retry-After": "10"},
        ) from None
    try:
        result = await run_in_threadpool(
            lambda: enroll_officer(
                session,
                site_id=site_id,
                name=name,
                photos=data,
                analyzer=_analyzer(request),
                actor=principal.name,
            )
        )
    except FaceKeyError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    finally:
        turn.release()
    return await run_in_threadpool(_public, session, result.officer, result.rejected)


@router.get("/sites/{site_id}/officers", response_model=list[OfficerPublic], operation_id="list_officers")
def roster(site_id: SiteIdPath, principal: Reader, session: SessionDep) -> list[OfficerPublic]:
    """The site's officers."""
    visible_site(principal, site_id)
    rows = session.scalars(select(Officer).where(Officer.site_id == site_id).order_by(Officer.name))
    return [_public(session, o) for o in rows]


def _officer(session: Session, principal: Principal, officer_id: int) -> Officer:
    officer = session.get(Officer, officer_id)
    if officer is None or not principal.sees(officer.site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no officer {officer_id}")
    return officer


@router.patch("/officers/{officer_id}", response_model=OfficerPublic, operation_id="update_officer")
def update(officer_id: IdPath, body: OfficerPatch, principal: Reviewer, session: SessionDep) -> OfficerPublic:
    """Enable or disable an officer (a disabled one leaves the edge gallery)."""
    officer = _officer(session, principal, officer_id)
    officer.enabled = body.enabled
    audit(
        session,
        actor=principal.name,
        action="update_officer",
        target=f"officer:{officer_id}",
        details={"enabled": body.enabled},
    )
    session.commit()
    return _public(session, officer)


@router.delete(
    "/officers/{officer_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_officer"
)
def remove(officer_id: IdPath, principal: Reviewer, session: SessionDep) -> None:
    """Delete an officer and all their face data."""
    delete_officer(session, officer=_officer(session, principal, officer_id), actor=principal.name)


@router.get("/sites/{site_id}/gallery", response_model=GalleryPublic, operation_id="get_gallery")
def site_gallery(site_id: SiteIdPath, principal: Edge, session: SessionDep) -> GalleryPublic:
    """Embeddings of the site's enabled officers, for its edge boxes."""
    visible_site(principal, site_id)
    try:
        return GalleryPublic(site_id=site_id, officers=gallery(session, site_id=site_id))
    except FaceKeyError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


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
    tz: TzQuery = "UTC",
) -> list[PresencePublic]:
    """The officers' presence on a day (in time zone ``tz``)."""
    visible_site(principal, site_id)
    zone = time_zone(tz)
    try:
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        end = start + timedelta(days=1)
        start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError:  # the first or last day of the calendar
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"day {day} is out of range") from None
    rows = timeline(session, site_id=site_id, start=start, end=end)
    return [PresencePublic.model_validate(r) for r in rows]
