"""The fallbacks of the delivery protocol (DESIGN.md "Delivery", point 4; issue 9):

- an ack names the refusals a client may not have heard also when the client sends only
  today's fields (no unacked_from / kept_from): the stream's refusals among its last 100
  seqs, at most 1000 per ack, and an ack with more stops short of the first left out
  (docs/topics-and-payloads.md, "Every refusal the agent may not have heard");
- the agent's archive of acknowledged reports is pruned by count (archive_max) and by age
  (archive_days), and a district that then asks for pruned seqs gets what is still held
  and declares the rest lost;
- a client without the delivery fields whose next seq does not come (it deleted it on an
  ack the district's restored database no longer remembers) holds its acks back: the
  aggregator cannot ask it to send again, so it says so once, with what heals it.

Real mosquitto, real aggregator and agent, real SQLite files. The plain client is
mosquitto_pub, as an operator or a third-party sender would publish."""
import datetime
import json
import os
import sqlite3
import subprocess

from faults import FAST_AGENT, outbox_query, queued, stream_of
from harness import (Agent, Aggregator, Broker, Subscriber, TempDir, export_values,
                     run_tests, wait_for)

WARD = "00001"
STREAM = "5e0b7c1d2a3f4e6b"
REPORT_TOPIC = "wardpulse/v1/report/" + WARD
ACK_TOPIC = "wardpulse/v1/ack/" + WARD


def report(seq, refused=False):
    """A report with today's fields only: no unacked_from, no kept_from. A negative
    value is a schema violation: refused, with its seq, so an ack must name it."""
    return {"v": 1, "ward": WARD, "stream": STREAM, "seq": seq,
            "period": "2022-05-01", "observed_at": "2022-05-01T17:05:00+07:00",
            "values": {"cases_new_community": -1 if refused else seq}}


def publish_all(port, reports):
    """Every report as one message, in order, by one mosquitto_pub (-l: a message per
    line), QoS 1."""
    lines = "".join(json.dumps(r) + "\n" for r in reports)
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                    "-t", REPORT_TOPIC, "-l"], input=lines.encode(), check=True, timeout=120)


def acks_through(sub, seq):
    return [a for a in sub.payloads(ACK_TOPIC) if a["acked_through"] == seq]


def rejected_seqs(ack):
    return [r["seq"] for r in ack["rejected"]]


def district_without_agent(tmp, **settings):
    broker = Broker(tmp).start()
    agg = Aggregator(tmp, broker.port, **settings).start().subscribed()
    return broker, agg, Subscriber(broker.port, ACK_TOPIC)


def test_missed_refusal_is_named_again_to_a_client_without_the_new_fields():
    """The client misses the ack that carried its refusal (it does not look at acks):
    the ack of its next report, published alone, names the refusal again. The stream's
    last 100 seqs are searched: the refusal is named up to the ack through seq 101, not
    by the ack through 102."""
    with TempDir() as tmp:
        broker, agg, sub = district_without_agent(tmp)
        publish_all(broker.port, [report(1), report(2, refused=True)])
        first = wait_for(lambda: acks_through(sub, 2), "the ack through 2 (missed)")[-1]
        assert rejected_seqs(first) == [2], first
        # The next report alone in its batch: only the stream's recent refusals name seq 2.
        publish_all(broker.port, [report(3)])
        later = wait_for(lambda: acks_through(sub, 3), "the ack through 3")[-1]
        assert rejected_seqs(later) == [2], later
        assert "cases_new_community" in later["rejected"][0]["reason"], later
        # Seq 2 is among the last 100 seqs of an ack through 101 (2..101) ...
        publish_all(broker.port, [report(s) for s in range(4, 102)])
        ack = wait_for(lambda: acks_through(sub, 101), "the ack through 101")[-1]
        assert rejected_seqs(ack) == [2], ack
        # ... and no longer of one through 102 (3..102): bounded.
        publish_all(broker.port, [report(102)])
        ack = wait_for(lambda: acks_through(sub, 102), "the ack through 102")[-1]
        assert ack["rejected"] == [], ack
        assert [r["seq"] for r in export_values(agg.db)] == [1] + list(range(3, 103))


