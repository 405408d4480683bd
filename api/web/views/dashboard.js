// The dashboard (#/dashboard): the closed loop's four figures of a chosen period (closure rate, mean handling
// time, fast-close rate, call share), each against the period before and the district's baseline and
// coloured by good or bad; the cases open and overdue now (counted by the server); the violations per day
// and per site.

import { api, COLORS, dayStart, defineTexts, h, localDay, main, pct, PERSON_KINDS, t, timeZone } from "../core.js";
import { stackedBars } from "../svg.js";

defineTexts(
  {
    "d.period": "时间范围", "d.this_week": "本周", "d.this_month": "本月", "d.last_month": "上月", "d.last_7d": "近7天",
    "d.last_30d": "近30天", "d.custom": "自定义", "d.from": "从", "d.to": "至", "d.show": "查看", "d.partial": "（进行中）",
    "d.violations": "违规", "d.false": "误报率",
    "d.open": "未结案件", "d.overdue": "超期案件", "d.handling": "处理时长中位数（小时）",
    "d.officer": "安全员在岗率", "d.byday": "每日违规（按类型）", "d.bysite": "各工地违规", "d.closure": "办结率",
    "d.closure_month": "当月办结率", "d.mean": "平均处理时长（小时）", "d.fast": "速办率", "d.calls": "云呼占比",
    "d.vs_previous": "较上期", "d.vs_baseline": "较基线", "d.pp": "个百分点", "d.hours": "小时",
    "d.cases": "{count}/{total} 件", "d.closed_cases": "已办结 {count} 件", "d.fast_target": "{hours}小时内办结 {count}/{total} 件",
  },
  {
    "d.period": "Period", "d.this_week": "This week", "d.this_month": "This month", "d.last_month": "Last month", "d.last_7d": "Last 7 days",
    "d.last_30d": "Last 30 days", "d.custom": "Custom", "d.from": "From", "d.to": "to", "d.show": "Show", "d.partial": " (in progress)",
    "d.violations": "Violations", "d.false": "False alarms",
    "d.open": "Open cases", "d.overdue": "Overdue cases", "d.handling": "Median handling (hours)",
    "d.officer": "Officer on site", "d.byday": "Violations per day and kind", "d.bysite": "Violations per site", "d.closure": "Closure rate",
    "d.closure_month": "Monthly closure rate", "d.mean": "Mean handling time (hours)", "d.fast": "Fast-close rate", "d.calls": "Call share",
    "d.vs_previous": "vs previous", "d.vs_baseline": "vs baseline", "d.pp": " pp", "d.hours": " h",
    "d.cases": "{count}/{total} cases", "d.closed_cases": "{count} cases closed", "d.fast_target": "{count} of {total} closed within {hours} h",
  },
);

const PERIODS = ["this_week", "this_month", "last_month", "last_7d", "last_30d"];

const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, key) => String(values[key]));
const hours = (value) => (value === null || value === undefined ? t("none") : Number(value).toFixed(1));

function meanShare(perSite) {
  const shares = Object.values(perSite || {}).filter((v) => v !== null);
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
}

// "▲40.0 个百分点" / "▼150.3 h", coloured by whether the change is good for this figure.
function changeLine(label, figure, which) {
  const delta = figure[`change_vs_${which}`];
  if (delta === null || delta === undefined) return null;
  const arrow = delta > 0 ? "▲" : delta < 0 ? "▼" : "=";
  const unit = figure.unit === "share" ? t("d.pp") : t("d.hours");
  return h("div", { class: `change ${figure[`judged_vs_${which}`]}`, "data-change": which },
    `${label} `, h("span", { text: `${arrow}${Math.abs(delta).toFixed(1)}${unit}` }));
}

function loopFigure(label, figure, id, shown, counts) {
  return h("div", { class: "figure loop", "data-figure": id },
    h("span", { class: "muted", text: label }), h("b", { text: shown }),
    h("div", { class: "muted counts", text: counts }),
    changeLine(t("d.vs_previous"), figure, "previous"), changeLine(t("d.vs_baseline"), figure, "baseline"));
}

// What to ask for: a named period, or the days from..to (both included) in the API's time zone.
function query(choice) {
  const params = new URLSearchParams({ tz: timeZone() });
  if (choice.period !== "custom") {
    params.set("period", choice.period);
    return params;
  }
  const next = new Date(Date.parse(`${choice.to}T00:00:00Z`) + 86400000).toISOString().slice(0, 10); // the calendar's next day
  params.set("since", new Date(dayStart(choice.from)).toISOString());
  params.set("until", new Date(dayStart(next)).toISOString());
  return params;
}

