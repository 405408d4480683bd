"""What people do to officers through the API, each one transaction that it commits: enrol one from photos,
list a site's roster, enable or disable one, read a day's presence."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import UploadFile
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.access.audit import audit
from api.access.auth import Principal
from api.core.errors import BadRequestError, DomainError, UnavailableError
from api.models import Officer, OfficerEmbedding
from api.officers.schemas import OfficerPublic, PresencePublic
from api.officers.service import MAX_PHOTOS, enroll_officer, timeline

#: How long an enrolment waits for the one before it to finish before a 503.
ENROLMENT_WAIT_S = 30.0


class TooLargeError(DomainError):
    """More photos, or larger ones, than an enrolment takes (413)."""

    status_code = 413


def public(session: Session, officer: Officer, rejected: list[str] | None = None) -> OfficerPublic:
    """The public form of ``officer``, with how many embeddings are stored and why photos were refused."""
    count = session.scalar(select(func.count()).where(OfficerEmbedding.officer_id == officer.id)) or 0
    return OfficerPublic(
        id=officer.id,
        site_id=officer.site_id,
        name=officer.name,
        enabled=officer.enabled,
        created_at=officer.created_at,
        embeddings=count,
        rejected=rejected or [],
    )


async def enrol(
    session: Session,
    *,
    principal: Principal,
    site_id: str,
    name: str,
    photos: list[UploadFile],
    max_bytes: int,
    turn: asyncio.Semaphore,
    analyzer: Callable[[], object],
) -> OfficerPublic:
    """Enrol officer ``name`` of ``site_id`` from ``photos``: faces are embedded in a worker thread, one
    enrolment at a time (``turn``), with the face models ``analyzer`` gives there; the photos are not kept.

    Raises:
        TooLargeError: more than :data:`MAX_PHOTOS` photos, or one of more than ``max_bytes``.
        UnavailableError: another enrolment held the turn for :data:`ENROLMENT_WAIT_S` (with Retry-After),
            or face data cannot be stored without its key.
        InvalidError: no photo was usable.
    """
    if len(photos) > MAX_PHOTOS:
        raise TooLargeError(f"{len(photos)} photos; at most {MAX_PHOTOS} per enrolment")
    data = []
    for photo in photos:
        content = await photo.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise TooLargeError(f"photo {photo.filename} exceeds {max_bytes} bytes")
        data.append((photo.filename or "photo", content))
    try:
        await asyncio.wait_for(turn.acquire(), ENROLMENT_WAIT_S)
    except TimeoutError:
        raise UnavailableError(
            "another enrolment is running: retry shortly", headers={"Retry-After": "10"}
        ) from None
    try:
        result = await run_in_threadpool(
            lambda: enroll_officer(
                session, site_id=site_id, name=name, photos=data, analyzer=analyzer(), actor=principal.name
            )
        )
    finally:
        turn.release()
    return await run_in_threadpool(public, session, result.officer, result.rejected)


def roster(session: Session, *, site_id: str) -> list[OfficerPublic]:
    """The officers of ``site_id``, by name."""
    rows = session.scalars(select(Officer).where(Officer.site_id == site_id).order_by(Officer.name))
    return [public(session, o) for o in rows]


def set_enabled(session: Session, *, principal: Principal, officer: Officer, enabled: bool) -> OfficerPublic:
    """Enable or disable ``officer`` (a disabled one leaves the edge gallery); audited as
    ``update_officer``."""
    officer.enabled = enabled
    audit(
        session,
        actor=principal.name,
        action="update_officer",
        target=f"officer:{officer.id}",
        details={"enabled": enabled},
    )
    session.commit()
    return public(session, officer)


def presence(session: Session, *, site_id: str, day: date, zone: ZoneInfo) -> list[PresencePublic]:
    """The officers' presence at ``site_id`` on ``day`` in time zone ``zone``.

    Raises:
        BadRequestError: the first or last day of the calendar, whose bounds do not exist in UTC.
    """
    try:
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        end = start + timedelta(days=1)
        start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError:  # the first or last day of the calendar
        raise BadRequestError(f"day {day} is out of range") from None
    rows = timeline(session, site_id=site_id, start=start, end=end)
    return [PresencePublic.model_validate(r) for r in rows]
