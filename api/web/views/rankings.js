// The rankings of the recurring page (#/recurring, 类案排名): contractors, projects, local hours and cameras of
// a period (GET /api/v1/analysis/rankings), each row with its violations, share, the period before and its
// open cases, and a link to its cases on the case board (#/cases?contractor=… | ?project_id=… | ?site_id=…
// [&camera_id=…]); and the findings' rules in words, with this period's figures.

import { defineTexts, h, pct, t } from "../core.js";

defineTexts(
  {
    "rank.rules": "判定规则", "rank.title": "排名", "rank.contractors": "施工单位", "rank.projects": "项目",
    "rank.hours": "时段（当地时间）", "rank.cameras": "摄像头", "rank.n": "名次", "rank.count": "违规",
    "rank.share": "占比", "rank.previous": "上期", "rank.change": "变化", "rank.open": "未结案件",
    "rank.over": "超过门槛的项目", "rank.company": "施工单位", "rank.fa": "误报率", "rank.cases": "查看案件",
    "rank.all": "显示全部 {n} 行", "rank.none": "本期没有违规。", "rank.recurring": "类案",
    "rank.over_bar": "超过门槛", "rank.project": "项目", "rank.hour": "时段", "rank.camera": "摄像头", "rank.streets": "街道", "rank.street": "街道", "rank.no_streets": "工程尚未登记所在街道，暂无街道排名。", "rank.street_projects": "工程（超门槛/全部）",
    "rank.previous_note": "上期：紧接本期之前、同样长的一段时间（{start} 至 {end}）。未结案件：目前尚未结案的案件，不论何时立案。",
    "rank.rule_company": "施工单位反复违规：一个项目本期违规达到门槛 {bar} 起即算超标——门槛是全部有违规项目的中位数（{median} 起）的 {factor} 倍，且不少于 {min} 起；同一施工单位有 {projects} 个及以上项目超标即列为类案。",
    "rank.rule_rising": "项目违规上升：最近一个完整自然周的违规不少于 {min} 起、达到前一周的 {factor} 倍，且增幅超过偶然波动（前一周的 3 倍标准差）。",
    "rank.rule_reopened": "结案后重开：一个工地的案件在本期结案后又被重开 {min} 次及以上。",
    "rank.rule_noisy": "摄像头误报偏多：本期已审核的事件不少于 {min} 条，其中判为误报的占 {share} 及以上——应调整摄像头，而非处罚工地。",
  },
  {
    "rank.rules": "Rules", "rank.title": "Rankings", "rank.contractors": "Contractors", "rank.projects": "Projects",
    "rank.hours": "Hours of the day (local)", "rank.cameras": "Cameras", "rank.n": "#", "rank.count": "Violations",
    "rank.share": "Share", "rank.previous": "Before", "rank.change": "Change", "rank.open": "Open cases",
    "rank.over": "Projects over the bar", "rank.company": "Contractor", "rank.fa": "False alarms", "rank.cases": "Cases",
    "rank.all": "Show all {n} rows", "rank.none": "No violation in this period.", "rank.recurring": "recurring",
    "rank.over_bar": "over the bar", "rank.project": "Project", "rank.hour": "Hour", "rank.camera": "Camera", "rank.streets": "Streets", "rank.street": "Street", "rank.no_streets": "No project has its street recorded yet, so there is no street ranking.", "rank.street_projects": "Projects (over the bar / all)",
    "rank.previous_note": "Before: the period as long just before this one ({start} to {end}). Open cases: cases not closed now, whenever opened.",
    "rank.rule_company": "Recurring contractor: a project is over the bar with {bar} violations or more in the period — {factor} × the median project with violations ({median}), at least {min}; a contractor with {projects} or more projects over the bar recurs.",
    "rank.rule_rising": "Rising project: the last full week has at least {min} violations, {factor} × the week before, and more than chance explains (3 standard deviations of the week before).",
    "rank.rule_reopened": "Reopened cases: a site's cases were reopened after closure {min} times or more in the period.",
    "rank.rule_noisy": "Noisy camera: at least {min} reviewed events in the period, {share} or more of them dismissed as false alarms — a camera to re-aim, not a site to punish.",
  },
);

const fill = (key, values) => t(key).replace(/\{(\w+)\}/g, (_, name) => values[name]);
const number = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
/** How many rows a ranking shows before "show all". */
export const SHOWN = 20;

/** The findings' rules in words, with the figures of this period (the median, the bar). */
export function rules(th) {
  return h("section", { class: "panel", id: "rules" }, h("h3", { text: t("rank.rules") }), h("ul", {},
    h("li", { "data-rule": "recurring_company", text: fill("rank.rule_company", { bar: number(th.project_bar), median: number(th.median_project), factor: number(th.project_factor), min: th.project_min, projects: th.company_projects }) }),
    h("li", { "data-rule": "rising_project", text: fill("rank.rule_rising", { min: th.rise_min, factor: number(th.rise_factor) }) }),
    h("li", { "data-rule": "reopened_cases", text: fill("rank.rule_reopened", { min: th.reopen_min }) }),
    h("li", { "data-rule": "noisy_camera", text: fill("rank.rule_noisy", { min: th.false_min, share: pct(th.false_share) }) })));
}

