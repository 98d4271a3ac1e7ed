"""The page's state on retained topics (issue 12, part A): summary/<district>/<scope> and
series/<district>/<rule>, published by the real aggregator on plans/ba-dinh-2022.

A broker, the aggregator on a simulated clock running a day per real second from
2022-05-01 05:00 and stopping at 2022-05-09 06:00 (clock_stop: the state ends the same
however slow the machine), and the 14 wards' reports of 1–8 May published as their agents
would (cli_fixture's figures). Then:
  - every ward's retained summary and the district's are there, valid against
    schemas/summary.schema.json, and equal (but for "at") what `wardpulse status --format
    json` prints for the same database: one computation, one codec;
  - each coverage rule's retained series is valid against schemas/series.schema.json, and
    a ward's points are the oracle's (its dose count in force that day / its population),
    the district's last point the district summary's value;
  - a correction from a ward's agent that raises its 5–11 coverage republishes that
    ward's summary, the district's and the series, and no other ward's summary;
  - a broker killed before it saved its retained messages gets them all again when the
    aggregator reconnects;
  - with web_dir set, the finished weeks' HTML reports and reports/index.json are written,
    the HTML exactly `wardpulse report`'s;
  - a plan reloaded with a coverage rule and a ward fewer clears their retained summary and
    series (a fresh subscriber sees none), and leaves the others (a run of its own).
"""
import json
import os
import shutil
import signal
import stat
import time
from datetime import datetime, timedelta, timezone

import cli_fixture
from harness import (BA_DINH_WARDS, CLI_BIN, SRC, Agent, Aggregator, Broker, Subscriber,
                     TempDir, cli, run_tests, wait_for)

PLAN = os.path.join(SRC, "plans", "ba-dinh-2022")
TZ = timezone(timedelta(hours=7))
START = datetime(2022, 5, 1, 5, 0, tzinfo=TZ)
STOP = datetime(2022, 5, 9, 6, 0, tzinfo=TZ)
RATE = 86400
DAYS = 8                      # 1 … 8 May
SUMMARY = "wardpulse/v1/summary/001/"
SERIES = "wardpulse/v1/series/001/"
KIDS = "kids-5-11-full"
CHANGED = "00004"

with open(os.path.join(PLAN, "plan.json"), encoding="utf-8") as _f:
    COVERAGE = [r["id"] for r in json.load(_f)["rules"] if r["kind"] == "coverage"]

try:
    import jsonschema

    def schema(name):
        with open(os.path.join(SRC, "schemas", name + ".schema.json"), encoding="utf-8") as f:
            return jsonschema.Draft7Validator(json.load(f),
                                              format_checker=jsonschema.FormatChecker())
except ImportError:
    jsonschema = None


