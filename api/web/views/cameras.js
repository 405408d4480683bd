// The cameras (#/cameras): each camera's state as its edge box last reported it (offline once it has been
// silent for longer than SITEWATCH_CAMERA_STALE_S), grouped by project, and its false-alarm memory, which
// supervisors may clear entry by entry.

import { api, canReview, defineTexts, h, local, main, t } from "../core.js";
import { hashParams, keepInHash } from "./projects.js";
import { openLive } from "./live.js";

defineTexts(
  {
    "cam.online": "在线", "cam.offline": "离线", "cam.since": "离线自", "cam.fps": "输入帧率", "cam.none": "尚无摄像头上报状态。",
    "cam.s": "秒", "cam.min": "分钟", "cam.h": "小时", "cam.d": "天",
    "cam.reported": "上报于", "cam.stale": "超时未上报", "cam.stale_for": "已有 {n} 未上报（超过 {limit} 即视为离线）",
    "cam.only_offline": "只看离线", "cam.summary": "共 {n} 个摄像头，在线 {on}，离线 {off}", "cam.no_offline": "没有离线的摄像头。",
    "cam.no_project": "未登记工程的工地", "cam.rule": "边缘盒每 10 秒上报一次摄像头状态；摄像头上报离线，或超过 {limit} 没有任何上报（断电、断网），即显示为离线。",
    "fa.title": "误报记忆", "fa.suppressed": "已抑制（与误报相同的检测）", "fa.none": "无误报记忆。", "fa.where": "画面位置",
    "fa.until": "有效至", "fa.remove": "移除", "fa.sure": "移除这条误报记忆？之后同样的检测会再次报警。",
  },
  {
    "cam.online": "Online", "cam.offline": "Offline", "cam.since": "offline since", "cam.fps": "input fps",
    "cam.none": "No camera has reported yet.", "cam.reported": "reported", "cam.s": "s", "cam.min": "min", "cam.h": "h", "cam.d": "days", "cam.stale": "No report",
    "cam.stale_for": "no report for {n} (offline after {limit})", "cam.only_offline": "Offline only",
    "cam.summary": "{n} cameras, {on} online, {off} offline", "cam.no_offline": "No camera is offline.",
    "cam.no_project": "Sites without a project",
    "cam.rule": "Edge boxes report their cameras every 10 s; a camera reported offline, or with no report at all for over {limit} (power or network lost), shows offline.",
    "fa.title": "False-alarm memory", "fa.suppressed": "Suppressed (detections matching a false alarm)", "fa.none": "Nothing remembered.",
    "fa.where": "in frame", "fa.until": "until", "fa.remove": "Remove", "fa.sure": "Remove this entry? The same detection will alarm again.",
  },
);

const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, key) => values[key]);

/** A duration in seconds, as a person says it (45 秒, 3 分钟, 2 小时, 4 天). */
export function ago(seconds) {
  const [n, unit] = seconds < 90 ? [Math.round(seconds), "s"] : seconds < 5400 ? [Math.round(seconds / 60), "min"]
    : seconds < 172800 ? [Math.round(seconds / 3600), "h"] : [Math.round(seconds / 86400), "d"];
  return `${n} ${t(`cam.${unit}`)}`;
}

/** The line under a camera that is offline: since when (as reported), or how long it has been silent. */
export function offlineLine(c, limit) {
  if (c.stale) return fill(t("cam.stale_for"), { n: ago(c.last_seen_s), limit: ago(limit) });
  return `${t("cam.since")} ${local(c.offline_since)}${c.last_error ? ` · ${c.last_error}` : ""}`;
}

/** A camera's state as a tag: online, offline (as reported) or silent past the limit (stale). */
export function cameraTag(c) {
  return h("span", { class: `tag ${c.online ? "ok" : "bad"}`, "data-state": c.online ? "online" : c.stale ? "stale" : "offline",
    text: c.online ? t("cam.online") : c.stale ? `${t("cam.offline")} · ${t("cam.stale")}` : t("cam.offline") });
}

// Every visible camera in one request (GET /api/v1/cameras), grouped by project; "offline only" asks the API
// for the offline ones and is kept in the address (#/cameras?offline=1).
export async function camerasView() {
  const offlineOnly = hashParams().get("offline") === "1";
  const cameras = await api(`/api/v1/cameras${offlineOnly ? "?offline=true" : ""}`);
  const limit = cameras[0]?.stale_after_s ?? 120;
  const toggle = h("input", { type: "checkbox", id: "cam-offline", checked: offlineOnly, onchange: () => {
    keepInHash("cameras", { offline: toggle.checked ? "1" : "" });
    camerasView();
  } });
  const off = cameras.filter((c) => !c.online).length;
  const bar = h("div", { class: "panel filters", id: "cam-bar" },
    h("label", {}, toggle, ` ${t("cam.only_offline")}`), " ",
    h("span", { id: "cam-summary", "data-total": cameras.length, "data-offline": off,
      text: offlineOnly ? "" : fill(t("cam.summary"), { n: cameras.length, on: cameras.length - off, off }) }),
    cameras.length ? h("p", { class: "muted", id: "cam-rule", text: fill(t("cam.rule"), { limit: ago(limit) }) }) : "");
  const groups = new Map();
  for (const c of cameras) {
    const key = c.project_id ?? "";
    if (!groups.has(key)) groups.set(key, { name: c.project_id ? c.project_name : t("cam.no_project"), cameras: [] });
    groups.get(key).cameras.push(c);
  }
  const sections = [...groups.entries()].map(([key, group]) => {
    const down = group.cameras.filter((c) => !c.online).length;
    return h("section", { class: "camera-group", "data-project": key },
      h("h3", {}, `${group.name} `, h("span", { class: "muted", text: `(${group.cameras.length}${down ? ` · ${t("cam.offline")} ${down}` : ""})` })),
      h("div", { class: "grid" }, group.cameras.map((c) => cameraPanel(c, limit))));
  });
  const empty = h("p", { class: "muted", id: "cam-empty", text: t(offlineOnly ? "cam.no_offline" : "cam.none") });
  main().replaceChildren(bar, ...(sections.length ? sections : [empty]));
}

function cameraPanel(c, limit) {
  const site = encodeURIComponent(c.site_id);
  const suppressed = Object.values(c.suppressions || {}).reduce((sum, n) => sum + n, 0);
  return h("div", { class: "panel", "data-camera": c.camera_id, "data-site": c.site_id, "data-online": String(c.online) },
    c.has_thumbnail ? h("img", { src: `/api/v1/sites/${site}/cameras/${encodeURIComponent(c.camera_id)}/thumbnail?at=${encodeURIComponent(c.reported_at)}`, alt: c.camera_id, loading: "lazy" }) : "",
    h("h3", {}, `${c.site_name || c.site_id} · ${c.camera_id} `, cameraTag(c)),
    h("div", { text: `${t("cam.fps")}: ${c.input_fps}` }),
    c.online ? "" : h("div", { class: "error", text: offlineLine(c, limit) }),
    h("div", { class: "muted", text: `${t("cam.reported")} ${local(c.reported_at)}` }),
    h("button", { class: "live-open", onclick: () => openLive(c.site_id, c.camera_id), text: t("live.open") }),
    h("div", { class: "suppressed", title: Object.entries(c.suppressions || {}).map(([k, n]) => `${t(`k.${k}`)}: ${n}`).join(", "), text: `${t("fa.suppressed")}: ${suppressed}` }),
    falseAlarms(c.false_alarms || []));
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
