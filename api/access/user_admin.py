"""What admins do to users through the API, each one transaction that it commits: create one, list them,
disable or enable one, set a password, end a user's sessions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.access.deps import in_scope
from api.access.schemas import UserChanged, UserIn, UserPublic
from api.access.users import add_user, end_sessions, hash_password, set_user_disabled, set_user_password
from api.core.errors import ConflictError, NotFoundError
from api.models import User


def create(session: Session, *, principal: Principal, body: UserIn) -> UserPublic:
    """Create the user of ``body`` (the password stored hashed); audited as ``create_user``.

    Raises:
        ConflictError: a user of that name exists.
    """
    try:
        user = add_user(
            session, username=body.username, password=body.password, role=body.role, site_ids=body.site_ids
        )
    except IntegrityError:
        raise ConflictError(f"user {body.username} exists") from None
    audit(
        session,
        actor=principal.name,
        action="create_user",
        target=f"user:{body.username}",
        details={"role": body.role},
    )
    session.commit()
    return UserPublic.model_validate(user)


def list_users(session: Session, *, principal: Principal) -> list[UserPublic]:
    """Every user within ``principal``'s sites, by name."""
    rows = session.scalars(select(User).order_by(User.username))
    return [UserPublic.model_validate(u) for u in rows if in_scope(principal, u.site_ids)]


def _changed(session: Session, principal: Principal, user: User, action: str, ended: int) -> UserChanged:
    """Audit ``action`` on ``user`` with the sessions it ended, and commit."""
    details: dict[str, object] = {"sessions_ended": ended}
    audit(session, actor=principal.name, action=action, target=f"user:{user.username}", details=details)
    session.commit()
    return UserChanged(user=UserPublic.model_validate(user), sessions_ended=ended)


def set_disabled(session: Session, *, principal: Principal, user: User, disabled: bool) -> UserChanged:
    """Disable ``user`` (no more log-ins, every session of theirs ended) or enable them again; audited as
    ``disable_user`` or ``enable_user``."""
    ended = set_user_disabled(session, user=user, disabled=disabled)
    return _changed(session, principal, user, "disable_user" if disabled else "enable_user", ended)


def set_password(session: Session, *, principal: Principal, user: User, password: str) -> UserChanged:
    """Set ``user``'s password; every session of theirs ends. No transaction is held while the hash is
    made (scrypt is slow): the user is looked up again after it.

    Raises:
        NotFoundError: the user is gone, or out of the caller's sites, once the hash is made.
    """
    user_id = user.id
    session.rollback()  # no transaction held while scrypt runs
    password_hash = hash_password(password)
    found = session.get(User, user_id)
    if found is None or not in_scope(principal, found.site_ids):
        raise NotFoundError(f"no user {user_id}")
    ended = set_user_password(session, user=found, password_hash=password_hash)
    return _changed(session, principal, found, "set_user_password", ended)


def end_user_sessions(session: Session, *, principal: Principal, user: User) -> UserChanged:
    """End every web session of ``user``; audited as ``end_user_sessions``."""
    ended = end_sessions(session, user_id=user.id)
    return _changed(session, principal, user, "end_user_sessions", ended)
