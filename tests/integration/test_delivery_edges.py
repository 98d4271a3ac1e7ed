"""Exactly once at the edges of the delivery protocol (DESIGN.md "Delivery", point 4):
a district database restored from an older backup heals itself from the wards' archives,
what no ward holds any more is declared lost (not skipped in silence), a reused seq is
refused instead of acked as a duplicate, a ward store that went back in time starts a new
stream, and an ack names every refusal the agent may not have heard.

Real mosquitto, real aggregator and agents, real SQLite files; `sqlite3 .backup` as an
operator would run it."""
import json
import os
import shutil
import sqlite3
import subprocess

from faults import FAST_AGENT, outbox_query, queued, stream_of
from harness import (Agent, Aggregator, Broker, Subscriber, TempDir, cli, quiet_plan,
                     export_values, publish, run_tests, wait_for)

WARDS = ["00001", "00004", "00006"]
ACK = "wardpulse/v1/ack/"


def stored_keys(db):
    """(ward, stream, seq) of every stored report, with repeats if any were stored twice."""
    seen = {}
    for row in export_values(db):
        seen.setdefault((row["ward"], row["stream"], row["seq"]), set()).add(row["indicator"])
    return seen


def submit_round(agents, day, expected):
    for agent in agents:
        r = agent.submit(day, {"cases_new_community": len(expected) + 1})
        seq = int(r.stdout.split()[3])
        expected.add((agent.ward, stream_of(agent), seq))


def all_acked(agents):
    return all(queued(a) == 0 for a in agents)


def sqlite_backup(db, to):
    subprocess.run(["sqlite3", db, ".backup '%s'" % to], check=True, timeout=60)


def restore(backup, db):
    """What an operator does: the daemon stopped, the backup copied over the file."""
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copyfile(backup, db)


def exactly_once(db, expected):
    rows = export_values(db)
    keys = [(r["ward"], r["stream"], r["seq"]) for r in rows]
    assert len(keys) == len(set(keys)), "a report stored twice: %s" % sorted(keys)
    assert set(keys) == expected, "missing %s, unexpected %s" % (
        sorted(expected - set(keys)), sorted(set(keys) - expected))




def district(tmp, plan=False, **agent_settings):
    broker = Broker(tmp).start()
    agg = Aggregator(tmp, broker.port, **({"plan_dir": quiet_plan(tmp)} if plan else {})).start()
    settings = dict(FAST_AGENT, **agent_settings)
    agents = [Agent(tmp, w, broker.port, **settings).start() for w in WARDS]
    return broker, agg, agents


def test_restored_backup_heals_from_the_wards():
    """Backed up mid-stream, restored after more reports were acked and deleted from the
    outboxes: the aggregator asks each ward to send again from the first seq it lacks, the
    wards answer from their archives, and at the end every report is stored exactly once
    and every outbox is empty."""
    with TempDir() as tmp:
        broker, agg, agents = district(tmp)
        expected = set()
        for day in ("2022-05-01", "2022-05-02"):
            submit_round(agents, day, expected)
        wait_for(lambda: all_acked(agents), "first reports acked")
        backup = os.path.join(tmp, "backup.db")
        sqlite_backup(agg.db, backup)
        for day in ("2022-05-03", "2022-05-04", "2022-05-05"):
            submit_round(agents, day, expected)
        wait_for(lambda: all_acked(agents), "later reports acked (and gone from the outboxes)")
        assert agg.stop() == 0
        restore(backup, agg.db)
        agg.start()
        # The next report of each ward shows the gap; the aggregator asks for the rest.
        submit_round(agents, "2022-05-06", expected)
        wait_for(lambda: all_acked(agents), "every outbox empty after the heal", timeout=60)
        exactly_once(agg.db, expected)
        out = agg.output()
        assert "asking the ward to send them again" in out, out[-3000:]
        for agent in agents:
            assert "go out again" in agent.output(), agent.output()[-2000:]
        with sqlite3.connect("file:%s?mode=ro" % agg.db, uri=True) as db:
            assert db.execute("SELECT COUNT(*) FROM lost_reports").fetchone()[0] == 0
        db.close()


