"""harness — real processes for wardpulse integration tests.

Every test starts its own mosquitto on a free loopback port with persistence in a
temporary directory, and real wardpulse daemons with config files written there.
Nothing is mocked. Run tests with Debian's /usr/bin/python3 (it has paho-mqtt).

    from harness import *
    with TempDir() as tmp:
        broker = Broker(tmp).start()
        agg = Aggregator(tmp, broker.port).start()
        agent = Agent(tmp, "00001", broker.port).start()
        agent.submit("2022-05-03", {"cases_new_community": 12})
        wait_for(lambda: len(export_values(agg.db)) == 1, "report stored")

    run_tests(globals())   # runs every test_* function, prints "N passed, N failed"
"""
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
import threading
import time
import traceback

SRC = os.environ.get("WP_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("WP_BUILD_DIR") or os.path.join(SRC, "build")
AGENT_BIN = os.path.join(BUILD, "agent", "wardpulse-agent")
AGGREGATOR_BIN = os.path.join(BUILD, "aggregator", "wardpulse-aggregator")
CLI_BIN = os.path.join(BUILD, "cli", "wardpulse")
TOPIC_ROOT = "wardpulse/v1/"

# The 14 wards of Ba Đình (DOMAIN.md).
BA_DINH_WARDS = ["00001", "00004", "00006", "00007", "00008", "00010", "00013",
                 "00016", "00019", "00022", "00025", "00028", "00031", "00034"]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=30.0, interval=0.05):
    """Polls predicate until it returns a true value (returned); fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class TempDir:
    """A temporary directory, removed on exit unless WP_KEEP_TMP is set (for debugging)."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="wardpulse-test-")
        return self.path

    def __exit__(self, *exc):
        Process.stop_all()
        if os.environ.get("WP_KEEP_TMP"):
            print("kept", self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def write_config(path, settings):
    with open(path, "w", encoding="utf-8") as f:
        for key, value in settings.items():
            if value is not None:
                f.write("%s %s\n" % (key, value))
    return path


class Process:
    """A child process with its output in a log file; started, stopped or killed -9."""
    running = []

    def __init__(self, name, argv, log_path):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.proc = None

    def start(self, env=None):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        Process.running.append(self)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit code."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("%s did not exit within %ss of SIGTERM" % (self.name, timeout))
        return self._reap()

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return self._reap()

    def _reap(self):
        code = self.proc.returncode
        self.log.close()
        if self in Process.running:
            Process.running.remove(self)
        return code

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @classmethod
    def stop_all(cls):
        for p in list(cls.running):
            try:
                p.kill9()
            except Exception:
                pass


class Broker(Process):
    """mosquitto on a free loopback port with one of broker-config/'s files (by default the
    development config), persistence in tmp. `settings` replaces whole `key value` lines,
    each of which must stand in the file exactly once; `extra` is appended (e.g. a bridge)."""

    def __init__(self, tmp, port=None, name="mosquitto", config="mosquitto-dev.conf",
                 settings=None, extra="", ws_port=None):
        self.port = port or free_port()
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(SRC, "broker-config", config)) as f:
            conf = f.read()
        # The websockets listener of the live page moves to a free loopback port of its own
        # (ws_port; http://127.0.0.1:<ws_port>/ serves http_dir, by default BUILD/web).
        self.ws_port = ws_port or free_port()
        conf, n_ws = re.subn(r"(?m)^listener .*\n(?=protocol websockets$)", "\0WS\0\n", conf)
        settings = dict(settings or {})
        settings["listener"] = "%d 127.0.0.1" % self.port
        settings["persistence_location"] = self.dir + "/"
        if n_ws and "http_dir" not in settings:
            if os.path.isdir(os.path.join(BUILD, "web")):
                settings["http_dir"] = os.path.join(BUILD, "web")
            else:   # a build without the page (-DWARDPULSE_WEB=OFF): websockets only
                conf = re.sub(r"(?m)^http_dir .*\n", "", conf)
        for key, value in settings.items():
            conf, n = re.subn(r"(?m)^%s .*$" % re.escape(key), "%s %s" % (key, value), conf)
            # A TLS setting stands once per TLS listener (MQTT and websockets): both change.
            assert n == 1 or (n > 1 and key != "listener"), \
                "broker-config/%s has %d '%s' lines, expected 1" % (config, n, key)
        conf = conf.replace("\0WS\0", "listener %d 127.0.0.1" % self.ws_port)
        if os.geteuid() == 0:
            # Started as root, mosquitto drops to the 'mosquitto' user, which cannot write
            # its persistence file into (or re-read passwd from) our private temporary dir.
            conf += "\nuser root\n"
        conf += extra
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        super().__init__(name, ["mosquitto", "-c", self.conf], os.path.join(tmp, name + ".log"))

    def start(self):
        super().start()
        wait_for(self._listening, "mosquitto on port %d" % self.port, timeout=10)
        return self

    def _listening(self):
        if not self.alive():
            raise AssertionError("mosquitto exited:\n" + self.output())
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0


