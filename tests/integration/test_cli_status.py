"""The operator's command on a district database the real aggregator made (cli_fixture):
`wardpulse status`, `wardpulse alerts` and `wardpulse export --raw`, and how they refuse a
database they cannot read.

What is checked is what an operator sees: one line per ward that fits an 80-column
terminal (widths counted as a terminal counts them: a Vietnamese letter is one column),
no escape codes unless stdout is a terminal (and none with NO_COLOR), the figures the
fixture put in, the alerts the aggregator fired with their Vietnamese summaries, and the
audit trail with every message as it arrived, refused ones included.
"""
import base64
import csv
import io
import json
import os
import pty
import shutil
import sqlite3
import subprocess
import unicodedata
from datetime import datetime

import cli_fixture
from harness import (BA_DINH_WARDS, CLI_BIN, SRC, Aggregator, Broker, TempDir, cli, run_tests,
                     wait_for)

PLAN = os.path.join(SRC, "plans", "ba-dinh-2022")
NOW = cli_fixture.NOW
TMP = TempDir()
DB = None


def setup():
    global DB
    if DB is None:
        DB = cli_fixture.build(TMP.__enter__())
    return DB


def columns(line):
    """Terminal columns of a line: combining marks 0, East Asian wide 2, others 1."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF"
               else 1 for c in line)


def status(*extra, env=None):
    args = [CLI_BIN, "status", "--db", setup(), "--now", NOW, "--config", "/dev/null"]
    r = subprocess.run(args + list(extra), capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r
    return r.stdout


def query(sql, *args):
    with sqlite3.connect("file:%s?mode=ro" % setup(), uri=True) as db:
        return db.execute(sql, args).fetchall()


def ward_lines(out):
    return {line[:5]: line for line in out.splitlines() if line[:5] in BA_DINH_WARDS}


def test_status_one_line_per_ward_in_80_columns_without_escapes():
    out = status("--plan", PLAN)
    assert "\x1b" not in out, "escape codes on a pipe:\n" + out
    for line in out.splitlines():
        assert columns(line) <= 80, "%d columns: %r" % (columns(line), line)
    lines = ward_lines(out)
    assert sorted(lines) == sorted(BA_DINH_WARDS), out
    assert lines["00001"].startswith("00001 Phúc Xá "), lines["00001"]
    assert lines["00010"].startswith("00010 Nguyễn Trun… "), lines["00010"]   # cut, with …
    assert out.splitlines()[0].startswith("Quận Ba Đình (001) · 16/05/2022 08:00 · 14 phường")
    district = [l for l in out.splitlines() if l.startswith("001 ")]
    assert len(district) == 1 and "Ba Đình" in district[0], out
    # The epidemic level of W19, as the aggregator recorded it.
    levels = dict(query("SELECT scope, level FROM levels WHERE week = '2022-W19'"))
    assert levels["00001"] == 4 and levels["district"] == 3, levels
    for ward, line in lines.items():
        assert " %d " % levels[ward] in line[44:52], (ward, line)
    assert " 3 " in district[0][44:52], district
    # The ward that fell silent on 10 May: its last report and its age.
    last = query("SELECT received_at FROM reports WHERE ward = '00034' "
                 "ORDER BY received_ms DESC LIMIT 1")[0][0]
    shown = "%s/%s %s" % (last[8:10], last[5:7], last[11:16])
    age = (datetime.fromisoformat(NOW) - datetime.fromisoformat(last)).days
    assert shown in lines["00034"] and " %dd " % age in lines["00034"], (last, lines["00034"])
    # Coverage of 5–11 in Phúc Xá on 15 May: int(1523 × 0.356) / 1523 = 35.6 % → 36 %.
    assert "36%" in lines["00001"] and "100%" in lines["00001"], lines["00001"]
    # Firing alerts per ward, as the alerts table has them.
    firing = dict(query("SELECT scope, COUNT(*) FROM alerts WHERE state = 'firing' "
                        "GROUP BY scope"))
    for ward, line in lines.items():
        assert line.rstrip().endswith(" %d" % firing.get(ward, 0)), (ward, line, firing)
    total = sum(firing.values())
    assert "Cảnh báo chưa xử lý: %d" % total in out, out
    # Reporting rates: the late ward's daily reports are never on time, but complete; the
    # weekly vaccination figures they carry are in long before the Monday cut-off: on time,
    # 1 period of 16 (6%).
    rates = dict(query("SELECT rule, on_time FROM reporting_rates WHERE ward = '00031'"))
    assert rates == {"daily-report": 0, "weekly-vaccination": 1}, rates
    assert " 6% 100% " in lines["00031"], lines["00031"]
    for rule in ("kids-5-11-full", "booster-18p", "frontline-full"):
        assert rule in out, out


def test_status_colours_only_on_a_terminal_and_never_with_no_color():
    def on_tty(env):
        master, slave = pty.openpty()
        p = subprocess.Popen([CLI_BIN, "status", "--db", setup(), "--plan", PLAN, "--now", NOW,
                              "--config", "/dev/null"], stdout=slave, stderr=subprocess.PIPE,
                             env=env)
        os.close(slave)
        data = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        os.close(master)
        assert p.wait(30) == 0, p.stderr.read()
        p.stderr.close()
        return data.decode("utf-8")

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = on_tty(env)
    assert "\x1b[" in coloured, coloured
    plain = on_tty(dict(env, NO_COLOR="1"))
    assert "\x1b" not in plain, plain
    assert "Phúc Xá" in plain


def test_status_without_plan_and_in_english():
    out = status()
    assert "\x1b" not in out
    lines = ward_lines(out)
    assert sorted(lines) == sorted(BA_DINH_WARDS), out
    # Names from the levels the aggregator recorded; no coverage without the plan.
    assert lines["00001"].startswith("00001 Phúc Xá"), lines["00001"]
    assert "kids-5-11-full" not in out and "--plan" in out, out
    assert all(columns(l) <= 80 for l in out.splitlines()), out

    en = status("--plan", PLAN, "--lang", "en")
    assert "Ba Dinh district (001) · 2022-05-16 08:00 · 14 wards" in en, en
    assert ward_lines(en)["00001"].startswith("00001 Phuc Xa "), en
    assert "Alerts firing: " in en and all(columns(l) <= 80 for l in en.splitlines())


def test_alerts_firing_with_vietnamese_summaries_and_resolved_with_all():
    firing = query("SELECT rule, scope, json_extract(payload, '$.severity'), "
                   "json_extract(payload, '$.summary.vi'), json_extract(payload, '$.summary.en') "
                   "FROM alerts WHERE state = 'firing'")
    assert len(firing) >= 10, firing
    critical = sum(1 for f in firing if f[2] == "critical")
    r = cli("alerts", "--db", setup(), "--plan", PLAN, "--now", NOW, "--config", "/dev/null")
    out = r.stdout
    assert "\x1b" not in out
    assert out.startswith("Cảnh báo chưa xử lý: %d (nghiêm trọng %d," % (len(firing), critical)), out
    assert out.count("NGHIÊM TRỌNG  ") == critical, out
    flat = " ".join(out.split())
    for rule, scope, severity, vi, en in firing:
        assert " ".join(vi.split()) in flat, vi            # every summary, wrapped
    assert "Phường Phúc Xá (00001) · epidemic-level" in out, out
    assert "cấp độ dịch tuần 19/2022 là cấp độ 4 – nguy cơ rất cao (màu đỏ)" in flat, out
    assert all(columns(l) <= 80 for l in out.splitlines()), out
    # Most severe first.
    assert out.index("NGHIÊM TRỌNG") < out.index("CẢNH BÁO  "), out
    assert "Đã khắc phục" not in out and "ĐÃ KHẮC PHỤC" not in out

    # Alerts that fired and were resolved in the 7 days before NOW. One that was only
    # pending (within its grace) and resolved never fired: no payload, nothing to list —
    # how many of those there are depends on when the fixture's evaluations ran.
    resolved = query("SELECT COUNT(*) FROM alerts WHERE state = 'resolved' AND since_ms >= "
                     "strftime('%s', '2022-05-09T08:00:00+07:00') * 1000 "
                     "AND payload IS NOT NULL")[0][0]
    assert resolved > 0
    out = cli("alerts", "--all", "--db", setup(), "--now", NOW, "--config", "/dev/null").stdout
    assert "Đã khắc phục trong 7 ngày qua: %d" % resolved in out, out
    assert out.count("ĐÃ KHẮC PHỤC ") == resolved, out
    assert "Phường 00031 · daily-report" in out, out      # no plan: the code stands in

    en = cli("alerts", "--lang", "en", "--db", setup(), "--plan", PLAN, "--now", NOW,
             "--config", "/dev/null").stdout
    flat = " ".join(en.split())
    assert en.startswith("Alerts firing: %d (critical %d," % (len(firing), critical)), en
    for rule, scope, severity, vi, en_text in firing:
        assert " ".join(en_text.split()) in flat, en_text


def test_export_raw_is_the_audit_trail_of_every_message():
    reports = query("SELECT COUNT(*) FROM reports")[0][0]
    rejected = query("SELECT COUNT(*) FROM rejected")[0][0]
    assert rejected == 2, rejected
    out = cli("export", "--raw", "--db", setup(), "--config", "/dev/null").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["received_at", "status", "topic", "ward", "stream", "seq", "reason",
                             "payload_bytes", "payload_encoding", "payload"], rows[0]
    assert len(rows) == reports + rejected, (len(rows), reports, rejected)
    assert [r["received_at"] for r in rows] == sorted(r["received_at"] for r in rows)
    accepted = [r for r in rows if r["status"] == "accepted"]
    refused = [r for r in rows if r["status"] == "rejected"]
    assert len(accepted) == reports and len(refused) == 2
    first = json.loads(accepted[0]["payload"])
    assert first["ward"] == accepted[0]["ward"] and first["seq"] == int(accepted[0]["seq"])
    assert accepted[0]["topic"] == "wardpulse/v1/report/" + first["ward"]
    assert accepted[0]["payload_encoding"] == "utf-8" and accepted[0]["reason"] == ""
    assert int(accepted[0]["payload_bytes"]) == len(accepted[0]["payload"].encode())
    unknown = [r for r in refused if "vacc_x" in r["reason"]]
    assert len(unknown) == 1 and json.loads(unknown[0]["payload"])["values"] == {"vacc_x": 1}
    garbage = [r for r in refused if r["payload_encoding"] == "base64"]
    assert len(garbage) == 1 and "UTF-8" in garbage[0]["reason"], refused
    assert base64.b64decode(garbage[0]["payload"]) == b"\xff\xfe not json \x00", garbage

    doc = json.loads(cli("export", "--raw", "--format", "json", "--ward", "00001", "--from",
                         "2022-05-15", "--db", setup(), "--config", "/dev/null").stdout)
    assert doc and all(d["ward"] == "00001" and d["received_at"] >= "2022-05-15" for d in doc)
    assert {d["status"] for d in doc} == {"accepted", "rejected"}, doc
    assert all(isinstance(d["seq"], int) for d in doc if d["seq"] is not None)
    r = cli("export", "--raw", "--rejected", "--db", setup(), check=False)
    assert r.returncode == 2 and "--raw" in r.stderr, r
    assert "--raw" in cli("export", "--help").stdout


def test_commands_refuse_missing_newer_and_foreign_databases():
    with TempDir() as tmp:
        missing = os.path.join(tmp, "missing.db")
        for command in ("status", "alerts", "report", "export"):
            extra = ["--week", "2022-W19", "--plan", PLAN] if command == "report" else []
            r = cli(command, "--db", missing, "--config", "/dev/null", *extra, check=False)
            assert r.returncode == 1 and "does not exist" in r.stderr, (command, r)
        assert os.listdir(tmp) == [], "a command created %s" % os.listdir(tmp)

        newer = os.path.join(tmp, "newer.db")
        shutil.copy(setup(), newer)
        with sqlite3.connect(newer) as db:
            db.execute("PRAGMA user_version = 99")
        for command in ("status", "alerts", "export"):
            r = cli(command, "--db", newer, "--config", "/dev/null", check=False)
            assert r.returncode == 1 and "schema version 99 is newer" in r.stderr, (command, r)
        old = os.path.join(tmp, "v1.db")
        with sqlite3.connect(old) as db:
            db.execute("CREATE TABLE reports (x)")
            db.execute("PRAGMA user_version = 1")
        r = cli("status", "--db", old, "--config", "/dev/null", check=False)
        assert r.returncode == 1 and "older" in r.stderr and "migrate" in r.stderr, r
        r = cli("status", "--db", setup(), "--plan", os.path.join(tmp, "noplan"), check=False)
        assert r.returncode == 1 and "orgunits.json" in r.stderr, r
        r = cli("status", "--db", setup(), "--district", "1; DROP", check=False)
        assert r.returncode == 2 and "--district" in r.stderr, r
        r = cli("alerts", "--db", setup(), "--now", "yesterday", check=False)
        assert r.returncode == 2 and "--now" in r.stderr, r

        # The database path and the plan come from the aggregator's configuration.
        conf = os.path.join(tmp, "aggregator.conf")
        with open(conf, "w") as f:
            f.write("# the district's\ndistrict 001\ndb_path %s\nplan_dir   %s  \n"
                    % (setup(), PLAN))
        out = cli("status", "--config", conf, "--now", NOW).stdout
        assert "kids-5-11-full" in out and len(ward_lines(out)) == 14, out


def test_status_reads_while_the_aggregator_runs():
    with TempDir() as tmp:
        db = os.path.join(tmp, "aggregator.db")
        shutil.copy(setup(), db)
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port, plan_dir=PLAN, clock_start="2022-05-16T08:00:00+07:00",
                         db_path=db).start()
        wait_for(lambda: "connected to" in agg.output(),
                 "aggregator up", timeout=15)
        before = os.stat(db).st_mtime
        out = status("--db", db, "--plan", PLAN)
        assert len(ward_lines(out)) == 14, out
        assert cli("alerts", "--db", db, "--config", "/dev/null").returncode == 0
        assert agg.alive(), agg.output()
        assert agg.stop() == 0, agg.output()
        assert os.stat(db).st_mtime >= before


if __name__ == "__main__":
    try:
        run_tests(globals())
    finally:
        TMP.__exit__(None, None, None)
