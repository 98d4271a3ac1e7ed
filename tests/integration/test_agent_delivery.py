"""The agent's retries against a real mosquitto and NO aggregator (the test plays it):
republication with exponential backoff and jitter, and everything unacked published
again after a reconnect."""
import os
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import PersistentBroker
from harness import Agent, Aggregator, Broker, TempDir, publish, run_tests, wait_for

WARD = "00001"
REPORT_TOPIC = "wardpulse/v1/report/" + WARD


class TimedSubscriber:
    """Every report publication with its arrival time; reconnects and resubscribes when
    the broker restarts (paho's own thread)."""

    def __init__(self, port):
        import paho.mqtt.client as mqtt
        self.arrivals = []  # (monotonic time, seq)
        self.lock = threading.Lock()
        # A persistent session: while the broker restarts, the agent may republish before
        # this client is back; the broker queues those for it.
        self.client = mqtt.Client(client_id="test-timed-%d" % os.getpid(), clean_session=False)
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        connected = threading.Event()

        def on_connect(client, userdata, flags, rc):
            client.subscribe(REPORT_TOPIC, qos=1)
            connected.set()

        def on_message(client, userdata, msg):
            import json
            with self.lock:
                self.arrivals.append((time.monotonic(), json.loads(msg.payload)["seq"]))

        self.client.on_connect = on_connect
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not connected.wait(10):
            raise AssertionError("test subscriber could not connect")
        time.sleep(0.2)

    def times(self, seq):
        with self.lock:
            return [t for t, s in self.arrivals if s == seq]

    def seqs(self):
        with self.lock:
            return [s for t, s in self.arrivals]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def attempts(agent):
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        return db.execute("SELECT seq, attempts FROM entries ORDER BY seq").fetchall()


def test_republication_backs_off_exponentially_with_jitter():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = TimedSubscriber(broker.port)
        agent = Agent(tmp, WARD, broker.port, ack_timeout="400ms", ack_timeout_max="1600ms",
                      poll_interval="20ms")
        agent.submit("2022-05-03", {"cases_new_community": 12})
        agent.start()
        wait_for(lambda: len(sub.times(1)) >= 6, "six publications of seq 1", timeout=20)
        t = sub.times(1)
        gaps = [b - a for a, b in zip(t, t[1:])]
        # 400 ms doubling to 1600 ms, each plus up to 25 % jitter (+ a poll and a PUBACK).
        expected = [0.4, 0.8, 1.6, 1.6, 1.6]
        for gap, interval in zip(gaps, expected):
            assert interval - 0.02 <= gap <= interval * 1.25 + 0.25, (gaps, expected)
        assert "published again" in agent.output()
        assert agent.stop() == 0
        sub.close()


def test_reconnect_republishes_every_unacked_report():
    with TempDir() as tmp:
        broker = PersistentBroker(tmp).start()  # keeps the test subscriber's session
        sub = TimedSubscriber(broker.port)
        # A long ack timeout: only the reconnect can cause the second publication.
        agent = Agent(tmp, WARD, broker.port, ack_timeout="10m", poll_interval="20ms",
                      reconnect_min="100ms", reconnect_max="200ms")
        for i in range(1, 4):
            agent.submit("2022-05-0%d" % i, {"cases_new_community": i})
        agent.start()
        wait_for(lambda: sorted(sub.seqs()) == [1, 2, 3], "seq 1..3 published once")
        stream = None
        with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
            stream = db.execute("SELECT stream FROM meta").fetchone()[0]
        publish(broker.port, "wardpulse/v1/ack/" + WARD,
                {"v": 1, "ward": WARD, "stream": stream, "acked_through": 1, "rejected": []})
        wait_for(lambda: [s for s, a in attempts(agent)] == [2, 3], "seq 1 acked")

        broker.stop()
        broker.start()
        # seq 1 was acked and stays delivered; 2 and 3 go out again after the reconnect.
        # (The restarted broker may also redeliver to the test subscriber what it had not
        # seen acknowledged, so the agent's own count is the one to check exactly.)
        wait_for(lambda: sub.seqs().count(2) >= 2 and sub.seqs().count(3) >= 2,
                 "seq 2 and 3 republished", timeout=20)
        time.sleep(0.5)
        assert attempts(agent) == [(2, 2), (3, 2)], attempts(agent)
        assert "publishing 2 unacked report(s) from seq 2" in agent.output(), agent.output()
        broker.check_persistence()
        assert agent.stop() == 0
        sub.close()


