// The review queue (#/review): the pending events, newest first, one at a time with its pictures side by side;
// a supervisor confirms or dismisses each with the keyboard (C, X; arrows, J and K to move; / for a note), or
// on a phone with the verdict bar kept at the bottom of the screen.
//
// It also owns how new violations are announced (announceNew, called by the shell's badge poll): a sound
// and a browser notification, each off until the user turns it on here; the choice is kept in this browser's
// localStorage, per user name.

import { $, api, canReview, defineTexts, h, KINDS, local, main, siteSelect, state, t } from "../core.js";

defineTexts(
  {
    "r.empty": "没有待审核的违规。", "r.confirm": "确认违规", "r.dismiss": "误报", "r.note": "备注（可选）",
    "r.toggle": "切换对比/单图", "r.keys": "快捷键", "r.annotated": "标注图", "r.clean": "原图", "r.clip": "视频片段",
    "r.readonly": "只读账号：不能审核。", "r.people": "人数", "r.score": "置信度", "r.time": "时间", "r.camera": "摄像头",
    "r.site": "工地", "r.left": "待审核", "r.done": "已审核", "r.export": "导出",
    "r.noplay": "此视频无法在浏览器中播放，请下载后查看。", "r.download": "下载视频",
    "r.alerts": "新违规提醒", "r.sound": "声音", "r.notify": "桌面通知", "r.denied": "浏览器未允许通知。",
    "r.new": "条新违规待审核", "r.badge": "待审核",
    "v.pending": "待审核", "v.confirmed": "已确认", "v.false_alarm": "误报", "v.all": "全部结果", "r.verdict": "审核结果",
    "r.search": "搜索工程、地址、施工单位、事件编号", "r.until": "截止日期", "r.found": "条", "r.history_empty": "没有符合条件的事件。",
  },
  {
    "r.empty": "Nothing waits for review.", "r.confirm": "Confirm", "r.dismiss": "False alarm", "r.note": "Note (optional)",
    "r.toggle": "Side by side / single", "r.keys": "Keys", "r.annotated": "Annotated", "r.clean": "Clean", "r.clip": "Clip",
    "r.readonly": "Read-only account: you cannot review.", "r.people": "People", "r.score": "Score", "r.time": "Time",
    "r.camera": "Camera", "r.site": "Site", "r.left": "to review", "r.done": "reviewed", "r.export": "Export",
    "r.noplay": "This clip cannot play in the browser: download it to watch.", "r.download": "Download clip",
    "r.alerts": "New violations", "r.sound": "Sound", "r.notify": "Notifications", "r.denied": "The browser does not allow notifications.",
    "r.new": "new violations to review", "r.badge": "to review",
    "v.pending": "To review", "v.confirmed": "Confirmed", "v.false_alarm": "False alarm", "v.all": "Any verdict", "r.verdict": "Verdict",
    "r.search": "Search project, address, contractor, event id", "r.until": "Until", "r.found": "events", "r.history_empty": "No event matches.",
  },
);

// -- announcing new violations ------------------------------------------------------------------------

const prefsKey = () => `sitewatch.alerts.${state.me?.name || ""}`;
/** This user's choice of announcements in this browser: { sound, notify }, both off unless turned on. */
export function alertPrefs() {
  try {
    const saved = JSON.parse(localStorage.getItem(prefsKey()) || "{}");
    return { sound: saved.sound === true, notify: saved.notify === true };
  } catch {
    return { sound: false, notify: false };
  }
}
const savePrefs = (prefs) => localStorage.setItem(prefsKey(), JSON.stringify(prefs));

let audio = null; // made on the click that turns the sound on: browsers start audio only on a gesture
function beep() {
  audio ??= new AudioContext();
  if (audio.state === "suspended") audio.resume();
  for (const [at, pitch] of [[0, 880], [0.18, 1175]]) {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = pitch;
    gain.gain.setValueAtTime(0.15, audio.currentTime + at);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + at + 0.15);
    tone.connect(gain).connect(audio.destination);
    tone.start(audio.currentTime + at);
    tone.stop(audio.currentTime + at + 0.16);
  }
}

/** Announce `count` new violations the way this user chose (nothing by default). */
export function announceNew(count) {
  const prefs = alertPrefs();
  if (prefs.sound) beep();
  if (prefs.notify && "Notification" in window && Notification.permission === "granted") {
    const note = new Notification("sitewatch", { body: `${count} ${t("r.new")}`, tag: "sitewatch-pending" });
    note.onclick = () => { window.focus(); location.hash = "#/review"; };
  }
}

