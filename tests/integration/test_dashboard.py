"""The live page (web/, issue 12) in a real browser: Debian's chromium driven through
chromium-driver by python3-selenium (browser.py), against a real broker whose websockets
listener serves the built page (BUILD/web), the real aggregator on plans/ba-dinh-2022 and
a real agent.

The district is cli_fixture's fortnight (1–15 May 2022, the 14 wards' reports published as
their agents would, the aggregator's clock stopped at 16 May 06:00), but the aggregator
keeps running: the page reads its retained state. What needs issue 12's other parts —
summary/… and series/… (part A), control/… and silences/… (part B) — is skipped (exit 77,
with the reason) while this aggregator does not publish them.

Each test leaves a screenshot in BUILD/test-dashboard/.
"""
import json
import os
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone

import browser
import cli_fixture
from harness import (AGGREGATOR_BIN, BA_DINH_WARDS, BUILD, SRC, Agent, Aggregator, Broker,
                     Skip, Subscriber, TempDir, run_tests, wait_for)

SHOTS = os.path.join(BUILD, "test-dashboard")
ROOT = "wardpulse/v1/"
TMP = TempDir()
DISTRICT = None


class District:
    """Broker (websockets listener serving a copy of BUILD/web), aggregator, the fortnight."""

    def __init__(self, tmp):
        import paho.mqtt.client as mqtt
        self.tmp = tmp
        self.site = os.path.join(tmp, "site")
        shutil.copytree(os.path.join(BUILD, "web"), self.site)
        self.broker = Broker(tmp, settings={"http_dir": self.site}).start()
        self.sub = Subscriber(self.broker.port, ROOT + "#")
        settings = dict(plan_dir=cli_fixture.PLAN, alert_repeat=0, batch_delay="5ms",
                        clock_start=cli_fixture.START.isoformat(), clock_rate=cli_fixture.RATE,
                        clock_stop=cli_fixture.END.isoformat())
        if knows_setting("web_dir"):          # part A: the weekly reports under the page
            settings["web_dir"] = self.site
        anchor = datetime.now(timezone.utc) + timedelta(seconds=1)
        settings["clock_anchor"] = anchor.isoformat(timespec="milliseconds")
        self.agg = Aggregator(tmp, self.broker.port, **settings).start()
        real = lambda sim: anchor.timestamp() + (sim - cli_fixture.START).total_seconds() / cli_fixture.RATE
        client = mqtt.Client(client_id="dashboard-fixture", clean_session=True)
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        seq = {}
        for when, ward, period, v in cli_fixture.schedule():
            delay = real(when) - time.time()
            if delay > 0:
                time.sleep(delay)
            n = seq[ward] = seq.get(ward, 0) + 1
            client.publish(ROOT + "report/" + ward, json.dumps(
                {"v": 1, "ward": ward, "stream": "00000000000000d1", "seq": n, "period": period,
                 "observed_at": when.isoformat(), "values": v}), qos=1)
        wait_for(lambda: cli_fixture.stored(self.agg.db) == sum(seq.values()), "reports stored")
        client.disconnect()
        client.loop_stop()
        delay = real(cli_fixture.END) - time.time()
        if delay > 0:
            time.sleep(delay)
        wait_for(lambda: cli_fixture.caught_up(self.agg.db), "the evaluations up to 16 May")
        for ward in BA_DINH_WARDS:           # the agents' birth messages
            self.publish("status/" + ward, {"v": 1, "ward": ward, "state": "online",
                                            "since": "2022-05-01T05:00:00+07:00", "queued": 0})
        self.publish("status/00034", {"v": 1, "ward": "00034", "state": "offline"})
        time.sleep(0.5)

    def publish(self, topic, payload):
        self.sub.client.publish(ROOT + topic, json.dumps(payload), qos=1, retain=True)

    def retained(self, prefix):
        """{topic: payload} of the last message on each topic under prefix (None: cleared)."""
        out = {}
        with self.sub.lock:
            for t, p, r in self.sub.messages:
                if t.startswith(ROOT + prefix):
                    out[t] = json.loads(p) if p else None
        return {t: p for t, p in out.items() if p is not None}

    def url(self, query=""):
        return "http://127.0.0.1:%d/%s" % (self.broker.ws_port, query)


