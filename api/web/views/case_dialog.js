// The case dialog (issue 21): a case's facts, its history, its evidence (snapshots and the first event's
// clip), and for supervisors the work on it: move it on (dispatch, rectifying, rectified, close with a note,
// reopen), extend its deadline with a reason, add a note, call or text the responsible person now. The
// history is drawn again from the API's answer after each step. Opened from the case board and the map.

import { api, canReview, defineTexts, h, local, state, t } from "../core.js";
import { openLive } from "./live.js";

defineTexts(
  {
    "s.open": "待派发", "s.dispatched": "已派发", "s.rectifying": "整改中", "s.reinspection": "复查中",
    "s.closed": "已结案", "s.reopened": "已重开",
    "c.deadline": "期限", "c.overdue": "已超期", "c.history": "处理记录", "c.events": "违规证据", "c.external": "案件编号",
    "c.open_for": "已立案", "c.project": "工程", "c.contractor": "施工单位", "c.area": "街道 / 社区", "c.where": "工地 / 摄像头",
    "c.contact": "安全负责人", "c.created": "立案时间", "c.work": "处置", "c.note": "处理说明或备注",
    "c.close_note": "结案请先填写处理说明。", "c.add_note": "添加备注", "c.extend": "延期", "c.hours": "延长小时数",
    "c.reason": "延期原因", "c.reason_needed": "请填写延期原因。", "c.call": "电话通知负责人", "c.sms": "短信通知负责人",
    "c.notify": "通知负责人", "c.done_ok": "已完成", "c.close_dialog": "关闭", "c.clip": "视频片段", "c.time": "时间",
    "c.change": "变更", "c.actor": "处理人", "c.no_events": "没有证据。",
    "mv.dispatched": "派发", "mv.rectifying": "开始整改", "mv.rectified": "已整改，进入复查", "mv.closed": "结案",
    "mv.reopened": "重开", "u.d": "天", "u.h": "小时", "u.m": "分钟",
  },
  {
    "s.open": "Open", "s.dispatched": "Dispatched", "s.rectifying": "Rectifying", "s.reinspection": "Re-inspection",
    "s.closed": "Closed", "s.reopened": "Reopened",
    "c.deadline": "Deadline", "c.overdue": "Overdue", "c.history": "History", "c.events": "Evidence", "c.external": "Case number",
    "c.open_for": "Open for", "c.project": "Project", "c.contractor": "Contractor", "c.area": "Street / community",
    "c.where": "Site / camera", "c.contact": "Safety contact", "c.created": "Opened", "c.work": "Work the case",
    "c.note": "What was done, or a note", "c.close_note": "Write what was done before closing.", "c.add_note": "Add note",
    "c.extend": "Extend", "c.hours": "Hours more", "c.reason": "Reason for the extension",
    "c.reason_needed": "Give a reason for the extension.", "c.call": "Call the contact now", "c.sms": "Text the contact now",
    "c.notify": "Reach the contact", "c.done_ok": "Done", "c.close_dialog": "Close", "c.clip": "Clip", "c.time": "Time",
    "c.change": "Change", "c.actor": "By", "c.no_events": "No evidence.",
    "mv.dispatched": "Dispatch", "mv.rectifying": "Mark rectifying", "mv.rectified": "Mark rectified (re-inspect)",
    "mv.closed": "Close case", "mv.reopened": "Reopen", "u.d": "d", "u.h": "h", "u.m": "min",
  },
);

/** Where a case may go next, as the API's state machine allows (``rectified`` leads to re-inspection). */
const MOVES = {
  open: ["dispatched", "closed"], dispatched: ["rectifying", "closed"], rectifying: ["rectified"],
  reinspection: ["closed", "reopened"], closed: ["reopened"], reopened: ["dispatched", "rectifying"],
};

