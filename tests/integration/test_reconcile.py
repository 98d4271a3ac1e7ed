"""What operators see after a broker crash is the truth: on every (re)connection the
aggregator checks the broker's retained wardpulse/v1/alert/001/# and level/001/# topics
against its database (aggregator/reconcile.c).

The broker here saves its persistence file only when it stops (no autosave_on_changes, an
autosave a day away), so `kill -9` loses everything it acknowledged since the last orderly
stop: a firing alert's retained message is gone, a resolved alert's firing message is back.
The aggregator keeps running through the crash and reconnects; what a newcomer's
`mosquitto_sub --retained-only` shows must end up exactly what the database says
(the firing alerts' payloads, the published levels), without a new event on
events/alert, and a broker that is right gets no publish at all.
"""
import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Aggregator, Broker, Subscriber, TempDir, publish, run_tests, wait_for
from test_aggregator_alerts import START, STOP, TASK, rule, write_plan

ROOT = "wardpulse/v1/"
NO_AUTOSAVE = {"autosave_on_changes": "false", "autosave_interval": "86400"}
LEVEL = rule("epidemic-level", "level", applies="both", severity="critical",
             alert_at_level=2, versions=[{
                 "id": "218", "document": "Quyết định 218/QĐ-BYT ngày 27/01/2022",
                 "valid_from": "2022-01-27",
                 "transmission": [{"indicator": "cases_new_community", "per": 100000,
                                   "thresholds": [20, 150, 600]}]}])


# One anchor for every start of a test's aggregator: a restarted one finds the simulated
# time gone on, as real time would have.
ANCHOR = {}


def start_aggregator(tmp, port, rules):
    anchor = ANCHOR.setdefault(tmp, datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
    agg = Aggregator(tmp, port, plan_dir=write_plan(tmp, rules), clock_start=START,
                     clock_rate=3600, clock_stop=STOP, alert_repeat=0, batch_delay="5ms",
                     clock_anchor=anchor)
    agg.start()
    wait_for(lambda: "connected to" in agg.output(), "aggregator connected")
    return agg


def retained(port):
    """What `mosquitto_sub --retained-only` shows a newcomer on alert/# and level/#:
    {topic: payload text}."""
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", ROOT + "alert/#",
                        "-t", ROOT + "level/#", "-v", "--retained-only", "-W", "1"],
                       capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        topic, _, payload = line.partition(" ")
        out[topic] = payload
    return out


def database_view(db_path):
    """What the database says the broker should retain, and whether every announcement was
    acknowledged by the broker (so that nothing is still on its way)."""
    with sqlite3.connect("file:%s?mode=ro" % db_path, uri=True) as db:
        alerts = db.execute("SELECT rule, scope, payload, payload_state, announced_rev = rev "
                            "FROM alerts").fetchall()
        levels = db.execute("SELECT scope, payload, announced FROM level_published").fetchall()
    want = {}
    for rid, scope, payload, state, _ in alerts:
        if state == "firing":
            want["%salert/001/%s/%s" % (ROOT, scope, rid)] = payload
    for scope, payload, _ in levels:
        want["%slevel/001/%s" % (ROOT, scope)] = payload
    settled = all(a[4] for a in alerts) and all(l[2] for l in levels)
    return want, settled


def alert_events(db_path):
    with sqlite3.connect("file:%s?mode=ro" % db_path, uri=True) as db:
        return db.execute("SELECT rule, scope, state FROM alert_events ORDER BY id").fetchall()


def passes(agg):
    """The aggregator's reconcile passes so far, from its log."""
    return agg.output().count("reconcile: the broker held")


def test_broker_crash_loses_retained_alerts_and_levels_and_they_come_back():
    with TempDir() as tmp:
        broker = Broker(tmp, settings=NO_AUTOSAVE).start()
        agg = start_aggregator(tmp, broker.port, [TASK, LEVEL])
        # Week 17 (25 Apr – 1 May): 10 cases in Phúc Xá = 69/100k → level 2, an alert.
        report = {"v": 1, "ward": "00001", "stream": "00000000000000a1", "seq": 1,
                  "period": "2022-04-28", "observed_at": "2022-04-28T16:00:00+07:00",
                  "values": {"cases_new_community": 10}}
        publish(broker.port, ROOT + "report/00001", report)

        def firing_and_acknowledged():
            want, settled = database_view(agg.db)
            return settled and len([t for t in want if "/alert/" in t]) == 2 \
                and len([t for t in want if "/level/" in t]) >= 2 and want
        want = wait_for(firing_and_acknowledged, "two alerts firing, the levels published, "
                        "all acknowledged by the broker")
        assert ROOT + "alert/001/00031/ward-scenario" in want, want
        assert ROOT + "alert/001/00001/epidemic-level" in want, want
        wait_for(lambda: retained(broker.port) == want, "the broker retains them")
        events = alert_events(agg.db)

        # The crash: nothing of this was saved; the aggregator reconnects by itself.
        broker.kill9()
        broker.start()
        wait_for(lambda: retained(broker.port) == want,
                 "the firing alerts and the levels retained again after the broker's crash")
        wait_for(lambda: "reconcile: republished" in agg.output(), "the republishing logged")
        assert alert_events(agg.db) == events, "no new event: %s" % alert_events(agg.db)

        # A broker that is right gets no publish: an aggregator restart finds all in place.
        watch = Subscriber(broker.port, ROOT + "alert/#", ROOT + "level/#", client_id="watch")
        wait_for(lambda: len(watch.messages) == len(want), "the watcher has the retained state")
        seen = len(watch.messages)
        assert agg.stop() == 0, agg.output()
        before = passes(agg)
        agg = start_aggregator(tmp, broker.port, [TASK, LEVEL])
        wait_for(lambda: passes(agg) > before, "the restarted aggregator's reconcile pass")
        assert "0 republished, 0 cleared" in agg.output().split("reconcile: the broker held")[-1]
        # No figures: a figure would complete one more day of the level's week and so
        # rightly change the level's payload (missing_days).
        publish(broker.port, ROOT + "report/00001", dict(report, seq=2, period="2022-04-29",
                                                           values={}))
        wait_for(lambda: len(export_reports(agg.db)) == 2, "a later report stored")
        assert watch.messages[seen:] == [], watch.messages[seen:]
        watch.close()
        assert agg.stop() == 0, agg.output()


