"""API keys: created once, stored as hashes, checked on every request except ``/healthz``.

A key is stored as its HMAC-SHA256 under a server-side *pepper* (``SITEWATCH_KEY_PEPPER``, else a random
one kept in ``data_dir/key.pepper``, mode 0600, never in the database): a copy of the database alone does
not let anyone test guesses of a chosen key offline. Keys stored before as a bare SHA-256 still work and
are rewritten under the pepper on their first use (or, for ``SITEWATCH_ADMIN_KEY``, at start).

Who a caller is (:class:`Principal`) is defined here too; users' passwords and web sessions, the other
way in, are in :mod:`api.access.users`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.http.services import Slot
from api.models import ApiKey

logger = logging.getLogger(__name__)

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


#: Where a session's factory keeps the key pepper (``sessionmaker(info=...)``, see
#: api.core.db.session_factory).
PEPPER_INFO = "key_pepper"

PEPPER_FILE = "key.pepper"


def key_pepper(*, configured: str | None, data_dir: Path) -> bytes:
    """The pepper API keys are hashed under: ``configured`` (``SITEWATCH_KEY_PEPPER``) when given, else the
    one in ``data_dir/key.pepper``, made (mode 0600) on the first start.

    The file appears whole or not at all (written aside, then linked into place), so processes starting
    together agree on one pepper. Replicas that share no disk must share ``SITEWATCH_KEY_PEPPER``.
    """
    if configured:
        return configured.encode()
    path = Path(data_dir) / PEPPER_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{PEPPER_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)
            logger.warning(
                "created the API key pepper %s (SITEWATCH_KEY_PEPPER is not set): back it up with the data; "
                "without it no stored API key works",
                path,
            )
        except FileExistsError:  # another process made it first: use theirs
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()


def hash_key(key: str, pepper: bytes) -> str:
    """The stored form of an API key: the hex HMAC-SHA256 of the key under the server's pepper. Fast (made
    keys are 256-bit random), yet useless for guessing a chosen key without the pepper, which the database
    does not hold."""
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def hash_token(token: str) -> str:
    """SHA-256 of a random token (web sessions; API keys stored before the pepper)."""
    return hashlib.sha256(token.encode()).hexdigest()


def key_digest(session: Session, key: str) -> str:
    """:func:`hash_key` under the pepper of ``session``'s factory.

    Raises:
        RuntimeError: the session's factory was made without a pepper.
    """
    pepper = session.info.get(PEPPER_INFO)
    if not isinstance(pepper, bytes):
        raise RuntimeError(
            "API keys need a session factory made with a key pepper (api.core.db.session_factory)"
        )
    return hash_key(key, pepper)


def find_key(session: Session, key: str) -> ApiKey | None:
    """The row of a presented key, revoked or not; ``None`` if there is none.

    A row still holding the bare SHA-256 of an older version is rewritten under the pepper here (and
    committed), so that each key leaves the guessable form on its first use.
    """
    digest = key_digest(session, key)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if row is not None:
        return row if hmac.compare_digest(row.key_hash, digest) else None
    legacy = hash_token(key)
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == legacy))
    if row is None or not hmac.compare_digest(row.key_hash, legacy):
        return None
    row.key_hash = digest
    session.commit()
    logger.info("API key %d (%s) rehashed under the pepper", row.id, row.name)
    return row


def new_key() -> str:
    """A fresh random key (``sw_`` and 43 URL-safe characters)."""
    return "sw_" + secrets.token_urlsafe(32)


def create_key(
    session: Session, *, name: str, role: Role, site_ids: list[str] | None = None, key: str | None = None
) -> str:
    """Store a new key (only its hash) and return the key itself, which is shown this once. A made key
    keeps its first 8 characters (``sw_`` and 5 random ones) to be told apart; a chosen one only 3."""
    chosen = key is not None
    key = key or new_key()
    session.add(
        ApiKey(
            name=name,
            prefix=key[:3] if chosen else key[:8],
            key_hash=key_digest(session, key),
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
    row = find_key(session, key)
    if row is None or row.revoked_at is not None:
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
        if find_key(session, env_key) is None:
            create_key(session, name="admin (SITEWATCH_ADMIN_KEY)", role="admin", key=env_key)
        return None
    if session.scalar(select(ApiKey).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))) is not None:
        return None
    return create_key(session, name="admin (first start)", role="admin")


#: The app's cache of checked keys.
KEY_CACHE: Slot[KeyCache] = Slot("the cache of checked API keys")
