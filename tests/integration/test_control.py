#!/usr/bin/python3
"""Officers' commands end to end (issue 12, docs/topics-and-payloads.md "Acknowledge and
silence"): a real mosquitto, the aggregator on a simulated clock (10 minutes per real
second from 2022-05-03 14:00 +07:00), data-quality alerts provoked by reports as in
test_aggregator_alerts.py, and an alert_command that appends "<state> <scope>" to a file.

What is checked is what the officer and the district office see: the reply on
control/001/reply/<id>, the retained alert (acknowledged, silenced), silences/001, the
hook's file, and the audit in the aggregator's control_log.
"""
import json
import os
import sqlite3
from datetime import datetime, timedelta, timezone

from harness import SRC, Subscriber, TempDir, cli, run_tests, wait_for
from test_aggregator_alerts import Setup, rule

CONTROL = "wardpulse/v1/control/001/"
SILENCES = "wardpulse/v1/silences/001"
RATE = 600
TZ = timezone(timedelta(hours=7))
START = datetime(2022, 5, 3, 14, 0, tzinfo=TZ)

SEVERE = rule("severe-treated", "check", severity="critical",
              relation={"left": "severe_treated", "op": ">=", "right": "severe_active"})
FACILITIES = rule("facilities-on-time", "check",
                  relation={"left": "facilities_reported_on_time", "op": ">=",
                            "right": "facilities_total"})

try:
    import jsonschema

    def schema(name):
        with open(os.path.join(SRC, "schemas", name + ".schema.json"), encoding="utf-8") as f:
            return json.load(f)
except ImportError:
    jsonschema = None


class Control:
    """Setup (broker, aggregator with a hook, subscriber on alerts) plus a client on the
    replies and silences/001."""

    def __init__(self, tmp):
        self.hook = os.path.join(tmp, "hook.txt")
        self.s = Setup(tmp, [SEVERE, FACILITIES], clock_start=START.isoformat(),
                       clock_rate=RATE, alert_command="echo \"$WP_ALERT_STATE $WP_ALERT_SCOPE\" >> "
                       + self.hook)
        self.s.agg.subscribed()
        self.anchor = datetime.fromisoformat(self.s.settings["clock_anchor"])
        self.sub = Subscriber(self.s.broker.port, CONTROL + "reply/#", SILENCES,
                              client_id="test-control-%d" % os.getpid())

    def clock(self):
        """The aggregator's simulated clock now."""
        return START + (datetime.now(timezone.utc) - self.anchor) * RATE

    def command(self, command, payload):
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        self.s.sub.client.publish(CONTROL + command, text, qos=1)

    def silence(self, rid, ahead, **fields):
        """Sends a silence until the clock's now + ahead (whole seconds); returns that
        instant and the reply."""
        until = (self.clock() + ahead).replace(microsecond=0)
        self.command("silence", dict({"v": 1, "id": rid, "by": "bs.lan",
                                      "until": until.isoformat()}, **fields))
        return until, self.reply(rid)

    def reply(self, rid):
        got = wait_for(lambda: self.sub.payloads(CONTROL + "reply/" + rid), "reply " + rid)
        if jsonschema:
            jsonschema.validate(got[-1], schema("control_reply"))
        return got[-1]

    def silences(self):
        out = [p for p in self.sub.payloads(SILENCES) if p]
        if jsonschema:
            for p in out:
                jsonschema.validate(p, schema("silences"))
        return out

    def hooked(self):
        try:
            with open(self.hook, encoding="utf-8") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def audit(self):
        with sqlite3.connect("file:%s?mode=ro" % self.s.agg.db, uri=True) as db:
            return db.execute("SELECT topic, requested_by, outcome FROM control_log "
                              "ORDER BY id").fetchall()

    def retained(self, scope, rule_id):
        return self.s.retained_topic(scope, rule_id)

    def stop(self):
        """Closes the test's client and stops the aggregator, which must exit cleanly."""
        self.sub.close()
        assert self.s.agg.stop() == 0, self.s.agg.output()


def severe(c, ward, treated, active=3):
    c.s.report(ward, "2022-05-03", {"severe_active": active, "severe_treated": treated})