function alertToggles() {
  const prefs = alertPrefs();
  const message = h("span", { class: "error", id: "alert-msg" });
  const sound = h("input", { type: "checkbox", id: "alert-sound", checked: prefs.sound });
  const notify = h("input", { type: "checkbox", id: "alert-notify", checked: prefs.notify });
  sound.addEventListener("change", () => {
    savePrefs({ ...alertPrefs(), sound: sound.checked });
    if (sound.checked) beep(); // what it will sound like; also unlocks audio on this gesture
  });
  notify.addEventListener("change", async () => {
    message.textContent = "";
    let on = notify.checked;
    if (on && (!("Notification" in window) || (await Notification.requestPermission()) !== "granted")) {
      on = false;
      message.textContent = t("r.denied");
    }
    notify.checked = on;
    savePrefs({ ...alertPrefs(), notify: on });
  });
  return h("span", { class: "alerts" }, `${t("r.alerts")}:`,
    h("label", {}, sound, t("r.sound")), h("label", {}, notify, t("r.notify")), message);
}

function verdictTag(e) {
  const tone = { pending: "", confirmed: "bad", false_alarm: "ok" }[e.review_status] ?? "";
  return h("span", { class: `tag ${tone}`, "data-verdict": e.review_status, text: t(`v.${e.review_status}`) });
}

function clipFigure(e) {
  const url = `/api/v1/events/${encodeURIComponent(e.id)}/clip`;
  const video = h("video", { src: url, controls: true, preload: "none", playsinline: true, id: "clip" });
  const figure = h("figure", {}, video, h("figcaption", { text: t("r.clip") }));
  // A clip this browser cannot decode (an old one the API could not transcode) says so, and can still be
  // downloaded.
  video.addEventListener("error", () => figure.replaceChildren(
    h("p", { class: "notice", id: "clip-error", text: t("r.noplay") }),
    h("a", { href: url, download: `${e.id}.mp4`, id: "clip-download", text: t("r.download") })));
  return figure;
}

const VERDICTS = ["pending", "confirmed", "false_alarm"];

/** The review queue (``#/review``: pending events) or the event history (``#/events``: every event, any
 * verdict, searchable); both open the same evidence view, where a verdict can be given or corrected. */
