"""Broker security: the production configuration (broker-config/mosquitto.conf, aclfile,
provision-ward.sh) run for real — TLS on a free loopback port, accounts made by the
provisioning script, certificates made now with openssl (a throw-away CA; no key is kept)
— against the real aggregator and agent. And, on the open development broker, the
aggregator's own check that a report's ward is its topic's ward.

With MQTT 3.1.1 the broker drops a publish that the ACL refuses and still sends PUBACK,
so every refusal is asserted where it would have arrived: at subscribers allowed to read
it, and in the aggregator's database.
"""
import atexit
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time

from harness import (SRC, Agent, Aggregator, Broker, TempDir, cli, export_values,
                     publish, run_tests, wait_for)

import paho.mqtt.client as mqtt

BROKER_CONFIG = os.path.join(SRC, "broker-config")
PROVISION = os.path.join(BROKER_CONFIG, "provision-ward.sh")
AGGREGATOR_USER = "wardpulse-aggregator"


# --- Certificates: made once for the whole file, in a directory removed at exit ----------

def _openssl(cwd, *args):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), r.stderr))


def _make_ca(d, name):
    _openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2",
             "-subj", "/CN=wardpulse test CA %s" % name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return os.path.join(d, name + ".crt")


def _make_cert(d, name, ca, cn, extensions):
    _openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(extensions)
    _openssl(d, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
             "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext")
    return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")


class PKI:
    """The district's CA with the broker's certificate (SAN 127.0.0.1 and localhost) and a
    client certificate, and a second, unrelated CA."""
    _dir = None

    @classmethod
    def get(cls):
        if cls._dir is None:
            cls._dir = tempfile.mkdtemp(prefix="wardpulse-pki-")
            atexit.register(shutil.rmtree, cls._dir, True)
            d = cls._dir
            cls.ca = _make_ca(d, "ca")
            cls.other_ca = _make_ca(d, "other-ca")
            cls.server_cert, cls.server_key = _make_cert(
                d, "broker", "ca", "localhost",
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
            cls.client_cert, cls.client_key = _make_cert(
                d, "client-00001", "ca", "00001",
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
            cls.aggregator_cert, cls.aggregator_key = _make_cert(
                d, "client-aggregator", "ca", AGGREGATOR_USER,
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
        return cls


# --- The production broker, its accounts, and clients of it ------------------------------

class SecureBroker(Broker):
    """mosquitto with broker-config/mosquitto.conf: the listener moved to a free loopback
    port, the certificate, password, ACL and persistence paths moved into tmp; nothing else
    changed."""

    def __init__(self, tmp, require_certificate=False, name="mosquitto-tls"):
        pki = PKI.get()
        self.password_file = os.path.join(tmp, "passwd")
        self.acl_file = os.path.join(tmp, "aclfile")
        if not os.path.exists(self.acl_file):
            shutil.copy(os.path.join(BROKER_CONFIG, "aclfile"), self.acl_file)
        super().__init__(tmp, name=name, config="mosquitto.conf", settings={
            "cafile": pki.ca, "certfile": pki.server_cert, "keyfile": pki.server_key,
            "password_file": self.password_file, "acl_file": self.acl_file,
            "require_certificate": "true" if require_certificate else "false",
        })

    def start(self):
        assert os.path.exists(self.password_file), "provision accounts before starting the broker"
        return super().start()

    def reload(self):
        """SIGHUP: the broker reads passwd and aclfile again."""
        before = self.output().count("Reloading config")
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.output().count("Reloading config") > before, "broker reload", 10)
        time.sleep(0.2)


def provision(tmp, name, role="ward", broker=None, check=True):
    """Runs provision-ward.sh as an administrator would, with paths in tmp. Returns
    (completed process, the password written for the client)."""
    pki = PKI.get()
    args = [PROVISION, "--password-file", os.path.join(tmp, "passwd"),
            "--acl-file", os.path.join(tmp, "aclfile"), "--dir", os.path.join(tmp, "creds"),
            "--broker-host", "127.0.0.1", "--cafile", pki.ca]
    if broker:
        args += ["--broker-port", str(broker.port)]
    if name:
        args.append(name)
    if role != "ward":
        args += ["--role", role]
    acl = os.path.join(tmp, "aclfile")
    if not os.path.exists(acl):
        shutil.copy(os.path.join(BROKER_CONFIG, "aclfile"), acl)
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("provision-ward.sh %s failed (%d): %s" % (name, r.returncode, r.stderr))
    password = None
    if r.returncode == 0:
        with open(os.path.join(tmp, "creds", (name or AGGREGATOR_USER) + ".password")) as f:
            password = f.read().strip()
    return r, password


def snippet_settings(text):
    """The `key value` lines of a printed configuration snippet, as a dict."""
    settings = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split(" ", 1)
            settings[key] = value
    return settings


class Client:
    """A paho-mqtt client over TLS that records its CONNACK, SUBACKs and messages."""

    def __init__(self, port, user=None, password=None, ca=None, cert=None, key=None):
        pki = PKI.get()
        self.messages = []
        self.lock = threading.Lock()
        self.connack = None
        self._connected = threading.Event()
        self._subacks = {}
        self.client = mqtt.Client(client_id="test-%s-%d" % (user or "anon", id(self)),
                                  clean_session=True, protocol=mqtt.MQTTv311)
        self.client.tls_set(ca_certs=ca or pki.ca, certfile=cert, keyfile=key)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda c, u, mid, granted: self._subacks.setdefault(
            mid, threading.Event()).set()
        self.client.connect("127.0.0.1", port, 30)   # the TLS handshake happens here
        self.client.loop_start()
        if not self._connected.wait(10):
            self.close()
            raise AssertionError("no CONNACK from port %d" % port)

    def _on_connect(self, client, userdata, flags, rc):
        self.connack = rc
        self._connected.set()

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, msg.payload, msg.retain))

    def subscribe(self, *topics):
        for t in topics:
            rc, mid = self.client.subscribe(t, qos=1)
            assert rc == mqtt.MQTT_ERR_SUCCESS, rc
            ev = self._subacks.setdefault(mid, threading.Event())
            assert ev.wait(10), "no SUBACK for %s" % t

    def publish(self, topic, payload, retain=False):
        """QoS 1 and waits for the PUBACK (which the broker sends even when the ACL
        dropped the message)."""
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(10)
        assert info.is_published(), "no PUBACK for %s" % topic

    def topics(self):
        with self.lock:
            return [t for t, p, r in self.messages]

    def payloads(self, topic):
        with self.lock:
            return [json.loads(p) if p else None for t, p, r in self.messages if t == topic]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def connack_of(port, user=None, password=None, **kw):
    c = Client(port, user, password, **kw)
    try:
        return c.connack
    finally:
        c.close()


