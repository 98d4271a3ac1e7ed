"""A spool file is taken only when it is whole (issue 9, "Exactly once at the edges").

The agent learns from Linux inotify when a writer has closed a file or renamed it into
the spool folder (docs/spool.md), instead of judging by the file's age alone:
- a CSV written with a pause in the middle is taken once, whole, when its writer closes it;
- a file still open for writing when the agent starts is left alone until it is closed;
- a CSV whose last line has no line end waits (logged once) until the line is finished,
  and is refused after spool_incomplete_timeout if it never is;
- a file renamed in is taken at once, without waiting for spool_interval;
- a spool folder removed and made again is watched again, with done/ and rejected/, and
  no log line repeats.
Real agent, broker and aggregator processes (harness.py); results read from the agent's
outbox, the folders, the aggregator through `wardpulse export`, and the agent's log.
"""
import datetime
import json
import os
import re
import shutil
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Agent, Aggregator, Broker, TempDir, export_values, run_tests,
                     wait_for)

WARD = "00001"
SKIP = 77  # CTest's SKIP_RETURN_CODE for this test (tests/CMakeLists.txt)

if not os.path.isdir("/proc/sys/fs/inotify"):
    print("SKIP: this kernel has no inotify, which the spool needs")
    sys.exit(SKIP)


def spool_agent(tmp, port=1, **settings):
    """The agent of WARD with a spool folder; port 1: no broker, reports stay queued."""
    spool = os.path.join(tmp, "spool")
    os.makedirs(spool, exist_ok=True)
    opts = {"spool_dir": spool, "spool_interval": "100ms", "spool_settle": "300ms",
            "poll_interval": "50ms", "ack_timeout": "2s"}
    opts.update(settings)
    return Agent(tmp, WARD, port, **opts), spool


def drop(spool, name, content):
    """As a well-behaved writer does: write a .tmp, then rename into place."""
    tmp = os.path.join(spool, name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(content.encode("utf-8"))
    os.rename(tmp, os.path.join(spool, name))


def listing(spool, sub=""):
    path = os.path.join(spool, sub)
    if not os.path.isdir(path):
        return []
    return sorted(n for n in os.listdir(path) if os.path.isfile(os.path.join(path, n)))


def entries(agent):
    if not os.path.exists(agent.outbox):
        return []
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        try:
            rows = db.execute("SELECT payload FROM entries ORDER BY seq").fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise
    return [json.loads(p) for (p,) in rows]


def spool_log_lines(agent):
    """The agent's 'spool:' log lines without their time stamps."""
    return [re.sub(r"^\S+Z ", "", line) for line in agent.output().splitlines()
            if "spool:" in line]


def count(agent, text):
    return sum(1 for line in spool_log_lines(agent) if text in line)


def month_csv(days=20):
    """A month's CSV: `days` days x 3 figures, one line each; returns (text, line count)."""
    lines = ["period,indicator,value"]
    first = datetime.date(2022, 5, 1)
    for d in range(days):
        day = (first + datetime.timedelta(days=d)).isoformat()
        for name in ("cases_new_community", "deaths", "vacc_18p_dose1_cum"):
            lines.append("%s,%s,%d" % (day, name, 100 + d))
    return "\n".join(lines) + "\n"


def test_a_csv_written_with_a_pause_is_taken_whole_when_closed():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port).start()
        agent, spool = spool_agent(tmp, broker.port)
        agent.start()
        drop(spool, "a-first.csv", "period,indicator,value\n2022-04-30,deaths,0\n")
        wait_for(lambda: "a-first.csv" in listing(spool, "done"), "the agent running")
        text = month_csv()
        half = text.index("2022-05-11")   # the first ten days: whole lines, a valid CSV
        path = os.path.join(spool, "thang-5.csv")
        with open(path, "w", encoding="utf-8") as f:   # by hand, in place
            f.write(text[:half])
            f.flush()
            os.fsync(f.fileno())
            time.sleep(2.0)   # well past spool_settle (300ms): the half looks finished by age
            f.write(text[half:])
        wait_for(lambda: "thang-5.csv" in listing(spool, "done"), "the file taken", timeout=20)

        def stored():
            return {(r["period"], r["indicator"], r["value"]) for r in export_values(agg.db)
                    if r["period"] != "2022-04-30"}
        want = {(line.split(",")[0], line.split(",")[1], int(line.split(",")[2]))
                for line in text.splitlines()[1:]}
        wait_for(lambda: stored() == want, "the whole month stored at the aggregator", timeout=20)
        took = [line for line in spool_log_lines(agent) if "took in thang-5.csv" in line]
        assert len(took) == 1 and "20 report(s)" in took[0], took
        with open(os.path.join(spool, "done", "thang-5.csv"), encoding="utf-8") as f:
            assert f.read() == text
        assert agent.stop() == 0


