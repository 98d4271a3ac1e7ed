#!/usr/bin/python3
"""The 2022 replay generator (tests/replay/replay2022.py) and its oracle (tests/replay/replay2022_expected.py).

No daemons here: this checks the replay's data itself, before any driver feeds it to agents.
  - same seed, same reports (also across processes, whatever PYTHONHASHSEED);
  - every report, completed with v/ward/stream/seq/observed_at as the agent does, is valid for
    `wardpulse validate report`; every indicator and task is in the catalog and every value within
    the catalog's bounds (what the aggregator checks under a plan);
  - every ward reports every day before the cut-off, except where a fault says otherwise;
  - cumulative counts never decrease and no data-quality relation of the plan fails, except where a
    fault says so; the faults appear exactly as listed; tasks are done before their due dates except
    the late one; the figures are those DOMAIN.md describes;
  - the oracle: each fault raises the alerts it should, nothing else fires but the documented
    baseline, the verdicts do not hang on how the trend is computed, the answer matches the golden
    file tests/data/replay2022/expected-alerts.json, and on a hand-made replay it gives the answers
    worked out by hand;
  - the CLI writes the files and the JSON lines the drivers read.

Run: WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_replay_generator.py [test_name ...]
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from harness import CLI_BIN, SRC, run_tests

sys.path.insert(0, os.path.join(SRC, "tests", "replay"))
import replay2022  # noqa: E402
import replay2022_expected  # noqa: E402

PLAN_DIR = os.path.join(SRC, "plans", "ba-dinh-2022")
GOLDEN = os.path.join(SRC, "tests", "data", "replay2022", "expected-alerts.json")
REGENERATE = ("tests/replay/replay2022_expected.py --plan plans/ba-dinh-2022 "
              "--write tests/data/replay2022/expected-alerts.json")

_cache = {}


def replay(faults="default"):
    if faults not in _cache:
        _cache[faults] = replay2022.generate(
            PLAN_DIR, faults=replay2022.DEFAULT_FAULTS if faults == "default" else [])
    return _cache[faults]


def expected(faults="default"):
    key = ("expected", faults)
    if key not in _cache:
        r = replay(faults)
        _cache[key] = replay2022_expected.expected_alerts(PLAN_DIR, r.reports, r.faults)
    return _cache[key]


def load(name):
    with open(os.path.join(PLAN_DIR, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


CATALOG = load("catalog")
PLAN = load("plan")
ORGUNITS = load("orgunits")
INDICATORS = {i["id"]: i for i in CATALOG["indicators"]}
RULES = {r["id"]: r for r in PLAN["rules"]}
UNITS = {u["code"]: u for u in ORGUNITS["units"]}
DAY = datetime.timedelta(days=1)
WARDS = sorted(c for c, u in UNITS.items() if u["level"] == "ward" and u.get("parent") == "001")


def day(s):
    return datetime.date.fromisoformat(s)


def instant(s):
    return datetime.datetime.fromisoformat(s)


def fault(kind, r=None):
    return [f for f in (r or replay()).faults if f["kind"] == kind]


def in_force(reports):
    """{ward: {period: {indicator: value}}} after every report, later ones superseding."""
    out = {}
    for r in reports:
        out.setdefault(r["ward"], {}).setdefault(r["period"], {}).update(r["values"])
    return out


def check_failures(values_by_period, ward):
    """[(rule id, period)] of the plan's ward checks that fail on one ward's values."""
    failing = []
    pops = UNITS[ward]["population"]
    for rule in PLAN["rules"]:
        if rule["kind"] != "check" or rule["applies_to"] not in ("ward", "both"):
            continue
        rel = rule["relation"]
        prev = None
        for period in sorted(values_by_period):
            v = values_by_period[period]
            if "never_decreases" in rel:
                x = v.get(rel["never_decreases"])
                if x is None:
                    continue
                if prev is not None and x < prev:
                    failing.append((rule["id"], period))
                prev = x
                continue
            left = v.get(rel["left"])
            right = (pops.get(rel["right"]["population"]) if isinstance(rel["right"], dict)
                     else v.get(rel["right"]))
            if left is None or right is None:
                continue
            ok = {">=": left >= right, "<=": left <= right, "==": left == right}[rel["op"]]
            if not ok:
                failing.append((rule["id"], period))
    return failing


# ------------------------------------------------------------------------------------------
# The generator

def test_same_seed_same_reports_different_seed_different():
    a = replay2022.generate(PLAN_DIR, seed=7)
    b = replay2022.generate(PLAN_DIR, seed=7)
    c = replay2022.generate(PLAN_DIR, seed=8)
    dump = lambda r: json.dumps(r.reports, sort_keys=True)
    assert dump(a) == dump(b), "same seed, different reports"
    assert a.faults == b.faults
    assert dump(a) != dump(c), "seed 7 and 8 give the same reports"
    # In another process, with another hash seed, through the CLI.
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, os.path.join(SRC, "tests", "replay", "replay2022.py"), "--plan",
                          PLAN_DIR, "--format", "jsonl", "--seed", "7"], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.splitlines() == list(replay2022.jsonl_lines(a)), "CLI output differs from the API"


def test_replay_covers_the_wards_and_days_in_time_order():
    r = replay()
    wards = sorted(u["code"] for u in ORGUNITS["units"] if u["level"] == "ward")
    assert r.wards == wards and len(wards) == 14
    assert r.start == day("2022-05-01") and r.end == day("2022-09-30")
    times = [replay2022.arrival(x) for x in r.reports]
    assert times == sorted(times), "reports are not in order of arrival"
    for x in r.reports:
        assert x["observed_at"].endswith("+07:00"), x["observed_at"]
        assert r.start <= day(x["period"]) <= r.end
    days = r.days()
    assert [d for d, _ in days] == sorted({d for d, _ in days})
    assert sum(len(rs) for _, rs in days) == len(r.reports)
    # 14 wards × 153 days, plus one correction.
    assert len(r.reports) == 14 * 153 + 1, len(r.reports)


def _complete(report, stream, seq):
    doc = dict(replay2022.body(report))
    doc.update(v=1, ward=report["ward"], stream=stream, seq=seq, observed_at=report["observed_at"])
    return doc


def test_every_report_is_valid_for_wardpulse_validate():
    assert os.path.exists(CLI_BIN), "build the CLI first: %s" % CLI_BIN
    r = replay()
    seqs = {}
    with tempfile.TemporaryDirectory(prefix="wardpulse-replay-") as tmp:
        paths = []
        for i, rep in enumerate(r.reports):
            seqs[rep["ward"]] = seqs.get(rep["ward"], 0) + 1
            stream = "%016x" % (0xa000 + int(rep["ward"]))
            path = os.path.join(tmp, "%05d.json" % i)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(_complete(rep, stream, seqs[rep["ward"]]), f, ensure_ascii=False)
            paths.append(path)

        def validate(path):
            p = subprocess.run([CLI_BIN, "validate", "report", path], capture_output=True,
                               text=True, timeout=60)
            return None if p.returncode == 0 else (path, p.returncode, p.stdout + p.stderr)

        with ThreadPoolExecutor(4) as pool:
            bad = [x for x in pool.map(validate, paths) if x]
    assert not bad, "%d invalid reports, e.g. %s" % (len(bad), bad[:3])


def test_indicators_tasks_and_values_are_in_the_catalog():
    tasks = {t["id"] for t in CATALOG["tasks"]}
    for rep in replay().reports:
        for ind, v in rep["values"].items():
            assert ind in INDICATORS, "%s not in the catalog" % ind
            b = INDICATORS[ind].get("bounds", {})
            assert isinstance(v, int) and b.get("min", 0) <= v <= b.get("max", 10 ** 12), \
                "%s %s %s = %r outside %s" % (rep["ward"], rep["period"], ind, v, b)
        for task, state in rep["tasks"].items():
            assert task in tasks and state in ("not_started", "in_progress", "done"), (task, state)
        assert len(rep.get("note", "")) <= 1000


def test_every_ward_reports_every_day_before_the_cutoff():
    r = replay()
    schedule = RULES["daily-report"]
    gaps = {(f["ward"], p): f for f in fault("report_gap") for p in f["periods"]}
    daily = {}
    for rep in r.reports:
        if rep["kind"] == "correction":
            continue
        key = (rep["ward"], rep["period"])
        assert key not in daily, "two reports for %s" % (key,)
        daily[key] = rep
        for ind in schedule["indicators"]:
            assert ind in rep["values"], "%s lacks %s" % (key, ind)
        at = instant(rep["observed_at"])
        cutoff = datetime.datetime.combine(
            day(rep["period"]), datetime.time.fromisoformat(schedule["cutoff"]), at.tzinfo)
        if key in gaps:
            assert rep["kind"] == "backfill" and at > cutoff, rep["observed_at"]
        else:
            assert rep["kind"] == "daily" and at < cutoff, (key, rep["observed_at"])
            assert at.date() == day(rep["period"])
    d = r.start
    while d <= r.end:
        for w in r.wards:
            assert (w, d.isoformat()) in daily, "no report of %s for %s" % (w, d)
        d += DAY


def test_cumulatives_never_decrease_except_the_listed_fault():
    r = replay()
    slips = {(f["ward"], f["period"], f["indicator"]): f for f in fault("cumulative_decrease")}
    cumulative = [i for i, x in INDICATORS.items() if x["kind"] == "cumulative"]
    # As first sent (daily and back-filled reports, in period order).
    sent = {}
    for rep in r.reports:
        if rep["kind"] != "correction":
            sent.setdefault(rep["ward"], {})[rep["period"]] = rep["values"]
    found = set()
    for ward, periods in sent.items():
        for ind in cumulative:
            prev = None
            for p in sorted(periods):
                x = periods[p].get(ind)
                if x is None:
                    continue
                if prev is not None and x < prev:
                    found.add((ward, p, ind))
                    f = slips.get((ward, p, ind))
                    assert f and prev - x <= f["drop"], "%s %s %s: %d after %d" % (
                        ward, p, ind, x, prev)
                prev = x
    assert found == set(slips), "decreases %s, listed %s" % (sorted(found), sorted(slips))
    # After the corrections, nothing decreases.
    for ward, periods in in_force(r.reports).items():
        for ind in cumulative:
            xs = [periods[p][ind] for p in sorted(periods) if ind in periods[p]]
            assert xs == sorted(xs), "%s %s still decreases after corrections" % (ward, ind)


def test_no_check_relation_fails_except_the_listed_fault():
    r = replay()
    expected_fail = {(f["ward"], c, f["period"]) for f in fault("cumulative_decrease")
                     for c in f["checks"]}
    assert expected_fail, "the decrease fault names no check of the plan"
    sent = {}
    for rep in r.reports:
        if rep["kind"] != "correction":
            sent.setdefault(rep["ward"], {}).setdefault(rep["period"], {}).update(rep["values"])
    failing = {(w, rule, p) for w, periods in sent.items()
               for rule, p in check_failures(periods, w)}
    assert failing == expected_fail, "failing %s, expected %s" % (sorted(failing), expected_fail)
    for w, periods in in_force(r.reports).items():
        assert not check_failures(periods, w), (w, check_failures(periods, w)[:3])
    # The district checks (applies_to both) on the rolled-up values of each complete period.
    final = in_force(r.reports)
    for rule in PLAN["rules"]:
        if rule["kind"] == "check" and rule["applies_to"] == "both":
            rel = rule["relation"]
            for p in sorted(final[r.wards[0]]):
                left = [final[w][p].get(rel["left"]) for w in r.wards]
                right = [final[w][p].get(rel["right"]) for w in r.wards]
                if None in left or None in right:
                    continue
                assert {">=": sum(left) >= sum(right), "<=": sum(left) <= sum(right),
                        "==": sum(left) == sum(right)}[rel["op"]], (rule["id"], p)


def test_faults_appear_exactly_as_listed():
    r = replay()
    kinds = sorted(f["kind"] for f in r.faults)
    assert kinds == ["coverage_lag", "coverage_lag", "cumulative_decrease", "delivery_outage",
                     "figures_never_sent", "level_surge", "report_gap", "task_late"], kinds
    for f in r.faults:
        assert f["description"] and f["id"], f
    values = in_force(r.reports)
    # Coverage lag: the listed wards below the target on the deadline (or at the end of the replay
    # when the deadline is later), the others at it.
    for f in fault("coverage_lag"):
        rule = RULES[f["rule"]]
        when = min(day(rule["deadline"]), r.end).isoformat()
        for w in r.wards:
            if rule["numerator"] not in values[w][when]:
                continue      # a ward that never sends them (figures_never_sent)
            ratio = values[w][when][rule["numerator"]] / UNITS[w]["population"][rule["population"]]
            if w in f["wards"]:
                assert ratio < rule["target"], (f["id"], w, ratio)
                if f.get("reach"):
                    assert f["reach"][0] - 0.01 <= ratio <= f["reach"][1] + 0.01, (w, ratio)
            else:
                assert ratio >= rule["target"], (f["id"], w, ratio)
    assert next(f for f in fault("coverage_lag") if f["rule"] == "booster-18p")["wards"] == r.wards
    kids = next(f for f in fault("coverage_lag") if f["rule"] == "kids-5-11-full")
    assert len(kids["wards"]) == 3
    # Report gap: nothing for those periods before backfill_at, then one a minute.
    for f in fault("report_gap"):
        held = [x for x in r.reports if x["ward"] == f["ward"] and x["period"] in f["periods"]]
        assert [x["period"] for x in held] == f["periods"]
        start = instant(f["backfill_at"])
        for k, x in enumerate(held):
            assert x["kind"] == "backfill" and x["fault"] == f["id"]
            assert instant(x["observed_at"]) == start + datetime.timedelta(minutes=k)
        assert len(f["periods"]) == 3
    # Cumulative decrease: drop below the true figure, then the correction with the true figure.
    for f in fault("cumulative_decrease"):
        mine = [x for x in r.reports if x["ward"] == f["ward"] and x["period"] == f["period"]]
        assert [x["kind"] for x in mine] == ["daily", "correction"], [x["kind"] for x in mine]
        bad, fix = mine[0]["values"][f["indicator"]], mine[1]["values"][f["indicator"]]
        assert fix - bad == f["drop"] and mine[1]["observed_at"] == f["corrected_at"]
        before = values[f["ward"]][(day(f["period"]) - DAY).isoformat()][f["indicator"]]
        after = values[f["ward"]][(day(f["period"]) + DAY).isoformat()][f["indicator"]]
        assert bad < before <= fix <= after, (bad, before, fix, after)
        assert list(mine[1]["values"]) == [f["indicator"]]
    # Figures never sent: no report of the ward carries them; every other ward's do.
    for f in fault("figures_never_sent"):
        for x in r.reports:
            carried = set(f["indicators"]) & set(x["values"])
            assert not carried if x["ward"] == f["ward"] else x["kind"] != "daily" or carried, x
        assert "kids-5-11-full" in f["rules"] and "weekly-vaccination" in f["rules"], f
    # Delivery outage: the day's report observed (committed) before the cut-off, delivered
    # `hours` later, after the cut-off and its grace; no other report is delayed.
    for f in fault("delivery_outage"):
        (x,) = [x for x in r.reports if x.get("delivered_at")]
        assert (x["ward"], x["period"], x["fault"]) == (f["ward"], f["period"], f["id"]), x
        assert instant(x["delivered_at"]) - instant(x["observed_at"]) == datetime.timedelta(
            hours=f["hours"])
        assert x["observed_at"] < f["period"] + "T17:00:00+07:00" < x["delivered_at"], x
        assert x["delivered_at"] > f["period"] + "T18:00:00+07:00", x
    # Task late: not done through the due date and until done_period, done from then on.
    for f in fault("task_late"):
        for x in r.reports:
            if x["ward"] != f["ward"] or x["kind"] == "correction":
                continue
            state = x["tasks"][f["task"]]
            if x["period"] < f["done_period"]:
                assert state != "done", (x["period"], state)
            else:
                assert state == "done", (x["period"], state)


def test_tasks_are_done_before_their_due_dates_except_the_late_one():
    r = replay()
    late = {(f["ward"], f["task"]) for f in fault("task_late")}
    ward_rules = [x for x in PLAN["rules"] if x["kind"] == "task" and x["applies_to"] == "ward"]
    for w in r.wards:
        mine = [x for x in r.reports if x["ward"] == w and x["kind"] != "correction"]
        for rule in ward_rules:
            states = {x["period"]: x["tasks"].get(rule["task"]) for x in mine}
            assert all(s is not None for s in states.values()), (w, rule["task"])
            done = sorted(p for p, s in states.items() if s == "done")
            if day(rule["due"]) > r.end:
                assert not done, (w, rule["task"])
                continue
            if (w, rule["task"]) in late:
                assert done and done[0] > rule["due"], (w, rule["task"], done[:1])
            else:
                assert done and done[0] <= rule["due"], (w, rule["task"], done[:1])
            # Once done, it stays done.
            assert done == sorted(p for p in states if p >= done[0]), (w, rule["task"])


def test_figures_are_those_of_2022():
    r = replay()
    final = in_force(r.reports)
    district = lambda p, ind: sum(final[w][p][ind] for w in r.wards)
    pop = lambda g: sum(UNITS[w]["population"][g] for w in r.wards)
    cases = lambda p: district(p, "cases_new_community") + district(p, "cases_new_quarantined")
    week = lambda first: sum(cases((day(first) + k * DAY).isoformat()) for k in range(7)) / 7
    # ≈ 480/day in early April, falling through May and June (DOMAIN.md).
    assert 30 <= week("2022-05-01") <= 90, week("2022-05-01")
    assert week("2022-05-29") < week("2022-05-01") / 4
    assert week("2022-06-20") <= 10
    # Adults' dose 3 at 70–76 % in late August, rising slowly.
    aug23 = district("2022-08-23", "vacc_18p_dose3_cum") / pop("18p")
    assert 0.70 <= aug23 <= 0.76, aug23
    sep30 = district("2022-09-30", "vacc_18p_dose3_cum") / pop("18p")
    assert 0 < sep30 - aug23 < 0.05, (aug23, sep30)
    # Children 5–11 on 23/08/2022: dose 1 > 80 %, dose 2 > 51 % (every ward that sends them,
    # lagging ones too).
    silent = {f["ward"] for f in fault("figures_never_sent")}
    sending = [w for w in r.wards if w not in silent]
    for w in sending:
        p = UNITS[w]["population"]["5_11"]
        assert final[w]["2022-08-23"]["vacc_5_11_dose1_cum"] / p > 0.80, w
    assert sum(final[w]["2022-08-23"]["vacc_5_11_dose2_cum"] for w in sending) / sum(
        UNITS[w]["population"]["5_11"] for w in sending) > 0.51
    # Adults: ≥ 1 dose ≈ 99 %, 2 doses ≈ 90+ %.
    assert 0.985 <= district("2022-05-01", "vacc_18p_dose1_cum") / pop("18p") <= 1.0
    assert 0.90 <= district("2022-05-01", "vacc_18p_dose2_cum") / pop("18p") <= 0.97
    # Realistic deaths: a few in the district over the months (≈ 0.2 % of cases), and in no ward
    # as many in a week as the plan's min_count, from which one ward's deaths would move its level.
    deaths = {}
    for x in r.reports:
        if x["values"].get("deaths"):
            deaths[(x["ward"], day(x["period"]))] = x["values"]["deaths"]
    assert 3 <= sum(deaths.values()) <= 30, deaths
    v218 = [v for rr in PLAN["rules"] if rr["kind"] == "level" for v in rr["versions"]
            if v["id"] == "218"][0]
    min_count = [c for c in v218["transmission"] if c["indicator"] == "deaths"][0]["min_count"]
    for (w, d), n in deaths.items():
        week = sum(deaths.get((w, d + k * DAY), 0) for k in range(-6, 7))
        assert week < 2 * min_count and all(
            sum(deaths.get((w, d + (k - j) * DAY), 0) for j in range(7)) < min_count
            for k in range(7)), (w, d)


def test_replay_rejects_bad_faults():
    bad = [
        [{"id": "x", "kind": "report_gap", "ward": "99999", "periods": ["2022-06-01"]}],
        [{"id": "x", "kind": "coverage_lag", "rule": "daily-report", "wards": ["00001"]}],
        [{"id": "x", "kind": "cumulative_decrease", "ward": "00001", "period": "2022-06-01",
          "indicator": "deaths", "drop": 5}],
        [{"id": "x", "kind": "task_late", "ward": "00001", "task": "district-training"}],
        [{"id": "x", "kind": "report_gap", "ward": "00001", "periods": ["2022-06-01"],
          "backfill_at": "2022-06-01T17:30:00+07:00"}],
        [{"id": "x", "kind": "flood"}],
    ]
    for faults in bad:
        try:
            replay2022.generate(PLAN_DIR, faults=faults)
        except ValueError:
            continue
        raise AssertionError("accepted %s" % faults)


def test_cli_writes_files_and_json_lines():
    r = replay()
    with tempfile.TemporaryDirectory(prefix="wardpulse-replay-") as tmp:
        out = os.path.join(tmp, "out")
        for _ in range(2):   # twice: a second run replaces, it does not add files
            subprocess.run([sys.executable, os.path.join(SRC, "tests", "replay", "replay2022.py"),
                            "--plan", PLAN_DIR, "--out", out], check=True, capture_output=True,
                           timeout=120)
        files = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out)
                       for f in fs if f.endswith(".json") and f != "faults.json")
        names = replay2022.file_names(r)
        assert files == sorted(n for _, n in names), (len(files), len(names))
        for rep, name in names:
            with open(os.path.join(out, name), encoding="utf-8") as f:
                doc = json.load(f)
            assert doc == replay2022.body(rep), name
            assert set(doc) <= {"period", "values", "tasks", "note"}, name
        with open(os.path.join(out, "schedule.jsonl"), encoding="utf-8") as f:
            sched = [json.loads(line) for line in f]
        assert [(s["observed_at"], s.get("delivered_at"), s["file"]) for s in sched] == \
               [(rep["observed_at"], rep.get("delivered_at"), n) for rep, n in names]
        with open(os.path.join(out, "faults.json"), encoding="utf-8") as f:
            assert json.load(f) == r.faults
    lines = subprocess.run([sys.executable, os.path.join(SRC, "tests", "replay", "replay2022.py"), "--plan",
                            PLAN_DIR, "--format", "jsonl"], check=True, capture_output=True,
                           text=True, timeout=120).stdout.splitlines()
    assert len(lines) == len(r.reports)
    for line, rep in zip(lines, r.reports):
        doc = json.loads(line)
        want = {"ward": rep["ward"], "observed_at": rep["observed_at"], "kind": rep["kind"],
                "body": replay2022.body(rep)}
        if rep.get("delivered_at"):
            want["delivered_at"] = rep["delivered_at"]
        assert doc == want


# ------------------------------------------------------------------------------------------
# The oracle

def test_each_fault_raises_its_alerts_and_nothing_else_fires():
    r, res = replay(), expected()
    alerts = res["alerts"]
    by = lambda cause: [a for a in alerts if a["cause"] == cause]
    assert not [a for a in alerts if a["cause"] == "unexplained"], \
        [a for a in alerts if a["cause"] == "unexplained"]
    kids = next(f for f in fault("coverage_lag") if f["rule"] == "kids-5-11-full")
    booster = next(f for f in fault("coverage_lag") if f["rule"] == "booster-18p")
    deadline_end = "2022-09-01T00:00:00+07:00"
    # The first trend: a unit's figure of 15/05, 14 days after its first (1 May), when it
    # arrives (the projection starts from the last figure); the district's with the first
    # ward's report of 15/05.
    may15 = {x["ward"]: x["observed_at"] for x in r.reports if x["period"] == "2022-05-15"}
    first_trend = dict(may15, district=min(may15.values(), key=instant))
    # Kids: the three wards and the district, at risk from the first trend, missed after 31/08.
    got = by(kids["id"])
    assert sorted(a["scope"] for a in got) == sorted(kids["wards"] + ["district"]), got
    for a in got:
        assert a["rule"] == "kids-5-11-full" and a["kind"] == "coverage" and a["firing_at_end"]
        assert [(p["state"], p["severity"], p["from"], p["by"]) for p in a["phases"]] == [
            ("at_risk", "warning", first_trend[a["scope"]], "report"),
            ("missed", "critical", deadline_end, "clock")], a["phases"]
    # Booster at the 2022 pace: at risk everywhere from the first trend to the end.
    got = by(booster["id"])
    assert sorted(a["scope"] for a in got) == sorted(r.wards + ["district"])
    for a in got:
        assert [(p["state"], p["from"]) for p in a["phases"]] == [
            ("at_risk", first_trend[a["scope"]])]
        assert a["firing_at_end"]
    # Children's figures never sent: silent 7 days after the first day figures were expected
    # (1 May), missed — no figures after 31/08; the weekly vaccination report is missing from
    # its first week (W18, due Monday 09/05 17:00, grace 60 min) to the end.
    silent = fault("figures_never_sent")[0]
    got = {a["rule"]: a for a in by(silent["id"])}
    assert sorted(got) == ["kids-5-11-full", "weekly-vaccination"], got
    a = got["kids-5-11-full"]
    assert a["scope"] == silent["ward"] and a["firing_at_end"]
    assert [(p["state"], p["severity"], p["from"], p["by"]) for p in a["phases"]] == [
        ("silent", "warning", "2022-05-08T00:00:00+07:00", "clock"),
        ("missed", "critical", deadline_end, "clock")], a["phases"]
    a = got["weekly-vaccination"]
    assert (a["scope"], a["kind"], a["fired_at"], a["fired_by"], a["firing_at_end"]) == (
        silent["ward"], "report_missing", "2022-05-09T18:00:00+07:00", "clock", True), a
    # Outage: report_missing at cut-off + grace (the district lacks the figures), resolved when
    # the report committed before the cut-off arrives.
    outage = fault("delivery_outage")[0]
    (a,) = by(outage["id"])
    delayed = next(x for x in r.reports if x.get("delivered_at"))
    assert (a["rule"], a["scope"], a["fired_at"], a["fired_by"]) == (
        "daily-report", outage["ward"], outage["period"] + "T18:00:00+07:00", "clock"), a
    assert (a["resolved_at"], a["resolved_by"]) == (delayed["delivered_at"], "report"), a
    # Report gap: fires at the first missing day's cut-off + grace, resolves with the last back-fill.
    gap = fault("report_gap")[0]
    (a,) = by(gap["id"])
    assert (a["rule"], a["kind"], a["scope"]) == ("daily-report", "report_missing", gap["ward"])
    assert a["fired_at"] == gap["periods"][0] + "T18:00:00+07:00" and a["fired_by"] == "clock"
    last = instant(gap["backfill_at"]) + datetime.timedelta(minutes=len(gap["periods"]) - 1)
    assert instant(a["resolved_at"]) == last and a["resolved_by"] == "report"
    # Decrease: fires with the bad report, resolves with the correction.
    slip = fault("cumulative_decrease")[0]
    (a,) = by(slip["id"])
    bad = next(x for x in r.reports if x["fault"] == slip["id"] and x["kind"] == "daily")
    assert (a["rule"], a["kind"], a["scope"]) == ("dq-18p-dose2-never-decreases", "data_quality",
                                                  slip["ward"])
    assert a["fired_at"] == bad["observed_at"] and a["fired_by"] == "report"
    assert a["periods"] == [slip["period"]]
    assert a["resolved_at"] == slip["corrected_at"] and a["resolved_by"] == "report"
    # Late task: fires at the end of the due day, resolves with the report that says done.
    late = fault("task_late")[0]
    (a,) = by(late["id"])
    done = next(x for x in r.reports if x["ward"] == late["ward"]
                and x["period"] == late["done_period"])
    assert (a["rule"], a["kind"], a["scope"]) == (late["rule"], "task_overdue", late["ward"])
    assert instant(a["fired_at"]) == datetime.datetime.combine(
        day(late["due"]) + DAY, datetime.time(0), instant(a["fired_at"]).tzinfo)
    assert a["resolved_at"] == done["observed_at"]
    # Baseline: the district's own tasks, which nothing can mark done, and the deaths of the
    # replay, each announced the day it is reported.
    base = [a for a in alerts if a["cause"].startswith("baseline")
            and a["kind"] not in ("announcement", "target_missed")]
    district_tasks = sorted(x["id"] for x in PLAN["rules"]
                            if x["kind"] == "task" and x["applies_to"] == "district")
    assert sorted(a["rule"] for a in base) == district_tasks
    assert all(a["scope"] == "district" and a["firing_at_end"] for a in base)
    announced = [a for a in alerts if a["kind"] == "announcement"]
    assert announcements(announced) == deaths_reported(r.reports), announced
    assert facilities_silent(alerts)
    # One episode per alert (an announcement: per day); every fault explains at least one.
    keys = [(a["rule"], a["scope"]) for a in alerts if a["kind"] != "announcement"]
    assert len(keys) == len(set(keys)), "an alert fires twice"
    assert {f["id"] for f in r.faults} <= {a["cause"] for a in alerts}
    assert len(alerts) == 4 + 15 + 1 + 1 + 1 + 3 + 2 + 1 + 1 + len(announced) + 15, len(alerts)
    # Level surge: QĐ 218's matrix makes transmission 4 with capacity and vaccination met level
    # 3 (fires on the Monday after the week), a care team short the next week level 4 (a
    # phase of the same alert: news), transmission 3 the week after level 2 (resolved).
    surge = fault("level_surge")[0]
    (a,) = by(surge["id"])
    mondays = [day(w["monday"]) for w in surge["weeks"]]
    midnight = lambda d: datetime.datetime.combine(d, datetime.time(0), instant(a["fired_at"]).tzinfo)
    assert (a["rule"], a["kind"], a["scope"], a["severity"]) == (
        "epidemic-level", "level", surge["ward"], "critical"), a
    assert [(p["state"], instant(p["from"]), p["by"]) for p in a["phases"]] == [
        ("level_3", midnight(mondays[0] + 7 * DAY), "clock"),
        ("level_4", midnight(mondays[1] + 7 * DAY), "clock")], a["phases"]
    assert instant(a["resolved_at"]) == midnight(mondays[2] + 7 * DAY) and a["resolved_by"] == "clock"
    assert res["levels"]["epidemic-level/" + surge["ward"]] == {"level": 4,
                                                                "week": surge["weeks"][1]["monday"]}
    # QĐ 218's matrix: with ready care teams and 2022's vaccination, early May's transmission
    # (level 2 at most) comes out one level lower, everywhere else.
    others = {k: v for k, v in res["levels"].items() if not k.endswith("/" + surge["ward"])}
    assert max(v["level"] for v in others.values()) == 1, res["levels"]


def deaths_reported(reports):
    """What the deaths-announced rule means, from the reports: for each report bringing
    deaths > 0 for the day it arrives on, (ward, day, arrival, the midnight after the day)."""
    out = []
    for x in reports:
        arrival = instant(x.get("delivered_at") or x["observed_at"])
        if x.get("values", {}).get("deaths", 0) > 0 and arrival.date() == day(x["period"]):
            midnight = datetime.datetime.combine(day(x["period"]) + DAY, datetime.time(0),
                                                 arrival.tzinfo)
            out.append((x["ward"], x["period"], arrival, midnight))
    return sorted(out)


def facilities_silent(alerts):
    """No ward sends the facilities figures (replay2022.NOT_SENT): facilities-on-time is silent
    for every ward and the district, a warning from the eighth day (silence_days 7) to the end."""
    silent = [a for a in alerts if a["rule"] == "facilities-on-time"]
    assert sorted(a["scope"] for a in silent) == sorted(WARDS + ["district"]), silent
    for a in silent:
        assert a["kind"] == "target_missed" and a["severity"] == "warning", a
        assert a["fired_at"] == "2022-05-08T00:00:00+07:00" and a["fired_by"] == "clock", a
        assert [p["state"] for p in a["phases"]] == ["silent"] and a["firing_at_end"], a
    return True


def announcements(alerts):
    return sorted((a["scope"], a["fired_report"]["period"], instant(a["fired_at"]),
                   instant(a["resolved_at"])) for a in alerts
                  if a["rule"] == "deaths-announced" and a["severity"] == "info")


def test_replay_without_faults_raises_only_the_district_tasks_the_deaths_and_silence():
    res = expected("none")
    others = [a for a in res["alerts"] if a["kind"] not in ("announcement", "target_missed")]
    assert facilities_silent(res["alerts"])
    assert sorted((a["rule"], a["scope"]) for a in others) == sorted(
        (x["id"], "district") for x in PLAN["rules"]
        if x["kind"] == "task" and x["applies_to"] == "district"), res["alerts"]
    announced = announcements(res["alerts"])
    assert announced == deaths_reported(replay("none").reports) and len(announced) >= 3, announced
    assert max(v["level"] for v in res["levels"].values()) == 1, res["levels"]


def test_coverage_verdicts_do_not_depend_on_the_trend_reading():
    for which in ("default", "none"):
        r = replay(which)
        rb = replay2022_expected.robustness(PLAN_DIR, r.reports, r.faults)
        assert not rb["disagreements"], (which, rb["disagreements"][:5])
        thin = {k: v for k, v in rb["min_margin"].items() if v < 0.02}
        assert not thin, (which, thin)


def test_expected_alerts_match_the_golden_file():
    with open(GOLDEN, encoding="utf-8") as f:
        golden = json.load(f)
    res = expected()
    assert golden["until"] == res["until"]
    if golden["alerts"] != res["alerts"]:
        a = {(x["rule"], x["scope"]): x for x in golden["alerts"]}
        b = {(x["rule"], x["scope"]): x for x in res["alerts"]}
        diff = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        raise AssertionError("expected alerts changed for %s; if that is intended, run %s"
                             % (diff[:5], REGENERATE))
    assert golden["levels"] == res["levels"]


def _hand_made():
    """Ward 00001 only, 1 May – 2 June 2022, with answers worked out by hand (see the test)."""
    base = {"cases_new_community": 1, "cases_new_quarantined": 0, "f0_active_home": 5, "deaths": 0}
    ward_tasks = [x["task"] for x in PLAN["rules"] if x["kind"] == "task"
                  and x["applies_to"] == "ward" and x["task"] != "ward-plan"]
    reports = []

    def add(period, at, values=None, tasks=None):
        reports.append({"ward": "00001", "period": period, "observed_at": at,
                        "values": dict(base, **(values or {})), "tasks": tasks or {}})
    d = day("2022-05-01")
    while d <= day("2022-06-02"):
        p = d.isoformat()
        vals = {"vacc_5_11_dose2_cum": 5 * (d - day("2022-05-01")).days,
                "vacc_18p_dose2_cum": 100 + (d - day("2022-05-01")).days}
        tasks = dict({t: "done" for t in ward_tasks}, **{"ward-plan": "in_progress"})
        if p == "2022-05-02":
            add(p, "2022-05-03T09:00:00+07:00", vals, tasks)        # late: after 18:00
        elif p == "2022-05-03":
            vals["vacc_18p_dose2_cum"] = 90                         # down from 101
            add(p, "2022-05-03T16:00:00+07:00", vals, tasks)
            add(p, "2022-05-04T10:00:00+07:00", {"vacc_18p_dose2_cum": 102})   # corrected
        elif p == "2022-06-02":
            vals["vacc_5_11_dose2_cum"] = UNITS["00001"]["population"]["5_11"]   # met
            tasks["ward-plan"] = "done"
            add(p, "2022-06-02T16:00:00+07:00", vals, tasks)
        else:
            add(p, p + "T16:00:00+07:00", vals, tasks)
        d += DAY
    reports.sort(key=lambda x: instant(x["observed_at"]))
    return reports


def test_oracle_on_a_hand_made_replay():
    res = replay2022_expected.expected_alerts(PLAN_DIR, _hand_made(), [],
                                              until="2022-06-03T00:00:00+07:00")
    mine = sorted((a["rule"], a["fired_at"], a["fired_by"], a["resolved_at"], a["resolved_by"],
                   tuple(p["state"] for p in a["phases"]))
                  for a in res["alerts"] if a["scope"] == "00001")
    assert mine == sorted([
        # 2 May not in by 17:00 + 60 min; the late report resolves it.
        ("daily-report", "2022-05-02T18:00:00+07:00", "clock", "2022-05-03T09:00:00+07:00",
         "report", ("firing",)),
        # 3 May's 90 < 2 May's 101; the correction (102) resolves it.
        ("dq-18p-dose2-never-decreases", "2022-05-03T16:00:00+07:00", "report",
         "2022-05-04T10:00:00+07:00", "report", ("firing",)),
        # catch-up-18p-dose2: 100 + 1 a day can never reach 90 % of 18p (≈ 10,900) by 31/12;
        # first trend with the figure of 15/05 when it arrives; still at risk at the end.
        ("catch-up-18p-dose2", "2022-05-15T16:00:00+07:00", "report", None, None, ("at_risk",)),
        # 5 a day can never reach 1523 by 31/08; first trend with the figure of 15/05 (1 May +
        # 14 days), when it arrives; met on 2/06.
        ("kids-5-11-full", "2022-05-15T16:00:00+07:00", "report", "2022-06-02T16:00:00+07:00",
         "report", ("at_risk",)),
        # No dose 3, no frontline figures ever: silent 7 days after the first report's day
        # (1 May + 7 = 8 May, a midnight), still silent on 3 June (deadlines 31/12 and 30/06).
        ("booster-18p", "2022-05-08T00:00:00+07:00", "clock", None, None, ("silent",)),
        ("frontline-full", "2022-05-08T00:00:00+07:00", "clock", None, None, ("silent",)),
        # Nor any 65+ or organisations figures (deadlines 30/06: still silent on 3 June).
        ("catch-up-65p-full", "2022-05-08T00:00:00+07:00", "clock", None, None, ("silent",)),
        ("organisations-risk-assessed", "2022-05-08T00:00:00+07:00", "clock", None, None,
         ("silent",)),
        # Nor the figures of the two targets per period (issue 10: a ratio target knows what it
        # expects): silent from 8 May too.
        ("severe-treated", "2022-05-08T00:00:00+07:00", "clock", None, None, ("silent",)),
        ("facilities-on-time", "2022-05-08T00:00:00+07:00", "clock", None, None, ("silent",)),
        # So the weekly vaccination report is missing from W18's Monday 17:00 + 60 min on.
        ("weekly-vaccination", "2022-05-09T18:00:00+07:00", "clock", None, None, ("firing",)),
        # Epidemic level, week by week: 1 case a day in 14,500 people is 48.3 per 100,000 in
        # W18 (2–8 May), transmission 2 (≥ 20, < 150); no care_teams and no 50+ figures ever,
        # so both of QĐ 218's matrix conditions are unknown, counted unmet: matrix[2][2] = 3,
        # at the alerting level from Monday 9 May 00:00, and every week after. (W17 holds
        # 1 May only: 6.9 per 100,000, transmission 1, level 2.)
        ("epidemic-level", "2022-05-09T00:00:00+07:00", "clock", None, None, ("level_3",)),
        # Due 31/05, done on 2/06.
        ("ward-plan", "2022-06-01T00:00:00+07:00", "clock", "2022-06-02T16:00:00+07:00", "report",
         ("firing",)),
    ]), mine
    # The other wards sent nothing: each has report_missing from 1 May 18:00, still firing.
    other = [a for a in res["alerts"] if a["scope"] == "00004" and a["rule"] == "daily-report"]
    assert [(a["fired_at"], a["firing_at_end"]) for a in other] == [
        ("2022-05-01T18:00:00+07:00", True)], other


def test_oracle_ratio_targets_are_targets_missed():
    """severe-treated and facilities-on-time (issue 10): a target per period, alert kind
    target_missed, firing while the latest period with both figures misses."""
    base = {"cases_new_community": 1, "cases_new_quarantined": 0, "f0_active_home": 5, "deaths": 0}
    reports = [
        # 10 May: 3 of 5 severe patients treated, 4 of 5 facilities on time: both missed.
        {"ward": "00001", "period": "2022-05-10", "observed_at": "2022-05-10T16:00:00+07:00",
         "values": dict(base, severe_active=5, severe_treated=3, facilities_total=5,
                        facilities_reported_on_time=4)},
        # 11 May: all five treated; facilities still 4 of 5.
        {"ward": "00001", "period": "2022-05-11", "observed_at": "2022-05-11T16:00:00+07:00",
         "values": dict(base, severe_active=5, severe_treated=5, facilities_total=5,
                        facilities_reported_on_time=4)},
        # 12 May: nobody severe (nothing to count: met); every facility on time. 10 May's
        # miss is history, not a figure to correct: it keeps nothing firing.
        {"ward": "00001", "period": "2022-05-12", "observed_at": "2022-05-12T16:00:00+07:00",
         "values": dict(base, severe_active=0, severe_treated=0, facilities_total=5,
                        facilities_reported_on_time=5)},
    ]
    res = replay2022_expected.expected_alerts(PLAN_DIR, reports, [],
                                              until="2022-05-13T00:00:00+07:00")
    mine = sorted((a["rule"], a["scope"], a["kind"], a["severity"], a["fired_at"],
                   a["resolved_at"]) for a in res["alerts"]
                  if a["rule"] in ("severe-treated", "facilities-on-time"))
    assert mine == sorted([
        ("severe-treated", "00001", "target_missed", "critical", "2022-05-10T16:00:00+07:00",
         "2022-05-11T16:00:00+07:00"),
        ("severe-treated", "district", "target_missed", "critical", "2022-05-10T16:00:00+07:00",
         "2022-05-11T16:00:00+07:00"),
        ("facilities-on-time", "00001", "target_missed", "warning", "2022-05-10T16:00:00+07:00",
         "2022-05-12T16:00:00+07:00"),
        ("facilities-on-time", "district", "target_missed", "warning",
         "2022-05-10T16:00:00+07:00", "2022-05-12T16:00:00+07:00"),
    ]), mine
    # The figures fit together (treated ≤ severe, on time ≤ facilities): no data error.
    assert not [a for a in res["alerts"] if a["kind"] == "data_quality"], res["alerts"]


run_tests(globals())
