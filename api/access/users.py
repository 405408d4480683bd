"""People who log in: users with scrypt password hashes, and their browser sessions (only the hash of a
session's token is stored)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from api.access.auth import ROLES, Principal, Role, hash_token
from api.models import User, WebSession

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
    """Store a user with a hashed password; commits."""
    user = add_user(session, username=username, password=password, role=role, site_ids=site_ids)
    session.commit()
    return user


def add_user(
    session: Session, *, username: str, password: str, role: Role, site_ids: list[str] | None = None
) -> User:
    """Add a user with a hashed password to the caller's transaction, flushed (a taken name raises
    :class:`sqlalchemy.exc.IntegrityError` here). The caller commits."""
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        site_ids=list(site_ids or []),
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def start_session(session: Session, *, user_id: int) -> str:
    """Store a new web session of the user (their password was checked) and return its token."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        WebSession(
            token_hash=hash_token(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(hours=SESSION_HOURS),
        )
    )
    session.commit()
    return token


def session_principal(session: Session, token: str) -> Principal | None:
    """The user behind a session token, while the session lasts."""
    row = session.get(WebSession, hash_token(token))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if row.expires_at < datetime.now(UTC) or user is None or user.disabled:
        return None
    role: Role = next((r for r in ROLES if r == user.role), "viewer")
    return Principal(name=user.username, role=role, site_ids=tuple(user.site_ids))


def logout(session: Session, token: str) -> None:
    """End a session."""
    row = session.get(WebSession, hash_token(token))
    if row is not None:
        session.delete(row)
        session.commit()


def session_user(session: Session, token: str) -> User | None:
    """The enabled user of a live web session, or ``None``."""
    row = session.get(WebSession, hash_token(token))
    if row is None or row.expires_at < datetime.now(UTC):
        return None
    user = session.get(User, row.user_id)
    return None if user is None or user.disabled else user


def end_sessions(session: Session, *, user_id: int, keep_token: str | None = None) -> int:
    """End every web session of a user (but the one of ``keep_token``); how many ended. The caller
    commits."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token is not None:
        query = query.where(WebSession.token_hash != hash_token(keep_token))
    ended: int = session.execute(query).rowcount  # type: ignore[attr-defined]
    return ended


def set_user_disabled(session: Session, *, user: User, disabled: bool) -> int:
    """Disable (no log-in, every session ended) or enable a user; the sessions ended. The caller
    commits."""
    user.disabled = disabled
    return end_sessions(session, user_id=user.id) if disabled else 0


def set_user_password(
    session: Session, *, user: User, password_hash: str, keep_token: str | None = None
) -> int:
    """Store a user's new password hash (:func:`hash_password`, made outside any transaction: it is slow)
    and end their sessions but ``keep_token``'s; the sessions ended. The caller commits."""
    user.password_hash = password_hash
    return end_sessions(session, user_id=user.id, keep_token=keep_token)