def test_what_no_ward_holds_is_declared_lost_not_skipped_in_silence():
    """Wards that keep no archive cannot answer: the seqs the restored database lacks are
    declared lost, named in the log and in lost_reports, and the ward is acked past them
    so that it is not blocked for ever."""
    with TempDir() as tmp:
        broker, agg, agents = district(tmp, plan=True, archive_days=0, archive_max=0)
        alerts = Subscriber(broker.port, "wardpulse/v1/alert/#")
        expected = set()
        submit_round(agents, "2022-05-01", expected)
        wait_for(lambda: all_acked(agents), "first reports acked")
        backup = os.path.join(tmp, "backup.db")
        sqlite_backup(agg.db, backup)
        lost = set()
        for day in ("2022-05-02", "2022-05-03"):
            before = set(expected)
            submit_round(agents, day, expected)
            lost |= expected - before
        wait_for(lambda: all_acked(agents), "later reports acked")
        assert agg.stop() == 0
        restore(backup, agg.db)
        agg.start()
        submit_round(agents, "2022-05-04", expected)
        wait_for(lambda: all_acked(agents), "every outbox empty: acked past the lost seqs")
        exactly_once(agg.db, expected - lost)
        with sqlite3.connect("file:%s?mode=ro" % agg.db, uri=True) as db:
            rows = db.execute("SELECT ward, stream, first_seq, last_seq FROM lost_reports "
                              "ORDER BY ward").fetchall()
        db.close()
        declared = {(w, s, seq) for w, s, first, last in rows for seq in range(first, last + 1)}
        assert declared == lost, (rows, sorted(lost))
        out = agg.output()
        for ward in WARDS:
            assert "ward %s stream" % ward in out and "are lost" in out, out[-3000:]
        # A claim to the district, per ward: which stream and seqs, and what to do.
        for ward in WARDS:
            topic = "wardpulse/v1/alert/001/%s/reports-lost" % ward
            alert = wait_for(lambda: [a for a in alerts.payloads(topic) if a], topic)[-1]
            mine = sorted(seq for w, st, seq in lost if w == ward)
            stream = next(st for w, st, seq in lost if w == ward)
            assert alert["kind"] == "reports_lost" and alert["severity"] == "critical", alert
            assert alert["state"] == "firing", alert
            vi, en = alert["summary"]["vi"], alert["summary"]["en"]
            assert "Mất %d báo cáo của Phường" % len(mine) in vi, vi
            assert "dòng %s, số thứ tự %d–%d" % (stream, mine[0], mine[-1]) in vi, vi
            assert "Đề nghị" in vi and "gửi lại số liệu" in vi, vi
            assert "stream %s, seq %d–%d" % (stream, mine[0], mine[-1]) in en, en


def outbox_restored_from_its_backup(tmp):
    """Ward 00001 backs up its outbox after seq 1 was acked, sends seqs 2 and 3 (acked),
    then its outbox is restored from that backup: it will hand out seq 2 again. The
    agent daemon is left stopped."""
    broker = Broker(tmp).start()
    agg = Aggregator(tmp, broker.port).start()
    agent = Agent(tmp, "00001", broker.port, **FAST_AGENT).start()
    agent.submit("2022-05-01", {"cases_new_community": 1})
    wait_for(lambda: queued(agent) == 0, "seq 1 acked")
    backup = os.path.join(tmp, "outbox-backup.db")
    sqlite_backup(agent.outbox, backup)
    agent.submit("2022-05-02", {"cases_new_community": 2})
    agent.submit("2022-05-03", {"cases_new_community": 3})
    wait_for(lambda: queued(agent) == 0, "seqs 2, 3 acked")
    assert agent.stop() == 0
    restore(backup, agent.outbox)
    return agg, agent


def test_reused_seq_is_refused_and_dead_lettered():
    """A ward's outbox restored from its own backup hands out seqs the district already
    holds, for other figures: they are refused with a reason (not acked as duplicates, so
    the new figures do not vanish in silence), dead-lettered at the ward and shown by
    `status`; the original figures stay."""
    with TempDir() as tmp:
        agg, agent = outbox_restored_from_its_backup(tmp)
        # While the daemon is down the clerk submits three reports: seqs 2, 3, 4 again.
        for day, n in (("2022-05-04", 40), ("2022-05-05", 50), ("2022-05-06", 60)):
            agent.submit(day, {"cases_new_community": n})
        agent.start()
        wait_for(lambda: queued(agent) == 0, "the three handled")
        values = {(r["seq"], r["period"]): r["value"] for r in export_values(agg.db)}
        assert values == {(1, "2022-05-01"): 1, (2, "2022-05-02"): 2, (3, "2022-05-03"): 3,
                          (4, "2022-05-06"): 60}, values
        rejected = json.loads(cli("export", "--db", agg.db, "--format", "json",
                                  "--rejected").stdout)
        assert sorted(r["seq"] for r in rejected) == [2, 3], rejected
        assert all("already names another report" in r["reason"] for r in rejected), rejected
        dead = outbox_query(agent, "SELECT seq, period, reason FROM dead_letter ORDER BY seq")
        assert [(s, p) for s, p, _ in dead] == [(2, "2022-05-04"), (3, "2022-05-05")], dead
        status = agent.command("status", check=False).stdout
        assert "already names another report" in status, status


