// The page: login → MQTT over WebSockets to the broker that served it → retained state →
// the views, re-drawn a few times a second at most however many messages arrive.
/* global mqtt */
import { t, setLang, getLang } from "./i18n.js";
import { createState, apply, topics, ROOT } from "./state.js";
import { renderUnits, renderAlerts, renderFeed, renderSilences, renderCharts, renderReports, h }
  from "./view.js";
import { isOfficer, createOfficer } from "./officer.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let state = null, client = null, officer = null, reportsIndex = null, reportsTimer = 0;
const dirty = new Set();

async function config() {
  try {
    const r = await fetch("config.json", { cache: "no-store" });
    if (r.ok) return await r.json();
  } catch (e) { /* the defaults below */ }
  return {};
}

// ws: or wss: like the page, on the same host; the port from config.json (the websockets
// listener's), else the page's own (the listener that served it).
function brokerUrl(cfg) {
  const secure = location.protocol === "https:";
  const port = params.get("port") || (secure ? cfg.wss_port : cfg.ws_port) || cfg.port || location.port;
  return `${secure ? "wss" : "ws"}://${location.hostname}${port ? ":" + port : ""}${cfg.path || ""}`;
}

function render() {
  if (!state) return;
  const all = dirty.has("all");
  if (all || dirty.has("units") || dirty.has("alerts") || dirty.has("clock")) {
    renderUnits(state, $("units-body"));
    $("units").dataset.rows = $("units-body").children.length;
  }
  if (all || dirty.has("alerts")) renderAlerts(state, $("alerts"), officer && officer.alertActions);
  if (all || dirty.has("feed")) renderFeed(state, $("feed"));
  if (all || dirty.has("series")) renderCharts(state, $("charts"));
  if (all || dirty.has("silences")) renderSilences(state, $("silences"), officer && officer.silenceActions);
  if (all || dirty.has("aggregator")) {
    const a = state.aggregator;
    $("aggregator").textContent = a ? `${t("aggregator")}: ${t(a.state === "online" ? "online" : "offline")}`
      + (a.version ? ` (${a.version})` : "") : "";
  }
  if (all) renderReports(reportsIndex, $("reports"));
  dirty.clear();
}

// A burst of retained messages (hundreds at login on a city's broker) is drawn in a few
// passes, not one per message: at most one pass per RENDER_MS, each in an animation frame.
const RENDER_MS = 150;
function changed(what) {
  if (!dirty.size) setTimeout(() => requestAnimationFrame(render), RENDER_MS);
  dirty.add(what);
}

async function loadReports() {
  try {
    const r = await fetch("reports/index.json", { cache: "no-store" });
    reportsIndex = r.ok ? await r.json() : null;
  } catch (e) { reportsIndex = null; }
  renderReports(reportsIndex, $("reports"));
}

function connection(text, kind) {
  $("connection").textContent = text;
  $("connection").className = "connection " + kind;
  document.body.dataset.connection = kind;
}

function commandStatus(text, ok) {
  const box = $("command-status");
  box.textContent = (ok === true ? "✓ " : ok === false ? "✗ " : "… ") + text;
  box.className = ok === true ? "ok" : ok === false ? "err" : "";
}

function subscribeServed(district) {
  // A reconnection (clean session: the subscriptions are gone) keeps what the page knows.
  // Firing alerts come back as retained messages; one resolved meanwhile does not (its
  // retained message was cleared), so the old set is dropped.
  if (!state || state.district !== district) state = createState(district);
  else state.alerts.clear();
  $("district").textContent = district;
  document.body.dataset.district = district;
  client.subscribe(topics(district), { qos: 1 });
  changed("all");
}

