#!/usr/bin/python3
"""replay2022_expected — which alerts a replay must raise: an oracle independent of the engine.

From the reports of a replay (tests/replay/replay2022.py, or any list of the same dicts), the plan directory
and the fault list, expected_alerts() computes every alert episode — rule, scope, kind, when it fired
and why, its phases, when it resolved and why, or that it is still firing at the end — by replaying
the reports in time order and re-evaluating every rule on every unit at every instant where something
can change. It reads no engine code and shares none with the generator: it is a second, deliberately
plain reading of the rule semantics of issue 4 and DESIGN.md, written out below so that the engine's
author can compare line by line.

    import replay2022, replay2022_expected
    replay = replay2022.generate("plans/ba-dinh-2022")
    result = replay2022_expected.expected_alerts("plans/ba-dinh-2022", replay.reports, replay.faults)
    result["alerts"]        # episodes, in the order they fired
    result["levels"]        # highest weekly epidemic level of each unit
    replay2022_expected.robustness(...)   # the coverage verdicts that depend on the trend method

CLI: replay2022_expected.py --plan plans/ba-dinh-2022 [--faults FILE | --no-faults] [--seed N]
     [--start D --end D] [--until INSTANT] [--format text|json] [--robustness] [--write FILE]
     (tests/data/replay2022/expected-alerts.json is `--write` of the default replay)

An episode: {"rule", "rule_kind" (plan kind), "kind" (alert kind), "scope", "severity" (at the end or
at resolution), "fired_at", "fired_by": "clock" | "report", "fired_report": {"ward", "period",
"observed_at"[, "delivered_at"]} of the report that caused it (or null), "phases": [{"state", "severity", "from", "by"}],
"resolved_at" | null, "resolved_by", "resolved_report", "firing_at_end", "cause": the fault id that
explains it or "baseline: why" ("unexplained" would be a bug of the replay), and for checks "periods"}.

== Semantics assumed ==========================================================================

Time. Instants are RFC 3339 in the plan's utc_offset (+07:00). A report ARRIVES at its delivered_at when
it has one (a delivery held up by an outage), else at its observed_at: the replay driver submits it at
that instant of the simulated clock. The engine sees it a little later (the delivery time); a transition
caused by a report ("by": "report") therefore happens in the engine at the report's observed_at plus the
delivery time, and a test must allow that much. A transition caused by the clock ("by": "clock": a cut-off
plus grace, the end of a due day, a local midnight) is exact. The replay ends at UNTIL: by default local
midnight after the last period of the reports. Evaluation: after the reports of an instant have arrived,
every rule is evaluated on every unit at every instant that is an arrival, a local midnight, a schedule
slot's cut-off + grace, or the end of a task's due day. An alert is identified by (rule, scope); scope is
a ward code or "district". An episode starts when its condition first holds and ends (resolves) at the
first instant it no longer holds.

Values in force. For (ward, period, indicator): the value of the last report (by arrival) that carries
the indicator for that period; earlier values are superseded. The district's values are rolled up from
its wards by the catalog's rollup: "sum" adds the wards' values of that period; "latest" adds, for each
ward, its value in force for the latest period ≤ that period (a ward without one adds 0); "max" takes
the largest. The district's periods are the periods any ward has.

schedule → kind report_missing. Units: the wards when applies_to is ward or both (and the district,
  from reports whose ward is the district's code, when applies_to is district or both). Slots: each day
  d (daily), or each ISO week, Monday to Sunday, from the one holding the first day (weekly), from the
  rule's `from` (else the plan's valid_from) to its `to` (else the plan's valid_to). A slot's cut-off
  c = its last day at `cutoff` (+ cutoff_day_offset days); it alerts at a = c + grace_minutes.
  A slot is complete at t when every indicator of the rule's `indicators` has a value for the unit and
  one of the slot's days from reports arrived by t (a week is reported by the figures of any of its
  days: the replay sends daily periods only). Whether the report was on time (committed_at) moves no
  alert: the alert says what the district has, and resolves when the figures arrive. The alert fires at t while some slot has a(d) ≤ t and is not complete (fired at
  the a(d) of the first such slot: by clock); it resolves at the arrival that completes the last missing
  slot (by report). A late report resolves it; one alert per (rule, unit) covers every missing day.
  ("pending" — past the cut-off, within the grace — is not an alert here.)

task → kind task_overdue. Units: every ward when applies_to is ward or both, restricted to the wards
  among the assignees when any assignee is a ward code; the district when applies_to is district or
  both. A unit's state of the task: from its report with the latest period that names the task (ties: the
  later arrival); none when never reported. The district's own tasks have no reporting channel
  (plans/README.md), so they are never reported. Fires at the end of the due day (local midnight after
  it, by clock) while the state is not "done"; resolves at the arrival of the report that makes it done.

check → kind data_quality. Units: the wards when applies_to is ward or both; the district (rolled-up
  values) when district or both. A comparison {left, op, right} is evaluated for each period of the unit
  where both sides have a value (right: an indicator's value in force, or the unit's population of the
  group from orgunits.json; an indicator on the right: its value for the same period); it fails when
  the comparison is false. {"never_decreases": X} fails for a
  period P when X(P) < X(P') where P' is the unit's latest period before P that has a value of X. The
  alert fires while any period of the unit fails (fired by the arrival that made a period fail) and
  resolves at the arrival after which no period fails. CHOSEN: a decrease resolves only when a corrected
  report for the bad period (or the period before it) supersedes the bad value; later, larger values
  leave the pair (P', P) failing.

ratio → kind target_missed: a target per period (severe-treated: severe_treated / severe_active ≥ 1;
  facilities-on-time: facilities_reported_on_time / facilities_total ≥ 1). A target missed, not a data
  error. Units as for checks. The unit's periods are those where both indicators have a value for that
  exact period (district: for each period, the wards that have both for it, each side rolled up over
  those wards only, by the catalog's rollup: sum or latest add, max takes the largest). A period misses
  when its denominator is > 0 and numerator < target × denominator; a denominator of 0 has nothing to
  count and meets it. The alert fires while the unit's latest such period misses (fired by the arrival
  that made it miss) and resolves at the arrival after which the latest such period meets it; an earlier
  period that missed does not keep it firing (unlike a check: a past miss is history, not a figure to
  correct). Silent first (phase silent, warning), as coverage's silent below: a figure the rule needs
  (ward: the numerator or the denominator; district: a period some ward sent both for) has not come for
  silence_days, counted from E; a miss of figures that stopped coming is not judged.

announce → kind announcement (every COVID-19 death announced the day it is reported). Units as for checks.
  Fires while the unit's value (district: the wards' added) for the period D = the local date of t is > 0:
  by the arrival that brings it; resolves at the next midnight (by clock; or a correction to 0). A later
  correction upward is the same episode; a figure of an earlier day arriving after it is not announced.

coverage → kind coverage, phases silent and at_risk (severity warning) and missed (critical, whatever the
  rule's severity: issue 4 says a miss is critical; the rule's severity governs the warning phases'
  wording only. organisations-risk-assessed, a "warning" rule whose deadline falls in the replay and
  whose figures the replay's wards never send, is silent, then missed, critical). For a unit at
  instant t, D = local date of t. v(D) = the numerator's value in force for the unit's latest period ≤ D
  (district: rolled up as above, "latest"); L = that period (district: the latest of any ward). The
  denominator is the unit's population of the group (the district's own figure in orgunits.json), or
  for indicator denominators that indicator's value in force at D. E = the first day figures are
  expected: the later of the plan's valid_from and the local date of the first arrival (none before
  any report has arrived). A ward that says nothing is not a ward that is fine (issue 10):
    met      v(D) ≥ target × denominator: not firing (resolves an episode).
    missed   D after the deadline and not met; or, with no v(D) (or no denominator figure for an
             indicator denominator), when E ≤ deadline ("missed — no figures").
    silent   D ≤ deadline, not met, and an indicator the rule needs (the numerator; the denominator
             indicator) has had no figure for silence_days (the rule's, else the plan's, else 7): its
             last period ≤ D ended on S − 1 (S = E when it never came; never before E) and
             D ≥ S + silence_days.
    at_risk  D ≤ deadline, not met, not silent, and the trend from the figures as they are misses:
             P = the unit's latest period ≤ L − N (N = trend_days, default 14) — none: no trend, not
             firing — slope = (v(L) − v(P)) / (L − P) (the real days between them), projection =
             v(L) + slope × (deadline − L) days, at risk when projection < target × denominator.
  So a unit whose reports start on day S is first judged when its figure of S + N arrives (by report);
  the silent → missed and at_risk → missed changes at the midnight after the deadline are phase changes
  of the same alert (severity warning → critical), not new episodes.

level → kind level: tests/replay/replay2022_levels.py (its docstring: weekly levels per ISO week, assessed
  once the week is over; firing while the last complete week is at or above alert_at_level, its
  phases the levels, "level_3" → "level_4" a new phase of the same episode). result["levels"] holds
  each unit's highest weekly level and the Monday of its week.

Robustness. robustness() re-evaluates every coverage verdict with other readings of "the trend": a
least-squares slope through the daily values in force of days P … L, and the reading from today (slope
(v(D) − v(D − N)) / N, projected from D) instead of from the last figure. It lists the instants where a
reading gives another verdict, and the smallest margin |projection / target − 1| of each (rule, scope).
For the default replay the list is empty (only WHEN the first trend can be computed depends on the
reading).
"""
import argparse
import bisect
import datetime
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import replay2022_levels  # noqa: E402