def test_ack_is_recorded_shown_on_the_retained_alert_and_ends_with_the_episode():
    with TempDir() as tmp:
        c = Control(tmp)
        severe(c, "00001", 1)
        c.s.wait_event("severe-treated", "00001", "firing")
        c.command("ack", {"v": 1, "id": "a1", "by": "bs.lan", "rule": "severe-treated",
                          "scope": "00001", "note": "Đã gọi phường"})
        assert c.reply("a1") == {"v": 1, "id": "a1", "ok": True}
        shown = wait_for(lambda: (c.retained("00001", "severe-treated") or {}).get("acknowledged"),
                         "acknowledged on the retained alert")
        assert shown["by"] == "bs.lan" and shown["note"] == "Đã gọi phường", shown
        assert shown["at"].startswith("2022-05-03T") and shown["at"].endswith("+07:00"), shown
        # A retained update, not an event.
        assert len(c.s.events("severe-treated", "00001")) == 1, c.s.events()
        assert c.audit() == [(CONTROL + "ack", "bs.lan", "ok")], c.audit()
        out = cli("alerts", "--db", c.s.agg.db, "--config", "/dev/null").stdout
        assert "  Đã xác nhận: bs.lan\n" in out, out
        # The resolve clears it, and a new episode is not acknowledged.
        severe(c, "00001", 3)
        resolved = c.s.wait_event("severe-treated", "00001", "resolved")
        assert "acknowledged" not in resolved, resolved
        severe(c, "00001", 2)
        again = c.s.wait_event("severe-treated", "00001", "firing", count=2)
        assert "acknowledged" not in again, again
        assert "acknowledged" not in c.retained("00001", "severe-treated")
        c.stop()


def test_silence_holds_the_hook_survives_a_restart_and_expires_on_the_clock():
    with TempDir() as tmp:
        c = Control(tmp)
        until, r = c.silence("s1", timedelta(minutes=180), rule="severe-treated", scope=None,
                             comment="Phường đang rà soát số liệu")
        assert r["ok"] is True and r["silence"].startswith("s-"), r
        sid = r["silence"]
        listed = wait_for(lambda: [p for p in c.silences() if p["silences"]], "silences/001")[-1]
        assert listed["silences"][0]["id"] == sid and listed["silences"][0]["rule"] == "severe-treated"
        assert listed["silences"][0]["scope"] is None and listed["silences"][0]["by"] == "bs.lan"
        assert listed["silences"][0]["until"] == until.isoformat(), listed
        # A silenced alert fires, is recorded and published with "silenced", but its hook
        # does not run; another rule's does (the hooks run in order: 00004's would be first).
        severe(c, "00004", 1)
        fired = c.s.wait_event("severe-treated", "00004", "firing")
        assert fired["silenced"] == {"id": sid, "until": until.isoformat(), "by": "bs.lan"}, fired
        out = cli("alerts", "--db", c.s.agg.db, "--config", "/dev/null").stdout
        assert "  Tạm tắt thông báo đến %s\n" % until.isoformat() in out, out
        c.s.report("00007", "2022-05-03", {"facilities_reported_on_time": 1, "facilities_total": 4})
        c.s.wait_event("facilities-on-time", "00007", "firing")
        wait_for(lambda: "firing 00007" in c.hooked(), "the hook of the unsilenced alert")
        assert c.hooked() == ["firing 00007"], c.hooked()
        # A restart: the silence is still in force.
        assert c.s.agg.stop() == 0, c.s.agg.output()
        c.s.start()
        c.s.agg.subscribed()
        assert c.clock() < until, "the machine is too slow for this test's clock"
        severe(c, "00006", 1)
        fired = c.s.wait_event("severe-treated", "00006", "firing")
        assert fired["silenced"]["id"] == sid, fired
        # The silence expires on the clock: silences/001 empties, the alerts lose
        # "silenced", and hooks run again.
        wait_for(lambda: c.silences() and c.silences()[-1]["silences"] == [], "expiry",
                 timeout=40)
        assert c.clock() >= until
        wait_for(lambda: "silenced" not in (c.retained("00004", "severe-treated") or {"silenced": 1}),
                 "00004 no longer silenced")
        severe(c, "00010", 1)
        c.s.wait_event("severe-treated", "00010", "firing")
        wait_for(lambda: "firing 00010" in c.hooked(), "the hook after expiry")
        assert "firing 00004" not in c.hooked() and "firing 00006" not in c.hooked(), c.hooked()
        # The silenced alert's resolve is recorded and published.
        severe(c, "00006", 3)
        c.s.wait_event("severe-treated", "00006", "resolved")
        assert [a[2] for a in c.audit()] == ["ok: silence " + sid], c.audit()
        c.stop()


