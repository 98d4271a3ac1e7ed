"""The operator's command loads the plan with the aggregator's own loader (plan/plan.h),
so it refuses exactly the plans the aggregator refuses, with the loader's message.

Every hostile plan of test_hostile_plans.py (two level rules, an unknown indicator, an
unknown parent, …) is given to `wardpulse-aggregator --test-config` and to `wardpulse
status`, `alerts` and `report`: each command exits non-zero and its message after
"wardpulse COMMAND: plan: " is the aggregator's after "wardpulse-aggregator: plan: ".
The plan is read before the database, so a database the command could not open would be
named instead: the ready plan, run the same way, gets as far as the database.
"""
import os
import re
import subprocess

from harness import AGGREGATOR_BIN, CLI_BIN, TempDir, run_tests
from test_hostile_plans import CASES_OF_HOSTILE_PLANS, plan_dir

COMMANDS = (("status",), ("alerts",), ("report", "--week", "2022-W19"))


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=30)


def aggregator_message(tmp, d):
    r = run([AGGREGATOR_BIN, "--db_path", os.path.join(tmp, "a.db"), "--plan_dir", d,
             "--test-config"])
    assert r.returncode != 0, r
    m = re.search(r"wardpulse-aggregator: plan: (.*)", r.stderr)
    assert m, r.stderr
    return m.group(1)


def cli_run(command, d, db):
    return run([CLI_BIN] + list(command) + ["--db", db, "--plan", d, "--config", "/dev/null"])


def test_the_cli_refuses_every_plan_the_aggregator_refuses_with_its_message():
    labels = [c[0] for c in CASES_OF_HOSTILE_PLANS]
    assert "plan-two-level-rules" in labels and "plan-unknown-indicator" in labels, labels
    with TempDir() as tmp:
        db = os.path.join(tmp, "none.db")
        for label, replace, named, _why in CASES_OF_HOSTILE_PLANS:
            d = plan_dir(tmp, label, replace)
            expected = aggregator_message(tmp, d)
            assert expected.startswith("%s/%s.json" % (d, named)), (label, expected)
            for command in COMMANDS:
                r = cli_run(command, d, db)
                what = "%s: wardpulse %s" % (label, command[0])
                assert r.returncode == 1, "%s: exit %d\n%s" % (what, r.returncode, r.stderr)
                assert "wardpulse %s: plan: %s\n" % (command[0], expected) in r.stderr, \
                    "%s: expected %r in:\n%s" % (what, expected, r.stderr)
                assert "does not exist" not in r.stderr, (what, r.stderr)


def test_the_ready_plan_run_the_same_way_gets_to_the_database():
    """The control: the ready plan is not refused, so the cases above fail for the change
    made to them; the commands then stop at the missing database."""
    with TempDir() as tmp:
        d = plan_dir(tmp, "ready", {})
        r = run([AGGREGATOR_BIN, "--db_path", os.path.join(tmp, "a.db"), "--plan_dir", d,
                 "--test-config"])
        assert r.returncode == 0 and "configuration OK" in r.stdout, r
        for command in COMMANDS:
            r = cli_run(command, d, os.path.join(tmp, "none.db"))
            assert r.returncode == 1 and "does not exist" in r.stderr, (command, r)
            assert "plan:" not in r.stderr, (command, r.stderr)


if __name__ == "__main__":
    run_tests(globals())
