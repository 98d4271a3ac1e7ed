"""The live page's time from login to a full table for a city of 579 units, in chromium.

A broker (broker-config/mosquitto-dev.conf, its websockets listener serving BUILD/web) holds
what a city aggregator would have published, retained: a summary/<city>/<scope> payload (the
issue 12 contract: name, last report, reporting, level, alerts, five coverage targets) for
each of 579 units and for the city itself (scope `district`), their level/<city>/<scope> and
the units' status/<code>. Headless chromium (browser.py) opens the page; the time runs from
the click on "Đăng nhập" to the moment the table holds all 580 rows (measured in the page:
performance.now(), polled every animation frame). Each run is a fresh browser profile.

    /usr/bin/python3 bench/dashboard.py [--build build] [--units 579] [--repeat 5]

Needs chromium, chromium-driver and python3-selenium (scripts/install-deps.sh --tests).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "replay"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))

CITY = "01"
RULES = ["kids-5-11-full", "booster-18p", "catch-up-18p-dose2", "catch-up-65p-full", "frontline-full"]
LEVELS = {1: "green", 2: "yellow", 3: "orange", 4: "red"}


def summary(scope, i):
    level = 1 + i % 4
    return {"v": 1, "district": CITY, "scope": scope, "unit": scope if scope != "district" else CITY,
            "level_of_unit": "ward" if scope != "district" else "city",
            "name": {"vi": "Phường số %d" % i, "en": "Ward no. %d" % i} if scope != "district"
            else {"vi": "Thành phố Hà Nội", "en": "Ha Noi city"},
            "at": "2022-08-15T00:00:00+07:00", "last_report": "2022-08-14T16:02:00+07:00",
            "reporting": {"expected": 105, "received": 104, "on_time": 101,
                          "completeness": 0.990, "timeliness": 0.962},
            "level": {"level": level, "week": "2022-W32", "colour": LEVELS[level],
                      "name": None, "incomplete": False},
            "alerts": {"firing": i % 3, "critical": i % 2},
            "coverage": [{"rule": r, "name": {"vi": r, "en": r}, "value": round(0.5 + (i % 50) / 100, 3),
                          "target": 1.0, "deadline": "2022-08-31"} for r in RULES]}


def load(port, n):
    """Publishes the retained state of a city of n units (QoS 1, all acknowledged)."""
    import paho.mqtt.client as mqtt
    c = mqtt.Client(client_id="bench-dashboard", clean_session=True)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    infos = []
    scopes = ["district"] + ["%05d" % (10001 + i) for i in range(n)]
    for i, scope in enumerate(scopes):
        s = summary(scope, i)
        s["level"]["name"] = None
        del s["level"]["name"]
        infos.append(c.publish("wardpulse/v1/summary/%s/%s" % (CITY, scope), json.dumps(s), 1, True))
        infos.append(c.publish("wardpulse/v1/level/%s/%s" % (CITY, scope), json.dumps(
            {"v": 1, "district": CITY, "scope": scope, "name": s["name"]["vi"], "week": "2022-W32",
             "level": s["level"]["level"], "color": s["level"]["colour"]}), 1, True))
        if scope != "district":
            infos.append(c.publish("wardpulse/v1/status/" + scope, json.dumps(
                {"v": 1, "ward": scope, "state": "online" if i % 7 else "offline",
                 "since": "2022-08-14T07:00:00+07:00"}), 1, True))
    for info in infos:
        info.wait_for_publish(30)
    c.loop_stop()
    c.disconnect()
    return len(scopes), len(infos)


WATCH = """
const want = arguments[0];
window.__bench = {t0: performance.now(), t1: null};
(function poll() {
  if (document.querySelectorAll('#units-body tr').length >= want)
    window.__bench.t1 = performance.now();
  else requestAnimationFrame(poll);
})();
document.querySelector('#login-form button[type=submit]').click();
"""


def run_once(browser, url, rows):
    with browser.Browser(1366, 768) as b:
        b.open(url)
        b.driver.find_element("id", "user").send_keys("bench")
        b.driver.execute_script(WATCH, rows)
        t = b.wait(lambda d: d.execute_script("return window.__bench.t1 && "
                                              "window.__bench.t1 - window.__bench.t0"),
                   "%d rows" % rows, 120)
        return t / 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--units", type=int, default=579)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    import replay_driver
    h = replay_driver.harness_for(args.build)
    import browser
    why = browser.missing()
    if why:
        sys.exit("bench/dashboard.py: " + why)
    with h.TempDir() as tmp:
        broker = h.Broker(tmp).start()
        try:
            rows, messages = load(broker.port, args.units)
            url = "http://127.0.0.1:%d/?district=%s" % (broker.ws_port, CITY)
            times = [run_once(browser, url, rows) for _ in range(args.repeat)]
        finally:
            h.Process.stop_all()
    print("city of %d units: %d rows (with the city's own), %d retained messages" % (args.units, rows, messages))
    print("login → full table: median %.3f s, min %.3f s, max %.3f s over %d runs (%s)"
          % (statistics.median(times), min(times), max(times), len(times),
             ", ".join("%.3f" % t for t in times)))
    print("machine: %s, %d cores, %s; %s" % (platform.node(), os.cpu_count(), platform.platform(),
                                            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))


if __name__ == "__main__":
    main()
