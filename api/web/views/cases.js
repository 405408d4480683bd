// The case board (#/cases, issue 21): a district's cases filtered, counted and paged by the server
// (GET /api/v1/cases with X-Total-Count, /api/v1/cases/summary), open cases first, 50 a page, and their
// export with the same filters. A row opens the case dialog (case_dialog.js), which works the case.

import { api, defineTexts, h, KINDS, local, main, siteSelect, state, t } from "../core.js";
import { ago, openCase, statusTag } from "./case_dialog.js";
import { hashParams, keepInHash } from "./projects.js";

export { openCase } from "./case_dialog.js";

defineTexts(
  {
    "cb.q": "搜索工程、地址、施工单位、案件编号", "cb.contractor": "施工单位", "cb.street": "街道", "cb.community": "社区",
    "cb.active": "未结案件", "cb.all": "全部状态", "cb.overdue_only": "仅超期", "cb.until": "截止日期", "cb.reset": "重置",
    "cb.export_csv": "导出 CSV", "cb.export_xlsx": "导出 Excel", "cb.prev": "上一页", "cb.next": "下一页",
    "cb.page": "第 {x} / {y} 页 · 共 {n} 条", "cb.none": "没有符合条件的案件。", "cb.total": "案件总数", "cb.open": "未结",
    "cb.overdue": "超期", "cb.sort": "排序", "sort.overdue-first": "超期优先", "sort.newest": "最新立案", "sort.oldest": "最早立案",
    "sort.deadline": "期限最近", "col.case": "案件", "col.project": "工程 / 工地", "col.contractor": "施工单位",
    "col.area": "街道 / 社区", "col.kind": "类型", "col.status": "状态", "col.contact": "负责人", "col.time": "时长",
    "cb.loading": "加载中…", "cb.project_id": "工程编号", "cb.camera_id": "摄像头",
  },
  {
    "cb.q": "Search project, address, contractor, case number", "cb.contractor": "Contractor", "cb.street": "Street",
    "cb.community": "Community", "cb.active": "Open cases", "cb.all": "All statuses", "cb.overdue_only": "Overdue only",
    "cb.until": "Until", "cb.reset": "Reset", "cb.export_csv": "Export CSV", "cb.export_xlsx": "Export Excel",
    "cb.prev": "Previous", "cb.next": "Next", "cb.page": "Page {x} of {y} · {n} cases", "cb.none": "No case matches.",
    "cb.total": "Cases", "cb.open": "Open", "cb.overdue": "Overdue", "cb.sort": "Sort",
    "sort.overdue-first": "Overdue first", "sort.newest": "Newest", "sort.oldest": "Oldest", "sort.deadline": "Nearest deadline",
    "col.case": "Case", "col.project": "Project / site", "col.contractor": "Contractor", "col.area": "Street / community",
    "col.kind": "Kind", "col.status": "Status", "col.contact": "Responsible", "col.time": "Time", "cb.loading": "Loading…", "cb.project_id": "Project", "cb.camera_id": "Camera",
  },
);

export const STATES = ["open", "dispatched", "rectifying", "reinspection", "reopened", "closed"];
const SORTS = ["overdue-first", "newest", "oldest", "deadline"];
const PAGE = 50;
const EMPTY = { q: "", contractor: "", street: "", community: "", site: "", kind: "", status: "active", overdue: false, since: "", until: "", sort: "overdue-first", project_id: "", camera_id: "" };

/** ``{x}``-style placeholders of a text filled in. */
export const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));

/** The API's query of the filters (``withStatus`` false: without the status, for the counts per status). */
function query(f, withStatus = true) {
  const params = new URLSearchParams();
  for (const [key, name] of [["q", "q"], ["contractor", "contractor"], ["street", "street"], ["community", "community"], ["site", "site_id"], ["kind", "kind"], ["project_id", "project_id"], ["camera_id", "camera_id"]]) {
    if (f[key]) params.set(name, f[key]);
  }
  if (f.overdue) params.set("overdue", "true");
  if (f.since) params.set("since", new Date(`${f.since}T00:00:00`).toISOString());
  if (f.until) params.set("until", new Date(`${f.until}T00:00:00`).toISOString());
  if (withStatus) {
    if (f.status === "active" || f.status === "closed" || f.status === "all") params.set("state", f.status);
    else if (f.status) params.set("status", f.status);
  }
  return params;
}

/** The filters of the page's address (``#/cases?overdue=1&street=..``): a reload, or a link from the
 * dashboard, opens the board so filtered. */
