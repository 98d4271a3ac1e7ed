#!/usr/bin/python3
"""replay2022 — the Ba Đình wards' daily reports of 1 May to 30 September 2022, with known faults.

A deterministic (seeded) generator of what the 14 ward agents would have sent, for the 2022 replay
test, the demo and benchmarks. Everything the plan holds is read from the plan directory
(plans/ba-dinh-2022): the wards and their populations (orgunits.json), the indicator ids and bounds
(catalog.json), the indicators the schedule rule expects, the tasks and their due dates, the coverage
rules, the data checks and the epidemic-level thresholds (plan.json). What is written here is the
domain knowledge the plan does not hold: how each kind of figure moved in 2022 (DOMAIN.md).

Python (standard library only; run with Debian's /usr/bin/python3):

    import replay2022
    replay = replay2022.generate("plans/ba-dinh-2022", "2022-05-01", "2022-09-30")
    replay.reports      # every report, in the order of observed_at (see below)
    replay.faults       # the faults injected (DEFAULT_FAULTS unless given), resolved against the plan
    for day, reports in replay.days():          # what a replay driver does on its simulated clock:
        for r in reports:                       #   at r["observed_at"], submit body(r) as r["ward"]
            submit_at(r["observed_at"], r["ward"], replay2022.body(r))

A report is a dict:
    {"ward": "00001", "period": "2022-05-03", "observed_at": "2022-05-03T16:02:00+07:00",
     "delivered_at": "…" (only when a delivery_outage delays it),
     "kind": "daily" | "backfill" | "correction", "fault": None | fault id,
     "values": {indicator: int}, "tasks": {task: state}, "note": "…" (backfills and corrections only)}
`body(r)` is what `wardpulse-agent submit --file` takes: {"period", "values", "tasks"[, "note"]} (the agent
fills v, ward, stream, seq and observed_at itself; submit it at observed_at so the agent's time agrees).
tests/replay/replay_driver.py does this through real agents, handing a day's reports in early that same day, in
order, so that they beat the cut-off at a day per second (its docstring says why that changes no alert).

CLI:
    replay2022.py --plan plans/ba-dinh-2022 --out DIR
        DIR/<ward>/<period>.json (a second report for the same period: <period>.2.json), DIR/faults.json,
        DIR/schedule.jsonl (one {"observed_at", "ward", "kind", "file"[, "delivered_at"]} per report,
        in order of arrival)
    replay2022.py --plan plans/ba-dinh-2022 --format jsonl
        stdout, one line per report in order of arrival: {"ward", "observed_at"[, "delivered_at"],
        "kind", "body": {…}}
    options: --start 2022-05-01 --end 2022-09-30 --seed 2022 --faults FILE.json | --no-faults

How the figures move (DOMAIN.md; every number below is a model, not a record):
  * New cases: Ba Đình had 481 new cases on 03/04/2022; the district's daily mean halves every 9 days
    from there (≈ 56/day on 1 May, ≈ 5/day on 1 June), stays near 4/day through June and July and rises
    to ≈ 12/day by the end of September (the BA.5 wave). Each ward gets its population share (Poisson),
    about half of them found in the community, the rest already in quarantine. Community cases, oxygen
    cases and deaths are kept, in every window of the level rule's window_days, below 80 % of what would
    put the ward at the level where the plan's level rule alerts (alert_at_level), or below the
    criterion's min_count when that is more (fewer events than min_count move no level): the early-May
    weeks reach level 2, never 3. Deaths are realistic: about 0.2 % of the day's expected cases (a few
    in the district over May), at most min_count − 1 in a ward's week. Excess community cases count as
    quarantined.
  * Active F0 (home ≈ 92 % of the last 10 days' cases, care facility 4 %, hospital 1.2 %), severe patients
    (all treated per regulation: severe_treated = severe_active), F1 in quarantine (1.6 × a week's cases),
    care teams (enough for the level rule's per-10,000 condition), frontline staff (all fully vaccinated).
  * Vaccination, people by residence, cumulative: adults dose 1 ≈ 99.3 %, dose 2 ≈ 94 %, dose 3 from
    66–68 % on 1 May to 72–75 % on 23/08/2022, "rising slowly" (DOMAIN.md: 75.6 % on 23/08); 12–17: 98 % /
    95 %; 5–11 at the 2022 pace: dose 1 ≈ 40 % → > 80 % and dose 2 ≈ 3 % → > 51 % by 23/08/2022; 50+/65+
    fully vaccinated ≈ 97 % / 96 %. Increments follow a weekly rhythm (fewer on Saturday and Sunday) and a
    dose k never trails dose k+1 three weeks later.
  * Coverage rules (population denominators): a ward that a `coverage_lag` fault names for the rule lags
    (and misses); every other ward is on track: it reaches the target some days before the deadline at
    a steady pace (on_track_lead: enough that its trend never projects a miss, even at a midnight before
    the day's report) and then goes on at the 2022 pace. So a replay without faults raises no coverage
    alert. frontline-full style rules (indicator / indicator) are met every day.
  * Tasks (each task rule that applies to wards, with its due date from the plan): not_started, then
    in_progress, then done 3 to 20 days before the due date; a task due after the replay is in_progress
    from 30 days before its end. Every report carries every ward task's current state.
  * Each ward sends its daily report between 15:30 and 16:45 local time (before the 17:00 cut-off; an
    earlier cut-off moves the window), each in its own few minutes, so arrivals never tie.
  * Not sent: facilities_total and facilities_reported_on_time, by any ward: a target whose figures
    never come is silent (issue 10), so facilities-on-time warns "chưa gửi số liệu … từ ngày …" for every
    ward and the district from the eighth day (the plan's silence_days, 7) to the end.

Faults: tests/replay/replay2022_faults.py (the kinds, the default list and what each does).
A report with "delivered_at" arrives then (replay drivers hand it in then); every other report
arrives at its observed_at. Reports are ordered by arrival.
Each fault resolved by generate() also carries "description" (English) and what the plan says about it
(e.g. "due"), so a test can read the list alone.
"""
import argparse
import datetime
import json
import math
import os
import random
import re
import sys

