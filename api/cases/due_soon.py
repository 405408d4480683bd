"""``case.due_soon``: a notification, once per case, when an unclosed case's deadline is near.

"Once" is kept by the outbox itself: a case that already has a ``case.due_soon`` notification gets no
other, whatever the number of passes, restarts or replicas (on PostgreSQL the replicas take turns through
an advisory lock; on SQLite the API's writer lock lets one in at a time). A deadline moved later does not
raise it again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from api.models import Case, Notification
from api.notifications.notify import notify_case

#: The PostgreSQL advisory lock that API processes take turns raising under (a fixed number of our own).
DUE_SOON_LOCK = 0x5177_0002


def raise_due_soon(session: Session, *, lead: timedelta, now: datetime | None = None) -> list[int]:
    """Notify ``case.due_soon`` for every unclosed case whose deadline falls within ``lead`` from ``now``
    (and is not past) and that was not notified so before; commits.

    Returns:
        The ids of the cases notified.
    """
    now = now or datetime.now(UTC)
    if session.get_bind().dialect.name == "postgresql" and not session.scalar(
        select(func.pg_try_advisory_xact_lock(DUE_SOON_LOCK))
    ):
        return []  # another process is at it
    notified = exists().where(Notification.case_id == Case.id, Notification.topic == "case.due_soon")
    due = list(
        session.scalars(
            select(Case)
            .where(Case.status != "closed", Case.deadline_at > now, Case.deadline_at <= now + lead, ~notified)
            .order_by(Case.deadline_at)
            .limit(500)
        )
    )
    for case in due:
        notify_case(session, topic="case.due_soon", case=case)
    session.commit()
    return [case.id for case in due]
