#!/usr/bin/python3
"""Beyond one machine: a district reports its wards' figures rolled up to the city.

Two brokers on loopback, joined by broker-config/bridge-example.conf (address
rewritten): the district's (Ba Đình 001) and the city's (Hà Nội 01).

    wards ──report/000xx──▶ district broker ──▶ district aggregator (plans/ba-dinh-2022,
                                  ▲  │            rollup_spool_dir = the spool folder)
                  report/001 ─────┘  │ bridge          │ rollup-001-*.json
    district's agent (ward 001) ◀────┼──── spool ◀─────┘
         ▲ ack/001                   ▼ report/001, status/001 out; ack/001 in
         └──────────────── city broker ──▶ city aggregator (city 01, plans/ha-noi-2022)

Checks: the city stores reports of unit 001 carrying the sums of the wards' figures,
each report of the rollup files exactly once; the city's acks come back through the
bridge (the district aggregator stores unit 001's reports but never acks them) and
the district agent's outbox empties; the city-wide booster target (applies_to city) is
at risk, with the rolled-up dose-3 count over the city's 18+ population; a rollup that
cannot be written (spool folder gone) survives a restart of the district aggregator and
a stopped district agent, and goes up once both are back; a file written just before a
crash (its record lost) is recognised at the restart, not sent twice. The district
office's own task travels the same way and counts at both levels.

Run: WP_SOURCE_DIR=/work/main WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_hierarchy.py
"""
import datetime
import glob
import json
import os
import re
import sqlite3
import threading

from harness import (AGGREGATOR_BIN, BA_DINH_WARDS, SRC, TOPIC_ROOT, Aggregator, Agent,
                     Broker, Subscriber, TempDir, export_values, cli, run_tests, wait_for)

CLOCK_START = "2022-06-15T10:00:00+07:00"
CITY_18P = 5999645          # plans/ha-noi-2022: Hà Nội's 18+ (the sum of its 30 districts)
ROLLED_UP = {"vacc_18p_dose2_cum", "vacc_18p_dose3_cum", "cases_new_community"}


def ward_figures(i):
    """Ward i's figures: period -> values. care_teams is not marked rollup_up."""
    return {
        "2022-06-01": {"vacc_18p_dose2_cum": 9000 + 100 * i, "vacc_18p_dose3_cum": 7000 + 50 * i},
        "2022-06-15": {"vacc_18p_dose2_cum": 9000 + 100 * i, "vacc_18p_dose3_cum": 7700 + 60 * i,
                       "cases_new_community": i % 4, "care_teams": 2},
    }


def expected_sums(corrections=None):
    """What Ba Đình's rollup must carry: per period, each rolled-up indicator summed."""
    sums = {}
    for i, ward in enumerate(BA_DINH_WARDS):
        for period, values in ward_figures(i).items():
            for indicator, value in values.items():
                value = (corrections or {}).get((ward, period, indicator), value)
                if indicator in ROLLED_UP:
                    sums[(period, indicator)] = sums.get((period, indicator), 0) + value
    return sums


class Publisher:
    """One MQTT connection that publishes at QoS 1 and waits for each PUBACK (a clerk's
    tool, without an agent: the reports carry their own stream and seq)."""

    def __init__(self, port):
        import paho.mqtt.client as mqtt
        self.client = mqtt.Client(client_id="test-pub-%d" % os.getpid(), clean_session=True)
        connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc: connected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert connected.wait(10), "publisher could not connect to port %d" % port

    def report(self, ward, seq, period, observed_at, values):
        payload = {"v": 1, "ward": ward, "stream": "00000000000000%s" % ward[-2:], "seq": seq,
                   "period": period, "observed_at": observed_at, "values": values}
        info = self.client.publish(TOPIC_ROOT + "report/" + ward, json.dumps(payload), qos=1)
        info.wait_for_publish()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


