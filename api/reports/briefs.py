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
from sqlalchemy import case, exists, select
from sqlalchemy.orm import Session

from api.access.auth import Principal
from api.core.kinds import VIOLATIONS
from api.models import Case, CaseEvent, Event
from api.reports import charts
from api.reports.closed_loop import FIGURES, LoopTargets, Span, closed_loop, hours_open
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
        "closure_rate": "办结率", "closure_rate_monthly": "当月办结率",
        "mean_handling_hours": "平均处理时长（小时）", "median_handling_hours": "处理时长中位数（小时）",
        "fast_close_rate": "速办率", "call_share": "云呼占比",
        "officer_on_site_share": "安全员在岗率", "baseline": "基线", "pp": "个百分点", "h": "小时",
        "of_cases": "{count}/{total} 件", "closed_cases": "已办结 {count} 件",
        "fast_cases": "{hours}小时内办结 {count}/{total} 件",
        "partial": "本期未结束：数据截至 {now}，与上期同样长度的时段（{since} – {until}）对比。",
        "partial_title": "（未完）", "loop": "闭环处置", "open_for": "历时 {hours} 小时",
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
        "closure_rate_monthly": "Monthly closure rate", "mean_handling_hours": "Mean handling time (hours)",
        "median_handling_hours": "Median handling (hours)", "fast_close_rate": "Fast-close rate",
        "call_share": "Call share", "officer_on_site_share": "Officer on site", "baseline": "baseline",
        "pp": " pp", "h": " h", "of_cases": "{count} of {total} cases",
        "closed_cases": "{count} cases closed",
        "fast_cases": "{count} of {total} closed within {hours} h",
        "partial": "Partial period: figures up to {now}, compared with the same length of the previous "
        "period ({since} – {until}).",
        "partial_title": " (partial)", "loop": "Closed loop", "open_for": "{hours} h open",
        "by_day": "Violations per day and kind",
        "by_kind": "Violations per kind", "top_cameras": "Cameras with most violations",
        "typical": "Typical cases", "overdue": "Overdue cases", "none": "none", "deadline": "deadline",
        "status": "status", "generated": "Generated", "camera": "Camera", "kind": "Kind", "count": "Count",
        "by_site": "Sites (projects)", "project": "Project", "company": "Company",
        "presence": "Officer presence", **KIND_NAMES["en"],
        "open": "open", "dispatched": "dispatched", "rectifying": "rectifying",
        "reinspection": "re-inspection", "reopened": "reopened",
    },
}  # fmt: skip


#: Which way each figure of a brief is better (``None``: neither, a count of work); the closed loop's own
#: figures are judged by :data:`api.reports.closed_loop.FIGURES`.
BETTER: dict[str, str | None] = {
    "violations": "lower",
    "false_alarm_share": "lower",
    "opened": None,
    "closed": None,
    "officer_on_site_share": "higher",
} | {name: better for name, (_, better) in FIGURES.items()}

#: How each figure's change is written: ``share`` in percentage points, ``hours`` in hours, ``count`` in per
#: cent of the earlier count.
UNITS: dict[str, str] = {
    "violations": "count",
    "false_alarm_share": "share",
    "opened": "count",
    "closed": "count",
    "officer_on_site_share": "share",
} | {name: unit for name, (unit, _) in FIGURES.items()}


