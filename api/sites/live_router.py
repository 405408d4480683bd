"""The live view's routes: edge boxes learn of viewers and push frames; viewers read an MJPEG stream
(:mod:`api.sites.live`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request

from api.access.deps import Edge, Reader, SessionDep, SiteIdPath
from api.http.params import API_PREFIX
from api.sites.live import MjpegResponse, push_frame, wait_requests, watch
from api.sites.relay import LIVE, LiveRelay
from api.sites.schemas import LivePushed, LiveRequests

router = APIRouter(prefix=API_PREFIX, tags=["live"])

RelayDep = Annotated[LiveRelay, Depends(LIVE)]
SiteQuery = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


@router.get("/ingest/live-requests", response_model=LiveRequests, operation_id="live_requests")
async def live_requests(
    request: Request,
    principal: Edge,
    relay: RelayDep,
    site: SiteQuery,
    streaming: Annotated[
        str,
        Query(
            max_length=4096, description="Cameras the box sends already or does not have, comma-separated."
        ),
    ] = "",
    wait_s: Annotated[float, Query(ge=0, le=30)] = 25.0,
) -> LiveRequests:
    """The site's watched cameras (a long poll: the API never connects to an edge box): at once when one is
    watched that is not among ``streaming``, else as soon as a camera gains its first viewer, else after
    ``wait_s``; 403 for another site's key."""
    return await wait_requests(
        relay,
        principal=principal,
        site_id=site,
        streaming=streaming,
        wait_s=wait_s,
        gone=request.is_disconnected,
    )


@router.post(
    "/ingest/live/{camera_id}",
    response_model=LivePushed,
    operation_id="push_live_frame",
    openapi_extra={
        "requestBody": {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
async def push_live_frame(
    camera_id: SiteIdPath,
    request: Request,
    principal: Edge,
    relay: RelayDep,
    site: SiteQuery,
    frame_time: Annotated[
        float | None, Header(alias="X-Frame-Time", ge=0, le=2**32, description="Capture time, Unix s.")
    ] = None,
) -> LivePushed:
    """The camera's newest frame (JPEG; an empty body only asks) for its viewers; the answer says whether
    anyone still watches: stop sending when not. 403 for another site's key, 422 for a body not JPEG."""
    return push_frame(
        relay,
        principal=principal,
        site_id=site,
        camera_id=camera_id,
        jpeg=await request.body(),
        frame_time=frame_time,
    )


@router.get(
    "/sites/{site_id}/cameras/{camera_id}/live",
    operation_id="camera_live",
    response_class=MjpegResponse,
    status_code=200,
    responses={
        200: {"content": {"multipart/x-mixed-replace": {}}, "description": "MJPEG: each part a JPEG frame."},
        404: {"description": "No such camera, or one of a site the caller may not see."},
        429: {"description": "The camera has as many live viewers as allowed (SITEWATCH_LIVE_VIEWERS)."},
    },
)
async def camera_live(
    site_id: SiteIdPath,
    camera_id: SiteIdPath,
    principal: Reader,
    session: SessionDep,
    relay: RelayDep,
    request: Request,
) -> MjpegResponse:
    """The camera's live view, an MJPEG stream an ``<img>`` plays (each part with its capture time,
    ``X-Frame-Time``); its edge box sends frames only while someone watches. Each view is audited."""
    viewing = await watch(
        session,
        relay,
        principal=principal,
        site_id=site_id,
        camera_id=camera_id,
        gone=request.is_disconnected,
    )
    return MjpegResponse(viewing)
