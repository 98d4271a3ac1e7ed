"""The ingest benchmark's tools still run (bench/ingest.py, issue 13): every scenario at a
hundredth of its size, with and without a plan, must end with every report acked and, for
the real aggregator, stored exactly once. Counts only — no timing is asserted: the
figures are for `make bench` and bench/RESULTS.md, not for a test on a shared machine."""
import json
import os
import subprocess

from harness import BUILD, SRC, TempDir, run_tests

INGEST = os.path.join(SRC, "bench", "ingest.py")


def bench(tmp, *args):
    out = os.path.join(tmp, "figures.json")
    r = subprocess.run(["/usr/bin/python3", INGEST, "--build", BUILD, "--cache",
                        os.path.join(tmp, "cache"), "--json", out] + list(args),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "bench/ingest.py failed (%d):\n%s%s" % (r.returncode, r.stdout,
                                                                     r.stderr)
    with open(out) as f:
        return json.load(f)


def check_run(run, stored_before=0):
    assert run["acked"] == run["total"], run
    assert run["rejected"] == 0, run
    if "stored_in_run" in run:
        assert run["stored_in_run"] == run["total"], run
        assert run["stored_load"] == stored_before + run["total"], run


def test_every_scenario_acks_and_stores_every_report():
    with TempDir() as tmp:
        res = bench(tmp, "--scale", "0.01", "--agent-window", "1", "--agent-pairs", "1")
        assert res["burst"]["real"]["total"] == 106
        assert res["sustained"]["real"]["total"] == 10 * 20
        for name in ("burst", "sustained", "full"):
            check_run(res[name]["null"])
        check_run(res["burst"]["real"])
        check_run(res["sustained"]["real"])
        check_run(res["full"]["real"], stored_before=10 * 60)   # the prepared 60 days
        check_run(res["half"]["real"])
        for kind in ("first_start", "restart"):
            idle = res["agent"][kind]
            assert idle["agent"]["rss_kb"] > idle["agent"]["sqlite_libm_kb"] > 0, idle
            assert idle["mosquitto_sub"]["rss_kb"] > 0, idle
            assert idle["floor_sqlite_libm_kb"] > 0 and idle["floor_ratio"] > 1, idle
        assert res["drain"]["ok"] and res["drain"]["reports"] == 100, res["drain"]
        assert res["outage"]["ok"] and len(res["outage"]["waits_s"]) == 10, res["outage"]


def test_reports_are_valid_under_a_generated_plan():
    with TempDir() as tmp:
        res = bench(tmp, "--scale", "0.01", "--plan", "--scenario", "burst")
        check_run(res["burst"]["real"])


run_tests(globals())
