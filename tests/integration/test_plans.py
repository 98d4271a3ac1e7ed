#!/usr/bin/python3
"""The ready plans in plans/ are valid, consistent and complete.

For every plans/<name>/ (orgunits.json, catalog.json, plan.json):
  - each file validates against its schema with python jsonschema (draft-07, strict
    "date") and with our C validator (`wardpulse validate NAME FILE`, exit 0 = valid);
  - the cross-references the schemas cannot express hold: indicators, tasks and
    population groups named by rules exist; assignees are unit codes or named offices;
    parents exist one level up; ward populations add up to their district's;
    every estimate is marked as one; every rule names its source.
For plans/ba-dinh-2022 also: exactly the 14 wards of DOMAIN.md with their codes, and
a rule for every target in DOMAIN.md's table (TARGET_RULES below is that mapping).
For the city plans (plans/ha-noi-2022, plans/can-tho-2022): the districts are the
reporting units, the booster target is evaluated at city scope, the aggregator loads
them as a city aggregator, and what Ba Đình rolls up is what Hà Nội's catalog takes.

Run: WP_SOURCE_DIR=/work/main WP_BUILD_DIR=build /usr/bin/python3 tests/integration/test_plans.py
Plain Python, standard library + jsonschema.
"""
import datetime
import json
import os
import subprocess

import jsonschema

from harness import AGGREGATOR_BIN, CLI_BIN, SRC, run_tests
from test_schema_examples import explain, make_format_checker

PLANS_DIR = os.path.join(SRC, "plans")
SCHEMA_DIR = os.path.join(SRC, "schemas")
FILES = ("orgunits", "catalog", "plan")      # file name = schema name

# DOMAIN.md, "Administrative units": the 14 wards of Ba Đình (001, Hà Nội 01).
BA_DINH_WARDS = {
    "00001": "Phường Phúc Xá", "00004": "Phường Trúc Bạch", "00006": "Phường Vĩnh Phúc",
    "00007": "Phường Cống Vị", "00008": "Phường Liễu Giai", "00010": "Phường Nguyễn Trung Trực",
    "00013": "Phường Quán Thánh", "00016": "Phường Ngọc Hà", "00019": "Phường Điện Biên",
    "00022": "Phường Đội Cấn", "00025": "Phường Ngọc Khánh", "00028": "Phường Kim Mã",
    "00031": "Phường Giảng Võ", "00034": "Phường Thành Công",
}
# DOMAIN.md: published totals (exact) and approximate ones (≈, within 5 %).
BA_DINH_TOTALS_EXACT = {"00007": 16330, "00025": 20363}
BA_DINH_TOTALS_APPROX = dict({"00016": 21600, "00004": 21300},
                             **{c: 14500 for c in BA_DINH_WARDS
                                if c not in ("00007", "00025", "00016", "00004")})
BA_DINH_DISTRICT_TOTAL = 225000

# Offices that may be named as task assignees (KH Ba Đình, part III: the district's
# offices and bodies given tasks), besides unit codes.
KNOWN_OFFICES = {
    "Phòng Y tế", "Trung tâm Y tế quận", "Ban Chỉ huy quân sự quận", "Công an quận",
    "Phòng Văn hóa và Thông tin", "Phòng Lao động - Thương binh và Xã hội", "Phòng Kinh tế",
    "Phòng Quản lý đô thị", "Phòng Tài nguyên và Môi trường", "Phòng Tài chính - Kế hoạch",
    "Phòng Giáo dục và Đào tạo", "Phòng Tư pháp", "Phòng Nội vụ", "Phòng Thanh tra",
    "Đội Thanh tra Giao thông vận tải", "Bảo hiểm xã hội quận", "Ủy ban MTTQ Việt Nam quận",
}

