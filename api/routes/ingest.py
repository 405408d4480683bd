"""``POST /api/v1/ingest/events``: event updates with evidence from edge boxes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile, status
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import Edge, StoreDep, reporting_site
from api.group_commit import GroupCommitter
from api.ingest import IngestError, Submission
from api.schemas import IngestEventIn, IngestResult
from api.storage import EvidenceStore

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
        # Stored on the group-commit thread, with the other updates arriving now (api.group_commit): the
        # hashing, file writes and transaction stay off the event loop, and one commit serves them all.
        committer: GroupCommitter = request.app.state.committer
        result = await committer.submit(Submission(update, files, principal.name))
    except IngestError as exc:
        counter.labels("refused").inc()
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    counter.labels(result.status).inc()
    if result.status == "duplicate":
        response.status_code = status.HTTP_200_OK
    elif files and (free := store.free_mb()) is not None and free < request.app.state.settings.min_free_mb:
        # The disk must never fill: make room now rather than at the next periodic pass.
        await run_in_threadpool(_make_room, request, store)
    return result


def _make_room(request: Request, store: EvidenceStore) -> None:
    from api.app import retention_policy  # api.app imports this module
    from api.retention import apply_retention

    with request.app.state.sessions() as session:
        apply_retention(session, store=store, policy=retention_policy(request.app.state.settings))
