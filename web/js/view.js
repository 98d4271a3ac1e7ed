// Renders the state into the page. Every text from a payload goes in as text, never markup.
import { t, pick, instant, age, percent, severityWord, levelWords } from "./i18n.js";
import { rows, firingCount, link, now } from "./state.js";
import { drawChart } from "./chart.js";

export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  return e;
}

function unitName(u) {
  if (u.scope === "district") return pick(u.name) || t("whole");
  return pick(u.name) || u.scope;
}

export function levelBadge(level) {
  const w = levelWords(level);
  if (!w) return h("span", { class: "muted" }, t("none"));
  return h("span", { class: `level level-${w.colour}`, "data-level": w.level },
    h("span", { class: "swatch", "aria-hidden": "true" }), w.words,
    level.incomplete || level.complete === false ? h("small", {}, ` (${t("incomplete")})`) : null);
}

function coverageCell(summary) {
  const list = (summary && summary.coverage) || [];
  if (!list.length) return h("span", { class: "muted" }, t("none"));
  return h("div", { class: "bars" }, list.map((c) => {
    const frac = Math.max(0, Math.min(1, (c.value || 0) / (c.target || 1)));
    return h("div", { class: "bar-row", "data-rule": c.rule,
      title: `${pick(c.name)}: ${percent(c.value)} / ${t("target")} ${percent(c.target)}` },
    h("span", { class: "bar-name" }, pick(c.name) || c.rule),
    h("span", { class: "bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100,
      "aria-valuenow": Math.round(frac * 100) },
    h("span", { class: frac >= 1 ? "fill done" : "fill", style: `width:${(frac * 100).toFixed(1)}%` })),
    h("span", { class: "bar-pct" }, percent(c.value)));
  }));
}

export function renderUnits(state, tbody) {
  const nowMs = now(state);
  const frag = document.createDocumentFragment();
  for (const u of rows(state)) {
    const s = u.summary;
    const level = (s && s.level) || u.level;
    const r = s && s.reporting;
    const st = link(u);
    const alerts = s && s.alerts ? s.alerts.firing : firingCount(state, u.scope);
    frag.appendChild(h("tr", { "data-scope": u.scope, class: u.scope === "district" ? "served" : "" },
      h("th", { scope: "row", "data-label": t("unit") }, unitName(u),
        h("small", { class: "code" }, u.scope === "district" ? state.district : u.scope)),
      h("td", { "data-label": t("last_report") }, s && s.last_report
        ? [instant(s.last_report), h("small", {}, age(s.last_report, nowMs))] : t("none")),
      h("td", { "data-label": t("link") }, st
        ? h("span", { class: `link link-${st}` }, st === "online" ? "● " : "○ ", t(st))
        : h("span", { class: "muted" }, u.scope === "district" ? t("none") : t("unknown"))),
      h("td", { "data-label": t("reporting") }, r
        ? `${percent(r.completeness)} / ${percent(r.timeliness)}` : t("none")),
      h("td", { "data-label": t("level") }, levelBadge(level)),
      h("td", { "data-label": t("coverage") }, coverageCell(s)),
      h("td", { "data-label": t("firing"), class: alerts ? "firing-count hot" : "firing-count" },
        alerts ? `⚠ ${alerts}` : "0")));
  }
  tbody.replaceChildren(frag);
}

// The firing alerts, most severe first; `actions(alert)` adds the officer's buttons.
const RANK = { critical: 0, warning: 1, info: 2 };
export function renderAlerts(state, list, actions) {
  const alerts = [...state.alerts.values()].sort((a, b) =>
    (RANK[a.severity] ?? 3) - (RANK[b.severity] ?? 3) || (a.since < b.since ? 1 : -1));
  if (!alerts.length) { list.replaceChildren(h("li", { class: "muted" }, t("no_alerts"))); return; }
  list.replaceChildren(...alerts.map((a) => {
    const sev = severityWord(a.severity);
    return h("li", { class: `alert sev-${a.severity}`, "data-rule": a.rule, "data-scope": a.scope },
      h("span", { class: "sev" }, `${sev.icon} ${sev.word}`),
      h("span", { class: "summary" }, pick(a.summary)),
      h("small", { class: "meta" }, `${t("since")} ${instant(a.since)} · ${a.rule} · ${a.scope}`),
      a.acknowledged ? h("span", { class: "mark ack" }, `✓ ${t("acked")} ${t("by")} ${a.acknowledged.by}`,
        a.acknowledged.note ? ` — ${a.acknowledged.note}` : "") : null,
      a.silenced ? h("span", { class: "mark silenced" },
        `⊘ ${t("silenced")} ${t("until")} ${instant(a.silenced.until)} (${a.silenced.by})`) : null,
      actions ? actions(a) : null);
  }));
}

export function renderFeed(state, list) {
  if (!state.feed.length) { list.replaceChildren(h("li", { class: "muted" }, t("no_feed"))); return; }
  list.replaceChildren(...state.feed.slice(0, 50).map((e) => {
    const sev = severityWord(e.severity);
    const what = e.state === "resolved" ? `✓ ${t("resolved")}` : e.repeat ? `↻ ${t("repeat")}`
      : `${sev.icon} ${t("fired")} (${sev.word})`;
    return h("li", { class: `event state-${e.state}` }, h("span", { class: "when" }, instant(e.since)),
      h("span", { class: "what" }, what), h("span", {}, pick(e.summary)));
  }));
}

export function renderSilences(state, list, end) {
  if (!state.silences.length) { list.replaceChildren(h("li", { class: "muted" }, t("no_silences"))); return; }
  list.replaceChildren(...state.silences.map((s) => h("li", { "data-silence": s.id },
    `⊘ ${s.rule || "*"} · ${s.scope || "*"} — ${t("until")} ${instant(s.until)} (${s.by})`,
    s.comment ? ` — ${s.comment}` : "", end ? end(s) : null)));
}

export function renderCharts(state, box) {
  const list = [...state.series.values()];
  if (!list.length) { box.replaceChildren(h("p", { class: "muted" }, t("no_charts"))); return; }
  box.replaceChildren(...list.map((s) => h("figure", { class: "chart-box", "data-rule": s.rule },
    h("figcaption", {}, `${pick(s.name) || s.rule} — ${t("target")} ${percent(s.target)}`,
      s.deadline ? `, ${t("deadline")} ${instant(s.deadline)}` : ""),
    drawChart(s),
    h("p", { class: "legend" }, h("span", { class: "key key-unit" }), t("whole"), " ",
      h("span", { class: "key key-ward" }), t("units"), " ",
      h("span", { class: "key key-target" }), t("target"), " ",
      h("span", { class: "key key-deadline" }), t("deadline")))));
}

export function renderReports(index, list) {
  const reports = (index && index.reports) || [];
  if (!reports.length) { list.replaceChildren(h("li", { class: "muted" }, t("no_reports"))); return; }
  list.replaceChildren(...reports.map((r) => h("li", {},
    h("a", { href: "reports/" + encodeURIComponent(r.file) },
      `${t("week")} ${r.week}`), ` (${instant(r.from)} – ${instant(r.to)})`)));
}