# Every target of DOMAIN.md's table -> the rules of plans/ba-dinh-2022 that carry it.
# Each entry: (target, DOMAIN.md source section, [(rule id, kind, fields that must hold)]).
TARGET_RULES = [
    ("≥ 90 % of people 18+ have the booster (dose 3) during 2022", "II.3",
     [("booster-18p", "coverage", {"numerator": "vacc_18p_dose3_cum", "population": "18p",
                                   "target": 0.9, "deadline": "2022-12-31"})]),
    ("children 5 to under 12 fully vaccinated before September 2022", "I.3.1",
     [("kids-5-11-full", "coverage", {"numerator": "vacc_5_11_dose2_cum", "population": "5_11",
                                      "target": 1.0, "deadline": "2022-08-31"})]),
    ("100 % of severe/critical COVID-19 patients treated per regulation", "I.3.3",
     [("severe-treated", "ratio", {"numerator": "severe_treated", "denominator": "severe_active",
                                   "target": 1.0})]),
    ("frontline forces (incl. community COVID teams) fully vaccinated", "I.3.3",
     [("frontline-full", "coverage", {"numerator": "frontline_staff_vaccinated_full",
                                      "denominator": "frontline_staff", "target": 1.0})]),
    ("100 % of vaccination, testing and treatment facilities update data fully and on time", "I.3.5",
     [("daily-report", "schedule", {"period": "daily", "cutoff": "17:00", "grace_minutes": 60}),
      ("facilities-on-time", "ratio", {"numerator": "facilities_reported_on_time",
                                       "denominator": "facilities_total", "target": 1.0})]),
    ("ward and district build an epidemic scenario, train all forces, have a mobilisation plan", "I.3.2",
     [("ward-scenario", "task", {"task": "ward-scenario"}),
      ("district-scenario", "task", {"task": "district-scenario"}),
      ("ward-training", "task", {"task": "ward-training"}),
      ("district-training", "task", {"task": "district-training"}),
      ("ward-mobilisation-plan", "task", {"task": "ward-mobilisation-plan"}),
      ("district-mobilisation-plan", "task", {"task": "district-mobilisation-plan"})]),
    ("every organisation/business assesses infection risk and reports the result", "I.3.2",
     [("organisations-risk-assessed", "coverage", {"numerator": "organisations_assessed",
                                                   "denominator": "organisations_total",
                                                   "target": 1.0})]),
    ("each ward builds its own plan, assesses its level, keeps its COVID team, reviews and reports", "III.19",
     [("ward-plan", "task", {"task": "ward-plan"}),
      ("ward-level-assessment", "task", {"task": "ward-level-assessment"}),
      ("community-covid-team", "task", {"task": "community-covid-team"}),
      ("ward-review-report", "task", {"task": "ward-review-report"}),
      ("epidemic-level", "level", {"applies_to": "both"})]),
    ("COVID-19 deaths reduced to the lowest level per MoH targets", "I.3.2",
     [("epidemic-level", "level", {})]),   # deaths is a transmission input: see test below
]

# Ids that other code already uses (scripts/demo.py, integration tests).
IDS_IN_USE = {"indicators": ["cases_new_community", "cases_new_quarantined", "f0_active_home",
                             "deaths", "vacc_18p_dose3_cum", "vacc_5_11_dose1_cum"],
              "tasks": ["ward-scenario"]}

LEVEL_RANK = {"city": 0, "district": 1, "ward": 2}
ESTIMATE_TOLERANCE = 0.02     # ward sums vs an estimated district figure
_cache = {}


# ---------------------------------------------------------------- loading

def plan_names():
    names = sorted(d for d in os.listdir(PLANS_DIR) if os.path.isdir(os.path.join(PLANS_DIR, d)))
    assert names, "no plan directories in %s" % PLANS_DIR
    return names


def path_of(plan, name):
    return os.path.join(PLANS_DIR, plan, name + ".json")


def load(plan, name):
    key = (plan, name)
    if key not in _cache:
        with open(path_of(plan, name), "rb") as f:
            raw = f.read()
        assert not raw.startswith(b"\xef\xbb\xbf"), "%s/%s.json starts with a BOM" % (plan, name)
        _cache[key] = json.loads(raw.decode("utf-8"))
    return _cache[key]


def units(plan):
    return load(plan, "orgunits")["units"]


def unit_map(plan):
    return {u["code"]: u for u in units(plan)}


def wards(plan):
    return [u for u in units(plan) if u["level"] == "ward"]


def rules(plan):
    return load(plan, "plan")["rules"]


def rule_map(plan):
    return {r["id"]: r for r in rules(plan)}


def indicator_ids(plan):
    return {i["id"] for i in load(plan, "catalog")["indicators"]}


def task_ids(plan):
    return {t["id"] for t in load(plan, "catalog").get("tasks", [])}


def date(text):
    return datetime.date.fromisoformat(text)


def estimated_groups(unit):
    """The population groups of a unit that are marked as estimates."""
    marker = unit.get("population_estimated", False)
    if marker is True:
        return set(unit.get("population", {}))
    if marker is False:
        return set()
    return set(marker)


# ---------------------------------------------------------------- what rules refer to

