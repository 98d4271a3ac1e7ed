"""The aggregator's plan (plan_dir) and simulated clock, against a real mosquitto.

A plan that fails its checks stops the start with the file and JSON path named; under a
plan, a report naming an unknown indicator, task or ward is rejected with the reason in
its ack; SIGHUP takes a new plan only if it passes, else the old one stays. The
simulated clock (clock_start, clock_rate) stamps what the aggregator stores.
"""
import json
import os
import shutil
import signal
import subprocess
import time

from harness import (AGGREGATOR_BIN, SRC, Aggregator, Broker, Subscriber, TempDir,
                     export_values, publish, run_tests, wait_for)

STREAM = "0123456789abcdef"
READY = os.path.join(SRC, "plans", "ba-dinh-2022")


def rule(rid, kind, applies="ward", **fields):
    r = {"id": rid, "kind": kind, "name": {"vi": "Quy tắc " + rid, "en": "Rule " + rid},
         "severity": "warning", "applies_to": applies,
         "source": {"document": "KH UBND quận Ba Đình", "section": "I.3.5"}}
    r.update(fields)
    return r


def write_plan(tmp, rules, name="plan"):
    """orgunits.json and catalog.json of plans/ba-dinh-2022, and a plan.json of `rules`."""
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    for f in ("orgunits.json", "catalog.json"):
        shutil.copy(os.path.join(READY, f), d)
    with open(os.path.join(d, "plan.json"), "w", encoding="utf-8") as f:
        json.dump({"v": 1, "id": "test-plan", "title": {"vi": "Kế hoạch thử", "en": "Test plan"},
                   "scope": {"city": "01", "district": "001"}, "utc_offset": "+07:00",
                   "rules": rules}, f, ensure_ascii=False)
    return d


DAILY = rule("daily-report", "schedule", period="daily", cutoff="17:00", grace_minutes=60,
             indicators=["cases_new_community"], **{"from": "2022-05-01"})


def report(seq, ward="00001", period="2022-05-03", values=None, tasks=None):
    r = {"v": 1, "ward": ward, "stream": STREAM, "seq": seq, "period": period,
         "observed_at": "%sT16:00:00+07:00" % period,
         "values": values if values is not None else {"cases_new_community": 3}}
    if tasks:
        r["tasks"] = tasks
    return r


def check_config(*args):
    return subprocess.run([AGGREGATOR_BIN, "--test-config", "--db_path", "/tmp/x.db"] + list(args),
                          capture_output=True, text=True)


def test_bad_plan_stops_the_start_naming_file_and_path():
    with TempDir() as tmp:
        d = write_plan(tmp, [rule("kids", "coverage", numerator="vacc_5_11_full_cum",
                                  population="5_11", target=1.0, deadline="2022-08-31")])
        r = check_config("--plan_dir", d)
        assert r.returncode != 0, r
        assert ("%s/plan.json: rules[0].numerator: indicator \"vacc_5_11_full_cum\" is not in "
                "catalog.json" % d) in r.stderr, r.stderr
        # The daemon refuses to start the same way, before touching broker or database.
        db = os.path.join(tmp, "a.db")
        r = subprocess.run([AGGREGATOR_BIN, "--db_path", db, "--plan_dir", d, "--broker_port", "1"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode != 0 and "rules[0].numerator" in r.stderr, r
        assert not os.path.exists(db)
        # A schema violation names the path too.
        d = write_plan(tmp, [rule("x", "schedule", period="monthly", cutoff="17:00",
                                  grace_minutes=0, indicators=["deaths"])])
        r = check_config("--plan_dir", d)
        assert r.returncode != 0 and "%s/plan.json: rules[0]" % d in r.stderr, r.stderr
        assert "period" in r.stderr, r.stderr
        # A good one passes.
        d = write_plan(tmp, [DAILY])
        r = check_config("--plan_dir", d)
        assert r.returncode == 0 and "configuration OK" in r.stdout, r


def test_ready_plan_passes_check_config():
    assert os.path.exists(os.path.join(READY, "plan.json")), "plans/ba-dinh-2022 is part of the tree"
    r = check_config("--plan_dir", READY)
    assert r.returncode == 0, r.stderr


def test_reports_outside_the_plan_are_rejected_and_sighup_reloads():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, "wardpulse/v1/ack/#", "wardpulse/v1/aggregator/status")
        d = write_plan(tmp, [DAILY])
        agg = Aggregator(tmp, broker.port, plan_dir=d).start()
        wait_for(lambda: sub.payloads("wardpulse/v1/aggregator/status"), "aggregator online")

        def ack_rejections(ward, n):
            acks = wait_for(lambda: len(sub.payloads("wardpulse/v1/ack/" + ward)) >= n
                            and sub.payloads("wardpulse/v1/ack/" + ward), "ack %d" % n)
            return acks[n - 1]["rejected"]

        top = "wardpulse/v1/report/"
        publish(broker.port, top + "00001", report(1))
        assert ack_rejections("00001", 1) == []
        publish(broker.port, top + "00001", report(2, values={"cases_new_communty": 3}))
        seq2 = {"seq": 2, "reason": "values.cases_new_communty: indicator "
                "\"cases_new_communty\" is not in the plan's catalog"}
        assert ack_rejections("00001", 2) == [seq2]
        publish(broker.port, top + "00001", report(3, tasks={"ward-scenarios": "done"}))
        # The stream's recent refusals are named again (an agent may have missed an ack).
        assert ack_rejections("00001", 3) == [seq2, {"seq": 3, "reason": "tasks.ward-scenarios: "
                                                     "task \"ward-scenarios\" is not in the "
                                                     "plan's catalog"}]
        publish(broker.port, top + "00002", report(1, ward="00002"))
        assert ack_rejections("00002", 1) == [{"seq": 1, "reason": "ward: 00002 is not a ward of "
                                               "district 001 in the plan's orgunits.json"}]
        assert len(export_values(agg.db)) == 1

        # A broken plan on SIGHUP: logged, the old plan stays.
        with open(os.path.join(d, "catalog.json"), "w") as f:
            f.write("{\"v\": 1, \"indicators\": []}")
        agg.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "plan not reloaded" in agg.output(), "reload refused in the log")
        assert "catalog.json: indicators: must have at least 1 item" in agg.output(), agg.output()
        publish(broker.port, top + "00001", report(4, values={"cases_new_communty": 3}))
        assert ack_rejections("00001", 4)[-1]["seq"] == 4
        publish(broker.port, top + "00001", report(5))
        # Seq 5 is taken: the ack names only the stream's earlier refusals again.
        assert [r["seq"] for r in ack_rejections("00001", 5)] == [2, 3, 4]

        # A good one with a new indicator is taken.
        with open(os.path.join(READY, "catalog.json"), encoding="utf-8") as f:
            catalog = json.load(f)
        catalog["indicators"].append({"id": "cases_new_communty", "name": {"vi": "x", "en": "x"},
                                      "kind": "daily", "rollup": "sum", "unit": "người"})
        with open(os.path.join(d, "catalog.json"), "w", encoding="utf-8") as f:
            json.dump(catalog, f, ensure_ascii=False)
        agg.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "plan test-plan reloaded" in agg.output(), "reload in the log")
        publish(broker.port, top + "00001", report(6, values={"cases_new_communty": 3}))
        assert [r["seq"] for r in ack_rejections("00001", 6)] == [2, 3, 4]
        assert agg.stop() == 0, agg.output()


