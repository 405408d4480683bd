// The recurring-problems page (#/recurring, 类案): the findings of a period with their typical snapshots and
// suggested action, the rules that made them in words, a finding turned into a tracked issue (owner,
// deadline), the tracked issues, closed with a note, and the period's full rankings (views/rankings.js).
// It uses the same routes integrators use (/api/v1/analysis, /analysis/rankings, /tracked-issues).

import { api, canReview, defineTexts, h, local, main, pct, state, t } from "../core.js";
import { rankingsSection, rules } from "./rankings.js";

// Kept as a table too: a finding's figures are shown only where they have a text (rf.<figure>).
const TEXT = {
  zh: {
    "r.title": "反复出现的问题（类案）", "r.from": "从", "r.to": "到", "r.go": "分析",
    "r.hint": "同一施工单位多项目反复违规、违规周环比上升、结案后重开、误报偏多的摄像头。",
    "r.violations": "违规", "r.dismissed": "误报", "r.none": "本期未发现反复出现的问题",
    "r.action": "建议措施", "r.track": "转为跟踪事项", "r.owner": "负责人", "r.deadline": "期限",
    "r.issue": "事项名称", "r.save": "创建", "r.cancel": "取消", "r.tracked": "跟踪事项",
    "r.noissues": "暂无跟踪事项", "r.close": "结案", "r.close_note": "结案说明（如何解决）",
    "r.open": "跟踪中", "r.closed": "已结案", "r.overdue": "已超期", "r.created": "已创建跟踪事项",
    "rk.recurring_company": "施工单位反复违规", "rk.rising_project": "项目违规上升",
    "rk.reopened_cases": "结案后重开", "rk.noisy_camera": "摄像头误报偏多",
    "rf.projects": "涉及项目", "rf.violations": "违规次数", "rf.last_week": "上周", "rf.week_before": "前一周",
    "rf.ratio": "倍数", "rf.reopenings": "重开次数", "rf.cases": "案件数", "rf.reviewed": "已审核",
    "rf.dismissed": "误报", "rf.false_alarm_share": "误报率", "rf.median_project": "项目中位数",
    "rf.projects_total": "项目总数",
  },
  en: {
    "r.title": "Recurring problems", "r.from": "From", "r.to": "to", "r.go": "Analyse",
    "r.hint": "Contractors recurring on several projects, projects rising week on week, cases reopened after closure, cameras with many false alarms.",
    "r.violations": "Violations", "r.dismissed": "False alarms", "r.none": "No recurring problems found in this period",
    "r.action": "Suggested action", "r.track": "Track as an issue", "r.owner": "Owner", "r.deadline": "Deadline",
    "r.issue": "Title", "r.save": "Create", "r.cancel": "Cancel", "r.tracked": "Tracked issues",
    "r.noissues": "No tracked issues", "r.close": "Close", "r.close_note": "Closing note (how it was resolved)",
    "r.open": "open", "r.closed": "closed", "r.overdue": "overdue", "r.created": "Tracked issue created",
    "rk.recurring_company": "Recurring contractor", "rk.rising_project": "Rising project",
    "rk.reopened_cases": "Reopened cases", "rk.noisy_camera": "Noisy camera",
    "rf.projects": "Projects", "rf.violations": "Violations", "rf.last_week": "Last week", "rf.week_before": "Week before",
    "rf.ratio": "Ratio", "rf.reopenings": "Reopenings", "rf.cases": "Cases", "rf.reviewed": "Reviewed",
    "rf.dismissed": "Dismissed", "rf.false_alarm_share": "False-alarm share", "rf.median_project": "Median project",
    "rf.projects_total": "Projects in all",
  },
};
defineTexts(TEXT.zh, TEXT.en);

const day = (date) => date.toISOString().slice(0, 10);
// A local date (yyyy-mm-dd) at local midnight, as an ISO time with its offset (the API wants one).
const midnight = (text) => new Date(`${text}T00:00:00`).toISOString();

export async function recurringView(period = null) {
  const today = new Date();
  const chosen = period || { from: day(new Date(today - 28 * 86400000)), to: day(new Date(+today + 86400000)) };
  const form = h("form", { class: "panel filters", id: "period" },
    h("h3", { text: t("r.title") }), h("p", { class: "muted", text: t("r.hint") }),
    h("label", {}, `${t("r.from")} `, h("input", { type: "date", name: "from", value: chosen.from, required: true })),
    h("label", {}, ` ${t("r.to")} `, h("input", { type: "date", name: "to", value: chosen.to, required: true })),
    " ", h("button", { class: "primary", type: "submit", text: t("r.go") }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    recurringView({ from: form.from.value, to: form.to.value }).catch((e) => main().append(h("p", { class: "error", text: e.message })));
  });
  const params = new URLSearchParams({ start: midnight(chosen.from), end: midnight(chosen.to) });
  const [result, ranked, issues] = await Promise.all([api(`/api/v1/analysis?${params}`), api(`/api/v1/analysis/rankings?${params}`), api("/api/v1/tracked-issues")]);
  const summary = h("p", { class: "muted", id: "totals", text: `${t("r.violations")}: ${result.totals.violations} · ${t("r.dismissed")}: ${result.totals.dismissed}` });
  const list = result.findings.length
    ? h("div", { class: "findings" }, result.findings.map((f) => finding(f, () => recurringView(chosen))))
    : h("p", { class: "muted", id: "no-findings", text: t("r.none") });
  main().replaceChildren(form, summary, rules(ranked.thresholds), list, tracked(issues, () => recurringView(chosen)), rankingsSection(ranked));
}