/** The API's history notes and refusals (English) as a Chinese reader reads them; others stay as they are. */
const ZH_NOTES = [
  [/^deadline extended to (.+?): (.*)$/s, "期限延至 $1：$2"],
  [/^call (.*) now: queued on (.+)$/, "电话通知 $1：已提交（$2）"],
  [/^text (.*) now: queued on (.+)$/, "短信通知 $1：已提交（$2）"],
  [/^call requested, not sent: no \S+ channel is configured.*$/, "电话通知未发出：未配置电话通道"],
  [/^text requested, not sent: no \S+ channel is configured.*$/, "短信通知未发出：未配置短信通道"],
  [/^call requested, not sent: the case's project has no contact phone number$/, "电话通知未发出：该工程没有负责人电话"],
  [/^text requested, not sent: the case's project has no contact phone number$/, "短信通知未发出：该工程没有负责人电话"],
  [/^called (.*): accepted \((.*)\)$/, "已拨打 $1：已受理（$2）"],
  [/^texted (.*): accepted \((.*)\)$/, "已发短信 $1：已受理（$2）"],
  [/^called (.*): failed: (.*) \(will retry\)$/, "拨打 $1 失败：$2（将重试）"],
  [/^called (.*): failed: (.*) \(gave up\)$/, "拨打 $1 失败：$2（已放弃）"],
  [/^texted (.*): failed: (.*) \(will retry\)$/, "短信 $1 失败：$2（将重试）"],
  [/^texted (.*): failed: (.*) \(gave up\)$/, "短信 $1 失败：$2（已放弃）"],
  [/^case system number (.*) -> (.*)$/, "案件系统编号 $1 → $2"],
  [/^rectified without a report of work$/, "未报整改即报已整改"],
  [/^recurred during re-inspection: (.*)$/, "复查期间再次出现：$1"],
  [/^no recurrence during re-inspection$/, "复查期内未再出现，自动结案"],
  [/^no aliyun_voice channel is configured.*$/, "未配置电话通道，无法电话通知负责人。"],
  [/^no aliyun_sms channel is configured.*$/, "未配置短信通道，无法短信通知负责人。"],
  [/^the case's project has no contact phone number$/, "该工程没有负责人电话，无法通知。"],
];
/** A history note or refusal in the reader's language, where it is one the API writes. */
export function noteText(note) {
  if (state.lang !== "zh" || !note) return note || "";
  for (const [pattern, zh] of ZH_NOTES) {
    if (pattern.test(note)) return note.replace(pattern, zh);
  }
  return note;
}

/** A duration in days, hours (and minutes under an hour): ``2 天 3 小时``. */
export function ago(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d} ${t("u.d")} ${hr} ${t("u.h")}`;
  if (hr) return `${hr} ${t("u.h")}`;
  return `${m} ${t("u.m")}`;
}

export const statusTag = (status) => h("span", {
  class: `tag status-${status}${status === "closed" ? " ok" : ""}`, "data-status": status, text: t(`s.${status}`),
});

const json = (method, body) => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

/** Open the dialog of case ``c`` (a case as the API lists it); ``changed`` runs after each change. */
export function openCase(c, changed = () => {}) {
  const dialog = h("dialog", { id: "case-dialog", class: "case-dialog" });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  let evidence = null;

  async function act(path, options, done = "") {
    const message = dialog.querySelector("#case-message");
    try {
      const fresh = await api(path, options);
      draw(fresh, done || t("c.done_ok"));
      changed();
    } catch (failure) {
      if (failure.message !== "401") message.replaceChildren(h("span", { class: "error", text: `${t("err")}: ${noteText(failure.message)}` }));
    }
  }

  function draw(k, message = "") {
    const late = k.overdue ? h("span", { class: "tag bad", text: `${t("c.overdue")} ${ago(k.overdue_s)}` }) : "";
    const fact = (label, ...value) => h("tr", {}, h("th", { text: t(label) }), h("td", {}, ...value));
    dialog.replaceChildren(
      h("h2", {}, `#${k.id} ${t(`k.${k.kind}`)} `, statusTag(k.status)),
      h("table", { class: "facts-table" },
        fact("c.project", k.project_name || t("none")), fact("c.contractor", k.company || t("none")),
        fact("c.area", [k.street, k.community].filter(Boolean).join(" · ") || t("none")),
        fact("c.where", `${k.site_id} · ${k.camera_id || "-"}`),
        fact("c.contact", k.contact_name || t("none"), " ", h("span", { class: "phone", text: k.contact_phone || "" })),
        fact("c.created", `${local(k.created_at)} · ${t("c.open_for")} ${ago(k.open_s)}`),
        fact("c.deadline", `${local(k.deadline_at)} `, late),
        k.external_id ? fact("c.external", k.external_id) : ""),
      canReview() ? work(k) : "",
      h("p", { id: "case-message", role: "status", class: "muted", text: message }),
      h("h3", { text: t("c.history") }),
      h("table", { id: "case-history" },
        h("tr", {}, ["c.time", "c.change", "c.actor", "c.note"].map((key) => h("th", { text: t(key) }))),
        k.history.map((x) => h("tr", {}, h("td", { text: local(x.at) }),
          h("td", { text: x.from_status && x.from_status !== x.to_status ? `${t(`s.${x.from_status}`)} → ${t(`s.${x.to_status}`)}` : t(`s.${x.to_status}`) }),
          h("td", { text: x.actor }), h("td", { text: noteText(x.note) })))),
      h("h3", { text: t("c.events") }),
      evidence || (evidence = evidenceOf(k)),
      h("p", { class: "actions" }, h("button", { type: "button", id: "close-dialog", text: t("c.close_dialog"), onclick: () => dialog.close() })));
  }

  function work(k) {
    const note = h("textarea", { name: "note", id: "case-note", rows: 2, maxlength: 2000, placeholder: t("c.note"), "aria-label": t("c.note") });
    const hours = h("input", { name: "hours", id: "extend-hours", type: "number", min: 1, max: 8760, step: 1, value: 24, "aria-label": t("c.hours"), title: t("c.hours") });
    const reason = h("input", { name: "reason", id: "extend-reason", maxlength: 2000, placeholder: t("c.reason"), "aria-label": t("c.reason") });
    const say = (key) => dialog.querySelector("#case-message").replaceChildren(h("span", { class: "error", text: t(key) }));
    const move = (to) => {
      if (to === "closed" && !note.value.trim()) { say("c.close_note"); note.focus(); return; }
      act(`/api/v1/cases/${k.id}`, json("PATCH", { status: to, note: note.value.trim() }), t(`mv.${to}`));
    };
    return h("section", { class: "case-work", id: "case-work" },
      h("h3", { text: t("c.work") }),
      note,
      h("div", { class: "buttons" },
        (MOVES[k.status] || []).map((to) => h("button", {
          type: "button", "data-move": to, class: to === "closed" ? "ok" : to === "reopened" ? "" : "primary", text: t(`mv.${to}`), onclick: () => move(to),
        })),
        h("button", { type: "button", id: "add-note", text: t("c.add_note"), onclick: () => {
          if (!note.value.trim()) { note.focus(); return; }
          act(`/api/v1/cases/${k.id}/notes`, json("POST", { note: note.value.trim() }), t("c.add_note"));
        } })),
      k.status !== "closed" ? h("div", { class: "buttons" }, h("label", { class: "check" }, t("c.hours"), hours), reason,
        h("button", { type: "button", id: "extend", text: t("c.extend"), onclick: () => {
          if (!reason.value.trim()) { say("c.reason_needed"); reason.focus(); return; }
          act(`/api/v1/cases/${k.id}/extend`, json("POST", { hours: Number(hours.value), reason: reason.value.trim() }), t("c.extend"));
        } })) : "",
      h("div", { class: "buttons" }, h("span", { class: "muted", text: `${t("c.notify")}:` }),
        ["call", "sms"].map((channel) => h("button", { type: "button", "data-contact": channel, text: t(`c.${channel}`),
          onclick: () => act(`/api/v1/cases/${k.id}/contact`, json("POST", { channel }), t(`c.${channel}`)) }))));
  }

  draw(c);
  api(`/api/v1/cases/${c.id}`).then((fresh) => draw(fresh)).catch(() => {}); // the list may be minutes old
}

/** The evidence of a case: the first event's clip, when the edge recorded one, and the snapshots. */
function evidenceOf(k) {
  const box = h("div", { class: "evidence", id: "case-evidence" });
  if (k.camera_id) { // the site now, from the camera of the case
    box.append(h("p", {}, h("button", { type: "button", class: "live-open", onclick: () => openLive(k.site_id, k.camera_id), text: t("live.open") })));
  }
  if (!k.event_ids.length) { box.append(h("p", { class: "muted", text: t("c.no_events") })); return box; }
  const first = k.event_ids[0];
  api(`/api/v1/events/${encodeURIComponent(first)}`).then((event) => {
    if (event.clip_sha256) {
      box.prepend(h("figure", { class: "clip" }, h("video", { controls: true, preload: "metadata", src: `/api/v1/events/${encodeURIComponent(first)}/clip` }),
        h("figcaption", { text: t("c.clip") })));
    }
  }).catch(() => {});
  box.append(h("div", { class: "grid" }, k.event_ids.slice(0, 12).map((id) => h("img", {
    src: `/api/v1/events/${encodeURIComponent(id)}/snapshot?annotated=true`, alt: id, loading: "lazy", style: "width:100%;border-radius:6px",
  }))));
  return box;
}
