/* test_rules_level — the epidemic-level rule as a pure function: levels from rates and
 * conditions, incomplete weeks, minimum counts, the QĐ 218 matrix, and the ready Ba Đình
 * plan on Feb–Mar 2022 figures (rules/rule_level.c). The rest of the rule kinds are
 * in test_rules.c and test_rules_announce.c; all share rules_fixture.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "calendar.h"
#include "alert_text.h"
#include "plan.h"
#include "rules.h"
#include "schema_registry.h"
#include "timefmt.h"
#include "rules_fixture.h"

/* ---- level --------------------------------------------------------------------------- */

struct fake_unit {
    struct rule_series cases, deaths, care, dose1;
};

static const struct rule_series *fake_series(void *ctx, const char *indicator)
{
    struct fake_unit *u = ctx;
    return strcmp(indicator, "cases_new_community") == 0 ? &u->cases
           : strcmp(indicator, "deaths") == 0            ? &u->deaths
           : strcmp(indicator, "care_places") == 0       ? &u->care
           : strcmp(indicator, "vacc_18p_dose1_cum") == 0 ? &u->dose1 : NULL;
}

static bool fake_population(void *ctx, const char *group, double *people)
{
    (void)ctx;
    *people = strcmp(group, "total") == 0 ? 20000 : strcmp(group, "18p") == 0 ? 15000 : 0;
    return *people > 0;
}

static void test_level(void)
{
    const struct plan_rule *r = plan_rule(plan, "level");
    /* 20,000 people: 20/100k/week = 4 cases; 150/100k = 30 cases. W18 (2–8 May) 3 cases
     * → 1; W19 10 cases → 2 (50/100k); W20 40 cases → 3 (200/100k); W21 5 cases → 2 but
     * vaccination unmet keeps W20's 3 (no_lowering); W22 3 cases, vaccination met → 1. */
    struct rule_point cases[] = {point("2022-05-02", 1), point("2022-05-05", 2),
                                 point("2022-05-09", 10), point("2022-05-16", 20),
                                 point("2022-05-22", 20), point("2022-05-23", 5),
                                 point("2022-05-30", 3)};
    struct rule_point care[] = {point("2022-05-02", 30)};   /* 15 per 10,000: met */
    struct rule_point dose1[] = {point("2022-05-02", 12000), point("2022-05-29", 9000),
                                 point("2022-06-05", 12000)};
    struct fake_unit u = {{7, cases}, {0, NULL}, {1, care}, {3, dose1}};
    struct level_data data = {fake_series, fake_population, &u};
    struct level_week weeks[10];
    size_t n = rule_level_weeks(plan, r, &data, at("2022-06-06T00:00:00+07:00"), weeks, 10);
    CHECK(n == 5);
    CHECK_STR(weeks[0].week, "2022-W18");
    int expect[5] = {1, 2, 3, 3, 1};
    for (size_t i = 0; i < n && i < 5; i++)
        CHECK(weeks[i].level == expect[i]);
    CHECK(fabs(weeks[2].rates[0] - 200.0) < 1e-9);
    CHECK(weeks[2].rates[1] < 0);   /* no deaths reported: unknown */
    CHECK(weeks[3].previous == 3);

    struct rule_outcome o;
    rule_level_evaluate(plan, r, &PHUC_XA, weeks, 3, &o);
    CHECK(o.state == RULE_FIRING && o.value == 3 && o.target == 3);
    CHECK(o.since_ms == at("2022-05-23T00:00:00+07:00"));
    CHECK(o.value_is_news);
    CHECK_STR(o.vi.buf, "Phường Phúc Xá: cấp độ dịch tuần 20/2022 là cấp độ 3 – nguy cơ cao (màu "
                        "cam), tăng từ cấp độ 2 (màu vàng); Ca mắc mới trong cộng đồng: 200,0 "
                        "ca/100.000 dân/tuần (tiêu chí QĐ 218/QĐ-BYT)");
    CHECK_STR(o.en.buf, "Phuc Xa ward: epidemic level in week 20 of 2022 is level 3 – high risk "
                        "(orange), up from level 2 (yellow); New community cases: 200.0 "
                        "cases/100,000 people/week (criteria of QĐ 218/QĐ-BYT)");
    rule_level_evaluate(plan, r, &PHUC_XA, weeks, 5, &o);
    CHECK(o.state == RULE_OK);
    CHECK_CONTAINS(o.en.buf, "is level 1 – low risk (green), down from level 3 (orange)");
    CHECK_CONTAINS(o.vi.buf, ", dưới mức cảnh báo (cấp độ 3)");

    /* capacity unmet: one level up */
    care[0].value = 10;   /* 5 per 10,000 */
    n = rule_level_weeks(plan, r, &data, at("2022-05-16T00:00:00+07:00"), weeks, 10);
    CHECK(n == 2 && weeks[0].level == 2 && weeks[1].level == 3);
    /* a week not over yet is not evaluated; weeks with no figures are not green */
    n = rule_level_weeks(plan, r, &data, at("2022-05-15T23:00:00+07:00"), weeks, 10);
    CHECK(n == 1);
    struct fake_unit empty = {{0, NULL}, {0, NULL}, {0, NULL}, {0, NULL}};
    data.ctx = &empty;
    CHECK(rule_level_weeks(plan, r, &data, at("2022-06-06T00:00:00+07:00"), weeks, 10) == 0);
}


