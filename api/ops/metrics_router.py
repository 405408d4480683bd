"""``/metrics`` for Prometheus (with a key like every route but ``/healthz``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.access.deps import Reader
from api.http.services import services_of
from api.ops.prometheus import METRICS

router = APIRouter()


@router.get("/metrics", operation_id="metrics", response_class=Response)
def metrics(request: Request, principal: Reader) -> Response:
    """Requests, ingest results, stored events and evidence, free disk (Prometheus text format).

    A caller scoped to some sites gets only the series labelled with one of its sites
    (:class:`api.ops.prometheus.SiteView`): the others add up every site.
    """
    collector = services_of(request.app).get(METRICS)
    return Response(
        collector.exposition(request, site_ids=principal.site_ids), media_type=CONTENT_TYPE_LATEST
    )
