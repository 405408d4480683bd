"""``/metrics`` for Prometheus (with a key like every route but ``/healthz``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Reader

router = APIRouter()


@router.get("/metrics", operation_id="metrics", response_class=Response)
def metrics(request: Request, principal: Reader) -> Response:
    """Requests, ingest results, stored events and evidence, free disk (Prometheus text format)."""
    collector = request.app.state.metrics
    collector.refresh(request)
    return Response(generate_latest(collector.registry), media_type=CONTENT_TYPE_LATEST)
