// The district map (issue 16, "one screen"): every project as a marker coloured by its status, a side list
// filtered like the map, and the open project's cameras, open cases and officers today. Leaflet is vendored
// (api/web/vendor/leaflet), markers are drawn on one canvas (1,000 projects stay smooth), tiles come only
// from the server the operator configured (none: a plain background with a scale, offline).

import { api, canReview, defineTexts, h, local, localDay, main, state, t, timeZone } from "../core.js";
import { ago, cameraTag, offlineLine } from "./cameras.js";
import { openLive } from "./live.js";
import { openCase } from "./cases.js";
import { hashParams, keepInHash, projectButtons, projectFilters, stateTag } from "./projects.js";

defineTexts(
  {
    "m.overdue": "案件超期", "m.open_cases": "有未结案件", "m.offline": "有离线摄像头",
    "m.active": "在建正常", "m.planned": "未开工", "m.finished": "已完工", "m.refresh": "刷新", "m.updated": "更新于",
    "m.cameras": "摄像头", "m.cases": "未结案件", "m.presence": "今日安全员在岗", "m.no_cases": "没有未结案件。",
    "m.no_cameras": "尚无摄像头上报。", "m.no_presence": "今天尚未识别到安全员。", "m.no_place": "无坐标",
    "m.close": "关闭", "m.offline_of": "离线", "m.none": "没有符合条件的工程。",
    "m.show": "只看此类（再点一次显示全部）", "m.legend_note": "在建工程可同时计入案件超期、有未结案件、有离线摄像头；摄像头上报离线或超过 {limit} 未上报即算离线。",
  },
  {
    "m.overdue": "Overdue cases", "m.open_cases": "Open cases", "m.offline": "A camera offline",
    "m.active": "Active", "m.planned": "Planned", "m.finished": "Finished", "m.refresh": "Refresh", "m.updated": "updated",
    "m.cameras": "Cameras", "m.cases": "Open cases", "m.presence": "Safety officers today", "m.no_cases": "No open case.",
    "m.no_cameras": "No camera has reported yet.", "m.no_presence": "No officer seen today.", "m.no_place": "no location",
    "m.close": "Close", "m.offline_of": "offline", "m.none": "No project matches.",
    "m.show": "Show only these (click again for all)", "m.legend_note": "An active project may count as overdue, with open cases and with a camera offline at once; a camera is offline when reported so or silent for over {limit}.",
  },
);

/** Marker statuses, most urgent first, and their colours (the legend's order). */
export const STATUSES = ["overdue", "open_cases", "offline", "active", "planned", "finished"];
export const STATUS_COLORS = {
  overdue: "#c62828", open_cases: "#f08c00", offline: "#6c5ce7", active: "#1a7f37", planned: "#0f62fe", finished: "#9aa0a6",
};
/** How often the page fetches the markers (and the open project) again. */
export const REFRESH_MS = 30_000;

let leaflet = null;
function loadLeaflet() {
  if (!leaflet) {
    document.head.append(h("link", { rel: "stylesheet", href: "/ui/vendor/leaflet/leaflet.css" }));
    leaflet = import("../vendor/leaflet/leaflet.js").then(() => window.L); // a UMD build: it sets window.L
  }
  return leaflet;
}

/** Whether a marker counts under a legend item: an active project under each of its problems (overdue cases,
 * open cases, an offline camera), a project without any under its state. */
export function counts(marker, status) {
  if (marker.state !== "active" || status === "planned" || status === "finished") return marker.status === status;
  if (status === "overdue") return marker.overdue_cases > 0;
  if (status === "open_cases") return marker.open_cases > 0;
  if (status === "offline") return marker.cameras_offline > 0;
  return marker.status === status;
}

function matches(marker, filters) {
  if (filters.show && !counts(marker, filters.show)) return false;
  if (filters.state && marker.state !== filters.state) return false;
  if (filters.company && !marker.company.toLowerCase().includes(filters.company.toLowerCase())) return false;
  if (!filters.q) return true;
  const q = filters.q.toLowerCase();
  return [marker.name, marker.site_id, marker.company].some((text) => text.toLowerCase().includes(q));
}

