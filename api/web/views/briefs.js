// The briefs (#/briefs): a week's or a month's brief, of one site or the whole district, as a page or a PDF
// (made by the API).

import { defineTexts, h, main, siteSelect, state, t } from "../core.js";

defineTexts(
  {
    "b.title": "周报与月报", "b.week": "周", "b.month": "月", "b.scope": "范围", "b.district": "全辖区",
    "b.html": "生成网页版", "b.pdf": "下载 PDF", "b.hint": "简报包括：与上期对比、图表、重点摄像头与类型、典型案件、超期案件、安全员在岗。",
  },
  {
    "b.title": "Weekly and monthly briefs", "b.week": "Week", "b.month": "Month", "b.scope": "Scope", "b.district": "Whole district",
    "b.html": "Open as a page", "b.pdf": "Download PDF", "b.hint": "A brief holds: figures against the previous period, charts, top cameras and kinds, typical cases, overdue cases, officer presence.",
  },
);

function isoWeek(date) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d - yearStart) / 86400000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

export async function briefsView() {
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