def test_store_that_went_back_in_time_starts_a_new_stream():
    """An ack beyond any seq the store issued: the agent says so loudly and sends what
    was not yet acknowledged under a new stream, so it is stored, not refused."""
    with TempDir() as tmp:
        agg, agent = outbox_restored_from_its_backup(tmp)
        old_stream = stream_of(agent)
        agent.start()
        agent.submit("2022-05-04", {"cases_new_community": 40})   # seq 2 again
        wait_for(lambda: stream_of(agent) != old_stream, "a new stream")
        wait_for(lambda: queued(agent) == 0, "the report acked under the new stream")
        assert "went back in time" in agent.output(), agent.output()[-2000:]
        rows = export_values(agg.db)
        new = [(r["seq"], r["value"]) for r in rows if r["stream"] == stream_of(agent)]
        assert new == [(1, 40)], rows
        old = sorted((r["seq"], r["value"]) for r in rows if r["stream"] == old_stream)
        assert old == [(1, 1), (2, 2), (3, 3)], rows


def test_an_ack_the_outbox_could_not_take_is_applied_later():
    """The ack naming a refusal comes while the outbox is locked by another process for
    longer than the agent waits: the agent keeps the ack and applies it once it can, so
    the refused report is dead-lettered (the clerk is told), never deleted as delivered
    by the ack of a later report."""
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        # Under the plan an indicator outside its catalog is refused.
        agg = Aggregator(tmp, broker.port, plan_dir=quiet_plan(tmp)).start()
        wait_for(lambda: "connected to" in agg.output(), "the aggregator's session made")
        assert agg.stop() == 0   # its session stays: the broker queues reports for it
        # A long ack_timeout: nothing is published again before the later report.
        agent = Agent(tmp, "00001", broker.port, ack_timeout="60s", ack_timeout_max="60s",
                      poll_interval="50ms").start()
        agent.submit("2022-05-01", {"not_in_the_catalog": 1})
        wait_for(lambda: (outbox_query(agent, "SELECT attempts FROM entries") or [(0,)])[0][0] >= 1,
                 "seq 1 published")
        lock = sqlite3.connect(agent.outbox, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")   # as a stuck backup program would
        try:
            agg.start()   # refuses seq 1 and acks it into the locked outbox
            wait_for(lambda: "still locked by another process" in agent.output(),
                     "the agent failing to take the ack", timeout=60)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        agent.submit("2022-05-02", {"cases_new_community": 2})
        wait_for(lambda: queued(agent) == 0, "outbox empty", timeout=60)
        dead = outbox_query(agent, "SELECT seq, reason FROM dead_letter")
        assert [s for s, _ in dead] == [1], dead
        assert "not in the plan's catalog" in dead[0][1], dead
        assert [r["seq"] for r in export_values(agg.db)] == [2]


def report(seq, **extra):
    body = {"v": 1, "ward": "00001", "stream": "9f1c2a7e4b5d6c3a", "seq": seq,
            "period": "2022-05-%02d" % seq, "observed_at": "2022-05-01T17:05:00+07:00",
            "values": {"cases_new_community": seq}}
    body.update(extra)
    return body


def test_ack_names_every_refusal_the_agent_has_not_heard():
    """A refusal whose ack the agent missed is named again by every later ack from the
    agent's unacked_from on, so the entry is dead-lettered, never deleted as delivered."""
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        Aggregator(tmp, broker.port).start().subscribed()
        sub = Subscriber(broker.port, ACK + "#")
        publish(broker.port, "wardpulse/v1/report/00001", report(1, values={"x": -1}))
        wait_for(lambda: sub.payloads(ACK + "00001"), "the first ack (the agent misses it)")
        for seq in range(2, 5):
            publish(broker.port, "wardpulse/v1/report/00001",
                    report(seq, unacked_from=1, kept_from=1))
        acks = wait_for(lambda: [a for a in sub.payloads(ACK + "00001")
                                 if a["acked_through"] == 4], "ack through 4")
        assert [r["seq"] for r in acks[-1]["rejected"]] == [1], acks[-1]
        # Once the agent says it holds nothing unacked below 5, seq 1 is not named again.
        publish(broker.port, "wardpulse/v1/report/00001", report(5, unacked_from=5, kept_from=5))
        ack = wait_for(lambda: [a for a in sub.payloads(ACK + "00001")
                                if a["acked_through"] == 5], "ack through 5")[-1]
        assert ack["rejected"] == [], ack


def test_delivery_fields_out_of_order_are_refused():
    """kept_from ≤ unacked_from ≤ seq, or the report is refused with the reason."""
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        Aggregator(tmp, broker.port).start().subscribed()
        sub = Subscriber(broker.port, ACK + "#")
        publish(broker.port, "wardpulse/v1/report/00001", report(1, unacked_from=2))
        ack = wait_for(lambda: sub.payloads(ACK + "00001"), "ack")[-1]
        assert ack["acked_through"] == 1 and "unacked_from" in ack["rejected"][0]["reason"], ack


if __name__ == "__main__":
    run_tests(globals())