class Aggregator(Process):
    """wardpulse-aggregator with a config file in tmp; extra settings override defaults."""

    def __init__(self, tmp, broker_port, name="aggregator", **settings):
        self.db = os.path.join(tmp, name + ".db")
        self.settings = {"broker_host": "127.0.0.1", "broker_port": broker_port,
                         "client_id": "wardpulse-aggregator-" + name, "db_path": self.db,
                         "log_level": "info"}
        self.settings.update(settings)
        self.conf = write_config(os.path.join(tmp, name + ".conf"), self.settings)
        super().__init__(name, [AGGREGATOR_BIN, "-c", self.conf], os.path.join(tmp, name + ".log"))

    def start(self, env=None):
        """Returns once the aggregator's database has its schema (so `wardpulse export`
        can read it), or once the process has exited (a test of a refused start)."""
        self._passes_before = self._reconcile_passes()
        self._opens_before = self._database_opens()
        super().start(env)
        wait_for(lambda: not self.alive() or self._schema_ready(), "aggregator database ready",
                 timeout=15)
        return self

    def _database_opens(self):
        """How many runs logged their database open and migrated (this log is appended to)."""
        if not os.path.exists(self.log_path):
            return 0
        return self.output().count("database %s, schema version" % self.db)

    def _reconcile_passes(self):
        return self.output().count("reconcile:") if os.path.exists(self.log_path) else 0

    def subscribed(self):
        """Returns once this run's subscriptions are in place, so that a message published
        once (no agent to send it again) reaches it: its reconcile pass logs after a
        SUBSCRIBE that follows report/+'s on the same connection."""
        wait_for(lambda: self._reconcile_passes() > self._passes_before or not self.alive(),
                 "the aggregator subscribed")
        return self

    def _schema_ready(self):
        # The migrations commit one version at a time: a database with some schema may be
        # half-way, and `wardpulse export` refuses an older version. The aggregator logs
        # "database …, schema version N" (info) once all are done.
        if self.settings.get("log_level") in ("info", "debug"):
            return self._database_opens() > self._opens_before
        try:
            db = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=0.2)
            try:
                return db.execute("PRAGMA user_version").fetchone()[0] > 0
            finally:
                db.close()
        except sqlite3.Error:
            return False


