// The cases (#/cases): a board of the cases by status, and the dialog that shows a case's history and
// evidence (openCase, also opened from the map).

import { api, defineTexts, h, local, main, t } from "../core.js";

defineTexts(
  {
    "s.open": "待派发", "s.dispatched": "已派发", "s.rectifying": "整改中", "s.reinspection": "复查中",
    "s.closed": "已结案", "s.reopened": "已重开",
    "c.deadline": "期限", "c.overdue": "已超期", "c.history": "处理记录", "c.events": "违规证据", "c.external": "案件编号",
  },
  {
    "s.open": "Open", "s.dispatched": "Dispatched", "s.rectifying": "Rectifying", "s.reinspection": "Re-inspection",
    "s.closed": "Closed", "s.reopened": "Reopened",
    "c.deadline": "Deadline", "c.overdue": "Overdue", "c.history": "History", "c.events": "Evidence", "c.external": "Case number",
  },
);

const STATES = ["open", "dispatched", "rectifying", "reinspection", "reopened", "closed"];

export async function casesView() {
  const cases = await api("/api/v1/cases?limit=500");
  const board = h("div", { class: "board", id: "board" }, STATES.map((status) => h("div", { class: "column", "data-status": status },
    h("h3", { text: `${t(`s.${status}`)} (${cases.filter((c) => c.status === status).length})` }),
    cases.filter((c) => c.status === status).map((c) => h("div", {
      class: `case${c.overdue ? " overdue" : ""}`, "data-id": c.id, onclick: () => openCase(c),
    }, h("div", {}, h("b", { text: `#${c.id} ` }), t(`k.${c.kind}`)), h("div", { class: "muted", text: `${c.site_id} · ${c.camera_id || "-"}` }),
       h("div", {}, `${t("c.deadline")}: ${local(c.deadline_at)} `, c.overdue ? h("span", { class: "tag bad", text: t("c.overdue") }) : ""),
       c.external_id ? h("div", { class: "muted", text: `${t("c.external")}: ${c.external_id}` }) : "")))));
  main().replaceChildren(board);
}

export function openCase(c) {
  const dialog = h("dialog", { id: "case-dialog" },
    h("h2", { text: `#${c.id} ${t(`k.${c.kind}`)} · ${t(`s.${c.status}`)}` }),
    h("p", {}, `${c.site_id} · ${c.camera_id || "-"} · ${t("c.deadline")}: ${local(c.deadline_at)} `, c.overdue ? h("span", { class: "tag bad", text: t("c.overdue") }) : ""),
    h("h3", { text: t("c.history") }),
    h("table", {}, c.history.map((x) => h("tr", {}, h("td", { text: local(x.at) }), h("td", { text: x.from_status ? `${t(`s.${x.from_status}`)} → ${t(`s.${x.to_status}`)}` : t(`s.${x.to_status}`) }), h("td", { text: x.actor }), h("td", { text: x.note || "" })))),
    h("h3", { text: t("c.events") }),
    h("div", { class: "grid" }, c.event_ids.slice(0, 12).map((id) => h("img", { src: `/api/v1/events/${encodeURIComponent(id)}/snapshot?annotated=true`, alt: id, loading: "lazy", style: "width:100%;border-radius:6px" }))),
    h("p", {}, h("button", { onclick: () => dialog.close(), text: "OK" })));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