ALERT_KIND = {"coverage": "coverage", "schedule": "report_missing", "task": "task_overdue",
              "check": "data_quality", "level": "level", "ratio": "target_missed",
              "announce": "announcement"}


def _day(s):
    return datetime.date.fromisoformat(s)


def _instant(s):
    t = datetime.datetime.fromisoformat(s)
    if t.tzinfo is None:
        raise ValueError("instant without offset: %r" % s)
    return t


def _fmt(t):
    return t.isoformat(timespec="seconds")


def _tz(offset):
    m = re.fullmatch(r"([+-])(\d\d):(\d\d)", offset)
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    return datetime.timezone(datetime.timedelta(minutes=-minutes if m.group(1) == "-" else minutes))


class _Plan:
    def __init__(self, plan_dir):
        load = lambda name: json.load(open(os.path.join(plan_dir, name + ".json"), encoding="utf-8"))
        self.orgunits, self.catalog, self.plan = load("orgunits"), load("catalog"), load("plan")
        self.tz = _tz(self.plan.get("utc_offset", "+07:00"))
        self.units = {u["code"]: u for u in self.orgunits["units"]}
        self.district = self.plan["scope"]["district"]
        self.wards = sorted(c for c, u in self.units.items()
                            if u["level"] == "ward" and u.get("parent") == self.district)
        self.rollup = {i["id"]: i.get("rollup", "latest") for i in self.catalog["indicators"]}
        self.rules = self.plan["rules"]
        vf, vt = self.plan.get("valid_from"), self.plan.get("valid_to")
        self.valid_from = _day(vf) if vf else None
        self.valid_to = _day(vt) if vt else None

    def population(self, scope, group):
        code = self.district if scope == "district" else scope
        pop = self.units[code].get("population", {}).get(group)
        if pop is None and scope == "district":
            pops = [self.units[w].get("population", {}).get(group) for w in self.wards]
            pop = sum(pops) if all(p is not None for p in pops) else None
        return pop

    def scopes(self, rule):
        applies = rule.get("applies_to", "ward")
        out = list(self.wards) if applies in ("ward", "both") else []
        if rule["kind"] == "task" and out:
            codes = [a for a in (x if isinstance(x, str) else x["name"]
                                    for x in rule.get("assignees", [])) if re.fullmatch(r"[0-9]{5}", a)]
            if codes:
                out = [w for w in out if w in codes]
        if applies in ("district", "both"):
            out.append("district")
        return out

    def midnight(self, day):
        return datetime.datetime(day.year, day.month, day.day, tzinfo=self.tz)


