"""The briefs' section on recurring problems (类案): the findings of :func:`api.analysis.service.analyse`
for the brief's period and scope, each with its figures, typical snapshots and suggested action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.analysis.service import analyse

WORDS = {
    "zh": {
        "heading": "本期类案（反复出现的问题）", "action": "建议措施", "none": "本期未发现反复出现的问题",
        "recurring_company": "施工单位多项目反复违规", "rising_project": "项目违规上升",
        "reopened_cases": "案件结案后重开", "noisy_camera": "摄像头误报偏多",
    },
    "en": {
        "heading": "Recurring problems of the period", "action": "Suggested action",
        "none": "No recurring problems found in this period",
        "recurring_company": "Contractor recurring on several projects", "rising_project": "Rising project",
        "reopened_cases": "Cases reopened after closure", "noisy_camera": "Camera with many false alarms",
    },
}  # fmt: skip

#: Findings a brief shows at most (the strongest of each kind come first).
SHOWN = 8


def recurring_section(
    session: Session,
    *,
    principal: Principal,
    start: datetime,
    end: datetime,
    tz: str,
    site_id: str | None,
    lang: str,
    image: Callable[[str | None], str | None],
) -> dict[str, Any]:
    """The section's words and findings; ``image`` turns a snapshot's digest into a data URL (or ``None``)."""
    words = WORDS[lang]
    found = analyse(session, principal=principal, start=start, end=end, tz=tz, site_id=site_id)["findings"]
    findings = []
    for f in found[:SHOWN]:
        findings.append(
            {
                "kind": f["kind"],
                "kind_name": words[f["kind"]],
                "subject": f["subject"],
                "title": f["title"][lang],
                "action": f["action"][lang],
                "images": [
                    {"event_id": e["event_id"], "src": src}
                    for e in f["evidence"][:2]
                    if (src := image(e["snapshot_sha256"])) is not None
                ],
            }
        )
    return {"w": words, "findings": findings, "more": max(0, len(found) - SHOWN)}