DEFAULT_START = "2022-05-01"
DEFAULT_END = "2022-09-30"
DEFAULT_SEED = 2022

from replay2022_time import daterange, format_instant, parse_day, parse_instant, parse_offset  # noqa: E402,F401
from replay2022_faults import DEFAULT_FAULTS, FAULT_KINDS, NOT_SENT, resolve_faults  # noqa: E402,F401

# DOMAIN.md's anchor day for vaccination coverage.
ANCHOR_DAY = datetime.date(2022, 8, 23)
# Vaccination coverage (share of the group's population) on the replay's first day and on ANCHOR_DAY:
# ((low, high) at start, (low, high) at the anchor); each ward draws within the ranges.
VACC_PACE_2022 = {
    ("18p", "1"): ((0.990, 0.994), (0.993, 0.997)),
    ("18p", "2"): ((0.928, 0.942), (0.938, 0.952)),
    ("18p", "3"): ((0.660, 0.680), (0.720, 0.750)),
    ("12_17", "1"): ((0.975, 0.984), (0.984, 0.992)),
    ("12_17", "2"): ((0.935, 0.950), (0.955, 0.968)),
    ("5_11", "1"): ((0.360, 0.440), (0.810, 0.850)),
    ("5_11", "2"): ((0.020, 0.050), (0.515, 0.545)),
    ("50p", "full"): ((0.962, 0.970), (0.968, 0.978)),
    ("65p", "full"): ((0.955, 0.963), (0.960, 0.970)),
}
DOSE_INTERVAL_DAYS = 21          # a dose k never trails dose k+1 this many days later
ON_TRACK_SPARE_DAYS = (4, 7)     # an on-track ward's lead beyond what its trend needs (on_track_lead)
ON_TRACK_MARGIN = 0.025          # … and at least this share of the target at its pace
# Weekly rhythm of vaccination (Monday .. Sunday); the mean is 1, so any 14 days advance exactly 14 days.
WEEKDAY_WEIGHT = (1.1, 1.1, 1.1, 1.1, 1.1, 0.85, 0.65)
VACC_RE = re.compile(r"^vacc_(?P<group>[a-z0-9_]+?)_(?:dose(?P<dose>[0-9]+)|(?P<full>full))_cum$")

# New cases of the district (all wards): 481 on 03/04/2022, halving every 9 days, then a floor.
CASES_REFERENCE = (datetime.date(2022, 4, 3), 481.0)
CASES_HALF_LIFE_DAYS = 9.0
CASES_FLOOR = [(datetime.date(2022, 6, 1), 4.0), (datetime.date(2022, 8, 1), 4.0),
               (datetime.date(2022, 9, 30), 12.0)]