class _Data:
    """Values in force and task states, as reports arrive."""

    def __init__(self, plan):
        self.plan = plan
        self.values = {}      # unit code -> indicator -> {day: value}
        self.periods = {}     # unit code -> indicator -> sorted [day]
        self.tasks = {}       # unit code -> task -> (period day, arrival index, state)
        self.arrivals = 0
        self.rolled = {}      # indicator -> {day: the district's value} (a cache)
        self.in_force = {}    # (scope, indicator, day) -> v(D) (a cache, emptied on arrival)

    def add(self, report):
        unit = report["ward"]
        day = _day(report["period"])
        self.arrivals += 1
        self.in_force.clear()
        for ind, v in report.get("values", {}).items():
            cached = self.rolled.get(ind, {})
            for d in [d for d in cached if d >= day]:
                del cached[d]      # a "latest" rollup moves from that period on
            series = self.values.setdefault(unit, {}).setdefault(ind, {})
            if day not in series:
                bisect.insort(self.periods.setdefault(unit, {}).setdefault(ind, []), day)
            series[day] = v
        for task, state in (report.get("tasks") or {}).items():
            old = self.tasks.setdefault(unit, {}).get(task)
            if old is None or (day, self.arrivals) >= old[:2]:
                self.tasks[unit][task] = (day, self.arrivals, state)

    def has(self, unit, ind, day):
        return day in self.values.get(unit, {}).get(ind, {})

    def latest(self, unit, ind, day):
        """(period, value) in force for the latest period ≤ day, or None."""
        days = self.periods.get(unit, {}).get(ind, [])
        i = bisect.bisect_right(days, day)
        return (days[i - 1], self.values[unit][ind][days[i - 1]]) if i else None

    def unit_code(self, scope):
        return self.plan.district if scope == "district" else scope

    # -- rolled up: a scope is a ward code or "district"
    def value(self, scope, ind, day):
        """The unit's value of ind for period day (None when it has none)."""
        if scope != "district":
            return self.values.get(scope, {}).get(ind, {}).get(day)
        cached = self.rolled.setdefault(ind, {})
        if day not in cached:
            cached[day] = self._rolled_up(ind, day)
        return cached[day]

    def _rolled_up(self, ind, day):
        rollup = self.plan.rollup.get(ind, "latest")
        if rollup == "latest":
            if not self.in_district_periods(ind, day):
                return None
            return sum(x[1] for x in (self.latest(w, ind, day) for w in self.plan.wards) if x)
        vals = [self.values.get(w, {}).get(ind, {}).get(day) for w in self.plan.wards]
        vals = [v for v in vals if v is not None]
        if not vals:
            return None
        return max(vals) if rollup == "max" else sum(vals)

    def in_district_periods(self, ind, day):
        return any(self.has(w, ind, day) for w in self.plan.wards)

    def unit_periods(self, scope, ind):
        if scope != "district":
            return list(self.periods.get(scope, {}).get(ind, []))
        return sorted({d for w in self.plan.wards for d in self.periods.get(w, {}).get(ind, [])})

    def value_in_force(self, scope, ind, day):
        """v(D): the value for the unit's latest period ≤ day (district: each ward's, added)."""
        key = (scope, ind, day)
        if key not in self.in_force:
            self.in_force[key] = self._value_in_force(scope, ind, day)
        return self.in_force[key]

    def _value_in_force(self, scope, ind, day):
        if scope != "district":
            x = self.latest(scope, ind, day)
            return x[1] if x else None
        xs = [self.latest(w, ind, day) for w in self.plan.wards]
        xs = [x for x in xs if x]
        return sum(x[1] for x in xs) if xs else None

    def last_period(self, scope, ind, day):
        """The unit's latest period ≤ day with a value of ind (district: the latest of any ward)."""
        units = self.plan.wards if scope == "district" else [scope]
        xs = [self.latest(u, ind, day) for u in units]
        xs = [x[0] for x in xs if x]
        return max(xs) if xs else None

    def task_state(self, scope, task):
        x = self.tasks.get(self.unit_code(scope), {}).get(task)
        return x[2] if x else None