def knows_setting(name):
    with open(AGGREGATOR_BIN, "rb") as f:
        return name.encode() in f.read()


def district():
    global DISTRICT
    why = browser.missing()
    if why:
        raise Skip(why)
    if DISTRICT is None:
        DISTRICT = District(TMP.__enter__())
    for p in (DISTRICT.broker, DISTRICT.agg):   # run_tests stops every process after a test
        if not p.alive():
            p.start()
    return DISTRICT


def open_page(d, user, query="", url=None, password="", **size):
    b = browser.Browser(**size)
    b.open(url or d.url(query))
    assert b.login(user, password) == "connected", b.console()
    return b


def shot(b, name):
    return b.screenshot(os.path.join(SHOTS, name + ".png"))


def level_words(b, scope):
    return b.driver.execute_script(
        "const r = document.querySelector(`#units-body tr[data-scope='${arguments[0]}']`);"
        "const l = r && r.querySelector('.level'); return l ? l.textContent : null;", scope)


def test_login_lists_the_14_wards_and_the_district_with_their_levels():
    d = district()
    levels = d.retained("level/001/")
    assert levels, "the aggregator published no level"
    # No ?district=: the page learns the served unit from the broker.
    with open_page(d, "operator") as b:
        b.wait(lambda dr: len(b.rows()) == 15, "15 rows")
        rows = b.rows()
        assert rows[0] == "district" and sorted(rows[1:]) == BA_DINH_WARDS, rows
        for topic, p in levels.items():
            scope = topic.rsplit("/", 1)[1]
            words = b.wait(lambda dr: level_words(b, scope), "the level of " + scope)
            assert "cấp độ %d" % p["level"] in words and "(màu " in words, (scope, words)
        link = b.driver.execute_script(
            "return document.querySelector(\"tr[data-scope='00034'] .link\").textContent")
        assert "ngoại tuyến" in link, link
        shot(b, "levels-vi")
        b.driver.find_element("id", "lang").click()
        b.wait(lambda dr: "level 4" in (level_words(b, "00001") or ""), "English words")
        shot(b, "levels-en")
    with open_page(d, "operator", "?district=001", width=390, height=844) as b:
        b.wait(lambda dr: len(b.rows()) == 15, "15 rows on a phone")
        display = b.driver.execute_script(
            "return [getComputedStyle(document.querySelector('#units thead')).display,"
            " getComputedStyle(document.querySelector('#units-body tr')).display]")
        assert display[0] == "none" and display[1] != "table-row", display   # cards, not a table
        shot(b, "phone")


def test_rows_show_coverage_per_target_and_the_charts():
    d = district()
    summaries = d.retained("summary/001/")
    if not summaries:
        raise Skip("the aggregator publishes no summary/001/… (issue 12 part A not merged)")
    with open_page(d, "operator", "?district=001") as b:
        b.wait(lambda dr: len(b.rows()) == len(summaries), "a row per summary")
        for topic, p in summaries.items():
            scope = topic.rsplit("/", 1)[1]
            for c in p["coverage"]:
                pct = ("—" if c["value"] is None                # no figure yet
                       else ("%.1f" % (c["value"] * 100)).removesuffix(".0").replace(".", ",")
                       + "%")
                text = b.wait(lambda dr: dr.execute_script(
                    "const e = document.querySelector(`tr[data-scope='${arguments[0]}'] "
                    ".bar-row[data-rule='${arguments[1]}'] .bar-pct`); return e && e.textContent",
                    scope, c["rule"]), "coverage of %s %s" % (scope, c["rule"]))
                assert text == pct, (scope, c["rule"], text, pct)
        series = d.retained("series/001/")
        b.wait(lambda dr: len(dr.find_elements("css selector", "svg.chart")) == len(series),
               "a chart per series")
        shot(b, "coverage")


