"""The 2022 replay end to end (issue 4): 14 real agents, a real mosquitto and the aggregator
on one simulated clock replay Ba Đình's May–September 2022 (tests/replay/replay2022.py, with its known
faults) at a day per second, and the district must raise EXACTLY the alerts of the independent
oracle (tests/replay/replay2022_expected.py; its output for this replay is
tests/data/replay2022/expected-alerts.json, kept current by test_replay_generator.py).

tests/replay/replay_driver.py starts everything and hands each report to its ward's agent (spool folder)
when the clock reaches it. It moves the reports of a day's morning and afternoon into an early
window of the same day (documented there), so the ORDER of reports and clock instants is the
replay's, and checks afterwards, from the aggregator's received_at, that every report arrived
between the same two clock instants as in the replay (check_timeline: otherwise the machine was
too slow for the rate, and the test says so rather than blaming an alert). Every clock stops at
06:00 after the last day (clock_stop), and the aggregator is stopped once it has evaluated up to
there: what is asserted is the same however late a loaded machine stops it (without the stop,
half a real second late was the next cut-off: one more expected report per ward, then 14
report_missing alerts).

What is asserted, for every episode of the oracle (rule, scope, kind), and nothing else:
  * fired, escalated (at risk → missed), resolved or still firing at the end, with the severity;
  * clock-driven instants (a cut-off + grace, the end of a due day, a midnight) EXACTLY;
  * report-driven instants (the arrival of the report that caused it): no earlier than that report
    reached the aggregator and at most TOLERANCE after the driver's planned instant for it (the
    documented map of the oracle's instant), and before the next clock instant;
  * every transition on wardpulse/v1/events/alert, valid against alert.schema.json, one per row
    of alert_events (alert_repeat 0: no repeats);
  * at the end `mosquitto_sub -t 'wardpulse/v1/alert/#' -v` shows exactly the alerts still firing;
  * every level payload published (wardpulse/v1/level/…) is valid against level.schema.json
    (python-jsonschema; the retained ones also with `wardpulse validate level`), the retained ones
    are of week 2022-W38 (the last complete week) for the 14 wards and the district, and each
    unit's highest weekly level in the database is the oracle's (the level-surge fault's ward
    rises 3 → 4 and falls back: its level alert fires, rises as news, and resolves);
  * reporting rates: every ward complete every day, on time exactly when its report arrived by the
    cut-off (every day but Đội Cấn's three holiday days, unless the machine was very slow).

Budget: the clock runs at WP_REPLAY_RATE simulated seconds per real second; by default a day per
second (about 165 s for the 153 days with start-up and checks), 1.25 s per day in a sanitizer build
(about 205 s). WP_REPLAY_START / WP_REPLAY_END replay a shorter window (faults outside it dropped,
the oracle computed for it).
"""
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import time

from harness import BUILD, CLI_BIN, SRC, Subscriber, run_tests

sys.path.insert(0, os.path.join(SRC, "tests", "replay"))
import replay2022  # noqa: E402
import replay2022_expected  # noqa: E402
import replay_driver  # noqa: E402

try:
    import jsonschema
except ImportError:         # Debian's python3-jsonschema; the C validator still checks levels
    jsonschema = None

RATE = int(os.environ.get("WP_REPLAY_RATE") or replay_driver.default_rate(BUILD))
START = os.environ.get("WP_REPLAY_START", replay2022.DEFAULT_START)
END = os.environ.get("WP_REPLAY_END", replay2022.DEFAULT_END)
GOLDEN = os.path.join(SRC, "tests", "data", "replay2022", "expected-alerts.json")
PLAN = replay_driver.PLAN_DIR
DISTRICT = "001"
ALERTS = "wardpulse/v1/alert/"
LEVELS = "wardpulse/v1/level/"
EVENTS = "wardpulse/v1/events/alert"
# Report-driven instants: at most this long (real seconds, × RATE simulated) after the planned
# instant of the report that caused them — 12 simulated hours at a day per second. Measured
# delivery on a loaded 2-core machine: < 0.15 s real (ASan).
TOLERANCE = datetime.timedelta(seconds=0.5 * RATE)


def schema(name):
    with open(os.path.join(SRC, "schemas", name + ".schema.json"), encoding="utf-8") as f:
        return json.load(f)


def instant(s):
    return replay2022.parse_instant(s) if s else None


