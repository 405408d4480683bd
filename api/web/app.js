// sitewatch supervisors' web UI: a small single-page app on the JSON API, without a build step or any
// third-party code. Every figure and image comes from the same routes integrators use, so roles and site
// scopes apply here exactly as there. Pages of their own modules (projects.js, map.js) import the shared
// helpers exported at the end and bring their texts, merged into TEXT here.

import { MAP_TEXT, mapView } from "./map.js";
import { PROJECT_TEXT, projectsView } from "./projects.js";

import { TEXT as RECURRING_TEXT, recurringView } from "./recurring.js";

import { COLORS, KIND_TEXT, KINDS, PERSON_KINDS } from "./kinds.js"; // served by the API from detector.kinds

const TEXT = {
  zh: {
    brand: "sitewatch 工地安全监管", "nav.review": "审核", "nav.cases": "案件", "nav.cameras": "摄像头",
    "nav.officers": "安全员", "nav.dashboard": "看板", "nav.briefs": "简报", logout: "退出", lang: "English",
    "login.title": "登录", "login.user": "用户名", "login.password": "密码", "login.go": "登录",
    "login.wrong": "用户名或密码错误",
    "f.site": "全部工地", "f.camera": "摄像头", "f.kind": "全部类型", "f.since": "起始日期", "f.apply": "筛选",
    "r.empty": "没有待审核的违规。", "r.confirm": "确认违规", "r.dismiss": "误报", "r.note": "备注（可选）",
    "r.toggle": "切换对比/单图", "r.keys": "快捷键", "r.annotated": "标注图", "r.clean": "原图", "r.clip": "视频片段",
    "r.readonly": "只读账号：不能审核。", "r.people": "人数", "r.score": "置信度", "r.time": "时间", "r.camera": "摄像头",
    "r.site": "工地", "r.left": "待审核", "r.done": "已审核",
    ...KIND_TEXT.zh,
    "s.open": "待派发", "s.dispatched": "已派发", "s.rectifying": "整改中", "s.reinspection": "复查中",
    "s.closed": "已结案", "s.reopened": "已重开",
    "c.deadline": "期限", "c.overdue": "已超期", "c.history": "处理记录", "c.events": "违规证据", "c.external": "案件编号",
    "cam.online": "在线", "cam.offline": "离线", "cam.since": "离线自", "cam.fps": "输入帧率", "cam.none": "尚无摄像头上报状态。",
    "cam.reported": "上报于",
    "fa.title": "误报记忆", "fa.suppressed": "已抑制（与误报相同的检测）", "fa.none": "无误报记忆。", "fa.where": "画面位置",
    "fa.until": "有效至", "fa.remove": "移除", "fa.sure": "移除这条误报记忆？之后同样的检测会再次报警。",
    "o.roster": "安全员名册", "o.enrol": "登记安全员", "o.name": "姓名", "o.photos": "照片（本人单独、正脸）",
    "o.consent": "本人已知情并同意：系统仅保存由照片计算的人脸特征（加密存储），不保存照片，可随时删除。",
    "o.submit": "登记", "o.delete": "删除", "o.sure": "删除该安全员及其人脸特征？", "o.presence": "在岗时间线",
    "o.day": "日期", "o.none": "尚未登记安全员。", "o.enabled": "启用", "o.disabled": "停用", "o.rejected": "未采用的照片",
    "d.period": "时间范围", "d.7": "近7天", "d.30": "近30天", "d.violations": "违规", "d.false": "误报率",
    "d.open": "未结案件", "d.overdue": "超期案件", "d.handling": "处理时长中位数（小时）", "d.within24": "24小时内结案率",
    "d.officer": "安全员在岗率", "d.byday": "每日违规（按类型）", "d.bysite": "各工地违规", "d.closure": "结案率",
    "b.title": "周报与月报", "b.week": "周", "b.month": "月", "b.scope": "范围", "b.district": "全辖区",
    "b.html": "生成网页版", "b.pdf": "下载 PDF", "b.hint": "简报包括：与上期对比、图表、重点摄像头与类型、典型案件、超期案件、安全员在岗。",
    "err": "出错了", "none": "—",
  },
  en: {
    brand: "sitewatch site safety", "nav.review": "Review", "nav.cases": "Cases", "nav.cameras": "Cameras",
    "nav.officers": "Officers", "nav.dashboard": "Dashboard", "nav.briefs": "Briefs", logout: "Log out", lang: "中文",
    "login.title": "Log in", "login.user": "User name", "login.password": "Password", "login.go": "Log in",
    "login.wrong": "Wrong user name or password",
    "f.site": "All sites", "f.camera": "Camera", "f.kind": "All kinds", "f.since": "Since", "f.apply": "Filter",
    "r.empty": "Nothing waits for review.", "r.confirm": "Confirm", "r.dismiss": "False alarm", "r.note": "Note (optional)",
    "r.toggle": "Side by side / single", "r.keys": "Keys", "r.annotated": "Annotated", "r.clean": "Clean", "r.clip": "Clip",
    "r.readonly": "Read-only account: you cannot review.", "r.people": "People", "r.score": "Score", "r.time": "Time",
    "r.camera": "Camera", "r.site": "Site", "r.left": "to review", "r.done": "reviewed",
    ...KIND_TEXT.en,
    "s.open": "Open", "s.dispatched": "Dispatched", "s.rectifying": "Rectifying", "s.reinspection": "Re-inspection",
    "s.closed": "Closed", "s.reopened": "Reopened",
    "c.deadline": "Deadline", "c.overdue": "Overdue", "c.history": "History", "c.events": "Evidence", "c.external": "Case number",
    "cam.online": "Online", "cam.offline": "Offline", "cam.since": "offline since", "cam.fps": "input fps",
    "cam.none": "No camera has reported yet.", "cam.reported": "reported",
    "fa.title": "False-alarm memory", "fa.suppressed": "Suppressed (detections matching a false alarm)", "fa.none": "Nothing remembered.",
    "fa.where": "in frame", "fa.until": "until", "fa.remove": "Remove", "fa.sure": "Remove this entry? The same detection will alarm again.",
    "o.roster": "Officer roster", "o.enrol": "Enrol an officer", "o.name": "Name", "o.photos": "Photos (alone, face visible)",
    "o.consent": "The officer knows and agrees: only face features computed from the photos are kept (encrypted), never the photos, and they can be deleted at any time.",
    "o.submit": "Enrol", "o.delete": "Delete", "o.sure": "Delete this officer and their face data?", "o.presence": "Presence",
    "o.day": "Day", "o.none": "No officer enrolled yet.", "o.enabled": "enabled", "o.disabled": "disabled", "o.rejected": "Photos not used",
    "d.period": "Period", "d.7": "Last 7 days", "d.30": "Last 30 days", "d.violations": "Violations", "d.false": "False alarms",
    "d.open": "Open cases", "d.overdue": "Overdue cases", "d.handling": "Median handling (hours)", "d.within24": "Closed within 24 h",
    "d.officer": "Officer on site", "d.byday": "Violations per day and kind", "d.bysite": "Violations per site", "d.closure": "Closure rate",
    "b.title": "Weekly and monthly briefs", "b.week": "Week", "b.month": "Month", "b.scope": "Scope", "b.district": "Whole district",
    "b.html": "Open as a page", "b.pdf": "Download PDF", "b.hint": "A brief holds: figures against the previous period, charts, top cameras and kinds, typical cases, overdue cases, officer presence.",
    "err": "Something went wrong", "none": "—",
  },
};
for (const lang of ["zh", "en"]) Object.assign(TEXT[lang], PROJECT_TEXT[lang], MAP_TEXT[lang], RECURRING_TEXT[lang]);
const STATES = ["open", "dispatched", "rectifying", "reinspection", "reopened", "closed"];