class Scene:
    """The run every test looks at, made once (its processes stop after the first test;
    what it leaves — the database, the messages collected, the files — stays)."""
    made = None

    def __init__(self):
        import paho.mqtt.client as mqtt
        self.tmp = TempDir().__enter__()
        self.web = os.path.join(self.tmp, "web")   # the broker's http_dir, as installed
        os.makedirs(self.web)
        self.broker = Broker(self.tmp).start()
        self.sub = Subscriber(self.broker.port, SUMMARY + "#", SERIES + "#")
        anchor = datetime.now(timezone.utc) + timedelta(seconds=1)
        # The service runs with UMask=0077 (systemd/): the reports must still be readable
        # by the broker, another user.
        umask = os.umask(0o077)
        try:
            self.agg = Aggregator(self.tmp, self.broker.port, plan_dir=PLAN,
                                  clock_start=START.isoformat(), clock_rate=RATE,
                                  clock_anchor=anchor.isoformat(timespec="milliseconds"),
                                  clock_stop=STOP.isoformat(), alert_repeat=0,
                                  batch_delay="5ms", web_dir=self.web).start().subscribed()
        finally:
            os.umask(umask)
        client = mqtt.Client(client_id="dashboard-test", clean_session=True)
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        self.sent = []
        try:
            for day in range(DAYS):
                date = START.date() + timedelta(days=day)
                when = datetime(date.year, date.month, date.day, 6, 0, tzinfo=TZ)
                delay = anchor.timestamp() + (when - START).total_seconds() / RATE - time.time()
                if delay > 0:
                    time.sleep(delay)
                for i, ward in enumerate(BA_DINH_WARDS):
                    v = cli_fixture.values(i, ward, day)
                    self.sent.append((ward, date, v))
                    report = {"v": 1, "ward": ward, "stream": "00000000000000d1",
                              "seq": day + 1, "period": date.isoformat(),
                              "observed_at": when.isoformat(), "values": v}
                    client.publish("wardpulse/v1/report/" + ward, json.dumps(report), qos=1)
            try:
                wait_for(lambda: cli_fixture.stored(self.agg.db) == DAYS * len(BA_DINH_WARDS),
                         "every report stored", timeout=20)
            except AssertionError:
                raise AssertionError("%d of %d stored:\n%s" % (
                    cli_fixture.stored(self.agg.db), DAYS * len(BA_DINH_WARDS),
                    self.agg.output()[-3000:]))
        finally:
            client.disconnect()
            client.loop_stop()
        delay = anchor.timestamp() + (STOP - START).total_seconds() / RATE - time.time()
        if delay > 0:
            time.sleep(delay)
        wait_for(lambda: self.settled(), "the summaries as of the stopped clock", timeout=30)
        time.sleep(1)   # anything the last evaluation published has arrived
        self.rows = status_json(self.agg.db, STOP.isoformat())
        self.before = {t: self.latest(t) for t in self.topics()}
        self.count_before = {t: len(self.sub.payloads(t)) for t in self.topics()}
        # The week's report as `wardpulse report` makes it, as of the evaluation that
        # finished W18 (before the correction below changes its figures).
        self.report_w18 = cli("report", "--db", self.agg.db, "--plan", PLAN, "--week",
                              "2022-W18", "--now", "2022-05-09T00:00:00+07:00",
                              "--config", "/dev/null").stdout
        self.correct()
        self.restart_broker()

    @staticmethod
    def topics():
        return ([SUMMARY + w for w in BA_DINH_WARDS + ["district"]]
                + [SERIES + r for r in COVERAGE])

    def restart_broker(self):
        """A broker killed before its next save forgets the retained messages since (or has
        older ones from its file); the aggregator's next connection publishes them all
        again."""
        self.final = {t: self.latest(t) for t in self.topics()}
        self.broker.kill9()
        self.broker.start()
        fresh = Subscriber(self.broker.port, SUMMARY + "#", SERIES + "#",
                           client_id="dashboard-test-fresh")
        try:
            # What the broker saved before (an older summary) comes back from its file at
            # once; the aggregator's payloads must follow it.
            wait_for(lambda: all(fresh.payloads(t) and fresh.payloads(t)[-1] == self.final[t]
                                 for t in self.topics()),
                     "every summary and series again after the broker's restart", timeout=60)
            self.after_restart = {t: fresh.payloads(t)[-1] for t in self.topics()}
        finally:
            fresh.close()

    def correct(self):
        """The agent of CHANGED corrects its 5–11 doses of 8 May."""
        agent = Agent(self.tmp, CHANGED, self.broker.port, ack_timeout="2s").start()
        self.doses = int(cli_fixture.POP[CHANGED]["5_11"] * 0.9)
        agent.submit("2022-05-08", {"vacc_5_11_dose2_cum": self.doses})
        for t in (SUMMARY + CHANGED, SUMMARY + "district", SERIES + KIDS):
            wait_for(lambda: len(self.sub.payloads(t)) > self.count_before[t],
                     t + " published again")
        time.sleep(1)
        self.count_after = {t: len(self.sub.payloads(t)) for t in self.topics()}
        self.rows_after = status_json(self.agg.db, STOP.isoformat())

    def latest(self, topic):
        got = self.sub.payloads(topic)
        return got[-1] if got else None

    def settled(self):
        """Every summary is there and the last ward's report of 8 May is in them."""
        rows = [self.latest(SUMMARY + w) for w in BA_DINH_WARDS + ["district"]]
        return all(r and r["last_report"] and r["last_report"].startswith("2022-05-08")
                   for r in rows) and all(self.latest(SERIES + r) for r in COVERAGE)

    @classmethod
    def get(cls):
        if cls.made is None:
            cls.made = Scene()
        return cls.made


