"""Hostile spool files (issue 5, "Hostile input": spool files) against the real agent.

- CSV with quotes and line breaks inside fields is read as docs/spool.md says (RFC 4180:
  a quoted field holds separators, doubled quotes and line breaks; a line break inside
  quotes counts as a line of the file when a later line is named), and a CSV whose quoting
  is broken is refused with a reason naming the line;
- a 100 MB file is refused with a reason (spool_max_bytes) without being read: the agent's
  peak memory (VmHWM in /proc/PID/status) stays far below the file's size;
- after each hostile file the daemon is alive and takes the next good file.

Binary garbage, NUL bytes, legacy encodings, workbooks and empty files are shown by
test_agent_spool.py (test_garbage_oversized_and_foreign_files_are_refused_with_a_reason);
the parser itself is fuzzed (tests/fuzz/fuzz_spool.c).
"""
import json
import os
import sqlite3

from harness import Agent, TempDir, run_tests, wait_for

WARD = "00001"
MB = 1024 * 1024


def spool_agent(tmp, **settings):
    spool = os.path.join(tmp, "spool")
    os.makedirs(spool, exist_ok=True)
    opts = {"spool_dir": spool, "spool_interval": "100ms", "spool_settle": "0",
            "poll_interval": "50ms"}
    opts.update(settings)
    return Agent(tmp, WARD, 1, **opts), spool   # port 1: no broker, reports stay queued


