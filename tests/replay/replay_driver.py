#!/usr/bin/python3
"""replay_driver — the 2022 replay through real processes on one shared simulated clock.

Starts (with tests/integration/harness.py) a mosquitto on a free loopback port, the aggregator on
plans/ba-dinh-2022 and the 14 Ba Đình ward agents, all on the same simulated clock (clock_start,
clock_rate and one clock_anchor), and hands each report of tests/replay/replay2022.py to its ward's agent
when the simulated clock reaches the report's moment. Used by tests/integration/test_replay2022.py,
scripts/demo.py and by hand:

    import replay_driver
    with replay_driver.ReplayDriver(run_dir, build_dir="build") as drv:
        drv.start()                 # broker, aggregator, 14 agents; returns before clock_start
        drv.run()                   # every report at its moment, then the clock to until + 6 h,
                                    # where it stops (clock_stop) and stays
        drv.stop_aggregator()       # once it has evaluated up to there; however late, the same
        drv.check_timeline()        # every report arrived between the same clock instants
        drv.stop()                  # the agents and the broker; {name: exit code}

    tests/replay/replay_driver.py --build build [--rate 86400] [--start D --end D] [--keep DIR]

== Timing strategy ==============================================================================

At a day per second a simulated hour is 42 real ms, and a report handed in at its observed_at of
16:30 can reach the aggregator after the 18:00 alert on a loaded 2-core machine. What must not move
is the ORDER of every report against the "clock instants", where the clock alone changes an alert:
local midnights (coverage trends, task due ends, epidemic weeks) and the schedule's cut-off + grace
(18:00: report_missing). Between two clock instants only arrivals change anything, so a report may
arrive anywhere between the same two clock instants as in the replay, in the same order as the
reports around it, and the engine must raise exactly the oracle's alerts; only the instant of a
report-driven transition (the report's arrival) moves. The driver therefore:

  * moves every report observed between local midnight and the schedule's cut-off (17:00) into an
    EARLY WINDOW of the same day, keeping their order: it is handed in at
    midnight + LEAD + (time of day) × SQUEEZE. With LEAD 15 min and SQUEEZE 1/20 the daily reports
    of 15:30–16:45 go in at 01:01–01:05, the back-fill of 08:30 at 00:40 and the correction of 09:15
    at 00:42. That leaves ~16 h of simulated time (≈ 0.7 s real at a day per second) for delivery
    before 18:00 and 15 min (10 ms) after midnight, so the midnight evaluation comes first;
  * hands a report observed at or after the cut-off in at its own moment (the default faults have
    one: link-outage's report, committed at the ward before the cut-off and delivered six hours
    later, is handed in at its delivered_at; so the agent stamps it with that time, and only its
    alerts, which depend on the arrival alone, are the oracle's: that a report committed in time
    counts as on time is tests/integration/test_on_time_committed.py's business, with a real
    outage);
  * starts the daemons with the anchor WARMUP_S seconds in the future, so they are all connected
    before the clock shows clock_start (until then their clocks show the last days of April);
  * stops every daemon's clock at until + TAIL (clock_stop: 06:00 of the day after the last one),
    so the run ends in the same state however late its processes are stopped: without it, an
    aggregator stopped 11 simulated hours late (0.46 s at a day per second, on a loaded machine)
    counted one more expected daily report per ward (that day's 17:00 cut-off) and, an hour
    later, raised report_missing for all 14 wards. stop_aggregator() waits until the clock has
    stopped and the aggregator has evaluated the last cut-off before it, then stops it;
  * hands reports in through each agent's spool folder (spool_settle 0, spool_interval 10 ms; the
    file is renamed into place, so it is complete when seen): no process start per report.
    mode="submit" runs `wardpulse-agent -c CONF submit --file` instead (one process per report).
    Either way the agent stamps observed_at from its own simulated clock;
  * keeps its files on a RAM file system when there is one (fast_tmp_root(): an fsync on a loaded
    ext4 disk, e.g. the broker's autosave, was seen to stall every delivery for 0.5 s);
  * records, for every report, its original instant, its planned instant and the simulated instant
    it was handed in; check_timeline() then reads the aggregator's received_at and fails, naming the
    report, if any arrival left its interval between clock instants — the condition under which the
    engine must equal the oracle. A machine too slow for the rate gets that message, never a wrong
    alert. default_rate() is a day per second, 1.25 s per day in a sanitizer build.

The result is deterministic: which alerts fire, escalate and resolve, and every clock-driven instant,
are the same on every run; a report-driven instant is the aggregator's received_at of its report,
in practice within a few simulated hours (≤ 0.3 s real) of the planned instant.
"""
import argparse
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))

