"""API keys: admins create them for edge boxes, integrations and people."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select

from api.access.audit import audit
from api.access.auth import KeyCache, create_key, key_digest, revoke_key
from api.access.deps import Admin, IdPath, SessionDep, in_scope, within_scope
from api.access.schemas import KeyCreated, KeyIn, KeyPublic
from api.http.params import API_PREFIX
from api.models import ApiKey

router = APIRouter(prefix=f"{API_PREFIX}/keys", tags=["keys"])


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED, operation_id="create_key")
def create(body: KeyIn, principal: Admin, session: SessionDep) -> KeyCreated:
    """Create a key; the response is the only time it is shown. A site-scoped admin may only create keys
    for some of its sites (403 otherwise)."""
    within_scope(principal, body.site_ids)
    audit(
        session,
        actor=principal.name,
        action="create_key",
        target=f"key:{body.name}",
        details={"role": body.role},
    )
    key = create_key(session, name=body.name, role=body.role, site_ids=body.site_ids)
    key_id = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == key_digest(session, key)))
    assert key_id is not None  # just committed
    return KeyCreated(id=key_id, name=body.name, role=body.role, key=key)


@router.get("", response_model=list[KeyPublic], operation_id="list_keys")
def list_keys(principal: Admin, session: SessionDep) -> list[KeyPublic]:
    """Every key within the caller's sites, revoked ones included, oldest first (never the keys
    themselves)."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.id))
    return [KeyPublic.model_validate(row) for row in rows if in_scope(principal, row.site_ids)]


@router.delete("/{key_id}", response_model=KeyPublic, operation_id="revoke_key")
def revoke(key_id: IdPath, request: Request, principal: Admin, session: SessionDep) -> KeyPublic:
    """Revoke a key: refused from now on by this replica, and by the others within
    ``SITEWATCH_KEY_CACHE_S`` seconds."""
    active_admins = session.scalars(
        select(ApiKey.id).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
    ).all()
    if list(active_admins) == [key_id]:
        raise HTTPException(status.HTTP_409_CONFLICT, "this is the last admin key: create another one first")
    target = session.get(ApiKey, key_id)
    if target is None or not in_scope(principal, target.site_ids):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no key {key_id}")
    row = revoke_key(session, key_id=key_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no key {key_id}")
    details: dict[str, object] = {"id": key_id}
    audit(session, actor=principal.name, action="revoke_key", target=f"key:{row.name}", details=details)
    session.commit()
    cache: KeyCache = request.app.state.key_cache
    cache.forget(row.key_hash)
    return KeyPublic.model_validate(row)
