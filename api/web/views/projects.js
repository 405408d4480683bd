// Projects (工程, issue 16): the registry's list with filters, the form that creates and edits a project,
// extension (a later end date) and closure. Viewers get the list as the API shows it to them (phone numbers
// masked) and no button that writes; the API refuses them in any case.

import { api, canReview, defineTexts, h, local, main, state, t } from "../core.js";

defineTexts(
  {
    "p.new": "新建工程", "p.edit": "编辑", "p.extend": "延期", "p.close": "结束",
    "p.close_sure": "现在结束该工程？结束后不再监测报警。", "p.state": "全部状态", "p.state_col": "状态", "p.company": "施工单位",
    "p.q": "搜索名称、地址、工地", "p.name": "工程名称", "p.site": "工地编号", "p.address": "地址", "p.street": "街道", "p.community": "社区", "p.lat": "纬度",
    "p.lon": "经度", "p.builder": "建设单位", "p.permit": "施工许可证号", "p.contact": "安全负责人",
    "p.phone": "联系电话", "p.start": "计划开工", "p.end": "计划完工", "p.save": "保存", "p.cancel": "取消",
    "p.none": "暂无工程。", "p.period": "工期", "p.new_end": "新的完工日期", "p.closed": "结束于",
    "p.readonly": "只读账号：不能新建或修改工程。", "p.actions": "操作", "p.count": "个工程",
    "st.planned": "未开工", "st.active": "在建", "st.finished": "已完工",
  },
  {
    "p.new": "New project", "p.edit": "Edit", "p.extend": "Extend", "p.close": "End",
    "p.close_sure": "End this project now? Its rules stop alarming.", "p.state": "All states", "p.state_col": "State",
    "p.company": "Contractor", "p.q": "Search name, address, site", "p.name": "Project name", "p.site": "Site id",
    "p.address": "Address", "p.street": "Street (sub-district)", "p.community": "Community", "p.lat": "Latitude", "p.lon": "Longitude", "p.builder": "Client (builder)",
    "p.permit": "Permit number", "p.contact": "Safety contact", "p.phone": "Phone", "p.start": "Planned start",
    "p.end": "Planned end", "p.save": "Save", "p.cancel": "Cancel", "p.none": "No project yet.", "p.period": "Period",
    "p.new_end": "New end date", "p.closed": "ended", "p.readonly": "Read-only account: you cannot add or change projects.",
    "p.actions": "Actions", "p.count": "projects",
    "st.planned": "Planned", "st.active": "Active", "st.finished": "Finished",
  },
);

export const PROJECT_STATES = ["planned", "active", "finished"];
const STATE_CLASS = { planned: "", active: "ok", finished: "muted" };
const TEXT_FIELDS = ["name", "address", "street", "community", "builder", "company", "permit_no", "contact_name"];
const DATE_FIELDS = ["planned_start", "planned_end"];
const LABELS = {
  site_id: "p.site", name: "p.name", address: "p.address", street: "p.street", community: "p.community", lat: "p.lat", lon: "p.lon", builder: "p.builder",
  company: "p.company", permit_no: "p.permit", contact_name: "p.contact", contact_phone: "p.phone",
  planned_start: "p.start", planned_end: "p.end",
};

/** A project's state as a coloured tag. */
export function stateTag(projectState) {
  return h("span", { class: `tag ${STATE_CLASS[projectState] || ""}`, "data-state": projectState, text: t(`st.${projectState}`) });
}

/** The filter controls shared by the projects page and the map: state, contractor, free text. */
export function projectFilters(values, onChange) {
  const form = h("form", { class: "filters", id: "project-filters" },
    h("select", { name: "state", "aria-label": t("p.state") }, h("option", { value: "", text: t("p.state") }),
      PROJECT_STATES.map((s) => h("option", { value: s, text: t(`st.${s}`), selected: values.state === s }))),
    h("input", { name: "company", placeholder: t("p.company"), value: values.company || "", size: 14, maxlength: 200 }),
    h("input", { name: "q", type: "search", placeholder: t("p.q"), value: values.q || "", size: 18, maxlength: 200 }),
    h("button", { type: "submit", text: t("f.apply") }));
  const read = () => ({ state: form.state.value, company: form.company.value.trim(), q: form.q.value.trim() });
  form.addEventListener("submit", (ev) => { ev.preventDefault(); onChange(read()); });
  form.state.addEventListener("change", () => onChange(read()));
  return form;
}

