"""`wardpulse-agent status` as the ward clerk reads it: the daemon and its link (since
when), queued reports, the oldest one's age, the last ack, refused spool files and the
reports the district rejected — read-only, also from an account that may only read."""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AGENT_BIN, Agent, Broker, Skip, TempDir, publish, run_tests, wait_for

WARD = "00001"
STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00"


def row(status, label):
    """The value of one line of the status table."""
    m = re.search(r"(?m)^  %s\s{2,}(.*)$" % re.escape(label), status)
    assert m, "no '%s' line in:\n%s" % (label, status)
    return m.group(1)


def stream_of(agent):
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        return db.execute("SELECT stream FROM meta").fetchone()[0]


def queued(agent):
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        return [s for (s,) in db.execute("SELECT seq FROM entries ORDER BY seq")]


def test_status_shows_link_queue_acks_and_rejections():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        spool = os.path.join(tmp, "spool")
        os.makedirs(spool)
        agent = Agent(tmp, WARD, broker.port, ack_timeout="60s", poll_interval="50ms",
                      reconnect_min="100ms", reconnect_max="200ms", spool_dir=spool,
                      spool_interval="100ms", spool_settle="0")
        for i in range(1, 4):
            agent.submit("2022-05-0%d" % i, {"cases_new_community": i})
        status = agent.command("status").stdout
        assert row(status, "Agent daemon").startswith("NOT RUNNING"), status
        assert row(status, "Link to the district").startswith("unknown"), status

        agent.start()
        wait_for(lambda: "connected to" in agent.command("status").stdout, "connected")
        with open(os.path.join(spool, "bad.csv"), "w") as f:
            f.write("period,indicator,value\n2022-05-04,deaths,-1\n")
        reason = "values.cases_new_community: must be ≤ 10"
        publish(broker.port, "wardpulse/v1/ack/" + WARD,
                {"v": 1, "ward": WARD, "stream": stream_of(agent), "acked_through": 2,
                 "rejected": [{"seq": 2, "reason": reason}]})
        # the .error comes first, the file is moved after it
        wait_for(lambda: queued(agent) == [3] and os.path.exists(
            os.path.join(spool, "rejected", "bad.csv")), "ack applied, file refused")
        status = agent.command("status").stdout
        assert re.fullmatch(r"running \(pid %d\)" % agent.proc.pid, row(status, "Agent daemon")), status
        assert re.fullmatch(r"connected to 127\.0\.0\.1:%d since %s \(\d+ s\)" % (broker.port, STAMP),
                            row(status, "Link to the district")), status
        assert row(status, "Waiting for an ack") == "1 report(s)", status
        assert re.fullmatch(r"seq 3 for 2022-05-03, submitted \d+ s ago",
                            row(status, "Oldest unacknowledged")), status
        assert re.fullmatch(r"%s \(\d+ s ago\)" % STAMP, row(status, "Last acknowledgement")), status
        assert row(status, "Submitted").startswith("3 report(s)"), status
        assert "1 refused" in row(status, "Spool folder"), status
        assert "rejected/bad.csv: line 2: values.deaths: must be ≥ 0" in status, status
        assert re.search(r"(?m)^  2\s+2022-05-02\s+%s\s+%s$" % (STAMP, re.escape(reason)), status), status

        # The broker goes away: not connected, since when, and why.
        broker.stop()
        wait_for(lambda: "NOT connected" in agent.command("status").stdout, "link down shown")
        link = row(agent.command("status").stdout, "Link to the district")
        assert re.match(r"NOT connected to 127\.0\.0\.1:%d since %s \(\d+ s\): \S" % (broker.port, STAMP),
                        link), link

        # A daemon killed -9 leaves "connected" or "down" recorded; status knows it is gone.
        agent.kill9()
        status = agent.command("status").stdout
        assert row(status, "Agent daemon").startswith("NOT RUNNING"), status
        assert row(status, "Link to the district").startswith("none; last recorded"), status


def as_clerk(agent):
    """status run by an account that may read the outbox but not write beside it."""
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           AGENT_BIN, "-c", agent.conf, "status"], capture_output=True, text=True)


def snapshot(agent):
    files = sorted(f for f in os.listdir(os.path.dirname(agent.outbox)) if f.startswith("agent-"))
    out = {}
    for f in files:
        with open(os.path.join(os.path.dirname(agent.outbox), f), "rb") as fh:
            out[f] = fh.read()
    return out


def test_status_is_read_only():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        raise Skip("needs root and setpriv to run status as another user")
    with TempDir() as tmp:
        os.chmod(tmp, 0o755)
        broker = Broker(tmp).start()
        agent = Agent(tmp, WARD, broker.port, poll_interval="50ms")
        agent.submit("2022-05-03", {"deaths": 1})
        os.chmod(agent.conf, 0o644)
        # The daemon stopped (no -wal, no -shm): read without creating them, change nothing.
        before = snapshot(agent)
        r = as_clerk(agent)
        assert r.returncode == 0, r.stderr
        assert row(r.stdout, "Waiting for an ack") == "1 report(s)", r.stdout
        assert snapshot(agent) == before, "status changed the outbox"
        # The daemon running: read beside it.
        agent.start()
        wait_for(lambda: "connected to" in agent.command("status").stdout, "connected")
        r = as_clerk(agent)
        assert r.returncode == 0 and row(r.stdout, "Agent daemon").startswith("running"), r
        assert agent.stop() == 0


def test_status_of_an_older_store_and_its_upgrade():
    """A store of schema version 1 (before spool and link): status reads it without
    upgrading it; the next submit upgrades it and keeps everything."""
    with TempDir() as tmp:
        agent = Agent(tmp, WARD, 1)
        with sqlite3.connect(agent.outbox) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(
                "CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), ward TEXT NOT NULL,"
                " stream TEXT NOT NULL CHECK (length(stream) = 16), next_seq INTEGER NOT NULL"
                " CHECK (next_seq >= 1), created_at INTEGER NOT NULL);"
                "CREATE TABLE entries (seq INTEGER PRIMARY KEY CHECK (seq >= 1), period TEXT NOT NULL,"
                " payload TEXT NOT NULL, created_at INTEGER NOT NULL, last_sent_at INTEGER,"
                " attempts INTEGER NOT NULL DEFAULT 0);"
                "CREATE TABLE dead_letter (seq INTEGER PRIMARY KEY, period TEXT NOT NULL,"
                " payload TEXT NOT NULL, reason TEXT NOT NULL, rejected_at INTEGER NOT NULL);"
                "INSERT INTO meta VALUES (1, '00001', '0123456789abcdef', 5, 0);"
                "INSERT INTO dead_letter VALUES (3, '2022-05-01', '{}', 'too many', %d);"
                "PRAGMA user_version = 1;" % int(time.time() * 1000))
        status = agent.command("status").stdout
        assert "0123456789abcdef" in status and "too many" in status, status
        assert row(status, "Link to the district").startswith("unknown"), status
        with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == 1, "status must not upgrade"
        r = agent.submit("2022-05-03", {"deaths": 1})
        assert r.stdout.strip() == "queued report seq 5 for 2022-05-03", r.stdout
        with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] >= 3
            assert db.execute("SELECT count(*) FROM dead_letter").fetchone()[0] == 1


run_tests(globals())
