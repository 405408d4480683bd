"""Password log-in without letting a flood of attempts hurt anyone else.

A password check is scrypt (about 16 MiB and tens of milliseconds of CPU): it runs in a worker thread, at
most ``hashing`` at a time per process, and holds no database connection while it runs (the user's hash is
read in a short transaction before, the session stored in another after). Failures are counted per user
name and per client address (:class:`~api.access.throttle.LoginThrottle`, in the database, shared by
every server process): past a few, each next attempt must wait twice as
long, up to 15 minutes, and is answered 429 with ``Retry-After`` without checking the password at all.
An attempt counts from when it is let in, before it waits for its check: a burst sent at once gets no more
checks than failures are left before the lock (and one at a time past it), however long the queue.
"""

from __future__ import annotations

import asyncio
import logging
import math

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.access.audit import audit
from api.access.throttle import LoginThrottle
from api.access.users import check_password, hash_password, session_user, set_user_password, start_session
from api.core.errors import DomainError
from api.http.services import Slot
from api.models import User

logger = logging.getLogger(__name__)

#: A hash checked for an unknown user name, so that the answer takes as long as for a known one.
_DUMMY_HASH = hash_password("no such user")


class LoginRefusedError(DomainError):
    """A log-in or password change refused: its subclass's status, the reason, and when to retry (seconds),
    if it helps, answered as a ``Retry-After`` header.

    >>> error = LoginThrottledError("too many failed log-ins: try again in 2 s", 2)
    >>> error.status_code, error.headers
    (429, {'Retry-After': '2'})
    """

    def __init__(self, detail: str, retry_after_s: float | None = None) -> None:
        headers = {"Retry-After": str(int(retry_after_s))} if retry_after_s else None
        super().__init__(detail, headers=headers)
        self.retry_after_s = retry_after_s


class WrongCredentialsError(LoginRefusedError):
    """A wrong user name or password, or a web session that has ended (401)."""

    status_code = 401


class WrongOldPasswordError(LoginRefusedError):
    """The old password given to change one's own is wrong (403)."""

    status_code = 403


class LoginThrottledError(LoginRefusedError):
    """Too many failures of this user name or from this address: wait ``retry_after_s`` (429)."""

    status_code = 429


class LoginBusyError(LoginRefusedError):
    """Too many password checks wait already (503)."""

    status_code = 503


async def _settle(throttle: LoginThrottle, ok: bool | None, *, username: str, address: str) -> None:
    """Settle an attempt that :meth:`LoginThrottle.begin` let in: a success, a failure, or no check at all
    (``None``); even when the request is being cancelled."""
    settle = throttle.abandoned if ok is None else throttle.succeeded if ok else throttle.failed
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(settle, username=username, address=address)


def _stored_hash(sessions: sessionmaker[Session], username: str) -> tuple[int, str] | None:
    with sessions() as session:
        row = session.execute(
            select(User.id, User.password_hash).where(User.username == username, User.disabled.is_(False))
        ).first()
        return None if row is None else (row[0], row[1])


def _new_session(sessions: sessionmaker[Session], user_id: int) -> str:
    with sessions() as session:
        return start_session(session, user_id=user_id)


async def password_login(
    *,
    sessions: sessionmaker[Session],
    throttle: LoginThrottle,
    hashing: asyncio.Semaphore,
    username: str,
    password: str,
    address: str,
    wait_s: float = 10.0,
) -> str:
    """Check a user's password and start a web session; the session token.

    Args:
        sessions: the database's session factory (each step opens and closes its own).
        throttle: the failures so far.
        hashing: the password checks allowed at once.
        username: the name given.
        password: the password given.
        address: the client's address.
        wait_s: how long to wait for a turn at hashing before answering 503.

    Raises:
        LoginRefusedError: 429 while locked, 503 when too many checks wait, 401 for wrong credentials
            (the same for an unknown name as for a wrong password).
    """
    if (locked := await run_in_threadpool(throttle.begin, username=username, address=address)) > 0:
        retry = math.ceil(locked)
        raise LoginThrottledError(f"too many failed log-ins: try again in {retry} s", retry)
    verdict = None
    try:
        stored = await run_in_threadpool(_stored_hash, sessions, username)
        try:
            await asyncio.wait_for(hashing.acquire(), wait_s)
        except TimeoutError:
            raise LoginBusyError("too many log-ins at once: try again shortly", 1) from None
        try:
            ok = await run_in_threadpool(check_password, password, stored[1] if stored else _DUMMY_HASH)
        finally:
            hashing.release()
        verdict = stored is not None and ok
    finally:
        await _settle(throttle, verdict, username=username, address=address)
    if not verdict or stored is None:
        logger.info("failed log-in of %r from %s", username[:64], address)
        raise WrongCredentialsError("wrong user name or password")
    return await run_in_threadpool(_new_session, sessions, stored[0])


def _session_user(sessions: sessionmaker[Session], token: str) -> tuple[int, str, str] | None:
    with sessions() as session:
        user = session_user(session, token)
        return None if user is None else (user.id, user.username, user.password_hash)


def _store_password(sessions: sessionmaker[Session], user_id: int, password_hash: str, token: str) -> None:
    with sessions() as session:
        user = session.get(User, user_id)
        if user is None:
            raise WrongCredentialsError("this session has ended")
        ended = set_user_password(session, user=user, password_hash=password_hash, keep_token=token)
        details: dict[str, object] = {"sessions_ended": ended}
        audit(
            session,
            actor=user.username,
            action="change_password",
            target=f"user:{user.username}",
            details=details,
        )
        session.commit()


async def change_own_password(
    *,
    sessions: sessionmaker[Session],
    throttle: LoginThrottle,
    hashing: asyncio.Semaphore,
    token: str,
    old_password: str,
    new_password: str,
    address: str,
    wait_s: float = 10.0,
) -> str:
    """Change the password of the user of web session ``token``, who must give the old one; their other
    sessions end. Wrong old passwords count as failed log-ins (:class:`~api.access.throttle.LoginThrottle`).
    The user name.

    Raises:
        LoginRefusedError: 401 when the session has ended, 429 while the name is locked, 503 when too many
            password checks wait, 403 for a wrong old password.
    """
    found = await run_in_threadpool(_session_user, sessions, token)
    if found is None:
        raise WrongCredentialsError("this session has ended")
    user_id, username, stored = found
    if (locked := await run_in_threadpool(throttle.begin, username=username, address=address)) > 0:
        retry = math.ceil(locked)
        raise LoginThrottledError(f"too many wrong passwords: try again in {retry} s", retry)
    ok = None
    try:
        try:
            await asyncio.wait_for(hashing.acquire(), wait_s)
        except TimeoutError:
            raise LoginBusyError("too many password checks at once: try again shortly", 1) from None
        try:
            ok = await run_in_threadpool(check_password, old_password, stored)
            new_hash = await run_in_threadpool(hash_password, new_password) if ok else ""
        finally:
            hashing.release()
    finally:
        await _settle(throttle, ok, username=username, address=address)
    if not ok:
        logger.info("wrong old password of %r from %s", username[:64], address)
        raise WrongOldPasswordError("the old password is wrong")
    await run_in_threadpool(_store_password, sessions, user_id, new_hash, token)
    return username


#: The app's log-in throttle.
LOGIN_THROTTLE: Slot[LoginThrottle] = Slot("the log-in throttle")
#: The password checks (scrypt) one process runs at once; more wait their turn.
PASSWORD_CHECKS: Slot[asyncio.Semaphore] = Slot("the turns of password checks")