export async function reviewView(mode = "review") {
  const history = mode === "history";
  const filters = { site: "", camera: "", kind: "", since: "", until: "", q: "", verdict: history ? "" : "pending" };
  const queue = { events: [], cursor: null, index: 0, single: false, reviewed: 0 };
  const form = h("form", { class: "filters", id: history ? "history-filters" : "review-filters" },
    siteSelect(""),
    h("input", { name: "camera", placeholder: t("f.camera"), size: 10 }),
    h("select", { name: "kind" }, h("option", { value: "", text: t("f.kind") }), KINDS.map((k) => h("option", { value: k, text: t(`k.${k}`) }))),
    history ? h("select", { name: "verdict", "aria-label": t("r.verdict") }, h("option", { value: "", text: t("v.all") }), VERDICTS.map((v) => h("option", { value: v, text: t(`v.${v}`) }))) : "",
    history ? h("input", { name: "q", type: "search", placeholder: t("r.search"), size: 24 }) : "",
    h("input", { name: "since", type: "date", "aria-label": t("f.since") }),
    history ? h("input", { name: "until", type: "date", "aria-label": t("r.until") }) : "",
    h("button", { type: "submit", text: t("f.apply") }),
    h("button", { type: "button", id: "export-events", text: t("r.export"), onclick: () => { location.href = `/api/v1/events/export?${query()}&format=xlsx&lang=${state.lang === "en" ? "en" : "zh"}`; } }),
    h("span", { class: "muted", id: "counter" }),
    history ? "" : alertToggles());
  const list = h("div", { class: "queue", id: "queue", role: "listbox" });
  const detail = h("section", { class: "detail", id: "detail" });
  main().replaceChildren(form, canReview() ? "" : h("p", { class: "notice", text: t("r.readonly") }), h("div", { class: "review" }, list, detail));

  // The filters as the API takes them, for the list and its export.
  function query() {
    const params = new URLSearchParams();
    if (filters.verdict) params.set("review_status", filters.verdict);
    if (filters.q) params.set("q", filters.q);
    if (filters.until) params.set("until", new Date(Date.parse(`${filters.until}T00:00:00`) + 86400000).toISOString()); // the day included
    if (filters.site) params.set("site_id", filters.site);
    if (filters.camera) params.set("camera_id", filters.camera);
    if (filters.kind) params.set("kind", filters.kind);
    if (filters.since) params.set("since", new Date(`${filters.since}T00:00:00`).toISOString());
    return params;
  }

  async function load(more = false) {
    const params = query();
    params.set("limit", "30");
    if (more && queue.cursor) params.set("cursor", queue.cursor);
    const page = await api(`/api/v1/events?${params}`);
    queue.events = more ? queue.events.concat(page.data) : page.data;
    queue.cursor = page.next_cursor;
    queue.total = page.total;
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
       h("div", { class: "meta" }, h("div", { class: "kind", text: t(`k.${e.kind}`) }), h("div", { text: `${e.site_id} · ${e.camera_id || "-"}` }), h("div", { class: "muted", text: local(e.started_at) }),
         history ? verdictTag(e) : ""))));
    const count = queue.total ?? `${queue.events.length}${queue.cursor ? "+" : ""}`;
    form.querySelector("#counter").textContent = history ? `${count} ${t("r.found")}` : `${count} ${t("r.left")} · ${queue.reviewed} ${t("r.done")}`;
    const on = list.querySelector(".card.on");
    if (on) on.scrollIntoView({ block: "nearest" });
  }

  function show() {
    const e = queue.events[queue.index];
    if (!e) {
      detail.replaceChildren(h("p", { class: "muted", id: "empty", text: t(history ? "r.history_empty" : "r.empty") }));
      return;
    }
    for (const next of queue.events.slice(queue.index + 1, queue.index + 3)) { new Image().src = snap(next, true); new Image().src = snap(next, false); }
    const shots = h("div", { class: `shots${queue.single ? " single" : ""}` },
      h("figure", {}, h("img", { src: snap(e, true), alt: t("r.annotated"), id: "annotated", fetchpriority: "high" }), h("figcaption", { text: t("r.annotated") })),
      queue.single ? "" : h("figure", {}, h("img", { src: snap(e, false), alt: t("r.clean"), fetchpriority: "high" }), h("figcaption", { text: t("r.clean") })),
      e.clip_sha256 ? clipFigure(e) : "");
    const note = h("input", { id: "note", placeholder: t("r.note"), maxlength: 2000, disabled: !canReview() });
    detail.replaceChildren(
      h("h2", { id: "title" }, `${t(`k.${e.kind}`)} `, verdictTag(e)),
      shots,
      h("div", { class: "facts" },
        h("span", { text: `${t("r.site")}: ${e.site_id}` }), h("span", { text: `${t("r.camera")}: ${e.camera_id || "-"}` }),
        h("span", { text: `${t("r.time")}: ${local(e.started_at)}` }), h("span", { text: `${t("r.people")}: ${e.people_count}` }),
        h("span", { text: `${t("r.score")}: ${e.score.toFixed(2)}` })),
      h("div", { class: "actions" }, note,
        h("button", { class: "ok", id: "confirm", disabled: !canReview(), onclick: () => verdict("confirmed") }, t("r.confirm"), " ", h("kbd", { text: "C" })),
        h("button", { class: "bad", id: "dismiss", disabled: !canReview(), onclick: () => verdict("false_alarm") }, t("r.dismiss"), " ", h("kbd", { text: "X" })),
        h("button", { id: "toggle", onclick: () => { queue.single = !queue.single; show(); } }, t("r.toggle"), " ", h("kbd", { text: "T" }))),
      h("p", { class: "muted keys" }, `${t("r.keys")}: `, h("kbd", { text: "←" }), " ", h("kbd", { text: "→" }), " · ", h("kbd", { text: "/" }), ` ${t("r.note")}`));
  }

  async function verdict(kind) {
    const e = queue.events[queue.index];
    if (!e || !canReview()) return;
    const note = $("#note").value;
    await api(`/api/v1/events/${encodeURIComponent(e.id)}/review`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ verdict: kind, note }),
    });
    queue.reviewed += 1;
    if (filters.verdict && filters.verdict !== kind) { // no longer one the filter asks for
      queue.events.splice(queue.index, 1);
      if (queue.total) queue.total -= 1;
    } else {
      e.review_status = kind;
      if (queue.index < queue.events.length - 1) queue.index += 1;
    }
    document.dispatchEvent(new Event("sitewatch:reviewed")); // the shell's badge counts again
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
    if (history) Object.assign(filters, { verdict: form.verdict.value, q: form.q.value.trim(), until: form.until.value });
    load();
  });
  await load();
}