def report(ward, seq, period="2022-05-03", stream="00000000000000aa", **values):
    return {"v": 1, "ward": ward, "stream": stream, "seq": seq, "period": period,
            "observed_at": period + "T17:05:00+07:00",
            "values": values or {"cases_new_community": seq}}


def start_tls_aggregator(tmp, broker, **settings):
    """The real aggregator with its own account (provision it before the broker starts),
    started and connected."""
    password_file = os.path.join(tmp, "creds", AGGREGATOR_USER + ".password")
    assert os.path.exists(password_file), "provision the aggregator first"
    agg = Aggregator(tmp, broker.port, cafile=PKI.get().ca, username=AGGREGATOR_USER,
                     password_file=password_file, **settings).start()
    wait_for(lambda: "connected to" in agg.output(), "the aggregator connected over TLS", 10)
    # Its check of the retained alert and level topics needs the ACL to let it read them
    # and write and read its marker (aggregator/reconcile.c): the pass completes.
    wait_for(lambda: "reconcile: the broker held" in agg.output(),
             "the aggregator's reconcile pass under the production ACL", 10)
    time.sleep(0.2)  # its SUBSCRIBE follows the CONNACK
    return agg


def start_agent(agent):
    """Starts the agent and waits for its connection (its daemon has then opened the
    outbox: a `submit` racing the daemon's first creation of the outbox can fail with
    SQLITE_BUSY, a separate matter)."""
    before = agent.output().count("connected to") if os.path.exists(agent.log_path) else 0
    agent.start()
    wait_for(lambda: agent.output().count("connected to") > before or not agent.alive(),
             "agent %s connected" % agent.ward, 10)
    assert agent.alive(), agent.output()
    return agent


