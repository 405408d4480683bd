// The cameras (#/cameras): each camera's state as its edge box last reported it, and its false-alarm
// memory, which supervisors may clear entry by entry.

import { api, canReview, defineTexts, h, local, main, state, t } from "../core.js";
import { openLive } from "./live.js";

defineTexts(
  {
    "cam.online": "在线", "cam.offline": "离线", "cam.since": "离线自", "cam.fps": "输入帧率", "cam.none": "尚无摄像头上报状态。",
    "cam.reported": "上报于",
    "fa.title": "误报记忆", "fa.suppressed": "已抑制（与误报相同的检测）", "fa.none": "无误报记忆。", "fa.where": "画面位置",
    "fa.until": "有效至", "fa.remove": "移除", "fa.sure": "移除这条误报记忆？之后同样的检测会再次报警。",
  },
  {
    "cam.online": "Online", "cam.offline": "Offline", "cam.since": "offline since", "cam.fps": "input fps",
    "cam.none": "No camera has reported yet.", "cam.reported": "reported",
    "fa.title": "False-alarm memory", "fa.suppressed": "Suppressed (detections matching a false alarm)", "fa.none": "Nothing remembered.",
    "fa.where": "in frame", "fa.until": "until", "fa.remove": "Remove", "fa.sure": "Remove this entry? The same detection will alarm again.",
  },
);

export async function camerasView() {
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
        h("button", { class: "live-open", onclick: () => openLive(site.id, c.camera_id), text: t("live.open") }),
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