const state = { lang: localStorage.getItem("sitewatch.lang") || "zh", me: null, sites: [], visits: 0 };
const t = (key) => TEXT[state.lang][key] ?? TEXT.zh[key] ?? key;
const $ = (selector, root = document) => root.querySelector(selector);
const main = () => $("#main");

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const local = (iso) => (iso ? new Date(iso).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false }) : t("none"));
const pct = (share) => (share === null || share === undefined ? t("none") : `${Math.round(share * 1000) / 10}%`);

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 401) {
    showLogin();
    throw new Error("401");
  }
  if (!response.ok) {
    let detail = `${response.status}`;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return response.status === 204 ? null : response.json();
}

// -- shell -------------------------------------------------------------------------------------------

function translateShell() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("brand");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
}

function showLogin(message = "") {
  $("#bar").hidden = true;
  const error = h("p", { class: "error", role: "alert", text: message });
  const form = h("form", { class: "login", id: "login" },
    h("h2", { text: t("login.title") }),
    h("input", { name: "username", placeholder: t("login.user"), autocomplete: "username", required: true }),
    h("input", { name: "password", type: "password", placeholder: t("login.password"), autocomplete: "current-password", required: true }),
    h("button", { class: "primary", type: "submit", text: t("login.go") }),
    error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = JSON.stringify({ username: form.username.value, password: form.password.value });
    const response = await fetch("/api/v1/auth/login", { method: "POST", body, headers: { "Content-Type": "application/json" } });
    if (response.ok) start();
    else error.textContent = t("login.wrong");
  });
  main().replaceChildren(form);
}

