"""The file on disk is the file in use (issue 9): a daemon whose database (the
aggregator's) or outbox (the agent's) is deleted or replaced under it stops before it
acknowledges or forgets anything more, and a second aggregator on the same database is
refused. Real mosquitto, real daemons; exactly-once checked with `wardpulse export`."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import District, queued
from harness import Aggregator, TempDir, export_values, run_tests, wait_for


def backup(db_path, copy_path):
    """A consistent copy, as `sqlite3 DB .backup COPY` makes one while the daemon runs."""
    src = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30)
    dst = sqlite3.connect(copy_path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def wait_exit(proc, what, timeout=20):
    wait_for(lambda: not proc.alive(), what, timeout=timeout)
    return proc.proc.returncode


def test_aggregator_database_replaced_by_a_backup_stops_before_acking():
    with TempDir() as tmp:
        district = District(tmp, wards=["00001", "00004"]).start_agents()
        agg = district.aggregator
        district.stream(10)
        district.wait_delivered()
        copy = os.path.join(tmp, "restored.db")
        backup(agg.db, copy)
        # The operator restores a backup over the database the aggregator has open.
        os.rename(copy, agg.db)
        district.stream(10, first_index=10)
        code = wait_exit(agg, "the aggregator to stop on the replaced database")
        out = agg.output()
        assert code != 0, out[-2000:]
        assert "was replaced by another file" in out, out[-2000:]
        # Nothing submitted after the replacement was acknowledged into the lost file.
        assert sum(queued(a) for a in district.agents.values()) == 10
        agg.start()    # what systemd's Restart=on-failure does
        district.wait_delivered()
        assert district.assert_exactly_once() == 20
        district.stop_all()


def test_aggregator_database_deleted_stops_before_acking():
    with TempDir() as tmp:
        district = District(tmp, wards=["00001"]).start_agents()
        agg = district.aggregator
        district.stream(5)
        district.wait_delivered()
        os.remove(agg.db)
        district.stream(5, first_index=5)
        code = wait_exit(agg, "the aggregator to stop on the deleted database")
        out = agg.output()
        assert code != 0, out[-2000:]
        assert "is gone" in out and "deleted or moved away" in out, out[-2000:]
        assert queued(district.agents["00001"]) == 5
        # The restart creates a new database: the five reports not acked are stored there,
        # and the five acked before the deletion, gone with the file, come back from the
        # ward's archive (the delivery protocol heals a database that went back in time:
        # test_delivery_edges) — each once.
        agg.start()
        wait_for(lambda: len({(r["seq"]) for r in export_values(agg.db)}) == 10,
                 "every report stored in the new database")
        seqs = sorted(r["seq"] for r in export_values(agg.db) if r["indicator"] == "cases_new_community")
        assert seqs == list(range(1, 11)), seqs


def test_second_aggregator_on_the_same_database_is_refused():
    with TempDir() as tmp:
        district = District(tmp, wards=["00001"]).start_agents()
        first = district.aggregator
        second = Aggregator(tmp, district.broker.port, name="second", db_path=first.db)
        second.db = first.db
        second.start()
        code = wait_exit(second, "the second aggregator to refuse to start")
        out = second.output()
        assert code != 0, out
        assert "already has the database" in out and first.db in out, out
        assert first.alive()
        district.stream(3)
        district.wait_delivered()
        assert district.assert_exactly_once() == 3
        district.stop_all()


def test_agent_outbox_replaced_stops_before_applying_an_ack():
    with TempDir() as tmp:
        district = District(tmp, wards=["00001"]).start_agents()
        agent = district.agents["00001"]
        district.stream(2)
        district.wait_delivered()
        # The district is away: the next reports stay unacked in the outbox.
        assert district.aggregator.stop() == 0
        district.stream(2, first_index=2)
        copy = os.path.join(tmp, "outbox-restored.db")
        backup(agent.outbox, copy)
        os.rename(copy, agent.outbox)
        district.aggregator.start()
        code = wait_exit(agent, "the agent daemon to stop on the replaced outbox")
        out = agent.output()
        assert code != 0, out[-2000:]
        assert "was replaced by another file" in out and "stopping with exit status 1" in out, \
            out[-2000:]
        agent.start()   # systemd again: the file now at the path is used
        district.wait_delivered()
        assert district.assert_exactly_once() == 4
        district.stop_all()


run_tests(globals())
