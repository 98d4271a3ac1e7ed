"""The agent's outbox and delivery protocol against a real mosquitto and NO aggregator:
the test plays the aggregator's side (reading reports, publishing acks) itself, so that
every step of the protocol can be checked and provoked on purpose."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AGENT_BIN, Agent, Broker, Subscriber, TempDir, publish, run_tests, wait_for

WARD = "00001"
REPORT_TOPIC = "wardpulse/v1/report/" + WARD
ACK_TOPIC = "wardpulse/v1/ack/" + WARD
STATUS_TOPIC = "wardpulse/v1/status/" + WARD
OBSERVED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")


def query(agent, sql, *args):
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        return db.execute(sql, args).fetchall()


def entry_seqs(agent):
    return [r[0] for r in query(agent, "SELECT seq FROM entries ORDER BY seq")]


def stream_of(agent):
    return query(agent, "SELECT stream FROM meta")[0][0]


def ack(port, stream, through, rejected=(), ward=WARD):
    publish(port, "wardpulse/v1/ack/" + ward,
            {"v": 1, "ward": ward, "stream": stream, "acked_through": through,
             "rejected": [{"seq": s, "reason": r} for s, r in rejected]})


def reports_seen(sub):
    return [p for p in sub.payloads(REPORT_TOPIC)]


def test_submit_refuses_invalid_input_and_writes_nothing():
    with TempDir() as tmp:
        agent = Agent(tmp, WARD, 1)  # no broker needed: submit only touches the outbox
        r = agent.submit("2022-05-03", {"cases_new_community": -3}, check=False)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "values.cases_new_community" in r.stderr, r.stderr
        r = agent.submit("2022-02-30", {"cases_new_community": 3}, check=False)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "period" in r.stderr, r.stderr
        r = agent.submit("2022-05-03", {"cases_new_community": "many"}, check=False)
        assert r.returncode == 1 and "values.cases_new_community" in r.stderr, r.stderr
        r = agent.submit("2022-05-03", tasks={"ward-scenario": "finished"}, check=False)
        assert r.returncode == 1 and "tasks.ward-scenario" in r.stderr, r.stderr
        # A file must not carry what the agent assigns, nor another ward.
        path = os.path.join(tmp, "report.json")
        for extra, word in (({"seq": 7}, "seq"), ({"stream": "0123456789abcdef"}, "stream"),
                            ({"ward": "00004"}, "ward")):
            doc = {"period": "2022-05-03", "values": {"cases_new_community": 1}}
            doc.update(extra)
            with open(path, "w") as f:
                json.dump(doc, f)
            r = agent.command("submit", "--file", path, check=False)
            assert r.returncode == 1 and word in r.stderr, (word, r.stderr)
        # Nothing was written: refused input is checked before the outbox is opened.
        assert not os.path.exists(agent.outbox) or entry_seqs(agent) == []


def test_submits_are_committed_before_exit():
    with TempDir() as tmp:
        agent = Agent(tmp, WARD, 1)
        for i, day in enumerate(["2022-05-01", "2022-05-02", "2022-W18"], start=1):
            r = agent.submit(day, {"cases_new_community": i, "vacc_18p_dose3_cum": 12000 + i},
                             {"ward-scenario": "done"}, note="ghi chú %d" % i)
            assert r.stdout.strip() == "queued report seq %d for %s" % (i, day), r.stdout
            # The exit status came after the commit: another connection sees it now.
            assert entry_seqs(agent) == list(range(1, i + 1))
        path = os.path.join(tmp, "report.json")
        with open(path, "w") as f:
            json.dump({"ward": WARD, "period": "2022-05-04", "values": {"deaths": 0},
                       "tasks": {"ward-scenario": "in_progress"}}, f)
        r = agent.command("submit", "--file", path)
        assert r.stdout.strip() == "queued report seq 4 for 2022-05-04", r.stdout
        stream = stream_of(agent)
        assert re.fullmatch(r"[0-9a-f]{16}", stream), stream
        assert query(agent, "PRAGMA journal_mode")[0][0] == "wal"
        payload = json.loads(query(agent, "SELECT payload FROM entries WHERE seq = 2")[0][0])
        assert payload["stream"] == stream and payload["seq"] == 2 and payload["v"] == 1
        assert payload["ward"] == WARD and payload["period"] == "2022-05-02"
        assert payload["values"] == {"cases_new_community": 2, "vacc_18p_dose3_cum": 12002}
        assert payload["note"] == "ghi chú 2" and OBSERVED_AT.match(payload["observed_at"])


def test_submit_waits_while_another_process_writes_before_wal():
    """An outbox still in the rollback journal (a file just created, or one an operator
    copied back with another tool) while another process holds its write lock: switching
    to WAL is a would-be deadlock that SQLite answers at once with SQLITE_BUSY, without the
    busy handler. `submit` waits for the writer as it does in WAL mode, and queues.
    (CI saw it when the daemon and a submit created a fresh outbox at the same moment.)"""
    with TempDir() as tmp:
        agent = Agent(tmp, WARD, 1)
        agent.submit("2022-05-01", {"cases_new_community": 1})
        other = sqlite3.connect(agent.outbox, isolation_level=None)
        try:
            assert other.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
            other.execute("BEGIN IMMEDIATE")
            proc = subprocess.Popen([AGENT_BIN, "-c", agent.conf, "submit", "--period",
                                     "2022-05-02", "--value", "cases_new_community=2"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(1.0)
            assert proc.poll() is None, proc.communicate()[0]  # still waiting, not refused
            other.execute("COMMIT")
            out = proc.communicate(timeout=30)[0]
        finally:
            other.close()
        assert proc.returncode == 0, out
        assert out.strip() == "queued report seq 2 for 2022-05-02", out
        assert entry_seqs(agent) == [1, 2]
        assert query(agent, "PRAGMA journal_mode")[0][0] == "wal"


def test_daemon_publishes_in_order_and_applies_acks():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, REPORT_TOPIC, client_id="test-reports")
        agent = Agent(tmp, WARD, broker.port, ack_timeout="60s", poll_interval="50ms")
        for i in range(1, 4):
            agent.submit("2022-05-0%d" % i, {"cases_new_community": i})
        agent.start()
        wait_for(lambda: len(reports_seen(sub)) >= 3, "3 reports published")
        stream = stream_of(agent)
        # A submit while the daemon runs is noticed (data_version) and published too.
        agent.submit("2022-05-04", {"cases_new_community": 4})
        wait_for(lambda: len(reports_seen(sub)) >= 4, "the 4th report published")
        seen = reports_seen(sub)
        assert [p["seq"] for p in seen] == [1, 2, 3, 4], seen
        for p in seen:
            assert p["stream"] == stream and p["ward"] == WARD and p["v"] == 1
            assert OBSERVED_AT.match(p["observed_at"]), p
        assert set(query(agent, "SELECT attempts FROM entries")) == {(1,)}

        # An ack for another stream (an old, wiped store) removes nothing. Acks on one
        # topic arrive in order, so once the next ack has acted, this one has too.
        ack(broker.port, "ffffffffffffffff", 4)
        ack(broker.port, stream, 2)
        wait_for(lambda: entry_seqs(agent) == [3, 4], "entries <= 2 removed, 3 and 4 kept")
        assert "another stream" in agent.output() or "stream ffffffffffffffff" in agent.output()

        reason = "values.cases_new_community: must be ≤ 100"
        ack(broker.port, stream, 4, rejected=[(3, reason)])
        wait_for(lambda: entry_seqs(agent) == [], "outbox empty after ack through 4")
        dead = query(agent, "SELECT seq, reason FROM dead_letter")
        assert dead == [(3, reason)], dead
        assert "report seq 3 was rejected by the aggregator: " + reason in agent.output()

        # Repeated and older acks are harmless; a later submit still goes out as seq 5.
        ack(broker.port, stream, 4, rejected=[(3, reason)])
        ack(broker.port, stream, 1)
        agent.submit("2022-05-05", {"cases_new_community": 5})
        wait_for(lambda: [p["seq"] for p in reports_seen(sub)][-1:] == [5], "seq 5 published")
        assert entry_seqs(agent) == [5]
        assert query(agent, "SELECT count(*) FROM dead_letter")[0][0] == 1

        status = agent.command("status").stdout
        assert reason in status and stream in status, status
        assert re.search(r"\b1 report\(s\)", status), status
        assert agent.stop() == 0
        sub.close()


def test_unacked_report_is_republished_after_ack_timeout():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = Subscriber(broker.port, REPORT_TOPIC, client_id="test-retries")
        agent = Agent(tmp, WARD, broker.port, ack_timeout="1s", poll_interval="50ms")
        agent.submit("2022-05-03", {"cases_new_community": 12})
        agent.start()
        wait_for(lambda: len(reports_seen(sub)) >= 1, "first publication")
        first = time.monotonic()
        wait_for(lambda: len(reports_seen(sub)) >= 3, "two republications", timeout=10)
        elapsed = time.monotonic() - first
        assert 1.5 < elapsed < 6, "republished twice in %.1fs with ack_timeout 1s" % elapsed
        seen = reports_seen(sub)
        assert all(p == seen[0] for p in seen), "a republication must be the same payload"
        assert query(agent, "SELECT attempts FROM entries")[0][0] >= 3

        ack(broker.port, seen[0]["stream"], 1)
        wait_for(lambda: entry_seqs(agent) == [], "acked entry removed")
        count = len(reports_seen(sub))
        time.sleep(2.5)
        assert len(reports_seen(sub)) == count, "an acked report was published again"
        agent.stop()
        sub.close()


def test_status_online_retained_and_last_will_on_kill9():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agent = Agent(tmp, WARD, broker.port, poll_interval="50ms")
        agent.submit("2022-05-03", {"cases_new_community": 12})
        agent.start()

        def last_status(client_id):
            # A fresh subscriber sees only what the broker retained.
            sub = Subscriber(broker.port, STATUS_TOPIC, client_id=client_id)
            try:
                time.sleep(0.3)
                msgs = [(p, r) for t, p, r in sub.messages]
                return json.loads(msgs[-1][0]) if msgs and msgs[-1][1] else None
            finally:
                sub.close()

        online = wait_for(lambda: (lambda s: s if s and s["state"] == "online" else None)(
            last_status("test-status-a")), "retained online status", timeout=10)
        assert online["ward"] == WARD and online["v"] == 1 and online["queued"] == 1, online
        assert OBSERVED_AT.match(online["since"]) and online["version"], online

        agent.kill9()
        offline = wait_for(lambda: (lambda s: s if s and s["state"] == "offline" else None)(
            last_status("test-status-b")), "retained offline status (Last Will)", timeout=15)
        assert offline["ward"] == WARD, offline

        # A clean stop publishes offline itself (a clean DISCONNECT drops the will).
        agent.start()
        wait_for(lambda: (lambda s: s and s["state"] == "online")(last_status("test-status-c")),
                 "online again", timeout=10)
        assert agent.stop() == 0
        stopped = last_status("test-status-d")
        assert stopped and stopped["state"] == "offline" and "since" in stopped, stopped


def test_help_and_test_config():
    with TempDir() as tmp:
        agent = Agent(tmp, WARD, 1)
        r = subprocess.run([AGENT_BIN, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "submit" in r.stdout and "--outbox_path" in r.stdout
        r = agent.command("--test-config")
        assert "configuration OK" in r.stdout
        r = subprocess.run([AGENT_BIN, "-c", agent.conf, "--ward", "12"], capture_output=True,
                           text=True)
        assert r.returncode != 0 and "ward" in r.stderr, r.stderr


run_tests(globals())