function figures(f) {
  const shown = Object.entries(f.figures).filter(([key, v]) => TEXT.zh[`rf.${key}`] && v !== null && typeof v !== "object");
  return h("p", { class: "finding-figures" }, shown.flatMap(([key, v]) => [h("span", { class: "tag", text: `${t(`rf.${key}`)}: ${key.endsWith("share") ? pct(v) : v}` }), " "]));
}

function finding(f, refresh) {
  const lang = state.lang;
  const panel = h("div", { class: "panel finding", "data-finding": f.kind, "data-subject": f.subject },
    h("h3", {}, h("span", { class: "tag bad", text: t(`rk.${f.kind}`) }), ` ${f.title[lang] || f.title.zh}`),
    figures(f),
    h("div", { class: "grid evidence" }, f.evidence.filter((e) => e.snapshot_url).map((e) =>
      h("figure", { "data-event": e.event_id },
        h("img", { src: e.snapshot_url, alt: e.event_id, loading: "lazy", style: "width:100%;border-radius:6px" }),
        h("figcaption", { class: "muted", text: `${e.site_id} · ${e.camera_id || "-"} · ${local(e.started_at)}` })))),
    h("p", { class: "action" }, h("b", { text: `${t("r.action")}: ` }), f.action[lang] || f.action.zh));
  if (canReview()) {
    const button = h("button", { type: "button", class: "track", text: t("r.track") });
    button.addEventListener("click", () => { button.hidden = true; panel.append(trackForm(f, lang, refresh, () => { button.hidden = false; })); });
    panel.append(button);
  }
  return panel;
}

function trackForm(f, lang, refresh, cancelled) {
  const deadline = day(new Date(Date.now() + 14 * 86400000));
  const error = h("span", { class: "error", role: "alert" });
  const form = h("form", { class: "track-form filters" },
    h("label", {}, `${t("r.issue")} `, h("input", { name: "title", value: f.title[lang] || f.title.zh, size: 40, required: true, maxlength: 300 })),
    h("label", {}, ` ${t("r.owner")} `, h("input", { name: "owner", required: true, maxlength: 100 })),
    h("label", {}, ` ${t("r.deadline")} `, h("input", { type: "date", name: "deadline", value: deadline, required: true })),
    " ", h("button", { class: "primary", type: "submit", text: t("r.save") }),
    " ", h("button", { type: "button", text: t("r.cancel"), onclick: () => { form.remove(); cancelled(); } }), error);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { finding: f, title: form.title.value, owner: form.owner.value, deadline_at: new Date(`${form.deadline.value}T23:59:59`).toISOString() };
    try {
      await api("/api/v1/tracked-issues", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
      refresh();
    } catch (e) {
      error.textContent = e.message;
    }
  });
  return form;
}

function tracked(issues, refresh) {
  const rows = issues.map((i) => h("tr", { "data-issue": i.id, class: i.status },
    h("td", { text: `#${i.id}` }), h("td", {}, h("span", { class: "tag", text: t(`rk.${i.finding_kind}`) }), ` ${i.title}`),
    h("td", { text: `${t("r.owner")}: ${i.owner}` }),
    h("td", { class: i.overdue ? "error" : "", text: `${t("r.deadline")}: ${local(i.deadline_at)}${i.overdue ? ` (${t("r.overdue")})` : ""}` }),
    h("td", { class: "status", text: i.status === "closed" ? `${t("r.closed")}: ${i.note}` : t("r.open") }),
    h("td", {}, canReview() && i.status === "open" ? h("button", { type: "button", class: "close", text: t("r.close"), onclick: async () => {
      const note = prompt(t("r.close_note"));
      if (!note) return;
      await api(`/api/v1/tracked-issues/${i.id}/close`, { method: "POST", body: JSON.stringify({ note }), headers: { "Content-Type": "application/json" } });
      refresh();
    } }) : "")));
  return h("section", { class: "panel", id: "tracked" }, h("h3", { text: t("r.tracked") }),
    rows.length ? h("table", {}, rows) : h("p", { class: "muted", text: t("r.noissues") }));
}
