"""The recurring problems an analysis finds (:func:`find`), each with figures, typical events as evidence
and a suggested action in Chinese and English:

- ``recurring_company``: a contractor (施工单位) with violations well above the usual on several of its
  projects: the problem is the company's, not one site's.
- ``rising_project``: a project whose violations in the last full week rose against the week before.
- ``reopened_cases``: a site whose cases were reopened after closure: the rectification did not hold.
- ``noisy_camera``: a camera most of whose reviewed events were dismissed as false alarms: a camera to
  re-aim, not a site to punish.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select

from api.analysis.evidence import evidence, finding
from api.analysis.scope import Scope
from api.models import Case, CaseEvent, CaseHistory, Event

KINDS = ("recurring_company", "rising_project", "reopened_cases", "noisy_camera")


def find(scope: Scope) -> list[dict[str, Any]]:
    """Every finding of the scope's period, by kind (:data:`KINDS`), the strongest first in each."""
    return [
        *recurring_companies(scope),
        *rising_projects(scope),
        *reopened_cases(scope),
        *noisy_cameras(scope),
    ]


def recurring_companies(scope: Scope) -> list[dict[str, Any]]:
    """Companies with violations well above the median project's on ``company_projects`` or more projects."""
    t = scope.thresholds
    counts = [n for n in scope.by_site.values() if n]
    if not counts:
        return []
    bar = max(t.project_min, t.project_factor * statistics.median(counts))
    worst: dict[str, list[tuple[str, int]]] = {}
    for site, n in scope.by_site.items():
        project = scope.projects.get(site)
        if project and project["company"] and n >= bar:
            worst.setdefault(project["company"], []).append((site, n))
    found = []
    for company, sites in sorted(worst.items(), key=lambda kv: -sum(n for _, n in kv[1])):
        if len(sites) < t.company_projects:
            continue
        total = sum(n for _, n in sites)
        site_ids = [s for s, _ in sites]
        names = "、".join(scope.label(s) for s in site_ids[:5])
        found.append(
            finding(
                "recurring_company",
                company,
                company,
                site_ids,
                {
                    "projects": len(sites),
                    "projects_total": sum(1 for p in scope.projects.values() if p["company"] == company),
                    "violations": total,
                    "median_project": statistics.median(counts),
                    "per_project": {scope.label(s): n for s, n in sorted(sites, key=lambda sn: -sn[1])},
                },
                evidence(scope, Event.site_id.in_(site_ids)),
                (
                    f"施工单位「{company}」在 {len(sites)} 个项目反复违规（共 {total} 次）",
                    f"Contractor {company}: violations recur on {len(sites)} of its projects ({total})",
                ),
                (
                    f"约谈施工单位「{company}」负责人，对其全部在建项目（{names}）开展专项检查和安全教育，"
                    "并纳入信用评价。",
                    f"Summon {company}'s management, inspect all of its active projects ({names}) and train "
                    "its crews; record it in the contractor's rating.",
                ),
            )
        )
    return found[: t.limit]


def last_full_weeks(scope: Scope) -> tuple[datetime, datetime, datetime] | None:
    """The start of the week before, the start and the end of the last full local week (Monday to Sunday)
    that ends by the period's end and starts in it; ``None`` if the period holds no full week."""
    end_local = scope.end.astimezone(scope.zone)
    monday = end_local.date() - timedelta(days=end_local.weekday())
    week_end = datetime.combine(monday, time(0), scope.zone)
    if week_end > scope.end:  # not reached: the end falls on a Monday before midnight's wall clock
        week_end = datetime.combine(monday - timedelta(days=7), time(0), scope.zone)
    last = datetime.combine(week_end.date() - timedelta(days=7), time(0), scope.zone)
    before = datetime.combine(last.date() - timedelta(days=7), time(0), scope.zone)
    return (before, last, week_end) if last >= scope.start else None


def rising_projects(scope: Scope) -> list[dict[str, Any]]:
    """Projects (sites) whose last full week has ``rise_factor`` times the violations of the week before,
    at least ``rise_min``, and more than chance explains: counts of violations vary like Poisson counts,
    so the rise must exceed three standard deviations of the week before (``3 * sqrt(before + 1)``), else
    a site with a few violations a week would "rise" every other week."""
    t = scope.thresholds
    weeks = last_full_weeks(scope)
    if weeks is None:
        return []
    before, last, week_end = weeks
    n_last = func.sum(case((Event.started_at >= last, 1), else_=0))
    n_before = func.sum(case((Event.started_at < last, 1), else_=0))
    rows = scope.session.execute(
        select(Event.site_id, n_last, n_before)
        .where(*scope.violations(before, week_end))
        .group_by(Event.site_id)
        .having(n_last >= t.rise_min, n_last >= t.rise_factor * n_before)
        .order_by((n_last - n_before).desc(), Event.site_id)
    )
    found: list[dict[str, Any]] = []
    for site, now, earlier in rows:
        if now - earlier < 3 * math.sqrt(earlier + 1) or len(found) >= t.limit:
            continue
        label = scope.label(site)
        project = scope.projects.get(site)
        subject = f"project:{project['project_id']}" if project else f"site:{site}"
        ratio = round(now / earlier, 2) if earlier else None
        rise = f"{earlier} → {now}"
        found.append(
            finding(
                "rising_project",
                subject,
                label,
                [site],
                {
                    "last_week": now,
                    "week_before": earlier,
                    "ratio": ratio,
                    "last_week_start": last.isoformat(),
                    "week_before_start": before.isoformat(),
                },
                evidence(scope, Event.site_id == site, Event.started_at >= last),
                (f"项目「{label}」违规周环比上升（{rise}）", f"Project {label}: violations rising ({rise})"),
                (
                    f"督促项目「{label}」查明上升原因（新进场班组、工序变化等），加强现场巡查，一周后复核。",
                    f"Have project {label} find why violations rose (new crews, new works), step up site "
                    "patrols, and check again in a week.",
                ),
            )
        )
    return found


