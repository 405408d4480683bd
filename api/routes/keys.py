"""API keys: admins create them for edge boxes, integrations and people."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.auth import create_key
from api.deps import Admin, SessionDep
from api.events import audit
from api.schemas import KeyCreated, KeyIn

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED, operation_id="create_key")
def create(body: KeyIn, principal: Admin, session: SessionDep) -> KeyCreated:
    """Create a key; the response is the only time it is shown."""
    audit(
        session,
        actor=principal.name,
        action="create_key",
        target=f"key:{body.name}",
        details={"role": body.role},
    )
    key = create_key(session, name=body.name, role=body.role, site_ids=body.site_ids)
    return KeyCreated(name=body.name, role=body.role, key=key)