async function start() {
  try {
    state.me = await api("/api/v1/auth/me");
  } catch {
    return;
  }
  state.sites = await api("/api/v1/sites");
  $("#bar").hidden = false;
  $("#who").textContent = `${state.me.name} · ${state.me.role}`;
  translateShell();
  route();
}

const canReview = () => state.me && (state.me.role === "supervisor" || state.me.role === "admin");

function route() {
  const page = (location.hash.replace(/^#\//, "") || "review").split("?")[0];
  for (const link of document.querySelectorAll("header nav a")) link.classList.toggle("on", link.getAttribute("href") === `#/${page}`);
  document.onkeydown = null;
  const view = { review: reviewView, cases: casesView, cameras: camerasView, officers: officersView, dashboard: dashboardView, briefs: briefsView, projects: projectsView, map: mapView,
    recurring: () => recurringView({ api, h, t, local, pct, main, canReview, lang: () => state.lang }) }[page] || reviewView;
  // A view left while its data was still loading may fail late; its error must not replace the page
  // shown since (it did: the review queue's late answer wiped the projects page).
  const visit = ++state.visits;
  view().catch((error) => {
    if (error.message !== "401" && visit === state.visits) main().replaceChildren(h("p", { class: "error", text: `${t("err")}: ${error.message}` }));
  });
}

function siteSelect(value, allLabel = t("f.site")) {
  return h("select", { name: "site" }, h("option", { value: "", text: allLabel }),
    state.sites.map((s) => h("option", { value: s.id, text: s.name || s.id, selected: s.id === value })));
}

// -- review ------------------------------------------------------------------------------------------

async function reviewView() {
  const filters = { site: "", camera: "", kind: "", since: "" };
  const queue = { events: [], cursor: null, index: 0, single: false, reviewed: 0 };
  const form = h("form", { class: "filters" },
    siteSelect(""),
    h("input", { name: "camera", placeholder: t("f.camera"), size: 10 }),
    h("select", { name: "kind" }, h("option", { value: "", text: t("f.kind") }), KINDS.map((k) => h("option", { value: k, text: t(`k.${k}`) }))),
    h("input", { name: "since", type: "date", "aria-label": t("f.since") }),
    h("button", { type: "submit", text: t("f.apply") }),
    h("span", { class: "muted", id: "counter" }));
  const list = h("div", { class: "queue", id: "queue", role: "listbox" });
  const detail = h("section", { class: "detail", id: "detail" });
  main().replaceChildren(form, canReview() ? "" : h("p", { class: "notice", text: t("r.readonly") }), h("div", { class: "review" }, list, detail));

  async function load(more = false) {
    const params = new URLSearchParams({ review_status: "pending", limit: "30" });
    if (filters.site) params.set("site_id", filters.site);
    if (filters.camera) params.set("camera_id", filters.camera);
    if (filters.kind) params.set("kind", filters.kind);
    if (filters.since) params.set("since", new Date(`${filters.since}T00:00:00`).toISOString());
    if (more && queue.cursor) params.set("cursor", queue.cursor);
    const page = await api(`/api/v1/events?${params}`);
    queue.events = more ? queue.events.concat(page.data) : page.data;
    queue.cursor = page.next_cursor;
    if (!more) queue.index = 0;
    show(); // the large pictures are asked for before the thumbnails
    drawList();
  }

  const snap = (e, annotated) => `/api/v1/events/${encodeURIComponent(e.id)}/snapshot${annotated ? "?annotated=true" : ""}`;

  function drawList() {
    list.replaceChildren(...queue.events.map((e, i) => h("div", {
      class: `card${i === queue.index ? " on" : ""}`, role: "option", "data-id": e.id, "aria-selected": i === queue.index ? "true" : "false",
      onclick: () => { queue.index = i; drawList(); show(); },
    }, h("img", { src: snap(e, true), alt: "", loading: "lazy", decoding: "async", fetchpriority: "low" }),
       h("div", { class: "meta" }, h("div", { class: "kind", text: t(`k.${e.kind}`) }), h("div", { text: `${e.site_id} · ${e.camera_id || "-"}` }), h("div", { class: "muted", text: local(e.started_at) })))));
    form.querySelector("#counter").textContent = `${queue.events.length}${queue.cursor ? "+" : ""} ${t("r.left")} · ${queue.reviewed} ${t("r.done")}`;
    const on = list.querySelector(".card.on");
    if (on) on.scrollIntoView({ block: "nearest" });
  }

  function show() {
    const e = queue.events[queue.index];
    if (!e) {
      detail.replaceChildren(h("p", { class: "muted", id: "empty", text: t("r.empty") }));
      return;
    }
    for (const next of queue.events.slice(queue.index + 1, queue.index + 3)) { new Image().src = snap(next, true); new Image().src = snap(next, false); }
    const shots = h("div", { class: `shots${queue.single ? " single" : ""}` },
      h("figure", {}, h("img", { src: snap(e, true), alt: t("r.annotated"), id: "annotated", fetchpriority: "high" }), h("figcaption", { text: t("r.annotated") })),
      queue.single ? "" : h("figure", {}, h("img", { src: snap(e, false), alt: t("r.clean"), fetchpriority: "high" }), h("figcaption", { text: t("r.clean") })),
      e.clip_sha256 ? h("figure", {}, h("video", { src: `/api/v1/events/${encodeURIComponent(e.id)}/clip`, controls: true, preload: "none" }), h("figcaption", { text: t("r.clip") })) : "");
    const note = h("input", { id: "note", placeholder: t("r.note"), maxlength: 2000, disabled: !canReview() });
    detail.replaceChildren(
      h("h2", { id: "title", text: t(`k.${e.kind}`) }),
      shots,
      h("div", { class: "facts" },
        h("span", { text: `${t("r.site")}: ${e.site_id}` }), h("span", { text: `${t("r.camera")}: ${e.camera_id || "-"}` }),
        h("span", { text: `${t("r.time")}: ${local(e.started_at)}` }), h("span", { text: `${t("r.people")}: ${e.people_count}` }),
        h("span", { text: `${t("r.score")}: ${e.score.toFixed(2)}` })),
      h("div", { class: "actions" }, note,
        h("button", { class: "ok", id: "confirm", disabled: !canReview(), onclick: () => verdict("confirmed") }, t("r.confirm"), " ", h("kbd", { text: "C" })),
        h("button", { class: "bad", id: "dismiss", disabled: !canReview(), onclick: () => verdict("false_alarm") }, t("r.dismiss"), " ", h("kbd", { text: "X" })),
        h("button", { onclick: () => { queue.single = !queue.single; show(); } }, t("r.toggle"), " ", h("kbd", { text: "T" }))),
      h("p", { class: "muted" }, `${t("r.keys")}: `, h("kbd", { text: "←" }), " ", h("kbd", { text: "→" }), " · ", h("kbd", { text: "/" }), ` ${t("r.note")}`));
  }

  async function verdict(kind) {
    const e = queue.events[queue.index];
    if (!e || !canReview()) return;
    const note = $("#note").value;
    await api(`/api/v1/events/${encodeURIComponent(e.id)}/review`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ verdict: kind, note }),
    });
    queue.events.splice(queue.index, 1);
    queue.reviewed += 1;
    if (queue.index >= queue.events.length) queue.index = Math.max(0, queue.events.length - 1);
    drawList();
    show();
    if (queue.events.length < 5 && queue.cursor) load(true);
  }

  document.onkeydown = (ev) => {
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) {
      if (ev.key === "Enter" && ev.target.id === "note") { ev.preventDefault(); ev.target.blur(); }
      return;
    }
    const moves = { ArrowRight: 1, ArrowDown: 1, j: 1, ArrowLeft: -1, ArrowUp: -1, k: -1 };
    if (ev.key in moves) {
      ev.preventDefault();
      queue.index = Math.min(Math.max(queue.index + moves[ev.key], 0), Math.max(queue.events.length - 1, 0));
      drawList();
      show();
      if (queue.index >= queue.events.length - 3 && queue.cursor) load(true);
    } else if (ev.key === "c" || ev.key === "C") { ev.preventDefault(); verdict("confirmed"); }
    else if (ev.key === "x" || ev.key === "X") { ev.preventDefault(); verdict("false_alarm"); }
    else if (ev.key === "t" || ev.key === "T") { queue.single = !queue.single; show(); }
    else if (ev.key === "/") { ev.preventDefault(); $("#note")?.focus(); }
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    Object.assign(filters, { site: form.site.value, camera: form.camera.value.trim(), kind: form.kind.value, since: form.since.value });
    load();
  });
  await load();
}

