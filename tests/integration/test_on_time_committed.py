"""On time means when the ward committed it (issue 10), with real processes.

Phúc Xá's clerk submits the report of 03/05/2022 at about 16:30, before the 17:00 cut-off:
`wardpulse-agent submit` commits it to the agent's outbox. The agent's link is down (its
daemon is not running, so the report waits in the outbox, as it would behind a dead line)
until 22:40, six hours later; then it comes up and delivers the report. The aggregator and
the agent share a simulated clock (16:00 on, 30 minutes per real second, stopped at 23:30).

What a district officer must see:
  - at 18:00 (cut-off + grace) report_missing fires for Phúc Xá: the district does not have
    the figures, and that is what it must know;
  - when the report arrives it resolves, saying it was committed on time and delivered late;
  - the period counts as on time in the reporting rates (schedule_status, reporting_rates),
    judged from committed_at, not from the arrival;
  - `wardpulse export` shows both times: received_at (22:4x) and committed_at (16:xx).
"""
import json
import os
import shutil
import sqlite3
import time
from datetime import datetime, timedelta, timezone

from harness import (SRC, Agent, Aggregator, Broker, Subscriber, TempDir, export_values,
                     run_tests, wait_for)

READY = os.path.join(SRC, "plans", "ba-dinh-2022")
EVENTS = "wardpulse/v1/events/alert"
START = "2022-05-03T16:00:00+07:00"
STOP = "2022-05-03T23:30:00+07:00"
RATE = 1800                               # simulated seconds per real second
ICT = timezone(timedelta(hours=7))


def write_plan(tmp):
    d = os.path.join(tmp, "plan")
    os.makedirs(d, exist_ok=True)
    for f in ("orgunits.json", "catalog.json"):
        shutil.copy(os.path.join(READY, f), d)
    daily = {"id": "daily-report", "kind": "schedule",
             "name": {"vi": "Báo cáo hằng ngày", "en": "Daily report"}, "severity": "warning",
             "applies_to": "ward",
             "source": {"document": "KH UBND quận Ba Đình triển khai NQ 38/NQ-CP",
                        "section": "I.3.5"},
             "period": "daily", "cutoff": "17:00", "grace_minutes": 60,
             "indicators": ["cases_new_community", "deaths"], "from": "2022-05-03"}
    with open(os.path.join(d, "plan.json"), "w", encoding="utf-8") as f:
        json.dump({"v": 1, "id": "on-time-test", "title": {"vi": "Thử", "en": "Test"},
                   "scope": {"city": "01", "district": "001"}, "utc_offset": "+07:00",
                   "rules": [daily]}, f, ensure_ascii=False)
    return d


def sim_to_real(anchor, instant):
    """The real time.time() at which the simulated clock shows instant."""
    start = datetime.fromisoformat(START)
    return anchor + (datetime.fromisoformat(instant) - start).total_seconds() / RATE


def test_committed_before_cutoff_delivered_after_outage_is_on_time():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, EVENTS)
        anchor = time.time()
        clock = {"clock_start": START, "clock_rate": RATE, "clock_stop": STOP,
                 "clock_anchor": datetime.fromtimestamp(anchor, timezone.utc).isoformat(
                     timespec="milliseconds")}
        agg = Aggregator(tmp, broker.port, plan_dir=write_plan(tmp), alert_repeat=0,
                         batch_delay="5ms", **clock).start()
        agent = Agent(tmp, "00001", broker.port, ack_timeout="2s", **clock)
        # The clerk submits before the cut-off; the agent's daemon (its link) is down.
        agent.submit("2022-05-03", {"cases_new_community": 3, "deaths": 0})
        assert time.time() < sim_to_real(anchor, "2022-05-03T16:55:00+07:00"), \
            "too slow: the submission came too near the cut-off for this test"

        def events(state):
            return [e for e in sub.payloads(EVENTS) if e and e["rule"] == "daily-report"
                    and e["scope"] == "00001" and e["state"] == state]

        # 18:00: the district does not have the figures.
        wait_for(lambda: events("firing"), "report_missing for Phúc Xá at 18:00", timeout=30)
        assert not export_values(agg.db)
        # 22:40: the link comes back; the report is delivered.
        time.sleep(max(0, sim_to_real(anchor, "2022-05-03T22:40:00+07:00") - time.time()))
        agent.start()
        wait_for(lambda: export_values(agg.db), "the report delivered", timeout=30)
        rows = export_values(agg.db)
        assert {r["indicator"] for r in rows} == {"cases_new_community", "deaths"}, rows
        for r in rows:
            assert r["committed_at"] < "2022-05-03T17:00:00+07:00", r
            assert r["committed_at"] >= "2022-05-03T16:00:00+07:00", r
            assert r["received_at"] >= "2022-05-03T22:40:00+07:00", r
        # Resolved, with both times said.
        wait_for(lambda: events("resolved"), "report_missing resolved", timeout=15)
        summary = events("resolved")[-1]["summary"]
        assert "đúng hạn" in summary["vi"] and "lập lúc 16:" in summary["vi"], summary
        assert "committed at 16:" in summary["en"] and "delivered at 22:" in summary["en"], \
            summary
        # On time in the reporting rates: judged from the commit, bounded by the arrival.
        assert agent.stop() == 0
        assert agg.stop() == 0
        with sqlite3.connect("file:%s?mode=ro" % agg.db, uri=True) as db:
            row = db.execute("SELECT on_time, complete_ms, received_ms, due_ms FROM "
                             "schedule_status WHERE rule = 'daily-report' AND ward = '00001' "
                             "AND period = '2022-05-03'").fetchone()
            assert row is not None
            on_time, complete_ms, received_ms, due_ms = row
            assert on_time == 1 and complete_ms <= due_ms < received_ms, row
            rate = db.execute("SELECT expected, on_time FROM reporting_rates WHERE "
                              "rule = 'daily-report' AND ward = '00001'").fetchone()
            assert rate == (1, 1), rate
            judged = db.execute("SELECT committed_ms, judged_ms, received_ms FROM reports "
                                "WHERE ward = '00001'").fetchone()
            assert judged[0] == judged[1] < judged[2], judged
        db.close()
        sub.close()
        assert broker.stop() == 0


run_tests(globals())
