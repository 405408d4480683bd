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

/** A panel with a bar per label, stacked by series ([{name, color, values[]}], a value per label), and a legend. */
export function stackedBars(title, labels, series) {
  const width = 520, height = 240, left = 34, bottom = 40;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + s.values[i], 0));
  const top = Math.ceil(Math.max(1, ...totals) / 4) * 4; // whole numbers on the five grid lines
  const band = (width - left - 10) / Math.max(1, labels.length);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": title, class: "chart" });
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
    svg.append(svgText(left + i * band + band / 2, height - bottom + 14, label, "middle"));
  });
  let legend = left;
  for (const s of series) {
    svg.append(svgEl("rect", { x: legend, y: height - 14, width: 10, height: 10, fill: s.color }), svgText(legend + 14, height - 5, s.name));
    legend += 14 + s.name.length * 11 + 16;
  }
  return h("div", { class: "panel" }, h("h3", { text: title }), svg);
}
