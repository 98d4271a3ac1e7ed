"""make demo — Ba Đình's May–September 2022 replayed through wardpulse, about a day per second.

Starts a local mosquitto (broker-config/mosquitto-dev.conf) on a free loopback port, the
aggregator on plans/ba-dinh-2022 and the 14 ward agents, all on one simulated clock from
01/05/2022, and feeds the agents the wards' daily reports of the 2022 replay with its known faults
(tests/replay/replay2022.py, through tests/replay/replay_driver.py). It prints every alert as it fires or
resolves (wardpulse/v1/events/alert) and a line per simulated week, then `wardpulse status`.
The live page (docs/dashboard.md) is served by the broker's websockets listener from the start:
its address is printed as the replay starts. At the end a screenshot of the page is left in
BUILD/demo/dashboard.png (when chromium, chromium-driver and python3-selenium are installed),
and, run from a terminal, the broker and the agents keep serving the page until Ctrl-C.
Then it stops everything it started. All files stay in BUILD/demo/.

Usage: /usr/bin/python3 scripts/demo.py BUILD_DIR [--end 2022-09-30] [--rate 86400]
"""
import sys

sys.dont_write_bytecode = True   # nothing outside BUILD/demo, not even __pycache__

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import textwrap  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "replay"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))   # browser.py, the screenshot

EVENTS = "wardpulse/v1/events/alert"
SEVERITY_VI = {"info": "thông tin", "warning": "cảnh báo", "critical": "nghiêm trọng"}


def vn_date(d):
    return d.strftime("%d/%m/%Y")


def vn_instant(text):
    t = datetime.datetime.fromisoformat(text)
    return t.strftime("%d/%m/%Y %H:%M")


def fault_lines(replay):
    """The replay's known faults, in Vietnamese."""
    name = lambda code: replay.plan.units[code]["name_vi"]
    rules = replay.plan.rules
    out = []
    for f in replay.faults:
        k = f["kind"]
        if k == "coverage_lag" and f.get("all_wards"):
            out.append("cả 14 phường tiêm mũi nhắc lại cho người 18+ theo đúng tốc độ năm 2022, "
                       "không kịp mục tiêu %s %% trước %s"
                       % (int(float(f["target"]) * 100),
                          vn_date(datetime.date.fromisoformat(f["deadline"]))))
        elif k == "coverage_lag":
            out.append("%s chậm tiêm đủ liều cho trẻ 5–11 tuổi (hạn %s)"
                       % (", ".join(name(w) for w in f["wards"]),
                          vn_date(datetime.date.fromisoformat(f["deadline"]))))
        elif k == "report_gap":
            days = [datetime.date.fromisoformat(p) for p in f["periods"]]
            out.append("%s không gửi báo cáo các ngày %s–%s, gửi bổ sung sáng %s"
                       % (name(f["ward"]), days[0].strftime("%d/%m"), vn_date(days[-1]),
                          vn_date(datetime.datetime.fromisoformat(f["backfill_at"]).date())))
        elif k == "cumulative_decrease":
            ind = replay.plan.indicators[f["indicator"]]["name"]["vi"]
            out.append("%s nhập sai số cộng dồn \"%s\" ngày %s (giảm %d), sửa lại hôm sau"
                       % (name(f["ward"]), ind,
                          vn_date(datetime.date.fromisoformat(f["period"])), f["drop"]))
        elif k == "task_late":
            rule = rules[f["rule"]]
            out.append("%s hoàn thành nhiệm vụ \"%s\" muộn (hạn %s)"
                       % (name(f["ward"]), rule["name"]["vi"],
                          vn_date(datetime.date.fromisoformat(f["due"]))))
    return out


