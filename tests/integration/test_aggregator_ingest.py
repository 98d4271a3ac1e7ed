"""The aggregator alone against a real mosquitto: what it stores, rejects and acks.

Reports are published with mosquitto_pub exactly as an operator (or a broken agent)
would; results are read through `wardpulse export` and the acks on wardpulse/v1/ack/#.
"""
import json
import os
import signal
import sqlite3
import subprocess
import time

from harness import (AGGREGATOR_BIN, SRC, Aggregator, Broker, Subscriber, TempDir,
                     cli, export_values, publish, run_tests, wait_for)

STREAM = "9f1c2a7e4b5d6c3a"
ACK = "wardpulse/v1/ack/"
STATUS = "wardpulse/v1/aggregator/status"

try:
    import jsonschema
    with open(os.path.join(SRC, "schemas", "ack.schema.json"), encoding="utf-8") as _f:
        ACK_SCHEMA = json.load(_f)
except (ImportError, OSError):
    jsonschema = ACK_SCHEMA = None


def report(seq, ward="00001", stream=STREAM, period="2022-05-03", **values):
    return {"v": 1, "ward": ward, "stream": stream, "seq": seq, "period": period,
            "observed_at": "%sT17:05:00+07:00" % period[:10],
            "values": values or {"cases_new_community": seq, "vacc_18p_dose3_cum": 12000 + seq},
            "tasks": {"ward-scenario": "done"}}


class Setup:
    """A broker, the aggregator, and a subscriber on every ack and the aggregator status."""

    def __init__(self, tmp, **settings):
        self.tmp = tmp
        self.broker = Broker(tmp).start()
        self.settings = settings
        self.sub = Subscriber(self.broker.port, ACK + "#", STATUS)
        self.agg = None
        self.start_aggregator()

    def start_aggregator(self):
        seen = len(self.statuses("online"))
        self.agg = Aggregator(self.tmp, self.broker.port, **self.settings).start()
        # Subscribed once "online" shows: the status is published after SUBSCRIBE.
        wait_for(lambda: len(self.statuses("online")) > seen or self._died(), "aggregator online")
        return self.agg

    def _died(self):
        if not self.agg.alive():
            raise AssertionError("aggregator exited:\n" + self.agg.output())
        return False

    def statuses(self, state):
        return [p for p in self.sub.payloads(STATUS) if p and p.get("state") == state]

    def publish(self, payload, ward="00001"):
        publish(self.broker.port, "wardpulse/v1/report/" + ward, payload)

    def acks(self, ward="00001"):
        acks = self.sub.payloads(ACK + ward)
        for a in acks:
            if jsonschema:
                jsonschema.validate(a, ACK_SCHEMA)
        return acks

    def wait_ack(self, count, ward="00001"):
        """Waits until `count` acks arrived on ack/<ward>; returns the last one."""
        acks = wait_for(lambda: len(self.acks(ward)) >= count and self.acks(ward),
                        "%d ack(s) on %s%s" % (count, ACK, ward))
        assert len(acks) == count, "more acks than expected: %s" % acks
        return acks[-1]

    def values(self):
        return export_values(self.agg.db)

    def rejected(self):
        return json.loads(cli("export", "--db", self.agg.db, "--format", "json",
                              "--rejected").stdout)

    def assert_serving(self, seq, ward="00001", acks_before=None):
        """A valid report after whatever came before is still stored and acked."""
        assert self.agg.alive(), self.agg.output()
        before = len(self.acks(ward)) if acks_before is None else acks_before
        self.publish(report(seq, ward=ward), ward)
        ack = self.wait_ack(before + 1, ward)
        assert any(r["seq"] == seq and r["ward"] == ward for r in self.values())
        assert self.agg.alive(), self.agg.output()
        return ack


def test_valid_report_is_stored_and_acked():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.publish(json.dumps(report(1), ensure_ascii=False))
        ack = s.wait_ack(1)
        assert ack == {"v": 1, "ward": "00001", "stream": STREAM, "acked_through": 1,
                       "rejected": []}, ack
        rows = s.values()
        got = {(r["ward"], r["period"], r["indicator"], r["value"], r["stream"], r["seq"])
               for r in rows}
        assert got == {("00001", "2022-05-03", "cases_new_community", 1, STREAM, 1),
                       ("00001", "2022-05-03", "vacc_18p_dose3_cum", 12001, STREAM, 1)}, rows
        assert all(r["received_at"].endswith("+07:00") for r in rows), rows
        online = s.statuses("online")[-1]
        assert online["v"] == 1 and online["version"] and online["since"], online
        # The raw payload is kept byte for byte in the audit trail.
        with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
            topic, payload = db.execute("SELECT topic, payload FROM reports").fetchone()
        assert topic == "wardpulse/v1/report/00001"
        assert json.loads(payload) == report(1)
        assert s.agg.stop() == 0, s.agg.output()