def mosquitto_pub(port, user, password, ca=None, cert=None, key=None, topic="wardpulse/v1/x"):
    """One publish with the command-line client an operator would use."""
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
            "-m", "{}"]
    if ca:
        args += ["--cafile", ca]
    if cert:
        args += ["--cert", cert, "--key", key]
    if user:
        args += ["-u", user, "-P", password]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def rejected_rows(db):
    return json.loads(cli("export", "--db", db, "--rejected", "--format", "json").stdout)


# --- Tests ------------------------------------------------------------------------------

def test_ward_cannot_report_status_or_read_acks_for_another_ward():
    with TempDir() as tmp:
        _, pw1 = provision(tmp, "00001")
        _, pw4 = provision(tmp, "00004")
        _, pw_obs = provision(tmp, "observer", "operator")
        provision(tmp, None, "aggregator")
        broker = SecureBroker(tmp).start()
        agg = start_tls_aggregator(tmp, broker)
        observer = Client(broker.port, "observer", pw_obs)
        observer.subscribe("wardpulse/v1/#")
        ward1 = Client(broker.port, "00001", pw1)
        ward4 = Client(broker.port, "00004", pw4)
        assert ward1.connack == 0 and ward4.connack == 0, (ward1.connack, ward4.connack)
        # 00001 listens wherever it can: its own acks, 00004's, anyone's.
        ward1.subscribe("wardpulse/v1/ack/00004", "wardpulse/v1/ack/+", "wardpulse/v1/#")
        ward4.subscribe("wardpulse/v1/ack/00004")

        # 00001 tries to speak for 00004 (a well-formed report the aggregator would store),
        # and sets 00004's retained status; then reports for itself on the same connection.
        ward1.publish("wardpulse/v1/report/00004", report("00004", 1, cases_new_community=999))
        ward1.publish("wardpulse/v1/status/00004",
                      {"v": 1, "ward": "00004", "state": "offline"}, retain=True)
        ward1.publish("wardpulse/v1/report/00001", report("00001", 1))
        # 00004 reports for itself, so that a real ack goes out on ack/00004.
        ward4.publish("wardpulse/v1/report/00004", report("00004", 1, stream="00000000000000bb"))

        wait_for(lambda: {r["ward"] for r in export_values(agg.db)} == {"00001", "00004"},
                 "the legitimate reports of 00001 and 00004 stored")
        wait_for(lambda: ward4.payloads("wardpulse/v1/ack/00004"), "00004's ack")
        wait_for(lambda: ward1.payloads("wardpulse/v1/ack/00001"), "00001's own ack")
        time.sleep(0.5)  # anything else on its way would have arrived by now

        values = export_values(agg.db)
        forged = [v for v in values if v["ward"] == "00004" and v["stream"] == "00000000000000aa"]
        assert not forged, "the report 00001 sent for 00004 was stored: %s" % forged
        assert [v["value"] for v in values if v["ward"] == "00004"] == [1], values
        assert rejected_rows(agg.db) == [], "the aggregator saw the attempt: %s" % rejected_rows(agg.db)
        assert observer.payloads("wardpulse/v1/report/00004") == [report("00004", 1, stream="00000000000000bb")], \
            observer.payloads("wardpulse/v1/report/00004")
        assert observer.payloads("wardpulse/v1/status/00004") == [], "00001 set 00004's status"
        assert ward1.topics() == ["wardpulse/v1/ack/00001"] * len(ward1.topics()), \
            "00001 read what is not its own: %s" % ward1.topics()
        assert ward4.payloads("wardpulse/v1/ack/00004")[0]["acked_through"] == 1
        for c in (observer, ward1, ward4):
            c.close()


