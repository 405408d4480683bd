// The briefs (#/briefs): a week's or a month's brief, of one site or the whole district, as a page or a PDF
// (made by the API).

import { defineTexts, h, localDay, main, siteSelect, state, t } from "../core.js";

defineTexts(
  {
    "b.title": "周报与月报", "b.week": "周", "b.month": "月", "b.scope": "范围", "b.district": "全辖区",
    "b.html": "生成网页版", "b.pdf": "下载 PDF", "b.hint": "简报包括：当月办结率、平均处理时长、速办率、云呼占比（与上期及基线对比）、图表、重点摄像头与类型、典型案件、超期案件、安全员在岗。",
    "b.partial": "所选时段尚未结束：简报将注明“未完”，并与上期同样长度的时段对比。",
  },
  {
    "b.title": "Weekly and monthly briefs", "b.week": "Week", "b.month": "Month", "b.scope": "Scope", "b.district": "Whole district",
    "b.html": "Open as a page", "b.pdf": "Download PDF", "b.hint": "A brief holds: the closure rate, mean handling time, fast-close rate and call share (against the previous period and the baseline), charts, top cameras and kinds, typical cases, overdue cases, officer presence.",
    "b.partial": "The chosen period is not over: the brief says it is partial and compares it with as much of the period before.",
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

// The last complete month (YYYY-MM) in the API's time zone, as the week defaults to the last complete week.
export function lastMonth(today = localDay()) {
  const [year, month] = today.split("-").map(Number);
  return month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, "0")}`;
}

export async function briefsView() {
  const lastWeek = isoWeek(new Date(Date.now() - 7 * 86400000));
  const thisWeek = isoWeek(new Date());
  const month = lastMonth();
  const thisMonth = localDay().slice(0, 7);
  const form = h("form", { class: "panel", id: "brief" }, h("h3", { text: t("b.title") }), h("p", { class: "muted", text: t("b.hint") }),
    h("p", { class: "filters" },
      h("label", {}, h("input", { type: "radio", name: "kind", value: "week", checked: true }), ` ${t("b.week")} `, h("input", { name: "week", value: lastWeek, size: 9, pattern: "\\d{4}-W\\d{2}" })),
      h("label", {}, h("input", { type: "radio", name: "kind", value: "month" }), ` ${t("b.month")} `, h("input", { name: "month", type: "month", value: month })),
      h("label", {}, `${t("b.scope")} `, siteSelect("", t("b.district")))),
    h("p", { class: "notice", id: "partial", hidden: true, text: t("b.partial") }),
    h("p", { class: "actions" }, h("button", { class: "primary", type: "submit", value: "html", text: t("b.html") }), h("button", { type: "submit", value: "pdf", text: t("b.pdf") })));
  // A week or month still under way (or ahead) is allowed, and said to be partial.
  const showPartial = () => {
    const chosen = form.kind.value === "week" ? form.week.value : form.month.value;
    form.querySelector("#partial").hidden = !(form.kind.value === "week" ? chosen >= thisWeek : chosen >= thisMonth);
  };
  form.addEventListener("input", showPartial);
  form.addEventListener("change", showPartial);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const period = form.kind.value === "week" ? form.week.value : form.month.value;
    const params = new URLSearchParams({ period, format: ev.submitter?.value || "html", lang: state.lang });
    if (form.site.value) params.set("site_id", form.site.value);
    window.open(`/api/v1/briefs?${params}`, "_blank");
  });
  main().replaceChildren(form);
}