export async function mapView() {
  const params = hashParams();
  const view = {
    filters: { state: params.get("state") || "", company: params.get("company") || "", q: params.get("q") || "", show: STATUSES.includes(params.get("show")) ? params.get("show") : "" },
    open: Number(params.get("project")) || null, markers: [], seen: "", drawn: new Map(), rows: new Map(), refreshes: 0, busy: false,
  };
  const [L, tiles] = await Promise.all([loadLeaflet(), api("/api/v1/ui/map")]);
  const limit = tiles.camera_stale_s ?? 120;
  const canvas = h("div", { id: "map", class: "map", "data-markers": "0" });
  const list = h("div", { id: "map-list", class: "map-list", role: "list" });
  const legend = h("div", { class: "legend", id: "legend" });
  const detail = h("section", { id: "map-project", class: "map-project", hidden: true });
  const updated = h("span", { class: "muted", id: "map-updated" });
  const bar = projectFilters(view.filters, (next) => { Object.assign(view.filters, next); draw(true); });
  bar.append(h("button", { type: "button", id: "map-refresh", text: t("m.refresh"), onclick: () => refresh() }), updated);
  const root = h("div", { class: "map-page", id: "map-page", "data-refreshes": "0" }, bar, legend,
    h("div", { class: "map-screen" }, h("aside", { class: "map-side" }, list), canvas, detail));
  main().replaceChildren(root);

  const map = L.map(canvas, { preferCanvas: true, zoomControl: true, worldCopyJump: true });
  const renderer = L.canvas({ padding: 0.3 });
  if (tiles.tiles) L.tileLayer(tiles.tiles, { attribution: tiles.attribution, maxZoom: 19 }).addTo(map);
  else canvas.classList.add("plain"); // no tiles: the markers on a plain background
  L.control.scale({ imperial: false }).addTo(map);
  const layer = L.layerGroup().addTo(map);
  canvas.leafletMap = map; // for the browser tests and the benchmark, which click markers by position
  new ResizeObserver(() => map.invalidateSize()).observe(canvas); // the project's panel narrows the map

  function style(marker) {
    const on = marker.id === view.open;
    return { renderer, radius: on ? 10 : 7, color: on ? "#111" : "#fff", weight: on ? 3 : 1.5, fillColor: STATUS_COLORS[marker.status], fillOpacity: 0.9 };
  }

  // Markers and the list from view.markers and the filters; the map's extent changes only when asked (first
  // load, new filters), never on a refresh, so that a refresh leaves the supervisor's view where it was. Markers
  // and rows are kept by project and remade only when their project changed (a refresh changes few).
  function draw(fit = false) {
    if (!root.isConnected) return; // the page moved on while an answer was on its way
    const shown = view.markers.filter((m) => matches(m, view.filters));
    const points = [];
    const kept = new Set();
    for (const m of shown) {
      if (m.lat === null || m.lon === null) continue;
      const dot = view.drawn.get(m.id);
      const same = dot && ["lat", "lon", "name", "status"].every((key) => dot.project[key] === m[key]);
      if (!same) {
        if (dot) layer.removeLayer(dot);
        const made = L.circleMarker([m.lat, m.lon], style(m)).bindTooltip(m.name).on("click", () => openProject(m.id));
        made.project = m;
        layer.addLayer(made);
        view.drawn.set(m.id, made);
      }
      kept.add(m.id);
      points.push([m.lat, m.lon]);
    }
    for (const [id, dot] of view.drawn) if (!kept.has(id)) { layer.removeLayer(dot); view.drawn.delete(id); }
    canvas.dataset.markers = String(points.length);
    if (fit) {
      if (points.length) map.fitBounds(points, { padding: [30, 30], maxZoom: 15 });
      else map.setView([35, 105], 4);
    }
    // The legend counts what the other filters leave, each item a filter of its own (show=<status>).
    const counted = view.markers.filter((m) => matches(m, { ...view.filters, show: "" }));
    const totals = Object.fromEntries(STATUSES.map((s) => [s, counted.filter((m) => counts(m, s)).length]));
    legend.replaceChildren(...STATUSES.map((s) => h("button", {
      type: "button", class: `legend-item${view.filters.show === s ? " on" : ""}`, "data-status": s, "data-count": totals[s],
      "aria-pressed": String(view.filters.show === s), title: t("m.show"),
      onclick: () => { view.filters.show = view.filters.show === s ? "" : s; draw(true); },
    }, h("i", { class: "dot", style: `background:${STATUS_COLORS[s]}` }), `${t(`m.${s}`)} ${totals[s]}`)),
    h("span", { class: "muted legend-note", text: t("m.legend_note").replace("{limit}", ago(limit)) }));
    list.replaceChildren(...(shown.length ? shown.map(cachedRow) : [h("p", { class: "muted", text: t("m.none") })]));
    select(view.open); // and the address keeps the filters
  }

  function cachedRow(m) {
    const key = JSON.stringify(m);
    const kept = view.rows.get(m.id);
    if (kept?.key === key) return kept.el;
    const el = row(m);
    view.rows.set(m.id, { key, el });
    return el;
  }

  function row(m) {
    const facts = [
      m.open_cases ? `${t("m.cases")} ${m.open_cases}` : "",
      m.overdue_cases ? `${t("c.overdue")} ${m.overdue_cases}` : "",
      m.cameras_offline ? `${t("m.cameras")} ${m.cameras_offline}/${m.cameras} ${t("m.offline_of")}` : "",
      m.lat === null || m.lon === null ? t("m.no_place") : "",
    ].filter(Boolean).join(" · ");
    return h("div", {
      class: "map-row", role: "listitem", "data-project": m.id, "data-status": m.status,
      "data-open-cases": m.open_cases, onclick: () => openProject(m.id),
    }, h("i", { class: "dot", style: `background:${STATUS_COLORS[m.status]}`, title: t(`m.${m.status}`) }),
    h("div", {}, h("b", { text: m.name }), h("div", { class: "muted", text: `${m.site_id}${m.company ? ` · ${m.company}` : ""}` }),
      facts ? h("div", { class: "facts-line", text: facts }) : ""));
  }

  // Mark the open project on the map and in the list: two markers restyled, not a redraw of all.
  function select(id) {
    const before = view.drawn.get(view.open);
    view.open = id;
    keepInHash("map", { ...view.filters, project: id });
    before?.setStyle(style(before.project));
    const dot = view.drawn.get(id);
    dot?.setStyle(style(dot.project)).bringToFront();
    for (const el of list.querySelectorAll(".map-row.on")) el.classList.remove("on");
    list.querySelector(`.map-row[data-project="${id}"]`)?.classList.add("on");
    return dot;
  }

  async function openProject(id) {
    const dot = select(id);
    if (dot && !map.getBounds().contains(dot.getLatLng())) map.panTo(dot.getLatLng());
    list.querySelector(".map-row.on")?.scrollIntoView({ block: "nearest" });
    const marker = view.markers.find((m) => m.id === id);
    if (marker) await showProject(marker, true);
  }

  let project = null; // the open project as GET /projects/{id} shows it: fetched once per opening (a read of
  // its phone number is audited), not on every refresh
  async function showProject(marker, fresh) {
    if (fresh || !project || project.id !== marker.id) project = await api(`/api/v1/projects/${marker.id}`);
    const site = encodeURIComponent(marker.site_id);
    const day = localDay();
    const zone = timeZone();
    const [cameras, cases, presence] = await Promise.all([
      api(`/api/v1/sites/${site}/cameras`),
      api(`/api/v1/cases?site_id=${site}&limit=200`),
      api(`/api/v1/sites/${site}/presence?day=${day}&tz=${encodeURIComponent(zone)}`),
    ]);
    if (view.open !== marker.id) return; // another project was opened meanwhile
    detail.hidden = false;
    detail.dataset.project = marker.id;
    detail.replaceChildren(projectCard(project, marker), camerasPanel(marker.site_id, cameras),
      casesPanel(cases.filter((c) => c.status !== "closed")), presencePanel(presence));
  }

  function projectCard(p, marker) {
    return h("div", { class: "panel" },
      h("div", { class: "detail-head" }, h("h2", { id: "map-project-name", text: p.name }),
        h("button", { type: "button", class: "ghost-dark", text: t("m.close"), onclick: () => { select(null); project = null; detail.hidden = true; } })),
      h("p", {}, stateTag(p.state), " ", h("span", { class: "tag status", "data-status": marker.status, style: `background:${STATUS_COLORS[marker.status]};color:#fff`, text: t(`m.${marker.status}`) })),
      h("table", { class: "facts-table" }, [
        ["p.site", p.site_id], ["p.address", p.address], ["p.company", p.company], ["p.builder", p.builder],
        ["p.permit", p.permit_no], ["p.period", `${p.planned_start} ~ ${p.planned_end}`],
        ["p.contact", `${p.contact_name} ${p.contact_phone || ""}`.trim()],
      ].filter(([, v]) => v).map(([k, v]) => h("tr", {}, h("th", { text: t(k) }), h("td", { class: k === "p.contact" ? "phone" : "", text: v })))),
      canReview() ? h("p", { class: "actions" }, projectButtons(p, () => { project = null; refresh(); })) : "");
  }

  function camerasPanel(siteId, cameras) {
    const site = encodeURIComponent(siteId);
    return h("div", { class: "panel" }, h("h3", { text: `${t("m.cameras")} (${cameras.length})` }),
      cameras.length ? h("div", { class: "thumbs" }, cameras.map((c) => h("figure", { "data-camera": c.camera_id },
        c.has_thumbnail ? h("img", { src: `/api/v1/sites/${site}/cameras/${encodeURIComponent(c.camera_id)}/thumbnail?at=${encodeURIComponent(c.reported_at)}`, alt: c.camera_id, loading: "lazy" }) : h("div", { class: "nothumb" }),
        h("figcaption", {}, `${c.camera_id} `, cameraTag(c),
          h("div", { class: "muted", text: c.online ? local(c.reported_at) : offlineLine(c, limit) }),
          h("button", { type: "button", class: "live-open", onclick: () => openLive(siteId, c.camera_id), text: t("live.open") })))))
        : h("p", { class: "muted", text: t("m.no_cameras") }));
  }

  function casesPanel(cases) {
    return h("div", { class: "panel", id: "map-cases" }, h("h3", { text: `${t("m.cases")} (${cases.length})` }),
      cases.length ? h("table", {}, cases.map((c) => h("tr", { class: "case-row", "data-case": c.id, onclick: () => openCase(c) },
        h("td", { text: `#${c.id}` }), h("td", { text: t(`k.${c.kind}`) }), h("td", { text: t(`s.${c.status}`) }),
        h("td", {}, local(c.deadline_at), " ", c.overdue ? h("span", { class: "tag bad", text: t("c.overdue") }) : ""))))
        : h("p", { class: "muted", text: t("m.no_cases") }));
  }

  function presencePanel(spans) {
    const clock = (iso) => new Date(iso).toLocaleTimeString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: timeZone() });
    return h("div", { class: "panel", id: "map-presence" }, h("h3", { text: t("m.presence") }),
      spans.length ? h("table", {}, spans.map((s) => h("tr", {}, h("td", { text: s.officer }), h("td", { text: `${clock(s.start)} – ${clock(s.end)}` }))))
        : h("p", { class: "muted", text: t("m.no_presence") }));
  }

  // Fetch the markers again (and the open project's cameras, cases and presence), keeping filters, the
  // open project and the map's extent. Stops by itself once the page has left the map.
  async function refresh(fit = false) {
    if (!root.isConnected) { clearInterval(timer); return; }
    if (view.busy) return;
    view.busy = true;
    try {
      const markers = await api("/api/v1/projects/map");
      if (!root.isConnected) return;
      const seen = JSON.stringify(markers); // most refreshes find nothing new: then nothing is redrawn
      if (fit || seen !== view.seen) {
        Object.assign(view, { markers, seen });
        draw(fit);
      }
      const open = view.markers.find((m) => m.id === view.open);
      if (open) await showProject(open, false);
      else if (view.open !== null) { select(null); detail.hidden = true; }
      view.refreshes += 1;
      root.dataset.refreshes = String(view.refreshes);
      updated.textContent = `${t("m.updated")} ${new Date().toLocaleTimeString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false, timeZone: timeZone() })}`;
    } finally {
      view.busy = false;
    }
  }
  const timer = setInterval(() => { if (!document.hidden) refresh().catch(() => {}); }, REFRESH_MS);
  await refresh(true);
}
