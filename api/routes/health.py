"""``/healthz``: open, for load balancers and Docker."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import text

from api.schemas import Health

router = APIRouter()


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
    ok = database and writable and (free_mb is None or free_mb > 100)
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        status="ok" if ok else "degraded", database=database, storage_writable=writable, disk_free_mb=free_mb
    )