def export_reports(db_path):
    with sqlite3.connect("file:%s?mode=ro" % db_path, uri=True) as db:
        return db.execute("SELECT ward, stream, seq FROM reports").fetchall()


def firing_task_alert(tmp):
    """Broker (no autosave) and aggregator with ward-scenario firing for 00031, retained."""
    broker = Broker(tmp, settings=NO_AUTOSAVE).start()
    agg = start_aggregator(tmp, broker.port, [TASK])
    want = wait_for(lambda: (lambda v: v[1] and FIRING in v[0] and v[0])(database_view(agg.db)),
                    "ward-scenario firing and acknowledged")
    wait_for(lambda: retained(broker.port) == want, "the broker retains it")
    return broker, agg, want


FIRING = ROOT + "alert/001/00031/ward-scenario"


def test_stale_retained_alerts_and_levels_are_fixed_at_a_reconnection():
    with TempDir() as tmp:
        broker, agg, want = firing_task_alert(tmp)
        # Stale retained messages, as a crash or an old installation leaves them: an alert
        # the database does not have, a level of a unit it never published, and the firing
        # alert with other figures.
        payload = json.loads(want[FIRING])
        publish(broker.port, ROOT + "alert/001/00001/ward-scenario", dict(payload, scope="00001"),
                retain=True)
        publish(broker.port, ROOT + "level/001/00099",
                {"v": 1, "district": "001", "scope": "00099", "level": 4}, retain=True)
        publish(broker.port, FIRING, dict(payload, value=12345), retain=True)
        wait_for(lambda: len(retained(broker.port)) == 3, "the stale messages retained")
        # An orderly restart of the broker; the aggregator reconnects.
        assert broker.stop() == 0
        broker.start()
        wait_for(lambda: retained(broker.port) == want,
                 "exactly the database's firing alert retained after a reconnection")
        out = agg.output()
        assert out.count("reconcile: cleared") == 2 and out.count("reconcile: republished") == 1, out
        assert alert_events(agg.db) == [("ward-scenario", "00031", "firing")]
        assert agg.stop() == 0, agg.output()


def test_broker_crash_brings_back_a_resolved_alert_and_it_is_cleared():
    with TempDir() as tmp:
        broker, agg, want = firing_task_alert(tmp)
        # An orderly restart saves the firing alert; the aggregator reconnects.
        assert broker.stop() == 0
        broker.start()
        wait_for(lambda: agg.output().count("connected to 127.0.0.1") == 2,
                 "the aggregator reconnected")
        # The alert resolves: its retained message is cleared, in the broker's memory only.
        publish(broker.port, ROOT + "report/00031", {
            "v": 1, "ward": "00031", "stream": "00000000000000a1", "seq": 1,
            "period": "2022-05-03", "observed_at": "2022-05-03T16:00:00+07:00",
            "values": {"cases_new_community": 0}, "tasks": {"ward-scenario": "done"}})
        wait_for(lambda: (lambda v: v[1] and v[0] == {})(database_view(agg.db)),
                 "resolved and acknowledged")
        wait_for(lambda: retained(broker.port) == {}, "the resolved alert cleared")
        # The crash brings the saved firing message back.
        broker.kill9()
        broker.start()
        wait_for(lambda: retained(broker.port) == {},
                 "nothing retained after the crash brought the resolved alert back")
        assert "reconcile: cleared " + FIRING in agg.output(), agg.output()[-3000:]
        assert alert_events(agg.db) == [("ward-scenario", "00031", "firing"),
                                         ("ward-scenario", "00031", "resolved")]
        assert agg.stop() == 0, agg.output()


if __name__ == "__main__":
    run_tests(globals())
