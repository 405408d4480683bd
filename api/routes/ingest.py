"""``POST /api/v1/ingest/events``: event updates with evidence from edge boxes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile, status
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import Edge, SessionDep, StoreDep, reporting_site
from api.ingest import IngestError, ingest_update
from api.schemas import IngestEventIn, IngestResult

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])


async def _read(part: UploadFile | None, limit: int) -> bytes | None:
    if part is None:
        return None
    data = await part.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"part '{part.filename}' exceeds {limit} bytes"
        )
    return data


@router.post(
    "/events",
    response_model=IngestResult,
    status_code=status.HTTP_201_CREATED,
    operation_id="ingest_event",
    responses={200: {"description": "A repeat of an update already stored; nothing changed."}},
)
async def ingest_event(
    request: Request,
    response: Response,
    principal: Edge,
    session: SessionDep,
    store: StoreDep,
    event: Annotated[str, Form(description="The update as JSON (streams.events.EventUpdate.to_json).")],
    snapshot: Annotated[UploadFile | None, File()] = None,
    annotated: Annotated[UploadFile | None, File()] = None,
    clip: Annotated[UploadFile | None, File()] = None,
) -> IngestResult:
    """Store an event update and its evidence; idempotent on (event id, seq)."""
    try:
        update = IngestEventIn.model_validate_json(event)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors())
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"invalid event: {problems}") from None
    reporting_site(principal, update.site_id)
    limit = int(request.app.state.settings.max_upload_mb * 2**20)
    files = {
        name: data
        for name, data in [
            ("snapshot", await _read(snapshot, limit)),
            ("annotated", await _read(annotated, limit)),
            ("clip", await _read(clip, limit)),
        ]
        if data is not None
    }
    counter = request.app.state.metrics.ingested
    try:
        # In a worker thread: hashing, writing files and the transaction must not stall the event loop
        # (and with it every other request of this process, the web UI's included).
        result = await run_in_threadpool(
            ingest_update, session, update=update, files=files, store=store, actor=principal.name
        )
    except IngestError as exc:
        counter.labels("refused").inc()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    counter.labels(result.status).inc()
    if result.status == "duplicate":
        response.status_code = status.HTTP_200_OK
    elif files and (free := store.free_mb()) is not None and free < request.app.state.settings.min_free_mb:
        # The disk must never fill: make room now rather than at the next periodic pass.
        from api.app import retention_policy
        from api.retention import apply_retention

        apply_retention(session, store=store, policy=retention_policy(request.app.state.settings))
    return result
