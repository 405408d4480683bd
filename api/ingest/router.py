"""``POST /api/v1/ingest/events``: event updates with evidence from edge boxes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.access.deps import Edge
from api.events.schemas import IngestResult
from api.http.multipart import read_parts
from api.http.params import API_PREFIX
from api.http.services import ServicesDep
from api.ingest.prepare import MEDIA
from api.ingest.receive import receive

router = APIRouter(prefix=f"{API_PREFIX}/ingest", tags=["ingest"])


#: The parts of an ingest body and their media (documented in the OpenAPI schema; read by api.http.multipart).
_BODY_SCHEMA = {
    "type": "object",
    "required": ["event"],
    "properties": {
        "event": {
            "type": "string",
            "description": "The update as JSON (streams.events.EventUpdate.to_json).",
        },
        "snapshot": {"type": "string", "format": "binary", "description": "JPEG, the moment of the update."},
        "annotated": {
            "type": "string",
            "format": "binary",
            "description": "JPEG, the same with boxes drawn.",
        },
        "clip": {"type": "string", "format": "binary", "description": "MP4 around the moment."},
    },
}

#: The ``event`` part is a small JSON document.
EVENT_PART_LIMIT = 2**20


@router.post(
    "/events",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    operation_id="ingest_event",
    responses={
        200: {
            "description": "A repeat of an update already stored, or a violation while the site's project is "
            "not active (status disarmed); nothing changed.",
            "model": IngestResult,
        },
        400: {"description": "The body is not well-formed multipart."},
        409: {"description": "The event id belongs to an event of another site."},
        413: {"description": "A part exceeds its size limit."},
        415: {"description": "The body is not multipart/form-data."},
        422: {"description": "The update or one of its files is not valid; the detail says why."},
        507: {"description": "The server's disk is full; nothing was stored, retry later."},
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _BODY_SCHEMA}}}
    },
)
async def ingest_event(request: Request, principal: Edge, services: ServicesDep) -> Response:
    """Store an event update and its evidence; idempotent on (event id, seq).

    The body is read by :func:`api.http.multipart.read_parts` rather than through ``Form``/``File``
    parameters: this route takes every update of every edge box, and FastAPI's form handling cost it more
    CPU than the storing does.
    """
    limit = int(services.settings.max_upload_mb * 2**20)
    parts = await read_parts(request, limits={"event": EVENT_PART_LIMIT} | dict.fromkeys(MEDIA, limit))
    result = await receive(services, principal=principal, parts=parts)
    code = status.HTTP_201_CREATED if result.status == "stored" else status.HTTP_200_OK
    # A plain response: the result is already a validated model, so FastAPI's response validation is skipped.
    return Response(result.model_dump_json(), status_code=code, media_type="application/json")