export async function dashboardView(choice = { period: "last_7d" }) {
  const stats = await api(`/api/v1/stats?${query(choice)}`);
  const loop = stats.closed_loop;
  const f = loop.figures;
  const figure = (label, value, id) => h("div", { class: "figure", "data-figure": id }, h("span", { class: "muted", text: label }), h("b", { text: value }));
  const since = new Date(loop.period.since), until = new Date(loop.period.until);
  const dayKeys = [];
  // every local day the period touches, the one of its last moment included (a period ending now ends today)
  const lastDay = localDay(new Date(until.getTime() - 1));
  for (let at = since.getTime(); ; at += 86400000) {
    const day = localDay(new Date(Math.min(at, until.getTime() - 1)));
    if (!dayKeys.includes(day)) dayKeys.push(day);
    if (day === lastDay) break;
  }
  const day = (d) => stats.by_day[d] || { by_kind: {} };
  const violationKinds = PERSON_KINDS;
  const byDay = stackedBars(t("d.byday"), dayKeys.map((d) => d.slice(5)),
    violationKinds.map((k) => ({ name: t(`k.${k}`), color: COLORS[k], values: dayKeys.map((d) => day(d).by_kind[k] || 0) })));
  const siteKeys = Object.keys(stats.by_site);
  const bySite = stackedBars(t("d.bysite"), siteKeys,
    violationKinds.map((k) => ({ name: t(`k.${k}`), color: COLORS[k], values: siteKeys.map((s) => stats.by_site[s].by_kind[k] || 0) })));

  const picker = h("select", { "aria-label": t("d.period"), name: "period" },
    [...PERIODS, "custom"].map((p) => h("option", { value: p, text: t(`d.${p}`), selected: p === choice.period })));
  const from = h("input", { type: "date", name: "from", value: choice.from || localDay(since), "aria-label": t("d.from") });
  const to = h("input", { type: "date", name: "to", value: choice.to || lastDay, "aria-label": t("d.to") });
  const custom = h("span", { class: "custom", hidden: choice.period !== "custom" }, `${t("d.from")} `, from, ` ${t("d.to")} `, to, " ",
    h("button", { type: "button", text: t("d.show"), onclick: () => {
      if (from.value && to.value && from.value <= to.value) dashboardView({ period: "custom", from: from.value, to: to.value });
    } }));
  picker.addEventListener("change", () => {
    if (picker.value === "custom") custom.hidden = false;
    else dashboardView({ period: picker.value });
  });
  const range = `${localDay(since)} – ${lastDay}${loop.period.partial ? t("d.partial") : ""}`;
  const monthly = choice.period === "this_month" || choice.period === "last_month";
  const share = (x) => fill(t("d.cases"), x);
  main().replaceChildren(
    h("div", { class: "filters" }, picker, custom, h("span", { class: "muted", id: "range", text: range })),
    h("div", { class: "figures loop-figures", id: "figures" },
      loopFigure(t(monthly ? "d.closure_month" : "d.closure"), f.closure_rate, "closure_rate", pct(f.closure_rate.value), share(f.closure_rate)),
      loopFigure(t("d.mean"), f.mean_handling_hours, "mean_handling_hours", hours(f.mean_handling_hours.value), fill(t("d.closed_cases"), f.mean_handling_hours)),
      loopFigure(t("d.fast"), f.fast_close_rate, "fast_close_rate", pct(f.fast_close_rate.value), fill(t("d.fast_target"), { ...f.fast_close_rate, hours: loop.fast_close_hours })),
      loopFigure(t("d.calls"), f.call_share, "call_share", pct(f.call_share.value), share(f.call_share))),
    h("div", { class: "figures" },
      figure(t("d.open"), stats.open_now, "open"),
      figure(t("d.overdue"), stats.overdue_now, "overdue"),
      figure(t("d.handling"), hours(f.median_handling_hours.value), "median_handling_hours"),
      figure(t("d.violations"), stats.totals.violations, "violations"),
      figure(t("d.false"), pct(stats.totals.false_alarm_share), "false_alarm_share"),
      figure(t("d.officer"), pct(meanShare(stats.officer_on_site_share)), "officer_on_site_share")),
    h("div", { class: "charts" }, byDay, bySite));
}