/* The level as QĐ 218 reads it: a week with days missing is incomplete (never lower for
 * it); a rate from too few events (one death in 20,000 people) cannot move the level; the
 * version's matrix (transmission × conditions) can lower the level as well as raise it. */
static void test_level_incomplete_min_count_matrix(void)
{
    const struct plan_rule *loaded = plan_rule(plan, "level");
    struct plan_rule r = *loaded;
    struct plan_level_version v = loaded->u.level.versions[0];
    struct plan_level_criterion crit[2] = {v.criteria[0], v.criteria[1]};
    crit[0].expected_daily = crit[1].expected_daily = true;
    crit[1].thresholds[0] = 1;     /* deaths 1 / 5 / 10 per 100,000 */
    crit[1].thresholds[1] = 5;
    crit[1].thresholds[2] = 10;
    crit[1].min_count = 3;
    v.criteria = crit;
    v.condition_count = 0;
    r.u.level.versions = &v;
    r.u.level.version_count = 1;

    /* 20,000 people. W19 (9–15 May): 8 cases/day (56: 280/100k → 3), every day.
     * W20: 1 case on 3 of 7 days (3: 15/100k → 1), the other days missing: incomplete,
     * so not lowered: 3. W21: every day, 1 case/day (35/100k → 2), and one death
     * (5/100k, which alone would be 3) below min_count 3: level 2, lowered since complete. */
    struct rule_point cases[21], deaths[21];
    size_t nc = 0, nd = 0;
    int64_t monday = wp_local_day_at(at("2022-05-09T12:00:00+07:00"), 420);
    for (int d = 0; d < 21; d++) {
        if (d >= 7 && d < 14 && d % 3 != 1)
            continue;   /* W20: figures on 3 days only */
        char date[16];
        wp_date_format(monday + d, date, sizeof date);
        cases[nc++] = point(date, d < 7 ? 8 : 1);
        deaths[nd++] = point(date, d == 17 ? 1 : 0);
    }
    struct fake_unit u = {{nc, cases}, {nd, deaths}, {0, NULL}, {0, NULL}};
    struct level_data data = {fake_series, fake_population, &u};
    struct level_week weeks[10];
    size_t n = rule_level_weeks(plan, &r, &data, at("2022-05-30T00:00:00+07:00"), weeks, 10);
    CHECK(n == 3);
    CHECK(weeks[0].level == 3 && weeks[0].missing_days == 0);
    CHECK(weeks[1].level == 3 && weeks[1].missing_days == 4 && weeks[1].transmission == 1);
    CHECK(weeks[2].level == 2 && weeks[2].missing_days == 0);
    CHECK(weeks[2].counts[1] == 1 && fabs(weeks[2].rates[1] - 5.0) < 1e-9);
    struct rule_outcome o;
    rule_level_evaluate(plan, &r, &PHUC_XA, weeks, 2, &o);
    CHECK(o.state == RULE_FIRING && o.value == 3);
    CHECK_CONTAINS(o.vi.buf, "là ít nhất cấp độ 3 – nguy cơ cao (màu cam)");
    CHECK_CONTAINS(o.vi.buf, "tuần chưa đủ số liệu (thiếu 4 ngày)");
    CHECK_CONTAINS(o.en.buf, "the week is incomplete (4 days missing)");
    /* with min_count 0, the one death alone sets level 3 */
    crit[1].min_count = 0;
    n = rule_level_weeks(plan, &r, &data, at("2022-05-30T00:00:00+07:00"), weeks, 10);
    CHECK(n == 3 && weeks[2].level == 3 && weeks[2].dominant == 1);
    crit[1].min_count = 3;

    /* matrix: capacity (care places ≥ 10 per 10,000) in the matrix; transmission 3 with
     * capacity met gives 2 (lowered), with capacity unmet 4; unknown counts as unmet. */
    struct plan_level_condition cond = loaded->u.level.versions[0].conditions[0];
    cond.in_matrix = true;
    cond.no_lowering = false;
    v.conditions = &cond;
    v.condition_count = 1;
    v.matrix_columns = 2;
    int matrix[4][2] = {{1, 2}, {1, 3}, {2, 4}, {3, 4}};
    for (int t = 0; t < 4; t++)
        for (int c = 0; c < 2; c++)
            v.matrix[t][c] = matrix[t][c];
    struct rule_point care[] = {point("2022-05-01", 30)};   /* 15 per 10,000: met */
    u.care = (struct rule_series){1, care};
    n = rule_level_weeks(plan, &r, &data, at("2022-05-16T00:00:00+07:00"), weeks, 10);
    CHECK(n == 1 && weeks[0].transmission == 3 && weeks[0].level == 2);
    rule_level_evaluate(plan, &r, &PHUC_XA, weeks, n, &o);
    CHECK(o.state == RULE_OK);
    CHECK_CONTAINS(o.vi.buf, "là cấp độ 2 – nguy cơ trung bình (màu vàng)");
    CHECK_CONTAINS(o.vi.buf, "mức lây nhiễm cấp 3, điều chỉnh theo năng lực đáp ứng");
    care[0].value = 10;   /* 5 per 10,000: unmet */
    n = rule_level_weeks(plan, &r, &data, at("2022-05-16T00:00:00+07:00"), weeks, 10);
    CHECK(n == 1 && weeks[0].level == 4);
    u.care = (struct rule_series){0, NULL};
    n = rule_level_weeks(plan, &r, &data, at("2022-05-16T00:00:00+07:00"), weeks, 10);
    CHECK(n == 1 && weeks[0].level == 4);
}