COMMUNITY_SHARE = (0.45, 0.62)
LEVEL_SAFETY = 0.8               # stay below 80 % of the level rule's alerting threshold
BURN_IN_DAYS = 30                # cases before the first day (for active F0 and windows)

REPORT_WINDOW = ("15:30", "16:45")   # local time of the daily reports (before the plan's cut-off)


# ---------------------------------------------------------------------------------------------
# Dates and times

class Plan:
    """The three plan files, and what the generator needs from them."""

    def __init__(self, plan_dir):
        self.dir = plan_dir
        with open(os.path.join(plan_dir, "orgunits.json"), encoding="utf-8") as f:
            self.orgunits = json.load(f)
        with open(os.path.join(plan_dir, "catalog.json"), encoding="utf-8") as f:
            self.catalog = json.load(f)
        with open(os.path.join(plan_dir, "plan.json"), encoding="utf-8") as f:
            self.plan = json.load(f)
        self.tz = parse_offset(self.plan.get("utc_offset", "+07:00"))
        self.units = {u["code"]: u for u in self.orgunits["units"]}
        district = self.plan.get("scope", {}).get("district")
        if not district:
            districts = [u["code"] for u in self.orgunits["units"] if u["level"] == "district"]
            if len(districts) != 1:
                raise ValueError("plan.json names no scope.district and orgunits has %d districts"
                                 % len(districts))
            district = districts[0]
        self.district = district
        self.wards = sorted(u["code"] for u in self.orgunits["units"]
                            if u["level"] == "ward" and u.get("parent") == district)
        if not self.wards:
            raise ValueError("district %s has no wards in orgunits.json" % district)
        self.indicators = {i["id"]: i for i in self.catalog["indicators"]}
        self.task_ids = {t["id"] for t in self.catalog.get("tasks", [])}
        self.rules = {r["id"]: r for r in self.plan["rules"]}

    def population(self, code, group):
        return self.units[code].get("population", {}).get(group)

    def rules_of(self, kind):
        return [r for r in self.plan["rules"] if r["kind"] == kind]

    def schedule_rule(self):
        rules = self.rules_of("schedule")
        return rules[0] if rules else None

    def ward_task_rules(self, ward):
        """Task rules a ward reports on: applies_to ward/both, and the ward among the assignees
        (or no unit code among them)."""
        out = []
        for r in self.rules_of("task"):
            if r.get("applies_to", "ward") not in ("ward", "both"):
                continue
            codes = [a for a in (x if isinstance(x, str) else x["name"]
                                    for x in r.get("assignees", [])) if re.fullmatch(r"[0-9]{5}", a)]
            if codes and ward not in codes:
                continue
            out.append(r)
        return out

    def level_version(self, day):
        """The level rule and its version in force on day (None, None without one)."""
        for r in self.rules_of("level"):
            for v in r.get("versions", []):
                first = parse_day(v["valid_from"])
                last = parse_day(v["valid_to"]) if v.get("valid_to") else datetime.date.max
                if first <= day <= last:
                    return r, v
        return None, None


def load_plan(plan_dir):
    return plan_dir if isinstance(plan_dir, Plan) else Plan(plan_dir)


def poisson(rng, lam):
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def binomial(rng, n, p):
    return sum(1 for _ in range(n) if rng.random() < p)


# ---------------------------------------------------------------------------------------------
# Figures

def district_case_mean(day):
    ref_day, ref_cases = CASES_REFERENCE
    decay = ref_cases * 0.5 ** ((day - ref_day).days / CASES_HALF_LIFE_DAYS)
    floor = CASES_FLOOR[0][1]
    for (d0, v0), (d1, v1) in zip(CASES_FLOOR, CASES_FLOOR[1:]):
        if d0 <= day <= d1:
            floor = v0 + (v1 - v0) * (day - d0).days / max(1, (d1 - d0).days)
        elif day > d1:
            floor = v1
    return max(decay, floor)