def test_an_ack_with_more_refusals_than_it_names_stops_short_of_the_first_left_out():
    """1001 refusals, then the client sends seq 1 again (alone: from seq 1 on, 1001
    refusals lie below the stream's acked_through): the ack names 1000 of them and is
    an ack through 1000, not 1001, so seq 1001 is not covered without its reason. The
    client sends 1001 again and the next ack names it."""
    with TempDir() as tmp:
        # Batches of at most 100: no ack of the first run reaches 1000 refusals itself.
        broker, agg, sub = district_without_agent(tmp, batch_max=100,
                                                  rejected_max_per_day=5000)
        refused = [report(s, refused=True) for s in range(1, 1002)]
        publish_all(broker.port, refused)
        wait_for(lambda: acks_through(sub, 1001), "the ack through 1001", timeout=120)
        seen = len(sub.payloads(ACK_TOPIC))
        publish_all(broker.port, [refused[0]])
        ack = wait_for(lambda: sub.payloads(ACK_TOPIC)[seen:], "the ack of seq 1 again")[0]
        assert rejected_seqs(ack) == list(range(1, 1001)), (len(ack["rejected"]),
                                                            rejected_seqs(ack)[-3:])
        assert ack["acked_through"] == 1000, ack["acked_through"]
        # The client goes on from the first seq not covered.
        seen = len(sub.payloads(ACK_TOPIC))
        publish_all(broker.port, [refused[1000]])
        ack = wait_for(lambda: sub.payloads(ACK_TOPIC)[seen:], "the ack of seq 1001 again")[0]
        assert ack["acked_through"] == 1001, ack["acked_through"]
        assert rejected_seqs(ack)[-1] == 1001, rejected_seqs(ack)[-3:]
        assert export_values(agg.db) == []


# ---- the agent's archive ------------------------------------------------------------------

def archived(agent):
    return [s for (s,) in outbox_query(agent, "SELECT seq FROM archive ORDER BY seq")]


def kept_from(agent):
    return outbox_query(agent, "SELECT kept_from FROM meta")[0][0]


def submit(agent, n):
    r = agent.submit("2022-05-%02d" % n, {"cases_new_community": n})
    return int(r.stdout.split()[3])