def rule_indicators(rule):
    """Every indicator id a rule names."""
    kind, found = rule["kind"], []
    if kind == "coverage":
        found += [rule["numerator"]] + ([rule["denominator"]] if "denominator" in rule else [])
    elif kind == "schedule":
        found += rule["indicators"]
    elif kind == "ratio":
        found += [rule["numerator"], rule["denominator"]]
    elif kind == "check":
        rel = rule["relation"]
        if "never_decreases" in rel:
            found.append(rel["never_decreases"])
        else:
            found.append(rel["left"])
            if isinstance(rel["right"], str):
                found.append(rel["right"])
    elif kind == "level":
        for version in rule["versions"]:
            found += [c["indicator"] for c in version["transmission"]]
            for cond in version.get("conditions", []):
                found += [r["indicator"] for r in cond["all_of"]]
    return found


def rule_groups(rule):
    """Every population group a rule names (defaults included: total for rates)."""
    kind, found = rule["kind"], []
    if kind == "coverage" and "population" in rule:
        found.append(rule["population"])
    elif kind == "check" and isinstance(rule["relation"].get("right"), dict):
        found.append(rule["relation"]["right"]["population"])
    elif kind == "level":
        for version in rule["versions"]:
            found += [c.get("population", "total") for c in version["transmission"]]
            for cond in version.get("conditions", []):
                found += [r.get("population", "total") for r in cond["all_of"]]
    return found


# ---------------------------------------------------------------- every plan

def test_every_plan_has_its_three_files():
    for plan in plan_names():
        for name in FILES:
            assert os.path.isfile(path_of(plan, name)), "plans/%s lacks %s.json" % (plan, name)
    assert {"ba-dinh-2022", "can-tho-2022", "ha-noi-2022"} <= set(plan_names()), plan_names()


def test_files_are_utf8_json_with_vietnamese_names():
    for plan in plan_names():
        for name in FILES:
            load(plan, name)           # raises on bad UTF-8, a BOM or bad JSON
        assert all(any(ord(ch) > 127 for ch in u["name_vi"]) for u in units(plan)), \
            "plans/%s: a unit name without diacritics" % plan


def test_python_jsonschema_accepts_every_plan_file():
    checker = make_format_checker()
    problems = []
    for name in FILES:
        with open(os.path.join(SCHEMA_DIR, name + ".schema.json"), encoding="utf-8") as f:
            validator = jsonschema.Draft7Validator(json.load(f), format_checker=checker)
        for plan in plan_names():
            problems += ["%s/%s.json: %s" % (plan, name, explain(e))
                         for e in validator.iter_errors(load(plan, name))]
    assert not problems, "\n".join(problems)


