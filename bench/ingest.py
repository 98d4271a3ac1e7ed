#!/usr/bin/python3
"""ingest.py — the ingest benchmark of issue 13: the real wardpulse-aggregator against a
"null aggregator" (acks at once, stores nothing) under the same load, on a real broker.

    /usr/bin/python3 bench/ingest.py                      # every scenario (make bench)
    /usr/bin/python3 bench/ingest.py --scale 0.1          # the same, a tenth of the wards
    /usr/bin/python3 bench/ingest.py --scale 0.1 --repeat 1 --agent-pairs 1 --agent-window 2   # a quick look
    /usr/bin/python3 bench/ingest.py --scenario burst,agent --json out.json

Scenarios (wards × reports per ward × indicators; --scale multiplies the wards, the drain's
backlog and the outage's length):
  burst      10,600 × 1 × 40: the national daily burst
  sustained  1,000 × 20 × 40: a district's backlog arriving at once
  full       the sustained load on a database already holding 60 days of 1,000 wards
             (prepared once by driving the aggregator itself with 60 reports per ward, then
             cached under <build>/bench-cache/ per version of store/, copied for each run)
  half       the sustained load offered at half the capacity the sustained run measured
             (the real aggregator; ack latency p50/p99)
  agent      idle RSS and wake-ups of wardpulse-agent against mosquitto_sub's, first start
             and restart, --agent-pairs times (the median); and the floor SQLite sets
  outage     --outage-agents agents (default settings: reconnect_min 500ms, reconnect_max
             10s) lose the broker for --outage seconds (default 60: every backoff at its
             cap); the time from the broker listening again until each is connected
  drain      one agent's backlog (--drain-reports, 10,000 × 40) leaving its outbox for the
             real aggregator, against the same aggregator storing the same count from the
             loadgen (one ward, as fast as libmosquitto takes them) in the same run

Every run has its own mosquitto (broker-config/mosquitto-dev.conf, as the integration
tests use it: persistence saved every 60 s, max_inflight_messages 100) on a free
loopback port, and an empty database unless said otherwise. The aggregator runs without a
plan (docs/configuration.md: then any ward code and indicator id the schema allows is taken),
with its defaults otherwise (batch_max 500, batch_delay 20ms, log_level info).
The load comes from build/bench/wardpulse-loadgen (its contract is at the top of
bench/loadgen.c); each report's latency is from its publish to the ack covering it.

Figures printed per run: reports/s (reports / time until all were acked), time to the first,
half and all acks, ack latency p50/p99, peak RSS (VmHWM) of the aggregator, and for the real
aggregator the database bytes per stored report (db + WAL after a checkpoint, / reports).
Exit status 1 if any run did not get every report acked (or, for the real aggregator,
stored), so a smoke test can rely on it.
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = {"burst": (10600, 1), "sustained": (1000, 20), "full": (1000, 20)}
FULL_DAYS = 60
STREAM_SEED = 7          # the same streams for the prepared database and the full run
WARD_BASE = 10000        # wards 10000, 10001, …
PROBE_WARD = "99999"     # the loadgen's readiness probe (bench/loadgen.c)
PLAN_CLOCK = "2022-04-01T08:00:00+07:00"   # --plan: the aggregator's clock, after every period


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid, key):
    """A /proc/<pid>/status field in kB (VmHWM, VmRSS) or a count (ctxt switches)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def stop(proc, timeout=60):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Run:
    """One run's temporary directory with its own broker; removed at the end unless --keep."""

    def __init__(self, args, name):
        self.args, self.name = args, name
        self.dir = tempfile.mkdtemp(prefix="wardpulse-bench-%s-" % name)
        self.procs = []

    def __enter__(self):
        self.port = free_port()
        with open(os.path.join(SRC, "broker-config", "mosquitto-dev.conf")) as f:
            conf = f.read()
        # The live page's websockets listener (and its http_dir) has no part in ingest.
        conf = re.sub(r"(?m)^listener .*\nprotocol websockets\n(?:http_dir .*\n)?", "", conf)
        conf = re.sub(r"(?m)^listener .*$", "listener %d 127.0.0.1" % self.port, conf)
        conf = re.sub(r"(?m)^persistence_location .*$",
                      "persistence_location %s/" % self.dir, conf)
        for kv in self.args.broker_set or []:
            key, value = kv.split("=", 1)
            conf, n = re.subn(r"(?m)^%s .*$" % re.escape(key), "%s %s" % (key, value), conf)
            if n != 1:
                raise SystemExit("--broker-set %s: the config has %d such lines" % (key, n))
        if os.geteuid() == 0:
            conf += "\nuser root\n"
        path = os.path.join(self.dir, "mosquitto.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.broker = self.spawn("mosquitto", ["mosquitto", "-c", path])
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if time.monotonic() > deadline or self.broker.poll() is not None:
                raise SystemExit("mosquitto did not start: see %s" % self.dir)
            time.sleep(0.05)
        return self

    def spawn(self, name, argv, stdout=None):
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdout=stdout or log, stderr=log, start_new_session=True)
        self.procs.append(p)
        return p

    def __exit__(self, *exc):
        for p in reversed(self.procs):
            stop(p, 15)
        if self.args.keep:
            print("  (kept %s)" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def loadgen(self, wards, reports, rate=0.0, seq_start=1, day_start=0):
        argv = [os.path.join(self.args.build, "bench", "wardpulse-loadgen"),
                "--port", str(self.port), "--wards", str(wards), "--reports", str(reports),
                "--indicators", str(self.args.indicators), "--ward-base", str(WARD_BASE),
                "--seq-start", str(seq_start), "--day-start", str(day_start),
                "--stream-seed", str(STREAM_SEED), "--rate", str(rate),
                "--timeout", str(self.args.timeout)]
        if self.args.plan:
            argv += ["--ids", ",".join(self.args.ids), "--max-value", str(self.args.max_value)]
        gen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while gen.poll() is None:   # an aggregator that dies ends the run at once
            dead = [p for p in self.procs if p.poll() is not None]
            if dead:
                gen.kill()
                gen.wait()
                logs = [n for n in os.listdir(self.dir) if n.endswith(".log")]
                tails = "".join("--- %s:\n%s\n" % (n, open(os.path.join(self.dir, n),
                                errors="replace").read()[-2000:]) for n in logs)
                raise SystemExit("a process of the run exited (%s) during the load:\n%s"
                                 % (dead[0].args[0], tails))
            time.sleep(0.05)
        out, err = gen.communicate()
        if gen.returncode == 2 or not out.strip():
            raise SystemExit("loadgen failed (%d): %s" % (gen.returncode, err))
        return json.loads(out)

    def null_aggregator(self):
        p = self.spawn("null-aggregator",
                       [os.path.join(self.args.build, "bench", "wardpulse-null-aggregator"),
                        "-p", str(self.port), "-i", "wardpulse-null-aggregator"])
        return p

    def aggregator(self, db):
        conf = os.path.join(self.dir, "aggregator.conf")
        with open(conf, "w") as f:
            f.write("broker_host 127.0.0.1\nbroker_port %d\nclient_id wardpulse-aggregator-bench\n"
                    "db_path %s\nlog_level info\n" % (self.port, db))
            if self.args.plan:
                f.write("plan_dir %s\ndistrict 001\nclock_start %s\n"
                        % (self.args.plan_dir, PLAN_CLOCK))
            for kv in self.args.set or []:
                f.write(kv.replace("=", " ", 1) + "\n")
        prefix = self.args.aggregator_prefix.split() if self.args.aggregator_prefix else []
        return self.spawn("aggregator", prefix + [os.path.join(
            self.args.build, "aggregator", "wardpulse-aggregator"), "-c", conf])


def make_plan(args, wards):
    """--plan: plans/ba-dinh-2022 (its rules and catalog) for `wards` wards (codes from
    WARD_BASE, and the probe's), each with a Ba Đình ward's population and every ward task; the catalog gets
    bench_extra_NN indicators up to --indicators. The reports name the first --indicators
    ids of that catalog, with values below the smallest of their upper bounds."""
    src = os.path.join(SRC, "plans", "ba-dinh-2022")
    dst = os.path.join(args.cache, "plan-%dw-%di" % (wards, args.indicators))
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(src, "catalog.json")) as f:
        catalog = json.load(f)
    with open(os.path.join(src, "orgunits.json")) as f:
        orgunits = json.load(f)
    inds = catalog["indicators"]
    for n in range(len(inds), args.indicators):
        inds.append({"id": "bench_extra_%02d" % n, "name": {"vi": "Chỉ số thử %d" % n,
                     "en": "Benchmark indicator %d" % n}, "kind": "gauge", "rollup": "latest",
                     "unit": "người", "bounds": {"min": 0, "max": 100000}})
    used = inds[:args.indicators]
    args.ids = [i["id"] for i in used]
    args.max_value = min(i.get("bounds", {}).get("max", 100000) for i in used) + 1
    template = next(u for u in orgunits["units"] if u["level"] == "ward")
    units = [u for u in orgunits["units"] if u["level"] != "ward"]
    district = next(u for u in units if u["level"] == "district")
    codes = ["%05d" % (WARD_BASE + i) for i in range(wards)] + [PROBE_WARD]
    for code in codes:
        w = dict(template, code=code, name_vi="Phường thử %s" % code, name_en="Ward %s" % code)
        w.pop("note", None)
        units.append(w)
    district["population"] = {k: v * len(codes) for k, v in template["population"].items()}
    orgunits["units"] = units
    for name, doc in (("catalog.json", catalog), ("orgunits.json", orgunits)):
        with open(os.path.join(dst, name), "w") as f:
            json.dump(doc, f, ensure_ascii=False)
    with open(os.path.join(src, "plan.json")) as f:
        plan = json.load(f)
    for rule in plan["rules"]:   # ward tasks: assigned to every ward, as in Ba Đình
        a = rule.get("assignees")
        if a and any(isinstance(x, str) and len(x) == 5 for x in a):
            # the plan schema allows 1000 assignees: beyond, the first wards get the task
            others = [x for x in a if not isinstance(x, str)]
            rule["assignees"] = codes[:1000 - len(others)] + others
    with open(os.path.join(dst, "plan.json"), "w") as f:
        json.dump(plan, f, ensure_ascii=False)
    args.plan_dir = dst


