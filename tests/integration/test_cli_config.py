"""The operator's command reads aggregator.conf with the aggregator's own table and checks
(aggregator/aggregator_config.c), so a configuration the daemon refuses is refused by
`wardpulse status`, `alerts`, `report` and `export` with the daemon's words: the message
after "wardpulse COMMAND: " is the one after "wardpulse-aggregator: ". A good one gives
the database path, the plan and the served unit.
"""
import os
import subprocess

from harness import AGGREGATOR_BIN, CLI_BIN, SRC, TempDir, run_tests

PLAN = os.path.join(SRC, "plans", "ba-dinh-2022")
COMMANDS = (("status",), ("alerts",), ("report", "--week", "2022-W19"), ("export",))

BAD = [
    ("an unknown key", "db_path {db}\ncolour blue\n"),
    ("a district that is no code", "db_path {db}\ndistrict 1\n"),
    ("both a district and a city", "db_path {db}\ndistrict 001\ncity 01\n"),
    ("a plan_dir that does not exist", "db_path {db}\nplan_dir {tmp}/no-plan\n"),
    ("a repeated key", "db_path {db}\ndb_path {db}\n"),
    ("a number out of range", "db_path {db}\nbatch_max 0\n"),
]


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=30)


def test_a_configuration_the_aggregator_refuses_is_refused_with_its_words():
    with TempDir() as tmp:
        db = os.path.join(tmp, "none.db")
        for label, text in BAD:
            conf = os.path.join(tmp, "aggregator.conf")
            with open(conf, "w") as f:
                f.write(text.format(db=db, tmp=tmp))
            r = run([AGGREGATOR_BIN, "-c", conf, "--test-config"])
            assert r.returncode != 0 and r.stderr.startswith("wardpulse-aggregator: "), (label, r)
            expected = r.stderr[len("wardpulse-aggregator: "):].splitlines()[0]
            assert conf in expected, (label, expected)
            for command in COMMANDS:
                c = run([CLI_BIN] + list(command) + ["--config", conf])
                what = "%s: wardpulse %s" % (label, command[0])
                assert c.returncode == 1, "%s: exit %d\n%s" % (what, c.returncode, c.stderr)
                assert "wardpulse %s: %s\n" % (command[0], expected) in c.stderr, \
                    "%s: expected %r in:\n%s" % (what, expected, c.stderr)


def test_a_good_configuration_gives_the_database_the_plan_and_the_unit():
    """The control: what the daemon accepts is read, and its settings are used (the
    database named in it is the one the command then looks for)."""
    with TempDir() as tmp:
        db = os.path.join(tmp, "none.db")
        conf = os.path.join(tmp, "aggregator.conf")
        with open(conf, "w") as f:
            f.write("db_path %s\nplan_dir %s\ndistrict 001\n" % (db, PLAN))
        r = run([AGGREGATOR_BIN, "-c", conf, "--test-config"])
        assert r.returncode == 0 and "configuration OK" in r.stdout, r
        for command in COMMANDS:
            c = run([CLI_BIN] + list(command) + ["--config", conf])
            assert c.returncode == 1 and "database %s: does not exist" % db in c.stderr, \
                (command, c.stderr)
        # The unit comes from it too: district 002 is not in the plan.
        with open(conf, "w") as f:
            f.write("db_path %s\nplan_dir %s\ndistrict 002\n" % (db, PLAN))
        c = run([CLI_BIN, "status", "--config", conf])
        assert c.returncode == 1 and 'district "002"' in c.stderr and "plan:" in c.stderr, c


if __name__ == "__main__":
    run_tests(globals())
