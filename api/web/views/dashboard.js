// The dashboard (#/dashboard): the period's headline figures and the violations per day and per site.

import { api, COLORS, defineTexts, h, main, pct, PERSON_KINDS, t, timeZone } from "../core.js";
import { stackedBars } from "../svg.js";

defineTexts(
  {
    "d.period": "时间范围", "d.7": "近7天", "d.30": "近30天", "d.violations": "违规", "d.false": "误报率",
    "d.open": "未结案件", "d.overdue": "超期案件", "d.handling": "处理时长中位数（小时）", "d.within24": "24小时内结案率",
    "d.officer": "安全员在岗率", "d.byday": "每日违规（按类型）", "d.bysite": "各工地违规", "d.closure": "结案率",
  },
  {
    "d.period": "Period", "d.7": "Last 7 days", "d.30": "Last 30 days", "d.violations": "Violations", "d.false": "False alarms",
    "d.open": "Open cases", "d.overdue": "Overdue cases", "d.handling": "Median handling (hours)", "d.within24": "Closed within 24 h",
    "d.officer": "Officer on site", "d.byday": "Violations per day and kind", "d.bysite": "Violations per site", "d.closure": "Closure rate",
  },
);

function meanShare(perSite) {
  const shares = Object.values(perSite || {}).filter((v) => v !== null);
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
}

export async function dashboardView(days = 7) {
  const until = new Date();
  const since = new Date(until.getTime() - days * 86400000);
  const zone = timeZone();
  const params = new URLSearchParams({ since: since.toISOString(), until: until.toISOString(), tz: zone });
  const [stats, cases] = await Promise.all([api(`/api/v1/stats?${params}`), api("/api/v1/cases?limit=500")]);
  const open = cases.filter((c) => c.status !== "closed");
  const figure = (label, value, id) => h("div", { class: "figure", "data-figure": id }, h("span", { class: "muted", text: label }), h("b", { text: value }));
  const dayKeys = [];
  for (let i = days - 1; i >= 0; i -= 1) {
    dayKeys.push(new Date(until.getTime() - i * 86400000).toLocaleDateString("sv-SE", { timeZone: zone }));
  }
  const day = (d) => stats.by_day[d] || { by_kind: {} };
  const violationKinds = PERSON_KINDS;
  const byDay = stackedBars(t("d.byday"), dayKeys.map((d) => d.slice(5)),
    violationKinds.map((k) => ({ name: t(`k.${k}`), color: COLORS[k], values: dayKeys.map((d) => day(d).by_kind[k] || 0) })));
  const siteKeys = Object.keys(stats.by_site);
  const bySite = stackedBars(t("d.bysite"), siteKeys,
    violationKinds.map((k) => ({ name: t(`k.${k}`), color: COLORS[k], values: siteKeys.map((s) => stats.by_site[s].by_kind[k] || 0) })));
  const period = h("select", { "aria-label": t("d.period") }, h("option", { value: "7", text: t("d.7"), selected: days === 7 }), h("option", { value: "30", text: t("d.30"), selected: days === 30 }));
  period.addEventListener("change", () => dashboardView(Number(period.value)));
  main().replaceChildren(
    h("div", { class: "filters" }, period),
    h("div", { class: "figures", id: "figures" },
      figure(t("d.violations"), stats.totals.violations, "violations"),
      figure(t("d.false"), pct(stats.totals.false_alarm_share), "false_alarm_share"),
      figure(t("d.open"), open.length, "open"),
      figure(t("d.overdue"), open.filter((c) => c.overdue).length, "overdue"),
      figure(t("d.handling"), stats.cases.median_handling_hours ?? t("none"), "median_handling_hours"),
      figure(t("d.within24"), pct(stats.cases.closed_within_24h_share), "closed_within_24h_share"),
      figure(t("d.closure"), pct(stats.cases.closure_rate), "closure_rate"),
      figure(t("d.officer"), pct(meanShare(stats.officer_on_site_share)), "officer_on_site_share")),
    h("div", { class: "charts" }, byDay, bySite));
}