def test_an_alert_appears_without_reload_and_its_resolve_removes_it():
    d = district()
    agent = Agent(d.tmp, "00008", d.broker.port).start()
    rule = "severe-treated"          # 100 % of severe patients treated, per period
    selector = "#alerts li[data-rule='%s'][data-scope='00008']" % rule
    with open_page(d, "operator", "?district=001") as b:
        b.wait(lambda dr: len(b.rows()) == 15, "15 rows")
        text_of = lambda dr: " ".join(e.text for e in dr.find_elements("css selector", selector))
        # Before: at most the warning that Liễu Giai never sent these figures.
        assert "3/5" not in text_of(b.driver), text_of(b.driver)
        agent.submit("2022-05-15", {"severe_active": 5, "severe_treated": 3})
        text = b.wait(lambda dr: "3/5" in text_of(dr) and text_of(dr), "the alert", 30)
        assert "Phường Liễu Giai" in text and "3/5" in text, text
        assert "nghiêm trọng" in text, text          # the severity in words, not colour only
        b.wait(lambda dr: "Phường Liễu Giai" in dr.find_element("id", "feed").text, "the feed")
        shot(b, "alert-firing")
        agent.submit("2022-05-15", {"severe_active": 5, "severe_treated": 5})
        b.wait(lambda dr: not dr.find_elements("css selector", selector), "the resolve", 30)
        assert "đã khắc phục" in b.driver.find_element("id", "feed").text
        shot(b, "alert-resolved")
    agent.stop()


def test_the_weekly_reports_list_links_to_the_reports_the_broker_serves():
    """The aggregator writes the finished weeks under web_dir, here the broker's http_dir
    (as the package's drop-in binds them there); the page lists them from reports/index.json
    and a click opens the report from the broker."""
    d = district()
    if not knows_setting("web_dir"):
        raise Skip("the aggregator has no web_dir (issue 12 part A not merged)")
    index_path = os.path.join(d.site, "reports", "index.json")
    wait_for(lambda: os.path.exists(index_path)
             and json.load(open(index_path, encoding="utf-8"))["reports"], "reports/index.json")
    with open(index_path, encoding="utf-8") as f:
        index = json.load(f)
    # 1–15 May: W17 (it holds 1 May), W18 and W19 are finished when the clock stops on 16 May.
    assert [r["week"] for r in index["reports"]] == ["2022-W19", "2022-W18", "2022-W17"], index
    with open_page(d, "operator", "?district=001") as b:
        # Read in one script: the page may draw the list again (a render of everything)
        # between two WebDriver calls, which would leave their elements stale.
        read = ("return [...document.querySelectorAll('#reports a')]"
                ".map(a => [a.getAttribute('href'), a.textContent]);")
        links = b.wait(lambda dr: len(dr.execute_script(read)) == 3 and dr.execute_script(read),
                       "the report list")
        assert [href.rsplit("/", 1)[1] for href, _ in links] == \
            [r["file"] for r in index["reports"]], links
        assert "2022-W19" in links[0][1], links[0][1]
        shot(b, "reports-list")
        b.driver.execute_script("document.querySelector('#reports a').click();")
        b.wait(lambda dr: dr.current_url.endswith("/reports/001-2022-W19.html"), "the report")
        h1 = b.wait(lambda dr: dr.find_element("tag name", "h1").text, "the report's heading")
        assert h1 == "Báo cáo tuần 19/2022 — Quận Ba Đình", h1
        assert b.driver.find_elements("css selector", "svg"), "the report has no chart"
        shot(b, "report-opened")