def test_schema_violation_is_rejected_with_reason():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.publish(report(1))
        s.wait_ack(1)
        s.publish(report(2, cases_new_community=-1))
        ack = s.wait_ack(2)
        assert ack["acked_through"] == 2, ack
        assert [r["seq"] for r in ack["rejected"]] == [2], ack
        reason = ack["rejected"][0]["reason"]
        assert "values.cases_new_community" in reason, reason
        rows = s.rejected()
        assert len(rows) == 1, rows
        assert rows[0]["seq"] == 2 and rows[0]["ward"] == "00001" and rows[0]["stream"] == STREAM
        assert rows[0]["reason"] == reason and rows[0]["topic"] == "wardpulse/v1/report/00001"
        assert "values.cases_new_community" in s.agg.output()  # logged as a warning
        s.assert_serving(3)
        assert not any(r["seq"] == 2 for r in s.values())


def test_payload_ward_differs_from_topic():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.publish(report(1, ward="00004"), ward="00001")
        ack = s.wait_ack(1, ward="00001")
        assert ack["acked_through"] == 1 and ack["ward"] == "00001", ack
        assert ack["rejected"] == [{"seq": 1, "reason":
                                    "payload ward 00004 does not match topic ward 00001"}], ack
        time.sleep(0.3)
        assert s.acks("00004") == [], "ack went to the payload's ward"
        rows = s.rejected()
        assert len(rows) == 1 and rows[0]["ward"] == "00001", rows
        assert "does not match topic ward" in rows[0]["reason"]
        assert s.values() == []
        s.assert_serving(2)


def test_non_json_payload_is_kept_with_topic_and_reason():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.publish("cases=12 this is not json")
        s.publish(b"\xff\xfe binary \x00 junk")
        s.publish("")
        wait_for(lambda: len(s.rejected()) == 3, "3 rejected rows")
        rows = s.rejected()
        assert all(r["topic"] == "wardpulse/v1/report/00001" for r in rows), rows
        assert all(r["seq"] is None for r in rows), rows
        assert "not valid JSON at byte 0" in rows[0]["reason"], rows
        assert "not valid UTF-8" in rows[1]["reason"], rows
        assert "empty" in rows[2]["reason"], rows
        # The raw bytes are kept.
        with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
            payloads = [p for (p,) in db.execute("SELECT payload FROM rejected ORDER BY id")]
        assert payloads[1] == b"\xff\xfe binary \x00 junk", payloads
        assert s.acks() == [], "nothing to ack for a payload without seq"
        s.assert_serving(1, acks_before=0)


def test_oversize_payload_is_rejected_and_cut():
    with TempDir() as tmp:
        s = Setup(tmp, max_payload=1024)
        big = report(1)
        big["note"] = "x" * 2000
        text = json.dumps(big)
        s.publish(text)
        wait_for(lambda: len(s.rejected()) == 1, "oversize rejected")
        assert "exceeds max_payload (1024)" in s.rejected()[0]["reason"]
        with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
            payload, size = db.execute("SELECT payload, payload_bytes FROM rejected").fetchone()
        assert payload == text.encode()[:1024] and size == len(text), (len(payload), size)
        s.assert_serving(1, acks_before=0)


def test_same_report_twice_is_stored_once_and_acked_twice():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.publish(report(1))
        s.wait_ack(1)
        s.publish(report(1))
        ack = s.wait_ack(2)
        assert ack["acked_through"] == 1
        assert len([r for r in s.values() if r["seq"] == 1]) == 2  # two indicators, once each
        # A re-sent rejected report is told its reason again, and stored once.
        s.publish(report(2, cases_new_community=-5))
        first = s.wait_ack(3)
        s.publish(report(2, cases_new_community=-5))
        again = s.wait_ack(4)
        assert first["rejected"] == again["rejected"] and len(again["rejected"]) == 1, again
        assert len(s.rejected()) == 1