def level_caps(plan, ward, day):
    """{indicator: most allowed in one window} and the window, from the level rule in force: below
    LEVEL_SAFETY of the value that would reach the rule's alert_at_level; plus the conditions."""
    rule, version = plan.level_version(day)
    if not version:
        return {}, 7, []
    at = int(rule.get("alert_at_level", 3))
    caps = {}
    for c in version.get("transmission", []):
        people = plan.population(ward, c.get("population", "total"))
        per = c.get("per", 100000)
        thresholds = c["thresholds"]
        if at - 2 < 0 or at - 2 >= len(thresholds) or not people:
            continue
        limit = thresholds[at - 2] * people / per * LEVEL_SAFETY
        # Fewer events than min_count move no level: a ward may have a death (or two) a week.
        caps[c["indicator"]] = max(0, math.ceil(limit) - 1, int(c.get("min_count", 0)) - 1)
    return caps, int(version.get("window_days", 7)), version.get("conditions", [])


def care_teams_needed(plan, ward, day):
    """Care teams that meet every per-population minimum of the level rule's conditions."""
    _, _, conditions = level_caps(plan, ward, day)
    need = 1
    for cond in conditions:
        for item in cond.get("all_of", []):
            if item.get("indicator") == "care_teams":
                people = plan.population(ward, item.get("population", "total")) or 0
                need = max(need, math.ceil(item["min"] * people / item.get("per", 1)))
    return need


def case_series(plan, ward, rng, days):
    """Per day: total new cases, community, quarantined, oxygen, deaths (burn-in days included)."""
    share = plan.population(ward, "total") / plan.population(plan.district, "total")
    out = {}
    for day in days:
        mean = district_case_mean(day) * share
        total = poisson(rng, mean)
        community = binomial(rng, total, rng.uniform(*COMMUNITY_SHARE))
        oxygen = 1 if rng.random() < min(0.05, 0.0035 * mean) else 0
        deaths = 1 if rng.random() < 0.002 * mean else 0
        caps, window, _ = level_caps(plan, ward, day)
        recent = [out[day - datetime.timedelta(days=k)] for k in range(1, window)
                  if day - datetime.timedelta(days=k) in out]
        figures = {"cases_new_community": community, "oxygen_cases_new": oxygen, "deaths": deaths}
        for ind, cap in caps.items():
            if ind in figures:
                room = max(0, cap - sum(r[ind] for r in recent))
                figures[ind] = min(figures[ind], room)
        quarantined = total - figures["cases_new_community"]
        out[day] = dict(figures, total=total, cases_new_quarantined=quarantined)
    return out