class Agent(Process):
    """wardpulse-agent of one ward; submit() runs the submit command against its outbox."""

    def __init__(self, tmp, ward, broker_port, **settings):
        self.ward = ward
        self.outbox = os.path.join(tmp, "agent-%s.db" % ward)
        self.settings = {"ward": ward, "broker_host": "127.0.0.1", "broker_port": broker_port,
                         "outbox_path": self.outbox, "log_level": "info"}
        self.settings.update(settings)
        self.conf = write_config(os.path.join(tmp, "agent-%s.conf" % ward), self.settings)
        super().__init__("agent-" + ward, [AGENT_BIN, "-c", self.conf],
                         os.path.join(tmp, "agent-%s.log" % ward))

    def command(self, *args, check=True):
        r = subprocess.run([AGENT_BIN, "-c", self.conf] + list(args), capture_output=True,
                           text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("wardpulse-agent %s failed (%d): %s%s"
                                 % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def submit(self, period, values=None, tasks=None, note=None, check=True):
        args = ["submit", "--period", period]
        for k, v in (values or {}).items():
            args += ["--value", "%s=%s" % (k, v)]
        for k, v in (tasks or {}).items():
            args += ["--task", "%s=%s" % (k, v)]
        if note is not None:
            args += ["--note", note]
        return self.command(*args, check=check)


def quiet_plan(tmp):
    """Ba Đình's units and catalog, and one rule our figures never break: the alerts
    seen are the delivery protocol's own."""
    d = os.path.join(tmp, "plan")
    os.makedirs(d)
    for f in ("orgunits.json", "catalog.json"):
        shutil.copy(os.path.join(SRC, "plans", "ba-dinh-2022", f), d)
    rule = {"id": "cases-never-down", "kind": "check", "severity": "warning",
            "name": {"vi": "Số ca không giảm", "en": "Cases never go down"},
            "applies_to": "ward", "relation": {"never_decreases": "vacc_18p_dose1_cum"},
            "source": {"document": "test", "section": "-"}}
    with open(os.path.join(d, "plan.json"), "w", encoding="utf-8") as f:
        json.dump({"v": 1, "id": "quiet", "title": {"vi": "Thử", "en": "Test"},
                   "scope": {"city": "01", "district": "001"}, "utc_offset": "+07:00",
                   "rules": [rule]}, f, ensure_ascii=False)
    return d


def cli(*args, check=True):
    r = subprocess.run([CLI_BIN] + list(args), capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("wardpulse %s failed (%d): %s%s"
                             % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def export_values(db):
    """Every stored value, via `wardpulse export --format json` (the operator's view)."""
    if not os.path.exists(db):
        return []
    return json.loads(cli("export", "--db", db, "--format", "json").stdout)


class Subscriber:
    """Collects the messages of one or more topic filters (paho-mqtt, its own thread)."""

    def __init__(self, port, *topics, client_id=None):
        import paho.mqtt.client as mqtt
        self.messages = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(client_id=client_id or "test-sub-%d" % os.getpid(),
                                  clean_session=True)
        self.client.on_message = self._on_message
        self.topics = topics
        connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc: (
            [c.subscribe(t, qos=1) for t in self.topics], connected.set())
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not connected.wait(10):
            raise AssertionError("test subscriber could not connect to port %d" % port)
        time.sleep(0.2)  # let the SUBACKs arrive

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, msg.payload, msg.retain))

    def payloads(self, topic=None):
        """Decoded JSON payloads (None for empty ones), optionally of one topic."""
        with self.lock:
            msgs = list(self.messages)
        return [json.loads(p) if p else None for t, p, r in msgs if topic is None or t == topic]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def publish(port, topic, payload, qos=1, retain=False):
    """One message with mosquitto_pub, as an operator would send it."""
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload, ensure_ascii=False)
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", str(qos), "-t", topic]
    if retain:
        args.append("-r")
    if isinstance(payload, bytes):
        subprocess.run(args + ["-s"], input=payload, check=True, timeout=30)
    else:
        subprocess.run(args + ["-m", payload], check=True, timeout=30)


# The exit status CTest reads as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt).
SKIP_EXIT = 77


class Skip(Exception):
    """Raised by a test that cannot run here (say why): it is reported as skipped, never
    as passed."""


def run_tests(namespace):
    """Runs every test_* function of the module in order; prints a closing line that CI
    reads ("N passed, N failed") and exits non-zero if any failed, or with SKIP_EXIT if
    none failed and any was skipped (so that CTest shows the file as skipped)."""
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    passed = failed = skipped = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        start = time.monotonic()
        try:
            fn()
            passed += 1
            print("PASS %s (%.1fs)" % (name, time.monotonic() - start), flush=True)
        except Skip as why:
            skipped += 1
            print("SKIP %s: %s" % (name, why), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s (%.1fs)" % (name, time.monotonic() - start), flush=True)
            traceback.print_exc()
        finally:
            Process.stop_all()
    print("%d passed, %d failed%s" % (passed, failed, ", %d skipped" % skipped if skipped else ""))
    if not failed and skipped:
        sys.exit(SKIP_EXIT)
    sys.exit(1 if failed or not passed else 0)