import replay2022  # noqa: E402

PLAN_DIR = os.path.join(SRC, "plans", "ba-dinh-2022")
CLOCK_START = "2022-05-01T00:00:00+07:00"
DAY_PER_SECOND = 86400
LEAD = datetime.timedelta(minutes=15)
SQUEEZE = 0.05
WARMUP_S = 5.0
# The clocks stop this long after `until` (the midnight after the last day): after the
# evaluations at that midnight, before the next cut-off (17:00).
TAIL = datetime.timedelta(hours=6)
# Real seconds the aggregator is given, once the clock has stopped and its last cut-off is
# evaluated, for the deadlines after that cut-off (its grace, a midnight): they change nothing
# in the database when nothing fires, so there is nothing to wait for but time. It never needs
# more than a few milliseconds; the clock is stopped, so a late stop costs nothing.
SETTLE_S = 0.5


def harness_for(build_dir):
    """The harness module, pointed at build_dir (it reads WP_BUILD_DIR when first imported)."""
    if build_dir:
        os.environ["WP_BUILD_DIR"] = os.path.abspath(build_dir)
    import harness
    if build_dir:
        b = os.path.abspath(build_dir)
        harness.BUILD = b
        harness.AGENT_BIN = os.path.join(b, "agent", "wardpulse-agent")
        harness.AGGREGATOR_BIN = os.path.join(b, "aggregator", "wardpulse-aggregator")
        harness.CLI_BIN = os.path.join(b, "cli", "wardpulse")
    return harness


