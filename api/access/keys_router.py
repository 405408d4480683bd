"""API keys: admins create them for edge boxes, integrations and people."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from api.access import key_admin
from api.access.auth import KEY_CACHE
from api.access.deps import Admin, IdPath, SessionDep, within_scope
from api.access.schemas import KeyCreated, KeyIn, KeyPublic
from api.http.params import API_PREFIX
from api.http.services import services_of

router = APIRouter(prefix=f"{API_PREFIX}/keys", tags=["keys"])


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED, operation_id="create_key")
def create(body: KeyIn, principal: Admin, session: SessionDep) -> KeyCreated:
    """Create a key; the response is the only time it is shown. A site-scoped admin may only create keys
    for some of its sites (403 otherwise)."""
    within_scope(principal, body.site_ids)
    return key_admin.create(session, principal=principal, body=body)


@router.get("", response_model=list[KeyPublic], operation_id="list_keys")
def list_keys(principal: Admin, session: SessionDep) -> list[KeyPublic]:
    """Every key within the caller's sites, revoked ones included, oldest first (never the keys
    themselves)."""
    return key_admin.list_keys(session, principal=principal)


@router.delete("/{key_id}", response_model=KeyPublic, operation_id="revoke_key")
def revoke(key_id: IdPath, request: Request, principal: Admin, session: SessionDep) -> KeyPublic:
    """Revoke a key: refused from now on by this replica, and by the others within
    ``SITEWATCH_KEY_CACHE_S`` seconds."""
    return key_admin.revoke(
        session, principal=principal, key_id=key_id, cache=services_of(request.app).get(KEY_CACHE)
    )
