"""What admins do to API keys through the API, each one transaction that it commits: create one (shown
this once), list them, revoke one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import KeyCache, Principal, create_key, key_digest, revoke_key
from api.access.deps import in_scope
from api.access.schemas import KeyCreated, KeyIn, KeyPublic
from api.core.errors import ConflictError, NotFoundError
from api.models import ApiKey


def create(session: Session, *, principal: Principal, body: KeyIn) -> KeyCreated:
    """Create the key of ``body``, audited as ``create_key``; the key itself is in the answer only."""
    audit(
        session,
        actor=principal.name,
        action="create_key",
        target=f"key:{body.name}",
        details={"role": body.role},
    )
    key = create_key(session, name=body.name, role=body.role, site_ids=body.site_ids)  # commits both
    key_id = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == key_digest(session, key)))
    assert key_id is not None  # just committed
    return KeyCreated(id=key_id, name=body.name, role=body.role, key=key)


def list_keys(session: Session, *, principal: Principal) -> list[KeyPublic]:
    """Every key within ``principal``'s sites, revoked ones included, oldest first."""
    rows = session.scalars(select(ApiKey).order_by(ApiKey.id))
    return [KeyPublic.model_validate(row) for row in rows if in_scope(principal, row.site_ids)]


def revoke(session: Session, *, principal: Principal, key_id: int, cache: KeyCache) -> KeyPublic:
    """Revoke key ``key_id`` (audited as ``revoke_key``) and forget it in this replica's ``cache``.

    Raises:
        ConflictError: it is the last active admin key.
        NotFoundError: no such key, or one outside the caller's sites.
    """
    active_admins = session.scalars(
        select(ApiKey.id).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
    ).all()
    if list(active_admins) == [key_id]:
        raise ConflictError("this is the last admin key: create another one first")
    target = session.get(ApiKey, key_id)
    if target is None or not in_scope(principal, target.site_ids):
        raise NotFoundError(f"no key {key_id}")
    row = revoke_key(session, key_id=key_id)
    if row is None:
        raise NotFoundError(f"no key {key_id}")
    details: dict[str, object] = {"id": key_id}
    audit(session, actor=principal.name, action="revoke_key", target=f"key:{row.name}", details=details)
    session.commit()
    cache.forget(row.key_hash)
    return KeyPublic.model_validate(row)