// -- cases -------------------------------------------------------------------------------------------

async function casesView() {
  const cases = await api("/api/v1/cases?limit=500");
  const now = Date.now();
  const board = h("div", { class: "board", id: "board" }, STATES.map((status) => h("div", { class: "column", "data-status": status },
    h("h3", { text: `${t(`s.${status}`)} (${cases.filter((c) => c.status === status).length})` }),
    cases.filter((c) => c.status === status).map((c) => h("div", {
      class: `case${c.overdue ? " overdue" : ""}`, "data-id": c.id, onclick: () => openCase(c),
    }, h("div", {}, h("b", { text: `#${c.id} ` }), t(`k.${c.kind}`)), h("div", { class: "muted", text: `${c.site_id} · ${c.camera_id || "-"}` }),
       h("div", {}, `${t("c.deadline")}: ${local(c.deadline_at)} `, c.overdue ? h("span", { class: "tag bad", text: t("c.overdue") }) : ""),
       c.external_id ? h("div", { class: "muted", text: `${t("c.external")}: ${c.external_id}` }) : "")))));
  main().replaceChildren(board);
  void now;
}

function openCase(c) {
  const dialog = h("dialog", { id: "case-dialog" },
    h("h2", { text: `#${c.id} ${t(`k.${c.kind}`)} · ${t(`s.${c.status}`)}` }),
    h("p", {}, `${c.site_id} · ${c.camera_id || "-"} · ${t("c.deadline")}: ${local(c.deadline_at)} `, c.overdue ? h("span", { class: "tag bad", text: t("c.overdue") }) : ""),
    h("h3", { text: t("c.history") }),
    h("table", {}, c.history.map((x) => h("tr", {}, h("td", { text: local(x.at) }), h("td", { text: x.from_status ? `${t(`s.${x.from_status}`)} → ${t(`s.${x.to_status}`)}` : t(`s.${x.to_status}`) }), h("td", { text: x.actor }), h("td", { text: x.note || "" })))),
    h("h3", { text: t("c.events") }),
    h("div", { class: "grid" }, c.event_ids.slice(0, 12).map((id) => h("img", { src: `/api/v1/events/${encodeURIComponent(id)}/snapshot?annotated=true`, alt: id, loading: "lazy", style: "width:100%;border-radius:6px" }))),
    h("p", {}, h("button", { onclick: () => dialog.close(), text: "OK" })));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

// -- cameras -----------------------------------------------------------------------------------------

async function camerasView() {
  const panels = [];
  for (const site of state.sites) {
    const cameras = await api(`/api/v1/sites/${encodeURIComponent(site.id)}/cameras`);
    const memory = await api(`/api/v1/sites/${encodeURIComponent(site.id)}/false-alarms`);
    for (const c of cameras) {
      const suppressed = Object.values(c.suppressions || {}).reduce((sum, n) => sum + n, 0);
      panels.push(h("div", { class: "panel", "data-camera": c.camera_id },
        c.has_thumbnail ? h("img", { src: `/api/v1/sites/${encodeURIComponent(site.id)}/cameras/${encodeURIComponent(c.camera_id)}/thumbnail?at=${encodeURIComponent(c.reported_at)}`, alt: c.camera_id }) : "",
        h("h3", {}, `${site.id} · ${c.camera_id} `, h("span", { class: `tag ${c.online ? "ok" : "bad"}`, text: t(c.online ? "cam.online" : "cam.offline") })),
        h("div", { text: `${t("cam.fps")}: ${c.input_fps}` }),
        c.online ? "" : h("div", { class: "error", text: `${t("cam.since")} ${local(c.offline_since)}${c.last_error ? ` · ${c.last_error}` : ""}` }),
        h("div", { class: "muted", text: `${t("cam.reported")} ${local(c.reported_at)}` }),
        h("div", { class: "suppressed", title: Object.entries(c.suppressions || {}).map(([k, n]) => `${t(`k.${k}`)}: ${n}`).join(", "), text: `${t("fa.suppressed")}: ${suppressed}` }),
        falseAlarms(memory.filter((e) => e.camera_id === c.camera_id))));
    }
  }
  main().replaceChildren(panels.length ? h("div", { class: "grid" }, panels) : h("p", { class: "muted", text: t("cam.none") }));
}

// A camera's false-alarm memory: what is suppressed there, where in the frame, until when; supervisors
// remove an entry (the edge boxes alarm on it again after their next refresh).
function falseAlarms(entries) {
  const where = (box) => box.map((v) => `${Math.round(v * 100)}%`).join(", ");
  return h("details", { class: "memory", open: entries.length > 0 },
    h("summary", { text: `${t("fa.title")} (${entries.length})` }),
    entries.length ? h("table", {}, entries.map((e) => h("tr", { "data-false-alarm": e.id },
      h("td", { text: t(`k.${e.kind}`) }), h("td", { class: "muted", text: `${t("fa.where")} ${where(e.box)}` }),
      h("td", { class: "muted", text: `${t("fa.until")} ${local(e.expires_at)}` }),
      h("td", {}, canReview() ? h("button", { class: "bad", onclick: async () => {
        if (!confirm(t("fa.sure"))) return;
        await api(`/api/v1/false-alarms/${e.id}`, { method: "DELETE" });
        camerasView();
      }, text: t("fa.remove") }) : "")))) : h("p", { class: "muted", text: t("fa.none") }));
}

// -- officers ----------------------------------------------------------------------------------------

async function officersView(siteId = state.sites[0]?.id || "") {
  const select = siteSelect(siteId, "-");
  select.addEventListener("change", () => officersView(select.value));
  const day = new Date().toLocaleDateString("sv-SE"); // today in the browser's time zone, YYYY-MM-DD
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  if (!siteId) { main().replaceChildren(h("p", { class: "muted", text: t("o.none") })); return; }
  const officers = await api(`/api/v1/sites/${encodeURIComponent(siteId)}/officers`);
  const roster = h("div", { class: "panel" }, h("h3", { text: t("o.roster") }),
    officers.length ? h("table", {}, officers.map((o) => h("tr", { "data-officer": o.id },
      h("td", { text: o.name }), h("td", { text: t(o.enabled ? "o.enabled" : "o.disabled") }),
      h("td", {}, canReview() ? h("button", { class: "bad", onclick: async () => {
        if (!confirm(t("o.sure"))) return;
        await api(`/api/v1/officers/${o.id}`, { method: "DELETE" });
        officersView(siteId);
      }, text: t("o.delete") }) : "")))) : h("p", { class: "muted", text: t("o.none") }));
  const message = h("p", { class: "error", role: "status" });
  const enrol = h("form", { class: "panel", id: "enrol" }, h("h3", { text: t("o.enrol") }),
    h("p", {}, h("input", { name: "name", placeholder: t("o.name"), required: true, maxlength: 100 })),
    h("p", {}, h("label", {}, `${t("o.photos")} `, h("input", { name: "photos", type: "file", accept: "image/jpeg,image/png", multiple: true, required: true }))),
    h("p", {}, h("label", {}, h("input", { name: "consent", type: "checkbox", required: true }), " ", t("o.consent"))),
    h("button", { class: "primary", type: "submit", disabled: !canReview(), text: t("o.submit") }), message);
  enrol.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = new FormData();
    body.set("name", enrol.name.value);
    for (const file of enrol.photos.files) body.append("photos", file);
    try {
      const officer = await api(`/api/v1/sites/${encodeURIComponent(siteId)}/officers`, { method: "POST", body });
      if (officer.rejected && officer.rejected.length) alert(`${t("o.rejected")}: ${officer.rejected.map((r) => `${r.photo}: ${r.reason}`).join("; ")}`);
      officersView(siteId);
    } catch (error) { message.textContent = error.message; }
  });
  const dayInput = h("input", { type: "date", value: day });
  const timeline = h("div", {});
  async function drawPresence() {
    const spans = await api(`/api/v1/sites/${encodeURIComponent(siteId)}/presence?day=${dayInput.value}&tz=${encodeURIComponent(zone)}`);
    const names = [...new Set(spans.map((s) => s.officer))];
    const width = 720, row = 26, left = 110;
    const start = new Date(`${dayInput.value}T00:00:00`).getTime();
    const x = (iso) => left + ((new Date(iso).getTime() - start) / 86400000) * (width - left - 10);
    const svg = svgEl("svg", { viewBox: `0 0 ${width} ${Math.max(1, names.length) * row + 24}`, width: "100%", role: "img" });
    for (let hour = 0; hour <= 24; hour += 3) {
      const px = left + (hour / 24) * (width - left - 10);
      svg.append(svgEl("line", { x1: px, x2: px, y1: 0, y2: names.length * row, stroke: "#e2e5ea" }), svgText(px, names.length * row + 14, `${hour}:00`, "middle"));
    }
    names.forEach((name, i) => {
      svg.append(svgText(left - 6, i * row + 17, name, "end"));
      for (const s of spans.filter((span) => span.officer === name)) {
        svg.append(svgEl("rect", { x: x(s.start), y: i * row + 5, width: Math.max(2, x(s.end) - x(s.start)), height: row - 10, fill: "#1a7f37", rx: 3 }));
      }
    });
    timeline.replaceChildren(names.length ? svg : h("p", { class: "muted", text: t("none") }));
  }
  dayInput.addEventListener("change", drawPresence);
  main().replaceChildren(h("div", { class: "filters" }, select), h("div", { class: "grid" }, roster, enrol),
    h("div", { class: "panel", style: "margin-top:.8rem" }, h("h3", {}, `${t("o.presence")} `, dayInput), timeline));
  await drawPresence();
}

