"""replay2022_faults — the faults a 2022 replay can inject (tests/replay/replay2022.py), checked against the plan.

Faults (FAULT_KINDS; DEFAULT_FAULTS is what issue 4 asks for plus the booster's 2022 pace; wards and dates
chosen here):
  coverage_lag         {"rule", "wards": [codes] | "*", "reach"?: [low, high]}: those wards (all of them
                       for "*") keep the 2022 pace of the rule's numerator or, with "reach", a steady pace
                       that ends at that share of the group on the deadline.
                       Default "kids-lagging": kids-5-11-full in the three largest wards (Trúc Bạch 00004,
                       Ngọc Hà 00016, Ngọc Khánh 00025), dose 2 reaching 42–48 % on 31/08: the 5–11 rule is at
                       risk from its first trend and missed on 01/09/2022. With the other 11 wards on track,
                       the district's rolled-up coverage still projects ≈ 5 % short, so it is at risk and
                       missed too. (The plan's target is 100 % of 5–11 with dose 2 by 31/08; at the real
                       2022 pace, > 51 % on 23/08, every ward would miss it and the fault would not show,
                       so the replay follows issue 4's scenario. A reach near the 2022 pace, ≈ 55 %, would
                       leave the district within 2 % of its target, where the verdict depends on how the
                       trend is computed.)
                       Default "booster-2022-pace": booster-18p, every ward ("*") at the 2022 pace of dose 3
                       (72–75 % on 23/08, DOMAIN.md 75.6 %): 90 % by 31/12/2022 is out of reach, so the rule
                       is at risk in every ward and the district for the whole replay. Not a ward's fault
                       but what the 2022 figures say; listed so that a replay without faults has none.
  report_gap           {"ward", "periods", "backfill_at"|null}: no daily report for those periods; at
                       backfill_at the ward sends them all (one a minute), resolving report_missing.
                       Default: Đội Cấn 00022 over the National Day holiday, 2–4/09/2022, back-filled on
                       Monday 05/09 at 08:30. (After the 5–11 deadline on purpose: a gap while a ward's
                       coverage is still climbing flattens its trend and would put it at risk too.)
  cumulative_decrease  {"ward", "period", "indicator", "drop", "corrected_at"|null}: that period's value is
                       `drop` lower than the true figure (below the previous day's); at corrected_at a
                       correction report for the period carries the true figure. Default: Quán Thánh 00013
                       types vacc_18p_dose2_cum 100 too low on 12/07/2022 (a slipped hundreds digit) and
                       corrects it on 13/07 at 09:15. (An indicator no coverage rule uses, so the slip raises
                       data_quality only.)
  task_late            {"ward", "task", "done_period"|null}: the task stays in_progress until done_period
                       (done from that period's report on). Default: Giảng Võ 00031 finishes ward-scenario
                       (due 15/06/2022) only on 24/06/2022.
  figures_never_sent   {"ward", "indicators"}: the ward's reports never carry those indicators (it
                       sends everything else as usual). Default "kids-silent": Nguyễn Trung Trực
                       00010 never sends children's vaccination (vacc_5_11_dose1_cum and _dose2_cum):
                       kids-5-11-full says "no figures since 01/05/2022" from 08/05 (silence_days
                       after the first day figures were expected) and "missed — no figures" from
                       01/09/2022; the plan's weekly vaccination schedule raises report_missing
                       from its first week (W18, due Monday 09/05 17:00). Its figures are also
                       missing from the district's rolled-up 5–11 coverage.
  delivery_outage      {"ward", "period", "hours"}: the ward's daily report of that period is committed
                       at its usual moment, before the cut-off (observed_at, which the agent also
                       sets as committed_at), and delivered `hours` later ("delivered_at"), the
                       link having been down. Default "link-outage": Kim Mã 00028, 08/06/2022,
                       6 hours: report_missing fires at 18:00 (the district does not have the
                       figures) and resolves at the delivery, ≈ 22:xx; the report counts as on
                       time (timeliness is judged from committed_at).
  level_surge          {"ward", "weeks": [{"monday", "per_100k", "care_teams_short"?}]}: in each ISO
                       week (Monday to Sunday) the ward's community cases add up to per_100k per
                       100,000 people (spread over the days, more towards the end), and with
                       care_teams_short the ward reports one care team fewer than the level rule's
                       response-capacity condition needs. Default "level-surge": Thành Công 00034, an
                       August cluster: 700 (transmission level 4, QĐ 218's matrix with capacity and
                       vaccination met: level 3, the alert fires on Monday 15/08 00:00), then 900
                       with a care team short (level 4: the alert rises on 22/08, news), then 300
                       (transmission 3, level 2: resolved on 29/08). The district's rate stays at
                       transmission 2 (level 1).
"""
import copy
import datetime

from replay2022_time import parse_day, parse_instant

