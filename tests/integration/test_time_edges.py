"""Time and periods at the edges (issue: "Exactly once at the edges", Time and periods).

- A report for a period far ahead of the clock (a year typed wrong: 2202) is refused at
  `submit`, and by the aggregator with the reason in the ack; one outside the plan's
  validity is refused by the aggregator.
- A forward jump of the aggregator's clock that is corrected soon after does not wedge
  evaluation: evaluation follows the clock back, and what the jump made fire resolves.
  The jump is made with libfaketime (Debian's faketime) on a real aggregator; without it
  the test says skipped.
"""
import datetime
import json
import os
import shutil
import sqlite3

from harness import (SRC, Agent, Skip, Aggregator, Broker, Subscriber, TempDir, export_values,
                     publish, run_tests, wait_for)

READY = os.path.join(SRC, "plans", "ba-dinh-2022")
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
ICT = datetime.timezone(datetime.timedelta(hours=7))


def write_plan(tmp, rules, **plan):
    d = os.path.join(tmp, "plan")
    os.makedirs(d, exist_ok=True)
    for f in ("orgunits.json", "catalog.json"):
        shutil.copy(os.path.join(READY, f), d)
    body = {"v": 1, "id": "time-test", "title": {"vi": "Thử", "en": "Test"},
            "scope": {"city": "01", "district": "001"}, "utc_offset": "+07:00", "rules": rules}
    body.update(plan)
    with open(os.path.join(d, "plan.json"), "w", encoding="utf-8") as f:
        json.dump(body, f, ensure_ascii=False)
    return d


def report(seq, period, **extra):
    r = {"v": 1, "ward": "00001", "stream": "0123456789abcdef", "seq": seq, "period": period,
         "observed_at": "2022-06-10T16:00:00+07:00", "values": {"cases_new_community": 3}}
    r.update(extra)
    return r


def task_rule(due):
    return {"id": "ward-scenario", "kind": "task", "severity": "warning", "applies_to": "ward",
            "name": {"vi": "Phường xây dựng kịch bản", "en": "Ward builds its scenario"},
            "source": {"document": "test", "section": "-"}, "task": "ward-scenario",
            "assignees": ["00001"], "due": due}


def test_period_far_ahead_is_refused_at_submit_and_by_the_aggregator():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        Aggregator(tmp, broker.port, clock_start="2022-06-10T08:00:00+07:00").start().subscribed()
        sub = Subscriber(broker.port, "wardpulse/v1/ack/#")
        agent = Agent(tmp, "00001", broker.port, clock_start="2022-06-10T08:00:00+07:00")
        r = agent.submit("2202-06-10", {"cases_new_community": 1}, check=False)
        assert r.returncode != 0, r.stdout
        assert "2202-06-10 begins more than a day after today (2022-06-10" in r.stderr, r.stderr
        assert agent.submit("2022-06-11", {"cases_new_community": 1}).returncode == 0
        # A report made by hand: refused with the reason in the ack, never stored.
        publish(broker.port, "wardpulse/v1/report/00001", report(1, "2202-06-10"))
        ack = wait_for(lambda: sub.payloads("wardpulse/v1/ack/00001"), "ack")[-1]
        assert ack["acked_through"] == 1, ack
        assert "2202-06-10 begins more than a day after today" in ack["rejected"][0]["reason"]


def test_period_outside_the_plan_is_refused():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        plan = write_plan(tmp, [task_rule("2022-06-15")], valid_from="2022-05-01",
                          valid_to="2022-12-31")
        agg = Aggregator(tmp, broker.port, plan_dir=plan,
                         clock_start="2023-03-01T08:00:00+07:00").start().subscribed()
        sub = Subscriber(broker.port, "wardpulse/v1/ack/#")
        publish(broker.port, "wardpulse/v1/report/00001", report(1, "2023-02-28"))
        publish(broker.port, "wardpulse/v1/report/00001", report(2, "2022-04-30"))
        publish(broker.port, "wardpulse/v1/report/00001", report(3, "2022-05-01"))
        acks = wait_for(lambda: [a for a in sub.payloads("wardpulse/v1/ack/00001")
                                 if a["acked_through"] == 3], "ack through 3")
        reasons = {r["seq"]: r["reason"] for r in acks[-1]["rejected"]}
        assert sorted(reasons) == [1, 2], reasons
        assert "outside the plan's validity (2022-05-01 to 2022-12-31)" in reasons[1], reasons
        assert [r["period"] for r in export_values(agg.db)] == ["2022-05-01"]


def test_a_clock_jump_corrected_soon_after_does_not_wedge_evaluation():
    """The server's clock jumps 30 days ahead: the task due in 10 days is overdue for the
    aggregator. The clock is put right: the aggregator follows it back, the task alert
    resolves, and evaluation goes on (the retained alert topic is cleared)."""
    if not os.path.exists(FAKETIME):
        raise Skip("needs Debian's faketime (libfaketime)")
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        due = (datetime.datetime.now(ICT) + datetime.timedelta(days=10)).date().isoformat()
        plan = write_plan(tmp, [task_rule(due)])
        offset = os.path.join(tmp, "faketime")
        with open(offset, "w") as f:
            f.write("+0d\n")
        env = dict(os.environ, LD_PRELOAD=FAKETIME, FAKETIME_TIMESTAMP_FILE=offset,
                   FAKETIME_NO_CACHE="1", FAKETIME_DONT_FAKE_MONOTONIC="1",
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        alerts = Subscriber(broker.port, "wardpulse/v1/alert/#")
        agg = Aggregator(tmp, broker.port, plan_dir=plan).start(env=env)
        topic = "wardpulse/v1/alert/001/00001/ward-scenario"
        wait_for(lambda: "plan time-test loaded" in agg.output(), "plan loaded")
        assert not [p for p in alerts.payloads(topic) if p], alerts.payloads(topic)
        with open(offset, "w") as f:
            f.write("+30d\n")
        firing = wait_for(lambda: [p for p in alerts.payloads(topic) if p], "overdue after the jump")
        assert firing[-1]["state"] == "firing", firing
        with open(offset, "w") as f:
            f.write("+0d\n")
        # Cleared: the retained topic's last message is empty, the database says resolved.
        wait_for(lambda: alerts.payloads(topic) and alerts.payloads(topic)[-1] is None,
                 "the alert of the jump resolved")
        assert "the clock went back" in agg.output(), agg.output()
        with sqlite3.connect("file:%s?mode=ro" % agg.db, uri=True) as db:
            state = db.execute("SELECT state FROM alerts WHERE rule = 'ward-scenario' AND "
                               "scope = '00001'").fetchone()
        db.close()
        assert state == ("resolved",), state
        assert agg.alive(), agg.output()


if __name__ == "__main__":
    run_tests(globals())
