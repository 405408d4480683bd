// The charts, drawn as SVG without a library (the app has no third-party code but the map's Leaflet): the
// dashboard's stacked bars and the elements the officers' presence timeline is drawn with.

import { h } from "./core.js";

export function svgEl(tag, attrs = {}) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  return el;
}

export function svgText(x, y, text, anchor = "start") {
  const el = svgEl("text", { x, y, "text-anchor": anchor });
  el.textContent = text;
  return el;
}

// How the labels under `count` bands of `band` px fit: all of them, every `step`-th one (many short labels,
// e.g. the days of a month), or all of them turned (a few long ones, e.g. site names).
export function labelLayout(labels, band) {
  const widest = Math.max(0, ...labels.map((l) => [...String(l)].reduce((w, c) => w + (c.charCodeAt(0) > 0x2e80 ? 11 : 6.5), 0)));
  if (widest + 4 <= band) return { step: 1, turned: false, widest };
  if (labels.length > 12) return { step: Math.ceil((widest + 6) / band), turned: false, widest };
  return { step: 1, turned: true, widest };
}

/** A panel with a bar per label, stacked by series ([{name, color, values[]}], a value per label), and a legend. */
export function stackedBars(title, labels, series) {
  const width = 520, left = 34;
  const band = (width - left - 10) / Math.max(1, labels.length);
  const layout = labelLayout(labels, band);
  // turned labels need room below the bars: as much as their widest, at 35 degrees
  const bottom = layout.turned ? Math.min(110, 30 + Math.ceil(layout.widest * 0.6)) : 40;
  const height = 200 + bottom;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + s.values[i], 0));
  const top = Math.ceil(Math.max(1, ...totals) / 4) * 4; // whole numbers on the five grid lines
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": title, class: "chart", "data-total": totals.reduce((a, b) => a + b, 0) });
  for (let k = 0; k <= 4; k += 1) {
    const y = height - bottom - (k / 4) * (height - bottom - 16);
    svg.append(svgEl("line", { x1: left, x2: width - 10, y1: y, y2: y, stroke: "#e2e5ea" }), svgText(left - 4, y + 4, String(Math.round((top * k) / 4)), "end"));
  }
  labels.forEach((label, i) => {
    let y = height - bottom;
    for (const s of series) {
      const value = s.values[i];
      const barHeight = (value / top) * (height - bottom - 16);
      if (value) svg.append(svgEl("rect", { x: left + i * band + band * 0.15, y: y - barHeight, width: band * 0.7, height: barHeight, fill: s.color }));
      y -= barHeight;
    }
    if (i % layout.step) return;
    const x = left + i * band + band / 2, base = height - bottom + 14;
    const text = svgText(x, base, label, layout.turned ? "end" : "middle");
    if (layout.turned) text.setAttribute("transform", `rotate(-35 ${x} ${base - 4})`);
    svg.append(text);
  });
  let legend = left;
  for (const s of series) {
    svg.append(svgEl("rect", { x: legend, y: height - 14, width: 10, height: 10, fill: s.color }), svgText(legend + 14, height - 5, s.name));
    legend += 14 + s.name.length * 11 + 16;
  }
  return h("div", { class: "panel" }, h("h3", { text: title }), svg);
}
