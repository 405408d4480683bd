"""The voice provider's call reports, relayed by the case system's integration (Alibaba Cloud pushes
``VoiceReport`` without our key, so a relay that holds an ``integration`` key forwards them here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.access.auth import Principal
from api.access.deps import SessionDep, require
from api.delivery.call_reports import CallReport, record_call_reports
from api.http.params import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["alerts"])
Integration = Annotated[Principal, Depends(require("integration"))]


class VoiceReportIn(BaseModel):
    """One item of Alibaba Cloud's ``VoiceReport`` push (other fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(min_length=1, max_length=100)
    out_id: str = Field(min_length=1, max_length=100, description="The OutId we sent: names our call.")
    status_code: str = Field(max_length=16, description="200000: answered and listened to the end.")
    status_msg: str = Field(default="", max_length=200)
    duration: int = Field(default=0, ge=0, le=86400, description="Seconds talked; 0 when not answered.")


class VoiceReportAnswer(BaseModel):
    """The provider's expected answer (``code`` 0), with what was made of the reports."""

    code: int = 0
    msg: str = "接收成功"
    recorded: int = Field(
        description="Reports of our calls (a repeat of a call already recorded adds no line)."
    )
    unknown: int = Field(description="Reports that name no call of ours on a case this key may see.")
    mismatched: int = Field(
        default=0,
        description="Reports whose out_id names our call but whose call_id is not the call the provider "
        "placed for it: not recorded.",
    )
    problems: list[str] = Field(default_factory=list, description="Why each mismatched report was refused.")


@router.post("/alerts/voice-reports", response_model=VoiceReportAnswer, operation_id="voice_reports")
def voice_reports(
    principal: Integration,
    session: SessionDep,
    reports: Annotated[list[VoiceReportIn], Field(max_length=500)],
) -> VoiceReportAnswer:
    """Record whether the safety contact answered our calls (in each case's history)."""
    out = record_call_reports(
        session,
        principal=principal,
        reports=[CallReport(r.call_id, r.out_id, r.status_code, r.status_msg, r.duration) for r in reports],
    )
    return VoiceReportAnswer(
        recorded=out.recorded, unknown=out.unknown, mismatched=out.mismatched, problems=out.problems
    )