def test_gap_holds_the_ack_until_filled():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.publish(report(1))
        assert s.wait_ack(1)["acked_through"] == 1
        s.publish(report(3))
        assert s.wait_ack(2)["acked_through"] == 1, "acked past the gap at seq 2"
        assert any(r["seq"] == 3 for r in s.values()), "out-of-order report not stored"
        s.publish(report(5, cases_new_community=-1))   # rejected, beyond the gap
        ack = s.wait_ack(3)
        assert ack["acked_through"] == 1 and ack["rejected"] == [], ack
        s.publish(report(2))
        assert s.wait_ack(4)["acked_through"] == 3
        s.publish(report(4))
        ack = s.wait_ack(5)
        # 4 fills the last gap: the ack covers the rejected 5 and names it.
        assert ack["acked_through"] == 5 and [r["seq"] for r in ack["rejected"]] == [5], ack
        # A second stream of the same ward is counted on its own.
        s.publish(report(1, stream="00000000000000ff"))
        acks = wait_for(lambda: [a for a in s.acks() if a["stream"] == "00000000000000ff"],
                        "ack of the second stream")
        assert acks[0]["acked_through"] == 1


def test_kill9_and_restart_keeps_data_and_ack_state():
    with TempDir() as tmp:
        s = Setup(tmp)
        for seq in (1, 2, 4):
            s.publish(report(seq))
        # 1, 2 and 4 may share a commit, so count stored values, not acks.
        wait_for(lambda: len(s.values()) == 6, "reports 1, 2, 4 stored")
        wait_for(lambda: s.acks() and s.acks()[-1]["acked_through"] == 2, "ack through 2")
        assert all(a["acked_through"] <= 2 for a in s.acks()), s.acks()
        s.agg.kill9()
        wait_for(lambda: s.statuses("offline"), "Last Will offline")
        # Published while the aggregator is down: the broker queues it for the session.
        acks = len(s.acks())
        s.publish(report(3))
        s.start_aggregator()
        ack = s.wait_ack(acks + 1)
        assert ack["acked_through"] == 4, ack
        assert sorted({r["seq"] for r in s.values()}) == [1, 2, 3, 4]
        with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
            assert db.execute("SELECT acked_through FROM streams").fetchall() == [(4,)]
            assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
        s.agg.kill9()
        s.start_aggregator()
        s.publish(report(2))   # a duplicate after a second restart: acked through 4 at once
        assert s.wait_ack(acks + 2)["acked_through"] == 4
        assert len(s.values()) == 8


V3_DUMP = os.path.join(SRC, "tests", "data", "aggregator-v3.sql")


def load_old_database(path, version):
    """A database as wardpulse 0.1.0 left it (tests/data/aggregator-v3.sql: seq 1 and 3
    stored, seq 2 rejected), or as version 2 had it: without the rollup tables, which 1.x
    daemons created outside the migrations only where a rollup was configured."""
    with open(V3_DUMP, encoding="utf-8") as f:
        dump = f.read()
    with sqlite3.connect(path) as db:
        db.executescript(dump)
        if version == 2:
            db.execute("DROP TABLE rollup_sent")
            db.execute("DROP TABLE rollup_files")
            db.execute("PRAGMA user_version = 2")
    db.close()