// -- charts (SVG, no library) ------------------------------------------------------------------------

function svgEl(tag, attrs = {}) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  return el;
}

function svgText(x, y, text, anchor = "start") {
  const el = svgEl("text", { x, y, "text-anchor": anchor });
  el.textContent = text;
  return el;
}

function stackedBars(title, labels, series) {
  // series: [{name, color, values[]}]
  const width = 520, height = 240, left = 34, bottom = 40;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + s.values[i], 0));
  const top = Math.ceil(Math.max(1, ...totals) / 4) * 4; // whole numbers on the five grid lines
  const band = (width - left - 10) / Math.max(1, labels.length);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": title, class: "chart" });
  for (let k = 0; k <= 4; k += 1) {
    const y = height - bottom - (k / 4) * (height - bottom - 16);
    svg.append(svgEl("line", { x1: left, x2: width - 10, y1: y, y2: y, stroke: "#e2e5ea" }), svgText(left - 4, y + 4, String(Math.round((top * k) / 4)), "end"));
  }
  labels.forEach((label, i) => {
    let y = height - bottom;
    for (const s of series) {
      const value = s.values[i];
      const barHeight = (value / top) * (height - bottom - 16);
      if (value) svg.append(svgEl("rect", { x: left + i * band + band * 0.15, y: y - barHeight, width: band * 0.7, height: barHeight, fill: s.color }));
      y -= barHeight;
    }
    svg.append(svgText(left + i * band + band / 2, height - bottom + 14, label, "middle"));
  });
  let legend = left;
  for (const s of series) {
    svg.append(svgEl("rect", { x: legend, y: height - 14, width: 10, height: 10, fill: s.color }), svgText(legend + 14, height - 5, s.name));
    legend += 14 + s.name.length * 11 + 16;
  }
  return h("div", { class: "panel" }, h("h3", { text: title }), svg);
}