def status_json(db, now):
    out = cli("status", "--db", db, "--plan", PLAN, "--now", now, "--config", "/dev/null",
              "--format", "json").stdout
    return json.loads(out)


def without_at(payload):
    return {k: v for k, v in payload.items() if k != "at"}


def test_summaries_are_what_wardpulse_status_computes():
    s = Scene.get()
    rows = s.rows
    assert [r["scope"] for r in rows] == BA_DINH_WARDS + ["district"], rows
    check = schema("summary") if jsonschema else None
    for row in rows:
        got = s.before[SUMMARY + row["scope"]]
        assert got is not None, row["scope"]
        if check:
            errors = list(check.iter_errors(got))
            assert not errors, (got, errors[0].message)
        assert without_at(got) == without_at(row), (got, row)
    district = s.before[SUMMARY + "district"]
    assert district["unit"] == "001" and district["level_of_unit"] == "district", district
    assert district["name"]["vi"] == "Quận Ba Đình", district
    # Eight days expected of each ward under the daily schedule (and the weekly one).
    assert district["reporting"]["received"] >= DAYS * len(BA_DINH_WARDS), district
    assert district["level"] and district["level"]["week"] == "2022-W18", district
    assert [c["rule"] for c in district["coverage"]] == COVERAGE, district


def test_series_points_are_the_rules_values():
    s = Scene.get()
    check = schema("series") if jsonschema else None
    pop = {w: cli_fixture.POP[w]["5_11"] for w in BA_DINH_WARDS}
    for rid in COVERAGE:
        got = s.before[SERIES + rid]
        assert got is not None, rid
        if check:
            errors = list(check.iter_errors(got))
            assert not errors, (rid, errors[0].message)
        assert [u["scope"] for u in got["units"]] == ["district"] + BA_DINH_WARDS, got
    kids = s.before[SERIES + KIDS]
    units = {u["scope"]: u for u in kids["units"]}
    for ward in BA_DINH_WARDS:
        doses = {d.isoformat(): v["vacc_5_11_dose2_cum"] for w, d, v in s.sent if w == ward}
        expect = []
        for k in range(DAYS + 1):   # 1 … 9 May: the 8 May figure is in force on the 9th
            day = START.date() + timedelta(days=k)
            n = doses.get(day.isoformat(), doses[(START.date() + timedelta(days=DAYS - 1))
                                                   .isoformat()])
            expect.append([day.isoformat(), round(n / pop[ward], 4)])
        assert units[ward]["points"] == expect, (ward, units[ward]["points"], expect)
    district = s.before[SUMMARY + "district"]
    value = [c["value"] for c in district["coverage"] if c["rule"] == KIDS][0]
    assert units["district"]["points"][-1] == ["2022-05-09", value], (units["district"], value)