def test_simulated_clock_stamps_what_is_stored():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, "wardpulse/v1/ack/#", "wardpulse/v1/aggregator/status")
        agg = Aggregator(tmp, broker.port, clock_start="2022-05-03T16:00:00+07:00",
                         clock_rate=60).start()
        wait_for(lambda: sub.payloads("wardpulse/v1/aggregator/status"), "aggregator online")
        since = sub.payloads("wardpulse/v1/aggregator/status")[-1]["since"]
        assert since.startswith("2022-05-03T16:00:"), since
        publish(broker.port, "wardpulse/v1/report/00001", report(1))
        rows = wait_for(lambda: export_values(agg.db), "report stored")
        received = rows[0]["received_at"]
        # A minute per second: a few real seconds at most have passed.
        assert "2022-05-03T16:00:00+07:00" <= received < "2022-05-03T16:30:00+07:00", received
        assert agg.stop() == 0
    r = check_config("--clock_start", "2022-05-03 16:00")
    assert r.returncode != 0 and "clock_start: '2022-05-03 16:00' is not an RFC 3339" in r.stderr, r


def test_simulated_clock_stops_at_clock_stop():
    """A replay that must end in a known state: the clock holds at clock_stop, so what
    the aggregator stamps after it (here a report, and its offline status) says clock_stop."""
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, "wardpulse/v1/aggregator/status")
        agg = Aggregator(tmp, broker.port, clock_start="2022-05-03T16:00:00+07:00",
                         clock_rate=86400, clock_stop="2022-05-04T17:00:00+07:00").start()
        time.sleep(1.5)   # a day and a half at this rate: the clock has stopped
        publish(broker.port, "wardpulse/v1/report/00001", report(1))
        rows = wait_for(lambda: export_values(agg.db), "report stored")
        assert rows[0]["received_at"] == "2022-05-04T17:00:00+07:00", rows[0]
        assert agg.stop() == 0
        wait_for(lambda: sub.payloads("wardpulse/v1/aggregator/status")[-1]["state"]
                 == "offline", "offline status")
        assert sub.payloads("wardpulse/v1/aggregator/status")[-1]["since"] \
            == "2022-05-04T17:00:00+07:00"
    r = check_config("--clock_start", "2022-05-03T16:00:00+07:00",
                     "--clock_stop", "2022-05-03T15:00:00+07:00")
    assert r.returncode != 0 and "clock_stop: 2022-05-03T15:00:00+07:00 is not after " \
        "clock_start" in r.stderr, r
    r = check_config("--clock_stop", "2022-05-03T15:00:00+07:00")
    assert r.returncode != 0 and "clock_stop: needs clock_start" in r.stderr, r


if __name__ == "__main__":
    run_tests(globals())