FAULT_KINDS = ("coverage_lag", "report_gap", "cumulative_decrease", "task_late",
               "figures_never_sent", "delivery_outage", "level_surge")

DEFAULT_FAULTS = [
    {"id": "kids-lagging", "kind": "coverage_lag", "rule": "kids-5-11-full",
     "wards": ["00004", "00016", "00025"], "reach": [0.42, 0.48]},
    {"id": "booster-2022-pace", "kind": "coverage_lag", "rule": "booster-18p", "wards": "*"},
    {"id": "holiday-gap", "kind": "report_gap", "ward": "00022",
     "periods": ["2022-09-02", "2022-09-03", "2022-09-04"],
     "backfill_at": "2022-09-05T08:30:00+07:00"},
    {"id": "dose2-slip", "kind": "cumulative_decrease", "ward": "00013", "period": "2022-07-12",
     "indicator": "vacc_18p_dose2_cum", "drop": 100,
     "corrected_at": "2022-07-13T09:15:00+07:00"},
    {"id": "scenario-late", "kind": "task_late", "ward": "00031", "task": "ward-scenario",
     "done_period": "2022-06-24"},
    {"id": "kids-silent", "kind": "figures_never_sent", "ward": "00010",
     "indicators": ["vacc_5_11_dose1_cum", "vacc_5_11_dose2_cum"]},
    {"id": "link-outage", "kind": "delivery_outage", "ward": "00028", "period": "2022-06-08",
     "hours": 6},
    {"id": "level-surge", "kind": "level_surge", "ward": "00034", "weeks": [
        {"monday": "2022-08-08", "per_100k": 700},
        {"monday": "2022-08-15", "per_100k": 900, "care_teams_short": True},
        {"monday": "2022-08-22", "per_100k": 300}]},
]

# Indicators left out of the reports, and why (module docstring).
NOT_SENT = {
    "facilities_total": "never sent: facilities-on-time is silent",
    "facilities_reported_on_time": "never sent: facilities-on-time is silent",
}


