"""Failed log-ins per user name and per client address, kept in the database so that every server
process (``sitewatch api --workers N``, replicas behind a balancer) sees and counts the same attempts.

Each step is one short transaction that locks the rows of the name and of the address (PostgreSQL:
``SELECT ... FOR UPDATE`` in key order; SQLite: the write lock its first ``INSERT`` takes), so the lock
check and the count of an attempt are one atomic step across processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Insert, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from api.models import LoginFailures

#: A row made when missing, by dialect (SQLite and PostgreSQL spell ``ON CONFLICT DO NOTHING`` alike).
_NEW_ROWS: dict[str, Insert] = {
    "sqlite": sqlite_insert(LoginFailures).on_conflict_do_nothing(),
    "postgresql": postgresql_insert(LoginFailures).on_conflict_do_nothing(),
}


class LoginThrottle:
    """Failed log-ins per user name and per client address, and how long each must wait now.

    After ``user_failures`` failures of one user name (``address_failures`` from one address, which may be
    an office behind one NAT) every next failure locks it for twice as long as the one before, from
    ``base_s`` up to ``max_s``. A success clears the user name's count; counts are forgotten ``forget_s``
    after the last failure (rows are deleted then).

    An attempt is counted when it is let in (:meth:`begin`), before its password is checked, and settled
    after (:meth:`failed`, :meth:`succeeded`, :meth:`abandoned`): attempts in flight count as failures, so
    no more checks run at once than failures are left before the lock, and past that one at a time. An
    attempt never settled (its process died) stops counting ``stale_s`` after the name's or the address's
    last attempt began.

    Args:
        sessions: the database's session factory.
        user_failures: failures of a user name let through before the first lock.
        address_failures: failures from an address let through before the first lock.
        base_s: the first lock.
        max_s: the longest lock.
        forget_s: a count left alone this long starts again from zero.
        stale_s: how long an attempt in flight counts at most.
        clock: seconds since the epoch, the same in every process (tests pass their own).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        user_failures: int = 5,
        address_failures: int = 20,
        base_s: float = 1.0,
        max_s: float = 900.0,
        forget_s: float = 3600.0,
        stale_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = sessions
        self.user_failures = user_failures
        self.address_failures = address_failures
        self.base_s = base_s
        self.max_s = max_s
        self.forget_s = forget_s
        self.stale_s = stale_s
        self.clock = clock
        self._pruned = 0.0

    def _keys(self, username: str, address: str) -> dict[str, int]:
        """The rows of a log-in, each with the failures it lets through, in the order they are locked."""
        user = f"user:{username.strip().lower()}"[:100]
        return dict(
            sorted({user: self.user_failures, f"addr:{address}"[:100]: self.address_failures}.items())
        )

    def _rows(self, session: Session, keys: dict[str, int], now: float) -> list[tuple[LoginFailures, int]]:
        """The rows of ``keys`` (made when missing), locked until the transaction ends, with stale attempts
        in flight and forgotten failures cleared."""
        dialect = session.get_bind().dialect.name
        for key in keys:
            values = {"key": key, "failures": 0, "last_at": now, "locked_until": 0.0}
            session.execute(_NEW_ROWS[dialect].values(**values, in_flight=0, in_flight_since=0.0))
        query = select(LoginFailures).where(LoginFailures.key.in_(keys)).order_by(LoginFailures.key)
        rows = session.scalars(query.with_for_update().execution_options(populate_existing=True)).all()
        for row in rows:
            if row.in_flight and now - row.in_flight_since > self.stale_s:
                row.in_flight = 0
            if not row.in_flight and now - row.last_at > max(self.forget_s, row.locked_until - row.last_at):
                row.failures, row.locked_until = 0, 0.0
        return [(row, keys[row.key]) for row in rows]

    @staticmethod
    def _wait_s(row: LoginFailures, free: int, now: float) -> float:
        if row.locked_until > now:
            return row.locked_until - now
        if row.in_flight and row.failures + row.in_flight >= free:
            return 1.0  # the checks in flight would lock it if they failed: the next waits for them
        return 0.0

    def begin(self, *, username: str, address: str) -> float:
        """Let a log-in of ``username`` from ``address`` check its password now (0, and it counts as in
        flight until settled), or how long it must still wait (nothing counted)."""
        self._prune()
        now = self.clock()
        with self.sessions() as session, session.begin():
            rows = self._rows(session, self._keys(username, address), now)
            if (wait := max(self._wait_s(row, free, now) for row, free in rows)) > 0:
                return wait
            for row, _ in rows:
                row.in_flight += 1
                row.in_flight_since = now
        return 0.0

    def failed(self, *, username: str, address: str) -> None:
        """Settle an attempt let in by :meth:`begin` as a failure (a wrong password, or an unknown name)."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            for row, free in self._rows(session, self._keys(username, address), now):
                row.in_flight = max(0, row.in_flight - 1)
                row.failures += 1
                row.last_at = now
                if row.failures >= free:
                    row.locked_until = now + min(self.max_s, self.base_s * 2 ** (row.failures - free))

    def succeeded(self, *, username: str, address: str) -> None:
        """Settle an attempt as a success: the user name's failures are cleared (the address keeps its)."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            for row, _ in self._rows(session, self._keys(username, address), now):
                row.in_flight = max(0, row.in_flight - 1)
                if row.key.startswith("user:"):
                    row.failures, row.locked_until = 0, 0.0

    def abandoned(self, *, username: str, address: str) -> None:
        """Settle an attempt whose password was not checked (no turn at hashing, or the client left)."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            for row, _ in self._rows(session, self._keys(username, address), now):
                row.in_flight = max(0, row.in_flight - 1)

    def _prune(self) -> None:
        """Delete the rows forgotten (at most once a minute per process)."""
        now = self.clock()
        if now - self._pruned < 60.0:
            return
        self._pruned = now
        forgotten = (
            (LoginFailures.last_at < now - self.forget_s)
            & (LoginFailures.locked_until < now)
            & ((LoginFailures.in_flight == 0) | (LoginFailures.in_flight_since < now - self.stale_s))
        )
        with self.sessions() as session, session.begin():
            # Rows another log-in holds are skipped (PostgreSQL), so that this never waits for one.
            keys = select(LoginFailures.key).where(forgotten).limit(10_000).with_for_update(skip_locked=True)
            if gone := list(session.scalars(keys)):
                session.execute(delete(LoginFailures).where(LoginFailures.key.in_(gone)))