# ---------------------------------------------------------------------------------------------
# The rules, each as a function (plan, data, rule, scope, instant) -> None | phase

def _schedule_slots(plan, rule, until):
    """[(days of the period, its alert instant)]: a day, or an ISO week (Monday to Sunday)."""
    first = _day(rule["from"]) if rule.get("from") else plan.valid_from
    last = _day(rule["to"]) if rule.get("to") else plan.valid_to
    weekly = rule.get("period", "daily") == "weekly"
    length = 7 if weekly else 1
    if weekly:
        first -= datetime.timedelta(days=first.weekday())     # the week holding it
    hh, mm = (int(x) for x in rule["cutoff"].split(":"))
    offset = datetime.timedelta(days=rule.get("cutoff_day_offset", 0), hours=hh, minutes=mm,
                                seconds=60 * rule.get("grace_minutes", 0))
    slots, d = [], first
    while (last is None or d <= last):
        end = d + datetime.timedelta(days=length - 1)
        a = plan.midnight(end) + offset
        if a > until:
            break
        slots.append(([d + datetime.timedelta(days=k) for k in range(length)], a))
        d += datetime.timedelta(days=length)
    return slots


class _Schedule:
    def __init__(self, plan, rule, until):
        self.rule, self.slots = rule, _schedule_slots(plan, rule, until)
        self.next_incomplete = {}   # scope -> index of its oldest slot not complete

    def evaluate(self, data, scope, t):
        i = self.next_incomplete.get(scope, 0)
        unit = data.unit_code(scope)
        while i < len(self.slots) and all(any(data.has(unit, ind, d) for d in self.slots[i][0])
                                          for ind in self.rule["indicators"]):
            i += 1
        self.next_incomplete[scope] = i
        # A slot can only become complete, so the oldest incomplete one decides; but a later slot
        # may be complete while an older one is not, which the scan above stops at correctly.
        return "firing" if i < len(self.slots) and self.slots[i][1] <= t else None


def _task(plan, data, rule, scope, t):
    due_end = plan.midnight(_day(rule["due"]) + datetime.timedelta(days=1))
    if t < due_end or data.task_state(scope, rule["task"]) == "done":
        return None
    return "firing"