/* ---- the ready plan with Feb–Mar 2022 figures ---------------------------------------- */

struct named_series {
    const char *indicator;
    struct rule_series series;
};

struct real_unit {
    const struct plan *plan;
    const struct plan_unit *unit;
    struct named_series *series;
    size_t count;
};

static const struct rule_series *real_series(void *ctx, const char *indicator)
{
    struct real_unit *u = ctx;
    for (size_t i = 0; i < u->count; i++)
        if (strcmp(u->series[i].indicator, indicator) == 0)
            return &u->series[i].series;
    return NULL;
}

static bool real_population(void *ctx, const char *group, double *people)
{
    struct real_unit *u = ctx;
    int64_t n;
    if (!plan_population(u->plan, u->unit, group, &n))
        return false;
    *people = (double)n;
    return true;
}

/* plans/ba-dinh-2022 under QĐ 218: a ward of 14,500 people in the week of 7–13 March 2022
 * (≈ 1,500 cases/100,000/week, "very high", as Ba Đình's 481 cases on 03/04/2022 were),
 * with one death, two oxygen cases and four admissions, ready care teams and 2022's
 * vaccination: orange, not red. Without its care teams it is red; a quiet week with one
 * death stays green (one death is not a rate). */
static void test_level_ready_plan_feb_mar_2022(void)
{
    const char *src = getenv("WP_SOURCE_DIR");
    char dir[512], err[1024];
    snprintf(dir, sizeof dir, "%s/plans/ba-dinh-2022", src ? src : "..");
    struct plan *ready = NULL;
    CHECK(plan_load(dir, "001", &ready, err, sizeof err) == WP_OK);
    if (!ready) {
        fprintf(stderr, "ba-dinh-2022: %s\n", err);
        return;
    }
    const struct plan_rule *r = plan_rule(ready, "epidemic-level");
    const struct plan_unit *phuc_xa = plan_unit(ready, "00001");
    CHECK(r != NULL && phuc_xa != NULL);
    if (!r || !phuc_xa) {
        plan_free(&ready);
        return;
    }
    int64_t p18 = 0, p50 = 0;
    CHECK(plan_population(ready, phuc_xa, "18p", &p18) && plan_population(ready, phuc_xa, "50p", &p50));
    struct rule_point cases[7], deaths[7], oxygen[1], admissions[1], care[1], dose2[1], full50[1];
    int64_t monday = wp_local_day_at(at("2022-03-07T12:00:00+07:00"), 420);
    for (int d = 0; d < 7; d++) {
        char date[16];
        wp_date_format(monday + d, date, sizeof date);
        cases[d] = point(date, 31);                 /* 217 a week: 1,497/100,000 */
        deaths[d] = point(date, d == 3 ? 1 : 0);
    }
    oxygen[0] = point("2022-03-09", 2);
    admissions[0] = point("2022-03-10", 4);       /* 27.6/100,000, from 4 ≥ min_count */
    care[0] = point("2022-03-01", 2);             /* 1.4 per 10,000 */
    dose2[0] = point("2022-03-01", p18 * 95 / 100);
    full50[0] = point("2022-03-01", p50 * 95 / 100);
    struct named_series all[] = {
        {"cases_new_community", {7, cases}}, {"deaths", {7, deaths}},
        {"oxygen_cases_new", {1, oxygen}}, {"hospital_admissions_new", {1, admissions}},
        {"care_teams", {1, care}}, {"vacc_18p_dose2_cum", {1, dose2}},
        {"vacc_50p_full_cum", {1, full50}}};
    struct real_unit u = {ready, phuc_xa, all, sizeof all / sizeof all[0]};
    struct level_data data = {real_series, real_population, &u};
    struct level_week weeks[4];
    size_t n = rule_level_weeks(ready, r, &data, at("2022-03-14T08:00:00+07:00"), weeks, 4);
    CHECK(n == 1);
    CHECK_STR(weeks[0].version->id, "218");
    CHECK(weeks[0].transmission == 4 && weeks[0].level == 3 && weeks[0].missing_days == 0);
    struct rule_outcome o;
    struct rule_unit ru = {"00001", "00001", phuc_xa->name_vi, phuc_xa->name_en};
    rule_level_evaluate(ready, r, &ru, weeks, n, &o);
    CHECK_CONTAINS(o.vi.buf, "là cấp độ 3 – nguy cơ cao (màu cam)");
    CHECK_CONTAINS(o.vi.buf, "1.496,6 ca/100.000 dân/tuần");

    /* no care teams reported: unknown counts as unmet: red */
    all[4].series.count = 0;
    n = rule_level_weeks(ready, r, &data, at("2022-03-14T08:00:00+07:00"), weeks, 4);
    CHECK(n == 1 && weeks[0].level == 4);
    all[4].series.count = 1;

    /* a quiet week (2 cases), one death: 6.9/100,000 but one death moves nothing */
    for (int d = 0; d < 7; d++)
        cases[d].value = d < 2 ? 1 : 0;
    all[2].series.count = all[3].series.count = 0;
    n = rule_level_weeks(ready, r, &data, at("2022-03-14T08:00:00+07:00"), weeks, 4);
    CHECK(n == 1 && weeks[0].level == 1);
    CHECK(weeks[0].counts[3] == 1 && weeks[0].rates[3] > 6.8);
    plan_free(&ready);
}

int main(void)
{
    if (!load_plan())
        return 1;
    test_level();
    test_level_incomplete_min_count_matrix();
    test_level_ready_plan_feb_mar_2022();
    plan_free(&plan);
    wp_schemas_release();
    return CHECK_DONE();
}
