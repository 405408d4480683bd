"""Events as a spreadsheet (issue 21): every event a filter matches, streamed as CSV or XLSX with Chinese
or English headers, scoped to the caller's sites and audited as an export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from fastapi.responses import StreamingResponse
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from api.access.audit import audit
from api.access.auth import Principal
from api.core.db import local_zone
from api.events.service import EventFilters, filtered_events
from api.http.export import Cell, ExportFormat, local_text, table_download
from api.models import Event, Project
from detector.kinds import name as kind_name

Lang = Literal["zh", "en"]
#: Events read per query while exporting.
BATCH = 1000
COLUMNS: dict[Lang, list[str]] = {
    "zh": ["事件编号", "工程名称", "施工单位", "工地", "摄像头", "违规类型", "开始时间", "结束时间", "人数",
           "置信度", "审核状态"],
    "en": ["Event", "Project", "Contractor", "Site", "Camera", "Kind", "Started", "Ended", "People",
           "Score", "Review"],
}  # fmt: skip
REVIEW_NAMES: dict[Lang, dict[str, str]] = {
    "zh": {"pending": "待审核", "confirmed": "已确认", "false_alarm": "误报"},
    "en": {"pending": "Pending", "confirmed": "Confirmed", "false_alarm": "False alarm"},
}


def export_events(
    session: Session,
    *,
    sessions: sessionmaker[Session],
    principal: Principal,
    filters: EventFilters,
    fmt: ExportFormat,
    lang: Lang,
) -> StreamingResponse:
    """Every event ``filters`` match within ``principal``'s sites, newest first, as a download; audited
    (``events.export`` with the filters, format and number of rows) before the first byte. Rows are read in
    batches of :data:`BATCH` by a session of their own, in constant memory."""
    total = session.scalar(filtered_events(select(func.count(Event.id)), filters, principal=principal))
    details: dict[str, object] = {"filters": filters.described(), "format": fmt, "lang": lang, "rows": total}
    audit(session, actor=principal.name, action="events.export", target="events", details=details)
    session.commit()
    zone = local_zone(session)

    def when(moment: datetime | None) -> str:
        return local_text(moment, zone)

    def rows() -> Iterator[list[Cell]]:
        reviews = REVIEW_NAMES[lang]
        after: tuple[datetime, str] | None = None
        with sessions() as reader:
            while True:
                query = filtered_events(
                    select(Event, Project.name, Project.company), filters, principal=principal
                )
                if after is not None:
                    started, event_id = after
                    query = query.where(
                        or_(
                            Event.started_at < started, and_(Event.started_at == started, Event.id < event_id)
                        )
                    )
                order = (Event.started_at.desc(), Event.id.desc())
                batch = list(reader.execute(query.order_by(*order).limit(BATCH)).tuples())
                if not batch:
                    return
                for event, project, company in batch:
                    yield [
                        event.id, project or "", company or "", event.site_id, event.camera_id or "",
                        kind_name(event.kind, lang), when(event.started_at), when(event.ended_at),
                        event.people_count, round(event.score, 3),
                        reviews.get(event.review_status, event.review_status),
                    ]  # fmt: skip
                last = batch[-1][0]
                after = (last.started_at, last.id)
                reader.expunge_all()

    return table_download(headers=COLUMNS[lang], rows=rows(), fmt=fmt, name="events")