def test_older_databases_are_migrated_in_place():
    """Version 2 (with or without rollup tables) and version 3 files come up as the newest version (7)
    with their data: the reports, the rejection, the ack state, readable by the operator's
    command; and the content of old rows still tells a duplicate from a reused seq."""
    for version, had_rollup in ((2, False), (2, True), (3, False)):
        with TempDir() as tmp:
            db_path = os.path.join(tmp, "aggregator.db")
            load_old_database(db_path, version)
            if had_rollup and version == 2:
                with sqlite3.connect(db_path) as db:
                    db.execute("CREATE TABLE rollup_sent (unit TEXT NOT NULL, period TEXT NOT NULL,"
                               " indicator TEXT NOT NULL, value INTEGER NOT NULL, file_id INTEGER"
                               " NOT NULL, PRIMARY KEY (unit, indicator, period)) WITHOUT ROWID")
                    db.execute("INSERT INTO rollup_sent VALUES ('001', '2022-05-03', "
                               "'cases_new_community', 7, 1)")
                db.close()
            s = Setup(tmp)
            out = s.agg.output()
            assert "database schema migrated to version 4" in out, out
            assert "database schema migrated to version 7" in out, out
            if version == 2:
                assert "database schema migrated to version 3" in out, out
            # The same seq 1 again: a duplicate (its old row has no hash: decoded, compared).
            s.publish({"v": 1, "ward": "00001", "stream": STREAM, "seq": 1,
                       "period": "2022-05-03", "observed_at": "2022-05-03T17:05:00+07:00",
                       "values": {"cases_new_community": 5}, "tasks": {"ward-scenario": "done"}})
            ack = s.wait_ack(1)
            assert ack["acked_through"] == 3 and [r["seq"] for r in ack["rejected"]] == [2], ack
            # Seq 3 with other figures: a reused seq, refused with the reason.
            s.publish(report(3, cases_new_community=77))
            ack = s.wait_ack(2)
            assert [r["seq"] for r in ack["rejected"]] == [2, 3], ack
            assert "already names another report" in ack["rejected"][1]["reason"], ack
            s.publish(report(4))
            assert s.wait_ack(3)["acked_through"] == 4
            assert s.agg.stop() == 0
            with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
                assert db.execute("PRAGMA user_version").fetchone()[0] == 7
                # Rows from before version 5 have no committed_at: judged by arrival.
                old = db.execute("SELECT COUNT(*) FROM reports WHERE seq IN (1, 3) AND "
                                 "committed_at IS NULL AND judged_ms IS NULL").fetchone()[0]
                assert old == 2, old
                sent = db.execute("SELECT unit FROM rollup_sent").fetchall()
                assert sent == ([("001",)] if had_rollup else []), sent
                assert db.execute("SELECT COUNT(*) FROM rollup_files").fetchone()[0] == 0
                # Version 7 packs the values in force (values_in_force): one row per unit
                # and period; every value of every report stays in reports.payload.
                assert db.execute("SELECT COUNT(*) FROM values_in_force").fetchone()[0] == 1
                assert "current_values" not in {n for (n,) in db.execute(
                    "SELECT name FROM sqlite_master")}
            db.close()
            # An old row is taken over with its stream and seq: seq 4 supersedes it.
            cur = [(r["value"], r["stream"], r["seq"]) for r in json.loads(cli(
                "export", "--db", s.agg.db, "--format", "json", "--current").stdout)
                   if r["indicator"] == "cases_new_community" and r["ward"] == "00001"]
            assert cur == [(4, STREAM, 4)], cur
            assert sorted({r["seq"] for r in s.values()}) == [1, 3, 4]
            assert [r["seq"] for r in s.rejected()] == [2, 3]


def test_failed_commit_sends_no_ack_and_keeps_running():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.publish(report(1))
        s.wait_ack(1)
        # Another writer holds the database longer than the busy timeout: BEGIN fails.
        db = sqlite3.connect(s.agg.db, isolation_level=None, timeout=1)
        db.execute("BEGIN IMMEDIATE")
        try:
            s.publish(report(2))
            wait_for(lambda: "not acked" in s.agg.output(), "the failed commit logged",
                     timeout=20)
            assert len(s.acks()) == 1, "acked a report that was not committed"
        finally:
            db.execute("ROLLBACK")
            db.close()
        assert s.agg.alive(), s.agg.output()
        s.publish(report(2))   # what the agent does when no ack comes
        assert s.wait_ack(2)["acked_through"] == 2
        assert sorted({r["seq"] for r in s.values()}) == [1, 2]


def test_burst_is_group_committed():
    with TempDir() as tmp:
        s = Setup(tmp, batch_max=50, batch_delay="100ms")
        lines = "".join(json.dumps(report(seq)) + "\n" for seq in range(1, 301))
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(s.broker.port), "-q", "1",
                        "-t", "wardpulse/v1/report/00001", "-l"], input=lines.encode(),
                       check=True, timeout=60)
        wait_for(lambda: s.acks() and s.acks()[-1]["acked_through"] == 300, "ack through 300")
        assert len(s.acks()) < 300, "one ack per report: no group commit"
        assert len(s.values()) == 600


def test_ack_never_covers_a_rejection_it_does_not_name():
    with TempDir() as tmp:
        # All 1005 in one batch: more rejections than one ack may list (1000).
        s = Setup(tmp, batch_max=5000, batch_delay="3s")
        lines = "".join(json.dumps(report(seq, cases_new_community=-seq)) + "\n"
                        for seq in range(1, 1006))
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(s.broker.port), "-q", "1",
                        "-t", "wardpulse/v1/report/00001", "-l"], input=lines.encode(),
                       check=True, timeout=60)
        ack = s.wait_ack(1)
        assert ack["acked_through"] == 1000, ack["acked_through"]
        assert [r["seq"] for r in ack["rejected"]] == list(range(1, 1001))
        assert len(s.rejected()) == 1005
        s.publish(report(1001, cases_new_community=-1001))   # the agent re-sends the rest
        ack = s.wait_ack(2)
        assert ack["acked_through"] == 1005, ack
        # An agent that does not say what it still holds hears again of the refusals
        # among the stream's last 100 seqs: one that missed an ack still learns why.
        assert [r["seq"] for r in ack["rejected"]] == list(range(906, 1006)), ack