def resolve_faults(plan, faults, start, end):
    """Checks each fault against the plan and the replay's days; returns copies with the plan's
    facts added (description, due date, …). Raises ValueError naming the bad fault."""
    out = []
    seen = set()
    for i, fault in enumerate(faults):
        f = copy.deepcopy(fault)
        where = "fault %d (%s)" % (i, f.get("id", "?"))
        f.setdefault("id", "%s-%d" % (f.get("kind", "fault"), i))
        if f["id"] in seen:
            raise ValueError("%s: id repeated" % where)
        seen.add(f["id"])
        kind = f.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError("%s: kind must be one of %s" % (where, ", ".join(FAULT_KINDS)))
        if f.get("wards") == "*":
            f["wards"] = list(plan.wards)
            f["all_wards"] = True
        for w in f.get("wards", []) + ([f["ward"]] if "ward" in f else []):
            if w not in plan.wards:
                raise ValueError("%s: %s is not a ward of district %s" % (where, w, plan.district))
        name = lambda w: plan.units[w].get("name_en", w)
        if kind == "coverage_lag":
            rule = plan.rules.get(f.get("rule"))
            if not rule or rule["kind"] != "coverage" or "population" not in rule:
                raise ValueError("%s: rule must be a coverage rule over a population group" % where)
            reach = f.get("reach")
            if reach is not None and not (len(reach) == 2 and 0 < reach[0] <= reach[1]
                                          < float(rule["target"])):
                raise ValueError("%s: reach must be [low, high] below the target" % where)
            f.update(numerator=rule["numerator"], population=rule["population"],
                     target=rule["target"], deadline=rule["deadline"])
            f["description"] = ("%s %s %s, so %s (%s of %s by %s) is missed there"
                                % ("Every ward" if f.get("all_wards") else
                                   ", ".join(name(w) for w in f["wards"]),
                                   "reaches only %.0f–%.0f %% of" % (100 * reach[0], 100 * reach[1])
                                   if reach else "keeps the 2022 pace of", rule["numerator"],
                                   rule["id"], rule["target"], rule["population"],
                                   rule["deadline"]))
        elif kind == "report_gap":
            periods = [parse_day(p) for p in f["periods"]]
            if any(p < start or p > end for p in periods):
                raise ValueError("%s: periods outside the replay" % where)
            if f.get("backfill_at"):
                at = parse_instant(f["backfill_at"])
                alert = schedule_alert(plan, max(periods))
                if alert is not None and at <= alert:
                    raise ValueError("%s: backfill_at is not after the last period's cut-off and "
                                     "grace (the gap would raise no report_missing)" % where)
            f["description"] = ("%s sends no daily report for %s%s"
                                % (name(f["ward"]), ", ".join(f["periods"]),
                                   "; back-filled at " + f["backfill_at"] if f.get("backfill_at")
                                   else "; never back-filled"))
        elif kind == "cumulative_decrease":
            ind = plan.indicators.get(f.get("indicator"))
            if not ind or ind["kind"] != "cumulative":
                raise ValueError("%s: indicator must be a cumulative indicator of the catalog" % where)
            if f["indicator"] in NOT_SENT:
                raise ValueError("%s: indicator is not sent by the replay" % where)
            p = parse_day(f["period"])
            if not start < p <= end:
                raise ValueError("%s: period must be a replay day after the first" % where)
            if int(f.get("drop", 0)) <= 0:
                raise ValueError("%s: drop must be a positive whole number" % where)
            checks = [r["id"] for r in plan.rules_of("check")
                      if r.get("relation", {}).get("never_decreases") == f["indicator"]]
            f["checks"] = checks
            f["description"] = ("%s reports %s for %s %d lower than the true figure (below the day "
                                "before)%s" % (name(f["ward"]), f["indicator"], f["period"],
                                               int(f["drop"]),
                                               "; corrected at " + f["corrected_at"]
                                               if f.get("corrected_at") else "; never corrected"))
        elif kind == "task_late":
            rules = [r for r in plan.ward_task_rules(f["ward"]) if r["task"] == f.get("task")]
            if not rules:
                raise ValueError("%s: no task rule of ward %s for task %r"
                                 % (where, f["ward"], f.get("task")))
            f["rule"] = rules[0]["id"]
            f["due"] = rules[0]["due"]
            if f.get("done_period") and parse_day(f["done_period"]) <= parse_day(f["due"]):
                raise ValueError("%s: done_period is not after the due date %s" % (where, f["due"]))
            f["description"] = ("%s leaves %s (due %s) in progress%s"
                                % (name(f["ward"]), f["task"], f["due"],
                                   " until " + f["done_period"] if f.get("done_period")
                                   else " to the end"))
        elif kind == "figures_never_sent":
            unknown = [i for i in f.get("indicators", []) if i not in plan.indicators]
            if not f.get("indicators") or unknown:
                raise ValueError("%s: indicators must be indicators of the catalog" % where)
            schedule = plan.schedule_rule()
            if schedule and set(f["indicators"]) & set(schedule.get("indicators", [])):
                raise ValueError("%s: the daily schedule needs those indicators" % where)
            f["rules"] = [r["id"] for r in plan.plan["rules"]
                          if r.get("numerator") in f["indicators"]
                          or r.get("denominator") in f["indicators"]
                          or set(r.get("indicators", [])) & set(f["indicators"])]
            f["description"] = ("%s never sends %s (rules that need them: %s)"
                                % (name(f["ward"]), ", ".join(f["indicators"]),
                                   ", ".join(f["rules"]) or "none"))
        elif kind == "delivery_outage":
            p = parse_day(f["period"])
            if not start <= p <= end:
                raise ValueError("%s: period outside the replay" % where)
            if not 0 < float(f.get("hours", 0)) < 24:
                raise ValueError("%s: hours must be between 0 and 24" % where)
            f["description"] = ("%s commits its daily report for %s before the cut-off; it is "
                                "delivered %s hours later (link down)"
                                % (name(f["ward"]), f["period"], f["hours"]))
        elif kind == "level_surge":
            rules = plan.rules_of("level")
            weeks = f.get("weeks") or []
            if not rules or not weeks:
                raise ValueError("%s: needs a level rule in the plan and at least one week" % where)
            for w in weeks:
                m = parse_day(w.get("monday", ""))
                if m.weekday() != 0 or m < start or m + datetime.timedelta(days=6) > end:
                    raise ValueError("%s: %s is not the Monday of a week within the replay"
                                     % (where, w.get("monday")))
                if not float(w.get("per_100k", 0)) > 0:
                    raise ValueError("%s: per_100k must be positive" % where)
            f["rule"] = rules[0]["id"]
            f["description"] = ("%s has a cluster: community cases per 100,000 in the weeks of %s%s"
                                % (name(f["ward"]), ", ".join(
                                    "%s: %s%s" % (w["monday"], w["per_100k"],
                                                  " (a care team short)"
                                                  if w.get("care_teams_short") else "")
                                    for w in weeks), ""))
        out.append(f)
    return out


def schedule_alert(plan, day):
    """When report_missing fires for a daily period: its cut-off plus grace (None without a rule)."""
    rule = plan.schedule_rule()
    if not rule:
        return None
    hh, mm = (int(x) for x in rule.get("cutoff", "23:59").split(":"))
    return (datetime.datetime(day.year, day.month, day.day, hh, mm, tzinfo=plan.tz)
            + datetime.timedelta(days=rule.get("cutoff_day_offset", 0),
                                 minutes=rule.get("grace_minutes", 0)))


# ---------------------------------------------------------------------------------------------
# Random helpers (each ward draws from its own stream, so a change in one ward moves no other)