def test_anonymous_wrong_password_and_unknown_user_are_refused():
    with TempDir() as tmp:
        _, pw1 = provision(tmp, "00001")
        broker = SecureBroker(tmp).start()
        assert connack_of(broker.port, "00001", pw1) == 0
        assert connack_of(broker.port) == 5, "anonymous client accepted"
        assert connack_of(broker.port, "00001", pw1[:-1] + "x") == 5, "wrong password accepted"
        assert connack_of(broker.port, "00001", "") == 5, "empty password accepted"
        assert connack_of(broker.port, "00002", pw1) == 5, "unknown user accepted"
        # The command-line client an operator would use fails the same way.
        r = mosquitto_pub(broker.port, "00001", "wrong", ca=PKI.get().ca)
        assert r.returncode != 0 and "not authori" in r.stderr.lower(), r
        assert mosquitto_pub(broker.port, None, None, ca=PKI.get().ca).returncode != 0
        # And plain MQTT (no TLS) on the TLS port gets nowhere.
        r = mosquitto_pub(broker.port, "00001", pw1)
        assert r.returncode != 0, r


def test_client_trusting_another_ca_fails_the_tls_handshake():
    with TempDir() as tmp:
        _, pw1 = provision(tmp, "00001")
        broker = SecureBroker(tmp).start()
        try:
            Client(broker.port, "00001", pw1, ca=PKI.get().other_ca).close()
            raise AssertionError("connected to a broker whose certificate it cannot verify")
        except ssl.SSLError as e:
            assert "certificate verify failed" in str(e), e
        r = mosquitto_pub(broker.port, "00001", pw1, ca=PKI.get().other_ca)
        assert r.returncode != 0 and "TLS error" in r.stderr, r
        # The real agent with the wrong CA never connects and says why.
        agent = Agent(tmp, "00001", broker.port, cafile=PKI.get().other_ca, username="00001",
                      password_file=os.path.join(tmp, "creds", "00001.password")).start()
        wait_for(lambda: "certificate verify failed" in agent.output(), "the agent's TLS error", 10)
        assert "connected to" not in agent.output(), agent.output()


def test_operator_reads_alerts_but_cannot_publish():
    with TempDir() as tmp:
        _, pw_agg = provision(tmp, None, "aggregator")
        _, pw_op = provision(tmp, "alice", "operator")
        _, pw1 = provision(tmp, "00001")
        broker = SecureBroker(tmp).start()
        # The aggregator's account (no aggregator daemon here) publishes a firing alert,
        # retained, and watches what reaches the reports and alerts.
        agg = Client(broker.port, AGGREGATOR_USER, pw_agg)
        agg.subscribe("wardpulse/v1/report/+", "wardpulse/v1/alert/#")
        alert_topic = "wardpulse/v1/alert/001/00001/kids-5-11-full"
        alert = {"v": 1, "rule": "kids-5-11-full", "kind": "coverage", "scope": "00001",
                 "district": "001", "severity": "critical", "state": "firing",
                 "since": "2022-09-01T00:00:00+07:00", "value": 0.71, "target": 1.0,
                 "deadline": "2022-08-31", "summary": {"vi": "chưa đạt", "en": "behind"},
                 "source": "NQ 38/NQ-CP"}
        agg.publish(alert_topic, alert, retain=True)
        wait_for(lambda: agg.payloads(alert_topic), "the aggregator's own alert")

        op = Client(broker.port, "alice", pw_op)
        op.subscribe("wardpulse/v1/alert/#")
        wait_for(lambda: op.payloads(alert_topic) == [alert], "the operator reads the retained alert")

        # The operator writes nothing: not a ward's report, not one on its own name (which
        # the ward patterns would open but its section closes), not an alert.
        op.publish("wardpulse/v1/report/00001", report("00001", 1))
        op.publish("wardpulse/v1/report/alice", report("00001", 2))
        op.publish("wardpulse/v1/alert/001/00004/fake", dict(alert, scope="00004"), retain=True)
        ward1 = Client(broker.port, "00001", pw1)
        ward1.publish("wardpulse/v1/report/00001", report("00001", 3))
        wait_for(lambda: agg.payloads("wardpulse/v1/report/00001"), "the ward's own report")
        time.sleep(0.3)
        assert agg.payloads("wardpulse/v1/report/00001") == [report("00001", 3)], agg.messages
        assert "wardpulse/v1/report/alice" not in agg.topics(), agg.topics()
        assert "wardpulse/v1/alert/001/00004/fake" not in agg.topics() + op.topics()
        # The dashboard's state: the aggregator's account writes the summary rows and the
        # series (retained), an operator reads them and cannot write one.
        op.subscribe("wardpulse/v1/summary/#", "wardpulse/v1/series/#")
        summary_topic = "wardpulse/v1/summary/001/00001"
        series_topic = "wardpulse/v1/series/001/kids-5-11-full"
        agg.publish(summary_topic, {"v": 1, "scope": "00001"}, retain=True)
        agg.publish(series_topic, {"v": 1, "rule": "kids-5-11-full"}, retain=True)
        wait_for(lambda: op.payloads(summary_topic) and op.payloads(series_topic),
                 "the operator reads the aggregator's summary and series")
        op.publish("wardpulse/v1/summary/001/00004", {"v": 1, "scope": "00004"}, retain=True)
        time.sleep(0.3)
        assert "wardpulse/v1/summary/001/00004" not in op.topics(), op.topics()
        for c in (agg, op, ward1):
            c.close()