def test_simulated_clock_dates_reports_but_not_timeouts():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        sub = TimedSubscriber(broker.port)
        # The clock stops at 23:00 (clock_stop): however slow the submit, the report is
        # dated that evening, by the simulated clock.
        clock = {"clock_start": "2022-05-03T17:00:00+07:00", "clock_rate": "3600",
                 "clock_anchor": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                 "clock_stop": "2022-05-03T23:00:00+07:00"}
        agent = Agent(tmp, WARD, broker.port, ack_timeout="1s", poll_interval="20ms", **clock)
        agent.submit("2022-05-03", {"deaths": 1})
        agent.start()
        wait_for(lambda: len(sub.times(1)) >= 2, "a republication")
        t = sub.times(1)
        # The ack timeout runs in real time, not 3600x faster.
        assert t[1] - t[0] >= 0.95, t
        with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
            import json
            observed = json.loads(db.execute("SELECT payload FROM entries").fetchone()[0])["observed_at"]
        # Submitted within seconds of the anchor: a few simulated hours after 17:00, and
        # never after the clock's stop.
        assert observed.startswith("2022-05-03T1") or observed.startswith("2022-05-03T2"), observed
        assert agent.stop() == 0
        sub.close()


def test_backoff_settings_are_checked():
    with TempDir() as tmp:
        agent = Agent(tmp, WARD, 1, ack_timeout="2s", ack_timeout_max="1s")
        assert "configuration OK" in agent.command("--test-config").stdout
        r = agent.command("--test-config", "--reconnect_min", "0s", check=False)
        assert r.returncode != 0 and "reconnect_min" in r.stderr, r.stderr


def queued(outbox):
    db = sqlite3.connect("file:%s?mode=ro" % outbox, uri=True, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM entries").fetchone()[0]
    finally:
        db.close()


def test_backlog_leaves_in_few_publish_passes():
    """A backlog of 1,000 reports (one spool file, one intake) leaves in a few publish
    passes, each recording its sends in ONE outbox transaction — not a transaction per
    report — and the real aggregator acks every one. The daemon's debug log has a line per
    pass; the window of unconfirmed reports (1,000) lets this backlog go in one."""
    import datetime
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        Aggregator(tmp, broker.port).start().subscribed()
        spool = os.path.join(tmp, "spool")
        os.makedirs(spool)
        agent = Agent(tmp, "00001", broker.port, spool_dir=spool, log_level="debug").start()
        wait_for(lambda: "connected to" in agent.output(), "the agent connected")
        day0 = datetime.date(2022, 1, 1)
        part = os.path.join(spool, ".backlog.csv.part")
        with open(part, "w") as f:
            f.write("period,indicator,value\n")
            for j in range(1000):
                f.write("%s,cases_new_community,%d\n"
                        % ((day0 - datetime.timedelta(days=1000 - j)).isoformat(), j))
        os.rename(part, os.path.join(spool, "backlog.csv"))
        wait_for(lambda: os.path.exists(os.path.join(spool, "done", "backlog.csv")),
                 "the backlog taken in")
        wait_for(lambda: queued(agent.outbox) == 0, "every report acked", timeout=120)
        passes = [int(line.split("publish pass: ")[1].split()[0])
                  for line in agent.output().splitlines() if "publish pass: " in line]
        assert sum(passes) >= 1000, passes
        assert len(passes) <= 3, "%d publish passes (%s…): one transaction per pass, so few " \
            "passes for a backlog" % (len(passes), passes[:10])
        assert all("recorded in one outbox transaction" in line
                   for line in agent.output().splitlines() if "publish pass: " in line)


run_tests(globals())