def test_sigterm_commits_acks_and_says_offline():
    with TempDir() as tmp:
        # A long delay: the report is still in hand when SIGTERM arrives.
        s = Setup(tmp, batch_delay="10s")
        s.publish(report(1))
        time.sleep(1.0)   # received (PUBACKed), in the batch, not committed
        s.agg.proc.send_signal(signal.SIGHUP)   # logged, ignored
        time.sleep(0.2)
        assert s.agg.alive() and s.acks() == []
        assert s.agg.stop() == 0, s.agg.output()
        assert s.wait_ack(1)["acked_through"] == 1
        wait_for(lambda: s.statuses("offline"), "offline status")
        assert s.statuses("offline")[-1].get("since"), s.statuses("offline")
        assert "SIGHUP" in s.agg.output()
        assert len(s.values()) == 2


def test_config_and_cli_errors():
    with TempDir() as tmp:
        conf = os.path.join(tmp, "a.conf")
        with open(conf, "w") as f:
            f.write("db_path %s/x.db\nbatch_max 10\n" % tmp)
        r = subprocess.run([AGGREGATOR_BIN, "-c", conf, "--test-config"], capture_output=True,
                           text=True)
        assert r.returncode == 0 and "configuration OK" in r.stdout, r
        with open(conf, "a") as f:
            f.write("plan_dir %s/nope\n" % tmp)
        r = subprocess.run([AGGREGATOR_BIN, "-c", conf, "--test-config"], capture_output=True,
                           text=True)
        assert r.returncode != 0 and "plan_dir" in r.stderr, r
        r = subprocess.run([AGGREGATOR_BIN, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "batch_delay" in r.stdout and "max_payload" in r.stdout
        assert not os.path.exists(os.path.join(tmp, "x.db"))

        missing = os.path.join(tmp, "missing.db")
        r = cli("export", "--db", missing, check=False)
        assert r.returncode == 1 and "does not exist" in r.stderr, r
        assert not os.path.exists(missing), "export created the database"
        r = cli("export", "--db", missing, "--format", "xml", check=False)
        assert r.returncode == 2, r
        r = cli("export", "--help")
        assert r.returncode == 0 and "--rejected" in r.stdout


def test_export_csv_filters_and_current_values():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.publish(report(1, period="2022-05-03", cases_new_community=5))
        s.publish(report(2, period="2022-05-04", cases_new_community=7))
        s.publish(report(1, ward="00004", period="2022-05-03", cases_new_community=1), "00004")
        # A correction of 05-03, observed later: supersedes, and both stay in the trail.
        fix = report(3, period="2022-05-03", cases_new_community=6)
        fix["observed_at"] = "2022-05-04T09:00:00+07:00"
        s.publish(fix)
        # From another stream (a re-installed agent), an older observation arriving last
        # does not supersede.
        old = report(1, stream="0123456789abcdef", period="2022-05-03", cases_new_community=99)
        old["observed_at"] = "2022-05-03T08:00:00+07:00"
        s.publish(old)
        wait_for(lambda: len(s.values()) == 5, "5 values")
        csv = cli("export", "--db", s.agg.db).stdout.splitlines()
        assert csv[0] == "ward,period,indicator,value,stream,seq,received_at,committed_at", csv
        assert len(csv) == 6
        only = cli("export", "--db", s.agg.db, "--ward", "00001", "--from", "2022-05-04",
                   "--format", "json").stdout
        rows = json.loads(only)
        assert [(r["period"], r["value"]) for r in rows] == [("2022-05-04", 7)], rows
        current = json.loads(cli("export", "--db", s.agg.db, "--ward", "00001", "--to",
                                 "2022-05-03", "--current", "--format", "json").stdout)
        assert [(r["seq"], r["value"]) for r in current] == [(3, 6)], current
        # Within one stream the later seq supersedes, whatever observed_at says: a ward
        # PC whose clock was set back must not make its correction vanish.
        back = report(4, period="2022-05-03", cases_new_community=8)
        back["observed_at"] = "2022-05-02T07:00:00+07:00"
        s.publish(back)
        wait_for(lambda: len(s.values()) == 6, "6 values")
        current = json.loads(cli("export", "--db", s.agg.db, "--ward", "00001", "--to",
                                 "2022-05-03", "--current", "--format", "json").stdout)
        assert [(r["seq"], r["value"]) for r in current] == [(4, 8)], current


if __name__ == "__main__":
    run_tests(globals())
