"""Hostile files and paths (issue 5, "Hostile input"): configuration files of both daemons,
and the files and paths given to the operator's command.

A configuration that is wrong stops a daemon before it starts anything: it exits non-zero
with one short, printable message naming the file and the line, creates no database or
outbox file, and never connects to the broker (a listening socket stands in for it and
must see no connection). `wardpulse validate` and `wardpulse export` refuse hostile files
and paths with a clear message, and export never creates or changes a file.
"""
import hashlib
import os
import random
import re
import socket
import subprocess

from harness import AGENT_BIN, AGGREGATOR_BIN, CLI_BIN, TempDir, cli, run_tests

VALID_REPORT = (b'{"v":1,"ward":"00001","stream":"9f1c2a7e4b5d6c3a","seq":1,'
                b'"period":"2022-05-03","observed_at":"2022-05-03T17:05:00+07:00",'
                b'"values":{"cases_new_community":12},"note":"AB"}')


def binary_garbage():
    """4 KiB of reproducible random bytes, a NUL and invalid UTF-8 among them."""
    data = bytearray(random.Random(20220503).randbytes(4096))
    data[100] = 0
    data[200] = 0xFF
    return bytes(data)


class NoBroker:
    """A listening socket where the daemon would find its broker; it must stay untouched."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self):
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return n
            conn.close()
            n += 1

    def close(self):
        self.sock.close()


def assert_refused(r, conf, expected, what):
    """Non-zero exit and one printable line matching `expected` (a regex) after the config
    file's path."""
    assert r.returncode != 0, "%s: exit status 0\n%s%s" % (what, r.stdout, r.stderr)
    err = r.stderr
    assert re.search(re.escape(conf) + expected, err), \
        "%s: expected %r after %s in:\n%r" % (what, expected, conf, err)
    assert len(err) < 1000, "%s: message of %d bytes" % (what, len(err))
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", err), "%s: control bytes in %r" % (what, err)
    assert "configuration OK" not in r.stdout, r.stdout


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=30)


def check_daemon_refuses(tmp, daemon, cases):
    """Runs the daemon (and, for the agent, its submit and status commands) on every
    (name, file bytes, expected) case: refused, nothing created, no connection."""
    broker = NoBroker()
    try:
        for name, content, expected in cases:
            conf = os.path.join(tmp, "%s-%s.conf" % (daemon, name))
            with open(conf, "wb") as f:
                f.write(content)
            state = os.path.join(tmp, "%s-%s.db" % (daemon, name))
            if daemon == "aggregator":
                base = [AGGREGATOR_BIN, "-c", conf, "--db_path", state,
                        "--broker_port", str(broker.port)]
                runs = [("daemon", base), ("--test-config", base + ["--test-config"])]
            else:
                base = [AGENT_BIN, "-c", conf, "--outbox_path", state,
                        "--broker_port", str(broker.port)]
                runs = [("daemon", base), ("--test-config", base + ["--test-config"]),
                        ("submit", base + ["submit", "--period", "2022-05-03", "--value",
                                           "cases_new_community=1"]),
                        ("status", base + ["status"])]
            for label, argv in runs:
                what = "%s %s (%s)" % (daemon, name, label)
                assert_refused(run(argv), conf, expected, what)
                left = [f for f in os.listdir(tmp) if f.startswith(os.path.basename(state))]
                assert not left, "%s: created %s" % (what, left)
        assert broker.connections() == 0, "a daemon connected to the broker"
    finally:
        broker.close()


LONG_LINE = b"x" * 100 * 1024


