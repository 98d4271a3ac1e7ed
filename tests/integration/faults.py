"""faults — helpers for the agent's delivery and fault tests (not a test module itself).

PersistentBroker is harness.Broker with two checks a fault test needs: that mosquitto has
written its persistence file, and that it never failed to (a restarted broker would then
have lost every persistent session and queued message). The development config saves
every 60 s and at exit, as production (broker-config/mosquitto.conf says why not after
every N changes).
"""
import collections
import datetime
import os
import random
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import BA_DINH_WARDS, Agent, Aggregator, Broker, export_values


class PersistentBroker(Broker):
    def saved(self):
        """True once mosquitto wrote its persistence file (its timer, or at exit)."""
        return os.path.exists(os.path.join(self.dir, "mosquitto.db"))

    def check_persistence(self):
        out = self.output()
        assert "Error saving in-memory database" not in out, out[-2000:]


# ---- the district under test ------------------------------------------------------------

# Short timeouts, so that a lost report is published again within seconds, not minutes.
FAST_AGENT = {"ack_timeout": "1s", "ack_timeout_max": "3s", "reconnect_min": "100ms",
              "reconnect_max": "1s", "poll_interval": "50ms", "log_level": "info"}


def outbox_query(agent, sql):
    """A query of the agent's outbox. A plain connection, not mode=ro: a read-only one
    cannot set up the WAL index itself and fails ("disk I/O error") on a file no writer
    has open, such as a backup a test has just copied into place. Only SELECTs come here."""
    if not os.path.exists(agent.outbox):
        return None
    db = sqlite3.connect(agent.outbox, timeout=30)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def stream_of(agent):
    rows = outbox_query(agent, "SELECT stream FROM meta")
    return rows[0][0] if rows else None


def queued(agent):
    rows = outbox_query(agent, "SELECT count(*) FROM entries")
    return rows[0][0] if rows else 0


class Ledger:
    """Every submission that `submit` or the spool accepted: (ward, stream, seq) -> values.
    Only what the agent confirmed is recorded; that is what must be stored exactly once."""

    def __init__(self):
        self.accepted = {}
        self.lock = threading.Lock()
        self.streams = {}

    def stream(self, agent):
        with self.lock:
            if agent.ward not in self.streams:
                self.streams[agent.ward] = stream_of(agent)
            return self.streams[agent.ward]

    def forget_stream(self, agent):
        """After the agent's store was deleted: the next submit draws a new stream."""
        with self.lock:
            self.streams.pop(agent.ward, None)

    def submit(self, agent, period, values):
        r = agent.submit(period, values)
        m = re.fullmatch(r"queued report seq (\d+) for \S+\n", r.stdout)
        assert m, "unexpected submit output: %r" % r.stdout
        key = (agent.ward, self.stream(agent), int(m.group(1)))
        with self.lock:
            assert key not in self.accepted, "seq given twice: %s" % (key,)
            self.accepted[key] = dict(values)
        return key

    def record(self, ward, stream, seq, values):
        with self.lock:
            self.accepted[(ward, stream, seq)] = dict(values)

    def __len__(self):
        with self.lock:
            return len(self.accepted)


