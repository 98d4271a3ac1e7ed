"""Hostile plan files (issue 5, "Hostile input": files): orgunits.json, catalog.json and
plan.json that are truncated, wrongly typed, or reference units, indicators, tasks or
population groups that do not exist.

At start the aggregator refuses such a plan before it starts anything: it exits non-zero
with one message naming the file and the JSON path, creates no database, and never
connects to the broker (a listening socket stands in for it and must see no connection).
On SIGHUP it refuses the broken plan the same way in its log and the plan in force stays
whole: a report that only the old plan accepts is still accepted, one the old plan refuses
is still refused. Every case starts from plans/ba-dinh-2022 with one file changed.
(test_aggregator_plan.py has the basic start and reload cases; the plan loader is also
fuzzed, see tests/fuzz/fuzz_plan.c.)
"""
import copy
import json
import os
import random
import re
import shutil
import signal
import subprocess

from harness import (AGGREGATOR_BIN, SRC, Aggregator, Broker, Subscriber, TempDir, publish,
                     run_tests, wait_for)
from test_hostile_files import NoBroker, binary_garbage

READY = os.path.join(SRC, "plans", "ba-dinh-2022")
FILES = ("orgunits", "catalog", "plan")
STREAM = "0123456789abcdef"


def ready(name):
    with open(os.path.join(READY, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def raw(name):
    with open(os.path.join(READY, name + ".json"), "rb") as f:
        return f.read()


def dump(doc):
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def changed(name, change):
    """The ready file `name` with change(doc) applied, as bytes."""
    doc = ready(name)
    change(doc)
    return dump(doc)


def plan_dir(tmp, label, replace):
    """A copy of plans/ba-dinh-2022 in tmp/label with replace = {file name: bytes, or None
    for "no such file", "dir" for a directory or "fifo" for a FIFO in its place}."""
    d = os.path.join(tmp, label)
    os.makedirs(d)
    for name in FILES:
        content = replace.get(name, raw(name))
        path = os.path.join(d, name + ".json")
        if content == "dir":
            os.makedirs(path)
        elif content == "fifo":
            os.mkfifo(path)
        elif content is not None:
            with open(path, "wb") as f:
                f.write(content)
    return d


def unit_index(code):
    return next(i for i, u in enumerate(ready("orgunits")["units"]) if u["code"] == code)


def rule_index(rule_id):
    return next(i for i, r in enumerate(ready("plan")["rules"]) if r["id"] == rule_id)


def indicator_index(ind_id):
    return next(i for i, r in enumerate(ready("catalog")["indicators"]) if r["id"] == ind_id)


def set_in(path, value):
    """A change that sets doc[path[0]][path[1]]… = value."""
    def change(doc):
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value
    return change


def drop_unit(code):
    def change(doc):
        doc["units"] = [u for u in doc["units"] if u["code"] != code]
    return change


def drop_indicator(ind_id):
    def change(doc):
        doc["indicators"] = [i for i in doc["indicators"] if i["id"] != ind_id]
    return change


def drop_task(task_id):
    def change(doc):
        doc["tasks"] = [t for t in doc["tasks"] if t["id"] != task_id]
    return change


def second_level_rule(doc):
    """A copy of the level rule under another id: both would publish on level/001/…"""
    import copy as _copy
    rule = _copy.deepcopy(doc["rules"][LEVEL])
    rule["id"] = "epidemic-level-218"
    doc["rules"].append(rule)


def drop_group(code, group):
    def change(doc):
        del doc["units"][unit_index(code)]["population"][group]
    return change


# Every hostile plan: (label, {file: content}, the file the message names, what follows it).
# The message is "<plan_dir>/<file>.json: <JSON path>: <why>".
W4 = unit_index("00004")
KIDS = rule_index("kids-5-11-full")
SCENARIO = rule_index("ward-scenario")
TRAINING = rule_index("ward-training")
LE_POP = rule_index("dq-18p-dose1-le-population")
DAILY = rule_index("daily-report")
CASES = indicator_index("cases_new_community")
LEVEL = rule_index("epidemic-level")

CASES_OF_HOSTILE_PLANS = [
    # truncated, empty, garbage, not even a file
    ("orgunits-truncated", {"orgunits": raw("orgunits")[:len(raw("orgunits")) // 2]}, "orgunits",
     r"not valid JSON \(line \d+, byte \d+\)"),
    ("orgunits-empty", {"orgunits": b""}, "orgunits", r"not valid JSON \(line 1, byte 0\)"),
    ("orgunits-binary", {"orgunits": binary_garbage()}, "orgunits", r"not valid JSON"),
    ("catalog-truncated", {"catalog": raw("catalog")[:-10]}, "catalog",
     r"not valid JSON \(line \d+, byte \d+\)"),
    ("plan-truncated", {"plan": raw("plan")[:1000]}, "plan", r"not valid JSON \(line 16, byte 1000\)"),
    ("plan-nul-inside", {"plan": raw("plan")[:500] + b"\0" + raw("plan")[500:]}, "plan",
     r"not valid JSON"),
    ("plan-missing", {"plan": None}, "plan", r"No such file or directory"),
    ("catalog-a-directory", {"catalog": "dir"}, "catalog", r"is a directory, not a file"),
    # A FIFO with no writer would block a plain open(): the aggregator would hang at start
    # (never READY) and, on SIGHUP, in its main loop.
    ("plan-a-fifo", {"plan": "fifo"}, "plan", r"is a FIFO, not a file"),
    # wrongly typed
    ("orgunits-root-array", {"orgunits": b"[]"}, "orgunits", r"\(root\): must be an object"),
    ("orgunits-units-object", {"orgunits": changed("orgunits", set_in(["units"], {"a": 1}))},
     "orgunits", r"units: must be an array"),
    ("orgunits-population-string",
     {"orgunits": changed("orgunits", set_in(["units", W4, "population", "total"], "21300"))},
     "orgunits", r"units\[%d\].*units\[%d\]\.population\.total: must be an integer" % (W4, W4)),
    ("catalog-bound-string",
     {"catalog": changed("catalog", set_in(["indicators", CASES, "bounds", "max"], "5000"))},
     "catalog", r"indicators\[%d\]\.bounds\.max: must be an integer" % CASES),
    ("catalog-min-above-max",
     {"catalog": changed("catalog", set_in(["indicators", CASES, "bounds"], {"min": 10, "max": 5}))},
     "catalog", r"indicators\[%d\]\.bounds: min 10 is above max 5" % CASES),
    ("plan-rules-object", {"plan": changed("plan", set_in(["rules"], {"a": 1}))}, "plan",
     r"rules: must be an array"),
    ("plan-target-string", {"plan": changed("plan", set_in(["rules", KIDS, "target"], "1.0"))},
     "plan", r"rules\[%d\].*rules\[%d\]\.target: must be a number" % (KIDS, KIDS)),
    # duplicates
    ("orgunits-code-twice",
     {"orgunits": changed("orgunits", set_in(["units", W4, "code"], "00001"))}, "orgunits",
     r'units\[%d\]\.code: "00001" is already units\[%d\]' % (W4, unit_index("00001"))),
    ("plan-rule-id-twice",
     {"plan": changed("plan", set_in(["rules", DAILY + 1, "id"], "daily-report"))}, "plan",
     r'rules\[%d\]\.id: "daily-report" is already the id of another rule' % (DAILY + 1)),
    # units that do not exist
    ("orgunits-unknown-parent",
     {"orgunits": changed("orgunits", set_in(["units", W4, "parent"], "009"))}, "orgunits",
     r'units\[%d\]\.parent: unit "009" is not in the file' % W4),
    ("orgunits-without-the-district", {"orgunits": changed("orgunits", drop_unit("001"))},
     "orgunits", r'units\[\d+\]\.parent: unit "001" is not in the file'),
    ("orgunits-without-a-ward-the-plan-assigns",
     {"orgunits": changed("orgunits", drop_unit("00028"))}, "plan",
     r'rules\[%d\]\.assignees\[\d+\]: unit "00028" is neither the district nor one of its wards'
     % SCENARIO),
    ("plan-unknown-assignee",
     {"plan": changed("plan", set_in(["rules", SCENARIO, "assignees", 3], "00099"))}, "plan",
     r'rules\[%d\]\.assignees\[3\]: unit "00099" is neither the district nor one of its wards'
     % SCENARIO),
    ("plan-other-district", {"plan": changed("plan", set_in(["scope", "district"], "002"))},
     "plan", r"scope\.district: the plan is for district 002, the aggregator serves district 001"),
    # indicators, tasks and population groups that do not exist
    ("catalog-without-an-indicator-the-plan-uses",
     {"catalog": changed("catalog", drop_indicator("vacc_5_11_dose2_cum"))}, "plan",
     r'rules\[%d\]\.numerator: indicator "vacc_5_11_dose2_cum" is not in catalog\.json' % KIDS),
    ("catalog-without-a-task-the-plan-uses",
     {"catalog": changed("catalog", drop_task("ward-training"))}, "plan",
     r'rules\[%d\]\.task: task "ward-training" is not in catalog\.json' % TRAINING),
    ("plan-unknown-indicator",
     {"plan": changed("plan", set_in(["rules", LE_POP, "relation", "left"], "vacc_18p_dose1_cumm"))},
     "plan", r'rules\[%d\]\.relation\.left: indicator "vacc_18p_dose1_cumm" is not in catalog\.json'
     % LE_POP),
    ("plan-unknown-task", {"plan": changed("plan", set_in(["rules", TRAINING, "task"], "ward-trainin"))},
     "plan", r'rules\[%d\]\.task: task "ward-trainin" is not in catalog\.json' % TRAINING),
    ("plan-two-level-rules", {"plan": changed("plan", second_level_rule)}, "plan",
     r'rules\[%d\]\.kind: a plan has at most one level rule, and "epidemic-level" is one '
     r'already' % len(ready("plan")["rules"])),
    ("plan-unknown-population-group",
     {"plan": changed("plan", set_in(["rules", KIDS, "population"], "0_4"))}, "plan",
     r'rules\[%d\]\.population: population group "0_4" is not given for ward 00001' % KIDS),
    ("orgunits-without-a-group-the-plan-uses",
     {"orgunits": changed("orgunits", drop_group("00001", "5_11"))}, "plan",
     r'rules\[%d\]\.population: population group "5_11" is not given for ward 00001' % KIDS),
]


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=30)


def test_hostile_plan_files_stop_the_start_naming_file_and_path():
    with TempDir() as tmp:
        broker = NoBroker()
        try:
            for label, replace, named, why in CASES_OF_HOSTILE_PLANS:
                d = plan_dir(tmp, label, replace)
                db = os.path.join(tmp, label + ".db")
                base = [AGGREGATOR_BIN, "--db_path", db, "--plan_dir", d,
                        "--broker_host", "127.0.0.1", "--broker_port", str(broker.port)]
                expected = re.escape("%s/%s.json: " % (d, named)) + why
                for mode, argv in (("start", base), ("--test-config", base + ["--test-config"])):
                    r = run(argv)
                    what = "%s (%s)" % (label, mode)
                    assert r.returncode != 0, "%s: exit status 0\n%s" % (what, r.stderr)
                    assert re.search(expected, r.stderr), \
                        "%s: expected %r in:\n%s" % (what, expected, r.stderr)
                    assert len(r.stderr) < 2000, "%s: a message of %d bytes" % (what, len(r.stderr))
                    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", r.stderr), \
                        "%s: control bytes in %r" % (what, r.stderr)
                    assert "configuration OK" not in r.stdout, (what, r.stdout)
                    left = [f for f in os.listdir(tmp) if f.startswith(label + ".db")]
                    assert not left, "%s: created %s" % (what, left)
                assert broker.connections() == 0, "%s: the aggregator connected" % label
        finally:
            broker.close()


def test_the_ready_plan_run_the_same_way_starts():
    """The control: the same start with the ready files is not refused, so the cases above
    fail for the change made to them, not for the way they are run."""
    with TempDir() as tmp:
        d = plan_dir(tmp, "ready", {})
        r = run([AGGREGATOR_BIN, "--db_path", os.path.join(tmp, "a.db"), "--plan_dir", d,
                 "--test-config"])
        assert r.returncode == 0 and "configuration OK" in r.stdout, r


# ---- SIGHUP -------------------------------------------------------------------------------

OLD_ONLY = "old_plan_only"
NEW_ONLY = "new_plan_only"


def catalog_with(ind_id):
    def change(doc):
        doc["indicators"].append({"id": ind_id, "name": {"vi": ind_id, "en": ind_id},
                                  "kind": "daily", "rollup": "sum", "unit": "người"})
    return change


def write_files(d, files):
    for name, content in files.items():
        path = os.path.join(d, name + ".json")
        tmp = path + ".new"
        if content == "fifo":
            os.mkfifo(tmp)
        else:
            with open(tmp, "wb") as f:
                f.write(content)
        os.replace(tmp, path)


def test_sighup_with_a_hostile_plan_keeps_the_old_plan_whole():
    """Old plan: the ready plan whose catalog also has OLD_ONLY. Each new plan has a catalog
    with NEW_ONLY instead — valid on its own — and one broken file. If any part of a refused
    plan were taken (its catalog, say), a report of OLD_ONLY would be refused."""
    old_catalog = changed("catalog", catalog_with(OLD_ONLY))
    new_catalog = changed("catalog", catalog_with(NEW_ONLY))

    def new_catalog_without(ind_id):
        def change(doc):
            catalog_with(NEW_ONLY)(doc)
            drop_indicator(ind_id)(doc)
        return change

    hostile = [
        ("orgunits truncated", {"orgunits": raw("orgunits")[:3000], "catalog": new_catalog},
         "orgunits", r"not valid JSON \(line \d+, byte \d+\)"),
        ("orgunits with an unknown parent",
         {"orgunits": changed("orgunits", set_in(["units", W4, "parent"], "009")),
          "catalog": new_catalog},
         "orgunits", r'units\[%d\]\.parent: unit "009" is not in the file' % W4),
        ("catalog wrongly typed",
         {"catalog": changed("catalog", set_in(["indicators", CASES, "bounds", "max"], "5000"))},
         "catalog", r"indicators\[%d\]\.bounds\.max: must be an integer" % CASES),
        ("catalog without an indicator the plan uses",
         {"catalog": changed("catalog", new_catalog_without("vacc_5_11_dose2_cum"))},
         "plan", r'rules\[%d\]\.numerator: indicator "vacc_5_11_dose2_cum" is not in catalog\.json'
         % KIDS),
        ("plan wrongly typed",
         {"catalog": new_catalog, "plan": changed("plan", set_in(["rules", KIDS, "target"], "1.0"))},
         "plan", r"rules\[%d\].*target: must be a number" % KIDS),
        ("plan naming an unknown unit",
         {"catalog": new_catalog,
          "plan": changed("plan", set_in(["rules", SCENARIO, "assignees", 3], "00099"))},
         "plan", r'rules\[%d\]\.assignees\[3\]: unit "00099" is neither the district nor one of '
         r"its wards" % SCENARIO),
        ("plan truncated", {"catalog": new_catalog, "plan": raw("plan")[:700]}, "plan",
         r"not valid JSON"),
        ("plan a FIFO", {"catalog": new_catalog, "plan": "fifo"}, "plan",
         r"is a FIFO, not a file"),
    ]

    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, "wardpulse/v1/ack/#", "wardpulse/v1/aggregator/status")
        d = plan_dir(tmp, "plan", {"catalog": old_catalog})
        agg = Aggregator(tmp, broker.port, plan_dir=d).start()
        wait_for(lambda: "plan ba-dinh-2022 loaded" in agg.output(), "the plan loaded")
        wait_for(lambda: sub.payloads("wardpulse/v1/aggregator/status"), "aggregator online")
        seq = [0]

        def verdict(indicator):
            """Publishes a report of one value of indicator; None when stored, else the
            reason of its rejection (from the ack)."""
            seq[0] += 1
            n = seq[0]
            publish(broker.port, "wardpulse/v1/report/00001",
                    {"v": 1, "ward": "00001", "stream": STREAM, "seq": n, "period": "2022-05-03",
                     "observed_at": "2022-05-03T16:00:00+07:00", "values": {indicator: 1}})
            ack = wait_for(lambda: next((a for a in sub.payloads("wardpulse/v1/ack/00001")
                                         if a["acked_through"] >= n), None), "ack of seq %d" % n)
            reasons = [r["reason"] for r in ack.get("rejected", []) if r["seq"] == n]
            return reasons[0] if reasons else None

        def unknown(ind_id):
            return 'values.%s: indicator "%s" is not in the plan\'s catalog' % (ind_id, ind_id)

        assert verdict(OLD_ONLY) is None
        assert verdict(NEW_ONLY) == unknown(NEW_ONLY)

        for label, files, named, why in hostile:
            write_files(d, dict({n: raw(n) for n in FILES}, **files))
            refused_before = agg.output().count("plan not reloaded")
            agg.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: agg.output().count("plan not reloaded") > refused_before,
                     "%s: the refusal in the log" % label)
            line = [l for l in agg.output().splitlines() if "plan not reloaded" in l][-1]
            expected = (r"SIGHUP: plan not reloaded, the plan in force stays \(ba-dinh-2022\): "
                        + re.escape("%s/%s.json: " % (d, named)) + why)
            assert re.search(expected, line), "%s: expected %r in\n%s" % (label, expected, line)
            assert agg.alive(), agg.output()
            # The old plan, whole: what it accepts is accepted, what it refuses is refused.
            assert verdict(OLD_ONLY) is None, "%s: the old plan's indicator refused" % label
            assert verdict(NEW_ONLY) == unknown(NEW_ONLY), label

        # The control: a good new plan is taken, and then the verdicts turn round.
        write_files(d, {"orgunits": raw("orgunits"), "catalog": new_catalog, "plan": raw("plan")})
        agg.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "plan ba-dinh-2022 reloaded" in agg.output(), "the good plan reloaded")
        assert verdict(NEW_ONLY) is None
        assert verdict(OLD_ONLY) == unknown(OLD_ONLY)
        assert "plan ba-dinh-2022 reloaded" in agg.output()
        assert agg.stop() == 0, agg.output()[-3000:]
        sub.close()


if __name__ == "__main__":
    run_tests(globals())
