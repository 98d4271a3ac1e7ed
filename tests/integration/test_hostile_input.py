"""Hostile payloads against the real aggregator and a real mosquitto (issue 5, "Hostile input").

Every hostile message is published on wardpulse/v1/report/<...> like any report. For each
one the aggregator must
  - log a line naming the problem ("rejected message on TOPIC: REASON"),
  - keep it in its rejected table with that reason (read with `wardpulse export --rejected`),
  - when the message carries a usable stream and seq, send an ack that names the seq with the
    same reason,
  - and keep serving: a valid report published right after it is stored and acked.
Each test ends by stopping the aggregator with SIGTERM: it must still be alive then and exit 0
(in the AddressSanitizer build that also proves nothing leaked).

The cases that need a plan (unknown indicators and tasks) run with plan_dir set to
plans/ba-dinh-2022; they are in test_under_plan_unknown_indicators_and_tasks_are_rejected.
"""
import csv
import io
import json
import os
import sqlite3
import subprocess
import time

from harness import (SRC, Aggregator, Broker, Subscriber, TempDir, cli, export_values,
                     run_tests, wait_for)

import paho.mqtt.client as mqtt

STREAM = "feedc0de00000001"
TOPIC = "wardpulse/v1/report/00001"
ACK = "wardpulse/v1/ack/"
STATUS = "wardpulse/v1/aggregator/status"
PLAN = os.path.join(SRC, "plans", "ba-dinh-2022")
MAX_PAYLOAD = 65536          # the aggregator's default max_payload
BROKER_LIMIT = 262144        # message_size_limit of broker-config/mosquitto-dev.conf

try:
    import jsonschema
    with open(os.path.join(SRC, "schemas", "ack.schema.json"), encoding="utf-8") as _f:
        ACK_SCHEMA = json.load(_f)
except (ImportError, OSError):
    jsonschema = ACK_SCHEMA = None


def report(seq, ward="00001", stream=STREAM, **fields):
    """A valid report (under the Ba Đình plan too); fields replace or add members."""
    r = {"v": 1, "ward": ward, "stream": stream, "seq": seq, "period": "2022-05-03",
         "observed_at": "2022-05-03T17:05:00+07:00",
         "values": {"cases_new_community": seq % 100, "vacc_18p_dose3_cum": 12000 + seq},
         "tasks": {"ward-scenario": "done"}}
    r.update(fields)
    return r


