"""The voice provider's call reports (Alibaba Cloud ``VoiceReport``): whether the safety contact answered a
call, written to the case's history next to the line of the call itself (:mod:`api.delivery.contacts`).

A report names our delivery by ``OutId`` and the call by ``CallId``. Only a report of the call the provider
said it placed for that delivery (its ``CallId`` answered to the send, kept as the delivery's ``response``)
is recorded, once per call whatever it says of the duration; any other ``CallId`` is not ours and is
refused, counted in the answer and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.aliyun import call_id_of
from api.access.auth import Principal
from api.cases.service import add_note
from api.models import Case, CaseHistory, Delivery

logger = logging.getLogger(__name__)

#: ``status_code`` of a call that was answered and listened to the end (用户听音完成).
ANSWERED = "200000"


@dataclass(frozen=True, slots=True)
class CallReport:
    """One report: the call's id, our ``OutId`` (the delivery's idempotency key), the provider's result."""

    call_id: str
    out_id: str
    status_code: str
    status_msg: str = ""
    duration: int = 0


@dataclass(slots=True)
class Recorded:
    """What was made of a batch of reports.

    Attributes:
        recorded: reports of our calls (a repeat of a call already recorded adds no line).
        unknown: reports whose ``OutId`` names no call of ours on a case the caller may see.
        mismatched: reports whose ``OutId`` is ours but whose ``CallId`` is not the call placed for it.
        problems: one sentence per mismatched report.
    """

    recorded: int = 0
    unknown: int = 0
    mismatched: int = 0
    problems: list[str] = field(default_factory=list)


def record_call_reports(session: Session, *, principal: Principal, reports: list[CallReport]) -> Recorded:
    """Add a case history line per call of ours, on a case ``principal`` may see, that a report tells of
    ("answered by 138****5678 (23 s)" or "not answered"): the first report of the call placed for the
    ``OutId`` (the same ``CallId``) adds it, any later one of that call nothing; a report with another
    ``CallId`` is refused. Commits.
    """
    keys = {r.out_id for r in reports}
    rows = {
        d.idempotency_key: d
        for d in session.scalars(select(Delivery).where(Delivery.idempotency_key.in_(keys)))
    }
    out = Recorded()
    now = datetime.now(UTC)
    for report in reports:
        row = rows.get(report.out_id)
        case_id = row.body.get("case_id") if row is not None else None
        case = session.get(Case, case_id) if isinstance(case_id, int) else None
        if row is None or case is None or not principal.sees(case.site_id):
            out.unknown += 1
            continue
        placed = call_id_of(row.response) if row.status == "delivered" else None
        if report.call_id != placed:
            out.mismatched += 1
            problem = (
                f"call_id {report.call_id} is not the call placed for out_id {report.out_id}: not recorded"
            )
            out.problems.append(problem)
            logger.warning("voice report refused (%s): %s", principal.name, problem)
            continue
        who = row.body.get("masked") or "the contact"
        if report.status_code == ANSWERED or report.duration > 0:
            note = f"answered by {who} ({report.duration} s) [call {report.call_id}]"
        else:
            why = f"{report.status_code} {report.status_msg}".strip()
            note = f"call to {who} not answered: {why} [call {report.call_id}]"
        seen = session.scalar(
            select(CaseHistory.id)
            .where(
                CaseHistory.case_id == case.id,
                CaseHistory.note.endswith(f"[call {report.call_id}]", autoescape=True),
            )
            .limit(1)
        )
        if seen is None:
            add_note(session, case=case, actor=f"alerts:{row.channel}", note=note, at=now)
        out.recorded += 1
    session.commit()
    return out