def test_a_correction_republishes_its_ward_the_district_and_the_series():
    s = Scene.get()
    old = [c["value"] for c in s.before[SUMMARY + CHANGED]["coverage"] if c["rule"] == KIDS][0]
    new = [c["value"] for c in s.latest(SUMMARY + CHANGED)["coverage"] if c["rule"] == KIDS][0]
    assert new == round(s.doses / cli_fixture.POP[CHANGED]["5_11"], 4) and new != old, (old, new)
    points = {u["scope"]: u["points"] for u in s.latest(SERIES + KIDS)["units"]}
    assert points[CHANGED][-2:] == [["2022-05-08", new], ["2022-05-09", new]], points[CHANGED]
    others = [t for t in Scene.topics() if t.startswith(SUMMARY)
              and t not in (SUMMARY + CHANGED, SUMMARY + "district")
              and s.count_after[t] != s.count_before[t]]
    assert not others, "summaries published again without a change: %s" % others
    for t in (SUMMARY + CHANGED, SUMMARY + "district", SERIES + KIDS):
        assert s.count_after[t] == s.count_before[t] + 1, (t, s.count_before[t], s.count_after[t])
    for row in s.rows_after:
        assert without_at(row) == without_at(s.latest(SUMMARY + row["scope"])), row


def test_a_broker_that_lost_its_retained_messages_gets_them_again():
    s = Scene.get()
    for t in Scene.topics():
        assert s.after_restart[t] == s.final[t], (t, s.after_restart[t], s.final[t])


