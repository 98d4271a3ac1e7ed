#!/usr/bin/python3
"""The oracle of the 2022 replay (tests/replay/replay2022_expected.py) on hand-made reports, for the
rules of issue 10's last two points: every COVID-19 death announced the day it is reported
(deaths-announced, an announce rule), and ratio targets that know what they expect (silent
after silence_days without their figures). The oracle on the generated replay is in
test_replay_generator.py.

Run: WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_replay_oracle_rules.py [test_name ...]
"""
import os
import sys

from harness import SRC, run_tests

sys.path.insert(0, os.path.join(SRC, "tests", "replay"))
import replay2022_expected  # noqa: E402

PLAN_DIR = os.path.join(SRC, "plans", "ba-dinh-2022")


def test_oracle_announces_each_day_with_deaths():
    """deaths-announced (issue 10): every death announced (info) the day it is reported, for
    the ward; a correction upward is the same episode; the next day with deaths a new one;
    a day's figure arriving after that day is not announced."""
    base = {"cases_new_community": 1, "cases_new_quarantined": 0, "f0_active_home": 5}
    rep = lambda period, at, deaths: {"ward": "00001", "period": period, "observed_at": at,
                                      "values": dict(base, deaths=deaths)}
    reports = [rep("2022-05-10", "2022-05-10T16:00:00+07:00", 1),
               rep("2022-05-10", "2022-05-10T19:00:00+07:00", 2),     # corrected upward
               rep("2022-05-11", "2022-05-11T16:00:00+07:00", 0),
               rep("2022-05-12", "2022-05-12T16:00:00+07:00", 1),
               rep("2022-05-13", "2022-05-14T08:00:00+07:00", 1)]     # late: not announced
    res = replay2022_expected.expected_alerts(PLAN_DIR, reports, [],
                                              until="2022-05-15T00:00:00+07:00")
    mine = [(a["scope"], a["kind"], a["severity"], a["fired_at"], a["fired_by"], a["resolved_at"],
             a["resolved_by"], len(a["phases"])) for a in res["alerts"]
            if a["rule"] == "deaths-announced"]
    assert mine == [
        ("00001", "announcement", "info", "2022-05-10T16:00:00+07:00", "report",
         "2022-05-11T00:00:00+07:00", "clock", 1),
        ("00001", "announcement", "info", "2022-05-12T16:00:00+07:00", "report",
         "2022-05-13T00:00:00+07:00", "clock", 1),
    ], mine


def test_oracle_ratio_targets_know_what_they_expect():
    """A ward that says nothing is not a ward that is fine (issue 10): a ratio target whose
    figures stop coming (or never come) is silent after silence_days, a warning, whether its
    last figures met the target or missed it; figures that come again end the silence."""
    base = {"cases_new_community": 1, "cases_new_quarantined": 0, "f0_active_home": 5, "deaths": 0}
    rep = lambda period, **v: {"ward": "00001", "period": period,
                               "observed_at": period + "T16:00:00+07:00", "values": dict(base, **v)}
    reports = [rep("2022-05-10", severe_active=5, severe_treated=3),      # a miss, then nothing
               rep("2022-05-11"), rep("2022-05-12"), rep("2022-05-13"), rep("2022-05-14"),
               rep("2022-05-15"), rep("2022-05-16"), rep("2022-05-17"),
               rep("2022-05-18", severe_active=2, severe_treated=2)]     # figures again, met
    res = replay2022_expected.expected_alerts(PLAN_DIR, reports, [],
                                              until="2022-05-19T00:00:00+07:00")
    severe = [(a["scope"], [(p["state"], p["severity"], p["from"], p["by"]) for p in a["phases"]],
               a["resolved_at"]) for a in res["alerts"]
              if a["rule"] == "severe-treated" and a["scope"] in ("00001", "district")]
    miss_then_silence = [("firing", "critical", "2022-05-10T16:00:00+07:00", "report"),
                         ("silent", "warning", "2022-05-18T00:00:00+07:00", "clock")]
    assert severe == [("00001", miss_then_silence, "2022-05-18T16:00:00+07:00"),
                      ("district", miss_then_silence, "2022-05-18T16:00:00+07:00")], severe
    # The facilities figures never came: silent from 17 May (expected from 10 May) on.
    facilities = [(a["scope"], a["fired_at"], a["phases"][0]["state"], a["firing_at_end"])
                  for a in res["alerts"]
                  if a["rule"] == "facilities-on-time" and a["scope"] in ("00001", "district")]
    assert facilities == [("00001", "2022-05-17T00:00:00+07:00", "silent", True),
                          ("district", "2022-05-17T00:00:00+07:00", "silent", True)], facilities
    assert not [a for a in res["alerts"] if a["kind"] == "data_quality"], res["alerts"]


run_tests(globals())
