// What the page knows: the retained state of the topics it reads, folded message by message.
// No DOM and no MQTT here: apply(topic, text) is the one entry point (tested through the page).

export const ROOT = "wardpulse/v1/";

export function createState(district) {
  return {
    district,            // the served unit's code (a district, or a city on a city aggregator)
    units: new Map(),    // scope → {scope, name, summary, level, status}
    alerts: new Map(),   // "<scope>/<rule>" → alert payload (firing)
    feed: [],            // events/alert transitions, newest first
    series: new Map(),   // rule → series payload
    silences: [],
    aggregator: null,
    clock: 0,            // the aggregator's clock (ms), from the newest instant seen
    hasSummary: false,
  };
}

function unit(state, scope) {
  let u = state.units.get(scope);
  if (!u) {
    u = { scope, name: null, summary: null, level: null, status: null };
    state.units.set(scope, u);
  }
  return u;
}

function tick(state, text) {
  const ms = Date.parse(text || "");
  if (!isNaN(ms) && ms > state.clock) state.clock = ms;
}

// The topics the page subscribes to, once the served unit's code is known (the contract).
export function topics(district) {
  return ["status/+", `alert/${district}/#`, "events/alert", `level/${district}/#`,
    `summary/${district}/#`, `series/${district}/#`, `silences/${district}`,
    "aggregator/status", "aggregator/stats", `control/${district}/reply/+`].map((s) => ROOT + s);
}

// Folds one message into the state; returns what changed ("units", "alerts", …) or null.
export function apply(state, topic, text) {
  if (!topic.startsWith(ROOT)) return null;
  const parts = topic.slice(ROOT.length).split("/");
  let p = null;
  if (text) {
    try { p = JSON.parse(text); } catch (e) { return null; }
  }
  const [kind] = parts;
  if (kind === "status" && parts.length === 2) {
    // Only units this aggregator serves get a row: the statuses of others are kept aside.
    const u = unit(state, parts[1]);
    u.status = p;
    return "units";
  }
  if (kind === "summary" && parts.length === 3 && parts[1] === state.district) {
    if (!p) { state.units.delete(parts[2]); return "units"; }
    const u = unit(state, parts[2]);
    u.summary = p;
    u.name = p.name || u.name;
    state.hasSummary = true;
    tick(state, p.at);
    return "units";
  }
  if (kind === "level" && parts.length === 3 && parts[1] === state.district) {
    const u = unit(state, parts[2]);
    u.level = p;
    if (p && !u.name && p.name) u.name = p.name;
    return "units";
  }
  if (kind === "alert" && parts.length === 4 && parts[1] === state.district) {
    const key = parts[2] + "/" + parts[3];
    if (p && p.state !== "resolved") state.alerts.set(key, p); else state.alerts.delete(key);
    if (p) tick(state, p.since);
    return "alerts";
  }
  if (kind === "events" && p) {
    if (p.district && state.district && p.district !== state.district) return null;
    state.feed.unshift({ ...p, received: Date.now() });
    state.feed.length = Math.min(state.feed.length, 100);
    return "feed";
  }
  if (kind === "series" && parts.length === 3 && parts[1] === state.district) {
    if (p) state.series.set(parts[2], p); else state.series.delete(parts[2]);
    if (p) tick(state, p.at);
    return "series";
  }
  if (kind === "silences" && parts[1] === state.district) {
    state.silences = (p && p.silences) || [];
    return "silences";
  }
  if (kind === "aggregator" && parts[1] === "status") {
    state.aggregator = p;
    return "aggregator";
  }
  if (kind === "aggregator" && parts[1] === "stats" && p) {
    tick(state, p.at);
    return "clock";
  }
  return null;
}

// The units in the table: the served unit first, then by code. A unit shows once it has
// a summary or a level from this aggregator (a status alone may be another district's ward).
export function rows(state) {
  const list = [...state.units.values()].filter((u) => u.summary || u.level);
  list.sort((a, b) => (a.scope === "district" ? -1 : b.scope === "district" ? 1
    : a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  return list;
}

export function firingCount(state, scope) {
  let n = 0;
  for (const a of state.alerts.values()) if (a.scope === scope) n++;
  return n;
}

// The status of a unit: its own status/<code> (the district row has none).
export function link(u) {
  return u.status ? u.status.state : null;
}

export function now(state) { return state.clock || Date.now(); }
