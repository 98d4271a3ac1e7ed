// One coverage-over-time chart per target, drawn as inline SVG from a series/… payload:
// the served unit's line (thick), each reporting unit's (thin), the target (dashed,
// horizontal) and the deadline (dashed, vertical), as `wardpulse report` draws them.
import { pick, t, percent, day } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const W = 640, H = 260, L = 48, R = 16, T = 14, B = 30;

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

const dayMs = (d) => Date.parse(d + "T00:00:00Z");

export function drawChart(series) {
  const units = series.units || [];
  let first = Infinity, last = -Infinity, top = Math.max(1, series.target || 0);
  for (const u of units) for (const [d, v] of u.points || []) {
    const x = dayMs(d);
    if (x < first) first = x;
    if (x > last) last = x;
    if (v > top) top = v;
  }
  const deadline = series.deadline ? dayMs(series.deadline) : NaN;
  if (!isNaN(deadline)) { first = Math.min(first, deadline); last = Math.max(last, deadline); }
  if (!isFinite(first)) { first = last = Date.now(); }
  if (last === first) last = first + 86400000;
  const x = (ms) => L + (ms - first) / (last - first) * (W - L - R);
  const y = (v) => T + (1 - v / top) * (H - T - B);

  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart",
    "aria-label": `${pick(series.name)} — ${t("target")} ${percent(series.target)}` });
  svg.appendChild(el("title", {}, pick(series.name)));
  for (let v = 0; v <= top + 1e-9; v += 0.25) {
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    svg.appendChild(el("text", { x: L - 4, y: y(v) + 4, class: "axis", "text-anchor": "end" },
      Math.round(v * 100) + "%"));
  }
  svg.appendChild(el("text", { x: L, y: H - 8, class: "axis" }, day(new Date(first).toISOString())));
  svg.appendChild(el("text", { x: W - R, y: H - 8, class: "axis", "text-anchor": "end" },
    day(new Date(last).toISOString())));
  if (series.target != null) {
    svg.appendChild(el("line", { x1: L, x2: W - R, y1: y(series.target), y2: y(series.target),
      class: "target" }));
    svg.appendChild(el("text", { x: L + 4, y: y(series.target) - 4, class: "label" },
      `${t("target")} ${percent(series.target)}`));
  }
  if (!isNaN(deadline)) {
    svg.appendChild(el("line", { x1: x(deadline), x2: x(deadline), y1: T, y2: H - B,
      class: "deadline" }));
    svg.appendChild(el("text", { x: x(deadline) - 4, y: T + 12, class: "label",
      "text-anchor": "end" }, `${t("deadline")} ${day(series.deadline)}`));
  }
  // Reporting units first, the served unit last so that its line stays on top.
  const ordered = [...units].sort((a, b) => (a.scope === "district") - (b.scope === "district"));
  for (const u of ordered) {
    const pts = (u.points || []).map(([d, v]) => `${x(dayMs(d)).toFixed(1)},${y(v).toFixed(1)}`);
    if (!pts.length) continue;
    const line = el("polyline", { points: pts.join(" "),
      class: u.scope === "district" ? "line-unit" : "line-ward", "data-scope": u.scope });
    line.appendChild(el("title", {}, `${pick(u.name) || u.scope}: ${percent(u.points.at(-1)[1])}`));
    svg.appendChild(line);
  }
  return svg;
}
