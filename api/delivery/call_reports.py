"""The voice provider's call reports (Alibaba Cloud ``VoiceReport``): whether the safety contact answered a
call, written to the case's history next to the line of the call itself (:mod:`api.delivery.contacts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.cases.service import add_note
from api.models import Case, CaseHistory, Delivery

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


def record_call_reports(
    session: Session, *, principal: Principal, reports: list[CallReport]
) -> tuple[int, int]:
    """Add a case history line per report of one of our calls on a case ``principal`` may see ("answered by
    138****5678 (23 s)" or "not answered"); a report sent again adds nothing. Commits.

    Returns:
        How many reports were recorded, and how many named no call of ours that the caller may see.
    """
    keys = {r.out_id for r in reports}
    rows = {
        d.idempotency_key: d
        for d in session.scalars(select(Delivery).where(Delivery.idempotency_key.in_(keys)))
    }
    recorded = unknown = 0
    now = datetime.now(UTC)
    for report in reports:
        row = rows.get(report.out_id)
        case_id = row.body.get("case_id") if row is not None else None
        case = session.get(Case, case_id) if isinstance(case_id, int) else None
        if row is None or case is None or not principal.sees(case.site_id):
            unknown += 1
            continue
        who = row.body.get("masked") or "the contact"
        if report.status_code == ANSWERED or report.duration > 0:
            note = f"answered by {who} ({report.duration} s) [call {report.call_id}]"
        else:
            why = f"{report.status_code} {report.status_msg}".strip()
            note = f"call to {who} not answered: {why} [call {report.call_id}]"
        seen = session.scalar(
            select(CaseHistory.id).where(CaseHistory.case_id == case.id, CaseHistory.note == note).limit(1)
        )
        if seen is None:
            add_note(session, case=case, actor=f"alerts:{row.channel}", note=note, at=now)
        recorded += 1
    session.commit()
    return recorded, unknown