/** The filters kept in the page's address (``#/page?state=..&company=..&q=..``), so a reload keeps them. */
export function hashParams() {
  return new URLSearchParams(location.hash.split("?")[1] || "");
}

export function keepInHash(page, params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined));
  const hash = `#/${page}${query.size ? `?${query}` : ""}`;
  if (location.hash !== hash) history.replaceState(null, "", hash); // no hashchange: the page stays as it is
}

const period = (p) => `${p.planned_start} ~ ${p.planned_end}`;

export async function projectsView() {
  const params = hashParams();
  const filters = { state: params.get("state") || "", company: params.get("company") || "", q: params.get("q") || "" };
  const table = h("div", { class: "panel", id: "projects" });
  const bar = projectFilters(filters, (next) => { Object.assign(filters, next); load(); });
  if (canReview()) bar.append(h("button", { class: "primary", type: "button", id: "new-project", text: t("p.new"), onclick: () => projectDialog(null, load) }));
  main().replaceChildren(bar, canReview() ? "" : h("p", { class: "notice", text: t("p.readonly") }), table);

  async function load() {
    keepInHash("projects", filters);
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
    const projects = await api(`/api/v1/projects?${query}`);
    if (!projects.length) { table.replaceChildren(h("p", { class: "muted", text: t("p.none") })); return; }
    table.replaceChildren(h("p", { class: "muted", text: `${projects.length} ${t("p.count")}` }), h("table", {},
      h("tr", {}, ["p.name", "p.site", "p.company", "p.state_col", "p.period", "p.contact", canReview() ? "p.actions" : null]
        .filter(Boolean).map((key) => h("th", { text: t(key) }))),
      projects.map((p) => h("tr", { "data-project": p.id },
        h("td", {}, h("b", { text: p.name }), p.address ? h("div", { class: "muted", text: p.address }) : ""),
        h("td", { text: p.site_id }),
        h("td", {}, p.company, p.builder ? h("div", { class: "muted", text: p.builder }) : ""),
        h("td", {}, stateTag(p.state), p.closed_at ? h("div", { class: "muted", text: `${t("p.closed")} ${local(p.closed_at)}` }) : ""),
        h("td", { text: period(p) }),
        h("td", {}, p.contact_name, " ", h("span", { class: "phone", text: p.contact_phone || "" })),
        canReview() ? h("td", { class: "actions" }, projectButtons(p, load)) : null))));
  }
  await load();
}

/** Edit, extend and end buttons of a project (for those who may write). */
export function projectButtons(project, done) {
  if (!canReview()) return [];
  const open = !project.closed_at;
  return [
    h("button", { type: "button", class: "edit", text: t("p.edit"), onclick: () => projectDialog(project, done) }),
    open ? h("button", { type: "button", class: "extend", text: t("p.extend"), onclick: () => extendDialog(project, done) }) : "",
    open ? h("button", { type: "button", class: "bad close", text: t("p.close"), onclick: async () => {
      if (!confirm(t("p.close_sure"))) return;
      await api(`/api/v1/projects/${project.id}/close`, { method: "POST" });
      done();
    } }) : "",
  ];
}

function field(name, value, attrs = {}) {
  return h("label", { class: "field" }, h("span", { text: t(LABELS[name]) }),
    h("input", { name, value: value ?? "", ...attrs }));
}

// What the form holds, as the API takes it: empty coordinates and phone numbers are null.
function formValues(form) {
  const values = { site_id: form.site_id.value.trim() };
  for (const name of TEXT_FIELDS) values[name] = form[name].value.trim();
  for (const name of DATE_FIELDS) values[name] = form[name].value;
  for (const name of ["lat", "lon"]) values[name] = form[name].value === "" ? null : Number(form[name].value);
  values.contact_phone = form.contact_phone.value.trim() || null;
  return values;
}