def _compare(a, op, b):
    return a >= b if op == ">=" else a <= b if op == "<=" else a == b


def _check_failures(plan, data, rule, scope):
    """Periods of the unit where the relation fails."""
    rel = rule["relation"]
    failing = []
    if "never_decreases" in rel:
        ind = rel["never_decreases"]
        prev = None
        for d in data.unit_periods(scope, ind):
            v = data.value(scope, ind, d)
            if v is None:
                continue
            if prev is not None and v < prev:
                failing.append(d)
            prev = v
        return failing
    left, op, right = rel["left"], rel["op"], rel["right"]
    for d in data.unit_periods(scope, left):
        lv = data.value(scope, left, d)
        if isinstance(right, dict):
            rv = plan.population(scope, right["population"])
        else:
            rv = data.value(scope, right, d)
        if lv is not None and rv is not None and not _compare(lv, op, rv):
            failing.append(d)
    return failing


def _ratio_latest(plan, data, rule, scope):
    """(period, numerator, denominator) of the unit's latest period with both, or None."""
    num, den = rule["numerator"], rule["denominator"]
    units = plan.wards if scope == "district" else [scope]
    days = sorted({d for u in units for d in data.periods.get(u, {}).get(num, [])}, reverse=True)
    for d in days:
        pairs = [(data.values[u][num][d], data.values[u][den][d]) for u in units
                 if data.has(u, num, d) and data.has(u, den, d)]
        if not pairs:
            continue
        add = lambda ind, xs: max(xs) if plan.rollup.get(ind, "latest") == "max" else sum(xs)
        return d, add(num, [p[0] for p in pairs]), add(den, [p[1] for p in pairs])
    return None


def _ratio(plan, data, rule, scope, t, expected_from):
    today, num, den = t.astimezone(plan.tz).date(), rule["numerator"], rule["denominator"]
    both = lambda d: any(data.has(w, num, d) and data.has(w, den, d) for w in plan.wards)
    lasts = ([data.last_period(scope, ind, today) for ind in (num, den)] if scope != "district"
             else [max((d for d in data.unit_periods(scope, num) if d <= today and both(d)),
                       default=None)])
    if _silent(plan, rule, today, expected_from, lasts):
        return "silent"
    latest = _ratio_latest(plan, data, rule, scope)
    if latest is None:
        return None
    _, n, d = latest
    return "firing" if d > 0 and n < float(rule.get("target", 1.0)) * d - 1e-9 else None


def _announce(plan, data, rule, scope, t):
    v = data.value(scope, rule["indicator"], t.astimezone(plan.tz).date())
    return "firing" if v is not None and v > 0 else None


def _silent(plan, rule, today, expected_from, lasts):
    """Silent: a needed figure last came for a day in lasts (None: never), silence_days ago from E."""
    days = datetime.timedelta(days=int(rule.get("silence_days", plan.plan.get("silence_days", 7))))
    one = datetime.timedelta(days=1)
    return expected_from is not None and any(
        today >= max(expected_from, last + one if last else expected_from) + days for last in lasts)


def _coverage(plan, data, rule, scope, t, expected_from, method="endpoint", day_from="data"):
    """(verdict, margin). verdict: None (nothing to say: no figures yet and not silent long
    enough, or no figure trend_days before the last), "met", "missed", "silent", "at_risk" or
    "on_track"; margin (trend verdicts only) = projection / goal − 1. method "endpoint" | "ols"
    and day_from "data" (the primary reading: from the last figure) | "now" (from today, over
    trend_days) select the reading (module docstring)."""
    today = t.astimezone(plan.tz).date()
    num = rule["numerator"]
    v = data.value_in_force(scope, num, today)
    if "population" in rule:
        den = plan.population(scope, rule["population"])
    else:
        den = data.value_in_force(scope, rule["denominator"], today)
    known = v is not None and bool(den)
    target = float(rule["target"])
    deadline = _day(rule["deadline"])
    goal = target * den if known else None
    if known and v >= goal:
        return "met", None
    if today > deadline:
        if known:
            return "missed", None
        if (expected_from is not None and expected_from <= deadline
                and (v is None or "denominator" in rule)):
            return "missed", None            # missed — no figures
        return None, None
    needed = [num] + ([rule["denominator"]] if "denominator" in rule else [])
    if _silent(plan, rule, today, expected_from, [data.last_period(scope, i, today) for i in needed]):
        return "silent", None
    if not known:
        return None, None
    n = int(rule.get("trend_days", 14))
    last = data.last_period(scope, num, today)
    day = last if day_from == "data" else today
    past = data.last_period(scope, num, day - datetime.timedelta(days=n))
    if past is None:
        return None, None
    if day_from == "now":
        past = day - datetime.timedelta(days=n)
    span = (day - past).days
    series = lambda d: data.value_in_force(scope, num, d) or 0
    if method == "endpoint":
        slope = (series(day) - series(past)) / span
    else:
        xs = list(range(span + 1))
        ys = [series(past + datetime.timedelta(days=k)) for k in xs]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    projection = series(day) + slope * (deadline - day).days
    return ("at_risk" if projection < goal else "on_track"), projection / goal - 1