function fromHash() {
  const params = hashParams();
  const f = { ...EMPTY };
  for (const key of Object.keys(EMPTY)) if (params.get(key)) f[key] = params.get(key);
  f.site = params.get("site_id") || params.get("site") || ""; // the rankings link with the API's names
  f.overdue = params.get("overdue") === "1";
  return [f, Math.max(0, (Number(params.get("page")) || 1) - 1) * PAGE];
}

export async function casesView() {
  const [f, start] = fromHash();
  let offset = start;
  const form = filterForm(f, () => { offset = 0; load(); });
  const counts = h("div", { class: "case-counts", id: "case-counts" });
  const list = h("div", { id: "board", class: "case-list", "aria-live": "polite" });
  const pager = h("nav", { class: "pager", id: "case-pager" });
  main().replaceChildren(form, counts, list, pager);

  async function load() {
    list.setAttribute("aria-busy", "true");
    keepInHash("cases", { ...f, site: "", site_id: f.site, overdue: f.overdue ? "1" : "", status: f.status === "active" ? "" : f.status,
      sort: f.sort === EMPTY.sort ? "" : f.sort, page: offset ? offset / PAGE + 1 : "" });
    const params = query(f);
    params.set("sort", f.sort);
    params.set("offset", String(offset));
    params.set("limit", String(PAGE));
    const [response, summary] = await Promise.all([
      fetch(`/api/v1/cases?${params}`, { credentials: "same-origin" }),
      api(`/api/v1/cases/summary?${query(f, false)}`),
    ]);
    if (!response.ok) await api(`/api/v1/cases?${params}`); // throws as every call does (401: to the log-in)
    const cases = await response.json();
    const total = Number(response.headers.get("X-Total-Count") || cases.length);
    if (!cases.length && offset > 0 && total > 0) { offset = Math.floor((total - 1) / PAGE) * PAGE; return load(); } // past the end
    drawCounts(summary);
    drawList(cases);
    drawPager(total);
    list.removeAttribute("aria-busy");
  }

  function choose(status) { f.status = status; form.status.value = status; offset = 0; load(); }

  function drawCounts(s) {
    const chip = (status, label, n, extra = "") => h("button", {
      type: "button", class: `chip${f.status === status ? " on" : ""}${extra}`, "data-status": status, onclick: () => choose(status),
    }, `${label} `, h("b", { text: String(n) }));
    counts.replaceChildren(
      chip("active", t("cb.active"), s.open),
      ...STATES.map((st) => chip(st, t(`s.${st}`), s.by_status[st] || 0)),
      chip("all", t("cb.all"), s.total),
      h("span", { class: `overdue-count${s.overdue ? " bad" : ""}`, "data-overdue": s.overdue, text: `${t("cb.overdue")} ${s.overdue}` }),
      ...["project_id", "camera_id"].filter((key) => f[key]).map((key) => h("button", {
        type: "button", class: "chip on", "data-clear": key, title: t("cb.reset"), onclick: () => { f[key] = ""; offset = 0; load(); },
      }, `${t(`cb.${key}`)} ${f[key]} ✕`)));
  }

  function drawList(cases) {
    if (!cases.length) { list.replaceChildren(h("p", { class: "muted", text: t("cb.none") })); return; }
    list.replaceChildren(h("table", { class: "cases" },
      h("thead", {}, h("tr", {}, ["col.case", "col.project", "col.contractor", "col.area", "col.kind", "col.status", "col.contact", "col.time"].map((k) => h("th", { text: t(k) })))),
      h("tbody", {}, cases.map((c) => caseRow(c, () => openCase(c, load))))));
  }

  function drawPager(total) {
    const pages = Math.max(1, Math.ceil(total / PAGE));
    const page = Math.floor(offset / PAGE) + 1;
    pager.replaceChildren(
      h("button", { type: "button", id: "prev-page", text: t("cb.prev"), disabled: page <= 1, onclick: () => { offset -= PAGE; load(); } }),
      h("span", { id: "page-info", text: fill(t("cb.page"), { x: page, y: pages, n: total }) }),
      h("button", { type: "button", id: "next-page", text: t("cb.next"), disabled: page >= pages, onclick: () => { offset += PAGE; load(); } }));
  }

  form.querySelector("[data-export=csv]").addEventListener("click", () => download(f, "csv"));
  form.querySelector("[data-export=xlsx]").addEventListener("click", () => download(f, "xlsx"));
  await load();
}