class Hierarchy:
    """The two brokers, the bridge, both aggregators and the district's own agent."""

    def __init__(self, tmp):
        self.tmp = tmp
        anchor = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        self.clock = {"clock_start": CLOCK_START, "clock_anchor": anchor}
        self.spool = os.path.join(tmp, "district-spool")
        os.makedirs(self.spool)
        self.city_broker = Broker(tmp, name="mosquitto-city").start()
        self.district_broker = Broker(tmp, name="mosquitto-district")
        with open(os.path.join(SRC, "broker-config", "bridge-example.conf"), encoding="utf-8") as f:
            bridge = f.read()
        bridge = re.sub(r"(?m)^address .*$", "address 127.0.0.1:%d" % self.city_broker.port, bridge)
        bridge = re.sub(r"(?m)^restart_timeout .*$", "restart_timeout 1 2", bridge)
        with open(self.district_broker.conf, "a", encoding="utf-8") as f:
            f.write("\n" + bridge)
        self.district_broker.start()
        self.city = Aggregator(tmp, self.city_broker.port, name="city", city="01",
                               plan_dir=os.path.join(SRC, "plans", "ha-noi-2022"), **self.clock).start()
        self.district = self.district_aggregator().start()
        self.agent = self.district_agent().start()

    def district_aggregator(self):
        return Aggregator(self.tmp, self.district_broker.port, name="district", district="001",
                          plan_dir=os.path.join(SRC, "plans", "ba-dinh-2022"),
                          rollup_spool_dir=self.spool, **self.clock)

    def district_agent(self):
        return Agent(self.tmp, "001", self.district_broker.port, spool_dir=self.spool,
                     spool_interval="100ms", spool_settle="0", ack_timeout="2s", **self.clock)

    def outbox_entries(self):
        return read_db(self.agent.outbox, "SELECT COUNT(*) FROM entries")[0][0]

    def taken_reports(self):
        """Reports in the rollup files the district's agent took in."""
        reports = []
        for path in sorted(glob.glob(os.path.join(self.spool, "done", "rollup-001-*.json"))):
            with open(path, encoding="utf-8") as f:
                reports += json.load(f)
        return reports


def city_current(db):
    """The values in force at the city for unit 001: (period, indicator) -> value."""
    return {(r["period"], r["indicator"]): r["value"]
            for r in json.loads(cli("export", "--db", db, "--format", "json", "--current").stdout)
            if r["ward"] == "001"}


def city_reports_of_001(db):
    """(stream, seq) of every report of unit 001 the city stored, with repeats."""
    rows = [r for r in export_values(db) if r["ward"] == "001"]
    return sorted({(r["stream"], r["seq"]) for r in rows}), rows


def read_db(db, sql, *args):
    conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def task_state(db, unit, task):
    rows = read_db(db, "SELECT state FROM current_tasks WHERE ward = ? AND task = ?", unit, task)
    return rows[0][0] if rows else None


def report_count(db, unit):
    """Reports of unit stored (each (ward, stream, seq) is stored at most once)."""
    return read_db(db, "SELECT COUNT(*) FROM reports WHERE ward = ?", unit)[0][0]


def booster_alert(alerts):
    found = [p for p in alerts.payloads(TOPIC_ROOT + "alert/01/city/booster-18p") if p]
    return found[-1] if found else None


def check_alert_schema(alert):
    import jsonschema
    with open(os.path.join(SRC, "schemas", "alert.schema.json"), encoding="utf-8") as f:
        jsonschema.Draft7Validator(json.load(f)).validate(alert)