# ---------------------------------------------------------------------------------------------
# The replay

def _cause(plan, rule, scope, faults):
    """The fault id that explains an alert, or "baseline: why"."""
    for f in faults:
        k = f["kind"]
        if k == "coverage_lag" and rule["id"] == f["rule"] and (scope in f["wards"]
                                                                 or scope == "district"):
            return f["id"]
        if k == "report_gap" and rule["kind"] == "schedule" and scope == f["ward"]:
            return f["id"]
        if (k == "cumulative_decrease" and rule["kind"] == "check" and scope == f["ward"]
                and rule.get("relation", {}).get("never_decreases") == f["indicator"]):
            return f["id"]
        if (k == "task_late" and rule["kind"] == "task" and rule["task"] == f["task"]
                and scope == f["ward"]):
            return f["id"]
        if k == "figures_never_sent" and scope == f["ward"] and rule["id"] in f["rules"]:
            return f["id"]
        if k == "delivery_outage" and rule["kind"] == "schedule" and scope == f["ward"]:
            return f["id"]
        if k == "level_surge" and rule["kind"] == "level" and scope == f["ward"]:
            return f["id"]
    if rule["kind"] == "ratio":
        return "baseline: silent, the replay's wards never send a figure this target needs"
    if rule["kind"] == "announce":
        return "baseline: realistic deaths of the replay (tests/replay/replay2022.py), each announced"
    if rule["kind"] == "task" and scope == "district":
        return "baseline: the district's own tasks have no reporting channel (plans/README.md)"
    if rule["kind"] == "coverage":
        return "baseline: at the 2022 pace %s misses %s of %s by %s" % (
            rule["numerator"], rule["target"], rule.get("population", rule.get("denominator")),
            rule["deadline"])
    return "unexplained"


def _arrival(report):
    """A report arrives at its delivered_at (a delayed delivery), else at its observed_at."""
    return _instant(report.get("delivered_at") or report["observed_at"])


def _default_until(plan, reports):
    last = max(_day(r["period"]) for r in reports)
    latest = max(_arrival(r) for r in reports)
    until = plan.midnight(last + datetime.timedelta(days=1))
    return max(until, plan.midnight(latest.astimezone(plan.tz).date() + datetime.timedelta(days=1)))


