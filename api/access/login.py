"""Password log-in without letting a flood of attempts hurt anyone else.

A password check is scrypt (about 16 MiB and tens of milliseconds of CPU): it runs in a worker thread, at
most ``hashing`` at a time per process, and holds no database connection while it runs (the user's hash is
read in a short transaction before, the session stored in another after). Failures are counted per user
name and per client address (:class:`LoginThrottle`): past a few, each next attempt must wait twice as
long, up to 15 minutes, and is answered 429 with ``Retry-After`` without checking the password at all.
An attempt counts from when it is let in, before it waits for its check: a burst sent at once gets no more
checks than failures are left before the lock (and one at a time past it), however long the queue.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from api.access.audit import audit
from api.access.users import check_password, hash_password, session_user, set_user_password, start_session
from api.core.errors import DomainError
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


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    locked_until: float
    in_flight: int = 0


class LoginThrottle:
    """Failed log-ins per user name and per client address, and how long each must wait now.

    After ``user_failures`` failures of one user name (``address_failures`` from one address, which may be
    an office behind one NAT) every next failure locks it for twice as long as the one before, from
    ``base_s`` up to ``max_s``. A success clears the user name's count; counts are forgotten ``forget_s``
    after the last failure. Per process: with N server processes an attacker gets N times the attempts.

    An attempt is counted when it is let in (:meth:`begin`), before its password is checked, and settled
    after (:meth:`failed`, :meth:`succeeded`, :meth:`abandoned`): attempts in flight count as failures, so
    no more checks run at once than failures are left before the lock, and past that only one at a time.

    >>> throttle = LoginThrottle(user_failures=2, clock=lambda: 0.0)
    >>> [throttle.begin(username="li", address="a") for _ in range(3)]  # the third waits for the two
    [0.0, 0.0, 1.0]

    Args:
        user_failures: failures of a user name let through before the first lock.
        address_failures: failures from an address let through before the first lock.
        base_s: the first lock.
        max_s: the longest lock.
        forget_s: a count left alone this long starts again from zero.
        size: the most names and addresses remembered (the oldest go first).
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(
        self,
        *,
        user_failures: int = 5,
        address_failures: int = 20,
        base_s: float = 1.0,
        max_s: float = 900.0,
        forget_s: float = 3600.0,
        size: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_failures = user_failures
        self.address_failures = address_failures
        self.base_s = base_s
        self.max_s = max_s
        self.forget_s = forget_s
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, username: str, address: str) -> tuple[tuple[str, int], tuple[str, int]]:
        user = f"user:{username.strip().lower()}"
        return (user, self.user_failures), (f"addr:{address}", self.address_failures)

    def _get(self, key: str, now: float) -> _Failures:
        entry = self._entries.get(key)
        if entry is None or (
            not entry.in_flight and now - entry.last > max(self.forget_s, entry.locked_until - entry.last)
        ):
            entry = self._entries[key] = _Failures(0, now, 0.0)
        self._entries.move_to_end(key)
        return entry

    def _wait_s(self, entry: _Failures, free: int, now: float) -> float:
        if entry.locked_until > now:
            return entry.locked_until - now
        if entry.in_flight and entry.count + entry.in_flight >= free:
            return 1.0  # the checks in flight would lock it if they failed: the next waits for them
        return 0.0

    def begin(self, *, username: str, address: str) -> float:
        """Let a log-in of ``username`` from ``address`` check its password now (0, and it counts as in
        flight until settled), or how long it must still wait (nothing counted)."""
        now = self.clock()
        with self._lock:
            entries = [(self._get(key, now), free) for key, free in self._keys(username, address)]
            if (wait := max(self._wait_s(entry, free, now) for entry, free in entries)) > 0:
                return wait
            for entry, _ in entries:
                entry.in_flight += 1
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return 0.0

    def _settle(self, key: str) -> _Failures | None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.in_flight = max(0, entry.in_flight - 1)
        return entry

    def failed(self, *, username: str, address: str) -> None:
        """Settle an attempt let in by :meth:`begin` as a failure (a wrong password, or an unknown name)."""
        now = self.clock()
        with self._lock:
            for key, free in self._keys(username, address):
                entry = self._settle(key) or self._entries.setdefault(key, _Failures(0, now, 0.0))
                entry.count += 1
                entry.last = now
                if entry.count >= free:
                    entry.locked_until = now + min(self.max_s, self.base_s * 2 ** (entry.count - free))

    def succeeded(self, *, username: str, address: str) -> None:
        """Settle an attempt as a success: the user name's failures are cleared (the address keeps its)."""
        with self._lock:
            (user_key, _), (address_key, _) = self._keys(username, address)
            self._settle(address_key)
            if (entry := self._settle(user_key)) is not None:
                entry.count, entry.locked_until = 0, 0.0

    def abandoned(self, *, username: str, address: str) -> None:
        """Settle an attempt whose password was not checked (no turn at hashing, or the client left)."""
        with self._lock:
            for key, _ in self._keys(username, address):
                self._settle(key)


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
    if (locked := throttle.begin(username=username, address=address)) > 0:
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
        if verdict is None:
            throttle.abandoned(username=username, address=address)
        elif verdict:
            throttle.succeeded(username=username, address=address)
        else:
            throttle.failed(username=username, address=address)
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
    sessions end. Wrong old passwords count as failed log-ins (:class:`LoginThrottle`). The user name.

    Raises:
        LoginRefusedError: 401 when the session has ended, 429 while the name is locked, 503 when too many
            password checks wait, 403 for a wrong old password.
    """
    found = await run_in_threadpool(_session_user, sessions, token)
    if found is None:
        raise WrongCredentialsError("this session has ended")
    user_id, username, stored = found
    if (locked := throttle.begin(username=username, address=address)) > 0:
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
        if ok is None:
            throttle.abandoned(username=username, address=address)
        elif ok:
            throttle.succeeded(username=username, address=address)
        else:
            throttle.failed(username=username, address=address)
    if not ok:
        logger.info("wrong old password of %r from %s", username[:64], address)
        raise WrongOldPasswordError("the old password is wrong")
    await run_in_threadpool(_store_password, sessions, user_id, new_hash, token)
    return username