def drop(spool, name, data):
    """As a well-behaved writer does: write a .tmp, then rename into place."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = os.path.join(spool, name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(spool, name))


def listing(spool, sub):
    path = os.path.join(spool, sub)
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def error_of(spool, name):
    with open(os.path.join(spool, "rejected", name + ".error"), encoding="utf-8") as f:
        return f.read()


def entries(agent):
    if not os.path.exists(agent.outbox):
        return []
    with sqlite3.connect("file:%s?mode=ro" % agent.outbox, uri=True) as db:
        try:
            rows = db.execute("SELECT payload FROM entries ORDER BY seq").fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []   # the agent is creating its outbox right now
            raise
    return [json.loads(p) for (p,) in rows]


def take_good_file(agent, spool, name, day):
    """The daemon still takes a good file: it lands in done/ and its report is queued."""
    before = len(entries(agent))
    drop(spool, name, "period,indicator,value\n%s,deaths,1\n" % day)
    wait_for(lambda: name in listing(spool, "done"), "%s taken after the hostile files" % name)
    assert len(entries(agent)) == before + 1
    assert entries(agent)[-1]["period"] == day
    assert agent.alive(), agent.output()


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/%d/status" % pid)


def test_csv_quotes_and_line_breaks_are_read_as_documented():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp)
        agent.start()
        note_lf = 'Dòng 1, có dấu phẩy\nDòng 2: "đúng"; xong'
        # LF file: a note over two lines, with the separator and doubled quotes; the rows
        # after it are read where they are.
        drop(spool, "quoted-lf.csv",
             'period,indicator,value\n'
             '2022-05-03,note,"Dòng 1, có dấu phẩy\nDòng 2: ""đúng""; xong"\n'
             '2022-05-03,deaths,2\n'
             '"2022-05-04","cases_new_community","7"\n')
        # CRLF file with ';' as Excel writes it on a Vietnamese PC: a CRLF inside quotes is
        # kept as one line break (LF), a ';' inside quotes is text.
        drop(spool, "quoted-crlf.csv",
             '\ufeffperiod;indicator;value\r\n'
             '2022-05-05;note;"a;b\r\nc"\r\n'
             '2022-05-05;task:ward-scenario;"done"\r\n')
        # A quoted empty value is an empty cell: no figure.
        drop(spool, "quoted-empty.csv",
             'period,indicator,value\n2022-05-06,deaths,""\n2022-05-06,care_teams,3\n')
        wait_for(lambda: listing(spool, "done") == ["quoted-crlf.csv", "quoted-empty.csv",
                                                    "quoted-lf.csv"],
                 "the quoted files taken", timeout=30)
        assert listing(spool, "rejected") == [], listing(spool, "rejected")
        by_period = {r["period"]: r for r in entries(agent)}
        assert by_period["2022-05-03"]["note"] == note_lf, by_period["2022-05-03"]
        assert by_period["2022-05-03"]["values"] == {"deaths": 2}
        assert by_period["2022-05-04"]["values"] == {"cases_new_community": 7}
        assert by_period["2022-05-05"]["note"] == "a;b\nc", by_period["2022-05-05"]
        assert by_period["2022-05-05"]["tasks"] == {"ward-scenario": "done"}
        assert by_period["2022-05-06"]["values"] == {"care_teams": 3}, by_period["2022-05-06"]
        assert agent.alive(), agent.output()
        assert agent.stop() == 0


def test_broken_quoting_is_refused_naming_the_line():
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp)
        agent.start()
        cases = [
            # a line break inside quotes counts: the bad value is on line 5 of the file
            ("after-a-long-note.csv",
             'period,indicator,value\n2022-05-03,note,"1\n2\n3"\n2022-05-03,deaths,-1\n',
             ["line 5: values.deaths: must be ≥ 0"]),
            ("never-closed.csv",
             'period,indicator,value\n2022-05-03,deaths,1\n2022-05-03,note,"không đóng\n'
             '2022-05-04,deaths,1\n',
             ["line 3: a quoted field is never closed (a '\"' is missing)"]),
            ("text-after-quote.csv",
             'period,indicator,value\n2022-05-03,note,"Ghi chú" quan trọng\n2022-05-03,deaths,1\n',
             ["line 2: text after the closing quote of a field"]),
            ("undoubled-quote.csv",
             'period,indicator,value\n2022-05-03,note,"a "quoted" word"\n',
             ["line 2: text after the closing quote of a field"]),
            ("unquoted-separator.csv",
             'period,indicator,value\n2022-05-03,note,Phúc Xá, đã kiểm tra\n',
             ["line 2: 4 fields, more than the header's 3 (a ',' inside a value must be quoted)"]),
            ("quoted-header-broken.csv",
             '"period,indicator,value\n2022-05-03,deaths,1\n',
             ["line 1: a quoted field is never closed"]),
            ("two-problems.csv",
             'period,indicator,value\n2022-05-03,deaths,"1"2\n2022-05-04,deaths,"x\n',
             ["line 2: text after the closing quote", "line 3: a quoted field is never closed"]),
        ]
        for name, content, _ in cases:
            drop(spool, name, content)
        names = sorted(name for name, _, _ in cases)
        wait_for(lambda: listing(spool, "rejected") == sorted(names + [n + ".error" for n in names]),
                 "every broken file refused", timeout=30)
        for name, _, reasons in cases:
            error = error_of(spool, name)
            assert "nothing of it was submitted" in error, error
            for reason in reasons:
                assert reason in error, (name, reason, error)
        assert entries(agent) == [], "a refused file must leave nothing in the outbox"
        assert listing(spool, "done") == []
        take_good_file(agent, spool, "after-quotes.csv", "2022-05-10")
        assert agent.stop() == 0


def test_a_100_mb_file_is_refused_unread_and_memory_stays_bounded():
    size = 100 * MB
    with TempDir() as tmp:
        agent, spool = spool_agent(tmp)   # spool_max_bytes: the default, 4 MiB
        agent.start()
        take_good_file(agent, spool, "before.csv", "2022-05-01")
        before = vm_hwm_kib(agent.proc.pid)

        # A real CSV, not a sparse file: rows until 100 MB.
        row = b"2022-05-03,cases_new_community,12\n"
        chunk = b"period,indicator,value\n" + row * (MB // len(row))
        path = os.path.join(spool, "huge.csv.tmp")
        with open(path, "wb") as f:
            written = 0
            while written < size:
                part = chunk[:size - written]
                f.write(part)
                written += len(part)
        os.rename(path, os.path.join(spool, "huge.csv"))
        # And 100 MB of random bytes under a .json name.
        with open(os.path.join(spool, "huge.json.tmp"), "wb") as f:
            for _ in range(100):
                f.write(os.urandom(MB))
        os.rename(os.path.join(spool, "huge.json.tmp"), os.path.join(spool, "huge.json"))

        # The agent writes a file's .error first and moves the file after it (a crash in
        # between leaves the file in the spool): refused means the file itself is there.
        wait_for(lambda: {"huge.csv", "huge.csv.error", "huge.json", "huge.json.error"}
                 <= set(listing(spool, "rejected")), "both 100 MB files refused", timeout=60)
        for name in ("huge.csv", "huge.json"):
            error = error_of(spool, name)
            assert ("the file is %d bytes; a spool file may have at most 4194304 (spool_max_bytes)"
                    % size) in error, error
            assert os.path.getsize(os.path.join(spool, "rejected", name)) == size
        # logged right after the move
        wait_for(lambda: "spool: refused huge.json" in agent.output(), "the refusals logged")
        assert "spool: refused huge.csv" in agent.output(), agent.output()[-2000:]

        take_good_file(agent, spool, "after.csv", "2022-05-02")
        peak = vm_hwm_kib(agent.proc.pid)
        print("VmHWM %d KiB before, %d KiB after" % (before, peak))
        # Had either file been read whole, the peak would exceed 100 MB; 4 MiB is the most a
        # spool file may make it grow.
        assert peak - before < 16 * 1024, "VmHWM grew from %d to %d KiB" % (before, peak)
        assert peak * 1024 < size // 4, "VmHWM %d KiB for a %d byte file" % (peak, size)
        assert [r["period"] for r in entries(agent)] == ["2022-05-01", "2022-05-02"]
        assert agent.alive(), agent.output()
        assert agent.stop() == 0


if __name__ == "__main__":
    run_tests(globals())