def test_officer_commands_reach_the_aggregator_and_nobody_else_may_send_them():
    with TempDir() as tmp:
        provision(tmp, None, "aggregator")
        r, pw_off = provision(tmp, "officer-001-lan", "officer")
        assert "wardpulse/v1/control/001/ack" in r.stdout, r.stdout
        with open(os.path.join(tmp, "aclfile")) as f:
            assert "topic write wardpulse/v1/control/001/+" in f.read()
        _, pw_op = provision(tmp, "alice", "operator")
        _, pw_bob = provision(tmp, "bob", "operator")
        _, pw1 = provision(tmp, "00001")
        broker = SecureBroker(tmp).start()
        agg = start_tls_aggregator(tmp, broker, district="001")
        watch = Client(broker.port, "alice", pw_op)       # operators read everything
        watch.subscribe("wardpulse/v1/control/#", "wardpulse/v1/silences/#")
        officer = Client(broker.port, "officer-001-lan", pw_off)
        officer.subscribe("wardpulse/v1/control/001/reply/#", "wardpulse/v1/silences/001")
        # The officer's command is delivered, applied and answered; the officer reads the
        # reply and the retained silences.
        officer.publish("wardpulse/v1/control/001/silence",
                        {"v": 1, "id": "o1", "by": "lan", "scope": "00001",
                         "until": "2099-01-01T00:00:00+07:00", "comment": "Phường đang sửa số liệu"})
        reply = wait_for(lambda: officer.payloads("wardpulse/v1/control/001/reply/o1"),
                         "the officer reads the reply")[-1]
        assert reply["ok"] is True and reply["silence"].startswith("s-"), reply
        wait_for(lambda: [p for p in officer.payloads("wardpulse/v1/silences/001")
                          if p and p["silences"]], "the officer reads silences/001")
        # An operator, a ward, and the officer outside its district or on reply/: refused
        # by the broker (the PUBACK comes, the message goes nowhere).
        cmd = {"v": 1, "id": "x1", "by": "x", "silence": reply["silence"]}
        bob = Client(broker.port, "bob", pw_bob)
        bob.publish("wardpulse/v1/control/001/unsilence", cmd)
        ward1 = Client(broker.port, "00001", pw1)
        ward1.publish("wardpulse/v1/control/001/unsilence", dict(cmd, id="x2"))
        officer.publish("wardpulse/v1/control/002/unsilence", dict(cmd, id="x3"))
        officer.publish("wardpulse/v1/control/001/reply/o1", {"v": 1, "id": "o1", "ok": False,
                                                              "error": "forged"})
        officer.publish("wardpulse/v1/control/001/ack",
                        {"v": 1, "id": "o2", "by": "lan", "rule": "r", "scope": "00001"})
        wait_for(lambda: officer.payloads("wardpulse/v1/control/001/reply/o2"), "reply o2")
        # What the broker delivers to one client it delivers in order: once the watcher has
        # reply o2, it has had every control message before it.
        wait_for(lambda: "wardpulse/v1/control/001/reply/o2" in watch.topics(), "watch o2")
        assert [t for t in watch.topics() if "/control/" in t] == [
            "wardpulse/v1/control/001/silence", "wardpulse/v1/control/001/reply/o1",
            "wardpulse/v1/control/001/ack", "wardpulse/v1/control/001/reply/o2"], watch.topics()
        assert "x1" not in agg.output() and "x2" not in agg.output(), agg.output()
        assert officer.payloads("wardpulse/v1/control/001/reply/o1") == [reply]
        for c in (watch, officer, ward1, bob):
            c.close()
        assert agg.stop() == 0, agg.output()


