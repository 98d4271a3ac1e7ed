// The officer's commands (issue 12's contract): acknowledge, silence, end a silence, each
// published on control/<district>/<command> and answered on control/<district>/reply/<id>.
// A login is an officer's when its user name starts with "officer-" (provision-ward.sh
// --role officer names them so); the broker's ACL is what really decides.
import { t, instant } from "./i18n.js";
import { h } from "./view.js";
import { ROOT } from "./state.js";

export const isOfficer = (user) => /^officer-/.test(user || "");

let counter = 0;
const requestId = () => `web-${Date.now().toString(36)}-${++counter}`;

// The plan's offset, as the aggregator's instants carry it ("+07:00").
function offsetOf(sample) {
  const m = /([+-]\d\d:\d\d|Z)$/.exec(sample || "");
  return m ? m[1] : "+07:00";
}

export function createOfficer({ client, user, district, status, sampleInstant }) {
  const pending = new Map();

  function send(command, body) {
    const id = requestId();
    const payload = { v: 1, id, by: user, ...body };
    pending.set(id, command);
    client.publish(`${ROOT}control/${district}/${command}`, JSON.stringify(payload), { qos: 1 },
      (err) => { if (err) status(`${t("reply_err")}: ${err.message}`, false); });
    status(t("sent"), null, id);
  }

  function onReply(id, p) {
    if (!pending.has(id)) return;
    pending.delete(id);
    if (p && p.ok) status(`${t("reply_ok")}${p.silence ? " (" + p.silence + ")" : ""}`, true, id);
    else status(`${t("reply_err")}: ${(p && p.error) || "?"}`, false, id);
  }

  function ask(title, fields, onSubmit) {
    const dialog = document.getElementById("command-dialog");
    const form = h("form", { method: "dialog", class: "command" },
      h("h3", {}, title), ...fields,
      h("menu", {}, h("button", { value: "cancel", type: "submit", formnovalidate: true }, t("cancel")),
        h("button", { value: "send", type: "submit", class: "primary" }, t("send"))));
    dialog.replaceChildren(form);
    dialog.onclose = () => {
      if (dialog.returnValue === "send") onSubmit(new FormData(form));
    };
    dialog.showModal();
  }

  const field = (label, name, attrs) => h("label", {}, label, h("input", { name, ...attrs }));

  function acknowledge(a) {
    ask(`${t("ack")}: ${a.rule} · ${a.scope}`, [field(t("note"), "note", { maxlength: 500 })],
      (f) => send("ack", { rule: a.rule, scope: a.scope, note: f.get("note") || "" }));
  }

  function silence(a) {
    const later = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 16);
    ask(t("silence"), [
      field(t("rule"), "rule", { value: a ? a.rule : "" }),
      field(t("scope"), "scope", { value: a ? a.scope : "" }),
      field(t("until"), "until", { type: "datetime-local", required: true, value: later }),
      field(t("comment"), "comment", { maxlength: 500 })],
    (f) => send("silence", { rule: f.get("rule") || null, scope: f.get("scope") || null,
      until: `${f.get("until")}:00${offsetOf(sampleInstant())}`, comment: f.get("comment") || "" }));
  }

  function unsilence(s) { send("unsilence", { silence: s.id }); }

  return {
    onReply,
    alertActions: (a) => h("span", { class: "actions" },
      a.acknowledged ? null : h("button", { class: "ack-btn", onclick: () => acknowledge(a) }, t("ack")),
      h("button", { class: "silence-btn", onclick: () => silence(a) }, t("silence"))),
    silenceActions: (s) => h("button", { class: "unsilence-btn", onclick: () => unsilence(s),
      title: `${t("until")} ${instant(s.until)}` }, t("unsilence")),
    silenceNew: () => silence(null),
  };
}
