"""replay2022_levels — the oracle's reading of the epidemic-level rule (tests/replay/replay2022_expected.py).

Written from the plan's meaning (plan.schema.json, plans/ba-dinh-2022 "epidemic-level", issue 10),
not from the engine's code:

  * A unit's level is assessed per ISO week, Monday to Sunday (seed 004 III.19: "đánh giá cấp độ dịch
    hằng tuần"), with the criteria version in force on the week's Sunday. A week is assessed once it
    is over: from the midnight that ends its Sunday, the last complete week is the one that counts.
  * The first week is the one holding the unit's earliest figure of any criterion (not before the
    rule's first version). A week where no criterion has a figure is not assessed (and changes
    nothing).
  * Transmission: for each criterion, its window's (window_days ending on Sunday) sum of the unit's
    figures (district: the wards' figures added, by the catalog's rollup), as a rate per `per`
    people of the population group; level 1 + the number of thresholds the rate reaches — or 1 when
    the sum is below the criterion's min_count (too few events to mean anything). The transmission
    level is the highest criterion's.
  * Conditions, each judged on the week's Sunday with the values in force then (each figure of
    all_of per `per` people, default 1, at least `min`): "matrix" conditions — the level is
    matrix[transmission − 1][the number not met, unknown figures counting as not met, at most the
    matrix's last column]; "raise_one" — one level higher when known to be unmet; "no_lowering" —
    when known to be unmet, the level does not fall below the previous week's. At most level 4.
  * A week with a day missing (some criterion expected daily — expected_daily, default true — has
    no figure for a day of the window) is a floor: never lower than the previous week's level.
  * The alert: while the last complete week's level is at or above alert_at_level. Its phases are
    the levels ("level_3", "level_4"): a change of level while firing (3 → 4, or back) is a new
    phase of the same episode (issue 10: "a level alert that rises while already firing is news");
    a level below alert_at_level resolves it. All at the rule's severity.
"""
import datetime

ONE_DAY = datetime.timedelta(days=1)


def monday(day):
    return day - datetime.timedelta(days=day.weekday())


def _day(s):
    return datetime.date.fromisoformat(s)


def version_on(rule, day):
    for v in rule["versions"]:
        if _day(v["valid_from"]) <= day and (not v.get("valid_to") or day <= _day(v["valid_to"])):
            return v
    return None


class Levels:
    """Weekly levels of one level rule, per scope, as reports arrive (a cache of the weeks'
    assessments, dropped from a report's period on when it arrives)."""

    def __init__(self, plan, data, rule):
        self.plan, self.data, self.rule = plan, data, rule
        self.alert_at = int(rule.get("alert_at_level", 3))
        self.indicators = sorted({c["indicator"] for v in rule["versions"]
                                  for c in v.get("transmission", [])})
        self.first_version = min(_day(v["valid_from"]) for v in rule["versions"])
        self.cache = {}       # (scope, monday) -> assessment of the week without its history

    def arrived(self, report):
        """A report moves the weeks that end on or after its period, for its ward and the district."""
        day = _day(report["period"])
        for key in [k for k in self.cache if k[0] in (report["ward"], "district")
                    and k[1] + 6 * ONE_DAY >= day]:
            del self.cache[key]

    def _condition(self, scope, cond, end):
        """1 met, 0 not met, -1 unknown (a figure or a population missing)."""
        for item in cond.get("all_of", []):
            v = self.data.value_in_force(scope, item["indicator"], end)
            people = self.plan.population(scope, item.get("population", "total"))
            if v is None or not people:
                return -1
            if v / people * item.get("per", 1) < item["min"]:
                return 0
        return 1

    def _assess(self, scope, mon):
        """(level before history, no_lowering unmet, days missing) of a week, or None."""
        key = (scope, mon)
        if key not in self.cache:
            self.cache[key] = self._assess_week(scope, mon)
        return self.cache[key]

    def _assess_week(self, scope, mon):
        end = mon + 6 * ONE_DAY
        version = version_on(self.rule, end)
        if version is None:
            return None
        window = int(version.get("window_days", 7))
        days = [end - k * ONE_DAY for k in range(window)]
        transmission, seen_any, missing = 1, False, 0
        for c in version.get("transmission", []):
            values = [self.data.value(scope, c["indicator"], d) for d in days]
            if c.get("expected_daily", True):
                missing = max(missing, sum(1 for v in values if v is None))
            values = [v for v in values if v is not None]
            people = self.plan.population(scope, c.get("population", "total"))
            if not values or not people:
                continue
            seen_any = True
            total = sum(values)
            rate = total / people * c.get("per", 100000)
            if total >= c.get("min_count", 0):
                transmission = max(transmission,
                                   1 + sum(1 for th in c["thresholds"][:3] if rate >= th))
        if not seen_any:
            return None
        conditions = version.get("conditions", [])
        level = transmission
        if version.get("matrix"):
            unmet = sum(1 for cond in conditions if cond.get("if_unmet") == "matrix"
                        and self._condition(scope, cond, end) != 1)
            row = version["matrix"][transmission - 1]
            level = row[min(unmet, len(row) - 1)]
        for cond in conditions:
            if cond.get("if_unmet") == "raise_one" and self._condition(scope, cond, end) == 0:
                level = min(4, level + 1)
        floor = any(cond.get("if_unmet") == "no_lowering" and self._condition(scope, cond, end) == 0
                    for cond in conditions)
        return level, floor, missing

    def weeks(self, scope, today):
        """[(monday, level, days missing)] of the complete weeks before today's, oldest first."""
        code = self.plan.district if scope == "district" else scope
        units = self.plan.wards if scope == "district" else [code]
        firsts = [p[0] for u in units for i in self.indicators
                  for p in [self.data.periods.get(u, {}).get(i, [])] if p]
        if not firsts:
            return []
        mon = monday(max(min(firsts), self.first_version))
        last = monday(today) - 7 * ONE_DAY
        out, previous = [], 0
        while mon <= last:
            a = self._assess(scope, mon)
            if a is not None:
                level, floor, missing = a
                if (floor or missing > 0) and level < previous:
                    level = previous
                out.append((mon, level, missing))
                previous = level
            mon += 7 * ONE_DAY
        return out

    def phase(self, scope, t):
        """"level_N" while the last complete week is at or above alert_at_level, else None."""
        weeks = self.weeks(scope, t.astimezone(self.plan.tz).date())
        if not weeks or weeks[-1][1] < self.alert_at:
            return None
        return "level_%d" % weeks[-1][1]

    def highest(self, scope, until):
        """(highest weekly level, its week's Monday) up to the week before until's."""
        best = (0, None)
        for mon, level, _ in self.weeks(scope, until.astimezone(self.plan.tz).date()):
            if level > best[0]:
                best = (level, mon.isoformat())
        return best
