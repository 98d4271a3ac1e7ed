"""A full disk under the agent's outbox, for real: the outbox lives on a small tmpfs
(mount -t tmpfs -o size=…, which needs root) that a filler file fills up. `submit` must
fail with a clear message, nothing accepted may be lost, a spool file must wait rather
than be refused, and once there is room again everything reaches the aggregator exactly
once (checked with `wardpulse export`).

Without the right to mount (not root), the test says so and is skipped: SQLite's
max_page_count is per connection and cannot be imposed on the agent from outside."""
import collections
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Agent, Aggregator, Broker, Skip, TempDir, export_values, run_tests,
                     wait_for)

WARD = "00001"
NOTE = "x" * 300  # larger reports fill the disk sooner


def mount_small(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                       capture_output=True, text=True)
    return r.returncode == 0


def unmount(path):
    if subprocess.run(["umount", path], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", path], capture_output=True)


def queued(agent):
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def test_submit_on_a_full_disk_fails_clearly_and_loses_nothing():
    with TempDir() as tmp:
        small = os.path.join(tmp, "small")
        if os.geteuid() != 0 or not mount_small(small, "640k"):
            raise Skip("cannot mount a tmpfs here (needs root)")
        try:
            run_full_disk(tmp, small)
        finally:
            from harness import Process
            Process.stop_all()
            unmount(small)


def run_full_disk(tmp, small):
    broker = Broker(tmp).start()
    agg = Aggregator(tmp, broker.port).start()
    spool = os.path.join(tmp, "spool")  # on the big disk: the clerk's file itself fits
    os.makedirs(spool)
    outbox = os.path.join(small, "outbox.db")
    agent = Agent(tmp, WARD, broker.port, outbox_path=outbox,
                  spool_dir=spool, spool_interval="100ms", spool_settle="0",
                  ack_timeout="1s", ack_timeout_max="2s", poll_interval="50ms")
    agent.outbox = outbox
    agent.submit("2022-01-01", {"deaths": 0}, note=NOTE)
    filler = os.path.join(small, "filler")
    st = os.statvfs(small)
    with open(filler, "wb") as f:  # leave about 100 KiB
        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 100 * 1024))

    accepted = 1
    failure = None
    for i in range(1, 2000):
        r = agent.submit("2022-01-01", {"deaths": i}, note=NOTE, check=False)
        if r.returncode != 0:
            failure = r
            break
        accepted += 1
        assert r.stdout.strip() == "queued report seq %d for 2022-01-01" % accepted, r.stdout
    assert failure, "the disk never filled up"
    assert accepted > 5, "the filler left too little room: %d" % accepted
    assert failure.returncode == 1, failure
    assert "the disk is full; nothing was written" in failure.stderr, failure.stderr
    assert failure.stdout == "", failure.stdout  # no "queued" for what was not
    # Again and again: the same clear failure, and what was accepted is all there.
    for _ in range(3):
        r = agent.submit("2022-01-02", {"deaths": 1}, check=False)
        assert r.returncode == 1 and "disk is full" in r.stderr, r.stderr
    assert queued(agent) == accepted
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    status = agent.command("status")
    assert "%d report(s)" % accepted in status.stdout, status.stdout

    # The daemon starts on the full disk and delivers what was accepted.
    agent.start()
    with open(os.path.join(spool, "thang-1.csv.tmp"), "w") as f:
        f.write("period,indicator,value\n2022-01-03,deaths,3\n2022-01-04,deaths,4\n")
    os.rename(os.path.join(spool, "thang-1.csv.tmp"), os.path.join(spool, "thang-1.csv"))
    wait_for(lambda: len(export_values(agg.db)) >= accepted, "the accepted reports stored",
             timeout=60)
    # A spool file that cannot be committed waits in the spool; it is not refused.
    time.sleep(0.5)
    assert os.path.exists(os.path.join(spool, "thang-1.csv")), os.listdir(spool)
    assert not os.path.exists(os.path.join(spool, "rejected", "thang-1.csv.error"))

    os.unlink(filler)  # room again
    wait_for(lambda: os.path.exists(os.path.join(spool, "done", "thang-1.csv")),
             "the spool file taken once there is room")
    agent.submit("2022-01-05", {"deaths": 5})
    wait_for(lambda: queued(agent) == 0, "outbox empty", timeout=60)

    rows = export_values(agg.db)
    per_report = collections.Counter((r["stream"], r["seq"]) for r in rows)
    assert all(n == 1 for n in per_report.values()), "stored twice: %s" % per_report
    assert sorted(s for _, s in per_report) == list(range(1, accepted + 4)), sorted(per_report)
    assert agent.stop() == 0
    out = agent.output()
    assert "thang-1.csv: " in out and "disk is full" in out, out
    assert out.count("the file stays in the spool") == 1, "logged once, not every scan"


run_tests(globals())