def test_agent_refuses_hostile_config_files_before_starting():
    with TempDir() as tmp:
        check_daemon_refuses(tmp, "agent", [
            ("truncated-key", b"ward 00001\nbroker_h", r":2: unknown key 'broker_h'"),
            ("truncated-value", b"ward", r":1: ward: missing value"),
            ("unknown-key", b"ward 00001\ncolour blue\n", r":2: unknown key 'colour'"),
            ("port-abc", b"ward 00001\nbroker_port abc\n",
             r":2: broker_port: 'abc' is not a whole number"),
            ("port-huge", b"ward 00001\nbroker_port 99999999999999999999999\n",
             r":2: broker_port: 99999999999999999999999 is out of range \(1 \.\. 65535\)"),
            ("duration", b"ward 00001\nack_timeout 5 parsecs\n",
             r":2: ack_timeout: '5 parsecs' is not a duration"),
            ("binary", binary_garbage(), r":\d+: not a line of text: "),
            ("nul-in-line", b"ward 00001\x00\n", r":1: not a line of text: a NUL byte at column 11"),
            ("latin1", b"ward 00001\nbroker_host caf\xe9\n",
             r":2: not a line of text: byte 0xe9 at column 16"),
            ("escape", b"ward 00001\n\x1b[2Jbroker_host x\n",
             r":2: not a line of text: byte 0x1b at column 1"),
            ("empty", b"", r": required key 'ward' is missing"),
            ("only-comments", b"# ward 00001\n\n", r": required key 'ward' is missing"),
            ("long-line", b"ward 00001\nbroker_host " + LONG_LINE + b"\n",
             r":2: line longer than 4095 bytes"),
            ("long-key", b"ward 00001\n" + b"k" * 4000 + b" 1\n", r":2: unknown key 'k{64}\.\.\.'"),
        ])


def test_aggregator_refuses_hostile_config_files_before_starting():
    with TempDir() as tmp:
        check_daemon_refuses(tmp, "aggregator", [
            ("truncated-key", b"batch_max 10\nbatch_ma", r":2: unknown key 'batch_ma'"),
            ("truncated-value", b"batch_max 10\nbatch_delay", r":2: batch_delay: missing value"),
            ("unknown-key", b"colour blue\n", r":1: unknown key 'colour'"),
            ("port-abc", b"broker_port abc\n", r":1: broker_port: 'abc' is not a whole number"),
            ("duration", b"batch_max 10\nbatch_delay 5 parsecs\n",
             r":2: batch_delay: '5 parsecs' is not a duration"),
            ("payload-float", b"max_payload 1e9\n", r":1: max_payload: '1e9' is not a whole number"),
            ("payload-big", b"max_payload 10000000\n",
             r":1: max_payload: 10000000 is out of range \(256 \.\. 65536\)"),
            ("binary", binary_garbage(), r":\d+: not a line of text: "),
            ("nul-in-line", b"batch_max 10\nbatch_max 1\x00\n",
             r":2: not a line of text: a NUL byte at column 12"),
            ("long-line", b"client_id " + LONG_LINE + b"\n", r":1: line longer than 4095 bytes"),
            ("set-twice", b"batch_max 10\nbatch_max 20\n", r":2: batch_max: set twice"),
        ])


def test_agent_ward_code_of_4_digits_is_named_with_file_and_line():
    """Only the agent can judge a ward code; its message names the line all the same
    (wp_config_where, common/config.h)."""
    with TempDir() as tmp:
        check_daemon_refuses(tmp, "agent", [
            ("ward-4-digits", b"# Phuc Xa\nward 0001\n", r":2: ward: '0001' is not a ward code"),
            ("ward-letters", b"ward 0000a\n", r":1: ward: '0000a' is not a ward code"),
        ])


def test_aggregator_district_check_is_named_with_file_and_line():
    """The same for the aggregator's district code. Needs aggregator/aggregator_config.c
    (aggregator_config_load) to say where with wp_config_where() as the agent does."""
    with TempDir() as tmp:
        check_daemon_refuses(tmp, "aggregator", [
            ("district-2-digits", b"batch_max 10\ndistrict 01\n",
             r":2: district: '01' is not a district code"),
        ])


