"""``/healthz``: open, for load balancers and Docker."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.http.services import services_of
from api.ops.checks import health_of
from api.ops.schemas import Health

router = APIRouter()


@router.get("/healthz", response_model=Health, operation_id="health")
def health(request: Request, response: Response) -> Health:
    """Database reachable, storage writable, disk free."""
    services = services_of(request.app)
    report = health_of(sessions=services.sessions, store=services.store)
    if report.problems:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return report