def surge(plan, ward, cases, faults):
    """Applies the ward's level_surge faults to its case series (in place): each week's community
    cases add up to per_100k per 100,000 people, spread over its days with more towards the end.
    Returns the days on which the ward is a care team short."""
    short = set()
    people = plan.population(ward, "total")
    for f in faults:
        if f["kind"] != "level_surge" or f["ward"] != ward:
            continue
        for w in f["weeks"]:
            mon = parse_day(w["monday"])
            n = math.ceil(float(w["per_100k"]) * people / 100000)
            weights = [6 + k for k in range(7)]
            share = [n * x // sum(weights) for x in weights]
            share[-1] += n - sum(share)
            for k in range(7):
                day = mon + datetime.timedelta(days=k)
                c = cases[day]
                c["total"] = c["cases_new_quarantined"] + share[k]
                c["cases_new_community"] = share[k]
                if w.get("care_teams_short"):
                    short.add(day)
    return short


def effective_days(first, day):
    """Days from first to day weighted by WEEKDAY_WEIGHT (≈ calendar days; exact over whole weeks)."""
    n = (day - first).days
    weeks, rest = divmod(n, 7)
    total = weeks * 7.0
    for k in range(rest):
        total += WEEKDAY_WEIGHT[(first + datetime.timedelta(days=k)).weekday()]
    return total


def on_track_lead(rule, first, start_share, rng):
    """Days before the deadline at which an on-track ward reaches the target. Its N-day trend must
    project the target even when it misses the last day's increment (at a midnight, before that
    day's report; up to 1.1 days of weekly rhythm): the projection then falls short of the straight
    line by about 1.1 × (deadline − D) / N days of pace, largest at the first trend, D = first + N.
    Beyond that, ON_TRACK_SPARE_DAYS and at least ON_TRACK_MARGIN of the target."""
    n = int(rule.get("trend_days", 14))
    target = float(rule["target"])
    days = (parse_day(rule["deadline"]) - first).days
    base = math.ceil(1.1 * max(0, days - n) / n + 1.1)
    pace = (target - start_share) / max(1, days - base)
    spare = max(rng.randint(*ON_TRACK_SPARE_DAYS), math.ceil(ON_TRACK_MARGIN * target / pace))
    return base + spare


def vacc_key(indicator):
    m = VACC_RE.match(indicator)
    if not m:
        return None
    return m.group("group"), ("full" if m.group("full") else m.group("dose"))


def vaccination_series(plan, ward, rng, first, last, lag_rules):
    """{indicator: {day: people}} for every cumulative vacc_* indicator of the catalog that the
    ward's population has a group for. lag_rules: ward -> {coverage rule id: its coverage_lag fault}."""
    horizon = last + datetime.timedelta(days=DOSE_INTERVAL_DAYS + 1)
    days = list(daterange(first, horizon))
    curves = {}          # indicator -> (group, dose, start share, pace to target, target, pace after)
    for ind in sorted(plan.indicators):
        key = vacc_key(ind)
        if not key or plan.indicators[ind]["kind"] != "cumulative" or ind in NOT_SENT:
            continue
        group, dose = key
        if not plan.population(ward, group):
            continue
        default = ((0.95, 0.96), (0.955, 0.965)) if dose in ("1", "full") else \
            ((0.95 - 0.05 * int(dose), 0.96 - 0.05 * int(dose)),) * 2
        (s_lo, s_hi), (a_lo, a_hi) = VACC_PACE_2022.get(key, default)
        s = rng.uniform(s_lo, s_hi)
        a = rng.uniform(max(a_lo, s), max(a_hi, s))       # never below the start: cumulative
        pace = (a - s) / max(1.0, effective_days(first, ANCHOR_DAY))
        fast, target = pace, 1.0
        for rule in plan.rules_of("coverage"):
            if rule.get("numerator") != ind or rule.get("population") != group:
                continue
            lag = lag_rules.get(ward, {}).get(rule["id"])
            deadline = parse_day(rule["deadline"])
            if lag and lag.get("reach"):
                # Lagging: a steady pace that ends at a share of the group on the deadline.
                share = rng.uniform(*lag["reach"])
                pace = (share - s) / max(1.0, effective_days(first, deadline))
                fast = pace
            elif not lag:
                # On track: reach the target on_track_lead() days before the deadline at a steady
                # pace, then go on at the 2022 pace (never above the whole group).
                target = float(rule["target"])
                reach = deadline - datetime.timedelta(days=on_track_lead(rule, first, s, rng))
                fast = max(pace, (target - s) / max(1.0, effective_days(first, reach)))
        curves[ind] = (group, dose, s, fast, target, pace)
    values = {}
    for ind, (group, dose, s, fast, target, pace) in curves.items():
        people = plan.population(ward, group)
        series = {}
        for d in days:
            e = effective_days(first, d)
            share = s + fast * e
            if share >= target:
                reached = (target - s) / fast if fast > 0 else 0.0
                share = target + pace * (e - reached)
            series[d] = int(people * min(1.0, share))
        values[ind] = series
    # A lower dose never trails the next dose DOSE_INTERVAL_DAYS later; never above the group.
    by_group = {}
    for ind, (group, dose, *_rest) in curves.items():
        if dose != "full":
            by_group.setdefault(group, []).append((int(dose), ind))
    for group, doses in by_group.items():
        doses.sort(reverse=True)
        people = plan.population(ward, group)
        for (hi_dose, hi), (lo_dose, lo) in zip(doses, doses[1:]):
            for d in days:
                ahead = min(horizon, d + datetime.timedelta(days=DOSE_INTERVAL_DAYS))
                values[lo][d] = min(people, max(values[lo][d], values[hi][ahead]))
    return {ind: {d: v for d, v in series.items() if d <= last} for ind, series in values.items()}


def task_states(plan, ward, rng, first, last, faults):
    """{task: [(first day of the state, state), …]} for the ward's task rules."""
    out = {}
    for rule in plan.ward_task_rules(ward):
        due = parse_day(rule["due"])
        late = [f for f in faults if f["kind"] == "task_late" and f["ward"] == ward
                and f["task"] == rule["task"]]
        if due > last:
            steps = [(first, "not_started"), (last - datetime.timedelta(days=30), "in_progress")]
        else:
            done = max(first + datetime.timedelta(days=3), due - datetime.timedelta(
                days=rng.randint(3, 20)))
            started = max(first, done - datetime.timedelta(days=rng.randint(5, 15)))
            steps = [(first, "not_started"), (started, "in_progress"), (done, "done")]
            if late:
                steps = [(first, "not_started"), (started, "in_progress")]
                if late[0].get("done_period"):
                    steps.append((parse_day(late[0]["done_period"]), "done"))
        out[rule["task"]] = [(d, s) for d, s in steps if d <= last or s == "not_started"]
    return out


def state_on(steps, day):
    state = None
    for d, s in steps:
        if d <= day:
            state = s
    return state


def ward_figures(plan, ward, seed, first, last, faults):
    """{day: {indicator: value}} and the task steps of one ward, before faults touch the reports."""
    rng = random.Random("%s:%s" % (seed, ward))
    burn_in = first - datetime.timedelta(days=BURN_IN_DAYS)
    cases = case_series(plan, ward, random.Random("%s:%s:cases" % (seed, ward)),
                        list(daterange(burn_in, last)))
    lag_rules = {}     # ward -> {rule id: fault}
    for f in faults:
        if f["kind"] == "coverage_lag":
            for w in f["wards"]:
                lag_rules.setdefault(w, {})[f["rule"]] = f
    vacc = vaccination_series(plan, ward, random.Random("%s:%s:vacc" % (seed, ward)), first, last,
                              lag_rules)
    short = surge(plan, ward, cases, faults)
    people = plan.population(ward, "total")
    frontline = int(round(people / 100 * rng.uniform(0.85, 1.15)))
    facilities = rng.randint(4, 8)
    care = care_teams_needed(plan, ward, first) + rng.randint(1, 2)
    # Organisations that must assess their infection risk (seed 004 I.3.2): the ward's list,
    # and how many assessed, from about half on the first day to all of them by 10 June,
    # ahead of the plan's 30 June (its own generator, so the other figures stay as they were).
    orgs_rng = random.Random("%s:%s:orgs" % (seed, ward))
    orgs = orgs_rng.randint(30, 90)
    orgs_start = orgs_rng.uniform(0.45, 0.55)
    orgs_done = datetime.date(2022, 6, 10)
    figures = {}
    for day in daterange(first, last):
        recent = lambda n: sum(cases[day - datetime.timedelta(days=k)]["total"] for k in range(n))
        active = int(round(0.92 * recent(10)))
        hospital = int(round(0.012 * recent(10)))
        severe = binomial(rng, hospital, 0.15)
        v = {
            "cases_new_community": cases[day]["cases_new_community"],
            "cases_new_quarantined": cases[day]["cases_new_quarantined"],
            "f0_active_home": active,
            "f0_active_facility": int(round(0.04 * recent(10))),
            "f0_active_hospital": hospital,
            "severe_active": severe,
            "severe_treated": severe,
            "oxygen_cases_new": cases[day]["oxygen_cases_new"],
            "deaths": cases[day]["deaths"],
            "f1_quarantined": int(round(1.6 * recent(7))),
            "frontline_staff": frontline,
            "frontline_staff_vaccinated_full": frontline,
            "care_teams": care_teams_needed(plan, ward, day) - 1 if day in short else care,
            "facilities_total": facilities,
            "facilities_reported_on_time": facilities,
            "organisations_total": orgs,
            "organisations_assessed": orgs if day >= orgs_done else int(
                orgs * (orgs_start + (1 - orgs_start) * (day - first).days
                        / max(1, (orgs_done - first).days))),
        }
        for ind, series in vacc.items():
            v[ind] = series[day]
        figures[day] = {k: x for k, x in v.items() if k in plan.indicators and k not in NOT_SENT}
    tasks = task_states(plan, ward, rng, first, last, faults)
    return figures, tasks


# ---------------------------------------------------------------------------------------------
# Reports

class Replay:
    """What generate() returns: the reports in time order and the faults injected."""

    def __init__(self, plan, start, end, seed, faults, reports):
        self.plan, self.start, self.end, self.seed = plan, start, end, seed
        self.faults, self.reports = faults, reports
        self.wards = list(plan.wards)
        self.district = plan.district

    def days(self):
        """[(local day of observed_at, [reports of that day in time order])], oldest first."""
        out = []
        for r in self.reports:
            day = arrival(r).astimezone(self.plan.tz).date()
            if not out or out[-1][0] != day:
                out.append((day, []))
            out[-1][1].append(r)
        return out

    def fault(self, fault_id):
        return next(f for f in self.faults if f["id"] == fault_id)


def body(report):
    """The file body for `wardpulse-agent submit --file` (and the spool folder)."""
    out = {"period": report["period"], "values": dict(report["values"])}
    if report.get("tasks"):
        out["tasks"] = dict(report["tasks"])
    if report.get("note"):
        out["note"] = report["note"]
    return out


def report_window(plan):
    """(first, last) minute of the day of the daily reports: REPORT_WINDOW, moved earlier when the
    plan's cut-off is less than 15 minutes after its end."""
    minutes = lambda text: int(text[:2]) * 60 + int(text[3:5])
    lo, hi = minutes(REPORT_WINDOW[0]), minutes(REPORT_WINDOW[1])
    rule = plan.schedule_rule()
    if rule and not rule.get("cutoff_day_offset"):
        shift = max(0, hi - (minutes(rule["cutoff"]) - 15))
        lo, hi = max(0, lo - shift), max(len(plan.wards), hi - shift)
    return lo, hi


def report_time(plan, ward, day, rng):
    """Observed time of a ward's daily report: its own slot in report_window(), some jitter."""
    lo, hi = report_window(plan)
    slot = (hi - lo) // len(plan.wards)
    index = plan.wards.index(ward)
    minute = lo + index * slot + rng.randint(0, max(0, slot - 1))
    return datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=plan.tz)