def test_c_validator_accepts_every_plan_file():
    assert os.access(CLI_BIN, os.X_OK), "%s not built (cmake --build BUILD --target wardpulse)" % CLI_BIN
    problems = []
    for plan in plan_names():
        for name in FILES:
            r = subprocess.run([CLI_BIN, "validate", name, path_of(plan, name)],
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                problems.append("%s/%s.json: exit %d: %s" % (plan, name, r.returncode, r.stderr.strip()))
    assert not problems, "\n".join(problems)


def test_ids_and_codes_are_unique():
    for plan in plan_names():
        for what, ids in (("unit code", [u["code"] for u in units(plan)]),
                          ("indicator", [i["id"] for i in load(plan, "catalog")["indicators"]]),
                          ("task", [t["id"] for t in load(plan, "catalog").get("tasks", [])]),
                          ("rule", [r["id"] for r in rules(plan)])):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            assert not dupes, "plans/%s: duplicate %s ids %s" % (plan, what, dupes)


def test_every_parent_exists_one_level_up():
    for plan in plan_names():
        by_code = unit_map(plan)
        cities = [u for u in units(plan) if u["level"] == "city"]
        assert len(cities) == 1, "plans/%s: expected one city, got %d" % (plan, len(cities))
        for u in units(plan):
            if u["level"] == "city":
                continue
            parent = by_code.get(u["parent"])
            assert parent, "plans/%s: %s %s: parent %s missing" % (plan, u["level"], u["code"], u["parent"])
            assert LEVEL_RANK[parent["level"]] == LEVEL_RANK[u["level"]] - 1, \
                "plans/%s: %s's parent %s is a %s" % (plan, u["code"], parent["code"], parent["level"])


def test_plan_scope_is_in_orgunits():
    for plan in plan_names():
        scope, by_code = load(plan, "plan")["scope"], unit_map(plan)
        assert by_code.get(scope["city"], {}).get("level") == "city", "plans/%s: scope city" % plan
        if "district" in scope:
            district = by_code.get(scope["district"])
            assert district and district["level"] == "district" and district["parent"] == scope["city"], \
                "plans/%s: scope district %s" % (plan, scope["district"])


def test_populations_are_plausible():
    for plan in plan_names():
        for u in units(plan):
            p = u.get("population")
            if not p:
                continue
            where = "plans/%s %s" % (plan, u["code"])
            for group, value in p.items():
                assert 0 < value <= p["total"], "%s: %s = %d" % (where, group, value)
            if {"18p", "50p", "65p"} <= set(p):
                assert p["65p"] <= p["50p"] <= p["18p"], where + ": 65p <= 50p <= 18p"
            assert sum(p.get(g, 0) for g in ("5_11", "12_17", "18p")) <= p["total"], where


def test_children_add_up_to_their_parent():
    for plan in plan_names():
        for parent in units(plan):
            children = [u for u in units(plan) if u.get("parent") == parent["code"]]
            if not children or "population" not in parent:
                continue
            tolerance = ESTIMATE_TOLERANCE if parent.get("population_estimated") else 0.0
            for group, value in parent["population"].items():
                assert all(group in c.get("population", {}) for c in children), \
                    "plans/%s: a child of %s lacks group %s" % (plan, parent["code"], group)
                total = sum(c["population"][group] for c in children)
                assert abs(total - value) <= tolerance * value, \
                    "plans/%s %s: %s is %d, its children add up to %d" % (plan, parent["code"], group, value, total)


def test_estimates_are_marked_and_explained():
    for plan in plan_names():
        file_note = load(plan, "orgunits").get("note", "")
        assert "ước tính" in file_note.lower() and "estimate" in file_note.lower(), \
            "plans/%s/orgunits.json: the note must explain the estimates (vi and en)" % plan
        for u in units(plan):
            groups = set(u.get("population", {})) - {"total"}
            unmarked = groups - estimated_groups(u)
            # Age groups are always derived from an assumed age structure in these plans.
            assert not unmarked, "plans/%s %s: groups %s are estimates but not marked" % (plan, u["code"], sorted(unmarked))


def test_rule_indicators_are_in_the_catalog():
    for plan in plan_names():
        known = indicator_ids(plan)
        missing = ["%s: %s" % (r["id"], i) for r in rules(plan) for i in rule_indicators(r) if i not in known]
        assert not missing, "plans/%s: indicators not in catalog.json: %s" % (plan, missing)


def test_rule_population_groups_exist_in_every_unit_that_reports():
    for plan in plan_names():
        # Wards report; a plan without wards yet (can-tho-2022) is evaluated on its districts.
        reporting = wards(plan) or [u for u in units(plan) if u["level"] == "district"]
        assert reporting
        with_figures = reporting + [u for u in units(plan) if u["level"] != "ward" and "population" in u]
        for r in rules(plan):
            for group in rule_groups(r):
                lacking = [u["code"] for u in with_figures if group not in u.get("population", {})]
                assert not lacking, "plans/%s rule %s: group %s missing in %s" % (plan, r["id"], group, lacking)


def test_rule_tasks_are_in_the_catalog():
    for plan in plan_names():
        known = task_ids(plan)
        missing = [r["id"] for r in rules(plan) if r["kind"] == "task" and r["task"] not in known]
        assert not missing, "plans/%s: task rules whose task is not in catalog.json: %s" % (plan, missing)


def assignee_name(who):
    """An assignee is "00001", "Phòng Y tế" or {"name": …, "role": …}."""
    return who["name"] if isinstance(who, dict) else who


def assignee_role(who):
    """Its role: as written, else lead for a unit code and support for an office."""
    if isinstance(who, dict):
        return who["role"]
    return "lead" if who.isdigit() else "support"


def test_assignees_are_units_or_named_offices():
    for plan in plan_names():
        by_code = unit_map(plan)
        for r in rules(plan):
            for who in r.get("assignees", []):
                who = assignee_name(who)
                if who.isdigit():
                    assert who in by_code, "plans/%s rule %s: unit %s not in orgunits" % (plan, r["id"], who)
                    level = by_code[who]["level"]
                    assert r["applies_to"] in (level, "both"), \
                        "plans/%s rule %s applies to %s but names %s %s" % (plan, r["id"], r["applies_to"], level, who)
                else:
                    assert who in KNOWN_OFFICES, "plans/%s rule %s: unknown office %r" % (plan, r["id"], who)


def test_every_rule_names_its_source():
    for plan in plan_names():
        for r in rules(plan):
            source = r.get("source") or {}
            assert source.get("document", "").strip() and source.get("section", "").strip(), \
                "plans/%s rule %s has no source" % (plan, r["id"])
            assert "seed 00" in source["document"] or "QĐ" in source["document"], \
                "plans/%s rule %s: source should name the seed document (or decision) it comes from" % (plan, r["id"])


def test_open_values_are_marked_as_local_choices():
    # The seeds give no due dates and no cut-off: those values are local choices.
    for plan in plan_names():
        for r in rules(plan):
            marked = set(r.get("local_choice", []))
            if r["kind"] == "task":
                assert "due" in marked, "plans/%s rule %s: due not marked local_choice" % (plan, r["id"])
            if r["kind"] == "schedule":
                assert {"cutoff", "grace_minutes"} <= marked, "plans/%s rule %s" % (plan, r["id"])


def test_dates_fall_inside_the_plan():
    for plan in plan_names():
        p = load(plan, "plan")
        start, end = date(p.get("valid_from", "1900-01-01")), date(p.get("valid_to", "2999-12-31"))
        for r in rules(plan):
            for field in ("deadline", "due", "from"):
                if field in r:
                    assert start <= date(r[field]) <= end, \
                        "plans/%s rule %s: %s %s outside the plan's validity" % (plan, r["id"], field, r[field])


def test_level_versions_do_not_overlap():
    for plan in plan_names():
        for r in rules(plan):
            if r["kind"] != "level":
                continue
            versions = sorted(r["versions"], key=lambda v: v["valid_from"])
            for earlier, later in zip(versions, versions[1:]):
                assert "valid_to" in earlier and date(earlier["valid_to"]) < date(later["valid_from"]), \
                    "plans/%s rule %s: versions %s and %s overlap" % (plan, r["id"], earlier["id"], later["id"])
            for v in versions:
                for c in v["transmission"]:
                    t = c["thresholds"]
                    assert t[0] < t[1] < t[2], "plans/%s %s/%s: thresholds %s" % (plan, r["id"], v["id"], t)


def test_catalog_kinds_match_ids_and_rollups():
    for plan in plan_names():
        for i in load(plan, "catalog")["indicators"]:
            where = "plans/%s indicator %s" % (plan, i["id"])
            if i["id"].endswith("_cum"):
                assert i["kind"] == "cumulative", where + ": *_cum must be cumulative"
            if i["kind"] == "daily":
                assert i["rollup"] == "sum", where + ": daily counts sum"
            else:
                assert i["rollup"] == "latest", where + ": cumulative counts and gauges roll up as latest"
            bounds = i.get("bounds", {})
            assert bounds.get("min", 0) <= bounds.get("max", 10 ** 12), where


# ---------------------------------------------------------------- Ba Đình

def test_ba_dinh_has_exactly_the_14_wards_of_domain():
    plan = "ba-dinh-2022"
    by_code = unit_map(plan)
    assert by_code["01"]["name_vi"] == "Thành phố Hà Nội" and by_code["01"]["level"] == "city"
    assert by_code["001"]["name_vi"] == "Quận Ba Đình" and by_code["001"]["parent"] == "01"
    got = {u["code"]: u["name_vi"] for u in wards(plan)}
    assert got == BA_DINH_WARDS, "wards differ from DOMAIN.md: %s" % sorted(set(got.items()) ^ set(BA_DINH_WARDS.items()))
    assert all(u["parent"] == "001" for u in wards(plan))


def test_ba_dinh_populations_match_domain():
    plan = "ba-dinh-2022"
    by_code = unit_map(plan)
    for code, total in BA_DINH_TOTALS_EXACT.items():
        assert by_code[code]["population"]["total"] == total, code
        assert "total" not in estimated_groups(by_code[code]), "%s: a published total is not an estimate" % code
    for code, total in BA_DINH_TOTALS_APPROX.items():
        assert abs(by_code[code]["population"]["total"] - total) <= 0.05 * total, code
        assert "total" in estimated_groups(by_code[code]), "%s: an approximate total must be marked" % code
    district = by_code["001"]["population"]["total"]
    assert abs(district - BA_DINH_DISTRICT_TOTAL) <= 0.01 * BA_DINH_DISTRICT_TOTAL, district
    # The note's age structure is what the figures were derived from.
    shares = {"18p": 0.75, "12_17": 0.08, "5_11": 0.105, "50p": 0.27, "65p": 0.10}
    for u in wards(plan):
        for group, share in shares.items():
            assert abs(u["population"][group] - u["population"]["total"] * share) <= 1, (u["code"], group)


def test_ba_dinh_every_domain_target_has_a_rule():
    plan = "ba-dinh-2022"
    by_id = rule_map(plan)
    for target, section, expected in TARGET_RULES:
        for rule_id, kind, fields in expected:
            r = by_id.get(rule_id)
            assert r, "target %r: rule %s missing" % (target, rule_id)
            assert r["kind"] == kind, "target %r: rule %s is %s, not %s" % (target, rule_id, r["kind"], kind)
            for field, value in fields.items():
                assert r.get(field) == value, "target %r: rule %s has %s = %r, expected %r" % (
                    target, rule_id, field, r.get(field), value)
            assert section in r["source"]["section"], "target %r: rule %s cites %r, not %s" % (
                target, rule_id, r["source"]["section"], section)


def test_ba_dinh_booster_cites_cantho_for_the_figure():
    r = rule_map("ba-dinh-2022")["booster-18p"]
    assert "seed 003" in r["source"]["document"] and "III.1.b" in r["source"]["section"]
    assert "seed 004" in r["source"]["document"], "say that Hà Nội applies the national target"


def test_the_booster_figure_is_a_local_choice_following_can_tho_not_ha_noi_s_own():
    for plan in ("ba-dinh-2022", "ha-noi-2022"):
        r = rule_map(plan)["booster-18p"]
        assert "target" in r["local_choice"], "%s: 90 %% is not a Hà Nội target: mark it" % plan
        assert "LỰA CHỌN ĐỊA PHƯƠNG" in r["note"] and "Cần Thơ" in r["note"], plan
        assert "không phải chỉ tiêu của Hà Nội" in r["source"]["document"], plan
        assert r["source"]["document"].index("seed 004") < r["source"]["document"].index("seed 003"), \
            "%s: Hà Nội's own document first; Cần Thơ's only for the figure" % plan


def test_ba_dinh_has_what_the_seeds_ask_with_sources():
    by_id = rule_map("ba-dinh-2022")
    # seed 002 item 4, seed 003 III.1.b: those not yet vaccinated with dose 1/2, the elderly first
    adults, elderly = by_id["catch-up-18p-dose2"], by_id["catch-up-65p-full"]
    assert adults["numerator"] == "vacc_18p_dose2_cum" and adults["population"] == "18p"
    assert elderly["numerator"] == "vacc_65p_full_cum" and elderly["population"] == "65p"
    for r in (adults, elderly):
        assert "seed 002" in r["source"]["document"] and "seed 003" in r["source"]["document"]
        assert "III.1.b" in r["source"]["section"] and "mục 4" in r["source"]["section"]
        assert {"target", "deadline"} <= set(r["local_choice"]), r["id"]
    # seed 004 I.3.2: organisations assessed / total, not a one-off ward task
    assert "business-risk-assessment" not in by_id
    # seed 004 I.1 (NQ 38): admissions, with a level input
    catalog = {i["id"]: i for i in load("ba-dinh-2022", "catalog")["indicators"]}
    assert catalog["hospital_admissions_new"]["kind"] == "daily"
    v218 = {v["id"]: v for v in by_id["epidemic-level"]["versions"]}["218"]
    assert any(c["indicator"] == "hospital_admissions_new" for c in v218["transmission"])
    assert "seed 004 I.1" in v218["note"]


def test_ba_dinh_218_is_a_matrix_that_can_lower_the_level_and_says_what_is_confirmed():
    v218 = {v["id"]: v for v in rule_map("ba-dinh-2022")["epidemic-level"]["versions"]}["218"]
    matrix = v218["matrix"]
    in_matrix = [c for c in v218["conditions"] if c["if_unmet"] == "matrix"]
    assert len(matrix) == 4 and all(len(row) == len(in_matrix) + 1 for row in matrix)
    assert any(row[0] < t + 1 for t, row in enumerate(matrix)), "218 must be able to lower"
    assert any(row[-1] > t + 1 for t, row in enumerate(matrix)), "218 must be able to raise"
    assert "matrix" in v218["local_choice"]
    assert "XÁC NHẬN từ các seed" in v218["note"] and "LỰA CHỌN ĐỊA PHƯƠNG" in v218["note"]
    deaths = [c for c in v218["transmission"] if c["indicator"] == "deaths"][0]
    assert deaths.get("min_count", 0) >= 2, "one death in 14,500 people must not move a level"


def test_ba_dinh_deaths_feed_the_epidemic_level():
    level = rule_map("ba-dinh-2022")["epidemic-level"]
    by_id = {v["id"]: v for v in level["versions"]}
    assert any(c["indicator"] == "deaths" for c in by_id["218"]["transmission"])
    assert "I.3.2" in level["source"]["section"]


def test_ba_dinh_level_has_4800_and_218():
    level = rule_map("ba-dinh-2022")["epidemic-level"]
    assert level["applies_to"] == "both"
    by_id = {v["id"]: v for v in level["versions"]}
    assert set(by_id) == {"4800", "218"}, set(by_id)
    v4800, v218 = by_id["4800"], by_id["218"]
    assert (v4800["valid_from"], v4800["valid_to"]) == ("2021-10-12", "2022-01-26")
    assert v4800["transmission"] == [{"indicator": "cases_new_community", "population": "total",
                                      "per": 100000, "thresholds": [20, 50, 150]}]
    vaccination = [c for c in v4800["conditions"] if c["if_unmet"] == "raise_one"]
    assert any({"indicator": "vacc_18p_dose1_cum", "population": "18p", "min": 0.7} in c["all_of"]
               for c in vaccination), "4800: 18+ with >= 1 dose >= 70 %"
    assert any(c["if_unmet"] == "no_lowering" for c in v4800["conditions"]), "4800: treatment capacity"
    assert v218["valid_from"] == "2022-01-27" and "valid_to" not in v218
    assert "transmission" in v218.get("local_choice", []), "218 thresholds are unconfirmed configuration"
    assert "xác nhận" in v218.get("note", ""), "218: say the matrix was not confirmed"
    assert any(600 in c["thresholds"] for c in v218["transmission"]), "218: very high above 600/100k/week"


def test_ba_dinh_tasks_cover_every_ward_and_name_offices():
    for r in rules("ba-dinh-2022"):
        if r["kind"] != "task":
            continue
        names = [assignee_name(a) for a in r["assignees"]]
        codes = {a for a in names if a.isdigit()}
        offices = set(names) - codes
        assert offices, "rule %s: name the district office(s) involved" % r["id"]
        # Who does the task is the unit; the offices guide it or take part (KH III.2, III.3).
        roles = {assignee_name(a): assignee_role(a) for a in r["assignees"]}
        assert all(roles[c] == "lead" for c in codes), r["id"]
        assert all(roles[o] in ("guide", "support") for o in offices), \
            "rule %s: say whether each office guides or takes part" % r["id"]
        assert all(isinstance(a, dict) for a in r["assignees"] if assignee_name(a) in offices), \
            "rule %s: write each office's role" % r["id"]
        if r["applies_to"] == "ward":
            assert codes == set(BA_DINH_WARDS), "rule %s: assignees must be the 14 wards" % r["id"]
        else:
            assert codes == {"001"}, "rule %s: district task assignees" % r["id"]


def test_ba_dinh_data_quality_checks_are_complete():
    plan = "ba-dinh-2022"
    relations = [r["relation"] for r in rules(plan) if r["kind"] == "check"]
    decreasing = {rel["never_decreases"] for rel in relations if "never_decreases" in rel}
    cumulative = {i["id"] for i in load(plan, "catalog")["indicators"] if i["kind"] == "cumulative"}
    assert cumulative <= decreasing, "cumulative counts without never_decreases: %s" % sorted(cumulative - decreasing)
    comparisons = {(rel["left"], rel["op"], json.dumps(rel["right"])) for rel in relations if "left" in rel}
    for group in ("18p", "12_17", "5_11"):
        dose1, dose2 = "vacc_%s_dose1_cum" % group, "vacc_%s_dose2_cum" % group
        assert (dose2, "<=", json.dumps(dose1)) in comparisons, "dose 2 <= dose 1 for %s" % group
        assert (dose1, "<=", json.dumps({"population": group})) in comparisons, "dose 1 <= population %s" % group
    for group in ("50p", "65p"):
        assert ("vacc_%s_full_cum" % group, "<=", json.dumps({"population": group})) in comparisons, group


def test_ba_dinh_keeps_the_ids_other_code_uses():
    plan = "ba-dinh-2022"
    assert set(IDS_IN_USE["indicators"]) <= indicator_ids(plan)
    assert set(IDS_IN_USE["tasks"]) <= task_ids(plan)


# ---------------------------------------------------------------- Cần Thơ

def test_can_tho_has_its_districts_and_the_booster_rule():
    plan = "can-tho-2022"
    by_code = unit_map(plan)
    assert by_code["92"]["name_vi"] == "Thành phố Cần Thơ"
    districts = {u["code"] for u in units(plan) if u["level"] == "district"}
    assert districts == {"916", "917", "918", "919", "923", "924", "925", "926", "927"}, districts
    p = load(plan, "plan")
    assert p["scope"] == {"city": "92"}
    r = rule_map(plan)["booster-18p"]
    assert (r["kind"], r["numerator"], r["population"], r["target"], r["deadline"]) == \
        ("coverage", "vacc_18p_dose3_cum", "18p", 0.9, "2022-12-31")
    assert "seed 003" in r["source"]["document"]
    assert "II.3" in r["source"]["section"] and "III.1.b" in r["source"]["section"]
    # KH 25 sets the target for the whole city.
    assert r["applies_to"] == "city", r["applies_to"]


# ---------------------------------------------------------------- the city plans

def aggregator_test_config(plan, *args):
    import tempfile
    with tempfile.TemporaryDirectory(prefix="wardpulse-plan-") as tmp:
        return subprocess.run([AGGREGATOR_BIN, "--db_path", os.path.join(tmp, "x.db"),
                               "--plan_dir", os.path.join(PLANS_DIR, plan), "--test-config"]
                              + list(args), capture_output=True, text=True, timeout=30)


def test_city_plans_load_in_a_city_aggregator():
    for plan, city in (("ha-noi-2022", "01"), ("can-tho-2022", "92")):
        r = aggregator_test_config(plan, "--city", city)
        assert r.returncode == 0 and "configuration OK" in r.stdout, (plan, r.stdout, r.stderr)
        # A district aggregator cannot serve it: the plan lists no wards.
        r = aggregator_test_config(plan, "--district", units(plan)[1]["code"])
        assert r.returncode != 0 and "has no wards" in r.stderr, (plan, r.stdout, r.stderr)


def test_ha_noi_has_its_30_districts_with_ba_dinh_figures():
    plan = "ha-noi-2022"
    by_code = unit_map(plan)
    assert by_code["01"]["name_vi"] == "Thành phố Hà Nội" and by_code["01"]["level"] == "city"
    districts = [u for u in units(plan) if u["level"] == "district"]
    assert len(districts) == 30 and not wards(plan), len(districts)   # DOMAIN.md: 30 districts
    assert all(d["parent"] == "01" and d.get("population_estimated") for d in districts)
    ba_dinh = unit_map("ba-dinh-2022")["001"]
    assert by_code["001"]["name_vi"] == ba_dinh["name_vi"]
    for group, people in by_code["001"]["population"].items():
        assert ba_dinh["population"][group] == people, group
    assert load(plan, "plan")["scope"] == {"city": "01"}


def test_ha_noi_booster_is_evaluated_at_city_scope():
    plan = "ha-noi-2022"
    r = rule_map(plan)["booster-18p"]
    assert (r["kind"], r["applies_to"], r["numerator"], r["population"], r["target"], r["deadline"]) == \
        ("coverage", "city", "vacc_18p_dose3_cum", "18p", 0.9, "2022-12-31"), r
    assert "seed 003" in r["source"]["document"] and "seed 004" in r["source"]["document"]
    assert all(x["applies_to"] in ("city", "district") for x in rules(plan))


def test_what_ba_dinh_rolls_up_is_what_ha_noi_takes():
    up = {i["id"] for i in load("ba-dinh-2022", "catalog")["indicators"] if i.get("rollup_up")}
    assert "vacc_18p_dose3_cum" in up
    city = {i["id"]: i for i in load("ha-noi-2022", "catalog")["indicators"]}
    assert up == set(city), (sorted(up ^ set(city)))
    ba_dinh = {i["id"]: i for i in load("ba-dinh-2022", "catalog")["indicators"]}
    for id_ in up:
        assert (city[id_]["kind"], city[id_]["rollup"], city[id_]["name"]) == \
            (ba_dinh[id_]["kind"], ba_dinh[id_]["rollup"], ba_dinh[id_]["name"]), id_
        # A district's figures are the sums of its wards': the city's bounds must hold the
        # district's whole population where the ward's hold one ward's.
        assert city[id_]["bounds"]["max"] >= ba_dinh[id_]["bounds"]["max"], id_
    district_18p = unit_map("ba-dinh-2022")["001"]["population"]["18p"]
    assert city["vacc_18p_dose3_cum"]["bounds"]["max"] >= district_18p


if __name__ == "__main__":
    run_tests(globals())
