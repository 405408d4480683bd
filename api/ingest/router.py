"""``POST /api/v1/ingest/events``: event updates with evidence from edge boxes."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.access.deps import Edge, reporting_site
from api.events.retention import apply_retention, retention_policy
from api.events.schemas import IngestEventIn, IngestResult
from api.http.multipart import read_parts
from api.http.params import API_PREFIX
from api.ingest.group_commit import GroupCommitter
from api.ingest.prepare import MEDIA, EventConflictError, IngestError, Submission
from api.storage.interface import EvidenceStore

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
async def ingest_event(request: Request, principal: Edge) -> Response:
    """Store an event update and its evidence; idempotent on (event id, seq).

    The body is read by :func:`api.http.multipart.read_parts` rather than through ``Form``/``File``
    parameters: this route takes every update of every edge box, and FastAPI's form handling cost it more
    CPU than the storing does.
    """
    state = request.app.state
    limit = int(state.settings.max_upload_mb * 2**20)
    parts = await read_parts(request, limits={"event": EVENT_PART_LIMIT} | dict.fromkeys(MEDIA, limit))
    if (event := parts.pop("event", None)) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "missing part 'event'")
    try:
        update = IngestEventIn.model_validate_json(event)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors())
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"invalid event: {problems}") from None
    reporting_site(principal, update.site_id)
    counter = state.metrics.ingested
    try:
        # Stored on the group-commit thread, with the other updates arriving now (api.ingest.group_commit):
        # the hashing, file writes and transaction stay off the event loop, and one commit serves them all.
        committer: GroupCommitter = state.committer
        result = await committer.submit(Submission(update, parts, principal.name))
    except EventConflictError as exc:
        counter.labels("refused").inc()
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except IngestError as exc:
        counter.labels("refused").inc()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    counter.labels(result.status).inc()
    store: EvidenceStore = state.store
    if result.status != "stored":
        code = status.HTTP_200_OK
        if result.status == "disarmed":
            state.metrics.disarmed.labels(update.site_id, update.kind).inc()
    else:
        code = status.HTTP_201_CREATED
        if parts and (free := store.free_mb()) is not None and free < state.settings.min_free_mb:
            # The disk must never fill: make room now rather than at the next periodic pass.
            # One pass at a time and a few seconds apart (api.events.retention.Throttle): each frees the
            # shortfall.
            await run_in_threadpool(state.low_disk.run, partial(_make_room, request, store))
    # A plain response: the result is already a validated model, so FastAPI's response validation is skipped.
    return Response(result.model_dump_json(), status_code=code, media_type="application/json")


def _make_room(request: Request, store: EvidenceStore) -> None:
    with request.app.state.sessions() as session:
        apply_retention(session, store=store, policy=retention_policy(request.app.state.settings))