def test_unsilence_ends_a_silence():
    with TempDir() as tmp:
        c = Control(tmp)
        sid = c.silence("u1", timedelta(days=1), scope="00008")[1]["silence"]
        severe(c, "00008", 1)
        assert c.s.wait_event("severe-treated", "00008", "firing")["silenced"]["id"] == sid
        c.command("unsilence", {"v": 1, "id": "u2", "by": "bs.lan", "silence": sid})
        assert c.reply("u2") == {"v": 1, "id": "u2", "ok": True, "silence": sid}
        wait_for(lambda: c.silences()[-1]["silences"] == [], "silences/001 empty")
        wait_for(lambda: "silenced" not in c.retained("00008", "severe-treated"),
                 "the alert no longer silenced")
        c.stop()


def test_bad_commands_get_a_clear_error_and_are_audited():
    with TempDir() as tmp:
        c = Control(tmp)
        c.command("ack", "this is not JSON")
        r = c.reply("unknown")
        assert r["ok"] is False and "not valid JSON" in r["error"], r
        c.command("ack", {"v": 1, "id": "b2", "by": "bs.lan", "rule": "severe-treated"})
        r = c.reply("b2")
        assert r["ok"] is False and "scope" in r["error"], r
        c.command("ack", {"v": 1, "id": "b3", "by": "bs.lan", "rule": "severe-treated",
                          "scope": "00013"})
        r = c.reply("b3")
        assert r["error"] == "no alert of rule severe-treated on 00013", r
        c.command("silence", {"v": 1, "id": "b4", "by": "bs.lan", "rule": "severe-treated",
                              "until": "2022-05-01T00:00:00+07:00"})
        r = c.reply("b4")
        assert r["ok"] is False and r["error"].startswith(
            "until is in the past (2022-05-01T00:00:00+07:00; the aggregator's clock says 2022-05-03T"), r
        c.command("unsilence", {"v": 1, "id": "b5", "by": "bs.lan", "silence": "s-999"})
        r = c.reply("b5")
        assert r["error"] == "no silence s-999 in force (unknown, ended or expired)", r
        c.command("silence", {"v": 1, "id": "b7", "by": "bs.lan", "rule": None,
                              "until": "2022-06-01T00:00:00+07:00"})
        assert c.reply("b7")["error"] == "a silence needs a rule, a scope or both (both are null)"
        c.command("mute", {"v": 1, "id": "b6", "by": "bs.lan"})
        assert "unknown command" in c.reply("b6")["error"]
        # Hostile payloads: bytes that are not UTF-8, a JSON array, far too much.
        def unknown(n):
            return wait_for(lambda: len(c.sub.payloads(CONTROL + "reply/unknown")) >= n and
                            c.sub.payloads(CONTROL + "reply/unknown")[n - 1], "reply/unknown")

        c.s.sub.client.publish(CONTROL + "ack", b'{"v":1,"id":"h1","by":"\xff"}', qos=1)
        assert "not valid UTF-8" in unknown(2)["error"]
        c.command("silence", [1, 2, 3])
        assert unknown(3)["error"] == "(root): must be an object"
        c.command("unsilence", json.dumps({"v": 1, "id": "h3", "by": "x" * 10000}))
        assert "exceeds the limit" in unknown(4)["error"]
        assert c.s.agg.alive(), c.s.agg.output()
        audit = wait_for(lambda: len(c.audit()) == 10 and c.audit(), "10 audited commands")
        assert all(o.startswith("refused: ") for _, _, o in audit), audit
        assert [t for t, _, _ in audit] == [CONTROL + x for x in
                                            ("ack", "ack", "ack", "silence", "unsilence",
                                             "silence", "mute", "ack", "silence", "unsilence")]
        assert audit[0][1] is None and audit[1][1] == "bs.lan", audit
        assert c.silences()[-1]["silences"] == [], c.silences()
        c.stop()


if __name__ == "__main__":
    run_tests(globals())