def generate(plan_dir, start=DEFAULT_START, end=DEFAULT_END, faults=DEFAULT_FAULTS, seed=DEFAULT_SEED):
    """The wards' reports from start to end (days, inclusive) with the faults; see the module doc."""
    plan = load_plan(plan_dir)
    first, last = parse_day(start), parse_day(end)
    if last < first:
        raise ValueError("end %s is before start %s" % (last, first))
    faults = resolve_faults(plan, faults or [], first, last)
    schedule = plan.schedule_rule()
    expected = schedule.get("indicators", []) if schedule else []
    reports = []
    for ward in plan.wards:
        figures, tasks = ward_figures(plan, ward, seed, first, last, faults)
        missing = [i for i in expected if i not in figures[first]]
        if missing:
            raise ValueError("no model for the schedule's indicators %s" % ", ".join(missing))
        rng = random.Random("%s:%s:time" % (seed, ward))
        gaps = [f for f in faults if f["kind"] == "report_gap" and f["ward"] == ward]
        gap_days = {parse_day(p): f for f in gaps for p in f["periods"]}
        slips = {parse_day(f["period"]): f for f in faults
                 if f["kind"] == "cumulative_decrease" and f["ward"] == ward}
        backfills = {}
        silent = {i for f in faults if f["kind"] == "figures_never_sent" and f["ward"] == ward
                  for i in f["indicators"]}
        outages = {parse_day(f["period"]): f for f in faults
                   if f["kind"] == "delivery_outage" and f["ward"] == ward}
        for day in daterange(first, last):
            at = report_time(plan, ward, day, rng)     # drawn every day: a gap moves no other time
            values = {k: v for k, v in figures[day].items() if k not in silent}
            slip = slips.get(day)
            if slip:
                values[slip["indicator"]] -= int(slip["drop"])
            report = {"ward": ward, "period": day.isoformat(), "observed_at": format_instant(at),
                      "kind": "daily", "fault": slip["id"] if slip else None, "values": values,
                      "tasks": {t: state_on(steps, day) for t, steps in sorted(tasks.items())}}
            late = [f for f in faults if f["kind"] == "task_late" and f["ward"] == ward]
            if late and not report["fault"] and any(report["tasks"].get(f["task"]) != "done"
                                                    and day > parse_day(f["due"]) for f in late):
                report["fault"] = late[0]["id"]
            outage = outages.get(day)
            if outage:
                report["fault"] = report["fault"] or outage["id"]
                report["delivered_at"] = format_instant(
                    at + datetime.timedelta(hours=float(outage["hours"])))
            gap = gap_days.get(day)
            if gap:
                if gap.get("backfill_at"):
                    backfills.setdefault(gap["id"], (gap, []))[1].append(report)
                continue
            reports.append(report)
            if slip and slip.get("corrected_at"):
                reports.append({
                    "ward": ward, "period": day.isoformat(), "observed_at": slip["corrected_at"],
                    "kind": "correction", "fault": slip["id"],
                    "values": {slip["indicator"]: figures[day][slip["indicator"]]}, "tasks": {},
                    "note": "Sửa số liệu ngày %s: %s nhập sai (correction)"
                            % (day.strftime("%d/%m/%Y"), slip["indicator"])})
        for gap, held in backfills.values():
            at = parse_instant(gap["backfill_at"])
            for k, report in enumerate(held):
                report.update(kind="backfill", fault=gap["id"],
                              observed_at=format_instant(at + datetime.timedelta(minutes=k)),
                              note="Báo cáo bổ sung ngày %s (back-fill)"
                                   % parse_day(report["period"]).strftime("%d/%m/%Y"))
                reports.append(report)
    reports.sort(key=lambda r: (arrival(r), r["ward"], r["period"]))
    return Replay(plan, first, last, seed, faults, reports)