def test_config_paths_that_are_no_files():
    with TempDir() as tmp:
        missing = os.path.join(tmp, "no such.conf")
        for binary in (AGENT_BIN, AGGREGATOR_BIN):
            r = run([binary, "-c", missing, "--db_path" if binary == AGGREGATOR_BIN
                     else "--outbox_path", os.path.join(tmp, "x.db"), "--test-config"])
            assert_refused(r, missing, r": cannot open: No such file or directory", binary)
            r = run([binary, "-c", tmp, "--test-config"])
            assert_refused(r, tmp, r": cannot open: is a directory, not a file", binary)
            # A FIFO with no writer: refused at once, not waited on (run() times out).
            fifo = os.path.join(tmp, "fifo.conf")
            os.mkfifo(fifo)
            r = run([binary, "-c", fifo, "--test-config"])
            assert_refused(r, fifo, r": cannot open: is a FIFO, not a file", binary)
            # The password file is read when the daemon starts: a FIFO stops the start.
            state = os.path.join(tmp, "state.db")
            r = run([binary, "--ward" if binary == AGENT_BIN else "--district",
                     "00001" if binary == AGENT_BIN else "001",
                     "--db_path" if binary == AGGREGATOR_BIN else "--outbox_path", state,
                     "--broker_port", "1", "--username", "x", "--password_file", fifo])
            assert_refused(r, "password_file " + fifo, r": is a FIFO, not a file", binary)
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
            r = run([binary, "-c"])
            assert r.returncode == 2 and "-c needs a file name" in r.stderr, r
        assert sorted(os.listdir(tmp)) == [], os.listdir(tmp)


def test_validate_refuses_hostile_files():
    with TempDir() as tmp:
        def file(name, content):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(content)
            return path

        good = file("good.json", VALID_REPORT)
        r = cli("validate", "report", good)
        assert r.stdout == "%s: valid\n" % good, r

        # "report" gets the daemons' own decoder, so the aggregator's words.
        report_cases = [
            (file("binary.json", binary_garbage()), 1, "payload is not valid UTF-8 at byte"),
            (file("nul.json", VALID_REPORT.replace(b"AB", b"A\x00B")), 1,
             "payload is not valid JSON at byte %d: control character" % VALID_REPORT.index(b"B")),
            (file("truncated.json", VALID_REPORT[:40]), 1, "payload is not valid JSON at byte 40"),
            (file("deep.json", b"[" * 10000 + b"]" * 10000), 1, "nested too deeply"),
            (file("deep-objects.json", b'{"a":' * 10000 + b"1" + b"}" * 10000), 1,
             "nested too deeply"),
            (file("nan.json", VALID_REPORT.replace(b"12", b"NaN")), 1, "payload is not valid JSON"),
            (file("empty.json", b""), 1, "payload is empty"),
            (file("array.json", b"[]"), 1, "(root): must be an object"),
            (file("feb30.json", VALID_REPORT.replace(b"2022-05-03\"", b"2022-02-30\"")), 1,
             "period: 2022-02-30 is not a real date"),
            (file("huge.json", b" " * (8 * 1024 * 1024) + b"{}"), 1, "exceeds the limit of 65536 bytes"),
            (os.path.join(tmp, "missing.json"), 1, "No such file or directory"),
            (tmp, 1, "Is a directory"),
        ]
        # Any other schema: cJSON's parse, then the schema.
        generic_cases = [
            (os.path.join(tmp, "binary.json"), 1, "not valid JSON"),
            (os.path.join(tmp, "nul.json"), 1,
             "not valid JSON: a NUL byte at byte %d" % VALID_REPORT.index(b"B")),
            (os.path.join(tmp, "deep.json"), 1, "not valid JSON"),
            (os.path.join(tmp, "empty.json"), 1, "not valid JSON"),
            (os.path.join(tmp, "huge.json"), 1, "(root)"),
        ]
        for schema, cases in (("report", report_cases), ("status", generic_cases)):
            for path, status, message in cases:
                r = run([CLI_BIN, "validate", schema, path])
                assert r.returncode == status, (schema, path, r)
                assert message in r.stderr, (schema, path, message, r.stderr)
                assert len(r.stderr) < 1000 and not re.search(r"[\x00-\x08\x0b-\x1f]", r.stderr), r

        # A hostile schema name is neither run nor mistaken for a schema.
        for name in ("'; rm -rf /", "$(id)", os.path.join(tmp, "binary.json"), tmp):
            r = run([CLI_BIN, "validate", name, good])
            assert r.returncode in (1, 2) and r.stderr.strip(), (name, r)
            assert "valid\n" not in r.stdout, (name, r)
        assert run([CLI_BIN, "validate", "'; rm -rf /", good]).returncode == 2