/** Download the export of the filters (the browser saves the file the API names). */
function download(f, format) {
  const params = query(f);
  params.set("format", format);
  params.set("lang", state.lang === "en" ? "en" : "zh");
  const link = h("a", { href: `/api/v1/cases/export?${params}`, download: "" });
  document.body.append(link);
  link.click();
  link.remove();
}

function filterForm(f, onChange) {
  const input = (name, label, attrs = {}) => h("input", { name, placeholder: label, "aria-label": label, value: f[name], maxlength: 200, ...attrs });
  const form = h("form", { class: "filters", id: "case-filters" },
    input("q", t("cb.q"), { type: "search", size: 24 }),
    input("contractor", t("cb.contractor"), { size: 12 }),
    input("street", t("cb.street"), { size: 8, maxlength: 100 }),
    input("community", t("cb.community"), { size: 8, maxlength: 100 }),
    siteSelect(f.site),
    h("select", { name: "kind", "aria-label": t("f.kind") }, h("option", { value: "", text: t("f.kind") }), KINDS.map((k) => h("option", { value: k, text: t(`k.${k}`), selected: f.kind === k }))),
    h("select", { name: "status", "aria-label": t("col.status") },
      h("option", { value: "active", text: t("cb.active") }), STATES.map((s) => h("option", { value: s, text: t(`s.${s}`), selected: f.status === s })),
      h("option", { value: "all", text: t("cb.all"), selected: f.status === "all" })),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "overdue", checked: f.overdue }), t("cb.overdue_only")),
    h("input", { name: "since", type: "date", "aria-label": t("f.since"), title: t("f.since"), value: f.since }),
    h("input", { name: "until", type: "date", "aria-label": t("cb.until"), title: t("cb.until"), value: f.until }),
    h("select", { name: "sort", "aria-label": t("cb.sort") }, SORTS.map((s) => h("option", { value: s, text: t(`sort.${s}`), selected: f.sort === s }))),
    h("button", { type: "submit", class: "primary", text: t("f.apply") }),
    h("button", { type: "button", id: "reset-filters", text: t("cb.reset") }),
    h("button", { type: "button", "data-export": "csv", text: t("cb.export_csv") }),
    h("button", { type: "button", "data-export": "xlsx", text: t("cb.export_xlsx") }));
  const read = () => {
    for (const name of ["q", "contractor", "street", "community", "since", "until"]) f[name] = form[name].value.trim();
    Object.assign(f, { site: form.site.value, kind: form.kind.value, status: form.status.value, overdue: form.overdue.checked, sort: form.sort.value });
  };
  form.addEventListener("submit", (ev) => { ev.preventDefault(); read(); onChange(); });
  form.querySelector("#reset-filters").addEventListener("click", () => {
    for (const name of ["q", "contractor", "street", "community", "since", "until", "site", "kind"]) form[name].value = "";
    Object.assign(f, { project_id: "", camera_id: "" });
    Object.assign(form.status, { value: EMPTY.status });
    Object.assign(form.sort, { value: EMPTY.sort });
    form.overdue.checked = false;
    read();
    onChange();
  });
  for (const name of ["site", "kind", "status", "overdue", "sort"]) form[name].addEventListener("change", () => { read(); onChange(); });
  return form;
}

function caseRow(c, open) {
  const time = c.overdue
    ? h("span", { class: "tag bad", text: `${t("c.overdue")} ${ago(c.overdue_s)}` })
    : h("span", { class: "muted", text: c.status === "closed" ? `${t("s.closed")} · ${ago(c.open_s)}` : `${t("c.open_for")} ${ago(c.open_s)}` });
  return h("tr", { class: `case${c.overdue ? " overdue" : ""}`, "data-id": c.id, "data-status": c.status, tabindex: 0, onclick: open,
    onkeydown: (ev) => { if (ev.key === "Enter") open(); } },
    h("td", {}, h("b", { text: `#${c.id}` }), c.external_id ? h("div", { class: "muted", text: c.external_id }) : ""),
    h("td", {}, h("div", { text: c.project_name || c.site_id }), h("div", { class: "muted", text: `${c.site_id} · ${c.camera_id || "-"}` })),
    h("td", { text: c.company || t("none") }),
    h("td", { text: [c.street, c.community].filter(Boolean).join(" · ") || t("none") }),
    h("td", { text: t(`k.${c.kind}`) }),
    h("td", {}, statusTag(c.status)),
    h("td", {}, c.contact_name || t("none"), c.contact_phone ? h("div", { class: "muted phone", text: c.contact_phone }) : ""),
    h("td", {}, time, h("div", { class: "muted", text: `${t("c.deadline")} ${local(c.deadline_at)}` })));
}