def arrival(report):
    """When the report arrives: its delivered_at (a delivery_outage), else its observed_at."""
    return parse_instant(report.get("delivered_at") or report["observed_at"])


# ---------------------------------------------------------------------------------------------
# CLI

def file_names(replay):
    """[(report, "<ward>/<period>.json")]: the first report of a ward and period is <period>.json,
    later ones (a correction) <period>.2.json, <period>.3.json …"""
    seen, out = {}, []
    for r in replay.reports:
        n = seen[(r["ward"], r["period"])] = seen.get((r["ward"], r["period"]), 0) + 1
        name = r["period"] + (".json" if n == 1 else ".%d.json" % n)
        out.append((r, r["ward"] + "/" + name))
    return out


def write_dir(replay, out_dir):
    """Writes every report body to out_dir/<ward>/<period>[.n].json (replacing what is there), the
    faults to out_dir/faults.json and out_dir/schedule.jsonl: one line per report in time order,
    {"observed_at", "ward", "kind", "file"}, for drivers that take the files at their times."""
    os.makedirs(out_dir, exist_ok=True)
    names = file_names(replay)
    with open(os.path.join(out_dir, "schedule.jsonl"), "w", encoding="utf-8") as schedule:
        for r, name in names:
            os.makedirs(os.path.join(out_dir, r["ward"]), exist_ok=True)
            with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
                json.dump(body(r), f, ensure_ascii=False, sort_keys=True)
                f.write("\n")
            line = {"observed_at": r["observed_at"], "ward": r["ward"], "kind": r["kind"],
                    "file": name}
            if r.get("delivered_at"):
                line["delivered_at"] = r["delivered_at"]
            schedule.write(json.dumps(line) + "\n")
    with open(os.path.join(out_dir, "faults.json"), "w", encoding="utf-8") as f:
        json.dump(replay.faults, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return len(names)


def jsonl_lines(replay):
    for r in replay.reports:
        line = {"ward": r["ward"], "observed_at": r["observed_at"], "kind": r["kind"],
                "body": body(r)}
        if r.get("delivered_at"):
            line["delivered_at"] = r["delivered_at"]
        yield json.dumps(line, ensure_ascii=False, sort_keys=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Ba Đình 2022 replay: the wards' daily reports "
                                 "with known faults (see the module docstring).")
    ap.add_argument("--plan", required=True, help="plan directory, e.g. plans/ba-dinh-2022")
    ap.add_argument("--start", default=DEFAULT_START)
    ap.add_argument("--end", default=DEFAULT_END)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--faults", help="JSON file with the list of faults (default: DEFAULT_FAULTS)")
    ap.add_argument("--no-faults", action="store_true", help="a replay without faults")
    ap.add_argument("--out", help="directory for <ward>/<period>.json files")
    ap.add_argument("--format", choices=("files", "jsonl"), default=None,
                    help="files (with --out) or jsonl on stdout")
    args = ap.parse_args(argv)
    fmt = args.format or ("files" if args.out else "jsonl")
    if fmt == "files" and not args.out:
        ap.error("--out DIR is needed for --format files")
    faults = DEFAULT_FAULTS
    if args.no_faults:
        faults = []
    elif args.faults:
        with open(args.faults, encoding="utf-8") as f:
            faults = json.load(f)
    try:
        replay = generate(args.plan, args.start, args.end, faults, args.seed)
    except (ValueError, OSError, KeyError) as e:
        print("replay2022: %s" % e, file=sys.stderr)
        return 1
    if fmt == "jsonl":
        try:
            for line in jsonl_lines(replay):
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except BrokenPipeError:          # e.g. | head: the reader has what it wanted
            sys.stderr.close()
            return 0
    else:
        n = write_dir(replay, args.out)
        print("%d reports of %d wards in %s" % (n, len(replay.wards), args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