def test_a_file_still_open_for_writing_at_start_waits_for_its_writer():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp)
        text = month_csv()
        half = text.index("2022-05-11")
        path = os.path.join(spool, "a-open.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text[:half])
            f.flush()
            old = time.time() - 3600
            os.utime(path, (old, old))   # settled by age: only its open writer tells
            drop(spool, "b-sync.csv", "period,indicator,value\n2022-04-30,deaths,0\n")
            os.utime(os.path.join(spool, "b-sync.csv"), (old, old))
            agent.start()
            # Both are listed at start and looked at in name order: a-open.csv first.
            wait_for(lambda: "b-sync.csv" in listing(spool, "done"), "the listing at start")
            assert listing(spool) == ["a-open.csv"], listing(spool)
            assert [r["period"] for r in entries(agent)] == ["2022-04-30"], entries(agent)
            f.write(text[half:])
        wait_for(lambda: "a-open.csv" in listing(spool, "done"), "the file taken once closed")
        assert len(entries(agent)) == 1 + 20, len(entries(agent))
        assert count(agent, "took in a-open.csv: 20 report(s)") == 1, spool_log_lines(agent)
        assert count(agent, "a-open.csv is still open for writing") == 1, spool_log_lines(agent)
        assert agent.stop() == 0


def test_a_csv_with_an_incomplete_last_line_waits_for_the_rest():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp, spool_settle="0")
        agent.start()
        drop(spool, "a-first.csv", "period,indicator,value\n2022-04-30,deaths,0\n")
        wait_for(lambda: "a-first.csv" in listing(spool, "done"), "the agent running")
        path = os.path.join(spool, "part.csv")
        with open(path, "w", encoding="utf-8") as f:
            # The writer stopped in the middle of a figure: "12" of "120".
            f.write("period,indicator,value\n2022-05-03,deaths,1\n2022-05-03,cases_new_community,12")
        wait_for(lambda: count(agent, "part.csv: the last line is incomplete") == 1,
                 "the incomplete file noticed")
        # More of the line, still no line end: looked at again (an event), not logged again.
        with open(path, "a", encoding="utf-8") as f:
            f.write("0")
        drop(spool, "z-sync.csv", "period,indicator,value\n2022-04-29,deaths,0\n")
        wait_for(lambda: "z-sync.csv" in listing(spool, "done"), "a later file taken")
        assert "part.csv" in listing(spool), listing(spool)
        assert [r["period"] for r in entries(agent)] == ["2022-04-30", "2022-04-29"]
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n")
        wait_for(lambda: "part.csv" in listing(spool, "done"), "the completed file taken")
        last = entries(agent)[-1]
        assert last["period"] == "2022-05-03", last
        assert last["values"] == {"deaths": 1, "cases_new_community": 120}, last
        assert count(agent, "part.csv: the last line is incomplete") == 1, spool_log_lines(agent)
        assert agent.stop() == 0