const cases = (params) => `#/cases?${new URLSearchParams(params)}`;
/** Where a row's cases are on the case board. */
export const links = {
  contractor: (r) => cases({ contractor: r.company }),
  street: (r) => cases({ street: r.street }),
  project: (r) => (r.project_id !== null ? cases({ project_id: r.project_id }) : cases({ site_id: r.site_id })),
  camera: (r) => cases(r.camera_id !== null ? { site_id: r.site_id, camera_id: r.camera_id } : { site_id: r.site_id }),
};

function change(r) {
  const d = r.count - r.previous;
  return h("td", { class: `n ${d > 0 ? "up" : d < 0 ? "down" : ""}`, text: d > 0 ? `+${d}` : String(d) });
}

// A ranking's table: the row's own cells, then count (with a bar), share, before, change, open cases, link.
function table(id, head, rows, cells, link, top, shown = SHOWN) {
  const body = rows.map((r, i) => h("tr", { "data-row": i + 1, class: r.hot ? "hot" : "", hidden: i >= shown },
    h("td", { class: "n", text: String(i + 1) }), ...cells(r),
    h("td", { class: "n" }, h("i", { class: "bar-cell", style: `width:${top ? Math.round((60 * r.count) / top) : 0}px` }), String(r.count)),
    h("td", { class: "n", text: pct(r.share) }), h("td", { class: "n", text: String(r.previous) }), change(r),
    r.open_cases === undefined ? "" : h("td", { class: "n", text: String(r.open_cases) }),
    link ? h("td", {}, h("a", { class: "cases-link", href: link(r), text: t("rank.cases") })) : ""));
  const more = rows.length > shown ? h("button", { type: "button", class: "more", text: fill("rank.all", { n: rows.length }), onclick: () => {
    for (const tr of body) tr.hidden = false;
    more.remove();
  } }) : "";
  const open = rows[0]?.open_cases !== undefined;
  return h("div", { class: "ranking-wrap" }, h("table", { class: "ranking", id },
    h("tr", {}, ...["rank.n", ...head, "rank.count", "rank.share", "rank.previous", "rank.change", ...(open ? ["rank.open"] : []), ...(link ? [""] : [])]
      .map((key) => h("th", { text: key ? t(key) : "" }))), body), more);
}

/** The four rankings of a period, under one panel. */
export function rankingsSection(r) {
  const top = (rows) => Math.max(0, ...rows.map((x) => x.count));
  const tag = (text) => h("span", { class: "tag bad", text });
  const contractors = r.contractors.map((c) => ({ ...c, hot: c.recurring }));
  const projects = r.projects.map((p) => ({ ...p, hot: p.over_bar }));
  const day = (iso) => iso.slice(0, 10);
  // The hours with violations in either period, the most first (the hour of the day breaks ties).
  const hours = r.hours.filter((x) => x.count || x.previous).sort((a, b) => b.count - a.count || a.hour - b.hour);
  return h("section", { class: "panel", id: "rankings" }, h("h3", { text: t("rank.title") }),
    h("p", { class: "muted", text: fill("rank.previous_note", { start: day(r.previous.start), end: day(r.previous.end) }) }),
    h("h4", { text: t("rank.contractors") }),
    contractors.length ? table("rank-contractors", ["rank.company", "rank.over"], contractors, (c) => [
      h("td", {}, c.company, " ", c.recurring ? tag(t("rank.recurring")) : ""),
      h("td", { class: "n", text: `${c.projects_over_bar} / ${c.projects_total}` })], links.contractor, top(contractors)) : h("p", { class: "muted", text: t("rank.none") }),
    h("h4", { text: t("rank.projects") }),
    projects.length ? table("rank-projects", ["rank.project", "rank.company"], projects, (p) => [
      h("td", {}, p.name, " ", p.over_bar ? tag(t("rank.over_bar")) : ""), h("td", { text: p.company })], links.project, top(projects)) : h("p", { class: "muted", text: t("rank.none") }),
    h("h4", { text: t("rank.streets") }),
    r.streets.length ? table("rank-streets", ["rank.street", "rank.street_projects"], r.streets, (x) => [
      h("td", { text: x.street }), h("td", { class: "n", text: `${x.projects_over_bar} / ${x.projects_total}` })], links.street, top(r.streets))
      : h("p", { class: "muted", id: "no-streets", text: t("rank.no_streets") }),
    h("h4", { text: t("rank.hours") }),
    hours.length ? table("rank-hours", ["rank.hour"], hours, (x) => [h("td", { text: `${String(x.hour).padStart(2, "0")}:00–${String(x.hour + 1).padStart(2, "0")}:00` })], null, top(hours), 24) : h("p", { class: "muted", text: t("rank.none") }),
    h("h4", { text: t("rank.cameras") }),
    r.cameras.length ? table("rank-cameras", ["rank.project", "rank.camera", "rank.fa"], r.cameras, (c) => [
      h("td", { text: c.name }), h("td", { text: c.camera_id ?? "-" }), h("td", { class: "n", text: pct(c.false_alarm_share) })], links.camera, top(r.cameras)) : h("p", { class: "muted", text: t("rank.none") }));
}