def restore(backup, db):
    """The aggregator stopped, its database replaced by an older copy."""
    for suffix in ("-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    os.replace(backup, db)


def lost_rows(db):
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as conn:
        rows = conn.execute("SELECT ward, stream, first_seq, last_seq FROM lost_reports "
                            "ORDER BY first_seq").fetchall()
    conn.close()
    return rows


def district_backed_up_empty(tmp):
    """A broker and an aggregator, and a backup of its database taken before any report
    (`sqlite3 .backup`, as docs/operations.md says)."""
    broker = Broker(tmp).start()
    agg = Aggregator(tmp, broker.port).start()
    backup = os.path.join(tmp, "before-any-report.db")
    subprocess.run(["sqlite3", agg.db, ".backup '%s'" % backup], check=True, timeout=60)
    return broker, agg, backup


def test_archive_keeps_the_newest_archive_max_and_a_restored_district_gets_those():
    """archive_max 3: after six acked reports the archive holds exactly seqs 4, 5, 6.
    The district's database is then restored from a copy taken before any report: the
    next report shows the gap, seqs 4..6 come back from the archive, 1..3 (pruned) are
    declared lost, and the outbox ends empty."""
    with TempDir() as tmp:
        broker, agg, backup = district_backed_up_empty(tmp)
        agent = Agent(tmp, WARD, broker.port, archive_max=3, archive_days=60,
                      **FAST_AGENT).start()
        for n in range(1, 7):
            assert submit(agent, n) == n
        wait_for(lambda: queued(agent) == 0, "six acked")
        assert archived(agent) == [4, 5, 6], archived(agent)
        assert kept_from(agent) == 4, kept_from(agent)

        assert agg.stop() == 0
        restore(backup, agg.db)
        agg.start()
        assert submit(agent, 7) == 7
        stream = stream_of(agent)
        # Seq 7 is acked only once every seq below it is stored or declared lost.
        wait_for(lambda: queued(agent) == 0, "the outbox empty", timeout=60)
        assert sorted(r["seq"] for r in export_values(agg.db)) == [4, 5, 6, 7], \
            export_values(agg.db)
        assert lost_rows(agg.db) == [(WARD, stream, 1, 3)], lost_rows(agg.db)
        assert "asking the ward to send them again" in agg.output(), agg.output()[-3000:]
        # The re-acked reports are archived again, the newest three kept.
        assert archived(agent) == [5, 6, 7], archived(agent)


def clock_at(days):
    """A simulated clock starting `days` from now (config clock_start)."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.replace(microsecond=0).isoformat()


def test_archive_drops_what_was_acked_more_than_archive_days_ago():
    """archive_days 2. Seqs 1..3 acked now, seq 4 a day later: all four kept. Half a day
    past two days after the first (the agent restarted with its clock moved on), seq 5
    is acked: 1..3 are dropped, 4 and 5 stay. A district that then lacks everything asks
    for it: 4 and 5 come back, 1..3 are declared lost."""
    with TempDir() as tmp:
        broker, agg, backup = district_backed_up_empty(tmp)
        settings = dict(FAST_AGENT, archive_days=2, archive_max=10000)
        agent = Agent(tmp, WARD, broker.port, **settings).start()
        for n in range(1, 4):
            assert submit(agent, n) == n
        wait_for(lambda: queued(agent) == 0, "seqs 1..3 acked")
        assert archived(agent) == [1, 2, 3], archived(agent)
        assert agent.stop() == 0

        agent = Agent(tmp, WARD, broker.port, clock_start=clock_at(1), **settings).start()
        assert submit(agent, 4) == 4
        wait_for(lambda: queued(agent) == 0, "seq 4 acked a day later")
        assert archived(agent) == [1, 2, 3, 4], archived(agent)
        assert agent.stop() == 0

        agent = Agent(tmp, WARD, broker.port, clock_start=clock_at(2.5), **settings).start()
        assert submit(agent, 5) == 5
        wait_for(lambda: queued(agent) == 0, "seq 5 acked")
        assert archived(agent) == [4, 5], archived(agent)
        assert kept_from(agent) == 4, kept_from(agent)

        assert agg.stop() == 0
        restore(backup, agg.db)
        agg.start()
        assert submit(agent, 6) == 6
        stream = stream_of(agent)
        wait_for(lambda: queued(agent) == 0, "the outbox empty", timeout=60)
        assert sorted(r["seq"] for r in export_values(agg.db)) == [4, 5, 6], \
            export_values(agg.db)
        assert lost_rows(agg.db) == [(WARD, stream, 1, 3)], lost_rows(agg.db)


def test_a_district_asking_for_pruned_seqs_gets_what_is_held_and_declares_the_rest_lost():
    """archive_days 2; seqs 1..3 acked now, 4 a day later. The district's database is
    restored from a copy taken before any report, and the agent comes back two and a half
    days on with seq 5, its archive not yet pruned (that happens on an ack), so it still
    says it keeps everything from seq 1: the district asks for seq 1 on. The agent, pruning
    on that ack, holds only seq 4: it sends that again, says it keeps from 4 on, and the
    district declares 1..3 lost instead of waiting for them for ever."""
    with TempDir() as tmp:
        broker, agg, backup = district_backed_up_empty(tmp)
        settings = dict(FAST_AGENT, archive_days=2, archive_max=10000)
        agent = Agent(tmp, WARD, broker.port, **settings).start()
        for n in range(1, 4):
            assert submit(agent, n) == n
        wait_for(lambda: queued(agent) == 0, "seqs 1..3 acked")
        assert agent.stop() == 0
        agent = Agent(tmp, WARD, broker.port, clock_start=clock_at(1), **settings).start()
        assert submit(agent, 4) == 4
        wait_for(lambda: queued(agent) == 0, "seq 4 acked a day later")
        assert agent.stop() == 0
        assert archived(agent) == [1, 2, 3, 4] and kept_from(agent) == 1, archived(agent)

        assert agg.stop() == 0
        restore(backup, agg.db)
        agg.start()
        agent = Agent(tmp, WARD, broker.port, clock_start=clock_at(2.5), **settings).start()
        assert submit(agent, 5) == 5
        stream = stream_of(agent)
        wait_for(lambda: queued(agent) == 0, "the outbox empty", timeout=60)
        assert "seq 1 and later were acknowledged before" in agg.output(), agg.output()[-3000:]
        assert "the district lacks seq 1 and later" in agent.output(), agent.output()[-3000:]
        assert sorted(r["seq"] for r in export_values(agg.db)) == [4, 5], export_values(agg.db)
        assert lost_rows(agg.db) == [(WARD, stream, 1, 3)], lost_rows(agg.db)
        assert archived(agent) == [4, 5] and kept_from(agent) == 4, archived(agent)


def test_a_seq_awaited_from_a_client_without_the_new_fields_is_said_once():
    """Seq 2 never comes from a client that does not say what it keeps: acks stay at 1,
    and the aggregator's log says why and what heals it — once, not per batch; when seq 2
    does come, the acks move on."""
    with TempDir() as tmp:
        broker, agg, sub = district_without_agent(tmp, batch_delay="5ms")
        publish_all(broker.port, [report(1)])
        wait_for(lambda: acks_through(sub, 1), "the ack through 1")
        said = "seq 2 has not arrived"
        publish_all(broker.port, [report(3)])
        wait_for(lambda: said in agg.output(), "the awaited seq said")
        publish_all(broker.port, [report(4)])
        publish_all(broker.port, [report(5)])
        wait_for(lambda: len([a for a in sub.payloads(ACK_TOPIC)
                              if a["acked_through"] == 1]) >= 4, "three more acks through 1")
        out = agg.output()
        assert out.count(said) == 1, out[-3000:]
        assert "upgrade the ward's agent" in out and "no unacked_from" in out, out[-3000:]
        publish_all(broker.port, [report(2)])
        wait_for(lambda: acks_through(sub, 5), "the ack through 5 once seq 2 came")
        assert sorted(r["seq"] for r in export_values(agg.db)) == [1, 2, 3, 4, 5]


def test_archive_days_0_keeps_nothing():
    """archive_days 0 means keep none (its --help words): what an ack covers leaves the
    outbox at once, not at the next ack, and the agent no longer says it keeps it."""
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        Aggregator(tmp, broker.port).start()
        agent = Agent(tmp, WARD, broker.port, archive_days=0, **FAST_AGENT).start()
        for n in range(1, 4):
            assert submit(agent, n) == n
        wait_for(lambda: queued(agent) == 0, "three acked")
        assert archived(agent) == [], archived(agent)


if __name__ == "__main__":
    run_tests(globals())
