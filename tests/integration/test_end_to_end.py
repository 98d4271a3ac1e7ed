"""End to end: real agents, a real mosquitto, the real aggregator, checked through
`wardpulse export` — the operator's view of what the district stored."""
import collections
import datetime
import json
import os
import re
import shlex
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor

from harness import (BA_DINH_WARDS, SRC, Agent, Aggregator, Broker, Subscriber, TempDir,
                     export_values, run_tests, wait_for)

REPORTS_PER_WARD = 50


def outbox_queued(agent):
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def figures(ward, i):
    """Distinct, checkable figures for report i of a ward."""
    return {"cases_new_community": i % 17, "vacc_18p_dose3_cum": 10000 + 10 * i + int(ward) % 7}


def test_14_wards_50_reports_each_stored_exactly_once():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port).start()
        agents = [Agent(tmp, ward, broker.port, ack_timeout="2s").start() for ward in BA_DINH_WARDS]
        first = datetime.date(2022, 5, 1)

        def submit_all(agent):
            for i in range(REPORTS_PER_WARD):
                period = (first + datetime.timedelta(days=i)).isoformat()
                agent.submit(period, figures(agent.ward, i), {"ward-scenario": "done"})

        # The wards submit concurrently while their daemons are already publishing.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(submit_all, agents))

        expected_reports = len(BA_DINH_WARDS) * REPORTS_PER_WARD
        wait_for(lambda: all(outbox_queued(a) == 0 for a in agents), "every outbox empty",
                 timeout=120)
        rows = export_values(agg.db)

        # Exactly once: one row per (report, indicator), 700 distinct reports.
        per_value = collections.Counter((r["ward"], r["stream"], r["seq"], r["indicator"]) for r in rows)
        twice = [k for k, n in per_value.items() if n != 1]
        assert not twice, "values stored more than once: %s" % twice[:5]
        reports = {(r["ward"], r["stream"], r["seq"]) for r in rows}
        assert len(reports) == expected_reports, "%d reports stored, expected %d" % (
            len(reports), expected_reports)

        # Every ward's reports are seq 1..50 of one stream, with the figures submitted.
        for agent in agents:
            mine = [r for r in rows if r["ward"] == agent.ward]
            assert len({r["stream"] for r in mine}) == 1, agent.ward
            assert sorted({r["seq"] for r in mine}) == list(range(1, REPORTS_PER_WARD + 1))
            for r in mine:
                i = (datetime.date.fromisoformat(r["period"]) - first).days
                assert r["value"] == figures(agent.ward, i)[r["indicator"]], r

        for agent in agents:
            assert agent.alive(), agent.output()
            assert agent.stop() == 0, agent.output()
        assert agg.alive()
        assert agg.stop() == 0, agg.output()


def documented_mosquitto_pub():
    """The mosquitto_pub command of docs/topics-and-payloads.md, as an operator pastes it."""
    with open(os.path.join(SRC, "docs", "topics-and-payloads.md"), encoding="utf-8") as f:
        doc = f.read()
    commands = re.findall(r"(?m)^mosquitto_pub .*$", doc)
    assert commands, "docs/topics-and-payloads.md shows no mosquitto_pub command"
    return shlex.split(commands[0])


def test_report_published_as_the_docs_show_is_accepted_and_acked():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port).start()
        argv = documented_mosquitto_pub()
        payload = json.loads(argv[argv.index("-m") + 1])
        ward = payload["ward"]
        acks = Subscriber(broker.port, "wardpulse/v1/ack/" + ward)
        subprocess.run(argv + ["-p", str(broker.port)], check=True, timeout=30)

        ack = wait_for(lambda: acks.payloads(), "an ack for ward " + ward)[0]
        assert ack["acked_through"] == payload["seq"], ack
        assert ack["stream"] == payload["stream"], ack
        assert not ack.get("rejected"), ack
        stored = {(r["indicator"], r["value"]) for r in export_values(agg.db)}
        assert stored == set(payload["values"].items()), stored
        acks.close()


if __name__ == "__main__":
    run_tests(globals())