// -- dashboard ---------------------------------------------------------------------------------------

function meanShare(perSite) {
  const shares = Object.values(perSite || {}).filter((v) => v !== null);
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null;
}

async function dashboardView(days = 7) {
  const until = new Date();
  const since = new Date(until.getTime() - days * 86400000);
  const zone = "Asia/Shanghai";
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

// -- briefs ------------------------------------------------------------------------------------------

function isoWeek(date) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d - yearStart) / 86400000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

async function briefsView() {
  const lastWeek = isoWeek(new Date(Date.now() - 7 * 86400000));
  const month = new Date().toISOString().slice(0, 7);
  const form = h("form", { class: "panel", id: "brief" }, h("h3", { text: t("b.title") }), h("p", { class: "muted", text: t("b.hint") }),
    h("p", { class: "filters" },
      h("label", {}, h("input", { type: "radio", name: "kind", value: "week", checked: true }), ` ${t("b.week")} `, h("input", { name: "week", value: lastWeek, size: 9, pattern: "\\d{4}-W\\d{2}" })),
      h("label", {}, h("input", { type: "radio", name: "kind", value: "month" }), ` ${t("b.month")} `, h("input", { name: "month", type: "month", value: month })),
      h("label", {}, `${t("b.scope")} `, siteSelect("", t("b.district")))),
    h("p", { class: "actions" }, h("button", { class: "primary", type: "submit", value: "html", text: t("b.html") }), h("button", { type: "submit", value: "pdf", text: t("b.pdf") })));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const period = form.kind.value === "week" ? form.week.value : form.month.value;
    const params = new URLSearchParams({ period, format: ev.submitter?.value || "html", lang: state.lang });
    if (form.site.value) params.set("site_id", form.site.value);
    window.open(`/api/v1/briefs?${params}`, "_blank");
  });
  main().replaceChildren(form);
}

// -- start -------------------------------------------------------------------------------------------

$("#lang").addEventListener("click", () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("sitewatch.lang", state.lang);
  translateShell();
  route();
});
$("#logout").addEventListener("click", async () => {
  await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" });
  state.me = null;
  showLogin();
});
window.addEventListener("hashchange", route);
translateShell();
start();

export { api, canReview, h, local, main, openCase, state, t };
