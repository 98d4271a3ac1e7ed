"""Fault tests, the agents' side: real mosquitto with persistence, the real aggregator,
the 14 Ba Đình agents; each ends with the invariant, checked with `wardpulse export`:
every submission that `submit` or the spool accepted is stored exactly once."""
import datetime
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import District, Killer, stream_of
from harness import TempDir, export_values, run_tests, wait_for


def test_agent_killed_9_mid_stream_and_restarted():
    rng = random.Random(int(os.environ.get("WP_FAULT_SEED") or time.time()))
    total = 700
    with TempDir() as tmp:
        district = District(tmp).start_agents()
        first, second = district.agents["00004"], district.agents["00019"]
        # Each killed at a random moment of the stream and started again a little later;
        # its ward's submissions go on meanwhile (submit needs no daemon).
        killers = [Killer(first, [rng.randrange(100, 300)], pause=(0.3, 1.5), rng=rng),
                   Killer(second, [rng.randrange(350, 600)], pause=(0.3, 1.5), rng=rng)]

        def progress(n):
            for k in killers:
                k.progress(n)
        district.stream(total, progress=progress)
        for k in killers:
            k.finish()
            assert k.kills == 1
        assert first.alive() and second.alive()
        district.wait_delivered(timeout=90)
        assert district.assert_exactly_once() == total
        for agent in (first, second):
            starts = agent.output().count("wardpulse-agent 0.1.0 for ward")
            assert starts == 2, "%s started %d times" % (agent.ward, starts)
        district.stop_all()


def test_agent_store_deleted_and_recreated_starts_a_new_stream():
    per_ward = 20
    with TempDir() as tmp:
        district = District(tmp).start_agents()
        wards = len(district.agents)
        district.stream(per_ward * wards)
        district.wait_delivered(timeout=60)
        agent = district.agents["00007"]
        old_stream = stream_of(agent)

        # The ward's PC is re-installed: the daemon dies, its store is gone.
        agent.kill9()
        for suffix in ("", "-wal", "-shm", ".daemon-lock"):
            if os.path.exists(agent.outbox + suffix):
                os.unlink(agent.outbox + suffix)
        district.ledger.forget_stream(agent)
        agent.start()
        # The same submissions once more, for every ward: ward 00007's come with seq 1, 2 …
        # again and the very same figures, in a new stream; they must not be taken for
        # duplicates of the old stream's.
        district.stream(per_ward * wards, first_index=0)
        new_stream = stream_of(agent)
        assert new_stream != old_stream
        district.wait_delivered(timeout=60)
        assert district.assert_exactly_once() == 2 * per_ward * wards
        rows = [r for r in export_values(district.aggregator.db) if r["ward"] == "00007"]
        by_stream = {}
        for r in rows:
            by_stream.setdefault(r["stream"], set()).add(r["seq"])
        assert by_stream == {old_stream: set(range(1, per_ward + 1)),
                             new_stream: set(range(1, per_ward + 1))}, by_stream
        district.stop_all()


def month_csv(bad_line=None):
    """100 figures (lines 2..101): 20 days of May x 5 indicators; bad_line gets -5."""
    indicators = ["cases_new_community", "cases_new_quarantine", "deaths", "severe_active",
                  "vacc_18p_dose3_cum"]
    lines, figures = ["period,indicator,value"], {}
    for d in range(20):
        day = (datetime.date(2022, 5, 1) + datetime.timedelta(days=d)).isoformat()
        for k, name in enumerate(indicators):
            value = 1000 * d + k
            lines.append("%s,%s,%d" % (day, name, value))
            figures.setdefault(day, {})[name] = value
    if bad_line:
        day, name, _ = lines[bad_line - 1].split(",")
        lines[bad_line - 1] = "%s,%s,-5" % (day, name)
    return "\r\n".join(lines) + "\r\n", figures


def test_spool_file_with_one_bad_line_then_fixed():
    ward = "00001"
    with TempDir() as tmp:
        spool = os.path.join(tmp, "spool-" + ward)
        os.makedirs(spool)
        district = District(tmp, per_ward={ward: {"spool_dir": spool, "spool_interval": "100ms",
                                                  "spool_settle": "0"}}).start_agents()
        agent = district.agents[ward]

        def drop(text):
            with open(os.path.join(spool, "thang-5.csv.tmp"), "w", encoding="utf-8") as f:
                f.write(text)
            os.rename(os.path.join(spool, "thang-5.csv.tmp"), os.path.join(spool, "thang-5.csv"))

        bad, _ = month_csv(bad_line=57)
        drop(bad)
        error_file = os.path.join(spool, "rejected", "thang-5.csv.error")
        district.stream(140)  # the other submissions go on meanwhile
        # the .error comes first, the file is moved after it: the fixed file dropped under
        # the same name must not meet the refused one still in the spool
        wait_for(lambda: os.path.exists(os.path.join(spool, "rejected", "thang-5.csv")),
                 "the file refused")
        with open(error_file, encoding="utf-8") as f:
            error = f.read()
        assert re.search(r"(?m)^line 57: values\.\w+: must be ≥ 0$", error), error
        assert error.count("\nline ") == 1, "only line 57 is wrong:\n" + error
        assert "spool: took in" not in agent.output()

        good, figures = month_csv()
        drop(good)
        wait_for(lambda: os.path.exists(os.path.join(spool, "done", "thang-5.csv")), "the fixed file taken")
        m = re.search(r"spool: took in thang-5\.csv: 20 report\(s\), seq (\d+)\.\.(\d+)", agent.output())
        assert m, agent.output()
        first = int(m.group(1))
        stream = stream_of(agent)
        for k, day in enumerate(sorted(figures)):  # one report per day, in file order
            district.ledger.record(ward, stream, first + k, figures[day])
        district.stream(140, first_index=140)
        district.wait_delivered(timeout=60)
        district.assert_exactly_once()
        stored = [r for r in export_values(district.aggregator.db)
                  if r["ward"] == ward and r["period"].startswith("2022-05")]
        assert len(stored) == 100, len(stored)
        district.stop_all()


run_tests(globals())