class District:
    """A broker with persistence, the real aggregator and real agents (the 14 wards of Ba
    Đình by default) with short timeouts; a ledger of accepted submissions."""

    def __init__(self, tmp, wards=BA_DINH_WARDS, start_aggregator=True, per_ward=None,
                 **agent_settings):
        self.tmp = tmp
        self.broker = PersistentBroker(tmp).start()
        self.aggregator = Aggregator(tmp, self.broker.port)
        if start_aggregator:
            self.aggregator.start()
        self.agents = {}
        for ward in wards:
            settings = dict(FAST_AGENT)
            settings.update(agent_settings)
            settings.update((per_ward or {}).get(ward, {}))
            self.agents[ward] = Agent(tmp, ward, self.broker.port, **settings)
        self.ledger = Ledger()

    def start_agents(self):
        for agent in self.agents.values():
            agent.start()
        return self

    def stream(self, total, progress=None, workers=4, first_index=0):
        """Submits `total` reports, round-robin over the wards, `workers` at a time; calls
        progress(n) after the n-th accepted one (from the submitting thread)."""
        wards = list(self.agents)
        jobs = [(self.agents[wards[i % len(wards)]], first_index + i) for i in range(total)]
        done = [0]
        lock = threading.Lock()

        def one(job):
            agent, i = job
            self.ledger.submit(agent, period_of(i), figures(agent.ward, i))
            with lock:
                done[0] += 1
                n = done[0]
            if progress:
                progress(n)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, jobs))

    def wait_delivered(self, timeout=120):
        """Every outbox empty: each accepted report acked (and none rejected)."""
        deadline = time.monotonic() + timeout
        while True:
            left = {w: queued(a) for w, a in self.agents.items() if queued(a)}
            if not left:
                break
            if time.monotonic() > deadline:
                raise AssertionError("reports still unacked after %ds: %s" % (timeout, left))
            time.sleep(0.2)
        for ward, agent in self.agents.items():
            dead = outbox_query(agent, "SELECT seq, reason FROM dead_letter") or []
            assert not dead, "ward %s: reports rejected: %s" % (ward, dead[:3])

    def assert_exactly_once(self):
        """The invariant, through the operator's own view (`wardpulse export`): every
        accepted submission stored exactly once, with the figures submitted, and nothing
        else."""
        rows = export_values(self.aggregator.db)
        per_value = collections.Counter((r["ward"], r["stream"], r["seq"], r["indicator"])
                                        for r in rows)
        twice = [k for k, n in per_value.items() if n != 1]
        assert not twice, "values stored more than once: %s" % twice[:5]
        stored = collections.defaultdict(dict)
        for r in rows:
            stored[(r["ward"], r["stream"], r["seq"])][r["indicator"]] = r["value"]
        accepted = dict(self.ledger.accepted)
        missing = sorted(set(accepted) - set(stored))
        extra = sorted(set(stored) - set(accepted))
        assert not missing, "%d accepted submissions not stored, e.g. %s" % (len(missing), missing[:5])
        assert not extra, "%d stored reports nobody submitted, e.g. %s" % (len(extra), extra[:5])
        wrong = [k for k, v in accepted.items() if stored[k] != v]
        assert not wrong, "stored figures differ: %s" % [(k, accepted[k], stored[k]) for k in wrong[:3]]
        return len(accepted)

    def stop_all(self):
        for agent in self.agents.values():
            if agent.alive():
                assert agent.stop() == 0, agent.output()[-2000:]
        if self.aggregator.alive():
            assert self.aggregator.stop() == 0, self.aggregator.output()[-2000:]
        self.broker.check_persistence()


FIRST_DAY = datetime.date(2022, 1, 1)


def period_of(i):
    return (FIRST_DAY + datetime.timedelta(days=i // 14 % 365)).isoformat()


def figures(ward, i):
    """Distinct, checkable figures for the i-th submission."""
    return {"cases_new_community": i % 97, "vacc_18p_dose3_cum": 100000 + i * 7 + int(ward) % 7}


class Killer:
    """kill -9 a process when the stream passes given points, and start it again after a
    random pause (in a timer thread). A point reached while the process is still down
    waits for its restart first, so every point is a kill."""

    def __init__(self, process, points, pause=(0.2, 1.0), rng=None, on_restart=None):
        self.process = process
        self.points = sorted(points)
        self.pause = pause
        self.rng = rng or random.Random()
        self.on_restart = on_restart
        self.kills = 0
        self.lock = threading.Lock()           # the process: kill and restart
        self.progress_lock = threading.Lock()  # the points: several submitting threads
        self.timer = None

    def _restart(self):
        with self.lock:
            self.process.start()
            if self.on_restart:
                self.on_restart()

    def progress(self, n):
        with self.progress_lock:
            while self.points and n >= self.points[0]:
                self.points.pop(0)
                if self.timer:
                    self.timer.join()
                with self.lock:
                    self.process.kill9()
                    self.kills += 1
                self.timer = threading.Timer(self.rng.uniform(*self.pause), self._restart)
                self.timer.start()

    def finish(self):
        if self.timer:
            self.timer.join()