def test_district_rolls_up_to_the_city_through_its_agent_and_a_bridge():
    with TempDir() as tmp:
        h = Hierarchy(tmp)
        district_acks = Subscriber(h.district_broker.port, TOPIC_ROOT + "ack/001", client_id="acks-district")
        city_acks = Subscriber(h.city_broker.port, TOPIC_ROOT + "ack/001", client_id="acks-city")
        alerts = Subscriber(h.city_broker.port, TOPIC_ROOT + "alert/#", client_id="alerts-city")
        status = Subscriber(h.district_broker.port, TOPIC_ROOT + "aggregator/status", client_id="status")
        wait_for(lambda: any(p and p.get("state") == "online" for p in status.payloads()),
                 "the district aggregator online")

        # The 14 wards report two days of figures (14 days apart: the coverage trend).
        pub = Publisher(h.district_broker.port)
        for i, ward in enumerate(BA_DINH_WARDS):
            for seq, (period, values) in enumerate(sorted(ward_figures(i).items()), 1):
                pub.report(ward, seq, period, period + "T17:00:00+07:00" if seq == 1
                           else "2022-06-15T09:00:00+07:00", values)
        # The district office reports its own task through the same agent.
        h.agent.submit("2022-06-15", tasks={"district-scenario": "done"})
        sums = expected_sums()
        wait_for(lambda: city_current(h.city.db) == sums, "the city to hold the wards' sums",
                 timeout=30)
        # Its task counts at both levels: the city stores it, and so does the district
        # (whose plan tracks the district's own tasks).
        for db in (h.city.db, h.district.db):
            wait_for(lambda: task_state(db, "001", "district-scenario") == "done",
                     "the district's task in " + os.path.basename(db))

        # Exactly once: each report of the rollup files is one stored report at the city,
        # under unit 001, and nothing of unit 001 was refused.
        wait_for(lambda: h.outbox_entries() == 0, "the district agent's outbox to empty")
        taken = h.taken_reports()
        assert taken and all(set(r["values"]) <= ROLLED_UP for r in taken), taken
        stored, rows = city_reports_of_001(h.city.db)
        assert len(stored) == len(taken), (stored, taken)   # (the task report has no values)
        assert len(rows) == sum(len(r["values"]) for r in taken), rows
        assert report_count(h.city.db, "001") == len(taken) + 1
        rejected = json.loads(cli("export", "--db", h.city.db, "--format", "json", "--rejected").stdout)
        assert not rejected, rejected
        assert not os.listdir(os.path.join(h.spool, "rejected")), os.listdir(os.path.join(h.spool, "rejected"))

        # The acks came from the city, through the bridge: as many on the district broker
        # as the city published (the district aggregator stores unit 001's reports too,
        # but leaves the ack to the city).
        def acks_match():
            city, district = city_acks.payloads(), district_acks.payloads()
            return city and [a["acked_through"] for a in city] == \
                [a["acked_through"] for a in district]
        wait_for(acks_match, "the city's acks, and only those, on the district broker")
        # The district stores them too, on its own time: the city's ack says nothing of
        # the district's commit.
        wait_for(lambda: len([r for r in export_values(h.district.db) if r["ward"] == "001"])
                 == len(rows), "the district keeps what went up")
        assert not read_db(h.district.db, "SELECT reason FROM rejected")
        assert read_db(h.agent.outbox, "SELECT COUNT(*) FROM dead_letter")[0][0] == 0

        # The city-wide booster target, evaluated at city scope from the districts
        # rolled up: 113,260 of Hà Nội's 5,999,645 people 18+ boosted (1.9 %), 10,710
        # more in 14 days (765 a day), is at risk. (Alerts carry ratios to 4 places.)
        boosted = sums[("2022-06-15", "vacc_18p_dose3_cum")]
        assert boosted - sums[("2022-06-01", "vacc_18p_dose3_cum")] == 10710
        wait_for(lambda: (booster_alert(alerts) or {}).get("value") == round(boosted / CITY_18P, 4),
                 "the city's booster alert on all the wards' figures")
        alert = booster_alert(alerts)
        assert (alert["state"], alert["severity"], alert["scope"], alert["district"], alert["kind"]) == \
            ("firing", "warning", "city", "01", "coverage"), alert
        assert "Thành phố Hà Nội có nguy cơ không đạt mục tiêu" in alert["summary"]["vi"], alert
        assert "(765 people a day)" in alert["summary"]["en"], alert
        check_alert_schema(alert)
        # Dose 3 ≤ dose 2 and never decreasing hold for district 001: no alert of its own.
        assert not [t for t, p, r in alerts.messages if "/001/" in t and p], alerts.messages

        # A rollup that cannot be written is not lost: the district agent is stopped, the
        # spool folder is gone when a ward corrects its figure, and the district
        # aggregator restarts before the folder is back.
        h.agent.stop()
        files_before = sorted(os.listdir(h.spool))
        os.rename(h.spool, h.spool + ".away")
        pub.report(BA_DINH_WARDS[0], 3, "2022-06-15", "2022-06-15T09:30:00+07:00",
                   {"vacc_18p_dose3_cum": 7700 + 1000})
        pub.close()
        wait_for(lambda: "rollup: writing" in h.district.output(), "the failed rollup logged")
        assert h.district.stop() == 0
        os.rename(h.spool + ".away", h.spool)
        h.district = h.district_aggregator().start()
        # (Complete files only: the aggregator writes NAME.tmp and renames it.)
        new_file = wait_for(lambda: sorted(f for f in set(os.listdir(h.spool)) - set(files_before)
                                           if f.endswith(".json")),
                            "the pending rollup written after the restart")
        assert len(new_file) == 1 and new_file[0].startswith("rollup-001-"), new_file
        with open(os.path.join(h.spool, new_file[0]), encoding="utf-8") as f:
            pending = json.load(f)
        # Only what changed goes up again: one value of one period.
        assert [(r["period"], r["values"]) for r in pending] == \
            [("2022-06-15", {"vacc_18p_dose3_cum": boosted + 1000})], pending

        h.agent = h.district_agent().start()
        corrected = expected_sums({(BA_DINH_WARDS[0], "2022-06-15", "vacc_18p_dose3_cum"): 8700})
        wait_for(lambda: city_current(h.city.db) == corrected, "the correction at the city")
        wait_for(lambda: h.outbox_entries() == 0, "the district agent's outbox to empty again")
        wait_for(lambda: booster_alert(alerts)["value"] == round((boosted + 1000) / CITY_18P, 4),
                 "the booster alert on the corrected figure")
        assert round((boosted + 1000) / CITY_18P, 4) != round(boosted / CITY_18P, 4)
        stored, rows = city_reports_of_001(h.city.db)
        assert len(stored) == len(h.taken_reports()), (stored, h.taken_reports())
        assert report_count(h.city.db, "001") == len(h.taken_reports()) + 1

        # A crash between writing a file and recording it: the record of the last file is
        # gone when the district aggregator starts again. It computes the same file, finds
        # it in done/ and records it, rather than sending its figures a second time.
        assert h.district.stop() == 0
        db = sqlite3.connect(h.district.db)
        with db:
            db.execute("DELETE FROM rollup_sent WHERE file_id = (SELECT MAX(id) FROM rollup_files)")
            db.execute("DELETE FROM rollup_files WHERE id = (SELECT MAX(id) FROM rollup_files)")
        db.close()
        done_before = sorted(os.listdir(os.path.join(h.spool, "done")))
        h.district = h.district_aggregator().start()
        wait_for(lambda: "found (written before a restart) %s" % new_file[0] in h.district.output(),
                 "the file written before the crash recognised")
        assert read_db(h.district.db, "SELECT MAX(id) FROM rollup_files")[0][0] == \
            int(new_file[0][len("rollup-001-"):-len(".json")])
        assert sorted(os.listdir(os.path.join(h.spool, "done"))) == done_before
        assert not [f for f in os.listdir(h.spool) if f.startswith("rollup-")]
        assert report_count(h.city.db, "001") == len(h.taken_reports()) + 1
        for s in (district_acks, city_acks, alerts, status):
            s.close()


