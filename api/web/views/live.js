// A camera's live view: a dialog whose <img> plays the API's MJPEG stream. The site's edge box sends frames
// only while someone watches, so closing the dialog (which ends the stream) stops it within seconds.
// Exported for the cameras page, and for the map's project panel and the case dialog.

import { defineTexts, h, t } from "../core.js";

defineTexts(
  {
    "live.open": "实时画面", "live.title": "实时画面", "live.close": "关闭", "live.waiting": "正在连接现场设备…",
    "live.busy": "该摄像头的实时观看人数已达上限，请稍后再试。", "live.gone": "无法打开实时画面（摄像头不存在或无权查看）。",
    "live.failed": "实时画面已中断：现场设备可能离线。", "live.stale": "现场设备暂未送来画面。",
  },
  {
    "live.open": "Live view", "live.title": "Live view", "live.close": "Close", "live.waiting": "Connecting to the site…",
    "live.busy": "This camera has as many live viewers as allowed; try again later.",
    "live.gone": "The live view cannot be opened (no such camera, or not yours to see).",
    "live.failed": "The live view stopped: the site's box may be offline.", "live.stale": "No picture from the site yet.",
  },
);

const url = (siteId, cameraId) => `/api/v1/sites/${encodeURIComponent(siteId)}/cameras/${encodeURIComponent(cameraId)}/live`;

/** Open the live view of a camera in a modal dialog; the stream ends when the dialog closes. */
export function openLive(siteId, cameraId) {
  const note = h("p", { class: "muted live-note", text: t("live.waiting") });
  const img = h("img", { class: "live", alt: `${siteId} · ${cameraId}`, style: "display:block;width:100%;max-height:70vh;min-height:120px;object-fit:contain;background:#111;border-radius:6px" });
  const close = h("button", { type: "button", text: t("live.close") });
  const dialog = h("dialog", { id: "live-dialog", "data-site": siteId, "data-camera": cameraId },
    h("h2", { text: `${t("live.title")} · ${siteId} · ${cameraId}` }), img, note, h("p", {}, close));
  let frames = 0;
  // A picture should come within seconds of opening (the box's long poll answers at once): say so if not.
  const stale = setTimeout(() => { if (!frames) note.textContent = t("live.stale"); }, 8000);
  img.addEventListener("load", () => {
    frames += 1;
    dialog.dataset.frames = String(frames);
    note.hidden = true;
  });
  img.addEventListener("error", async () => {
    if (!dialog.open) return;
    note.hidden = false;
    note.className = "error live-note";
    note.textContent = t(await refusal(siteId, cameraId));
  });
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    clearTimeout(stale);
    img.removeAttribute("src"); // ends the stream: the API counts the viewer out, the box stops
    img.src = "data:,";
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  img.src = url(siteId, cameraId);
  return dialog;
}

// Why the stream would not play: an <img> cannot read the answer's status, so ask once more with fetch
// (a 200 this time is a stream that is closed at once).
async function refusal(siteId, cameraId) {
  const stop = new AbortController();
  try {
    const response = await fetch(url(siteId, cameraId), { credentials: "same-origin", signal: stop.signal });
    if (response.status === 429) return "live.busy";
    if (response.status === 404 || response.status === 403) return "live.gone";
    return "live.failed";
  } catch {
    return "live.failed";
  } finally {
    stop.abort();
  }
}