def delta(key: str, now: float | None, before: float | None, words: dict[str, str]) -> tuple[str, str]:
    """The change of figure ``key`` as text (``▼19.2 pp``, ``▼19.2个百分点``, ``▲3.0 h``, ``▲ 150%``) and its
    judgement for the colour: ``good``, ``bad``, ``same`` or ``""`` (nothing to judge, or a mere count).

    Example:
        >>> delta("closure_rate", 0.70, 0.892, WORDS["en"])
        ('▼19.2 pp', 'bad')
        >>> delta("mean_handling_hours", 18.3, 168.6, WORDS["zh"])
        ('▼150.3小时', 'good')
    """
    if now is None or before is None:
        return "", ""
    unit, better = UNITS[key], BETTER[key]
    if unit == "count":
        if before == 0:
            text = "" if now == 0 else "▲"
        else:
            change = (now - before) / before * 100
            text = f"{'▲' if change > 0 else '▼' if change < 0 else '='} {abs(change):.0f}%"
        raw = now - before
    else:
        raw = round((now - before) * (100 if unit == "share" else 1), 1)
        arrow = "▲" if raw > 0 else "▼" if raw < 0 else "="
        text = f"{arrow}{abs(raw):.1f}{words['pp' if unit == 'share' else 'h']}"
    if better is None:
        return text, ""
    if raw == 0:
        return text, "same"
    return text, "good" if (raw > 0) == (better == "higher") else "bad"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


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
    targets: LoopTargets | None = None,
) -> dict[str, Any]:
    """Everything a brief shows, as plain values (the HTML template's context; tests check it).

    The closed loop's four figures (:mod:`api.reports.closed_loop`, with ``targets``: the fast-close target
    and the baseline) lead; each change is coloured by whether it is good for that figure. A period still
    under way says so, and is compared with as much of the period before.
    """
    words = WORDS[lang]
    zone = period.start.tzinfo if isinstance(period.start.tzinfo, ZoneInfo) else ZoneInfo("UTC")
    tz = zone.key
    targets = targets or LoopTargets()
    moment = datetime.now(UTC)
    prev_period = period.previous()
    partial = period.end > moment
    # A period under way is compared with as much of the one before (the same length from its start); one
    # still ahead with nothing of it (an empty span at its start).
    elapsed = max(moment - period.start, timedelta(0))
    before_end = min(prev_period.start + elapsed, prev_period.end) if partial else prev_period.end
    span = Span(period.start, period.end, prev_period.start, before_end, partial=partial, name=period.label)
    now = compute_stats(
        session, principal=principal, since=period.start, until=period.end, tz=tz, site_id=site_id
    )
    before = compute_stats(
        session, principal=principal, since=prev_period.start, until=before_end, tz=tz, site_id=site_id
    )
    loop = closed_loop(session, principal=principal, span=span, zone=zone, targets=targets, site_id=site_id)
    lf = loop["figures"]

    def counts(template: str, figure: dict[str, Any]) -> str:
        return words[template].format(
            count=figure["count"], total=figure["total"], hours=f"{targets.fast_close_hours:g}"
        )

    rows: list[tuple[str, str, float | None, float | None, float | None, Any, str]] = [
        (
            "closure_rate",
            words["closure_rate_monthly" if period.kind == "monthly" else "closure_rate"],
            *_loop_values(lf["closure_rate"]),
            _share,
            counts("of_cases", lf["closure_rate"]),
        ),
        ("mean_handling_hours", words["mean_handling_hours"], *_loop_values(lf["mean_handling_hours"]),
         _hours, counts("closed_cases", lf["mean_handling_hours"])),
        ("fast_close_rate", words["fast_close_rate"], *_loop_values(lf["fast_close_rate"]), _share,
         counts("fast_cases", lf["fast_close_rate"])),
        ("call_share", words["call_share"], *_loop_values(lf["call_share"]), _share,
         counts("of_cases", lf["call_share"])),
        ("median_handling_hours", words["median_handling_hours"], *_loop_values(lf["median_handling_hours"]),
         _hours, ""),
        ("violations", words["violations"], now["totals"]["violations"], before["totals"]["violations"], None,
         str, ""),
        ("false_alarm_share", words["false_alarm_share"], now["totals"]["false_alarm_share"],
         before["totals"]["false_alarm_share"], None, _share, ""),
        ("opened", words["opened"], now["cases"]["opened"], before["cases"]["opened"], None, str, ""),
        # closed within the period, as the closure rate counts them
        ("closed", words["closed"], lf["closure_rate"]["count"], lf["closure_rate"]["previous"]["count"],
         None, str, ""),
        ("officer_on_site_share", words["officer_on_site_share"], officer_share(now), officer_share(before),
         None, _share, ""),
    ]  # fmt: skip
    figures = []
    for key, label, value, old, base, shown, count_text in rows:
        change, judged = delta(key, value, old, words)
        base_change, base_judged = delta(key, value, base, words) if loop["baseline"] else ("", "")
        figures.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "shown": shown(value),
                "previous": shown(old),
                "delta": change,
                "judged": judged,
                "counts": count_text,
                "loop": key in FIGURES,
                "baseline": shown(base) if loop["baseline"] and key in FIGURES else "",
                "baseline_delta": base_change if key in FIGURES else "",
                "baseline_judged": base_judged if key in FIGURES else "",
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
    # The most telling cases first: those still open, then the longest open (or the slowest closed), one per
    # kind, each with its most confident evidence.
    open_hours = hours_open(session, moment)
    with_evidence = exists().where(CaseEvent.case_id == Case.id)  # a case without events shows no picture
    worst = (
        visible.where(with_evidence)
        .order_by(case((Case.status == "closed", 1), else_=0), open_hours.desc(), Case.id)
        .limit(200)
    )
    for row in session.scalars(worst):
        if len(typical) >= 4:
            break
        if any(t["kind"] == row.kind for t in typical):
            continue
        event = session.scalar(
            select(Event)
            .join(CaseEvent, CaseEvent.event_id == Event.id)
            .where(CaseEvent.case_id == row.id)
            .order_by(Event.score.desc())
        )
        if event is None:
            continue
        typical.append(
            {
                "id": row.id,
                "kind": row.kind,
                "kind_name": words.get(row.kind, row.kind),
                "site_id": row.site_id,
                "camera_id": row.camera_id,
                "status": words.get(row.status, row.status),
                "created_at": row.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                "hours_open": round(((row.closed_at or moment) - row.created_at).total_seconds() / 3600, 1),
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
        "title": f"{words[period.kind]} {period.label}{words['partial_title'] if partial else ''} · {scope}",
        "period": period,
        "previous": prev_period,
        "partial": words["partial"].format(
            now=moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            since=prev_period.start.strftime("%Y-%m-%d %H:%M"),
            until=before_end.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        )
        if partial
        else "",
        "loop": loop,
        "baseline": _baseline_text(loop),
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


def _loop_values(figure: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """A closed-loop figure's value now, before and in the baseline."""
    base = figure["baseline"]
    return figure["value"], figure["previous"]["value"], base["value"] if base else None


def _baseline_text(loop: dict[str, Any]) -> str:
    """The baseline's days, ``2025-01-01 – 2025-01-31``; empty without one."""
    if not loop["baseline"]:
        return ""
    first = datetime.fromisoformat(loop["baseline"]["since"])
    end = datetime.fromisoformat(loop["baseline"]["until"]) - timedelta(days=1)
    return f"{first:%Y-%m-%d} – {end:%Y-%m-%d}"


def render_html(data: dict[str, Any]) -> str:
    """The brief as one self-contained HTML page."""
    return _env.get_template("brief.html.j2").render(**data)