def test_the_page_reconnects_after_a_broker_restart():
    d = district()
    with open_page(d, "operator", "?district=001") as b:
        b.wait(lambda dr: len(b.rows()) == 15, "15 rows")
        body = lambda dr: dr.find_element("tag name", "body").get_attribute("data-connection")
        d.broker.stop()
        b.wait(lambda dr: body(dr) == "offline", "the page to see the broker gone")
        firing = d.retained("alert/001/")
        d.broker.start()
        b.wait(lambda dr: body(dr) == "connected", "the reconnection", 30)
        b.wait(lambda dr: len(b.rows()) == 15, "15 rows again")
        shown = b.wait(lambda dr: dr.execute_script(
            "return document.querySelectorAll('#alerts li.alert').length"), "the alerts again")
        assert shown == len(firing), (shown, len(firing))      # each once, none twice
        assert b.driver.find_element("id", "connection").text == "Đã kết nối"


class StaticHTTPS:
    """A static HTTPS server as the district's own (broker-config/nginx-wardpulse.conf): the
    page's files from site, /reports/ from reports (the aggregator's web_dir), /config.json
    pointing the page at the broker's wss listener. Python's http.server wrapped in TLS
    with the test CA's server certificate, in a thread of the test."""

    def __init__(self, site, reports, cfg, cert, key):
        import functools
        import ssl
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
        body = json.dumps(cfg).encode()
        self.requests = []

        class Handler(SimpleHTTPRequestHandler):
            def translate_path(h, path):
                clean = path.split("?", 1)[0]
                if clean.startswith("/reports/"):
                    return os.path.join(reports, os.path.basename(clean))
                return super().translate_path(path)

            def do_GET(h):
                self.requests.append(h.requestline)
                if h.path.split("?", 1)[0] == "/config.json":
                    h.send_response(200)
                    h.send_header("Content-Type", "application/json")
                    h.send_header("Content-Length", str(len(body)))
                    h.end_headers()
                    h.wfile.write(body)
                    return
                super().do_GET()

            def log_message(h, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=site))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self):
        return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Nginx:
    """nginx with broker-config/nginx-wardpulse.conf as shipped: port, certificate, the
    page's, the reports' directories and the broker's wss port moved; nothing else changed."""

    def __init__(self, tmp, site, reports, wss_port, cert, key):
        from harness import free_port
        with open(os.path.join(SRC, "broker-config", "nginx-wardpulse.conf")) as f:
            conf = f.read()
        self.port = free_port()
        for old, new in (("listen 443 ssl http2;", "listen 127.0.0.1:%d ssl http2;" % self.port),
                         ("listen [::]:443 ssl http2;", ""),
                         ("/etc/mosquitto/certs/broker.crt", cert),
                         ("/etc/mosquitto/certs/broker.key", key),
                         ("/var/lib/wardpulse/web/reports/", reports + "/"),
                         ("/usr/share/wardpulse/web", site),
                         ('"wss_port": 8884', '"wss_port": %d' % wss_port)):
            assert old in conf, "nginx-wardpulse.conf has no %r any more" % old
            conf = conf.replace(old, new)
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(self.dir)
        main = os.path.join(self.dir, "nginx.conf")
        with open(main, "w") as f:
            # As root, nginx's workers would run as nobody, who cannot enter the test's
            # directories: they run as root here (as the test's user otherwise).
            f.write("user root;\n" if os.geteuid() == 0 else "")
            f.write("daemon off; pid {d}/nginx.pid; error_log {d}/error.log;\n"
                    "events {{}}\nhttp {{\ninclude /etc/nginx/mime.types;\n"
                    "access_log {d}/access.log;\nclient_body_temp_path {d};\n"
                    "proxy_temp_path {d};\nfastcgi_temp_path {d};\nuwsgi_temp_path {d};\n"
                    "scgi_temp_path {d};\n{conf}\n}}\n".format(d=self.dir, conf=conf))
        r = subprocess.run(["nginx", "-t", "-c", main, "-p", self.dir], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        self.proc = subprocess.Popen(["nginx", "-c", main, "-p", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import socket
        wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", self.port)) == 0, "nginx")

    def paths(self):
        with open(os.path.join(self.dir, "access.log")) as f:
            return [line.split('"')[1] for line in f if '"' in line]

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def production_broker(tmp):
    """broker-config/mosquitto.conf as shipped (paths and ports moved) with an operator
    alice and the aggregator's account publishing one level; (broker, password, client)."""
    import test_security as sec
    _, pw = sec.provision(tmp, "alice", "operator")
    _, pw_agg = sec.provision(tmp, None, "aggregator")
    broker = sec.SecureBroker(tmp)
    broker.start()
    level = {"v": 1, "district": "001", "scope": "00001", "name": "Phường Phúc Xá",
             "week": "2022-W19", "level": 4, "color": "red"}
    agg = sec.Client(broker.port, sec.AGGREGATOR_USER, pw_agg)
    agg.publish(ROOT + "level/001/00001", level, retain=True)
    return broker, pw, agg


def test_production_page_from_an_https_server_in_a_normal_browser():
    """The production set-up (docs/dashboard.md): the district's HTTPS server serves the
    page and the reports, the page connects to mosquitto's wss listener for MQTT only. A
    browser as an office PC runs it — HTTP/2 on, the district's CA trusted, no flag that
    weakens TLS — loads the page, is refused with a wrong password, logs in with the right
    one, shows the level and opens a weekly report from the list. The server is nginx with
    broker-config/nginx-wardpulse.conf when nginx is installed (the page then comes over
    HTTP/2), else a stand-in with the same layout (StaticHTTPS)."""
    why = browser.missing() or browser.missing_certutil()
    if why:
        raise Skip(why)
    import test_security as sec
    pki = sec.PKI.get()
    with TempDir() as tmp:
        broker, pw, agg = production_broker(tmp)
        reports = os.path.join(tmp, "reports")
        os.makedirs(reports)
        with open(os.path.join(reports, "001-2022-W19.html"), "w") as f:
            f.write('<!doctype html><meta charset="utf-8"><title>Báo cáo tuần 2022-W19</title>'
                    '<h1>Tuần 2022-W19</h1>')
        with open(os.path.join(reports, "index.json"), "w") as f:
            json.dump({"v": 1, "district": "001", "reports": [
                {"week": "2022-W19", "from": "2022-05-09", "to": "2022-05-15",
                 "file": "001-2022-W19.html"}]}, f)
        if shutil.which("nginx"):        # the shipped nginx-wardpulse.conf itself
            site = Nginx(tmp, os.path.join(BUILD, "web"), reports, broker.ws_port,
                         pki.server_cert, pki.server_key)
        else:                            # the same arrangement in a stand-in
            site = StaticHTTPS(os.path.join(BUILD, "web"), reports,
                               {"ws_port": None, "wss_port": broker.ws_port, "path": ""},
                               pki.server_cert, pki.server_key)
        url = "https://127.0.0.1:%d/?district=001" % site.port
        try:
            with browser.Browser(ca=pki.ca) as b:
                b.open(url)
                assert b.login("alice", "wrong") == "refused", b.console()
            with browser.Browser(ca=pki.ca) as b:
                b.open(url)
                assert b.login("alice", pw) == "connected", b.console()
                assert b.driver.execute_script("return location.protocol") == "https:"
                if isinstance(site, Nginx):
                    assert b.driver.execute_script(
                        "return performance.getEntriesByType('navigation')[0].nextHopProtocol"
                    ) == "h2"
                b.wait(lambda dr: "cấp độ 4" in (level_words(b, "00001") or ""),
                       "the level over wss")
                shot(b, "production-https-server")
                link = b.wait(lambda dr: dr.find_elements("css selector", "#reports a"),
                              "the report list")[0]
                assert "2022-W19" in link.text, link.text
                link.click()
                b.wait(lambda dr: "Tuần 2022-W19" in dr.find_element("tag name", "h1").text,
                       "the report opened (at %s)" % b.driver.current_url)
                assert b.driver.current_url.startswith("https://127.0.0.1:%d/reports/" % site.port)
        finally:
            site.close()
            agg.close()
            paths = [p.split()[1].split("?", 1)[0] for p in site.paths()]
        assert "/config.json" in paths and "/reports/001-2022-W19.html" in paths, paths


def test_the_production_listener_serves_the_page_over_https_and_wss_without_http2():
    """The broker's own TLS listener serving http_dir: works for a browser without HTTP/2
    only (mosquitto 2.0.11 serves no file over HTTP/2, eclipse-mosquitto/mosquitto#2251;
    docs/dashboard.md). The district's CA trusted as above; --disable-http2 is the one flag."""
    why = browser.missing() or browser.missing_certutil()
    if why:
        raise Skip(why)
    import test_security as sec
    with TempDir() as tmp:
        broker, pw, agg = production_broker(tmp)
        url = "https://127.0.0.1:%d/?district=001" % broker.ws_port
        with browser.Browser(flags=["--disable-http2"], ca=sec.PKI.get().ca) as b:
            b.open(url)
            assert b.login("alice", pw) == "connected", b.console()
            assert b.driver.execute_script("return location.protocol") == "https:"
            b.wait(lambda dr: "cấp độ 4" in (level_words(b, "00001") or ""), "the level over wss")
            shot(b, "production-wss")
        agg.close()


def control_replies(d):
    """Does this aggregator answer control/… (part B)? A harmless malformed command, sent
    again a few times: the broker and the aggregator may have just been restarted
    (district()), and a command sent before the aggregator subscribed is not delivered."""
    for _ in range(4):
        seen = len(d.sub.messages)
        d.sub.client.publish(ROOT + "control/001/ack",
                             json.dumps({"v": 1, "id": "probe-dashboard"}), qos=1)
        try:
            wait_for(lambda: any(t.startswith(ROOT + "control/001/reply/")
                                 for t, p, r in d.sub.messages[seen:]), "a reply", timeout=5)
            return True
        except AssertionError:
            pass
    return False


def test_officer_acknowledges_and_silences_from_the_page():
    d = district()
    if not control_replies(d):
        raise Skip("the aggregator does not answer control/001/… (issue 12 part B not merged)")
    firing = d.retained("alert/001/")
    assert firing, "the fortnight leaves alerts firing"
    topic, alert = sorted(firing.items())[0]
    selector = "#alerts li[data-rule='%s'][data-scope='%s']" % (alert["rule"], alert["scope"])
    with open_page(d, "officer-001", "?district=001") as b:
        item = b.wait(lambda dr: dr.find_elements("css selector", selector), "the alert")[0]
        item.find_element("css selector", ".ack-btn").click()
        b.driver.find_element("css selector", "#command-dialog input[name=note]").send_keys("Đã gọi phường")
        b.driver.find_element("css selector", "#command-dialog button[value=send]").click()
        b.wait(lambda dr: "✓" in dr.find_element("id", "command-status").text, "the ack's reply")
        b.wait(lambda dr: "Đã gọi phường" in dr.find_element("css selector", selector).text,
               "the acknowledged mark")
        b.driver.find_element("css selector", selector + " .silence-btn").click()
        until = b.driver.find_element("css selector", "#command-dialog input[name=until]")
        b.driver.execute_script("arguments[0].value = '2022-06-01T00:00'", until)
        b.driver.find_element("css selector", "#command-dialog button[value=send]").click()
        b.wait(lambda dr: "✓" in dr.find_element("id", "command-status").text, "the silence's reply")
        b.wait(lambda dr: dr.find_elements("css selector", selector + " .mark.silenced"), "silenced")
        assert d.retained("silences/001")[ROOT + "silences/001"]["silences"]
        shot(b, "officer")


def test_against_a_stand_in_aggregator_the_contracts_topics_show_and_the_buttons_work():
    """The page's side of the contract, whatever this aggregator does: a stand-in publishes a
    summary and a series as part A's would, and answers each command as part B's would (an
    error for the silence, to see one shown)."""
    d = district()
    with TempDir() as tmp:
        broker = Broker(tmp, settings={"http_dir": d.site}).start()
        alert = {"v": 1, "rule": "daily-report", "kind": "report_missing", "scope": "00004",
                 "district": "001", "severity": "warning", "state": "firing",
                 "since": "2022-05-15T17:00:00+07:00", "summary": {"vi": "Trúc Bạch chưa gửi", "en": "x"}}
        stand_in = Subscriber(broker.port, ROOT + "control/001/+")
        stand_in.client.publish(ROOT + "alert/001/00004/daily-report", json.dumps(alert), 1, True)
        stand_in.client.publish(ROOT + "silences/001", json.dumps(
            {"v": 1, "district": "001", "at": "2022-05-16T06:00:00+07:00", "silences": [
                {"id": "s-1", "rule": None, "scope": "00034", "until": "2022-06-01T00:00:00+07:00",
                 "by": "officer-001", "comment": "mất điện", "created_at": "2022-05-16T06:00:00+07:00"}]}),
            1, True)

        # The contract's summary and series (part A) as the stand-in publishes them.
        summary = {"v": 1, "district": "001", "scope": "00004", "unit": "00004", "level_of_unit": "ward",
                   "name": {"vi": "Phường Trúc Bạch", "en": "Truc Bach ward"},
                   "at": "2022-05-16T06:00:00+07:00", "last_report": "2022-05-15T16:02:00+07:00",
                   "reporting": {"expected": 15, "received": 14, "on_time": 13,
                                 "completeness": 0.933, "timeliness": 0.867},
                   "level": {"level": 3, "week": "2022-W19", "colour": "orange", "incomplete": False,
                             "name": {"vi": "cấp độ 3 – nguy cơ cao (màu cam)",
                                      "en": "level 3 – high risk (orange)"}},
                   "alerts": {"firing": 1, "critical": 0},
                   "coverage": [{"rule": "kids-5-11-full", "name": {"vi": "Trẻ 5–11", "en": "Kids 5–11"},
                                 "value": 0.713, "target": 1.0, "deadline": "2022-08-31"}]}
        series = {"v": 1, "district": "001", "rule": "kids-5-11-full",
                  "name": {"vi": "Trẻ 5–11", "en": "Kids 5–11"}, "target": 1.0,
                  "deadline": "2022-08-31", "at": "2022-05-16T06:00:00+07:00",
                  "units": [{"scope": "district", "name": {"vi": "Quận Ba Đình", "en": "Ba Dinh"},
                             "points": [["2022-05-01", 0.41], ["2022-05-15", 0.45]]},
                            {"scope": "00004", "name": {"vi": "Phường Trúc Bạch", "en": "Truc Bach"},
                             "points": [["2022-05-01", 0.69], ["2022-05-15", 0.713]]}]}
        stand_in.client.publish(ROOT + "summary/001/00004", json.dumps(summary), 1, True)
        stand_in.client.publish(ROOT + "series/001/kids-5-11-full", json.dumps(series), 1, True)

        def commands():
            return [(t.rsplit("/", 1)[1], json.loads(p)) for t, p, r in stand_in.messages]

        def answer(n, reply):
            cmd, p = wait_for(lambda: len(commands()) >= n and commands()[n - 1], "command %d" % n)
            stand_in.client.publish(ROOT + "control/001/reply/" + p["id"],
                                    json.dumps(dict(reply, v=1, id=p["id"])), 1)
            return cmd, p

        with open_page(d, "officer-001", url="http://127.0.0.1:%d/?district=001" % broker.ws_port) as b:
            item = b.wait(lambda dr: dr.find_elements("css selector", "#alerts li.alert"), "the alert")[0]
            b.wait(lambda dr: dr.find_elements("css selector", "svg.chart"), "the chart")
            assert len(b.driver.find_elements("css selector", "svg.chart polyline")) == 2
            row = b.driver.find_element("css selector", "tr[data-scope='00004']").text
            assert "71,3%" in row and "93,3% / 86,7%" in row and "cấp độ 3" in row, row
            item.find_element("css selector", ".ack-btn").click()
            b.driver.find_element("css selector", "#command-dialog input[name=note]").send_keys("Đã gọi")
            b.driver.find_element("css selector", "#command-dialog button[value=send]").click()
            cmd, p = answer(1, {"ok": True})
            assert cmd == "ack" and p["rule"] == "daily-report" and p["scope"] == "00004", p
            assert p["by"] == "officer-001" and p["note"] == "Đã gọi", p
            b.wait(lambda dr: "✓" in dr.find_element("id", "command-status").text, "the ack's reply")
            b.driver.find_element("css selector", "#alerts .silence-btn").click()
            b.driver.find_element("css selector", "#command-dialog button[value=send]").click()
            cmd, p = answer(2, {"ok": False, "error": "until is in the past"})
            assert cmd == "silence" and p["rule"] == "daily-report" and p["until"].endswith("+07:00"), p
            b.wait(lambda dr: "until is in the past" in dr.find_element("id", "command-status").text,
                   "the refusal shown")
            shot(b, "officer-stand-in")
            b.driver.find_element("css selector", "#silences .unsilence-btn").click()
            cmd, p = answer(3, {"ok": True})
            assert cmd == "unsilence" and p["silence"] == "s-1", p
        stand_in.close()


def test_operator_sees_no_buttons_and_the_broker_refuses_its_control_publish():
    d = district()
    with open_page(d, "operator", "?district=001") as b:
        b.wait(lambda dr: dr.find_elements("css selector", "#alerts li.alert"), "the alerts")
        assert not b.driver.find_elements("css selector", ".ack-btn, .silence-btn, .unsilence-btn")
        assert not b.driver.find_element("id", "silence-new").is_displayed()
        shot(b, "operator")
    # The ACL: an operator's account publishing on control/… (part B's officer role).
    r = subprocess.run([os.path.join(SRC, "broker-config", "provision-ward.sh"), "--help"],
                       capture_output=True, text=True)
    if "officer" not in r.stdout + r.stderr:
        raise Skip("provision-ward.sh has no officer role yet (issue 12 part B not merged)")
    import test_security as sec         # the production broker, its accounts and clients
    with TempDir() as tmp:
        _, pw_agg = sec.provision(tmp, None, "aggregator")
        _, pw_op = sec.provision(tmp, "alice", "operator")
        _, pw_officer = sec.provision(tmp, "officer-001", "officer")
        broker = sec.SecureBroker(tmp).start()
        agg = sec.Client(broker.port, sec.AGGREGATOR_USER, pw_agg)
        agg.subscribe(ROOT + "control/#")
        command = {"v": 1, "id": "r1", "by": "alice", "rule": "daily-report", "scope": "00004",
                   "note": "operator"}
        sec.Client(broker.port, "alice", pw_op).publish(ROOT + "control/001/ack", command)
        sec.Client(broker.port, "officer-001", pw_officer).publish(
            ROOT + "control/001/ack", dict(command, id="r2", by="officer-001", note="officer"))
        wait_for(lambda: agg.payloads(ROOT + "control/001/ack"), "the officer's command")
        time.sleep(0.3)
        assert [p["id"] for p in agg.payloads(ROOT + "control/001/ack")] == ["r2"], agg.messages


if __name__ == "__main__":
    try:
        run_tests(globals())
    finally:
        if DISTRICT is not None:
            DISTRICT.sub.close()
            TMP.__exit__(None, None, None)