def expected_alerts(plan_dir, reports, faults=(), until=None, _observe=None):
    """The alert episodes the reports must raise under the semantics of the module docstring.

    Returns {"until": instant, "alerts": [episode, …], "levels": {…}}; an episode is
      {"rule", "rule_kind", "kind" (alert kind), "scope", "severity" (at the end or at resolution),
       "fired_at", "fired_by" ("clock" | "report"), "fired_report" ({"ward","period","observed_at"}|None),
       "phases": [{"state", "severity", "from", "by"}], "resolved_at" | None, "resolved_by",
       "resolved_report", "firing_at_end": bool, "cause": fault id | "baseline: …"}."""
    plan = _Plan(plan_dir)
    reports = sorted(reports, key=_arrival)
    until = _instant(until) if isinstance(until, str) else until or _default_until(plan, reports)
    data = _Data(plan)

    schedules = {r["id"]: _Schedule(plan, r, until) for r in plan.rules if r["kind"] == "schedule"}
    rules = list(plan.rules)
    levels = {r["id"]: replay2022_levels.Levels(plan, data, r) for r in plan.rules
              if r["kind"] == "level"}
    # The instants to evaluate: arrivals, midnights, schedule alert instants, task due ends.
    instants, clock = {}, set()
    for r in reports:
        instants.setdefault(_arrival(r), []).append(r)
    first_day = min(_day(r["period"]) for r in reports)
    d = first_day
    while plan.midnight(d) <= until:
        clock.add(plan.midnight(d))
        d += datetime.timedelta(days=1)
    for s in schedules.values():
        for _, a in s.slots:
            clock.add(a)
    for r in plan.rules:
        if r["kind"] == "task":
            end = plan.midnight(_day(r["due"]) + datetime.timedelta(days=1))
            if end <= until:
                clock.add(end)
    clock.add(until)
    for t in clock:
        instants.setdefault(t, [])

    status = {}          # (rule id, scope) -> phase
    checks = {}          # (rule id, scope) -> failing periods (recomputed when the unit's data moves)
    open_episode = {}    # (rule id, scope) -> episode
    episodes = []
    # A target missed at its deadline is critical whatever the rule's severity (the engine's
    # rule_coverage.c: the warning phases are the rule's early notice, the miss is final).
    severity = lambda rule, phase: ("warning" if phase in ("at_risk", "silent")
                                    else "critical" if phase == "missed"
                                    else rule["severity"])
    expected_from = None     # the first day figures are expected (coverage's silence)

    for t in sorted(instants):
        if t > until:
            break
        arrived = instants[t]
        for r in arrived:
            data.add(r)
            for lv in levels.values():
                lv.arrived(r)
        if arrived and expected_from is None:
            expected_from = t.astimezone(plan.tz).date()
            if plan.valid_from and plan.valid_from > expected_from:
                expected_from = plan.valid_from
        touched = {r["ward"] for r in arrived}
        by = "report" if arrived else "clock"
        for rule in rules:
            for scope in plan.scopes(rule):
                # A ward's outcome moves only with its own reports or the clock (a shortcut: the
                # same as evaluating it at every instant).
                if t not in clock and scope not in touched and (scope != "district"
                                                                or not touched):
                    continue
                key = (rule["id"], scope)
                kind = rule["kind"]
                if kind == "schedule":
                    phase = schedules[rule["id"]].evaluate(data, scope, t)
                elif kind == "task":
                    phase = _task(plan, data, rule, scope, t)
                elif kind == "check":
                    if key not in checks or (touched and (scope == "district"
                                                          or scope in touched)):
                        checks[key] = _check_failures(plan, data, rule, scope)
                    phase = "firing" if checks[key] else None
                elif kind == "ratio":
                    phase = _ratio(plan, data, rule, scope, t, expected_from)
                elif kind == "announce":
                    phase = _announce(plan, data, rule, scope, t)
                elif kind == "level":
                    phase = levels[rule["id"]].phase(scope, t)
                else:
                    verdict, _ = _coverage(plan, data, rule, scope, t, expected_from)
                    phase = verdict if verdict in ("at_risk", "missed", "silent") else None
                    if _observe:
                        _observe(plan, data, rule, scope, t, phase, expected_from)
                old = status.get(key)
                if phase == old:
                    continue
                status[key] = phase
                responsible = [r for r in arrived if scope == "district" or r["ward"] == scope]
                cause_report = responsible[-1] if responsible else (arrived[-1] if arrived else None)
                ref = ({"ward": cause_report["ward"], "period": cause_report["period"],
                        "observed_at": cause_report["observed_at"]} if cause_report else None)
                if cause_report and cause_report.get("delivered_at"):
                    ref["delivered_at"] = cause_report["delivered_at"]
                if old is None:
                    ep = {"rule": rule["id"], "rule_kind": kind, "kind": ALERT_KIND[kind],
                          "scope": scope, "severity": severity(rule, phase), "fired_at": _fmt(t),
                          "fired_by": by, "fired_report": ref,
                          "phases": [{"state": phase, "severity": severity(rule, phase),
                                      "from": _fmt(t), "by": by}],
                          "resolved_at": None, "resolved_by": None, "resolved_report": None,
                          "firing_at_end": True,
                          "cause": _cause(plan, rule, scope, faults)}
                    if kind == "check":
                        ep["periods"] = [p.isoformat() for p in checks[key]]
                    episodes.append(ep)
                    open_episode[key] = ep
                elif phase is None:
                    ep = open_episode.pop(key)
                    ep.update(resolved_at=_fmt(t), resolved_by=by, resolved_report=ref,
                              firing_at_end=False)
                else:
                    ep = open_episode[key]
                    ep["phases"].append({"state": phase, "severity": severity(rule, phase),
                                         "from": _fmt(t), "by": by})
                    ep["severity"] = severity(rule, phase)

    highest = {"%s/%s" % (rid, scope): lv.highest(scope, until)
               for rid, lv in levels.items() for scope in plan.scopes(lv.rule)}
    return {"until": _fmt(until), "alerts": episodes,
            "levels": {k: {"level": v[0], "week": v[1]} for k, v in highest.items()}}


