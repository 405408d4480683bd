"""Calls and texts to a project's safety contact (:mod:`alerts.aliyun`), the outbox's side: whom to reach
for a case, at most so many times an hour per phone number, and each attempt in the case's history.

The per-number limit counts this channel's deliveries of the last hour from the ``deliveries`` table (no
table of its own: the calls and texts of an hour are few, and the rows already say what was sent and when),
so it holds across restarts and replicas; a delivery over the limit waits, as one over a channel's rate.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.aliyun import AliyunChannel, Contact, masked
from alerts.channels import Channel, Outcome
from alerts.config import ChannelConfig
from alerts.contract import CaseNotice, EventNotice
from api.cases.service import add_note
from api.core.secretkeys import data_keys
from api.models import Case, Delivery
from api.projects.service import decrypt_phone, project_for_site

logger = logging.getLogger(__name__)

#: The window of ``per_number_per_hour``.
WINDOW = timedelta(hours=1)


def contact_of_site(session: Session, *, site_id: str) -> Contact | None:
    """The safety contact of the site's project; ``None`` without a project.

    (``api.projects.service.contact_of`` answers the same with the number in clear; here the number stays a
    token until the moment of sending, so that the outbox never holds it readable.)
    """
    project = project_for_site(session, site_id=site_id)
    if project is None:
        return None
    token = project.contact_phone or None
    shown = ""
    if token:
        try:
            shown = masked(decrypt_phone(token, key=data_keys(session).pii))
        except Exception:  # no key here: the send reports it; the history shows no digits meanwhile
            shown = "****"
    return Contact(project=project.name, name=project.contact_name, phone_token=token, masked=shown)


def render(session: Session, channel: Channel, notice: CaseNotice | EventNotice) -> dict[str, Any]:
    """The body of a notice for ``channel``: phone channels also get the case's contact."""
    if isinstance(channel, AliyunChannel):
        site_id = notice.case.site_id if isinstance(notice, CaseNotice) else notice.event.site_id
        return channel.render_for(notice, contact_of_site(session, site_id=site_id))
    return channel.render(notice)


def hold_over_limit(
    sessions: sessionmaker[Session], name: str, config: ChannelConfig, rows: list[Delivery]
) -> tuple[list[Delivery], list[tuple[Delivery, float]]]:
    """Split a phone channel's claimed rows into those to send now and those to hold (with the seconds to
    wait), so that no number gets more than ``per_number_per_hour`` of this channel's messages an hour."""
    now = datetime.now(UTC)
    with sessions() as session:
        recent = session.execute(
            select(Delivery.body, Delivery.delivered_at).where(
                Delivery.channel == name,
                Delivery.status == "delivered",
                Delivery.delivered_at >= now - WINDOW,
            )
        ).all()
    key = data_keys(sessions).pii
    numbers: dict[str, str | None] = {}

    def number(token: object) -> str | None:
        if not isinstance(token, str) or not token:
            return None
        if token not in numbers:
            try:
                numbers[token] = decrypt_phone(token, key=key)
            except Exception:  # unreadable: the send itself fails and says why
                numbers[token] = None
        return numbers[token]

    sent: Counter[str] = Counter()
    oldest: dict[str, datetime] = {}
    for body, at in recent:
        phone = number(body.get("to"))
        if phone is not None and at is not None:
            sent[phone] += 1
            at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives naive UTC back
            oldest[phone] = min(oldest.get(phone, at), at)
    send: list[Delivery] = []
    held: list[tuple[Delivery, float]] = []
    for row in rows:
        phone = number(row.body.get("to"))
        if phone is None:
            send.append(row)
        elif sent[phone] >= config.per_number_per_hour:
            wait = max(1.0, (oldest.get(phone, now) + WINDOW - now).total_seconds())
            logger.info(
                "delivery %d to %s: its number had %d this hour; held %.0f s", row.id, name, sent[phone], wait
            )
            held.append((row, wait))
        else:
            sent[phone] += 1
            oldest.setdefault(phone, now)
            send.append(row)
    return send, held


def note_of(config: ChannelConfig, body: dict[str, Any], outcome: Outcome, *, last: bool) -> str:
    """The case history's line for one attempt, e.g. ``called 138****5678: accepted (OK 1160^1028)``."""
    verb = "called" if config.type == "aliyun_voice" else "texted"
    who = body.get("masked") or "no number"
    if outcome.delivered:
        return f"{verb} {who}: accepted ({outcome.detail})"
    then = "gave up" if last else "will retry"
    return f"{verb} {who}: failed: {outcome.detail} ({then})"


def record_in_history(
    session: Session, name: str, config: ChannelConfig, results: list[tuple[Delivery, Outcome]]
) -> None:
    """Add a case history row for each attempt (the case's status unchanged), in the caller's transaction."""
    now = datetime.now(UTC)
    for row, outcome in results:
        case_id = row.body.get("case_id")
        case = session.get(Case, case_id) if isinstance(case_id, int) else None
        if case is None:
            continue
        last = outcome.permanent or row.attempts + 1 >= config.max_attempts
        note = note_of(config, row.body, outcome, last=last)
        add_note(session, case=case, actor=f"alerts:{name}", note=note, at=now)