/** The dialog that creates (``project`` null) or edits a project; ``done`` runs after a save. A change
 * sends only the fields that changed, so that a phone number the form did not touch is not rewritten. */
export function projectDialog(project, done) {
  const p = project || {};
  const today = new Date().toLocaleDateString("sv-SE");
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "project-form", id: "project-form" },
    h("h2", { text: project ? `${t("p.edit")} · ${p.name}` : t("p.new") }),
    h("div", { class: "fields" },
      field("site_id", p.site_id, { required: true, list: "known-sites", maxlength: 64, pattern: "[A-Za-z0-9_.\\-]+", readonly: Boolean(project) }),
      h("datalist", { id: "known-sites" }, state.sites.map((s) => h("option", { value: s.id, text: s.name || s.id }))),
      field("name", p.name, { required: true, maxlength: 200 }),
      field("address", p.address, { maxlength: 300 }),
      field("street", p.street, { maxlength: 100 }),
      field("community", p.community, { maxlength: 100 }),
      field("lat", p.lat, { type: "number", step: "any", min: -90, max: 90 }),
      field("lon", p.lon, { type: "number", step: "any", min: -180, max: 180 }),
      field("builder", p.builder, { maxlength: 200 }),
      field("company", p.company, { maxlength: 200 }),
      field("permit_no", p.permit_no, { maxlength: 100 }),
      field("contact_name", p.contact_name, { maxlength: 100 }),
      field("contact_phone", p.contact_phone, { type: "tel", maxlength: 32, pattern: "\\+?[0-9][0-9 \\-]*" }),
      field("planned_start", p.planned_start || today, { type: "date", required: true }),
      field("planned_end", p.planned_end, { type: "date", required: true })),
    error,
    h("p", { class: "actions" },
      h("button", { class: "primary", type: "submit", text: t("p.save") }),
      h("button", { type: "button", text: t("p.cancel"), onclick: () => dialog.close() })));
  const dialog = h("dialog", { id: "project-dialog" }, form);
  const before = project ? formValues(form) : null;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const values = formValues(form);
    const body = project ? Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== before[k])) : values;
    try {
      if (project) await api(`/api/v1/projects/${project.id}`, jsonRequest("PATCH", body));
      else await api("/api/v1/projects", jsonRequest("POST", body));
    } catch (failure) {
      if (failure.message !== "401") error.textContent = `${t("err")}: ${problem(failure)}`;
      return;
    }
    dialog.close();
    done();
  });
  showDialog(dialog);
}

function extendDialog(project, done) {
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { id: "extend-form" }, h("h2", { text: `${t("p.extend")} · ${project.name}` }),
    h("p", { class: "muted", text: `${t("p.period")}: ${period(project)}` }),
    h("label", { class: "field" }, h("span", { text: t("p.new_end") }),
      h("input", { name: "planned_end", type: "date", required: true, value: project.planned_end, min: project.planned_start })),
    error,
    h("p", { class: "actions" }, h("button", { class: "primary", type: "submit", text: t("p.save") }),
      h("button", { type: "button", text: t("p.cancel"), onclick: () => dialog.close() })));
  const dialog = h("dialog", { id: "extend-dialog" }, form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/v1/projects/${project.id}`, jsonRequest("PATCH", { planned_end: form.planned_end.value }));
    } catch (failure) {
      error.textContent = `${t("err")}: ${problem(failure)}`;
      return;
    }
    dialog.close();
    done();
  });
  showDialog(dialog);
}

// An API error as people read it: FastAPI's 422 list becomes "field: message" lines.
function problem(failure) {
  try {
    const detail = JSON.parse(failure.message);
    if (Array.isArray(detail)) return detail.map((d) => `${t(LABELS[d.loc?.at(-1)] || "") || d.loc?.at(-1) || ""}: ${d.msg}`).join("; ");
  } catch { /* a plain message */ }
  return failure.message;
}

function jsonRequest(method, body) {
  return { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

function showDialog(dialog) {
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