def expected_result(replay):
    """The oracle's answer: the golden file for the default replay, computed otherwise."""
    if (START, END) == (replay2022.DEFAULT_START, replay2022.DEFAULT_END):
        with open(GOLDEN, encoding="utf-8") as f:
            return json.load(f)
    return replay2022_expected.expected_alerts(PLAN, replay.reports, replay.faults)


def engine_episodes(db_path):
    """alert_events as episodes: [{rule, scope, kind, severity, fired, escalations: [(at,
    severity)], resolved}] in the order they fired (instants as datetimes)."""
    out = []
    with sqlite3.connect("file:%s?mode=ro" % db_path, uri=True) as db:
        rows = db.execute("SELECT rule, scope, state, severity, at, payload FROM alert_events "
                          "ORDER BY id").fetchall()
    open_ = {}
    for rule, scope, state, severity, at, payload in rows:
        p = json.loads(payload)
        key = (rule, scope)
        ep = open_.get(key)
        if state == "firing" and ep is None:
            ep = {"rule": rule, "scope": scope, "kind": p["kind"], "severity": severity,
                  "value": p.get("value"), "fired": instant(p["since"]), "escalations": [],
                  "resolved": None}
            out.append(ep)
            open_[key] = ep
        elif state == "firing":
            # News while firing: a new severity (at risk → missed) or a new level (3 → 4).
            assert severity != ep["severity"] or (p["kind"] == "level"
                                                  and p.get("value") != ep["value"]), \
                "firing twice without a change: %s %s" % key
            ep["escalations"].append((instant(at), severity, p.get("value")))
            ep["severity"], ep["value"] = severity, p.get("value")
        elif state == "resolved":
            assert ep is not None, "resolved without firing: %s %s" % key
            ep["resolved"] = instant(p["since"])
            ep["severity"] = severity
            del open_[key]
        else:
            raise AssertionError("unknown transition %r of %s %s" % (state, rule, scope))
    return out, rows


class Causes:
    """Finds the report that caused a report-driven transition, as the driver handed it in."""

    def __init__(self, timeline, schedule):
        self.timeline, self.schedule = timeline, schedule
        self.by_key = {(e["report"]["ward"], e["report"]["period"], e["original"]): e
                       for e in timeline}

    def __call__(self, ref, scope=None):
        t = instant(ref.get("delivered_at") or ref["observed_at"])   # when it arrived
        cause = self.by_key[(ref["ward"], ref["period"], t)]
        if scope != "district":
            return cause
        # A district's outcome moves with any ward's report: the oracle names the first to
        # arrive in its order, but the agents deliver in parallel, so the first report of that
        # period to reach the aggregator between the same two clock instants is the cause.
        interval = self.schedule.interval(cause["original"])
        same = [e for e in self.timeline if e["report"]["period"] == ref["period"]
                and e["received"] is not None
                and self.schedule.interval(e["original"]) == interval]
        return min(same, key=lambda e: e["received"]) if same else cause


def check_instant(drv, causes, what, got, want, by, ref, scope=None):
    """One transition's instant: exact when the clock caused it, else within the tolerance."""
    if by == "clock":
        assert got == instant(want), "%s at %s, expected exactly %s" % (what, got, want)
        return datetime.timedelta(0)
    cause = causes(ref, scope)
    _, next_clock = drv.schedule.interval(cause["original"])
    assert cause["received"] <= got <= cause["planned"] + TOLERANCE and got < next_clock, (
        "%s at %s: its report (%s %s, oracle %s) was planned for %s and reached the aggregator "
        "at %s; allowed up to %s" % (what, got, ref["ward"], ref["period"], want,
                                     cause["planned"], cause["received"],
                                     min(cause["planned"] + TOLERANCE, next_clock)))
    return got - cause["planned"]