def test_agent_with_tls_and_password_end_to_end_and_rotation():
    with TempDir() as tmp:
        broker = SecureBroker(tmp)
        r, pw_old = provision(tmp, "00001", broker=broker)
        provision(tmp, None, "aggregator")
        broker.start()
        settings = snippet_settings(r.stdout)
        assert settings == {"ward": "00001", "broker_host": "127.0.0.1",
                            "broker_port": str(broker.port), "cafile": PKI.get().ca,
                            "username": "00001",
                            "password_file": os.path.join(tmp, "creds", "00001.password")}, r.stdout
        assert os.stat(settings["password_file"]).st_mode & 0o777 == 0o600
        agg = start_tls_aggregator(tmp, broker)
        # The agent's configuration is the printed snippet, plus where its outbox lives.
        agent = start_agent(Agent(
            tmp, "00001", broker.port, ack_timeout="3s",
            **{k: v for k, v in settings.items() if k not in ("ward", "broker_port")}))
        for day in ("2022-05-01", "2022-05-02", "2022-05-03"):
            agent.submit(day, {"cases_new_community": 5, "vacc_18p_dose3_cum": 12000})
        wait_for(lambda: len(export_values(agg.db)) == 6, "3 reports stored")
        wait_for(lambda: "none, every report was acknowledged" in agent.command("status").stdout,
                 "the agent's outbox empty")
        assert {v["ward"] for v in export_values(agg.db)} == {"00001"}

        # Rotation: running the script again changes the password; after the broker's
        # reload the old one is refused, and the running agent, disconnected by the
        # reload or not, reads its password file again at its next connection: no restart.
        r, pw_new = provision(tmp, "00001", broker=broker)
        assert pw_new != pw_old and "rotated" in r.stderr, r.stderr
        broker.reload()
        assert connack_of(broker.port, "00001", pw_old) == 5, "the old password still works"
        pid = agent.proc.pid
        broker.stop()           # every client loses its link and must log in again
        broker.start()
        agent.submit("2022-05-04", {"cases_new_community": 7})
        wait_for(lambda: len(export_values(agg.db)) == 7, "a report after the rotation stored")
        wait_for(lambda: "none, every report was acknowledged" in agent.command("status").stdout,
                 "the agent's outbox empty again")
        assert agent.proc.pid == pid and agent.alive(), "the agent was restarted"

        # Revocation: the account is gone after the reload.
        r = subprocess.run([PROVISION, "00001", "--revoke", "--password-file",
                            os.path.join(tmp, "passwd"), "--dir", os.path.join(tmp, "creds")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        broker.reload()
        assert connack_of(broker.port, "00001", pw_new) == 5, "a revoked account still works"


def test_client_certificate_required_when_configured():
    with TempDir() as tmp:
        pki = PKI.get()
        _, pw1 = provision(tmp, "00001")
        provision(tmp, None, "aggregator")
        broker = SecureBroker(tmp, require_certificate=True).start()
        assert connack_of(broker.port, "00001", pw1, cert=pki.client_cert, key=pki.client_key) == 0
        r = mosquitto_pub(broker.port, "00001", pw1, ca=pki.ca)
        assert r.returncode != 0, "connected without a client certificate: %s" % r
        r = mosquitto_pub(broker.port, "00001", pw1, ca=pki.ca, cert=pki.client_cert,
                          key=pki.client_key)
        assert r.returncode == 0, r
        # A certificate does not replace the password: both are needed.
        r = mosquitto_pub(broker.port, "00001", "wrong", ca=pki.ca, cert=pki.client_cert,
                          key=pki.client_key)
        assert r.returncode != 0 and "not authori" in r.stderr.lower(), r
        # The real daemons with certfile/keyfile and their passwords.
        agg = start_tls_aggregator(tmp, broker, certfile=pki.aggregator_cert,
                                   keyfile=pki.aggregator_key)
        agent = start_agent(Agent(tmp, "00001", broker.port, cafile=pki.ca,
                                  certfile=pki.client_cert, keyfile=pki.client_key,
                                  username="00001", ack_timeout="3s",
                                  password_file=os.path.join(tmp, "creds", "00001.password")))
        agent.submit("2022-05-03", {"cases_new_community": 1})
        wait_for(lambda: len(export_values(agg.db)) == 1, "report stored with client certificates")


def test_district_account_on_a_city_broker_for_its_bridge():
    """A district reports to the city's broker through a bridge, as the account of its
    three-digit code: the script makes it and prints the bridge's credential lines, and
    with them the district writes report/001, and nothing of another unit."""
    with TempDir() as tmp:
        broker = SecureBroker(tmp)
        r, password = provision(tmp, "001", broker=broker)
        assert snippet_settings(r.stdout) == {
            "remote_username": "001", "remote_password": password,
            "bridge_cafile": PKI.get().ca}, r.stdout
        provision(tmp, None, "aggregator")
        broker.start()
        agg = start_tls_aggregator(tmp, broker, city="01")
        district = Client(broker.port, "001", password)
        assert district.connack == 0, district.connack
        district.publish("wardpulse/v1/report/002", report("002", 1, cases_new_community=999))
        district.publish("wardpulse/v1/report/001", report("001", 1))
        wait_for(lambda: export_values(agg.db), "the district's report stored")
        time.sleep(0.5)  # the other one would have arrived by now
        assert {v["ward"] for v in export_values(agg.db)} == {"001"}, export_values(agg.db)
        assert rejected_rows(agg.db) == [], "the aggregator saw report/002"
        district.close()


def test_provisioning_refuses_bad_names():
    with TempDir() as tmp:
        for name, role in (("0001", "ward"), ("000011", "ward"), ("0000a", "ward"), ("01", "ward"),
                           ("00001\n00002", "ward"), ("00001", "operator"),
                           ("wardpulse-aggregator", "operator"), ("a+b", "operator"),
                           ("x", "admin"), ("alice", "officer"), ("officer-1", "officer"),
                           ("officer-001/x", "officer"), ("officer-001-a+b", "officer")):
            r, _ = provision(tmp, name, role, check=False)
            assert r.returncode != 0, (name, role, r.stdout)
        assert not os.path.exists(os.path.join(tmp, "passwd")), "a refused name left an account"


def test_dev_broker_report_for_another_ward_is_rejected_by_the_aggregator():
    with TempDir() as tmp:
        broker = Broker(tmp).start()    # the open development broker: no ACL at all
        agg = Aggregator(tmp, broker.port).start()
        wait_for(lambda: "connected to" in agg.output(), "aggregator connected")
        publish(broker.port, "wardpulse/v1/report/00001", report("00004", 1))
        publish(broker.port, "wardpulse/v1/report/00001", report("00001", 2))
        wait_for(lambda: export_values(agg.db), "the matching report stored")
        wait_for(lambda: rejected_rows(agg.db), "the mismatched report rejected")
        rows = rejected_rows(agg.db)
        assert len(rows) == 1, rows
        row = rows[0]
        assert row["topic"] == "wardpulse/v1/report/00001" and row["ward"] == "00001", row
        assert row["seq"] == 1, row
        assert row["reason"] == "payload ward 00004 does not match topic ward 00001", row
        csv = cli("export", "--db", agg.db, "--rejected", "--format", "csv").stdout
        assert "payload ward 00004 does not match topic ward 00001" in csv, csv
        assert {(v["ward"], v["seq"]) for v in export_values(agg.db)} == {("00001", 2)}
        assert "payload ward 00004 does not match topic ward 00001" in agg.output()


if __name__ == "__main__":
    run_tests(globals())
