"""API keys: created once, stored as hashes, checked on every request except ``/healthz``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiKey

Role = Literal["admin", "supervisor", "viewer", "edge", "integration"]
ROLES: tuple[Role, ...] = ("admin", "supervisor", "viewer", "edge", "integration")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key's name, role and the sites it may see (empty: all)."""

    name: str
    role: Role
    site_ids: tuple[str, ...] = ()

    def sees(self, site_id: str) -> bool:
        """Whether this caller may see ``site_id``."""
        return not self.site_ids or site_id in self.site_ids


def hash_key(key: str) -> str:
    """SHA-256 of a key. Keys are 256-bit random, so a fast hash is safe (passwords will differ)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh random key (``sw_`` and 43 URL-safe characters)."""
    return "sw_" + secrets.token_urlsafe(32)


def create_key(
    session: Session, *, name: str, role: Role, site_ids: list[str] | None = None, key: str | None = None
) -> str:
    """Store a new key (only its hash) and return the key itself, which is shown this once."""
    key = key or new_key()
    session.add(
        ApiKey(
            name=name,
            prefix=key[:8],
            key_hash=hash_key(key),
            role=role,
            site_ids=list(site_ids or []),
            created_at=datetime.now(UTC),
        )
    )
    session.commit()
    return key


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal of a presented key, or ``None`` when it is unknown or revoked."""
    digest = hash_key(key)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)))
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    role: Role = next((r for r in ROLES if r == row.role), "viewer")
    return Principal(name=row.name, role=role, site_ids=tuple(row.site_ids))


def ensure_admin(session: Session, env_key: str | None) -> str | None:
    """Make sure an admin key exists: the one from the environment, or a new one.

    Returns:
        A newly created key to show once, or ``None`` when nothing was created or it came from the
        environment (the caller already knows it).
    """
    if env_key:
        if session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(env_key))) is None:
            create_key(session, name="admin (SITEWATCH_ADMIN_KEY)", role="admin", key=env_key)
        return None
    if session.scalar(select(ApiKey).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))) is not None:
        return None
    return create_key(session, name="admin (first start)", role="admin")
