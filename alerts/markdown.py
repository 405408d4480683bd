"""What group chats read: a notice as a title and a short markdown message, in Chinese or English."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from alerts.contract import BriefNotice, CaseNotice, EventInfo, EventNotice
from detector import kinds

#: The kinds' names per language (from :mod:`detector.kinds`, like everywhere else).
KIND_NAMES = kinds.KIND_NAMES
STATUS_NAMES = {
    "zh": {
        "open": "待派发",
        "dispatched": "已派发",
        "rectifying": "整改中",
        "reinspection": "复查中",
        "closed": "已结案",
        "reopened": "已重开",
    },
    "en": {s: s for s in ("open", "dispatched", "rectifying", "reinspection", "closed", "reopened")},
}
TOPIC_NAMES = {
    "zh": {
        "case.created": "新建案件",
        "case.updated": "案件更新",
        "case.due_soon": "案件即将超期",
        "event.started": "发现违规",
        "event.ended": "违规结束",
        "event.confirmed": "违规已确认",
    },
    "en": {
        "case.created": "Case opened",
        "case.updated": "Case updated",
        "case.due_soon": "Case due soon",
        "event.started": "Violation",
        "event.ended": "Violation ended",
        "event.confirmed": "Violation confirmed",
    },
}
LABELS = {
    "zh": {"site": "工地", "camera": "摄像头", "time": "时间", "people": "人数", "status": "状态",
           "deadline": "整改期限", "snapshot": "查看抓拍"},
    "en": {"site": "Site", "camera": "Camera", "time": "Time", "people": "People", "status": "Status",
           "deadline": "Deadline", "snapshot": "Snapshot"},
}  # fmt: skip


def markdown(
    notice: CaseNotice | EventNotice | BriefNotice, language: str, zone: ZoneInfo
) -> tuple[str, str]:
    """A title and a short markdown message for a group chat, in ``language``."""
    words = LABELS[language]
    kinds = KIND_NAMES[language]

    def local(moment: Any) -> str:
        return str(moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"))

    event: EventInfo | None
    if isinstance(notice, BriefNotice):
        lines = [f"**{notice.title}**", *(f"> {name}: {value}" for name, value in notice.figures.items())]
        lines.append(f"[{'网页版' if language == 'zh' else 'Web page'}]({notice.html_url})")
        if notice.pdf_url:
            lines.append(f"[PDF]({notice.pdf_url})")
        return notice.title, "\n".join(lines)
    if isinstance(notice, CaseNotice):
        case = notice.case
        event = notice.events[-1] if notice.events else None
        title = f"{TOPIC_NAMES[language][notice.type]}: {kinds.get(case.kind, case.kind)}"
        lines = [
            f"**{title}** #{case.id}",
            f"> {words['site']}: {case.site_id}",
            f"> {words['camera']}: {case.camera_id or '-'}",
            f"> {words['status']}: {STATUS_NAMES[language][case.status]}",
            f"> {words['deadline']}: {local(case.deadline_at)}",
            f"> {words['people']}: {case.people_count}",
        ]
    else:
        event = notice.event
        title = f"{TOPIC_NAMES[language][notice.type]}: {kinds.get(event.kind, event.kind)}"
        lines = [
            f"**{title}**",
            f"> {words['site']}: {event.site_id}",
            f"> {words['camera']}: {event.camera_id or '-'}",
            f"> {words['time']}: {local(event.started_at)}",
            f"> {words['people']}: {event.people_count}",
        ]
    link = event and (event.evidence.annotated_url or event.evidence.snapshot_url)
    if link:
        lines.append(f"[{words['snapshot']}]({link})")
    return title, "\n".join(lines)