async function login(user, password) {
  const cfg = await config();
  sessionStorage.setItem("wardpulse-login", JSON.stringify({ user, password }));
  connection(t("connecting"), "connecting");
  client = mqtt.connect(brokerUrl(cfg), {
    username: user, password, clientId: `${user}-web-${Math.random().toString(16).slice(2, 10)}`,
    clean: true, reconnectPeriod: 3000, connectTimeout: 10000, protocolVersion: 4,
  });
  const known = params.get("district");
  let discovering = !known;
  client.on("connect", () => {
    connection(t("connected"), "connected");
    $("login").hidden = true;
    $("board").hidden = false;
    const served = known || (state && state.district);
    if (served) subscribeServed(served);
    else client.subscribe([ROOT + "aggregator/status", ROOT + "level/+/+", ROOT + "summary/+/+"], { qos: 1 });
    loadReports();
    clearInterval(reportsTimer);
    reportsTimer = setInterval(loadReports, 60000);
  });
  client.on("message", (topic, payload) => {
    const text = payload.toString();
    if (discovering) {
      // The served unit's code: the aggregator's status names it (once part A adds it), else
      // the first level/<district>/… or summary/<district>/… this broker holds.
      let d = null;
      const parts = topic.slice(ROOT.length).split("/");
      if (parts[0] === "aggregator") { try { d = JSON.parse(text).district; } catch (e) { /* */ } }
      else if (parts.length === 3) d = parts[1];
      if (!d) return;
      discovering = false;
      client.unsubscribe([ROOT + "level/+/+", ROOT + "summary/+/+"]);
      subscribeServed(d);
      return;
    }
    if (!state) return;
    const reply = new RegExp(`^${ROOT}control/[^/]+/reply/(.+)$`).exec(topic);
    if (reply) { if (officer) officer.onReply(reply[1], text ? JSON.parse(text) : null); return; }
    const what = apply(state, topic, text);
    if (what) changed(what);
  });
  // A login that never got through (a wrong password: mosquitto may close the WebSocket
  // before the refusal arrives) is not retried: the form comes back with the reason.
  let everConnected = false;
  const refuse = (why) => {
    connection(why ? `${t("refused")}: ${why}` : t("refused"), "refused");
    client.end(true);
    sessionStorage.removeItem("wardpulse-login");
    $("login").hidden = false;
    $("board").hidden = true;
  };
  client.on("connect", () => { everConnected = true; });
  client.on("close", () => {
    if (!everConnected) refuse("");
    else connection(t("disconnected"), "offline");
  });
  client.on("error", (err) => {
    if (/auth|Not authorized|Bad user/i.test(err.message)) refuse(err.message);
  });
  officer = isOfficer(user) ? createOfficer({ client, user, district: known, status: commandStatus,
    sampleInstant: () => (state && [...state.alerts.values()][0] || {}).since }) : null;
  if (officer && !known) {
    // The district is learnt after connecting: build the officer's helper once it is.
    const wait = setInterval(() => {
      if (!state) return;
      clearInterval(wait);
      officer = createOfficer({ client, user, district: state.district, status: commandStatus,
        sampleInstant: () => ([...state.alerts.values()][0] || {}).since });
      changed("all");
    }, 100);
  }
  document.body.dataset.role = officer ? "officer" : "operator";
  $("role").textContent = `${user} (${t(officer ? "officer" : "operator")})`;
}

function translate() {
  document.documentElement.lang = getLang();
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  $("lang").textContent = getLang() === "vi" ? "English" : "Tiếng Việt";
  if (state) changed("all");
}

function start() {
  setLang(sessionStorage.getItem("wardpulse-lang") || "vi");
  translate();
  $("lang").addEventListener("click", () => {
    setLang(getLang() === "vi" ? "en" : "vi");
    sessionStorage.setItem("wardpulse-lang", getLang());
    translate();
  });
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    login($("user").value.trim(), $("password").value);
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem("wardpulse-login");
    if (client) client.end(true);
    location.reload();
  });
  $("silence-new").addEventListener("click", () => officer && officer.silenceNew());
  const saved = sessionStorage.getItem("wardpulse-login");
  if (saved) { const s = JSON.parse(saved); login(s.user, s.password); }
  window.wardpulse = { get state() { return state; }, h };
}

start();
