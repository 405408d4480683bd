// What every page of the supervisors' web UI shares: the API call, the element builder, the session's state,
// the texts and their formatting helpers. It imports nothing but the kinds (served by the API from
// detector.kinds), so that every view may import it and it never imports a view: the modules form no circle
// (tests/web/test_modules.py). The shell (main.js) is the only module that imports the views.

import { COLORS, KIND_TEXT, KINDS, PERSON_KINDS } from "./kinds.js"; // served by the API from detector.kinds

export { COLORS, KINDS, PERSON_KINDS };

const TEXT = { zh: {}, en: {} };

/**
 * Registers a module's texts (a key to its Chinese and its English text). Every key is defined once only:
 * a key already defined (by this module or another) throws, naming the key, instead of silently replacing
 * the other's text (the recurring page's closing note once replaced the review page's note box this way).
 * t() reads every module's texts: main.js imports every view before it draws a page, so a page may show
 * another's (the map shows the cameras' cam.online).
 */
export function defineTexts(zh, en) {
  for (const key of new Set([...Object.keys(zh), ...Object.keys(en)])) {
    if (Object.hasOwn(TEXT.zh, key) || Object.hasOwn(TEXT.en, key)) throw new Error(`text "${key}" is already defined`);
  }
  Object.assign(TEXT.zh, zh);
  Object.assign(TEXT.en, en);
}

defineTexts(
  {
    "f.site": "全部工地", "f.camera": "摄像头", "f.kind": "全部类型", "f.since": "起始日期", "f.apply": "筛选",
    ...KIND_TEXT.zh,
    "err": "出错了", "none": "—",
  },
  {
    "f.site": "All sites", "f.camera": "Camera", "f.kind": "All kinds", "f.since": "Since", "f.apply": "Filter",
    ...KIND_TEXT.en,
    "err": "Something went wrong", "none": "—",
  },
);

export const state = { lang: localStorage.getItem("sitewatch.lang") || "zh", me: null, sites: [], visits: 0 };
export const t = (key) => TEXT[state.lang][key] ?? TEXT.zh[key] ?? key;
export const $ = (selector, root = document) => root.querySelector(selector);
export const main = () => $("#main");
export const canReview = () => state.me && (state.me.role === "supervisor" || state.me.role === "admin");

export function h(tag, attrs = {}, ...children) {
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

// One time zone for every day and hour shown: the API's (GET /api/v1/auth/me), as briefs and analyses count.
export const timeZone = () => state.me?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
export const localDay = (date = new Date()) => date.toLocaleDateString("sv-SE", { timeZone: timeZone() }); // YYYY-MM-DD
// The instant (ms) at which `day` (YYYY-MM-DD) begins in the API's time zone.
export function dayStart(day) {
  const utc = Date.parse(`${day}T00:00:00Z`);
  const wall = (zone) => Date.parse(new Date(utc).toLocaleString("en-US", { timeZone: zone }));
  return utc - (wall(timeZone()) - wall("UTC"));
}
export const local = (iso) => (iso ? new Date(iso).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false, timeZone: timeZone() }) : t("none"));
export const pct = (share) => (share === null || share === undefined ? t("none") : `${Math.round(share * 1000) / 10}%`);

// What a 401 does (show the log-in form) belongs to the shell, which core may not import: main.js sets it.
let unauthorized = () => {};
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (response.status === 401) {
    unauthorized();
    throw new Error("401");
  }
  if (!response.ok) {
    let detail = `${response.status}`;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return response.status === 204 ? null : response.json();
}

/** A site filter: every site the user may see, and "all" (or ``allLabel``) first. */
export function siteSelect(value, allLabel = t("f.site")) {
  return h("select", { name: "site" }, h("option", { value: "", text: allLabel }),
    state.sites.map((s) => h("option", { value: s.id, text: s.name || s.id, selected: s.id === value })));
}
