"""Weekly and monthly briefs for a district (every visible site) or one site: headline figures against
the previous period, charts, the top cameras and kinds, typical cases with their snapshots, overdue
cases and officer presence. HTML (self-contained: charts inline as SVG, snapshots as data URLs), and PDF
printed from that HTML by headless Chromium, offline.

The periods are in :mod:`api.reports.periods`, the PDF printing in :mod:`api.reports.pdf`.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.core.kinds import VIOLATIONS
from api.models import Case, CaseEvent, Event
from api.reports import charts
from api.reports.periods import Period
from api.reports.recurring import recurring_section
from api.reports.sites import name_projects, site_rows
from api.reports.stats import compute_stats
from api.storage.interface import EvidenceStore
from detector.kinds import KIND_NAMES

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "weekly": "周报", "monthly": "月报", "district": "全辖区", "site": "工地", "previous": "上期",
        "violations": "违规", "false_alarm_share": "误报率", "opened": "新建案件", "closed": "结案",
        "closure_rate": "结案率", "median_handling_hours": "处理时长中位数（小时）",
        "closed_within_24h_share": "24小时内结案率", "officer_on_site_share": "安全员在岗率",
        "by_day": "每日违规（按类型）", "by_kind": "违规类型", "top_cameras": "违规最多的摄像头",
        "typical": "典型案件", "overdue": "超期案件", "none": "无", "deadline": "期限", "status": "状态",
        "generated": "生成时间", "camera": "摄像头", "kind": "类型", "count": "次数",
        "presence": "安全员在岗", "by_site": "各工地（工程）", "project": "工程", "company": "施工单位",
        **KIND_NAMES["zh"],
        "open": "待派发", "dispatched": "已派发", "rectifying": "整改中", "reinspection": "复查中",
        "reopened": "已重开",
    },
    "en": {
        "weekly": "Weekly brief", "monthly": "Monthly brief", "district": "whole district", "site": "site",
        "previous": "previous", "violations": "Violations", "false_alarm_share": "False-alarm share",
        "opened": "Cases opened", "closed": "Cases closed", "closure_rate": "Closure rate",
        "median_handling_hours": "Median handling (hours)", "closed_within_24h_share": "Closed within 24 h",
        "officer_on_site_share": "Officer on site", "by_day": "Violations per day and kind",
        "by_kind": "Violations per kind", "top_cameras": "Cameras with most violations",
        "typical": "Typical cases", "overdue": "Overdue cases", "none": "none", "deadline": "deadline",
        "status": "status", "generated": "Generated", "camera": "Camera", "kind": "Kind", "count": "Count",
        "by_site": "Sites (projects)", "project": "Project", "company": "Company",
        "presence": "Officer presence", **KIND_NAMES["en"],
        "open": "open", "dispatched": "dispatched", "rectifying": "rectifying",
        "reinspection": "re-inspection", "reopened": "reopened",
    },
}  # fmt: skip


def _delta(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    if before == 0:
        return "" if now == 0 else "▲"
    change = (now - before) / before * 100
    return f"{'▲' if change > 0 else '▼' if change < 0 else '='} {abs(change):.0f}%"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def officer_share(stats: dict[str, Any]) -> float | None:
    """The officer on-site share of the sites with officers, averaged over those sites."""
    shares = [v for v in stats["officer_on_site_share"].values() if v is not None]
    return round(sum(shares) / len(shares), 4) if shares else None


def _data_url(store: EvidenceStore, digest: str | None) -> str | None:
    if digest is None:
        return None
    try:
        return "data:image/jpeg;base64," + base64.b64encode(store.get(digest)).decode()
    except FileNotFoundError:
        return None


def brief_data(
    session: Session,
    *,
    principal: Principal,
    period: Period,
    store: EvidenceStore,
    site_id: str | None = None,
    lang: str = "zh",
) -> dict[str, Any]:
    """Everything a brief shows, as plain values (the HTML template's context; tests check it)."""
    words = WORDS[lang]
    tz = period.start.tzinfo.key if isinstance(period.start.tzinfo, ZoneInfo) else "UTC"
    now = compute_stats(
        session, principal=principal, since=period.start, until=period.end, tz=tz, site_id=site_id
    )
    prev_period = period.previous()
    before = compute_stats(
        session, principal=principal, since=prev_period.start, until=prev_period.end, tz=tz, site_id=site_id
    )
    figures = []
    for key, value, old, shown in (
        ("violations", now["totals"]["violations"], before["totals"]["violations"], str),
        (
            "false_alarm_share",
            now["totals"]["false_alarm_share"],
            before["totals"]["false_alarm_share"],
            _share,
        ),
        ("opened", now["cases"]["opened"], before["cases"]["opened"], str),
        ("closed", now["cases"]["closed"], before["cases"]["closed"], str),
        ("closure_rate", now["cases"]["closure_rate"], before["cases"]["closure_rate"], _share),
        (
            "median_handling_hours",
            now["cases"]["median_handling_hours"],
            before["cases"]["median_handling_hours"],
            lambda v: "—" if v is None else f"{v:.1f}",
        ),
        (
            "closed_within_24h_share",
            now["cases"]["closed_within_24h_share"],
            before["cases"]["closed_within_24h_share"],
            _share,
        ),
        ("officer_on_site_share", officer_share(now), officer_share(before), _share),
    ):
        figures.append(
            {
                "key": key,
                "label": words[key],
                "value": value,
                "shown": shown(value),
                "previous": shown(old),
                "delta": _delta(value, old),
            }
        )
    days = [
        (period.start + timedelta(days=i)).date().isoformat() for i in range((period.end - period.start).days)
    ]
    by_day = now["by_day"]
    day_chart = charts.stacked(
        words["by_day"],
        [d[5:] for d in days],
        [(words[k], [by_day.get(d, {}).get("by_kind", {}).get(k, 0) for d in days]) for k in VIOLATIONS],
    )
    kinds = sorted(now["totals"]["by_kind"].items(), key=lambda kv: -kv[1])
    kind_chart = charts.bars(words["by_kind"], [(words.get(k, k), n) for k, n in kinds])
    cameras = sorted(((c, v["violations"]) for c, v in now["by_camera"].items()), key=lambda cv: -cv[1])[:5]
    camera_chart = charts.bars(words["top_cameras"], cameras)

    visible = select(Case).where(Case.created_at >= period.start, Case.created_at < period.end)
    overdue_q = select(Case).where(
        Case.status != "closed", Case.deadline_at < min(period.end, datetime.now(UTC))
    )
    if site_id is not None:
        visible, overdue_q = visible.where(Case.site_id == site_id), overdue_q.where(Case.site_id == site_id)
    if principal.site_ids:
        visible = visible.where(Case.site_id.in_(principal.site_ids))
        overdue_q = overdue_q.where(Case.site_id.in_(principal.site_ids))
    typical: list[dict[str, Any]] = []
    for case in session.scalars(visible.order_by(Case.created_at).limit(200)):
        event = session.scalar(
            select(Event)
            .join(CaseEvent, CaseEvent.event_id == Event.id)
            .where(CaseEvent.case_id == case.id)
            .order_by(Event.score.desc())
        )
        if event is None or len(typical) >= 4 or any(t["kind"] == case.kind for t in typical):
            continue  # one per kind, the most confident evidence
        typical.append(
            {
                "id": case.id,
                "kind": case.kind,
                "kind_name": words.get(case.kind, case.kind),
                "site_id": case.site_id,
                "camera_id": case.camera_id,
                "status": words.get(case.status, case.status),
                "created_at": case.created_at.astimezone(period.start.tzinfo).strftime("%Y-%m-%d %H:%M"),
                "people": event.people_count,
                "image": _data_url(store, event.annotated_sha256 or event.snapshot_sha256),
            }
        )
    overdue = [
        {
            "id": c.id,
            "kind_name": words.get(c.kind, c.kind),
            "site_id": c.site_id,
            "camera_id": c.camera_id,
            "status": words.get(c.status, c.status),
            "deadline": c.deadline_at.astimezone(period.start.tzinfo).strftime("%Y-%m-%d %H:%M"),
        }
        for c in session.scalars(overdue_q.order_by(Case.deadline_at).limit(20))
    ]
    name_projects(session, rows=[*typical, *overdue])
    scope = site_id or words["district"]
    return {
        "lang": lang,
        "w": words,
        "title": f"{words[period.kind]} {period.label} · {scope}",
        "period": period,
        "previous": prev_period,
        "last_day": (period.end - timedelta(days=1)).strftime("%Y-%m-%d"),
        "figures": figures,
        "stats": now,
        "previous_stats": before,
        "charts": {"by_day": day_chart, "by_kind": kind_chart, "top_cameras": camera_chart},
        "top_cameras": cameras,
        "top_kinds": [(words.get(k, k), n) for k, n in kinds],
        "typical": typical,
        "overdue": overdue,
        "sites": site_rows(now),
        "recurring": recurring_section(
            session,
            principal=principal,
            start=period.start,
            end=period.end,
            tz=tz,
            site_id=site_id,
            lang=lang,
            image=lambda digest: _data_url(store, digest),
        ),
        "generated": datetime.now(period.start.tzinfo).strftime("%Y-%m-%d %H:%M"),
    }


def render_html(data: dict[str, Any]) -> str:
    """The brief as one self-contained HTML page."""
    return _env.get_template("brief.html.j2").render(**data)
