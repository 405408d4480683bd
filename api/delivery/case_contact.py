"""Calling or texting a case's responsible person now, at a supervisor's request (issue 21): a notice of the
case queued through the outbox to the configured Alibaba Cloud voice or SMS channels (the path ``case.*``
notices to those channels take, :mod:`api.delivery.contacts`), whatever the routes say, with the request in
the case's history. The dispatcher then adds each attempt's outcome to the history, as for routed notices,
within the channel's limit per number and hour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.orm import Session

from api.access.audit import audit
from api.access.auth import Principal
from api.cases.listing import public
from api.cases.schemas import CasePublic
from api.cases.service import add_note
from api.core.errors import ConflictError
from api.delivery.contacts import contact_of_site
from api.delivery.dispatcher import Dispatcher
from api.models import Case, Notification

#: The channel type each way of reaching the person uses.
CHANNEL_TYPES: dict[str, str] = {"call": "aliyun_voice", "sms": "aliyun_sms"}
VERBS: dict[str, str] = {"call": "call", "sms": "text"}


def contact_now(
    session: Session,
    *,
    principal: Principal,
    case: Case,
    channel: Literal["call", "sms"],
    dispatcher: Dispatcher | None,
) -> CasePublic:
    """Queue a ``channel`` (``call`` or ``sms``) to the safety contact of ``case``'s project on every
    configured channel of that type; the request goes into the case's history and the audit log
    (``case.contact``), a refused one too.

    Raises:
        ConflictError: no channel of that type is configured (or the API delivers nothing), or the case's
            site has no project with a contact phone; the refusal is recorded in the history all the same.
    """
    kind = CHANNEL_TYPES[channel]
    verb = VERBS[channel]
    names = dispatcher.channels_of_type(kind) if dispatcher is not None else []
    contact = contact_of_site(session, site_id=case.site_id)
    problem = None
    if not names:
        problem = (
            f"no {kind} channel is configured (alerts configuration), so nobody can be reached by {channel}"
        )
    elif contact is None or not contact.phone_token:
        problem = "the case's project has no contact phone number"
    details: dict[str, object] = {"channel": channel, "via": names}
    if problem is not None:
        add_note(session, case=case, actor=principal.name, note=f"{verb} requested, not sent: {problem}")
        audit(
            session,
            actor=principal.name,
            action="case.contact",
            target=f"case:{case.id}",
            details=details | {"refused": problem},
        )
        session.commit()
        raise ConflictError(problem)
    assert dispatcher is not None and contact is not None  # checked above
    now = datetime.now(UTC)
    who = f"{contact.name} {contact.masked}".strip()
    add_note(session, case=case, actor=principal.name, note=f"{verb} {who} now: queued on {', '.join(names)}")
    notification = Notification(
        topic="case.updated",
        site_id=case.site_id,
        kind=case.kind,
        camera_id=case.camera_id,
        case_id=case.id,
        created_at=now,
        routed=True,  # delivered to ``names`` below, not routed again
    )
    session.add(notification)
    session.flush()
    dispatcher.queue_now(session, notification, names)
    audit(session, actor=principal.name, action="case.contact", target=f"case:{case.id}", details=details)
    session.commit()
    dispatcher.wake()
    return public(session, case, principal=principal)[0]