def test_a_csv_whose_last_line_never_ends_is_refused_after_the_timeout():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp, spool_settle="0", spool_incomplete_timeout="2s")
        agent.start()
        with open(os.path.join(spool, "dead.csv"), "w", encoding="utf-8") as f:
            f.write("period,indicator,value\n2022-05-03,deaths,1\n2022-05-03,cases_new_comm")
        # The .error comes first, the file is moved after it, and the refusal logged last.
        wait_for(lambda: count(agent, "refused dead.csv") >= 1, "the file refused")
        with open(os.path.join(spool, "rejected", "dead.csv.error"), encoding="utf-8") as f:
            error = f.read()
        assert "the last line has no line end" in error, error
        assert entries(agent) == [], "nothing of an unfinished file is submitted"
        assert count(agent, "dead.csv: the last line is incomplete") == 1, spool_log_lines(agent)
        assert count(agent, "refused dead.csv") == 1, spool_log_lines(agent)
        assert agent.stop() == 0


def test_a_file_renamed_in_is_taken_at_once():
    with TempDir() as tmp:
        # Once an hour: a file taken sooner was not found by looking at the folder again.
        agent, spool = spool_agent(tmp, spool_interval="1h", spool_settle="1h")
        drop(spool, "a-before.csv", "period,indicator,value\n2022-04-30,deaths,0\n")
        old = time.time() - 7200
        os.utime(os.path.join(spool, "a-before.csv"), (old, old))
        agent.start()
        wait_for(lambda: "a-before.csv" in listing(spool, "done"), "the file there at start")
        drop(spool, "b-renamed.csv", "period,indicator,value\n2022-05-01,deaths,1\n")
        wait_for(lambda: "b-renamed.csv" in listing(spool, "done"), "the renamed file taken")
        # Copied in place (cp, a clerk's save): taken when closed, spool_settle or not.
        with open(os.path.join(spool, "c-copied.csv"), "w", encoding="utf-8") as f:
            f.write("period,indicator,value\n2022-05-02,deaths,2\n")
        wait_for(lambda: "c-copied.csv" in listing(spool, "done"), "the copied file taken")
        assert [r["period"] for r in entries(agent)] == ["2022-04-30", "2022-05-01", "2022-05-02"]
        assert agent.stop() == 0


def test_a_spool_folder_removed_and_made_again_is_watched_again():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp, spool_settle="0")
        agent.start()
        drop(spool, "a.csv", "period,indicator,value\n2022-05-01,deaths,1\n")
        wait_for(lambda: "a.csv" in listing(spool, "done"), "the first file taken")
        shutil.rmtree(spool)
        wait_for(lambda: count(agent, "was removed, moved or unmounted") == 1,
                 "the lost folder noticed")
        wait_for(lambda: count(agent, "No such file or directory") == 1,
                 "the missing folder logged")
        os.makedirs(spool)
        drop(spool, "b.csv", "period,indicator,value\n2022-05-02,deaths,2\n")
        wait_for(lambda: "b.csv" in listing(spool, "done"), "a file in the new folder taken")
        assert os.path.isdir(os.path.join(spool, "rejected")), os.listdir(spool)
        # Taken by the watch, not only by the listing when the folder came back.
        with open(os.path.join(spool, "c.csv"), "w", encoding="utf-8") as f:
            f.write("period,indicator,value\n2022-05-03,deaths,3\n")
        wait_for(lambda: "c.csv" in listing(spool, "done"), "a later file taken")
        drop(spool, "d.csv", "period,indicator,value\n2022-05-03,deaths,-1\n")
        wait_for(lambda: count(agent, "refused d.csv") >= 1, "a bad file refused")
        assert [r["period"] for r in entries(agent)] == ["2022-05-01", "2022-05-02", "2022-05-03"]
        lines = spool_log_lines(agent)
        repeated = sorted({line for line in lines if lines.count(line) > 1})
        assert repeated == [], "log lines repeated:\n" + "\n".join(repeated)
        assert count(agent, "watching %s again" % spool) == 1, lines
        assert agent.alive() and agent.stop() == 0


run_tests(globals())