def text(obj):
    """The JSON bytes of obj, UTF-8, non-ASCII kept as is."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


class Setup:
    """A broker, the aggregator, a subscriber on every ack and the aggregator's status, and a
    publisher (paho, QoS 1). Tracks the seqs of STREAM so that hostile and valid reports
    interleave without gaps."""

    def __init__(self, tmp, **settings):
        self.tmp = tmp
        self.broker = Broker(tmp).start()
        self.sub = Subscriber(self.broker.port, ACK + "#", STATUS)
        self.agg = Aggregator(tmp, self.broker.port, **settings).start()
        wait_for(lambda: self._online(), "aggregator online")
        self.pub = mqtt.Client(client_id="test-pub-%d" % os.getpid(), clean_session=True)
        self.pub.connect("127.0.0.1", self.broker.port)
        self.pub.loop_start()
        self.seq = 0
        self.valid_seqs = []

    def _online(self):
        if not self.agg.alive():
            raise AssertionError("aggregator exited:\n" + self.agg.output())
        return any(p and p.get("state") == "online" for p in self.sub.payloads(STATUS))

    def next_seq(self):
        self.seq += 1
        return self.seq

    def send(self, payload, topic=TOPIC):
        info = self.pub.publish(topic, payload, qos=1)
        info.wait_for_publish(10)
        assert info.is_published(), "publish on %s not acknowledged by the broker" % topic

    def acks(self):
        acks = self.sub.payloads(None)
        acks = [a for a in acks if a and "acked_through" in a]
        if jsonschema:
            for a in acks:
                jsonschema.validate(a, ACK_SCHEMA)
        return acks

    def rejected(self):
        return json.loads(cli("export", "--db", self.agg.db, "--format", "json",
                              "--rejected").stdout)

    def values(self):
        return export_values(self.agg.db)

    def expect_rejected(self, payload, reason, seq=None, topic=TOPIC, exact=True, follow=True):
        """Publishes payload; the aggregator must reject it with reason (the exact text, or a
        part of it when exact is False), log it, keep it, ack seq with it when seq is given,
        and then store a valid report. Returns the rejected row."""
        before = len(self.rejected())
        self.send(payload, topic)
        rows = wait_for(lambda: (lambda r: len(r) > before and r)(self.rejected()),
                        "rejection of %r" % payload[:80])
        assert len(rows) == before + 1, rows[before:]
        row = rows[-1]
        assert row["topic"] == topic, row
        if exact:
            assert row["reason"] == reason, (row["reason"], reason)
        else:
            assert reason in row["reason"], (row["reason"], reason)
        assert row["seq"] == seq, (row, seq)
        line = "rejected message on %s: %s" % (topic, row["reason"])
        wait_for(lambda: line in self.agg.output(), "the log line %r" % line)
        if seq is not None:
            wanted = {"seq": seq, "reason": row["reason"]}
            wait_for(lambda: any(wanted in a["rejected"] for a in self.acks()
                                 if a["stream"] == STREAM),
                     "an ack naming seq %d with its reason" % seq)
        if follow:
            self.assert_serving()
        return row

    def expect_stored(self, payload, seq):
        """Publishes a valid report of STREAM with this seq; waits until it is acked."""
        self.send(payload)
        wait_for(lambda: any(a["stream"] == STREAM and a["acked_through"] >= seq
                             for a in self.acks()), "an ack through seq %d" % seq)
        self.valid_seqs.append(seq)
        assert self.agg.alive(), self.agg.output()

    def assert_serving(self):
        """A valid report after whatever came before is stored and acked."""
        assert self.agg.alive(), self.agg.output()
        seq = self.next_seq()
        self.expect_stored(text(report(seq)), seq)

    def raw_payload(self, table, seq, stream=STREAM):
        with sqlite3.connect("file:%s?mode=ro" % self.agg.db, uri=True) as db:
            row = db.execute("SELECT payload FROM %s WHERE stream = ? AND seq = ?" % table,
                             (stream, seq)).fetchone()
        assert row, "no %s row for seq %d" % (table, seq)
        p = row[0]
        return p.encode("utf-8") if isinstance(p, str) else p

    def finish(self):
        """Every valid report is stored, the database is intact, the daemon is alive and exits
        0 on SIGTERM."""
        stored = {r["seq"] for r in self.values() if r["stream"] == STREAM}
        assert stored == set(self.valid_seqs), (sorted(stored), self.valid_seqs)
        with sqlite3.connect("file:%s?mode=ro" % self.agg.db, uri=True) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master "
                                               "WHERE type IN ('table', 'view')")}
        assert {"reports", "values_in_force", "report_values", "rejected", "streams"} <= tables, \
            tables   # report_values: a view of reports.payload since schema version 7
        assert self.agg.alive(), self.agg.output()
        self.pub.loop_stop()
        self.pub.disconnect()
        code = self.agg.stop()
        assert code == 0, "exit status %s:\n%s" % (code, self.agg.output()[-4000:])
        self.sub.close()


def test_bytes_that_are_not_json_are_rejected_with_the_offending_byte():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.assert_serving()
        valid = text(report(99, note="AB"))

        # Not UTF-8: raw 0xff inside a JSON string, an overlong '/', a UTF-16 surrogate.
        for bad in (b"\xff", b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"):
            payload = valid.replace(b"AB", b"A" + bad + b"B")
            at = valid.index(b"AB") + 1
            s.expect_rejected(payload, "payload is not valid UTF-8 at byte %d" % at)
        # The raw bytes are kept as they came.
        with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
            kept = [bytes(p) if not isinstance(p, str) else p.encode()
                    for (p,) in db.execute("SELECT payload FROM rejected ORDER BY id")]
        assert kept[0] == valid.replace(b"AB", b"A\xffB"), kept[0]

        # Truncated JSON, at the start, in the middle of a string, before the last brace.
        for cut in (1, valid.index(b"AB") + 1, len(valid) - 1):
            s.expect_rejected(valid[:cut], "payload is not valid JSON at byte %d: " % cut,
                              exact=False)
        s.expect_rejected(valid + b" x", "payload is not valid JSON at byte %d: data after the "
                          "JSON value" % (len(valid) + 1))
        s.expect_rejected(b"\xef\xbb\xbf" + valid, "payload is not valid JSON at byte 0: "
                          "unexpected character")

        # 10,000 levels of nesting, open and balanced: refused at the 65th level.
        for payload, at in ((b"[" * 10000, 64), (b"[" * 10000 + b"]" * 10000, 64),
                            (b'{"a":' * 10000, 320),
                            (b'{"a":' * 10000 + b"1" + b"}" * 10000, 320)):
            s.expect_rejected(payload, "payload is not valid JSON at byte %d: nested too deeply"
                              % at)

        # NaN and infinities as bare tokens, where a count goes and as the whole payload.
        for token, why, shift in ((b"NaN", "unexpected character", 0),
                                  (b"Infinity", "unexpected character", 0),
                                  (b"-Infinity", "digit expected in a number", 1)):
            payload = text(report(99)).replace(b'"cases_new_community": 99',
                                               b'"cases_new_community": ' + token)
            at = payload.index(token) + shift
            s.expect_rejected(payload, "payload is not valid JSON at byte %d: %s" % (at, why))
            s.expect_rejected(token, "payload is not valid JSON at byte %d: %s" % (shift, why))

        # NUL escaped as \u0000 (it would cut a C string short) and lone surrogates.
        for member in (b'"note": "a\\u0000b"', b'"note": "\\ud800"', b'"note": "\\udc00x"'):
            payload = valid.replace(b'"note": "AB"', member)
            at = payload.index(b"\\u")
            why = "\\u0000 in a string" if b"0000" in member else "unpaired surrogate in a string" \
                if b"d800" in member else "invalid \\u escape in a string"
            s.expect_rejected(payload, "payload is not valid JSON at byte %d: %s" % (at, why))
        payload = valid.replace(b'"values": {', b'"values": {"x\\u0000": 1, ')
        s.expect_rejected(payload, "payload is not valid JSON at byte %d: \\u0000 in a string"
                          % payload.index(b"\\u0000"))

        # Empty, and JSON that is not an object.
        s.expect_rejected(b"", "payload is empty")
        for payload in (b"[]", b'"x"', b"42", b"null", b"true", b" [ {} ] "):
            s.expect_rejected(payload, "(root): must be an object")

        # Duplicate keys: the identity is usable, so the ack names the seq.
        seq = s.next_seq()
        payload = text(report(seq)).replace(b'"values": {', b'"values": {"deaths": 1, "deaths": 0, ')
        s.expect_rejected(payload, 'values: duplicate key "deaths"', seq=seq)
        s.finish()


def test_numbers_that_are_not_counts_are_rejected_and_acked():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.assert_serving()
        # Out of range, negative, or not an integer where a count goes: the ack names the seq.
        for literal, reason in ((b"1e300", "must be ≤ 1000000000000"),
                                (b"9223372036854775808", "must be ≤ 1000000000000"),
                                (b"18446744073709551616", "must be ≤ 1000000000000"),
                                (b"1000000000001", "must be ≤ 1000000000000"),
                                (b"-1", "must be ≥ 0"),
                                (b"-9223372036854775809", "must be ≥ 0"),
                                (b"-1e300", "must be ≥ 0"),
                                (b"1.5", "must be an integer"), (b"1e-300", "must be an integer"),
                                (b'"12"', "must be an integer"), (b"true", "must be an integer"),
                                (b"null", "must be an integer"), (b"[12]", "must be an integer"),
                                (b'{"n": 12}', "must be an integer")):
            seq = s.next_seq()
            payload = text(report(seq, values={"deaths": 0, "cases_new_community": 7})).replace(
                b'"cases_new_community": 7', b'"cases_new_community": ' + literal)
            s.expect_rejected(payload, "values.cases_new_community: " + reason, seq=seq)

        # The bounds themselves are stored exactly.
        seq = s.next_seq()
        s.expect_stored(text(report(seq, values={"cases_new_community": 0,
                                                 "vacc_18p_dose3_cum": 10 ** 12})), seq)
        got = {(r["indicator"], r["value"]) for r in s.values() if r["seq"] == seq}
        assert got == {("cases_new_community", 0), ("vacc_18p_dose3_cum", 10 ** 12)}, got

        # A seq that is no seq: nobody to ack, but kept with the reason.
        for literal, reason in ((b"9223372036854775808", "seq: must be ≤ 999999999999999"),
                                (b"1e300", "seq: must be ≤ 999999999999999"),
                                (b"1000000000000000", "seq: must be ≤ 999999999999999"),
                                (b"0", "seq: must be ≥ 1"),
                                (b"-1", "seq: must be ≥ 1"),
                                (b"1.5", "seq: must be an integer"),
                                (b'"1"', "seq: must be an integer"),
                                (b"NaN", None)):
            payload = text(report(424242)).replace(b'"seq": 424242', b'"seq": ' + literal)
            if reason is None:
                s.expect_rejected(payload, "payload is not valid JSON at byte %d: unexpected "
                                  "character" % payload.index(b"NaN"))
            else:
                s.expect_rejected(payload, reason)
        # The largest seq is a seq (another stream: this one must not get a gap).
        big = "00000000000000ff"
        s.send(text(report(999999999999999, stream=big, values={"deaths": 0})))
        wait_for(lambda: any(r["stream"] == big and r["seq"] == 999999999999999
                             for r in s.values()), "seq 999999999999999 stored")

        # A version this aggregator does not speak.
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, v=2)), "v: must be 1", seq=seq, exact=False)
        s.finish()


def test_periods_and_instants_that_do_not_exist():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.assert_serving()
        for period, reason in (("2022-02-30", "period: 2022-02-30 is not a real date"),
                               ("2022-02-29", "period: 2022-02-29 is not a real date"),
                               ("2022-13-01", "period: 2022-13-01 is not a real date"),
                               ("2022-00-10", "period: 2022-00-10 is not a real date"),
                               ("2022-W54", "period: ISO week 2022-W54 does not exist"),
                               ("2021-W53", "period: ISO week 2021-W53 does not exist"),
                               ("2022-W00", "period: ISO week 2022-W00 does not exist"),
                               ("2022-5-3", "period")):
            seq = s.next_seq()
            s.expect_rejected(text(report(seq, period=period)), reason, seq=seq,
                              exact=period != "2022-5-3")
        # Real ones are stored: a leap day, a year with 53 ISO weeks.
        for period in ("2024-02-29", "2020-W53"):
            seq = s.next_seq()
            s.expect_stored(text(report(seq, period=period)), seq)
            assert {r["period"] for r in s.values() if r["seq"] == seq} == {period}

        for observed, reason in (
                ("2022-05-03T17:05:00", "observed_at: 2022-05-03T17:05:00 has no UTC offset "
                 "(RFC 3339 needs one, e.g. 2022-05-03T17:05:00+07:00)"),
                ("2022-05-03T17:05:00.5", "observed_at: 2022-05-03T17:05:00.5 has no UTC offset"),
                ("2022-05-03 17:05:00+07:00", "observed_at: 2022-05-03 17:05:00+07:00 is not an "
                 "RFC 3339 date-time with offset (e.g. 2022-05-03T17:05:00+07:00)"),
                ("2022-05-03T24:00:00+07:00", "is not an RFC 3339 date-time with offset"),
                ("2022-02-30T17:05:00+07:00", "is not an RFC 3339 date-time with offset"),
                ("2022-05-03T17:05:00+25:00", "is not an RFC 3339 date-time with offset"),
                ("\u0000", None),
                ("x" * 5000, "observed_at: not an RFC 3339 date-time with offset"),
                ("2022-05-03T17:05:00." + "1" * 5000 + "+07:00",
                 "observed_at: longer than 39 characters"),
                (1651572300, "observed_at")):
            if observed == "\u0000":   # not JSON: no seq is seen
                payload = text(report(s.seq + 1, observed_at=observed))
                s.expect_rejected(payload, "payload is not valid JSON at byte %d: \\u0000 in a "
                                  "string" % payload.index(b"\\u0000"))
                continue
            seq = s.next_seq()
            s.expect_rejected(text(report(seq, observed_at=observed)), reason, seq=seq,
                              exact=False)
        s.finish()


# Text a clerk may type, stored as sent; and the same as keys, which are refused.
HOSTILE_STRINGS = [
    "'); DROP TABLE reports;--",
    "\"; DELETE FROM rejected; --",
    "1' OR '1'='1",
    "$(touch {tmp}/pwned-dollar)",
    "`touch {tmp}/pwned-backtick`",
    "; touch {tmp}/pwned-semicolon #",
    "| touch {tmp}/pwned-pipe",
    "%s%s%s%n%n%x%p",
    "\\",
    "a,b\"c\r\nd\te",
    "Phường Phúc Xá — ghi chú 😷 \u2028\u2029",
    "<script>alert(1)</script>",
]


def test_metacharacters_are_stored_as_data_or_refused_as_keys():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.assert_serving()
        strings = [h.replace("{tmp}", tmp) for h in HOSTILE_STRINGS]
        # Valid notes: stored byte for byte (the audit trail keeps the raw payload).
        for note in strings:
            seq = s.next_seq()
            payload = text(report(seq, note=note))
            s.expect_stored(payload, seq)
            assert s.raw_payload("reports", seq) == payload
            assert json.loads(s.raw_payload("reports", seq))["note"] == note
        # Escaped forms of the same (\u0027 is ', a surrogate pair is one emoji).
        seq = s.next_seq()
        payload = text(report(seq, note="X")).replace(
            b'"note": "X"', b'"note": "\\u0027); DROP TABLE reports;--\\ud83d\\ude37\\"\\\\"')
        s.expect_stored(payload, seq)
        assert s.raw_payload("reports", seq) == payload
        assert json.loads(s.raw_payload("reports", seq))["note"] == "'); DROP TABLE reports;--😷\"\\"

        # As keys of values and tasks they are no indicator or task id: refused, and the
        # reason quotes them as they came.
        for key in strings:
            seq = s.next_seq()
            s.expect_rejected(text(report(seq, values={"deaths": 0, key: 1})),
                              # control characters become spaces in a reason (log, ack)
                              'values: unknown property "%s"' % key.replace("\r", " ")
                              .replace("\n", " ").replace("\t", " "), seq=seq)
        for key in strings[:4]:
            seq = s.next_seq()
            s.expect_rejected(text(report(seq, tasks={key: "done"})),
                              'tasks: unknown property "%s"' % key, seq=seq)
        # As the payload's ward: the topic's ward is told (stream and seq are usable).
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, ward=strings[0])), "ward", seq=seq, exact=False)
        # As the stream: no stream to ack.
        row = s.expect_rejected(text(report(s.seq + 1, stream=strings[1])),
                                "stream: must match pattern ^[0-9a-f]{16}$")
        assert row["stream"] is None, row
        # A task state that is not one.
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, tasks={"ward-scenario": strings[0]})),
                          "tasks.ward-scenario", seq=seq, exact=False)

        # Nothing was run, the database is whole, and both exports read back what is there.
        for name in ("pwned-dollar", "pwned-backtick", "pwned-semicolon", "pwned-pipe"):
            assert not os.path.exists(os.path.join(tmp, name)), name
        rows = s.rejected()
        csv_rows = list(csv.DictReader(io.StringIO(
            cli("export", "--db", s.agg.db, "--rejected", "--format", "csv").stdout,
            newline="")))
        assert [r["reason"] for r in csv_rows] == [r["reason"] for r in rows]
        assert [r["topic"] for r in csv_rows] == [r["topic"] for r in rows]
        s.finish()


def test_size_limits_of_aggregator_and_broker():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.assert_serving()
        # Exactly max_payload bytes is taken; one more is refused unparsed, its first
        # max_payload bytes kept and its size recorded.
        seq = s.next_seq()
        body = text(report(seq))
        exact = body[:-1] + b" " * (MAX_PAYLOAD - len(body)) + b"}"
        assert len(exact) == MAX_PAYLOAD
        s.expect_stored(exact, seq)
        over = body[:-1] + b" " * (MAX_PAYLOAD + 1 - len(body)) + b"}"
        s.expect_rejected(over, "payload of %d bytes exceeds max_payload (%d)"
                          % (MAX_PAYLOAD + 1, MAX_PAYLOAD))

        # Above max_payload, below the broker's limit: a values object of 10,000 keys.
        many = report(s.seq + 1, values={"i%05d" % i: i for i in range(10000)})
        payload = text(many)
        assert MAX_PAYLOAD < len(payload) < BROKER_LIMIT, len(payload)
        s.expect_rejected(payload, "payload of %d bytes exceeds max_payload (%d)"
                          % (len(payload), MAX_PAYLOAD))
        with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
            kept, size = db.execute("SELECT payload, payload_bytes FROM rejected "
                                    "ORDER BY id DESC LIMIT 1").fetchone()
        kept = kept.encode() if isinstance(kept, str) else bytes(kept)
        assert kept == payload[:MAX_PAYLOAD] and size == len(payload), (len(kept), size)

        # As many keys as fit under max_payload are taken, every one stored.
        seq = s.next_seq()
        fits = report(seq, values={"i%04d" % i: i for i in range(4000)})
        assert len(text(fits)) < MAX_PAYLOAD
        s.expect_stored(text(fits), seq)
        assert len([r for r in s.values() if r["seq"] == seq]) == 4000

        # Huge arrays inside a report that fits: refused by the schema, the ack says why.
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, note=[0] * 20000)), "note: must be a string",
                          seq=seq, exact=False)
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, values={"deaths": [0] * 20000})),
                          "values.deaths: must be an integer", seq=seq)

        # Above the broker's limit (a 1 MB array, 100,000 keys): the broker drops them and
        # the aggregator never sees them.
        before = len(s.rejected())
        huge_array = b"[" + b"0," * (512 * 1024) + b"0]"
        huge_object = text(report(s.seq + 1, values={"k%06d" % i: i for i in range(100000)}))
        for payload in (huge_array, huge_object):
            assert len(payload) > BROKER_LIMIT
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(s.broker.port),
                            "-q", "1", "-t", TOPIC, "-s"], input=payload, timeout=30,
                           capture_output=True)
        s.assert_serving()
        time.sleep(0.3)
        assert len(s.rejected()) == before, s.rejected()[before:]
        s.finish()


def test_topics_that_name_no_ward():
    with TempDir() as tmp:
        s = Setup(tmp)
        s.assert_serving()
        acks_before = len(s.acks())
        for topic in ("wardpulse/v1/report/abc", "wardpulse/v1/report/",
                      "wardpulse/v1/report/1", "wardpulse/v1/report/000001",
                      "wardpulse/v1/report/0000a",
                      "wardpulse/v1/report/'); DROP TABLE reports;--",
                      "wardpulse/v1/report/$(id)`id`;id"):
            row = s.expect_rejected(text(report(s.seq + 1)), "topic %s does not name a ward"
                                    % topic, topic=topic, follow=False)
            assert row["ward"] is None, row
        # Nobody to ack: no ack went anywhere.
        time.sleep(0.3)
        assert len(s.acks()) == acks_before, s.acks()[acks_before:]
        s.assert_serving()

        # report/+ does not match a deeper topic: never seen, neither stored nor rejected.
        before = len(s.rejected())
        s.send(text(report(s.seq + 1)), "wardpulse/v1/report/00001/extra")
        s.assert_serving()
        time.sleep(0.3)
        assert len(s.rejected()) == before
        s.finish()


def test_under_plan_unknown_indicators_and_tasks_are_rejected():
    """Needs the plan loader (plan_dir): the Ba Đình plan's catalog decides what is known."""
    with TempDir() as tmp:
        s = Setup(tmp, plan_dir=PLAN)
        s.assert_serving()
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, values={"cases_new_community": 1,
                                                   "made_up_indicator": 5})),
                          'values.made_up_indicator: indicator "made_up_indicator" is not in '
                          "the plan's catalog", seq=seq)
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, tasks={"ward-scenario": "done",
                                                  "launch-rockets": "done"})),
                          'tasks.launch-rockets: task "launch-rockets" is not in the plan\'s '
                          "catalog", seq=seq)
        # Many unknown indicators: the first one is named.
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, values={"i%04d" % i: i for i in range(4000)})),
                          'values.i0000: indicator "i0000" is not in the plan\'s catalog',
                          seq=seq)
        # A value the catalog's bounds call implausible.
        seq = s.next_seq()
        s.expect_rejected(text(report(seq, values={"cases_new_community": 5001})),
                          "values.cases_new_community: 5001 is outside the plausible range",
                          seq=seq, exact=False)
        s.finish()


if __name__ == "__main__":
    run_tests(globals())