def sanitized_build(build_dir):
    """Whether build_dir was configured with -DWARDPULSE_SANITIZE=ON."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
            return any(line.strip() == "WARDPULSE_SANITIZE:BOOL=ON" for line in f)
    except OSError:
        return False


def default_rate(build_dir):
    """A day per second; 1.25 s per day under AddressSanitizer (slower daemons, same margin)."""
    return 69120 if sanitized_build(build_dir) else DAY_PER_SECOND


def fast_tmp_root(min_free=256 << 20):
    """A RAM file system for the run's files (/dev/shm), or None to use the usual temporary
    directory; WP_REPLAY_TMP overrides. With the files on ext4, on a 2-core machine busy with
    fuzzers and compilers, every delivery stalled for 0.5–0.85 s a few times in a run (the
    commits, the broker's autosave and the outboxes all fsync; writeback throttles writers) —
    most of the replay's margin at a day per second; on /dev/shm the worst seen was 0.26 s
    (ASan build, load 4). The daemons' durability is what the fault tests check, not this."""
    root = os.environ.get("WP_REPLAY_TMP")
    if root:
        return root
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize >= min_free and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except OSError:
        pass
    return None


def faults_within(faults, start, end):
    """The faults whose days all fall in [start, end] (for shorter windows)."""
    first, last = replay2022.parse_day(start), replay2022.parse_day(end)
    out = []
    for f in faults:
        days = [replay2022.parse_day(p) for p in f.get("periods", [])]
        for key in ("period", "done_period"):
            if f.get(key):
                days.append(replay2022.parse_day(f[key]))
        for w in f.get("weeks", []):   # a level surge: its weeks and the Monday that judges the last
            days.append(replay2022.parse_day(w["monday"]) + datetime.timedelta(days=7))
        for key in ("backfill_at", "corrected_at"):
            if f.get(key):
                days.append(replay2022.parse_instant(f[key]).date())
        if all(first <= d <= last for d in days):
            out.append(f)
    return out


def parse_instant(s):
    return replay2022.parse_instant(s)


def fmt(t):
    return t.isoformat(timespec="seconds")


def utc_ms_text(epoch_s):
    t = datetime.datetime.fromtimestamp(epoch_s, datetime.timezone.utc)
    return t.isoformat(timespec="milliseconds")


class SimClock:
    """The daemons' clock as the driver reads it: start + (real now − anchor) × rate, held at
    `stop` (clock_stop) once it gets there."""

    def __init__(self, start, rate, warmup_s, stop=None):
        self.start = parse_instant(start) if isinstance(start, str) else start
        self.stop = parse_instant(stop) if isinstance(stop, str) else stop
        if self.stop is not None and self.stop <= self.start:
            raise ValueError("the clock's stop %s is not after its start %s"
                             % (fmt(self.stop), fmt(self.start)))
        self.rate = int(rate)
        real, mono = time.time(), time.monotonic()
        self.anchor_epoch = round(real + warmup_s, 3)      # the daemons parse milliseconds
        self.anchor_mono = mono + (self.anchor_epoch - real)
        self.anchor = utc_ms_text(self.anchor_epoch)

    def now(self):
        t = self.start + datetime.timedelta(seconds=(time.monotonic() - self.anchor_mono)
                                            * self.rate)
        return min(t, self.stop) if self.stop is not None else t

    def real_seconds_until(self, instant):
        """Real seconds until the clock shows instant (or, after its stop, until it stops)."""
        if self.stop is not None and instant > self.stop:
            instant = self.stop
        return (instant - self.start).total_seconds() / self.rate + self.anchor_mono \
            - time.monotonic()

    def sleep_until(self, instant):
        left = self.real_seconds_until(instant)
        if left > 0:
            time.sleep(left)

    def settings(self):
        s = {"clock_start": fmt(self.start), "clock_rate": self.rate, "clock_anchor": self.anchor}
        if self.stop is not None:
            s["clock_stop"] = fmt(self.stop)
        return s


class Schedule:
    """When the driver hands each report in (module docstring, "Timing strategy")."""

    def __init__(self, replay, lead=LEAD, squeeze=SQUEEZE):
        plan = replay.plan
        self.tz = plan.tz
        rule = plan.schedule_rule()
        hh, mm = (int(x) for x in rule["cutoff"].split(":"))
        if rule.get("cutoff_day_offset"):
            raise ValueError("the driver's early window needs a same-day cut-off")
        self.cutoff = datetime.timedelta(hours=hh, minutes=mm)
        self.grace = datetime.timedelta(minutes=rule.get("grace_minutes", 0))
        if self.cutoff + self.grace >= datetime.timedelta(days=1):
            raise ValueError("the driver needs cut-off + grace before midnight")
        if lead + self.cutoff * squeeze >= self.cutoff:
            raise ValueError("lead %s and squeeze %s leave no room before the cut-off"
                             % (lead, squeeze))
        self.lead, self.squeeze = lead, squeeze
        self.task_ends = sorted({self.midnight(replay2022.parse_day(r["due"])
                                               + datetime.timedelta(days=1))
                                 for r in plan.rules_of("task")})
        self.items = []
        for r in replay.reports:
            # A delivery delayed by an outage (delivered_at) is handed in when it arrives.
            t = parse_instant(r.get("delivered_at") or r["observed_at"]).astimezone(self.tz)
            self.items.append({"report": r, "original": t, "planned": self.plan_instant(t)})
        self.items.sort(key=lambda i: (i["planned"], i["original"], i["report"]["ward"]))

    def midnight(self, day):
        return datetime.datetime(day.year, day.month, day.day, tzinfo=self.tz)

    def plan_instant(self, t):
        midnight = self.midnight(t.date())
        of_day = t - midnight
        if of_day < self.cutoff:
            return midnight + self.lead + of_day * self.squeeze
        return t

    def interval(self, t):
        """(the last clock instant ≤ t, the next one > t) among those where the clock alone
        changes an alert: local midnights (coverage, task due ends, epidemic weeks) and the
        schedule's cut-off + grace (report_missing). The cut-off itself only decides whether a
        report counts as on time (reporting rates; "pending", which is never announced)."""
        t = t.astimezone(self.tz)
        midnight = self.midnight(t.date())
        marks = [midnight, midnight + self.cutoff + self.grace,
                 midnight + datetime.timedelta(days=1)]
        before = max(m for m in marks if m <= t)
        after = min(m for m in marks if m > t)
        return before, after


class ReplayDriver:
    """Broker, aggregator and 14 agents on one simulated clock, fed by the 2022 replay."""

    def __init__(self, run_dir, build_dir=None, plan_dir=PLAN_DIR, start=replay2022.DEFAULT_START,
                 end=replay2022.DEFAULT_END, faults=replay2022.DEFAULT_FAULTS,
                 seed=replay2022.DEFAULT_SEED, rate=DAY_PER_SECOND, clock_start=CLOCK_START,
                 warmup_s=WARMUP_S, mode="spool", aggregator_settings=None, agent_settings=None,
                 log=None, tail=TAIL):
        self.h = harness_for(build_dir)
        self.run_dir = os.path.abspath(run_dir)
        os.makedirs(self.run_dir, exist_ok=True)
        self.plan_dir = plan_dir
        self.replay = replay2022.generate(plan_dir, start, end, faults, seed)
        self.schedule = Schedule(self.replay)
        self.rate, self.clock_start, self.warmup_s = rate, clock_start, warmup_s
        if mode not in ("spool", "submit"):
            raise ValueError("mode must be spool or submit")
        self.mode = mode
        self.aggregator_settings = aggregator_settings or {}
        self.agent_settings = agent_settings or {}
        self.log = log or (lambda text: None)
        last = max(replay2022.parse_day(r["period"]) for r in self.replay.reports)
        latest = max(i["original"] for i in self.schedule.items)
        self.until = max(self.schedule.midnight(last + datetime.timedelta(days=1)),
                         self.schedule.midnight(latest.date() + datetime.timedelta(days=1)))
        # Where every daemon's clock stops (module docstring): before the next cut-off.
        self.tail, self.stop_at = tail, self.until + tail
        if self.stop_at >= self.until + self.schedule.cutoff:
            raise ValueError("tail %s reaches the cut-off after the last day" % tail)
        self.clock = None
        self.broker = self.aggregator = None
        self.agents = {}
        self.submits = []       # running `submit` processes (mode "submit")
        self.handed = []        # schedule items, each with "handed" (simulated instant) added

    # -- processes ------------------------------------------------------------------------------

    def start(self, on_broker=None):
        """Starts everything; returns once all are connected, before the clock shows clock_start.
        on_broker(broker) is called once the broker listens, before any daemon starts (to
        subscribe to what they will publish)."""
        h = self.h
        self._stage_files()
        self.broker = h.Broker(self.run_dir).start()
        if on_broker:
            on_broker(self.broker)
        self.clock = SimClock(self.clock_start, self.rate, self.warmup_s, stop=self.stop_at)
        watch = h.Subscriber(self.broker.port, "wardpulse/v1/aggregator/status",
                             "wardpulse/v1/status/+", client_id="replay-driver-%d" % os.getpid())
        settings = {"plan_dir": self.plan_dir, "district": self.replay.district,
                    "alert_repeat": 0, "batch_delay": "5ms", "log_level": "notice"}
        settings.update(self.clock.settings())
        settings.update(self.aggregator_settings)
        self.aggregator = h.Aggregator(self.run_dir, self.broker.port,
                                       client_id="wardpulse-aggregator", **settings).start()
        for ward in self.replay.wards:
            s = {"poll_interval": "10ms", "ack_timeout": "2s", "ack_timeout_max": "10s",
                 "reconnect_min": "100ms", "reconnect_max": "2s", "log_level": "notice"}
            s.update(self.clock.settings())
            if self.mode == "spool":
                spool = os.path.join(self.run_dir, "spool-%s" % ward)
                os.makedirs(spool, exist_ok=True)
                s.update(spool_dir=spool, spool_interval="10ms", spool_settle="0")
            s.update(self.agent_settings)
            self.agents[ward] = h.Agent(self.run_dir, ward, self.broker.port, **s).start()

        def online():
            for p in [self.aggregator] + list(self.agents.values()):
                if not p.alive():
                    raise AssertionError("%s exited:\n%s" % (p.name, p.output()))
            states = {}
            for topic, payload, _ in list(watch.messages):
                if payload:
                    states[topic] = json.loads(payload).get("state")
            return (states.get("wardpulse/v1/aggregator/status") == "online"
                    and all(states.get("wardpulse/v1/status/" + w) == "online"
                            for w in self.replay.wards))
        h.wait_for(online, "the aggregator and 14 agents online",
                   timeout=max(5.0, self.clock.real_seconds_until(self.clock.start) + 30))
        watch.close()
        left = self.clock.real_seconds_until(self.clock.start)
        if left <= 0:
            raise AssertionError("the daemons took longer than the warm-up (%.1fs) to connect; "
                                 "the clock is already past %s" % (self.warmup_s,
                                                                   fmt(self.clock.start)))
        self.log("connected %.2fs before the clock shows %s" % (left, fmt(self.clock.start)))
        return self

    def _stage_files(self):
        """Every report body written beforehand (spool: renamed into place at its moment)."""
        stage = os.path.join(self.run_dir, "staged")
        for n, item in enumerate(self.schedule.items):
            r = item["report"]
            d = os.path.join(stage, r["ward"])
            os.makedirs(d, exist_ok=True)
            name = "%05d-%s-%s.json" % (n, r["period"], r["kind"])
            item["file"] = os.path.join(d, name)
            with open(item["file"], "w", encoding="utf-8") as f:
                json.dump(replay2022.body(r), f, ensure_ascii=False, sort_keys=True)

    def stop_aggregator(self, timeout=30):
        """SIGTERM to the aggregator (it commits what it has, and exits 0); its exit code.
        First waits until the clock has stopped (stop_at) and the aggregator has caught up
        with it (caught_up()): it then ends in the same state however late this is called."""
        if self.aggregator is None or self.aggregator not in self.h.Process.running:
            return None
        self.clock.sleep_until(self.stop_at)
        self.h.wait_for(self.caught_up, "the aggregator to evaluate up to %s" % fmt(self.stop_at),
                        timeout=timeout, interval=0.05)
        time.sleep(SETTLE_S)
        return self.aggregator.stop()

    def last_cutoff_day(self):
        """The last day whose report cut-off the clock passes before it stops."""
        return (self.stop_at - self.schedule.cutoff).astimezone(self.schedule.tz).date()

    def caught_up(self):
        """Whether the aggregator has evaluated the last cut-off before the clock's stop:
        every ward has that day in schedule_status (a day is counted once its cut-off has
        passed). True at once when that day is outside the schedule rule's days."""
        if not self.aggregator.alive():
            raise AssertionError("the aggregator exited:\n" + self.aggregator.output()[-3000:])
        rule = self.replay.plan.schedule_rule()
        day = self.last_cutoff_day()
        first, last = rule.get("from"), rule.get("to")
        if (first and day < replay2022.parse_day(first)) or (last and day > replay2022.parse_day(last)):
            return True
        with sqlite3.connect("file:%s?mode=ro" % self.aggregator.db, uri=True) as db:
            n = db.execute("SELECT COUNT(DISTINCT ward) FROM schedule_status WHERE rule = ? "
                           "AND period = ?", (rule["id"], day.isoformat())).fetchone()[0]
        return n >= len(self.replay.wards)

    def stop(self):
        """SIGTERM to the aggregator (if still running: at once, wherever the clock is), the
        agents and the broker; {name: exit code}."""
        codes = {}
        if self.aggregator is not None and self.aggregator in self.h.Process.running:
            codes[self.aggregator.name] = self.aggregator.stop()
        self.reap_submits(wait=True)
        for p in list(self.agents.values()) + [self.broker]:
            if p is not None and p.proc is not None and p in self.h.Process.running:
                codes[p.name] = p.stop()
        return codes

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.h.Process.stop_all()
        for p in self.submits:
            if p.poll() is None:
                p.kill()
                p.wait()

    # -- the replay -----------------------------------------------------------------------------

    def hand_in(self, item):
        r = item["report"]
        item["handed"] = self.clock.now()
        if self.mode == "spool":
            spool = self.agents[r["ward"]].settings["spool_dir"]
            os.rename(item["file"], os.path.join(spool, os.path.basename(item["file"])))
        else:
            agent = self.agents[r["ward"]]
            for q in self.submits:        # one ward's submits in order: seq follows the schedule
                if q.item["report"]["ward"] == r["ward"]:
                    q.wait(60)
            p = subprocess.Popen([self.h.AGENT_BIN, "-c", agent.conf, "submit", "--file",
                                  item["file"]], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            p.item = item
            self.submits.append(p)
        self.handed.append(item)

    def reap_submits(self, wait=False):
        still = []
        for p in self.submits:
            if wait or p.poll() is not None:
                _, err = p.communicate(timeout=60)
                if p.returncode != 0:
                    raise AssertionError("submit of %s %s failed (%d): %s" % (
                        p.item["report"]["ward"], p.item["report"]["period"], p.returncode,
                        err.decode("utf-8", "replace")))
            else:
                still.append(p)
        self.submits = still

    def run(self, until=None, on_report=None, on_day=None, tail=None):
        """Hands every report in at its planned instant, then lets the clock run to until + tail
        (by default: to stop_at, where it stops). on_report(item) after each; on_day(day) when
        the clock passes a local midnight."""
        until = until or self.until
        end = min(until + (self.tail if tail is None else tail), self.stop_at)   # no further
        day = None
        for item in self.schedule.items:
            if item["planned"] > until:
                break
            self._days_up_to(item["planned"], day, on_day)
            day = item["planned"].date()
            self.clock.sleep_until(item["planned"])
            self.hand_in(item)
            if on_report:
                on_report(item)
            if len(self.submits) > 32:
                self.reap_submits()
        self._days_up_to(end, day, on_day)
        self.clock.sleep_until(end)
        self.reap_submits(wait=True)
        return self

    def _days_up_to(self, t, day, on_day):
        """Calls on_day for every local midnight up to t (for progress lines)."""
        if not on_day:
            return
        d = day or self.schedule.items[0]["planned"].date()
        target = t.astimezone(self.schedule.tz).date()
        while d < target:
            d += datetime.timedelta(days=1)
            self.clock.sleep_until(self.schedule.midnight(d))
            on_day(d)

    def wait_stored(self, timeout=60):
        """Waits until the aggregator stored every report handed in; returns their rows."""
        want = len(self.handed)

        def stored():
            rows = self.reports()
            return rows if len(rows) >= want else None
        return self.h.wait_for(stored, "%d reports stored" % want, timeout=timeout, interval=0.2)

    def reports(self):
        """[{ward, seq, period, observed_at, received_at}] of the aggregator's reports table."""
        if not os.path.exists(self.aggregator.db):
            return []
        with sqlite3.connect("file:%s?mode=ro" % self.aggregator.db, uri=True) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(
                "SELECT ward, seq, period, observed_at, received_at, payload FROM reports "
                "ORDER BY id")]

    # -- faithfulness -----------------------------------------------------------------------------

    def timeline(self):
        """Every report handed in, matched with its row in the aggregator's database (per ward,
        in order: seq n is the ward's n-th report): [{report, original, planned, handed,
        observed, received}]."""
        rows = {}
        for row in self.reports():
            rows.setdefault(row["ward"], []).append(row)
        for w in rows:
            rows[w].sort(key=lambda r: r["seq"])
        out, nth = [], {}
        for item in self.handed:
            w = item["report"]["ward"]
            k = nth[w] = nth.get(w, 0) + 1
            row = rows.get(w, [])[k - 1] if len(rows.get(w, [])) >= k else None
            if row and row["period"] != item["report"]["period"]:
                raise AssertionError("ward %s's report %d is for %s, expected %s"
                                     % (w, k, row["period"], item["report"]["period"]))
            e = dict(item)
            e["observed"] = parse_instant(row["observed_at"]) if row else None
            e["received"] = parse_instant(row["received_at"]) if row else None
            out.append(e)
        return out

    def check_timeline(self):
        """Asserts the replay was faithful (module docstring): every report reached the aggregator
        between the same two clock instants as its original moment, and no earlier than it was
        handed in. Returns the largest delivery delay (handed in → received), simulated."""
        worst = datetime.timedelta(0)
        problems = []
        for e in self.timeline():
            r = e["report"]
            what = "%s %s (%s, observed %s, planned %s)" % (r["ward"], r["period"], r["kind"],
                                                            fmt(e["original"]), fmt(e["planned"]))
            if e["received"] is None:
                problems.append("%s: not stored" % what)
                continue
            lo, hi = self.schedule.interval(e["original"])
            if not lo <= e["received"] < hi:
                problems.append("%s: received at %s, outside [%s, %s)"
                                % (what, fmt(e["received"]), fmt(lo), fmt(hi)))
            # received_at and observed_at are written to the second: allow that rounding.
            if e["received"] + datetime.timedelta(seconds=1) < e["handed"]:
                problems.append("%s: received at %s before it was handed in at %s"
                                % (what, fmt(e["received"]), fmt(e["handed"])))
            worst = max(worst, e["received"] - e["planned"])
        if problems:
            raise AssertionError("the replay was not faithful at clock rate %d (machine too slow "
                                 "or overloaded?):\n  %s" % (self.rate, "\n  ".join(problems[:20])))
        return worst


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the 2022 replay through real processes "
                                 "(see the module docstring).")
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--start", default=replay2022.DEFAULT_START)
    ap.add_argument("--end", default=replay2022.DEFAULT_END)
    ap.add_argument("--rate", type=int, help="simulated seconds per real second (default: "
                    "default_rate() of the build)")
    ap.add_argument("--mode", choices=("spool", "submit"), default="spool")
    ap.add_argument("--keep", help="run directory to keep (default: a temporary one, removed)")
    args = ap.parse_args(argv)
    harness_for(args.build)
    args.rate = args.rate or default_rate(args.build)
    started = time.monotonic()
    with RunDir(args.keep) as tmp:
        faults = faults_within(replay2022.DEFAULT_FAULTS, args.start, args.end)
        with ReplayDriver(tmp, build_dir=args.build, start=args.start, end=args.end,
                          faults=faults, rate=args.rate, mode=args.mode, log=print) as drv:
            drv.start()
            drv.run(on_day=lambda d: d.weekday() == 0 and print("… %s" % d, flush=True))
            codes = {"aggregator": drv.stop_aggregator()}
            drv.wait_stored(timeout=5)
            worst = drv.check_timeline()
            codes.update(drv.stop())
            with sqlite3.connect("file:%s?mode=ro" % drv.aggregator.db, uri=True) as db:
                for row in db.execute("SELECT rule, scope, state, severity, at FROM alert_events "
                                      "ORDER BY id"):
                    print("%-28s %-8s %-8s %-8s %s" % row)
            print("%d reports, worst delivery %s (simulated), exit codes %s, %.1fs"
                  % (len(drv.handed), worst, codes, time.monotonic() - started))
    return 0


class RunDir:
    """The run's directory: `keep` if given (kept), else a new one under fast_tmp_root() (or the
    usual temporary directory), removed on exit unless WP_KEEP_TMP is set."""

    def __init__(self, keep=None):
        self.keep = keep

    def __enter__(self):
        if self.keep:
            self.path = os.path.abspath(self.keep)
            os.makedirs(self.path, exist_ok=True)
        else:
            self.path = tempfile.mkdtemp(prefix="wardpulse-replay-", dir=fast_tmp_root())
        return self.path

    def __exit__(self, *exc):
        if not self.keep:
            if os.environ.get("WP_KEEP_TMP"):
                print("kept", self.path)
            else:
                shutil.rmtree(self.path, ignore_errors=True)
        return False


if __name__ == "__main__":
    sys.exit(main())
