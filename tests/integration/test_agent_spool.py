"""The spool directory: files a clerk drops are taken in whole (CSV of docs/spool.md or
report JSON), moved to done/ or to rejected/ with a .error naming the line; delivered to
the real aggregator and checked with `wardpulse export`."""
import datetime
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Agent, Aggregator, Broker, TempDir, export_values, run_tests,
                     wait_for)

WARD = "00001"


def spool_agent(tmp, port=1, **settings):
    spool = os.path.join(tmp, "spool")
    os.makedirs(spool, exist_ok=True)
    opts = {"spool_dir": spool, "spool_interval": "100ms", "spool_settle": "0",
            "poll_interval": "50ms", "ack_timeout": "2s"}
    opts.update(settings)
    return Agent(tmp, WARD, port, **opts), spool


def drop(spool, name, content):
    """As a well-behaved writer does: write a .tmp, then rename into place."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    tmp = os.path.join(spool, name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(spool, name))


def entries(agent):
    if not os.path.exists(agent.outbox):
        return []
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        return [json.loads(p) for (p,) in db.execute("SELECT payload FROM entries ORDER BY seq")]


def listing(spool, sub=""):
    path = os.path.join(spool, sub)
    if not os.path.isdir(path):
        return []  # the daemon creates done/ and rejected/ when it starts
    return sorted(n for n in os.listdir(path) if os.path.isfile(os.path.join(path, n)))


def hundred_rows(bad_line=None):
    """A CSV of 100 rows (lines 2..101): 20 days x 5 rows; bad_line gets a negative value."""
    lines = ["period,indicator,value"]
    first = datetime.date(2022, 5, 1)
    for d in range(20):
        day = (first + datetime.timedelta(days=d)).isoformat()
        for name in ("cases_new_community", "deaths", "vacc_18p_dose1_cum"):
            lines.append("%s,%s,%d" % (day, name, d + 1))
        lines.append("%s,task:ward-scenario,%s" % (day, "done" if d > 10 else "in_progress"))
        lines.append("%s,note,\"ngày %d, đã kiểm tra\"" % (day, d + 1))
    if bad_line:
        period, name, _ = lines[bad_line - 1].split(",", 2)
        assert not name.startswith(("task:", "note")), "pick a line with a value"
        lines[bad_line - 1] = "%s,%s,-5" % (period, name)
    return "\r\n".join(lines) + "\r\n"


def test_csv_and_json_are_taken_whole_and_delivered():
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port).start()
        agent, spool = spool_agent(tmp, broker.port)
        agent.start()
        drop(spool, "bao-cao.csv", "\ufeffperiod;indicator;value\n"
                                   "2022-05-03;cases_new_community;12\n"
                                   "2022-05-03;task:ward-scenario;done\n"
                                   "2022-05-03;note;\"Phường Phúc Xá; đã kiểm tra\"\n"
                                   "2022-05-04;cases_new_community;3\n")
        drop(spool, "r.json", json.dumps({"period": "2022-W18", "values": {"deaths": 1}}))
        # Files being written and hidden files are left alone.
        with open(os.path.join(spool, "half.csv.tmp"), "w") as f:
            f.write("period,indicator,value\n2022-05-05,deaths,1\n")
        with open(os.path.join(spool, ".~lock.bao-cao.csv#"), "w") as f:
            f.write("x")
        wait_for(lambda: listing(spool, "done") == ["bao-cao.csv", "r.json"], "files in done/")
        assert listing(spool) == [".~lock.bao-cao.csv#", "half.csv.tmp"], listing(spool)
        # The same name again (tomorrow's export) does not overwrite yesterday's in done/.
        drop(spool, "bao-cao.csv", "period,indicator,value\n2022-05-05,deaths,0\n")
        wait_for(lambda: "bao-cao-2.csv" in listing(spool, "done"), "a second bao-cao.csv")

        def stored():
            return {(r["period"], r["indicator"], r["value"]) for r in export_values(agg.db)}
        want = {("2022-05-03", "cases_new_community", 12), ("2022-05-04", "cases_new_community", 3),
                ("2022-W18", "deaths", 1), ("2022-05-05", "deaths", 0)}
        wait_for(lambda: stored() == want and entries(agent) == [], "all stored and acked")
        assert agent.stop() == 0
        out = agent.output()
        assert "spool: took in bao-cao.csv: 2 report(s), seq 1..2" in out, out
        assert "spool: took in r.json: 1 report(s), seq 3..3" in out, out


def test_one_bad_line_refuses_the_whole_file_then_the_fixed_file_is_taken():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp)
        agent.start()
        drop(spool, "thang-5.csv", hundred_rows(bad_line=57))
        # the .error comes first, the file is moved after it
        wait_for(lambda: "thang-5.csv" in listing(spool, "rejected"), "a .error file")
        assert listing(spool, "rejected") == ["thang-5.csv", "thang-5.csv.error"]
        with open(os.path.join(spool, "rejected", "thang-5.csv.error"), encoding="utf-8") as f:
            error = f.read()
        assert "line 57: values.cases_new_community: must be ≥ 0" in error, error
        assert "nothing of it was submitted" in error, error
        assert entries(agent) == [], "a refused file must leave nothing in the outbox"
        drop(spool, "thang-5.csv", hundred_rows())
        wait_for(lambda: "thang-5.csv" in listing(spool, "done"), "the fixed file taken")
        reports = entries(agent)
        assert len(reports) == 20 and [r["seq"] for r in reports] == list(range(1, 21))
        assert sum(len(r["values"]) for r in reports) == 60
        assert reports[0]["note"] == "ngày 1, đã kiểm tra" and reports[0]["tasks"]
        assert agent.alive()


def test_garbage_oversized_and_foreign_files_are_refused_with_a_reason():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp, spool_max_bytes="2048")
        agent.start()
        drop(spool, "noise.csv", os.urandom(1500))
        drop(spool, "zeros.json", b"\0" * 100)
        drop(spool, "big.csv", "period,indicator,value\n" + "2022-05-03,deaths,1\n" * 200)
        drop(spool, "report.xlsx", b"PK\x03\x04" + os.urandom(100))
        drop(spool, "old-excel.csv", "period,indicator,value\n2022-05-03,note,Ph\xfac\n".encode("latin-1"))
        drop(spool, "empty.csv", "")
        names = ["big.csv", "empty.csv", "noise.csv", "old-excel.csv", "report.xlsx", "zeros.json"]
        wait_for(lambda: listing(spool, "rejected") == sorted(names + [n + ".error" for n in names]),
                 "every file refused")

        def error(name):
            with open(os.path.join(spool, "rejected", name + ".error"), encoding="utf-8") as f:
                return f.read()
        assert "at most 2048" in error("big.csv"), error("big.csv")
        assert "line 1: a NUL byte" in error("zeros.json"), error("zeros.json")
        assert "not UTF-8" in error("noise.csv") or "NUL" in error("noise.csv"), error("noise.csv")
        assert "line 2: not UTF-8 text" in error("old-excel.csv"), error("old-excel.csv")
        assert "CSV UTF-8" in error("report.xlsx"), error("report.xlsx")
        assert "empty" in error("empty.csv"), error("empty.csv")
        assert entries(agent) == []
        assert agent.alive(), agent.output()
        assert agent.stop() == 0


def test_a_file_found_at_start_is_taken_only_once_it_has_settled():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp, spool_settle="1500ms")
        # Written in place while the agent was down, as some programs do: the agent did
        # not see it closed, so the file's age decides (files it sees closed or renamed
        # in while it runs are taken at once: test_agent_spool_whole.py).
        with open(os.path.join(spool, "slow.csv"), "w") as f:
            f.write("period,indicator,value\n2022-05-03,deaths,1\n")
        agent.start()
        time.sleep(0.8)
        assert listing(spool) == ["slow.csv"] and entries(agent) == []
        wait_for(lambda: listing(spool, "done") == ["slow.csv"], "the settled file taken")
        assert len(entries(agent)) == 1


def fingerprint(data):
    """The agent's fingerprint of a spool file: its size and FNV-1a 64 of its bytes."""
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%d-%016x" % (len(data), h)