def robustness(plan_dir, reports, faults=(), until=None):
    """Coverage verdicts under other readings of the trend (module docstring, "Robustness").

    Returns {"disagreements": [{rule, scope, at, method, day_from, primary, other}],
             "min_margin": {"rule/scope": smallest |margin| of the primary reading}}."""
    out = {"disagreements": [], "min_margin": {}}

    def observe(plan, data, rule, scope, t, phase, expected_from):
        verdict, margin = _coverage(plan, data, rule, scope, t, expected_from)
        key = "%s/%s" % (rule["id"], scope)
        if margin is not None:
            out["min_margin"][key] = min(out["min_margin"].get(key, float("inf")), abs(margin))
        for method, day_from in (("ols", "data"), ("endpoint", "now"), ("ols", "now")):
            other, _ = _coverage(plan, data, rule, scope, t, expected_from, method, day_from)
            if other is None or verdict is None:
                continue          # one reading cannot judge yet: only the start differs
            if other != verdict:
                out["disagreements"].append({"rule": rule["id"], "scope": scope, "at": _fmt(t),
                                             "method": method, "day_from": day_from,
                                             "primary": verdict, "other": other})

    expected_alerts(plan_dir, reports, faults, until, _observe=observe)
    return out


# ---------------------------------------------------------------------------------------------
# CLI

def dump(result, f):
    """The result as JSON with one alert episode per line (a readable, diffable golden file)."""
    rest = {k: v for k, v in result.items() if k != "alerts"}
    f.write("{\"alerts\": [\n")
    f.write(",\n".join(" " + json.dumps(ep, ensure_ascii=False, sort_keys=True)
                        for ep in result["alerts"]))
    f.write("\n],\n")
    f.write(json.dumps(rest, ensure_ascii=False, indent=1, sort_keys=True)[1:].lstrip("\n"))
    f.write("\n")


def text_lines(result):
    lines = []
    for ep in result["alerts"]:
        phases = " → ".join("%s %s" % (p["state"], p["from"]) for p in ep["phases"])
        end = ("still firing at %s" % result["until"] if ep["firing_at_end"]
               else "resolved %s (%s)" % (ep["resolved_at"], ep["resolved_by"]))
        lines.append("%-28s %-8s %-14s fired %s (%s); %s; %s  [%s]"
                     % (ep["rule"], ep["scope"], ep["kind"], ep["fired_at"], ep["fired_by"],
                        phases, end, ep["cause"]))
    firing = sum(1 for ep in result["alerts"] if ep["firing_at_end"])
    lines.append("%d episodes, %d firing at %s" % (len(result["alerts"]), firing, result["until"]))
    return lines


def main(argv=None):
    sys.path.insert(0, HERE)
    import replay2022
    ap = argparse.ArgumentParser(description="The alerts a 2022 replay must raise (see the module "
                                 "docstring for the semantics).")
    ap.add_argument("--plan", required=True)
    for flag, default in (("--start", replay2022.DEFAULT_START), ("--end", replay2022.DEFAULT_END)):
        ap.add_argument(flag, default=default)
    ap.add_argument("--seed", type=int, default=replay2022.DEFAULT_SEED)
    ap.add_argument("--faults", help="JSON file with the list of faults (default: DEFAULT_FAULTS)")
    ap.add_argument("--no-faults", action="store_true")
    ap.add_argument("--until", help="end instant (default: midnight after the last period)")
    ap.add_argument("--format", choices=("text", "json"), default="text")
    ap.add_argument("--robustness", action="store_true", help="also check the coverage verdicts "
                    "under other trend readings")
    ap.add_argument("--write", help="write the JSON result to this file")
    args = ap.parse_args(argv)
    faults = [] if args.no_faults else replay2022.DEFAULT_FAULTS
    if args.faults:
        with open(args.faults, encoding="utf-8") as f:
            faults = json.load(f)
    replay = replay2022.generate(args.plan, args.start, args.end, faults, args.seed)
    result = expected_alerts(args.plan, replay.reports, replay.faults, args.until)
    if args.robustness:
        result["robustness"] = robustness(args.plan, replay.reports, replay.faults, args.until)
    result["generated_by"] = ("tests/replay/replay2022_expected.py --plan %s --start %s --end %s --seed %d%s"
                              % (args.plan, args.start, args.end, args.seed,
                                 " --no-faults" if args.no_faults else
                                 " --faults %s" % args.faults if args.faults else ""))
    if args.write:
        with open(args.write, "w", encoding="utf-8") as f:
            dump(result, f)
    if args.format == "json":
        dump(result, sys.stdout)
    else:
        print("\n".join(text_lines(result)))
        if args.robustness:
            rb = result["robustness"]
            print("robustness: %d disagreements; smallest margins: %s" % (
                len(rb["disagreements"]),
                ", ".join("%s %.3f" % (k, v) for k, v in sorted(rb["min_margin"].items(),
                                                                 key=lambda kv: kv[1])[:5])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