def test_finished_weeks_are_written_for_the_page():
    s = Scene.get()
    with open(os.path.join(s.web, "reports", "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    if jsonschema:
        errors = list(schema("reports_index").iter_errors(index))
        assert not errors, errors[0].message
    # The plan's reporting starts on 1 May (W17); the clock stopped in W19.
    assert index == {"v": 1, "district": "001", "reports": [
        {"week": "2022-W18", "from": "2022-05-02", "to": "2022-05-08", "file": "001-2022-W18.html"},
        {"week": "2022-W17", "from": "2022-04-25", "to": "2022-05-01", "file": "001-2022-W17.html"},
    ]}, index
    with open(os.path.join(s.web, "reports", "001-2022-W18.html"), encoding="utf-8") as f:
        html = f.read()
    assert "<svg" in html and "Phường Phúc Xá" in html, html[:400]
    assert html == s.report_w18, "the page's report differs from `wardpulse report`'s"
    assert sorted(os.listdir(os.path.join(s.web, "reports"))) == [
        "001-2022-W17.html", "001-2022-W18.html", "index.json"]
    # Readable by the broker (another user) whatever the aggregator's umask.
    reports = os.path.join(s.web, "reports")
    assert stat.S_IMODE(os.stat(reports).st_mode) == 0o755, oct(os.stat(reports).st_mode)
    for name in os.listdir(reports):
        mode = stat.S_IMODE(os.stat(os.path.join(reports, name)).st_mode)
        assert mode == 0o644, (name, oct(mode))


def kept_and_gone(dropped_rule, dropped_ward):
    """The page-state topics a plan without the ward and the rule makes, and theirs."""
    kept = ([SUMMARY + w for w in BA_DINH_WARDS if w != dropped_ward] + [SUMMARY + "district"]
            + [SERIES + r for r in COVERAGE if r != dropped_rule])
    return kept, [SUMMARY + dropped_ward, SERIES + dropped_rule]


def assert_broker_holds(broker, kept, gone):
    """A fresh subscriber: the broker holds the kept topics and nothing for the gone ones
    (a retained message comes at once on subscribing; the kept ones show it has come)."""
    fresh = Subscriber(broker.port, SUMMARY + "#", SERIES + "#", client_id="fresh")
    try:
        wait_for(lambda: all(fresh.payloads(t) for t in kept), "the kept topics")
        time.sleep(0.5)
        for t in gone:
            assert not fresh.payloads(t), (t, fresh.payloads(t))
        assert all(p is not None for t in kept for p in fresh.payloads(t))
    finally:
        fresh.close()


def drop_from_plan(plan, dropped_rule, dropped_ward):
    """Edits the plan files in place: the ward and the coverage rule are gone."""
    def drop(value):            # the ward out of every list of participants
        if isinstance(value, list):
            return [drop(v) for v in value if v != dropped_ward]
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items()}
        return value
    for name in ("orgunits.json", "plan.json"):
        with open(os.path.join(plan, name), encoding="utf-8") as f:
            doc = json.load(f)
        if name == "orgunits.json":
            doc["units"] = [u for u in doc["units"] if u["code"] != dropped_ward]
        else:
            doc["rules"] = [r for r in doc["rules"] if r["id"] != dropped_rule]
            doc = drop(doc)
        with open(os.path.join(plan, name), "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)


def test_a_plan_reload_clears_the_topics_of_a_dropped_rule_and_ward():
    dropped_rule, dropped_ward = "booster-18p", "00034"
    with TempDir() as tmp:
        plan = os.path.join(tmp, "plan")
        shutil.copytree(PLAN, plan)
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port, plan_dir=plan, clock_start=STOP.isoformat(),
                         clock_rate=1, batch_delay="5ms").start().subscribed()
        kept, gone = kept_and_gone(dropped_rule, dropped_ward)
        sub = Subscriber(broker.port, SUMMARY + "#", SERIES + "#")
        wait_for(lambda: all(sub.payloads(t) for t in kept + gone), "every topic published")

        drop_from_plan(plan, dropped_rule, dropped_ward)
        agg.proc.send_signal(signal.SIGHUP)
        rules = lambda: [c["rule"] for c in sub.payloads(SUMMARY + "district")[-1]["coverage"]]
        try:
            wait_for(lambda: "reloaded" in agg.output(), "the plan reloaded", timeout=20)
            # The live subscriber sees the empty retained messages that clear them.
            wait_for(lambda: all(sub.payloads(t)[-1] is None for t in gone),
                     "the two topics cleared", timeout=30)
            wait_for(lambda: dropped_rule not in rules(), "the district's summary without it")
        finally:
            sub.close()
        assert agg.output().count("is no longer in the plan") == 2, agg.output()[-2000:]
        assert_broker_holds(broker, kept, gone)


def test_a_plan_changed_while_stopped_has_its_dropped_topics_cleared_at_start():
    """The plan is edited while the aggregator is stopped: the new run never made the
    dropped ward's summary nor the dropped rule's series, and the broker still holds them
    retained. The reconciliation after connecting clears them (and only them)."""
    dropped_rule, dropped_ward = "booster-18p", "00034"
    with TempDir() as tmp:
        plan = os.path.join(tmp, "plan")
        shutil.copytree(PLAN, plan)
        broker = Broker(tmp).start()
        settings = dict(plan_dir=plan, clock_start=STOP.isoformat(), clock_rate=1,
                        batch_delay="5ms")
        agg = Aggregator(tmp, broker.port, **settings).start().subscribed()
        kept, gone = kept_and_gone(dropped_rule, dropped_ward)
        sub = Subscriber(broker.port, SUMMARY + "#", SERIES + "#")
        try:
            wait_for(lambda: all(sub.payloads(t) for t in kept + gone), "every topic published")
        finally:
            sub.close()
        assert agg.stop() == 0
        drop_from_plan(plan, dropped_rule, dropped_ward)
        watch = Subscriber(broker.port, SUMMARY + "#", SERIES + "#", client_id="watch")
        try:
            wait_for(lambda: all(watch.payloads(t) for t in gone), "the stale topics held")
            agg.start().subscribed()
            # The broker took the empty retained messages that clear them.
            wait_for(lambda: all(watch.payloads(t)[-1] is None for t in gone),
                     "the two topics cleared", timeout=30)
        finally:
            watch.close()
        assert_broker_holds(broker, kept, gone)
        assert agg.output().count("reconcile: cleared") == 2, agg.output()[-3000:]


if __name__ == "__main__":
    if not os.path.exists(CLI_BIN):
        raise SystemExit("build first: %s is missing" % CLI_BIN)
    run_tests(globals())