def db_figures(db):
    """Checkpoint (the aggregator has stopped) and measure: bytes of db + WAL, reports stored
    (all, and those of the load's wards: the loadgen's probe, ward 99999, left out)."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = con.execute("SELECT count(*) FROM reports").fetchone()[0]
    load = con.execute("SELECT count(*) FROM reports WHERE ward <> '99999'").fetchone()[0]
    con.close()
    size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
    return {"db_bytes": size, "stored": stored, "stored_load": load,
            "bytes_per_report": round(size / stored) if stored else None}


def run_load(args, name, kind, wards, reports, rate=0.0, seed_db=None, seq_start=1,
             day_start=0):
    """One run: a fresh broker, the null or the real aggregator, the load. Returns figures."""
    with Run(args, name) as run:
        db = os.path.join(run.dir, "wardpulse.db")
        if kind == "null":
            proc = run.null_aggregator()
        else:
            if seed_db:
                shutil.copyfile(seed_db, db)
            proc = run.aggregator(db)
        before = db_figures(db)["stored_load"] if seed_db else 0
        res = run.loadgen(wards, reports, rate, seq_start, day_start)
        res["peak_rss_kb"] = proc_status(proc.pid, "VmHWM")
        res["broker_peak_rss_kb"] = proc_status(run.broker.pid, "VmHWM")
        code = stop(proc)
        res["exit"] = code
        wrapped = kind == "real" and args.aggregator_prefix   # perf's own exit status
        res["ok"] = res["acked"] == res["total"] and res["rejected"] == 0 and (
            code == 0 or wrapped)
        if kind == "real":
            res.update(db_figures(db))
            res["stored_in_run"] = res["stored_load"] - before
            res["ok"] = res["ok"] and res["stored_in_run"] == res["total"]
            res["db_path"] = db if args.keep else None
        return res


def full_seed(args, wards):
    """The database of the `full` scenario: 60 days of `wards` wards, stored by the aggregator
    itself (so it is its own schema), cached by size, indicator count and a digest of the
    store's sources (store/: where the schema and its migrations live), so that a changed store
    prepares its own database rather than timing a migration of the old one."""
    os.makedirs(args.cache, exist_ok=True)
    digest = hashlib.sha1()
    store = os.path.join(SRC, "store")
    for name in sorted(os.listdir(store)) if os.path.isdir(store) else []:
        if name.endswith((".c", ".h")):
            with open(os.path.join(store, name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
    path = os.path.join(args.cache, "full-%dw-%dd-%di%s-%s.db" % (
        wards, FULL_DAYS, args.indicators, "-plan" if args.plan else "", digest.hexdigest()[:10]))
    if os.path.exists(path) and not args.fresh_seed:
        return path, None
    t = time.monotonic()
    with Run(args, "full-seed") as run:
        db = os.path.join(run.dir, "seed.db")
        proc = run.aggregator(db)
        res = run.loadgen(wards, FULL_DAYS)
        stop(proc)
        if res["acked"] != res["total"]:
            raise SystemExit("preparing the full database: %d of %d acked"
                             % (res["acked"], res["total"]))
        db_figures(db)
        shutil.copyfile(db, path + ".tmp")
        os.rename(path + ".tmp", path)
    res["prepare_s"] = round(time.monotonic() - t, 1)
    return path, res


def fmt_run(label, r):
    lat = r["latency_ms"]
    s = ("  %-9s %8.0f reports/s  all acked %6.2f s  half %6.2f s  first %6.2f s  "
         "latency p50 %7.0f ms  p99 %7.0f ms  peak RSS %6.1f MB"
         % (label, r["reports_per_s"], r["all_acked_s"], r["half_acked_s"], r["first_ack_s"],
            lat["p50"], lat["p99"], (r["peak_rss_kb"] or 0) / 1024))
    if "bytes_per_report" in r:
        s += "\n  %-9s db %.1f MB incl. WAL after checkpoint, %d reports stored (%d in this run):" \
             " %d bytes/report" % ("", r["db_bytes"] / 1e6, r["stored"], r["stored_in_run"],
                                   r["bytes_per_report"])
    if not r["ok"]:
        s += "\n  %-9s NOT OK: %d of %d acked, %d rejected, exit %s" % (
            "", r["acked"], r["total"], r["rejected"], r["exit"])
    return s


def median_run(runs):
    """The run with the median rate (of an odd count; the lower middle of an even one), its
    figures kept whole, with every run's rate beside them: the machine is shared, so one
    run alone can be far off."""
    ranked = sorted(runs, key=lambda r: r["reports_per_s"])
    med = dict(ranked[(len(ranked) - 1) // 2])
    med["rates_all"] = [round(r["reports_per_s"]) for r in runs]
    med["ok"] = all(r["ok"] for r in runs)
    return med


def compare(args, results, name, wards, reports, **kw):
    """The null and the real aggregator under the same load, --repeat times each,
    interleaved (null, real, null, real …) so that a busy spell of the machine hits both."""
    print("%s: %d wards × %d reports × %d indicators" % (name, wards, reports, args.indicators),
          flush=True)
    nulls, reals = [], []
    for _ in range(args.repeat):
        nulls.append(run_load(args, name + "-null", "null", wards, reports))
        reals.append(run_load(args, name + "-real", "real", wards, reports, **kw))
    null, real = median_run(nulls), median_run(reals)
    for label, r in (("null", null), ("wardpulse", real)):
        print(fmt_run(label, r), flush=True)
        if args.repeat > 1:
            print("  %-9s (the median of %d runs: %s reports/s)"
                  % ("", args.repeat, ", ".join(str(x) for x in r["rates_all"])))
    ratio = real["reports_per_s"] / null["reports_per_s"] if null["reports_per_s"] > 0 else 0
    acks_flow = real["half_acked_s"] / real["all_acked_s"] if real["all_acked_s"] > 0 else 0
    print("  ratio %.2f   half acked at %.0f %% of the time to ack all\n"
          % (ratio, 100 * acks_flow), flush=True)
    results[name] = {"null": null, "real": real, "ratio": round(ratio, 3),
                     "half_over_all": round(acks_flow, 3)}


def rss_of(pid, names):
    """Resident kB of the mappings of pid whose path ends with one of names."""
    total, name = 0, ""
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+$", head[0]):
                name = os.path.basename(head[5]) if len(head) > 5 else ""
            elif head[0] == "Rss:" and any(name.startswith(n) for n in names):
                total += int(head[1])
    return total


def median(values):
    values = sorted(values)
    return values[(len(values) - 1) // 2]


def agent_scenario(args, results):
    """Idle RSS of wardpulse-agent against mosquitto_sub's, both connected to the same broker,
    and their wake-ups (context switches) over a quiet window; and the floor under the ratio,
    mosquitto_sub's RSS plus the libsqlite3 and libm pages of wardpulse-sqlite-floor (a
    program that opens an SQLite file in WAL and runs one query: bench/sqlite_floor.c). Each of --agent-pairs pairs
    runs on its own broker: the agent's first start (it creates its outbox) beside a
    mosquitto_sub, then the agent's restart on that outbox (the state a ward's agent is in
    after its first reboot) beside a new mosquitto_sub. Library pages are mapped 64 KB at a
    time around each touched page, at addresses that change with every start (ASLR), so one
    pair moves by ±0.05; the median ratio of the pairs is the figure."""
    print("agent: idle wardpulse-agent vs mosquitto_sub (%d pairs, %d s idle each)"
          % (args.agent_pairs, args.agent_window), flush=True)
    runs = {"first_start": [], "restart": []}
    for i in range(args.agent_pairs):
        with Run(args, "agent") as run:
            conf = os.path.join(run.dir, "agent.conf")
            with open(conf, "w") as f:
                f.write("ward 00001\nbroker_host 127.0.0.1\nbroker_port %d\noutbox_path %s\n"
                        "log_level info\n" % (run.port, os.path.join(run.dir, "outbox.db")))
            for kind in ("first_start", "restart"):
                agent = run.spawn("agent", [os.path.join(args.build, "agent", "wardpulse-agent"),
                                            "-c", conf])
                sub = run.spawn("mosquitto_sub", ["mosquitto_sub", "-h", "127.0.0.1", "-p",
                                                  str(run.port), "-q", "1", "-i", "bench-sub",
                                                  "-t", "wardpulse/v1/ack/00001"])
                time.sleep(3)   # connected, birth published, settled
                sw = {p: sum(proc_status(p.pid, k) or 0 for k in
                             ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
                      for p in (agent, sub)}
                time.sleep(args.agent_window)
                out = {}
                for label, p in (("agent", agent), ("mosquitto_sub", sub)):
                    if p.poll() is not None:
                        raise SystemExit("%s exited: see %s" % (label, run.dir))
                    now = sum(proc_status(p.pid, k) or 0 for k in
                              ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
                    out[label] = {"rss_kb": proc_status(p.pid, "VmRSS"),
                                  "peak_rss_kb": proc_status(p.pid, "VmHWM"),
                                  "wakeups_per_s": round((now - sw[p]) / args.agent_window, 2)}
                out["agent"]["sqlite_libm_kb"] = rss_of(agent.pid, ("libsqlite3.so",
                                                                     "libm.so"))
                out["agent"]["heap_kb"] = rss_of(agent.pid, ("[heap]",))
                out["rss_ratio"] = round(out["agent"]["rss_kb"] /
                                         out["mosquitto_sub"]["rss_kb"], 3)
                # The floor: mosquitto_sub plus what SQLite alone maps into a process.
                floor = run.spawn("sqlite-floor", [
                    os.path.join(args.build, "bench", "wardpulse-sqlite-floor"),
                    os.path.join(run.dir, "floor.db")], stdout=subprocess.PIPE)
                if floor.stdout.readline().strip() != b"ready":
                    raise SystemExit("wardpulse-sqlite-floor failed: see %s" % run.dir)
                out["floor_sqlite_libm_kb"] = rss_of(floor.pid, ("libsqlite3.so", "libm.so"))
                out["floor_ratio"] = round((out["mosquitto_sub"]["rss_kb"] +
                                            out["floor_sqlite_libm_kb"]) /
                                           out["mosquitto_sub"]["rss_kb"], 3)
                runs[kind].append(out)
                for p in (agent, sub, floor):
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout=10)
    res = {"pairs": args.agent_pairs, "window_s": args.agent_window}
    for kind, label in (("first_start", "first start"), ("restart", "restart")):
        rs = runs[kind]
        m = {"rss_ratio": median(r["rss_ratio"] for r in rs),
             "ratios": [r["rss_ratio"] for r in rs],
             "floor_ratio": median(r["floor_ratio"] for r in rs),
             "floor_sqlite_libm_kb": median(r["floor_sqlite_libm_kb"] for r in rs)}
        for who in ("agent", "mosquitto_sub"):
            m[who] = {k: median(r[who][k] for r in rs) for k in rs[0][who]}
        res[kind] = m
        a, s = m["agent"], m["mosquitto_sub"]
        print("  %-12s agent %4.1f MB (libsqlite3 + libm %3.1f MB, heap %3.0f kB), "
              "%.2f context switches/s; mosquitto_sub %3.1f MB, %.2f/s"
              % (label, a["rss_kb"] / 1024, a["sqlite_libm_kb"] / 1024, a["heap_kb"],
                 a["wakeups_per_s"], s["rss_kb"] / 1024, s["wakeups_per_s"]))
        print("  %-12s ratio %.2f (median; pairs %s)"
              % ("", m["rss_ratio"], ", ".join("%.2f" % x for x in m["ratios"])))
        print("  %-12s floor %.2f: mosquitto_sub + libsqlite3 and libm as a program that only "
              "opens SQLite maps them (%.1f MB)"
              % ("", m["floor_ratio"], m["floor_sqlite_libm_kb"] / 1024), flush=True)
    print(flush=True)
    results["agent"] = res


def agent_conf(run, path, port, ward, extra=""):
    with open(path, "w") as f:
        f.write("ward %s\nbroker_host 127.0.0.1\nbroker_port %d\noutbox_path %s\n"
                "log_level %s\n%s" % (ward, port, os.path.join(run.dir, "outbox.db"),
                                       run.args.agent_log_level, extra))
    return path


def outbox_count(path):
    """Entries still queued in the agent's outbox (read-only, beside the daemon)."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM entries").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None