def compare(drv, expected, got):
    causes = Causes(drv.timeline(), drv.schedule)
    unmatched = list(got)
    worst = datetime.timedelta(0)
    for ep in expected["alerts"]:
        key = (ep["rule"], ep["scope"])
        mine = next((g for g in unmatched if (g["rule"], g["scope"]) == key), None)
        assert mine is not None, "missing alert: %s %s (%s) fired %s [%s]" % (
            ep["rule"], ep["scope"], ep["kind"], ep["fired_at"], ep["cause"])
        unmatched.remove(mine)
        what = "%s %s" % key
        assert mine["kind"] == ep["kind"], "%s: kind %s, expected %s" % (what, mine["kind"],
                                                                          ep["kind"])
        assert mine["severity"] == ep["severity"], "%s: severity %s, expected %s" % (
            what, mine["severity"], ep["severity"])
        worst = max(worst, check_instant(drv, causes, what + " fired", mine["fired"],
                                         ep["fired_at"], ep["fired_by"], ep["fired_report"],
                                         ep["scope"]))
        changes = [p for p in ep["phases"][1:]]
        assert len(mine["escalations"]) == len(changes), "%s: phases %s, expected %s" % (
            what, mine["escalations"], changes)
        for (at, severity, value), phase in zip(mine["escalations"], changes):
            assert severity == phase["severity"], "%s: %s from %s, expected %s" % (
                what, severity, at, phase["severity"])
            if phase["state"].startswith("level_"):
                assert value == int(phase["state"][6:]), "%s: level %s from %s, expected %s" % (
                    what, value, at, phase["state"])
            check_instant(drv, causes, "%s %s" % (what, phase["state"]), at, phase["from"],
                          phase["by"], None)
        if ep["firing_at_end"]:
            assert mine["resolved"] is None, "%s resolved at %s; expected still firing" % (
                what, mine["resolved"])
        else:
            assert mine["resolved"] is not None, "%s still firing; expected resolved at %s" % (
                what, ep["resolved_at"])
            worst = max(worst, check_instant(drv, causes, what + " resolved", mine["resolved"],
                                             ep["resolved_at"], ep["resolved_by"],
                                             ep["resolved_report"], ep["scope"]))
    assert not unmatched, "unexpected alerts: %s" % ["%s %s %s fired %s resolved %s" % (
        g["rule"], g["scope"], g["severity"], g["fired"], g["resolved"]) for g in unmatched]
    return worst


def mosquitto_sub(port, topic):
    """`mosquitto_sub -t TOPIC -v` as an operator runs it, ending after 2 s: {topic: payload}."""
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-v",
                        "--retained-only", "-W", "2"], capture_output=True, text=True, timeout=30)
    out = {}
    for line in r.stdout.splitlines():
        t, _, payload = line.partition(" ")
        assert t not in out, "%s twice" % t
        out[t] = payload
    return out


def validate_with_cli(tmp, name, payloads):
    """`wardpulse validate NAME FILE` on each payload; the failures."""
    bad = []
    for i, text in enumerate(payloads):
        path = os.path.join(tmp, "%s-%d.json" % (name, i))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        r = subprocess.run([CLI_BIN, "validate", name, path], capture_output=True, text=True)
        if r.returncode != 0:
            bad.append("%s: %s%s" % (text, r.stdout, r.stderr))
    return bad


