"""The case board as a spreadsheet (issue 21): the cases a filter matches, every one of them, streamed as
CSV or XLSX with Chinese or English headers, scoped to the caller's sites and audited as an export.

Phone numbers are always masked in an export (a file leaves the audit log's sight once downloaded).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal

from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.access.audit import audit
from api.access.auth import Principal
from api.cases.filters import CaseFilters, filtered
from api.cases.listing import aware, count_cases, phone_shown, projects_of
from api.core.db import local_zone
from api.core.secretkeys import data_keys
from api.http.export import Cell, ExportFormat, local_text, table_download
from api.models import Case
from detector.kinds import name as kind_name

Lang = Literal["zh", "en"]
#: Cases read per query while exporting.
BATCH = 1000
COLUMNS: dict[Lang, list[str]] = {
    "zh": ["案件编号", "工程名称", "施工单位", "街道", "社区", "工地", "摄像头", "违规类型", "状态",
           "立案时间", "处置期限", "结案时间", "是否超期", "超期小时", "案件系统编号", "安全负责人",
           "联系电话"],
    "en": ["Case", "Project", "Contractor", "Street", "Community", "Site", "Camera", "Kind", "Status",
           "Opened", "Deadline", "Closed", "Overdue", "Hours overdue", "Case system number",
           "Safety contact", "Phone"],
}  # fmt: skip
STATUS_NAMES: dict[Lang, dict[str, str]] = {
    "zh": {"open": "待派发", "dispatched": "已派发", "rectifying": "整改中", "reinspection": "复查中",
           "closed": "已结案", "reopened": "已重开"},
    "en": {"open": "Open", "dispatched": "Dispatched", "rectifying": "Rectifying",
           "reinspection": "Re-inspection", "closed": "Closed", "reopened": "Reopened"},
}  # fmt: skip
YES_NO: dict[Lang, tuple[str, str]] = {"zh": ("是", "否"), "en": ("yes", "no")}


def export_cases(
    session: Session,
    *,
    sessions: sessionmaker[Session],
    principal: Principal,
    filters: CaseFilters,
    fmt: ExportFormat,
    lang: Lang,
) -> StreamingResponse:
    """Every case ``filters`` match within ``principal``'s sites, newest first, as a download; the export is
    audited (``cases.export`` with the filters, format and number of rows) before the first byte.

    The rows are read in batches of :data:`BATCH` by a session of their own (the request's is closed by
    the time the body streams), so memory stays the same for any number of cases.
    """
    now = datetime.now(UTC)
    total = count_cases(session, principal=principal, filters=filters, now=now)
    details: dict[str, object] = {"filters": filters.described(), "format": fmt, "lang": lang, "rows": total}
    audit(session, actor=principal.name, action="cases.export", target="cases", details=details)
    session.commit()
    zone = local_zone(session)

    def when(moment: datetime | None) -> str:
        return local_text(moment, zone)

    def rows() -> Iterator[list[Cell]]:
        statuses, (yes, no) = STATUS_NAMES[lang], YES_NO[lang]
        last: int | None = None
        with sessions() as reader:
            key = data_keys(reader).pii
            while True:
                query = filtered(select(Case), filters, principal=principal, now=now)
                if last is not None:
                    query = query.where(Case.id < last)
                batch = list(reader.scalars(query.order_by(Case.id.desc()).limit(BATCH)))
                if not batch:
                    return
                projects = projects_of(reader, site_ids=[c.site_id for c in batch])
                for case in batch:
                    p = projects.get(case.site_id)
                    late = case.status != "closed" and aware(case.deadline_at) < now
                    hours = round((now - aware(case.deadline_at)).total_seconds() / 3600, 1) if late else None
                    yield [
                        case.id, p.name if p else "", p.company if p else "", p.street if p else "",
                        p.community if p else "", case.site_id, case.camera_id or "",
                        kind_name(case.kind, lang),
                        statuses.get(case.status, case.status), when(case.created_at), when(case.deadline_at),
                        when(case.closed_at), yes if late else no, hours, case.external_id or "",
                        p.contact_name if p else "", (phone_shown(p, full=False, key=key) or "") if p else "",
                    ]  # fmt: skip
                last = batch[-1].id
                reader.expunge_all()

    return table_download(headers=COLUMNS[lang], rows=rows(), fmt=fmt, name="cases")
