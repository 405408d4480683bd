"""``/healthz``: open, for load balancers and Docker."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import text

from api.ops.schemas import Health

router = APIRouter()

#: Less free disk than this (MB) is reported as a problem.
LOW_DISK_MB = 100


@router.get("/healthz", response_model=Health, operation_id="health")
def health(request: Request, response: Response) -> Health:
    """Database reachable, storage writable, disk free."""
    try:
        with request.app.state.sessions() as session:
            session.execute(text("SELECT 1"))
        database = True
    except Exception:  # any database failure means unhealthy
        database = False
    store = request.app.state.store
    writable = store.writable()
    free_mb = store.free_mb()
    problems = [
        *([] if database else ["the database does not answer"]),
        *([] if writable else ["evidence cannot be written (is the disk full?)"]),
        *([f"{free_mb:.0f} MB of disk left"] if free_mb is not None and free_mb <= LOW_DISK_MB else []),
    ]
    if problems:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        status="degraded" if problems else "ok",
        database=database,
        storage_writable=writable,
        disk_free_mb=free_mb,
        problems=problems,
    )