def reopened_cases(scope: Scope) -> list[dict[str, Any]]:
    """Sites whose cases left the status closed (reopened) ``reopen_min`` times or more in the period."""
    t = scope.thresholds
    reopenings = func.count(CaseHistory.id)
    rows = scope.session.execute(
        select(Case.site_id, reopenings, func.count(distinct(CaseHistory.case_id)))
        .join(Case, Case.id == CaseHistory.case_id)
        .where(
            CaseHistory.from_status == "closed",
            CaseHistory.at >= scope.start,
            CaseHistory.at < scope.end,
            *scope.sites(Case.site_id),
        )
        .group_by(Case.site_id)
        .having(reopenings >= t.reopen_min)
        .order_by(reopenings.desc(), Case.site_id)
        .limit(t.limit)
    )
    found = []
    for site, times, cases in rows:
        label = scope.label(site)
        case_ids = list(
            scope.session.scalars(
                select(CaseHistory.case_id)
                .distinct()
                .join(Case, Case.id == CaseHistory.case_id)
                .where(
                    Case.site_id == site,
                    CaseHistory.from_status == "closed",
                    CaseHistory.at >= scope.start,
                    CaseHistory.at < scope.end,
                )
                .order_by(CaseHistory.case_id)
                .limit(20)
            )
        )
        event_ids = scope.session.scalars(
            select(CaseEvent.event_id).where(CaseEvent.case_id.in_(case_ids)).limit(100)
        )
        shown = evidence(scope, Event.id.in_(list(event_ids)), anytime=True)
        found.append(
            finding(
                "reopened_cases",
                f"site:{site}",
                label,
                [site],
                {"reopenings": times, "cases": cases, "case_ids": case_ids},
                shown,
                (
                    f"「{label}」有 {cases} 个案件结案后重开（{times} 次）",
                    f"{label}: {cases} case(s) reopened after closure ({times} times)",
                ),
                (
                    "复查整改质量：核实整改措施是否真正落实，重开案件现场复查后再结案。",
                    "Check the quality of rectification: verify the measures were really taken, and "
                    "re-inspect reopened cases on site before closing them.",
                ),
            )
        )
    return found


def noisy_cameras(scope: Scope) -> list[dict[str, Any]]:
    """Cameras whose dismissed share of reviewed events is at least ``false_share`` over ``false_min``."""
    t = scope.thresholds
    noisy = [
        c
        for c in scope.cameras
        if c["reviewed"] >= t.false_min and c["dismissed"] >= t.false_share * c["reviewed"]
    ]
    noisy.sort(key=lambda c: (-c["dismissed"] / c["reviewed"], -c["reviewed"], c["site_id"]))
    found = []
    for c in noisy[: t.limit]:
        name = f"{c['site_id']}/{c['camera_id']}"
        share = f"{c['dismissed'] / c['reviewed'] * 100:.0f}%"
        found.append(
            finding(
                "noisy_camera",
                name,
                f"{scope.label(c['site_id'])} · {c['camera_id']}",
                [c["site_id"]],
                {
                    "reviewed": c["reviewed"],
                    "dismissed": c["dismissed"],
                    "false_alarm_share": c["false_alarm_share"],
                },
                evidence(
                    scope, Event.site_id == c["site_id"], Event.camera_id == c["camera_id"], dismissed=True
                ),
                (
                    f"摄像头 {name} 误报率 {share}（{c['dismissed']}/{c['reviewed']}）",
                    f"Camera {name}: {share} false alarms ({c['dismissed']} of {c['reviewed']})",
                ),
                (
                    "调整该摄像头的角度或检测区域（遮挡、反光、广告牌等），而不是处罚工地；调整后观察误报率。",
                    "Re-aim this camera or redraw its detection zone (glare, occlusion, posters): a camera "
                    "to re-aim, not a site to punish; then watch its false-alarm share.",
                ),
            )
        )
    return found
