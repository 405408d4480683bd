// The safety officers (#/officers): a site's roster, the enrolment form (photos and consent) and the day's
// presence as a timeline.

import { api, canReview, dayStart, defineTexts, h, localDay, main, siteSelect, state, t, timeZone } from "../core.js";
import { svgEl, svgText } from "../svg.js";

defineTexts(
  {
    "o.roster": "安全员名册", "o.enrol": "登记安全员", "o.name": "姓名", "o.photos": "照片（本人单独、正脸）",
    "o.consent": "本人已知情并同意：系统仅保存由照片计算的人脸特征（加密存储），不保存照片，可随时删除。",
    "o.submit": "登记", "o.delete": "删除", "o.sure": "删除该安全员及其人脸特征？", "o.presence": "在岗时间线",
    "o.day": "日期", "o.none": "尚未登记安全员。", "o.enabled": "启用", "o.disabled": "停用", "o.rejected": "未采用的照片",
  },
  {
    "o.roster": "Officer roster", "o.enrol": "Enrol an officer", "o.name": "Name", "o.photos": "Photos (alone, face visible)",
    "o.consent": "The officer knows and agrees: only face features computed from the photos are kept (encrypted), never the photos, and they can be deleted at any time.",
    "o.submit": "Enrol", "o.delete": "Delete", "o.sure": "Delete this officer and their face data?", "o.presence": "Presence",
    "o.day": "Day", "o.none": "No officer enrolled yet.", "o.enabled": "enabled", "o.disabled": "disabled", "o.rejected": "Photos not used",
  },
);

export async function officersView(siteId = state.sites[0]?.id || "") {
  const select = siteSelect(siteId, "-");
  select.addEventListener("change", () => officersView(select.value));
  const day = localDay(); // today in the API's time zone, YYYY-MM-DD
  const zone = timeZone();
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
    const start = dayStart(dayInput.value);
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