def drain_scenario(args, results):
    """--repeat runs of drain_run; the run of median ratio is reported, every ratio listed."""
    runs = []
    for _ in range(args.repeat):
        one = {}
        drain_run(args, one)
        runs.append(one["drain"])
    runs.sort(key=lambda r: r["ratio"])
    out = dict(runs[(len(runs) - 1) // 2])
    out["ratios_all"] = [r["ratio"] for r in runs]
    out["ok"] = all(r["ok"] for r in runs)
    if len(runs) > 1:
        print("  drain: the run of median ratio of %d: %.2f (ratios %s)\n"
              % (len(runs), out["ratio"], ", ".join("%.2f" % r for r in out["ratios_all"])),
              flush=True)
    results["drain"] = out


def drain_run(args, results):
    """A ward's backlog after a long outage: --drain-reports reports queued in one agent's
    outbox (taken in from one spool CSV while the broker was unreachable), then the daemon
    started against the broker and the real aggregator; the time from its start until the
    outbox is empty (every report acked) against the time the same aggregator takes, in the
    same run, to store and ack as many reports of one ward sent by the loadgen."""
    n = max(10, round(args.drain_reports * args.scale))
    k = args.indicators
    print("drain: one agent's backlog of %d reports × %d indicators vs the loadgen's" % (n, k),
          flush=True)
    with Run(args, "drain") as run:
        db = os.path.join(run.dir, "wardpulse.db")
        agg = run.aggregator(db)
        base = run.loadgen(1, n, day_start=-n)   # periods up to 2021-12-31: none in the future
        spool = os.path.join(run.dir, "spool")
        os.makedirs(spool)
        ward = "20000"
        binary = os.path.join(args.build, "agent", "wardpulse-agent")
        offline = agent_conf(run, os.path.join(run.dir, "agent-offline.conf"), free_port(), ward,
                             "spool_dir %s\nspool_max_bytes 268435456\n" % spool)
        t = time.monotonic()
        day0 = datetime.date(2022, 1, 1)
        tmp = os.path.join(spool, ".backlog.csv.part")
        with open(tmp, "w") as f:
            f.write("period,indicator,value\n")
            for j in range(n):
                period = (day0 + datetime.timedelta(days=j - n)).isoformat()
                f.writelines("%s,ind_%02d,%d\n" % (period, i, (j * 7919 + i * 104729) % 100000)
                             for i in range(k))
        os.rename(tmp, os.path.join(spool, "backlog.csv"))
        fill = run.spawn("agent-offline", [binary, "-c", offline])
        outbox = os.path.join(run.dir, "outbox.db")
        while outbox_count(outbox) != n:
            if fill.poll() is not None or time.monotonic() - t > args.timeout:
                raise SystemExit("the agent did not take the backlog in: see %s" % run.dir)
            time.sleep(0.2)
        stop(fill)
        intake_s = time.monotonic() - t
        conf = agent_conf(run, os.path.join(run.dir, "agent.conf"), run.port, ward)
        t0 = time.monotonic()
        agent = run.spawn("agent", [binary, "-c", conf])
        half_s = None
        while True:
            left = outbox_count(outbox)
            now = time.monotonic() - t0
            if left is not None and left <= n // 2 and half_s is None:
                half_s = now
            if left == 0:
                break
            if agent.poll() is not None or agg.poll() is not None or now > args.timeout:
                raise SystemExit("the backlog did not drain: see %s" % run.dir)
            time.sleep(0.02)
        drain_s = time.monotonic() - t0
        peak = proc_status(agent.pid, "VmHWM")
        with open("/proc/%d/stat" % agent.pid) as f:   # utime + stime, in clock ticks
            fields = f.read().rsplit(")", 1)[1].split()
        cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        with open(os.path.join(run.dir, "agent.log"), errors="replace") as f:
            passes = sum(1 for line in f if "publish pass:" in line)
        stop(agent)
        stop(agg)
        stored = db_figures(db)["stored_load"]
        out = {"reports": n, "intake_s": round(intake_s, 2), "drain_s": round(drain_s, 3),
               "half_s": round(half_s, 3), "drain_per_s": round(n / drain_s),
               "aggregator_s": base["all_acked_s"], "aggregator_per_s": base["reports_per_s"],
               "agent_peak_rss_kb": peak, "agent_cpu_s": cpu_s,
               "publish_passes_logged": passes,
               "stored": stored, "ok": base["acked"] == base["total"] and stored == 2 * n}
        out["ratio"] = round(out["drain_per_s"] / out["aggregator_per_s"], 3)
        print("  loadgen → aggregator   %6d reports/s (%.2f s)" % (base["reports_per_s"],
                                                                  base["all_acked_s"]))
        print("  agent backlog → aggregator %6d reports/s (%.2f s; half acked at %.2f s; "
              "agent CPU %.2f s, peak RSS %.1f MB; taken in from the spool in %.1f s)"
              % (out["drain_per_s"], drain_s, half_s, cpu_s, peak / 1024, intake_s))
        print("  ratio %.2f\n" % out["ratio"], flush=True)
        results["drain"] = out


def outage_scenario(args, results):
    """After a long broker outage: how long each agent takes to connect once the broker is
    back (the backoff's cap bounds it: reconnect_max, the wait drawn in [max/2, max])."""
    n, secs = args.outage_agents, max(1, round(args.outage * args.scale))
    print("outage: %d agents, broker away %d s" % (n, secs), flush=True)
    with Run(args, "outage") as run:
        binary = os.path.join(args.build, "agent", "wardpulse-agent")
        agents = []
        for i in range(n):
            d = os.path.join(run.dir, "a%d" % i)
            os.makedirs(d)
            conf = os.path.join(d, "agent.conf")
            with open(conf, "w") as f:
                f.write("ward %05d\nbroker_host 127.0.0.1\nbroker_port %d\noutbox_path %s\n"
                        "log_level info\n" % (30000 + i, run.port, os.path.join(d, "outbox.db")))
            agents.append(run.spawn("agent-%d" % i, [binary, "-c", conf]))

        def connects(i):
            with open(os.path.join(run.dir, "agent-%d.log" % i), errors="replace") as f:
                return sum(1 for line in f if " connected to 127.0.0.1:" in line)

        deadline = time.monotonic() + 20
        while not all(connects(i) == 1 for i in range(n)):
            if time.monotonic() > deadline:
                raise SystemExit("the agents did not connect: see %s" % run.dir)
            time.sleep(0.1)
        stop(run.broker)
        time.sleep(secs)
        run.broker = run.spawn("mosquitto-back", ["mosquitto", "-c",
                                                  os.path.join(run.dir, "mosquitto.conf")])
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", run.port)) == 0:
                    break
            time.sleep(0.01)
        back = time.monotonic()
        waits = [None] * n
        while None in waits and time.monotonic() - back < 120:
            for i in range(n):
                if waits[i] is None and connects(i) >= 2:
                    waits[i] = round(time.monotonic() - back, 2)
            time.sleep(0.05)
        done = sorted(w for w in waits if w is not None)
        out = {"agents": n, "outage_s": secs, "waits_s": waits,
               "max_s": done[-1] if done else None,
               "median_s": done[len(done) // 2] if done else None,
               "ok": len(done) == n}
        print("  connected again after the broker was back: median %.1f s, max %.1f s "
              "(each: %s)\n" % (out["median_s"] or 0, out["max_s"] or 0,
                                ", ".join("%.1f" % w if w is not None else "never" for w in waits)),
              flush=True)
        results["outage"] = out


def machine_info():
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    version = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout
    return {"nproc": os.cpu_count(), "ram_gb": mem_kb / 1024 / 1024,
            "kernel": os.uname().release,
            "mosquitto": (version.splitlines() or ["mosquitto ?"])[0].strip(),
            "loadavg": " ".join(open("/proc/loadavg").read().split()[:3])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="burst,sustained,full,half,agent,drain,outage",
                    help="comma-separated: burst, sustained, full, half, agent, drain, outage "
                         "(default: all)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the ward counts")
    ap.add_argument("--indicators", type=int, default=40)
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--timeout", type=float, default=600, help="seconds a load may take")
    ap.add_argument("--capacity", type=float,
                    help="reports/s of the real aggregator for `half` (default: measured by "
                         "the sustained run, run first if not selected)")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="an aggregator setting for every real run (e.g. batch_max=2000)")
    ap.add_argument("--plan", action="store_true",
                    help="run the aggregator under a generated plan (plans/ba-dinh-2022's rules "
                         "and catalog, one ward per simulated ward) instead of none")
    ap.add_argument("--cache", help="where the prepared database and plans are kept "
                                     "(default: <build>/bench-cache)")
    ap.add_argument("--fresh-seed", action="store_true", help="prepare the full database anew")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each aggregator per scenario; the median run is reported")
    ap.add_argument("--broker-set", action="append", metavar="KEY=VALUE",
                    help="replace a line of broker-config/mosquitto-dev.conf (e.g. "
                         "persistence=false), to see what the broker's own work costs")
    ap.add_argument("--aggregator-prefix", metavar="COMMAND",
                    help="run the real aggregator under this command, e.g. 'perf record -g "
                         "-o /tmp/agg.perf --' (its peak RSS is then the wrapper's)")
    ap.add_argument("--agent-window", type=int, default=10,
                    help="seconds each idle agent and mosquitto_sub are watched")
    ap.add_argument("--agent-pairs", type=int, default=5,
                    help="agent scenario: pairs of runs (first start, restart); the median")
    ap.add_argument("--outage", type=int, default=60,
                    help="seconds the broker is away in the outage scenario")
    ap.add_argument("--outage-agents", type=int, default=10)
    ap.add_argument("--agent-log-level", default="info",
                    help="the drain scenario's agent (debug: one line per publish pass)")
    ap.add_argument("--drain-reports", type=int, default=10000,
                    help="the agent's backlog in the drain scenario")
    ap.add_argument("--json", help="write every figure to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.cache = os.path.abspath(args.cache or os.path.join(args.build, "bench-cache"))
    scenarios = [s for s in args.scenario.split(",") if s]
    for s in scenarios:
        if s not in ("burst", "sustained", "full", "half", "agent", "drain", "outage"):
            ap.error("unknown scenario %s" % s)

    def wards(name):
        """The scenario's ward count; under --plan, a plan with exactly those wards."""
        n = max(1, round(BASE[name][0] * args.scale))
        if args.plan:
            make_plan(args, n)
        return n

    start = time.monotonic()
    machine = machine_info()
    print("machine: %(nproc)d cores, %(ram_gb).1f GB RAM, Linux %(kernel)s, %(mosquitto)s"
          % machine)
    print("broker: broker-config/mosquitto-dev.conf%s; aggregator: defaults%s"
          % ("".join(", " + kv for kv in args.broker_set or []),
             "".join(", " + kv for kv in args.set or [])))
    print("wardpulse ingest benchmark: scale %g, %d indicators, %s, %s, load average %s\n"
          % (args.scale, args.indicators, "plan: ba-dinh-2022's rules" if args.plan else "no plan", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
             " ".join(open("/proc/loadavg").read().split()[:3])), flush=True)
    results = {"scale": args.scale, "indicators": args.indicators, "plan": args.plan,
               "machine": machine, "argv": sys.argv[1:],
               "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if "burst" in scenarios:
        compare(args, results, "burst", wards("burst"), BASE["burst"][1])
    if "sustained" in scenarios:
        compare(args, results, "sustained", wards("sustained"), BASE["sustained"][1])
    if "full" in scenarios:
        w = wards("full")
        seed, prep = full_seed(args, w)
        if prep:
            print("full: prepared %s (%d × %d reports stored in %.1f s by the aggregator, "
                  "%.0f reports/s)" % (seed, w, FULL_DAYS, prep["prepare_s"],
                                       prep["reports_per_s"]), flush=True)
            results["full_prepare"] = prep
        compare(args, results, "full", w, BASE["full"][1], seed_db=seed,
                seq_start=FULL_DAYS + 1, day_start=FULL_DAYS)
    if "half" in scenarios:
        cap = args.capacity or (results.get("sustained") or {}).get("real", {}).get(
            "reports_per_s")
        w, m = wards("sustained"), BASE["sustained"][1]
        if not cap:
            cap = run_load(args, "capacity", "real", w, m)["reports_per_s"]
        rate = cap / 2
        print("half: %d wards × %d reports offered at %.0f reports/s (half of %.0f)"
              % (w, m, rate, cap), flush=True)
        runs = [run_load(args, "half-real", "real", w, m, rate=rate) for _ in range(args.repeat)]
        runs.sort(key=lambda r: r["latency_ms"]["p99"])
        r = dict(runs[(len(runs) - 1) // 2])
        r["p99_all"] = [x["latency_ms"]["p99"] for x in runs]
        r["ok"] = all(x["ok"] for x in runs)
        print(fmt_run("wardpulse", r), flush=True)
        if args.repeat > 1:
            print("  %-9s (the run of median p99 of %d: p99 %s ms)"
                  % ("", args.repeat, ", ".join("%.0f" % x for x in r["p99_all"])))
        print(flush=True)
        results["half"] = {"capacity": cap, "rate": rate, "real": r}
    if "agent" in scenarios:
        agent_scenario(args, results)
    if "drain" in scenarios:
        drain_scenario(args, results)
    if "outage" in scenarios:
        outage_scenario(args, results)
    results["elapsed_s"] = round(time.monotonic() - start, 1)
    print("done in %.0f s" % results["elapsed_s"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    runs = [v for k, v in results.items() if isinstance(v, dict)
            for v in ([v.get("null"), v.get("real")] if k not in ("agent", "drain", "outage")
                      else [v] if k in ("drain", "outage") else [])]
    bad = [r for r in runs if r and not r["ok"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
