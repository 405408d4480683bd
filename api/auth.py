"""API keys: created once, stored as hashes, checked on every request except ``/healthz``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiKey, User, WebSession

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


def revoke_key(session: Session, *, key_id: int) -> ApiKey | None:
    """Revoke a key from now on (the row stays, for the audit log's sake); ``None`` if there is no such
    key. Revoking a revoked key changes nothing. The caller commits."""
    row = session.get(ApiKey, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    return row


def authenticate(session: Session, key: str) -> Principal | None:
    """The principal of a presented key, or ``None`` when it is unknown or revoked."""
    digest = hash_key(key)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)))
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    role: Role = next((r for r in ROLES if r == row.role), "viewer")
    return Principal(name=row.name, role=role, site_ids=tuple(row.site_ids))


class KeyCache:
    """The principals of keys recently checked against the database, for ``ttl_s`` seconds each.

    Every request presents its key, and looking it up costs more than storing a small event: the cache
    spares edge boxes that post many times a second that lookup. A key revoked through this process is
    forgotten at once (:meth:`forget`); another replica stops accepting it within ``ttl_s``. Only keys that
    were valid are remembered, so a wrong key is checked against the database every time.

    Args:
        ttl_s: how long a checked key is trusted without looking again; 0 turns the cache off.
        size: the most keys remembered (the least recently used go first).
    """

    def __init__(self, ttl_s: float = 5.0, size: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        """The principal of the key with this hash, if it was checked less than ``ttl_s`` ago."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        """Remember a key found valid just now."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._entries[digest] = (time.monotonic() + self.ttl_s, principal)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, digest: str) -> None:
        """Stop trusting a key (it was revoked)."""
        with self._lock:
            self._entries.pop(digest, None)


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


SESSION_COOKIE = "sitewatch_session"
SESSION_HOURS = 12


def hash_password(password: str) -> str:
    """An scrypt hash with a random salt: ``scrypt$n$r$p$salt$hash`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant-time compare)."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def create_user(
    session: Session, *, username: str, password: str, role: Role, site_ids: list[str] | None = None
) -> User:
    """Store a user with a hashed password."""
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        site_ids=list(site_ids or []),
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.commit()
    return user


def start_session(session: Session, *, user_id: int) -> str:
    """Store a new web session of the user (their password was checked) and return its token."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        WebSession(
            token_hash=hash_key(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    session.commit()
    return token


def session_principal(session: Session, token: str) -> Principal | None:
    """The user behind a session token, while the session lasts."""
    row = session.get(WebSession, hash_key(token))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if row.expires_at < datetime.now(UTC) or user is None or user.disabled:
        return None
    role: Role = next((r for r in ROLES if r == user.role), "viewer")
    return Principal(name=user.username, role=role, site_ids=tuple(user.site_ids))


def logout(session: Session, token: str) -> None:
    """End a session."""
    row = session.get(WebSession, hash_key(token))
    if row is not None:
        session.delete(row)
        session.commit()