class Screen:
    """Lines for the officer watching: one per alert transition, one per simulated week."""

    def __init__(self):
        self.clock = None        # the driver's simulated clock, once it runs
        self.lock = threading.Lock()
        self.width = max(60, min(120, shutil.get_terminal_size((100, 24)).columns))
        self.firing = {}
        self.transitions = 0

    def say(self, text="", indent=0):
        with self.lock:
            print(textwrap.fill(text, self.width, subsequent_indent=" " * indent)
                  if text else "", flush=True)

    def on_alert(self, client, userdata, msg):
        try:
            a = json.loads(msg.payload)
        except ValueError:
            return
        key = (a["rule"], a["scope"])
        when = vn_instant(a["since"])
        if a["state"] == "resolved":
            self.firing.pop(key, None)
            label = "✓ đã hết"
        elif key in self.firing:
            # A change of severity (at risk → missed): "since" stays the episode's start, so
            # the date shown is the midnight after the deadline, or the clock's time now.
            label = "▲ %s" % SEVERITY_VI.get(a["severity"], a["severity"])
            self.firing[key] = a
            if a["kind"] == "coverage" and a.get("deadline"):
                when = vn_date(datetime.date.fromisoformat(a["deadline"])
                               + datetime.timedelta(days=1)) + " 00:00"
            elif self.clock:
                when = self.clock.now().strftime("%d/%m/%Y %H:%M")
        else:
            label = "● %s" % SEVERITY_VI.get(a["severity"], a["severity"])
            self.firing[key] = a
        self.transitions += 1
        with self.lock:        # one line each, whatever its length: the terminal wraps it
            print("%s  %-15s %s" % (when, label, a["summary"]["vi"]), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", nargs="?", default="build")
    ap.add_argument("--end", default="2022-09-30", help="last day replayed (default 2022-09-30)")
    ap.add_argument("--rate", type=int, default=86400,
                    help="simulated seconds per real second (default 86400: a day per second)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    os.environ["WP_BUILD_DIR"] = build
    import replay2022
    import replay_driver
    h = replay_driver.harness_for(build)

    run_dir = os.path.join(build, "demo")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    screen = Screen()
    say = screen.say
    started = time.monotonic()
    faults = replay_driver.faults_within(replay2022.DEFAULT_FAULTS, replay2022.DEFAULT_START,
                                         args.end)
    # The weekly reports under the page the broker serves (BUILD/web/reports/), once the
    # aggregator has the web_dir setting (issue 12 part A).
    with open(h.AGGREGATOR_BIN, "rb") as f:
        web = {"web_dir": os.path.join(build, "web")} if b"web_dir" in f.read() else {}
    drv = replay_driver.ReplayDriver(run_dir, build_dir=build, end=args.end, faults=faults,
                                     rate=args.rate, aggregator_settings=web)
    plan = drv.replay.plan
    district = plan.units[plan.district]["name_vi"]
    first = drv.replay.start
    subscriber = None
    try:
        say("wardpulse — mô phỏng %s từ %s đến %s, khoảng %s giây cho một ngày"
            % (district, vn_date(first), vn_date(drv.replay.end),
               ("%.1f" % (86400 / args.rate)).replace(".", ",").replace(",0", "")))
        say("Dữ liệu: báo cáo hằng ngày của 14 phường (mô hình theo số liệu năm 2022), "
            "với các sự cố đã biết:")
        for line in fault_lines(drv.replay):
            say("  – " + line, indent=4)
        say()

        def on_broker(broker):
            nonlocal subscriber
            subscriber = h.Subscriber(broker.port, EVENTS, client_id="wardpulse-demo")
            subscriber.client.on_message = screen.on_alert
        drv.start(on_broker=on_broker)
        screen.clock = drv.clock
        say("Máy chủ MQTT  mosquitto trên 127.0.0.1:%d (cấu hình phát triển)" % drv.broker.port)
        say("Tổng hợp     wardpulse-aggregator, kế hoạch %s, CSDL %s"
            % (os.path.relpath(drv.plan_dir, SRC), os.path.relpath(drv.aggregator.db)))
        say("Phường       14 wardpulse-agent (%s)"
            % ", ".join(plan.units[w]["name_vi"].replace("Phường ", "") for w in drv.replay.wards),
            indent=13)
        say("Theo dõi     mosquitto_sub -p %d -t 'wardpulse/v1/alert/#' -v" % drv.broker.port)
        page = dashboard_url(drv)
        say("Bảng theo dõi %s (đăng nhập bằng tên bất kỳ, không cần mật khẩu: máy chủ phát "
            "triển cho phép mọi người)" % page, indent=13)
        say()
        say("Mỗi dòng dưới đây là một cảnh báo bật (●), nặng thêm (▲) hoặc hết (✓), với ngày giờ "
            "mô phỏng. Để kịp giờ chốt 17:00 khi một ngày chỉ dài khoảng một giây, các phường gửi "
            "báo cáo trong ngày từ khoảng 1 giờ sáng (giữ nguyên thứ tự).")
        say()

        counted = [0]

        def on_day(day):
            if day.weekday() != 0:
                return          # a line each Monday for the week that just ended
            monday = max(first, day - datetime.timedelta(days=7))
            sent, counted[0] = len(drv.handed) - counted[0], len(drv.handed)
            y, w, _ = monday.isocalendar()
            sunday = day - datetime.timedelta(days=1)
            days = vn_date(sunday) if monday == sunday else "%s–%s" % (monday.strftime("%d/%m"),
                                                                       vn_date(sunday))
            say("── Tuần %d/%d (%s): %d báo cáo của các phường; %d cảnh báo đang bật ──"
                % (w, y, days, sent, len(screen.firing)))
        drv.run(on_day=on_day)
        shot = os.path.join(run_dir, "dashboard.png")
        screenshot(drv, shot, say)        # while the aggregator still runs: "trực tuyến"
        code = drv.stop_aggregator()
        last = drv.replay.end
        monday = max(first, last - datetime.timedelta(days=last.weekday()))
        if last.weekday() != 6:          # the week the replay ends in, so far
            y, w, _ = monday.isocalendar()
            say("── Tuần %d/%d (%s–%s): %d báo cáo của các phường; %d cảnh báo đang bật ──"
                % (w, y, monday.strftime("%d/%m"), vn_date(last), len(drv.handed) - counted[0],
                   len(screen.firing)))
        with sqlite3.connect("file:%s?mode=ro" % drv.aggregator.db, uri=True) as db:
            stored = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        say()
        say("Hết %s: %d báo cáo đã lưu ở quận, %d lần chuyển trạng thái cảnh báo, %d cảnh báo "
            "còn bật.%s" % (vn_date(drv.replay.end), stored, screen.transitions,
                            len(screen.firing),
                            "" if code == 0 else " (aggregator exit %s)" % code))
        say()
        show_status(h, drv)
        if sys.stdin.isatty():
            say()
            say("Bảng theo dõi vẫn mở tại %s — nhấn Ctrl-C để dừng." % page)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        say()
        say("Dừng theo yêu cầu.")
    finally:
        if subscriber:
            subscriber.close()
        try:
            drv.stop()
        finally:
            h.Process.stop_all()
        say()
        say("Đã dừng mosquitto, wardpulse-aggregator và 14 wardpulse-agent; nhật ký và cơ sở dữ "
            "liệu ở %s (%.0f giây)." % (run_dir, time.monotonic() - started))


def dashboard_url(drv):
    return "http://127.0.0.1:%d/?district=%s" % (drv.broker.ws_port, drv.replay.district)


def screenshot(drv, path, say):
    """The page as an officer sees it at the end, at 1366×768 (full height), when a headless
    chromium can be driven here."""
    import browser
    why = browser.missing()
    if why:
        say("(Không chụp ảnh bảng theo dõi: %s)" % why)
        return
    try:
        with browser.Browser(1366, 768) as b:
            b.open(dashboard_url(drv))
            b.login("demo")
            b.wait(lambda d: len(b.rows()) >= len(drv.replay.wards) + 1, "the table", 30)
            time.sleep(1)       # the charts and the reports' list
            b.screenshot(path)
        say("Ảnh bảng theo dõi: %s" % os.path.relpath(path))
    except Exception as e:      # the demo itself went well: say so, and why there is no picture
        say("(Không chụp được ảnh bảng theo dõi: %s)" % str(e).splitlines()[0])


def show_status(h, drv):
    """`wardpulse status`: the district at a glance at the end of the replay (colour when
    stdout is a terminal)."""
    db = drv.aggregator.db
    now = drv.until.isoformat(timespec="seconds")
    argv = [h.CLI_BIN, "status", "--db", db, "--plan", drv.plan_dir, "--now", now]
    print("$ wardpulse status --db %s --plan %s --now %s"
          % (os.path.relpath(db), os.path.relpath(drv.plan_dir), now), flush=True)
    r = subprocess.run(argv, stderr=subprocess.PIPE, text=True)   # stdout: colour on a tty
    if r.returncode == 2 and "unknown command" in r.stderr:
        # A wardpulse without `status` yet: the values in force on the last day instead.
        day = drv.replay.end.isoformat()
        print("$ wardpulse export --db %s --current --from %s --to %s"
              % (os.path.relpath(db), day, day), flush=True)
        subprocess.run([h.CLI_BIN, "export", "--db", db, "--current", "--from", day, "--to", day])
    elif r.returncode != 0:
        sys.stderr.write(r.stderr)


if __name__ == "__main__":
    main()
