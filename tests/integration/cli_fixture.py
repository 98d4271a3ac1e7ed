"""cli_fixture — a district database made by the real aggregator, for the tests of the
operator's command (test_cli_*.py).

A broker, the aggregator on plans/ba-dinh-2022 with a simulated clock running two days
per real second from 2022-05-01 05:00 and stopping at 2022-05-16 06:00 (clock_stop: the
database ends in the same state however late a loaded machine stops the aggregator), and
the 14 wards' reports
published as their agents would: at 06:00 of each day for that day (on time), except
  00031  at 00:30 the next day, every day (after the cut-off and its grace)
  00034  nothing from 10 May on (report_missing fires)
  00004  no deaths figure on 15 May (incomplete)
  00001  many cases (epidemic level 4, the level alert fires)
  00007  dose 2 above dose 1 (a data-quality alert)
and vaccination figures that put the 5–11 target at risk everywhere, the booster target
at risk in the odd wards, and the frontline target at risk in wards with an odd index.
Two messages are refused (an unknown indicator; bytes that are not UTF-8).
Then the aggregator is stopped: the database stays as the CLI reads it.

    db = cli_fixture.build(tmp)      # about 9 s; returns the database path
    NOW = cli_fixture.NOW            # --now for the commands: the clock where it stopped
"""
import json
import os
import time
from datetime import datetime, timedelta, timezone

from harness import BA_DINH_WARDS, SRC, Aggregator, Broker, wait_for

PLAN = os.path.join(SRC, "plans", "ba-dinh-2022")
TZ = timezone(timedelta(hours=7))
START = datetime(2022, 5, 1, 5, 0, tzinfo=TZ)
END = datetime(2022, 5, 16, 6, 0, tzinfo=TZ)
NOW = "2022-05-16T08:00:00+07:00"
RATE = 2 * 86400
DAYS = 15                      # 1 … 15 May
LATE, SILENT, PARTIAL, HOT, BAD_DOSES = "00031", "00034", "00004", "00001", "00007"

with open(os.path.join(PLAN, "orgunits.json"), encoding="utf-8") as _f:
    POP = {u["code"]: u.get("population", {}) for u in json.load(_f)["units"]}


def values(i, ward, day):
    """The figures of ward (index i) for day (0 = 1 May)."""
    p = POP[ward]
    v = {"cases_new_community": 40 if ward == HOT else (0 if i % 3 == 0 else 2 + i % 3),
         "cases_new_quarantined": 1 + i % 2,
         "f0_active_home": 10 * i + 5 + day,
         "deaths": 1 if ward == HOT and day == 9 else 0,
         "care_teams": 3,
         "vacc_5_11_dose2_cum": int(p["5_11"] * (0.30 + 0.004 * day + 0.02 * (i % 4))),
         "vacc_18p_dose3_cum": int(p["18p"] * ((0.55 + 0.01 * day) if i % 2 == 0
                                               else (0.60 + 0.001 * day))),
         "frontline_staff": 100,
         "frontline_staff_vaccinated_full": 90 if i % 2 else 100}
    if ward == BAD_DOSES:
        v["vacc_18p_dose1_cum"] = 5000
        v["vacc_18p_dose2_cum"] = 6000
    return v


def schedule():
    """(simulated instant, ward, period, values) in publishing order."""
    out = []
    for day in range(DAYS):
        date = START.date() + timedelta(days=day)
        for i, ward in enumerate(BA_DINH_WARDS):
            if ward == SILENT and day >= 9:
                continue
            when = datetime(date.year, date.month, date.day, 6, 0, tzinfo=TZ)
            if ward == LATE:
                when += timedelta(hours=18, minutes=30)   # 00:30 the next day
            v = values(i, ward, day)
            if ward == PARTIAL and day == DAYS - 1:
                del v["deaths"]
            out.append((when, ward, date.isoformat(), v))
    return sorted(out, key=lambda x: x[0])


def stored(path):
    import sqlite3
    with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
        return (db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
                + db.execute("SELECT COUNT(*) FROM rejected").fetchone()[0])


def caught_up(path):
    """The week before END has its district level and the late ward's report of the day
    before END resolved its report_missing alert: the evaluations up to END are done."""
    import sqlite3
    with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
        level = db.execute("SELECT COUNT(*) FROM levels WHERE week = '2022-W19' "
                           "AND scope = 'district'").fetchone()[0]
        late = db.execute("SELECT state FROM alerts WHERE rule = 'daily-report' "
                          "AND scope = ?", (LATE,)).fetchone()
    return level == 1 and late is not None and late[0] == "resolved"


def build(tmp):
    import paho.mqtt.client as mqtt
    broker = Broker(tmp).start()
    anchor = datetime.now(timezone.utc) + timedelta(seconds=1)
    agg = Aggregator(tmp, broker.port, plan_dir=PLAN, clock_start=START.isoformat(),
                     clock_rate=RATE, clock_anchor=anchor.isoformat(timespec="milliseconds"),
                     clock_stop=END.isoformat(), alert_repeat=0, batch_delay="5ms").start()

    def real(sim):
        return anchor.timestamp() + (sim - START).total_seconds() / RATE

    client = mqtt.Client(client_id="cli-fixture", clean_session=True)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    seq = {}
    try:
        for when, ward, period, v in schedule():
            delay = real(when) - time.time()
            if delay > 0:
                time.sleep(delay)
            n = seq[ward] = seq.get(ward, 0) + 1
            report = {"v": 1, "ward": ward, "stream": "00000000000000c1", "seq": n,
                      "period": period, "observed_at": when.isoformat(), "values": v}
            client.publish("wardpulse/v1/report/" + ward, json.dumps(report), qos=1)
        n = seq["00001"] = seq["00001"] + 1
        client.publish("wardpulse/v1/report/00001", json.dumps(
            {"v": 1, "ward": "00001", "stream": "00000000000000c1", "seq": n,
             "period": "2022-05-15", "observed_at": "2022-05-15T07:00:00+07:00",
             "values": {"vacc_x": 1}}), qos=1)
        client.publish("wardpulse/v1/report/00001", b"\xff\xfe not json \x00", qos=1)
        wait_for(lambda: stored(agg.db) == sum(seq.values()) + 1, "every report stored",
                 timeout=20)
        # The clock stops at END: the last complete week (W19) gets its level, the late
        # ward's last report resolves its alert, and the cut-off of 16 May never passes.
        # Wait until the aggregator has caught up with both, then stop it.
        delay = real(END) - time.time()
        if delay > 0:
            time.sleep(delay)
        wait_for(lambda: caught_up(agg.db), "the aggregator evaluated up to " + END.isoformat(),
                 timeout=30)
        assert agg.stop() == 0, agg.output()
    finally:
        client.disconnect()
        client.loop_stop()
    broker.stop()
    return agg.db