def test_replay_2022_raises_exactly_the_expected_alerts():
    started = time.monotonic()
    with replay_driver.RunDir() as tmp:
        faults = replay_driver.faults_within(replay2022.DEFAULT_FAULTS, START, END)
        with replay_driver.ReplayDriver(os.path.join(tmp, "run"), start=START, end=END,
                                        faults=faults, rate=RATE) as drv:
            expected = expected_result(drv.replay)
            assert instant(expected["until"]) == drv.until, (expected["until"], drv.until)
            subs = {}
            drv.start(on_broker=lambda b: subs.update(
                sub=Subscriber(b.port, EVENTS, LEVELS + "#", client_id="replay-test")))
            sub = subs["sub"]
            drv.run()
            code = drv.stop_aggregator()
            assert code == 0, "aggregator exit %s:\n%s" % (code, drv.aggregator.output()[-3000:])
            run_s = time.monotonic() - started
            drv.wait_stored(timeout=10)
            delivery = drv.check_timeline()

            # Exactly the oracle's episodes.
            got, rows = engine_episodes(drv.aggregator.db)
            worst = compare(drv, expected, got)

            # Every transition on events/alert, valid, one per row of alert_events.
            time.sleep(0.5)
            events = sub.payloads(EVENTS)
            if jsonschema:
                alert_schema = schema("alert")
                for e in events:
                    jsonschema.validate(e, alert_schema)
            announced = sorted((e["rule"], e["scope"], e["state"], e["severity"], e["since"])
                               for e in events)
            recorded = sorted((r[0], r[1], r[2], r[3], json.loads(r[5])["since"]) for r in rows)
            assert announced == recorded, "events/alert %s\nalert_events %s" % (announced,
                                                                               recorded)

            # mosquitto_sub at the end: exactly the alerts still firing.
            retained = mosquitto_sub(drv.broker.port, ALERTS + "#")
            firing = {"%s%s/%s/%s" % (ALERTS, DISTRICT, ep["scope"], ep["rule"]): ep
                      for ep in expected["alerts"] if ep["firing_at_end"]}
            assert set(retained) == set(firing), "retained %s\nexpected %s" % (
                sorted(retained), sorted(firing))
            for topic, text in retained.items():
                p = json.loads(text)
                assert p["state"] == "firing" and p["severity"] == firing[topic]["severity"], p
                assert p["kind"] == firing[topic]["kind"], p

            # Epidemic levels: every payload valid; the retained ones of the last whole week.
            level_payloads = [json.dumps(p, ensure_ascii=False) for p in sub.payloads()
                              if p and "week" in p]
            assert level_payloads, "no level published"
            if jsonschema:
                level_schema = schema("level")
                checker = jsonschema.Draft7Validator.FORMAT_CHECKER
                for text in level_payloads:
                    jsonschema.validate(json.loads(text), level_schema, format_checker=checker)
            retained_levels = mosquitto_sub(drv.broker.port, LEVELS + "#")
            scopes = drv.replay.wards + ["district"]
            assert set(retained_levels) == {"%s%s/%s" % (LEVELS, DISTRICT, s) for s in scopes}, \
                sorted(retained_levels)
            bad = validate_with_cli(tmp, "level", list(retained_levels.values()))
            assert not bad, "wardpulse validate level refused:\n" + "\n".join(bad)
            today = drv.until.date()      # the aggregator stopped that morning
            last_week = today - datetime.timedelta(days=today.weekday() + 7)   # its Monday
            week = "%04d-W%02d" % last_week.isocalendar()[:2]
            bound = expected["levels"]
            for topic, text in retained_levels.items():
                p = json.loads(text)
                assert p["week"] == week and p["rule"] == "epidemic-level", (week, p)
                assert p["level"] <= bound["epidemic-level/" + p["scope"]]["level"], (bound, p)
            with sqlite3.connect("file:%s?mode=ro" % drv.aggregator.db, uri=True) as db:
                for scope, level in db.execute("SELECT scope, MAX(level) FROM levels "
                                                "GROUP BY scope"):
                    # The highest weekly level of each unit is the oracle's (Thành Công's
                    # August cluster: 4; every other unit 1).
                    assert level == bound["epidemic-level/" + scope]["level"], (scope, level)
                rates = {w: (e, r, o) for w, e, r, o in db.execute(
                    "SELECT ward, expected, received, on_time FROM reporting_rates "
                    "WHERE rule = 'daily-report'")}

            # Reporting rates (DHIS2's): every day of every ward received, on time when its
            # report arrived by the cut-off — every day but the back-filled ones, as the early
            # window hands the daily reports in hours before it.
            days = (replay2022.parse_day(END) - replay2022.parse_day(START)).days + 1
            cutoff = drv.schedule.cutoff
            first = {}
            for e in drv.timeline():
                r = e["report"]
                if r["kind"] in ("daily", "backfill"):
                    key = (r["ward"], r["period"])
                    first[key] = min(first.get(key, e["received"]), e["received"])
            on_time = {w: 0 for w in drv.replay.wards}
            for (w, period), received in first.items():
                on_time[w] += received <= drv.schedule.midnight(
                    replay2022.parse_day(period)) + cutoff
            gaps = {f["ward"]: len(f["periods"]) for f in drv.replay.faults
                    if f["kind"] == "report_gap"}
            late = sum(days - gaps.get(w, 0) - n for w, n in on_time.items())
            assert rates == {w: (days, days, on_time[w]) for w in drv.replay.wards}, \
                (rates, on_time)

            sub.close()
            codes = drv.stop()
            assert all(c == 0 for c in codes.values()), codes
            print("%d reports, %d alert episodes as expected, %d transitions; replay %.0fs at "
                  "rate %d; delivery ≤ %s, report-driven instants ≤ %s after plan (simulated); "
                  "%d daily report(s) after the cut-off" % (len(drv.handed), len(got), len(rows),
                                                            run_s, RATE, delivery, worst, late))


run_tests(globals())