def test_a_file_committed_before_a_crash_is_not_submitted_twice():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp)
        content = "period,indicator,value\n2022-05-03,deaths,1\n2022-05-04,deaths,2\n"
        agent.submit("2022-05-01", {"deaths": 0})  # creates the outbox
        # The state a kill -9 leaves between COMMIT and the move to done/: the reports and
        # the file's record are committed, the file is still in the spool.
        with sqlite3.connect(agent.outbox) as db:
            db.execute("INSERT INTO entries (seq, period, payload, created_at) "
                       "SELECT 2, period, payload, created_at FROM entries WHERE seq = 1")
            db.execute("UPDATE meta SET next_seq = 3")
            db.execute("INSERT INTO spool_taken VALUES ('x.csv', ?, 2, 2, 0)",
                       (fingerprint(content.encode()),))
        drop(spool, "x.csv", content)
        # A record of a file that has gone (moved before the crash) is forgotten.
        with sqlite3.connect(agent.outbox) as db:
            db.execute("INSERT INTO spool_taken VALUES ('gone.csv', '1-0', 1, 1, 0)")
        # A different file under a recorded name is new: it is taken.
        with sqlite3.connect(agent.outbox) as db:
            db.execute("INSERT INTO spool_taken VALUES ('y.csv', '5-0000000000000000', 1, 1, 0)")
        drop(spool, "y.csv", "period,indicator,value\n2022-05-09,deaths,9\n")
        agent.start()
        wait_for(lambda: listing(spool, "done") == ["x.csv", "y.csv"], "both files in done/")
        periods = [r["period"] for r in entries(agent)]
        assert periods == ["2022-05-01", "2022-05-01", "2022-05-09"], periods
        assert "x.csv was taken in before a restart" in agent.output(), agent.output()
        with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
            wait_for(lambda: db.execute("SELECT count(*) FROM spool_taken").fetchone()[0] == 0,
                     "records forgotten once the files moved")


def test_a_year_of_daily_reports_in_one_file():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp)
        lines = ["period,indicator,value"]
        day = datetime.date(2022, 1, 1)
        for d in range(366):
            for name in ("cases_new_community", "deaths", "vacc_18p_dose3_cum", "severe_active"):
                lines.append("%s,%s,%d" % (day + datetime.timedelta(days=d), name, d))
        drop(spool, "nam-2022.csv", "\n".join(lines) + "\n")
        agent.start()
        wait_for(lambda: listing(spool, "done") == ["nam-2022.csv"], "a year taken", timeout=60)
        assert len(entries(agent)) == 366
        status = agent.command("status").stdout
        assert "366 report(s)" in status, status


run_tests(globals())
