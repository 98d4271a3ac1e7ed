"""Alerts end to end: a real mosquitto, the aggregator on a simulated clock, reports
published as agents publish them.

The clock starts at 2022-05-03 14:00 (+07:00) and runs an hour per real second, so the
daily cut-off (17:00) passes about three seconds into a test (time enough for the wards
that report on time, even on a loaded machine: they are stored within 0.2 s) and its grace
(60 min) a second later. It stops at 23:00 (clock_stop) and stays there: however slow the
machine, the test never reaches the next midnight (coverage trends and projections count
days) nor the next day's cut-off (every ward's report_missing); the test of the deaths announcement alone runs
on to 01:00 on 4 May, to see it resolve at midnight. What is checked is what a
district officer sees: the retained topics wardpulse/v1/alert/# (exactly the alerts firing)
and every transition on wardpulse/v1/events/alert, each payload valid against
schemas/alert.schema.json.

An event says what the aggregator knew when it evaluated; reports that arrive within a few
real milliseconds of each other may be evaluated together or not, whatever the machine's
load. A test whose event must reflect several reports makes that independent of timing:
they go into one commit (batch_max), or the report that changes the outcome goes last.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import time
from datetime import datetime, timezone

from harness import (CLI_BIN, SRC, Aggregator, Broker, Subscriber, TempDir, run_tests,
                     wait_for)

READY = os.path.join(SRC, "plans", "ba-dinh-2022")
WARDS = ["00001", "00004", "00006", "00007", "00008", "00010", "00013",
         "00016", "00019", "00022", "00025", "00028", "00031", "00034"]
EVENTS = "wardpulse/v1/events/alert"
ALERTS = "wardpulse/v1/alert/"
START = "2022-05-03T14:00:00+07:00"
STOP = "2022-05-03T23:00:00+07:00"      # clock_stop: the afternoon and evening of 3 May only

try:
    import jsonschema
    with open(os.path.join(SRC, "schemas", "alert.schema.json"), encoding="utf-8") as _f:
        ALERT_SCHEMA = json.load(_f)
except (ImportError, OSError):
    jsonschema = ALERT_SCHEMA = None


def rule(rid, kind, applies="ward", severity="warning", **fields):
    r = {"id": rid, "kind": kind, "name": {"vi": "Quy tắc " + rid, "en": "Rule " + rid},
         "severity": severity, "applies_to": applies,
         "source": {"document": "KH UBND quận Ba Đình triển khai NQ 38/NQ-CP", "section": "I.3.5"}}
    r.update(fields)
    return r


DAILY = rule("daily-report", "schedule", period="daily", cutoff="17:00", grace_minutes=60,
             indicators=["cases_new_community", "deaths"], **{"from": "2022-05-03"})
TASK = rule("ward-scenario", "task", task="ward-scenario",
            assignees=["00031", {"name": "Phòng Y tế", "role": "guide"}], due="2022-05-02")
SEVERE = rule("severe-treated", "check", applies="both", severity="critical",
              relation={"left": "severe_treated", "op": ">=", "right": "severe_active"})


FACILITIES = rule("facilities-on-time", "check", applies="both",
                  relation={"left": "facilities_reported_on_time", "op": ">=",
                            "right": "facilities_total"})
# The same targets as the ready plan writes them since issue 10: targets per period, whose
# miss is a target missed (target_missed), not a data error.
SEVERE_TARGET = rule("severe-treated", "ratio", applies="both", severity="critical",
                     numerator="severe_treated", denominator="severe_active", target=1.0,
                     counted={"vi": "người bệnh nặng, nguy kịch được điều trị theo quy định",
                              "en": "severe or critical patients treated per regulation"})
FACILITIES_TARGET = rule("facilities-on-time", "ratio", applies="both",
                         numerator="facilities_reported_on_time", denominator="facilities_total",
                         target=1.0)
# Every COVID-19 death announced (info) the day it is reported (issue 10), as the ready plan
# writes it.
DEATHS = rule("deaths-announced", "announce", severity="info", indicator="deaths",
              counted={"vi": "ca tử vong do COVID-19", "en": "COVID-19 death(s)"})


def write_plan(tmp, rules):
    d = os.path.join(tmp, "plan")
    os.makedirs(d, exist_ok=True)
    for f in ("orgunits.json", "catalog.json"):
        shutil.copy(os.path.join(READY, f), d)
    with open(os.path.join(d, "plan.json"), "w", encoding="utf-8") as f:
        json.dump({"v": 1, "id": "alert-test", "title": {"vi": "Thử cảnh báo", "en": "Alert test"},
                   "scope": {"city": "01", "district": "001"}, "utc_offset": "+07:00",
                   "rules": rules}, f, ensure_ascii=False)
    return d


class Setup:
    """Broker, a subscriber on alerts and events, and the aggregator on the clock (which
    stops at STOP unless clock_stop=None is given)."""

    def __init__(self, tmp, rules, **settings):
        self.tmp = tmp
        self.broker = Broker(tmp).start()
        self.sub = Subscriber(self.broker.port, ALERTS + "#", EVENTS, "wardpulse/v1/aggregator/status")
        self.settings = {"plan_dir": write_plan(tmp, rules), "clock_start": START,
                         "clock_rate": 3600, "clock_stop": STOP, "alert_repeat": 0,
                         "batch_delay": "5ms"}
        self.settings.update(settings)
        self.seq = {}
        self.agg = None
        self.start()

    def start(self):
        # The same anchor on every start: a restarted aggregator finds the simulated
        # time gone on, as real time would have.
        self.settings.setdefault("clock_anchor", datetime.now(timezone.utc).isoformat(
            timespec="milliseconds"))
        seen = len(self.sub.payloads("wardpulse/v1/aggregator/status"))
        self.agg = Aggregator(self.tmp, self.broker.port, **self.settings).start()
        wait_for(lambda: self._online(seen), "aggregator online")

    def _online(self, seen):
        if not self.agg.alive():
            raise AssertionError("aggregator exited:\n" + self.agg.output())
        st = [p for p in self.sub.payloads("wardpulse/v1/aggregator/status")[seen:] if p]
        return any(p["state"] == "online" for p in st)

    def report(self, ward, period, values, tasks=None, stream="00000000000000a1"):
        """Publishes a report of ward (QoS 1) through the subscriber's own client: fast
        enough that a dozen wards are in before a simulated cut-off."""
        n = self.seq[ward] = self.seq.get(ward, 0) + 1
        r = {"v": 1, "ward": ward, "stream": stream, "seq": n, "period": period,
             "observed_at": "%sT16:00:00+07:00" % period[:10], "values": values}
        if tasks:
            r["tasks"] = tasks
        self.sub.client.publish("wardpulse/v1/report/" + ward, json.dumps(r), qos=1)

    def events(self, rule=None, scope=None):
        out = []
        for p in self.sub.payloads(EVENTS):
            if jsonschema:
                jsonschema.validate(p, ALERT_SCHEMA)
            if (rule is None or p["rule"] == rule) and (scope is None or p["scope"] == scope):
                out.append(p)
        return out

    def retained_topic(self, scope, rule):
        """The last message the live subscriber saw on the alert topic (None: cleared)."""
        msgs = [p for t, p, r in self.sub.messages if t == "%s001/%s/%s" % (ALERTS, scope, rule)]
        return json.loads(msgs[-1]) if msgs and msgs[-1] else None

    def wait_event(self, rule, scope, state, count=1):
        return wait_for(lambda: len([e for e in self.events(rule, scope) if e["state"] == state])
                        >= count and [e for e in self.events(rule, scope) if e["state"] == state],
                        "%s %s %s" % (rule, scope, state), timeout=20)[-1]

    def unannounced(self):
        """Alerts whose last announcement the broker has not acknowledged to the aggregator
        yet (the PUBACK it records in its database; a restart announces those again)."""
        with sqlite3.connect("file:%s?mode=ro" % self.agg.db, uri=True) as db:
            return db.execute("SELECT rule, scope, rev, announced_rev FROM alerts "
                              "WHERE announced_rev < rev").fetchall()


def retained_alerts(port):
    """What `mosquitto_sub -t 'wardpulse/v1/alert/#' -v` shows a newcomer: {topic: payload}."""
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", ALERTS + "#",
                        "-v", "--retained-only", "-W", "1"], capture_output=True, text=True)
    out = {}
    for line in r.stdout.splitlines():
        topic, _, payload = line.partition(" ")
        out[topic] = json.loads(payload)
    return out


def test_report_missing_fires_after_grace_and_a_late_report_resolves_it():
    with TempDir() as tmp:
        s = Setup(tmp, [DAILY])
        on_time = [w for w in WARDS if w not in ("00001", "00004")]
        for w in on_time:
            s.report(w, "2022-05-03", {"cases_new_community": 2, "deaths": 0})
        # 00004 sends only part of its report: still missing an expected indicator.
        s.report("00004", "2022-05-03", {"cases_new_community": 1})
        fired = s.wait_event("daily-report", "00001", "firing")
        assert fired["summary"]["vi"] == "Phường Phúc Xá chưa gửi báo cáo ngày 03/05/2022 (hạn gửi 17:00)", fired
        assert fired["summary"]["en"] == ("Phuc Xa ward has not sent its report for 3 May 2022 "
                                          "(due 17:00)"), fired
        assert fired["since"] == "2022-05-03T18:00:00+07:00", fired
        assert fired["kind"] == "report_missing" and fired["severity"] == "warning"
        assert fired["value"] == 1 and fired["district"] == "001", fired
        partial = s.wait_event("daily-report", "00004", "firing")
        assert partial["summary"]["vi"] == ("Báo cáo ngày 03/05/2022 của Phường Trúc Bạch còn thiếu chỉ "
                                            "tiêu: Tử vong do COVID-19 (hạn gửi 17:00)"), partial
        # Exactly the two late wards fire, nobody else.
        assert {e["scope"] for e in s.events()} == {"00001", "00004"}, s.events()
        assert set(retained_alerts(s.broker.port)) == {
            ALERTS + "001/00001/daily-report", ALERTS + "001/00004/daily-report"}

        # A late report resolves the alert and clears its retained topic.
        s.report("00001", "2022-05-03", {"cases_new_community": 5, "deaths": 0})
        resolved = s.wait_event("daily-report", "00001", "resolved")
        assert "Phường Phúc Xá đã gửi báo cáo ngày 03/05/2022 lúc" in resolved["summary"]["vi"], resolved
        assert "cùng ngày, chậm" in resolved["summary"]["vi"], resolved
        assert resolved["summary"]["vi"].endswith("so với hạn (17:00)"), resolved
        wait_for(lambda: s.retained_topic("00001", "daily-report") is None, "retained cleared")
        assert set(retained_alerts(s.broker.port)) == {ALERTS + "001/00004/daily-report"}

        # Timeliness and completeness per ward, for the CLI.
        with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
            rates = {w: (e, r, o) for w, e, r, o in db.execute(
                "SELECT ward, expected, received, on_time FROM reporting_rates "
                "WHERE rule = 'daily-report'")}
        assert rates["00001"] == (1, 1, 0), rates     # received late
        assert rates["00004"] == (1, 0, 0), rates     # incomplete
        assert rates["00006"] == (1, 1, 1), rates     # on time
        assert len(rates) == 14, rates
        assert len(s.events("daily-report", "00001")) == 2   # fired once, resolved once
        assert s.agg.stop() == 0, s.agg.output()


def test_task_overdue_fires_and_resolves_when_done():
    with TempDir() as tmp:
        s = Setup(tmp, [TASK])
        fired = s.wait_event("ward-scenario", "00031", "firing")
        assert fired["kind"] == "task_overdue" and fired["deadline"] == "2022-05-02", fired
        assert fired["since"] == "2022-05-03T00:00:00+07:00", fired
        assert fired["summary"]["vi"].startswith("Phường Giảng Võ chưa hoàn thành nhiệm vụ"), fired
        assert fired["summary"]["vi"].endswith(". Chủ trì: UBND phường Giảng Võ; hướng dẫn: "
                                               "Phòng Y tế."), fired
        assert [e["scope"] for e in s.events()] == ["00031"], "only the assignee is tracked"
        s.report("00031", "2022-05-03", {"cases_new_community": 0},
                 tasks={"ward-scenario": "in_progress"})
        time.sleep(0.5)
        assert [e["state"] for e in s.events()] == ["firing"], s.events()
        assert s.retained_topic("00031", "ward-scenario")["state"] == "firing"
        s.report("00031", "2022-05-03", {"cases_new_community": 0}, tasks={"ward-scenario": "done"})
        resolved = s.wait_event("ward-scenario", "00031", "resolved")
        assert "đã hoàn thành nhiệm vụ" in resolved["summary"]["vi"], resolved
        wait_for(lambda: s.retained_topic("00031", "ward-scenario") is None, "retained cleared")
        assert retained_alerts(s.broker.port) == {}
        assert s.agg.stop() == 0, s.agg.output()


def test_data_quality_fires_naming_the_figures_and_a_correction_resolves_it():
    with TempDir() as tmp:
        s = Setup(tmp, [SEVERE, FACILITIES])
        # Facilities: on 2 May both wards' facilities all updated on time; on 3 May only
        # Liễu Giai has reported so far. The district compares, per day, the wards that
        # reported both figures: 3 of 3 on the 3rd, not 3 of 3 + Nguyễn Trung Trực's 4.
        s.report("00008", "2022-05-02", {"facilities_reported_on_time": 3, "facilities_total": 3})
        s.report("00010", "2022-05-02", {"facilities_reported_on_time": 4, "facilities_total": 4})
        s.report("00008", "2022-05-03", {"facilities_reported_on_time": 3, "facilities_total": 3})
        # Nguyễn Trung Trực's severe cases first: the district's check can only fail once
        # Liễu Giai's figures are in, and then both wards' are (one connection, in order;
        # the other way round, an evaluation between the two fired on Liễu Giai's alone).
        s.report("00010", "2022-05-03", {"severe_active": 2, "severe_treated": 2})
        s.report("00008", "2022-05-03", {"severe_active": 5, "severe_treated": 3})
        ward = s.wait_event("severe-treated", "00008", "firing")
        assert ward["kind"] == "data_quality" and ward["severity"] == "critical", ward
        assert ward["value"] == -2, ward
        assert ward["summary"]["vi"] == (
            "Số liệu ngày 03/05/2022 của Phường Liễu Giai chưa hợp lý: \"Người bệnh nặng, nguy "
            "kịch được điều trị, chăm sóc theo quy định\" (3) nhỏ hơn \"Người bệnh nặng, nguy "
            "kịch\" (5). Đề nghị rà soát."), ward
        # The district, from its wards rolled up (sum): 5 treated of 7.
        district = s.wait_event("severe-treated", "district", "firing")
        assert "Quận Ba Đình" in district["summary"]["vi"], district
        assert "(5) nhỏ hơn" in district["summary"]["vi"] and "(7)" in district["summary"]["vi"]
        assert {e["scope"] for e in s.events()} == {"00008", "district"}, s.events()
        assert set(retained_alerts(s.broker.port)) == {
            ALERTS + "001/00008/severe-treated", ALERTS + "001/district/severe-treated"}
        # The ward corrects its figures for that day: both resolve.
        s.report("00008", "2022-05-03", {"severe_active": 5, "severe_treated": 5})
        s.wait_event("severe-treated", "00008", "resolved")
        s.wait_event("severe-treated", "district", "resolved")
        assert retained_alerts(s.broker.port) == {}
        assert s.agg.stop() == 0, s.agg.output()


def test_target_per_period_missed_is_not_a_data_error():
    with TempDir() as tmp:
        s = Setup(tmp, [SEVERE_TARGET, FACILITIES_TARGET])
        # As in the data-quality test: 2 of 2 treated in Nguyễn Trung Trực, 3 of 5 in Liễu Giai.
        s.report("00008", "2022-05-02", {"facilities_reported_on_time": 3, "facilities_total": 3})
        s.report("00010", "2022-05-03", {"severe_active": 2, "severe_treated": 2})
        s.report("00008", "2022-05-03", {"severe_active": 5, "severe_treated": 3})
        ward = s.wait_event("severe-treated", "00008", "firing")
        assert ward["kind"] == "target_missed" and ward["severity"] == "critical", ward
        assert ward["value"] == 0.6 and ward["target"] == 1, ward
        assert ward["summary"]["vi"] == (
            "Phường Liễu Giai: mới có 3/5 người bệnh nặng, nguy kịch được điều trị theo quy "
            "định, chưa đạt chỉ tiêu 100% (ngày 03/05/2022)"), ward
        assert ward["summary"]["en"] == (
            "Lieu Giai ward: only 3 of 5 severe or critical patients treated per regulation, "
            "short of the 100% target (3 May 2022)"), ward
        assert "rà soát" not in ward["summary"]["vi"], "a target missed is not a data error"
        # The district: the wards that reported both that day, 5 of 7.
        district = s.wait_event("severe-treated", "district", "firing")
        assert district["summary"]["vi"].startswith("Quận Ba Đình: mới có 5/7 "), district
        # Facilities: 3 of 3, then a day with 2 of 3 (no "counted": the indicator's name).
        s.report("00008", "2022-05-03", {"facilities_reported_on_time": 2, "facilities_total": 3})
        late = s.wait_event("facilities-on-time", "00008", "firing")
        assert late["kind"] == "target_missed" and late["severity"] == "warning", late
        assert late["summary"]["vi"].startswith("Phường Liễu Giai: mới có 2/3 "), late
        assert late["summary"]["vi"].endswith(", chưa đạt chỉ tiêu 100% (ngày 03/05/2022)"), late
        # All treated in the latest period: resolved, saying so.
        s.report("00008", "2022-05-03", {"severe_active": 5, "severe_treated": 5})
        resolved = s.wait_event("severe-treated", "00008", "resolved")
        assert resolved["summary"]["vi"].startswith("Phường Liễu Giai: 5/5 người bệnh nặng"), resolved
        assert "đạt chỉ tiêu 100%" in resolved["summary"]["vi"], resolved
        s.wait_event("severe-treated", "district", "resolved")
        s.wait_event("facilities-on-time", "district", "firing")     # 2 of 3 there too
        assert set(retained_alerts(s.broker.port)) == {
            ALERTS + "001/00008/facilities-on-time", ALERTS + "001/district/facilities-on-time"}
        assert s.agg.stop() == 0, s.agg.output()


def test_a_death_is_announced_the_day_it_is_reported_and_resolves_at_midnight():
    with TempDir() as tmp:
        # The clock runs on past midnight, to 01:00 on 4 May (about 11 s).
        s = Setup(tmp, [DEATHS], clock_stop="2022-05-04T01:00:00+07:00")
        s.report("00004", "2022-05-03", {"cases_new_community": 3, "deaths": 0})
        s.report("00001", "2022-05-03", {"cases_new_community": 2, "deaths": 1})
        fired = s.wait_event("deaths-announced", "00001", "firing")
        assert fired["kind"] == "announcement" and fired["severity"] == "info", fired
        assert fired["value"] == 1 and fired["district"] == "001", fired
        assert fired["summary"]["vi"] == ("Phường Phúc Xá báo cáo 1 ca tử vong do COVID-19 ngày "
                                          "03/05/2022"), fired
        assert fired["summary"]["en"] == "Phuc Xa ward reported 1 COVID-19 death(s) for 3 May 2022"
        assert fired["since"].startswith("2022-05-03T14:"), fired
        retained = s.retained_topic("00001", "deaths-announced")
        assert retained and retained["state"] == "firing" and retained["value"] == 1, retained
        # A correction upward the same day is news: announced on events/alert again.
        s.report("00001", "2022-05-03", {"cases_new_community": 2, "deaths": 2})
        again = s.wait_event("deaths-announced", "00001", "firing", count=2)
        assert again["value"] == 2 and "báo cáo 2 ca tử vong" in again["summary"]["vi"], again
        assert again["since"] == fired["since"], (fired, again)
        # Only the ward with deaths: none for a day of 0, none for the district.
        assert {e["scope"] for e in s.events()} == {"00001"}, s.events()
        assert set(retained_alerts(s.broker.port)) == {ALERTS + "001/00001/deaths-announced"}
        # Midnight: the day's announcement is over, the retained topic cleared.
        resolved = s.wait_event("deaths-announced", "00001", "resolved")
        assert resolved["since"] == "2022-05-04T00:00:00+07:00", resolved
        assert resolved["summary"]["vi"] == ("Đã thông báo trong ngày: Phường Phúc Xá báo cáo 2 ca "
                                             "tử vong do COVID-19 ngày 03/05/2022"), resolved
        wait_for(lambda: s.retained_topic("00001", "deaths-announced") is None, "retained cleared")
        assert retained_alerts(s.broker.port) == {}
        assert [e["state"] for e in s.events()] == ["firing", "firing", "resolved"], s.events()
        assert s.agg.stop() == 0, s.agg.output()


def test_epidemic_level_is_published_and_alerts_when_it_rises():
    level = rule("epidemic-level", "level", applies="both", severity="critical",
                 alert_at_level=2, versions=[{
                     "id": "218", "document": "Quyết định 218/QĐ-BYT ngày 27/01/2022",
                     "valid_from": "2022-01-27",
                     "transmission": [{"indicator": "cases_new_community", "per": 100000,
                                       "thresholds": [20, 150, 600]}]}])
    with TempDir() as tmp:
        s = Setup(tmp, [level])
        levels = Subscriber(s.broker.port, "wardpulse/v1/level/#", client_id="levels")
        # Week 17 (25 Apr – 1 May): 10 cases in Phúc Xá (14,500 people) = 69/100k → 2.
        s.report("00001", "2022-04-28", {"cases_new_community": 10})
        fired = s.wait_event("epidemic-level", "00001", "firing")
        assert fired["value"] == 2 and fired["target"] == 2, fired
        assert fired["since"] == "2022-05-02T00:00:00+07:00", fired
        # One day of seven: the week is incomplete, its figures a floor.
        assert ("cấp độ dịch tuần 17/2022 là ít nhất cấp độ 2 – nguy cơ trung bình (màu vàng)"
                in fired["summary"]["vi"]), fired
        assert "tuần chưa đủ số liệu (thiếu 6 ngày)" in fired["summary"]["vi"], fired
        ward = wait_for(lambda: levels.payloads("wardpulse/v1/level/001/00001"), "ward level")[-1]
        assert ward["level"] == 2 and ward["week"] == "2022-W17" and ward["color"] == "yellow"
        assert abs(ward["rates"]["cases_new_community"] - 68.97) < 0.01, ward
        assert ward["complete"] is False and ward["missing_days"] == 6, ward
        district = wait_for(lambda: levels.payloads("wardpulse/v1/level/001/district"),
                            "district level")[-1]
        assert district["level"] == 1 and district["name"] == "Quận Ba Đình", district
        assert [e["scope"] for e in s.events()] == ["00001"], s.events()
        levels.close()
        assert s.agg.stop() == 0, s.agg.output()


def test_a_level_rise_while_firing_is_announced_and_every_change_is_in_the_history():
    """3 → 4 while the alert fires is news (events/alert and the hook, with the new level);
    `wardpulse alerts --all` lists the week's change of level and incomplete weeks."""
    level = rule("epidemic-level", "level", applies="ward", severity="critical",
                 alert_at_level=3, versions=[{
                     "id": "218", "document": "Quyết định 218/QĐ-BYT ngày 27/01/2022",
                     "valid_from": "2022-01-27",
                     "transmission": [{"indicator": "cases_new_community", "per": 100000,
                                       "thresholds": [20, 150, 600]}]}])
    with TempDir() as tmp:
        hook = os.path.join(tmp, "hook.log")
        s = Setup(tmp, [level], alert_command="echo \"$WP_ALERT_STATE $WP_ALERT_SUMMARY_VI\" "
                                              ">> %s" % hook)
        # Phúc Xá, 14,500 people. W16 (18–24 Apr): 1 case a day, 48/100k → 2.
        # W17 (25 Apr – 1 May): 4 a day, 28 = 193/100k → 3. Then 30 Apr is corrected to
        # 70: 94 = 648/100k → 4 ("very high", above 600).
        for d in range(18, 25):
            s.report("00001", "2022-04-%02d" % d, {"cases_new_community": 1})
        for d in ["2022-04-25", "2022-04-26", "2022-04-27", "2022-04-28", "2022-04-29",
                  "2022-04-30", "2022-05-01"]:
            s.report("00001", d, {"cases_new_community": 4})
        wait_for(lambda: [e for e in s.events("epidemic-level", "00001")
                          if e["value"] == 3 and "chưa đủ" not in e["summary"]["vi"]]
                 or s.retained_topic("00001", "epidemic-level") and "chưa đủ" not in
                 s.retained_topic("00001", "epidemic-level")["summary"]["vi"],
                 "level 3 on a complete week")
        s.report("00001", "2022-04-30", {"cases_new_community": 70})
        risen = wait_for(lambda: [e for e in s.events("epidemic-level", "00001")
                                  if e["value"] == 4], "the rise 3 → 4 on events/alert")[-1]
        assert risen["state"] == "firing", risen
        assert "là cấp độ 4 – nguy cơ rất cao (màu đỏ), tăng từ cấp độ 2" in risen["summary"]["vi"]
        assert "648,3 ca/100.000 dân/tuần" in risen["summary"]["vi"], risen
        assert [e["value"] for e in s.events("epidemic-level", "00001")] == [3, 4], s.events()
        wait_for(lambda: os.path.exists(hook) and "cấp độ 4" in open(hook, encoding="utf-8").read(),
                 "the hook ran for the rise")
        lines = open(hook, encoding="utf-8").read().splitlines()
        assert [l.split(" ")[0] for l in lines] == ["firing", "firing"], lines
        assert "cấp độ 3 – nguy cơ cao" in lines[0] and "cấp độ 4 – nguy cơ rất cao" in lines[1]
        assert s.agg.stop() == 0, s.agg.output()
        r = subprocess.run([CLI_BIN, "alerts", "--all", "--db", s.agg.db, "--plan",
                            s.settings["plan_dir"], "--now", "2022-05-03T23:00:00+07:00",
                            "--config", "/dev/null"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert "tuần 17/2022 · Phường Phúc Xá (00001) · 2 → 4 (tăng)" in r.stdout, r.stdout
        assert "tuần 16/2022" not in r.stdout, r.stdout   # its level did not change
        r = subprocess.run([CLI_BIN, "alerts", "--all", "--lang", "en", "--db", s.agg.db,
                            "--now", "2022-05-03T23:00:00+07:00", "--config", "/dev/null"],
                           capture_output=True, text=True, timeout=30)
        assert "week 17 of 2022 · Ward 00001 · 2 → 4 (up)" in r.stdout, r.stdout


def test_coverage_at_risk_says_by_how_much_and_when():
    kids = rule("kids-5-11-full", "coverage", applies="both", severity="critical",
                numerator="vacc_5_11_dose2_cum",
                population="5_11", target=1.0, deadline="2022-05-31", trend_days=14)
    with TempDir() as tmp:
        # The four reports are committed, and so evaluated, together (batch_max): the
        # district's alert fires once, on both wards' figures. (Committed as they came, an
        # evaluation after Phúc Xá's alone fired it at 556 of 23,588 on a loaded machine.)
        s = Setup(tmp, [kids], batch_max=4, batch_delay="10s")
        # Phúc Xá: 1,523 children; 500 on 19 Apr, 556 on 3 May: 4 a day, 28 days left.
        s.report("00001", "2022-04-19", {"vacc_5_11_dose2_cum": 500})
        s.report("00001", "2022-05-03", {"vacc_5_11_dose2_cum": 556})
        # Trúc Bạch is on track: 2,237 children, 2,000 → 2,200.
        s.report("00004", "2022-04-19", {"vacc_5_11_dose2_cum": 2000})
        s.report("00004", "2022-05-03", {"vacc_5_11_dose2_cum": 2200})
        fired = s.wait_event("kids-5-11-full", "00001", "firing")
        assert fired["kind"] == "coverage" and fired["severity"] == "warning", fired
        assert fired["target"] == 1 and fired["deadline"] == "2022-05-31", fired
        assert abs(fired["value"] - 556 / 1523) < 1e-4, fired
        vi = fired["summary"]["vi"]
        assert "có nguy cơ không đạt mục tiêu" in vi and "(4 người/ngày)" in vi, vi
        assert "dự kiến đến hạn đạt 43,9%" in vi and "còn thiếu 56,1 điểm phần trăm" in vi, vi
        assert "(khoảng 855 người)" in vi, vi
        assert "sẽ đạt mục tiêu vào khoảng ngày 31/12/2022" in vi, vi   # 967 more at 4 a day
        # The district (its own figure: 23,588 children; 2,756 vaccinated in the two wards that
        # report) is at risk too; Trúc Bạch is not.
        district = s.wait_event("kids-5-11-full", "district", "firing")
        assert abs(district["value"] - 2756 / 23588) < 1e-4, district
        assert {e["scope"] for e in s.events()} == {"00001", "district"}, s.events()
        assert s.agg.stop() == 0, s.agg.output()


def test_restart_neither_loses_nor_repeats_and_resolves_what_ended_while_down():
    with TempDir() as tmp:
        s = Setup(tmp, [DAILY, TASK])
        for w in WARDS[2:]:
            s.report(w, "2022-05-03", {"cases_new_community": 2, "deaths": 0})
        s.wait_event("daily-report", "00001", "firing")
        s.wait_event("daily-report", "00004", "firing")
        s.wait_event("ward-scenario", "00031", "firing")
        # The broker's PUBACKs recorded (else the restart rightly announces those again).
        wait_for(lambda: not s.unannounced(), "the announcements acknowledged")
        before = s.events()
        assert len(before) == 3, before

        s.agg.kill9()
        # While it is down, 00004's late report reaches the broker (queued for the
        # aggregator's persistent session).
        s.report("00004", "2022-05-03", {"cases_new_community": 1, "deaths": 0},
                 stream="00000000000000b2")
        time.sleep(0.5)
        s.start()
        resolved = s.wait_event("daily-report", "00004", "resolved")
        assert resolved["summary"]["vi"].startswith("Phường Trúc Bạch đã gửi báo cáo"), resolved
        time.sleep(1.0)
        after = s.events()[len(before):]
        assert [(e["rule"], e["scope"], e["state"]) for e in after] == [
            ("daily-report", "00004", "resolved")], after
        assert set(retained_alerts(s.broker.port)) == {
            ALERTS + "001/00001/daily-report", ALERTS + "001/00031/ward-scenario"}

        # An orderly restart does not announce anything either.
        assert s.agg.stop() == 0
        s.start()
        time.sleep(1.0)
        assert len(s.events()) == 4, s.events()[4:]
        with sqlite3.connect("file:%s?mode=ro" % s.agg.db, uri=True) as db:
            rows = db.execute("SELECT rule, scope, state FROM alert_events ORDER BY id").fetchall()
        assert rows == [(e["rule"], e["scope"], e["state"]) for e in s.events()], rows
        assert s.agg.stop() == 0, s.agg.output()


def test_repeat_and_command_hook():
    with TempDir() as tmp:
        hook = os.path.join(tmp, "hook.log")
        # Repeats come with the clock: it must not stop.
        s = Setup(tmp, [TASK], alert_repeat="1h", clock_stop=None,
                  alert_command="cat >> %s; echo \" $WP_ALERT_STATE $WP_ALERT_SCOPE "
                                "$WP_ALERT_SUMMARY_EN\" >> %s" % (hook, hook))
        first = s.wait_event("ward-scenario", "00031", "firing")
        repeats = s.wait_event("ward-scenario", "00031", "firing", count=3)
        assert repeats == first, "a repeat is the same announcement"
        retained = [m for m in s.sub.messages if m[0].startswith(ALERTS)]
        assert len(retained) == 1, "repeats go to events/alert only: %s" % retained
        s.report("00031", "2022-05-03", {"cases_new_community": 0}, tasks={"ward-scenario": "done"})
        s.wait_event("ward-scenario", "00031", "resolved")
        wait_for(lambda: os.path.exists(hook) and open(hook).read().count("\n") >= 2, "hook ran twice")
        text = open(hook, encoding="utf-8").read()
        assert text.count('"rule":"ward-scenario"') == 2, text        # the JSON on stdin
        assert " firing 00031 Giang Vo ward has not completed the task" in text, text
        assert " resolved 00031 " in text, text
        assert s.agg.stop() == 0, s.agg.output()


if __name__ == "__main__":
    run_tests(globals())