def test_configuration_of_the_levels():
    """What a city or a rolling-up district aggregator, and a district's agent, accept."""
    import subprocess
    with TempDir() as tmp:
        def check(*args):
            return subprocess.run([AGGREGATOR_BIN, "--db_path", os.path.join(tmp, "x.db"),
                                   "--test-config"] + list(args), capture_output=True, text=True)
        ok = check("--city", "01", "--plan_dir", os.path.join(SRC, "plans", "ha-noi-2022"))
        assert ok.returncode == 0, ok.stderr
        both = check("--city", "01", "--district", "001")
        assert both.returncode != 0 and "not both" in both.stderr, both.stderr
        bad = check("--city", "1")
        assert bad.returncode != 0 and "is not a city code" in bad.stderr, bad.stderr
        up = check("--city", "01", "--rollup_spool_dir", tmp)
        assert up.returncode != 0 and "no level above" in up.stderr, up.stderr
        gone = check("--rollup_spool_dir", os.path.join(tmp, "nowhere"))
        assert gone.returncode != 0 and "rollup_spool_dir" in gone.stderr, gone.stderr
        unit = check("--rollup_spool_dir", tmp, "--rollup_unit", "00001")
        assert unit.returncode != 0 and "is not a district code" in unit.stderr, unit.stderr
        # A district plan is not a city's, nor a city plan a district's.
        wrong = check("--city", "01", "--plan_dir", os.path.join(SRC, "plans", "ba-dinh-2022"))
        assert wrong.returncode != 0 and "scope.district" in wrong.stderr, wrong.stderr
        # The district's own agent: a three-digit code; four digits are neither.
        agent = Agent(tmp, "001", 1883)
        assert agent.command("--test-config").returncode == 0
        four = Agent(tmp, "0001", 1883).command("--test-config", check=False)
        assert four.returncode != 0 and "nor a district code" in four.stderr, four.stderr


if __name__ == "__main__":
    run_tests(globals())