def test_validate_report_agrees_with_the_aggregator_on_hostile_files():
    """`wardpulse validate report FILE` says what the daemons would say: a file that is not
    UTF-8, a string holding \\u0000 and a duplicate key are refused by the aggregator (see
    test_hostile_input.py), so validate must not call them valid. Needs cli/validate.c to
    check the report schema with wp_report_decode (common/report.h)."""
    with TempDir() as tmp:
        cases = [("latin1.json", VALID_REPORT.replace(b"AB", b"A\xffB"), "UTF-8"),
                 ("nul-escape.json", VALID_REPORT.replace(b"AB", b"A\\u0000B"), "\\u0000"),
                 ("duplicate.json", VALID_REPORT.replace(b'"seq":1,', b'"seq":1,"seq":2,'),
                  "duplicate key")]
        for name, content, message in cases:
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(content)
            r = run([CLI_BIN, "validate", "report", path])
            assert r.returncode == 1 and message in r.stderr, (name, r)


def test_export_refuses_hostile_paths_and_changes_nothing():
    with TempDir() as tmp:
        def digest(path):
            with open(path, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()

        # Paths that do not exist, with metacharacters or empty: nothing is created.
        for path in (os.path.join(tmp, "x'; DROP TABLE reports;--.db"),
                     os.path.join(tmp, "$(touch pwned).db"), ""):
            for extra in ([], ["--rejected", "--format", "json"]):
                r = run([CLI_BIN, "export", "--db", path] + extra)
                assert r.returncode == 1 and "does not exist" in r.stderr, (path, r)
                assert path in r.stderr
        assert os.listdir(tmp) == [], os.listdir(tmp)

        # Files that are no wardpulse database are refused and left as they were.
        rand = os.path.join(tmp, "random.db")
        with open(rand, "wb") as f:
            f.write(binary_garbage())
        empty = os.path.join(tmp, "empty.db")
        open(empty, "wb").close()
        other = os.path.join(tmp, "other.db")
        import sqlite3
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE reports (x)")
        before = {p: digest(p) for p in (rand, empty, other)}
        names = sorted(os.listdir(tmp))
        for path, message in ((rand, "file is not a database"),
                              (empty, "is not a wardpulse database"),
                              (other, "is not a wardpulse database"),
                              (tmp, tmp)):
            for extra in ([], ["--rejected"], ["--current", "--format", "json"]):
                r = run([CLI_BIN, "export", "--db", path] + extra)
                assert r.returncode == 1 and message in r.stderr, (path, extra, r)
                assert r.stdout in ("", "[]\n"), (path, r.stdout)
        assert {p: digest(p) for p in before} == before, "export changed a file"
        assert sorted(os.listdir(tmp)) == names, "export created %s" % (
            set(os.listdir(tmp)) - set(names))

        # Filters are checked before they reach SQL.
        for option, value in (("--ward", "00001' OR '1'='1"), ("--ward", "'; DROP TABLE x;--"),
                              ("--from", "2022-05-01' OR 1=1 --"), ("--to", "2022-02-30"),
                              ("--format", "csv; rm -rf /")):
            r = run([CLI_BIN, "export", "--db", other, option, value])
            assert r.returncode == 2 and option in r.stderr, (option, value, r)


def test_security_md_lists_every_hostile_input_and_fuzz_test():
    """docs/security.md, "How the tests show it", names every hostile-input test file and
    every fuzz harness, so that a new one is not forgotten there."""
    from harness import SRC
    with open(os.path.join(SRC, "docs", "security.md"), encoding="utf-8") as f:
        doc = f.read()
    names = [n for n in os.listdir(os.path.join(SRC, "tests", "integration"))
             if n.startswith("test_hostile") and n.endswith(".py")]
    names += [n for n in os.listdir(os.path.join(SRC, "tests", "fuzz"))
              if n.startswith("fuzz_") and n.endswith(".c")]
    assert len(names) >= 8, names
    missing = [n for n in sorted(names) if "`%s`" % n not in doc]
    assert not missing, "docs/security.md does not list %s" % missing


if __name__ == "__main__":
    run_tests(globals())
