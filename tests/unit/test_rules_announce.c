/* test_rules_announce — the announce rule as a pure function (rules/rule_announce.c):
 * every value > 0 of a daily indicator (every COVID-19 death) is announced the day it is
 * reported, a correction upward is news, and the announcement ends with its day. The
 * other rule kinds are in test_rules.c and test_rules_level.c; all share rules_fixture.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "alert_text.h"
#include "plan.h"
#include "rules.h"
#include "schema_registry.h"
#include "timefmt.h"
#include "rules_fixture.h"

static void test_announce_deaths(void)
{
    struct rule_outcome o;
    const struct plan_rule *r = plan_rule(plan, "deaths-announced");
    CHECK(r && r->kind == PLAN_RULE_ANNOUNCE);
    CHECK_STR(plan_rule_kind_name(r->kind), "announce");
    CHECK_STR(r->u.announce.indicator, "deaths");

    /* 1 death reported for 3 May, evaluated that evening: announced, info. */
    struct rule_point deaths[] = {point("2022-05-01", 2), point("2022-05-02", 0),
                                  point("2022-05-03", 1)};
    struct rule_series s = {3, deaths};
    rule_announce_evaluate(plan, r, &PHUC_XA, &s, at("2022-05-03T16:05:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.severity == PLAN_SEVERITY_INFO);
    CHECK(o.has_value && o.value == 1.0 && o.value_is_news && !o.has_target);
    CHECK(o.since_ms == 0 && o.deadline_day == PLAN_DAY_NONE);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá báo cáo 1 ca tử vong do COVID-19 ngày 03/05/2022");
    CHECK_STR(o.en.buf, "Phuc Xa ward reported 1 COVID-19 death(s) for 3 May 2022");

    /* A correction upward the same day: still firing, the new count (news: value_is_news). */
    deaths[2].value = 3;
    rule_announce_evaluate(plan, r, &PHUC_XA, &s, at("2022-05-03T20:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.value == 3.0 && o.value_is_news);
    CHECK_CONTAINS(o.vi.buf, "báo cáo 3 ca tử vong");

    /* Local midnight: the day's announcement is over; the summary recalls it. */
    rule_announce_evaluate(plan, r, &PHUC_XA, &s, at("2022-05-04T00:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && !o.has_value);
    CHECK_STR(o.vi.buf, "Đã thông báo trong ngày: Phường Phúc Xá báo cáo 3 ca tử vong do "
                        "COVID-19 ngày 03/05/2022");
    CHECK_STR(o.en.buf, "Announced for the day: Phuc Xa ward reported 3 COVID-19 death(s) "
                        "for 3 May 2022");
    /* 23:59 on the 3rd is still the 3rd (+07:00). */
    rule_announce_evaluate(plan, r, &PHUC_XA, &s, at("2022-05-03T23:59:59+07:00"), &o);
    CHECK(o.state == RULE_FIRING);

    /* A day of 0, or no report yet today: nothing to announce, nothing said. */
    rule_announce_evaluate(plan, r, &PHUC_XA, &s, at("2022-05-06T10:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0 && o.en.len == 0);
    struct rule_series none = {0, NULL};
    rule_announce_evaluate(plan, r, &PHUC_XA, &none, at("2022-05-03T16:05:00+07:00"), &o);
    CHECK(o.state == RULE_OK && o.vi.len == 0);
    rule_announce_evaluate(plan, r, &PHUC_XA, NULL, at("2022-05-03T16:05:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    /* 2 May was 0: OK, and its summary says so. */
    rule_announce_evaluate(plan, r, &PHUC_XA, &s, at("2022-05-02T17:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá sửa lại số liệu: không có ca tử vong do COVID-19 ngày "
                        "02/05/2022");

    /* Only the day's own period: a figure for yesterday reaching here today is not today's
     * announcement, nor is a weekly period that holds today. */
    struct rule_point late[] = {point("2022-05-02", 1), point("2022-W18", 4)};
    struct rule_series l = {2, late};
    rule_announce_evaluate(plan, r, &PHUC_XA, &l, at("2022-05-03T09:00:00+07:00"), &o);
    CHECK(o.state == RULE_OK);
}

static void test_announce_words(void)
{
    /* Without "counted" the indicator's name says what is counted. */
    struct rule_outcome o;
    const struct plan_rule *r = plan_rule(plan, "cases-announced");
    CHECK(r && r->kind == PLAN_RULE_ANNOUNCE && r->applies_to == (PLAN_APPLIES_WARD
                                                                  | PLAN_APPLIES_DISTRICT));
    CHECK_STR(r->u.announce.counted.vi, "Ca mắc mới trong cộng đồng");
    struct rule_point cases[] = {point("2022-05-03", 1250)};
    struct rule_series s = {1, cases};
    const struct rule_unit district = {"district", "001", "Quận Ba Đình", "Ba Dinh district"};
    rule_announce_evaluate(plan, r, &district, &s, at("2022-05-03T18:00:00+07:00"), &o);
    CHECK(o.state == RULE_FIRING && o.value == 1250.0);
    CHECK_STR(o.vi.buf, "Quận Ba Đình báo cáo 1.250 Ca mắc mới trong cộng đồng ngày 03/05/2022");
    CHECK_STR(o.en.buf, "Ba Dinh district reported 1,250 New community cases for 3 May 2022");
}

int main(void)
{
    if (!load_plan())
        return 1;
    test_announce_deaths();
    test_announce_words();
    plan_free(&plan);
    wp_schemas_release();
    return CHECK_DONE();
}
