/* evaluate.c — running the rules on the units that need it (contract in evaluate.h): the
 * one dispatch over rule kinds. The data of coverage, check, ratio, announce and level
 * rules (value series, roll-ups) come from series.c, the rest from the store; the rules
 * themselves are the pure functions of rule_*.c; a level rule's weeks are kept and
 * published by levels.c. */
#include "array.h"
#include "evaluate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_text.h"
#include "calendar.h"
#include "hash_index.h"
#include "levels.h"
#include "log.h"
#include "rules.h"
#include "series.h"
#include "store_schedule.h"
#include "timefmt.h"

#define MS_PER_DAY INT64_C(86400000)
/* Periods one schedule evaluation looks at: three years of days. */
#define EVALUATE_SLOTS_MAX 1100
/* plan.schema.json: a schedule rule names at most 1000 indicators. */
#define EVALUATE_INDICATORS_MAX 1000
#define EVALUATE_LEVEL_WEEKS_MAX 160   /* three years of weeks */

/* A unit with new reports and when the latest of them arrived. */
struct evaluate_touch {
    char *code;
    int64_t received_ms;
};

/* A reporting unit of the plan to evaluate, and when its latest noted report arrived
 * (> 0). */
struct evaluate_due {
    const struct plan_unit *unit;
    int64_t at;
};

struct evaluate {
    struct store *store;
    struct alerts *alerts;
    struct levels *levels;
    struct series_cache *series;
    const struct plan *plan;
    bool clear_status;          /* the plan changed: rebuild the schedule status */
    int64_t first_report_day;   /* PLAN_DAY_NONE until a report exists */
    struct schedule_slot *slots;
    struct level_week *weeks;   /* EVALUATE_LEVEL_WEEKS_MAX, for level rules */
    struct evaluate_touch *touched;   /* units noted since the last evaluate_reports */
    size_t touched_count, touched_cap;
    struct wp_index touched_by_code;  /* of touched: a burst notes thousands of units */
    struct evaluate_due *due;         /* evaluate_reports: the touched wards, in plan order */
    size_t due_cap;
};

/* Logs what the store said about a failure and passes the error on. */
static enum wp_err evaluate_db_error(struct evaluate *e, enum wp_err rc)
{
    if (rc != WP_OK && rc != WP_ERR_NOMEM)
        wp_log(WP_LOG_ERR, "evaluate: %s", store_errmsg(e->store));
    return rc;
}

enum wp_err evaluate_create(struct store *store, struct alerts *alerts, struct levels *levels,
                            struct evaluate **out)
{
    *out = NULL;
    struct evaluate *e = calloc(1, sizeof *e);
    if (!e)
        return WP_ERR_NOMEM;
    e->store = store;
    e->alerts = alerts;
    e->levels = levels;
    e->first_report_day = PLAN_DAY_NONE;
    e->slots = calloc(EVALUATE_SLOTS_MAX, sizeof *e->slots);
    e->weeks = calloc(EVALUATE_LEVEL_WEEKS_MAX, sizeof *e->weeks);
    enum wp_err rc = e->slots && e->weeks ? series_cache_create(store, &e->series)
                                          : WP_ERR_NOMEM;
    if (rc != WP_OK) {
        evaluate_destroy(&e);
        return rc;
    }
    *out = e;
    return WP_OK;
}

static void evaluate_touched_clear(struct evaluate *e)
{
    for (size_t i = 0; i < e->touched_count; i++)
        free(e->touched[i].code);
    e->touched_count = 0;
    wp_index_clear(&e->touched_by_code);
}

void evaluate_destroy(struct evaluate **evaluate)
{
    if (!evaluate || !*evaluate)
        return;
    struct evaluate *e = *evaluate;
    series_cache_destroy(&e->series);
    evaluate_touched_clear(e);
    free(e->touched);
    wp_index_free(&e->touched_by_code);
    free(e->due);
    free(e->slots);
    free(e->weeks);
    free(e);
    *evaluate = NULL;
}

void evaluate_set_plan(struct evaluate *e, const struct plan *plan)
{
    e->plan = plan;
    e->clear_status = true;
    /* Roll-ups and units may differ under the new plan. */
    series_cache_clear(e->series);
}

void evaluate_note_report(struct evaluate *e, const char *ward, const char *period,
                          int64_t received_ms)
{
    (void)period;   /* every evaluation covers all periods of a unit */
    /* Committed already: the unit's cached series (and the district's) are stale now,
     * whichever evaluation comes first. */
    if (e->plan)
        series_cache_update(e->series, ward, period, e->plan->district->code);
    evaluate_note_unit(e, ward, received_ms);
}

static bool evaluate_touch_has_code(const void *ctx, size_t pos, const void *code)
{
    return strcmp(((const struct evaluate *)ctx)->touched[pos].code, code) == 0;
}

/* The touched entry of code; NULL when the unit was not noted. */
static struct evaluate_touch *evaluate_touch_find(const struct evaluate *e, const char *code,
                                                  uint64_t hash)
{
    size_t i = wp_index_find(&e->touched_by_code, hash, evaluate_touch_has_code, e, code);
    return i == WP_INDEX_NONE ? NULL : &e->touched[i];
}

void evaluate_note_unit(struct evaluate *e, const char *ward, int64_t received_ms)
{
    uint64_t h = wp_index_hash_str(ward);
    struct evaluate_touch *t = evaluate_touch_find(e, ward, h);
    if (t) {
        if (received_ms > t->received_ms)
            t->received_ms = received_ms;
        return;
    }
    if (!WP_ARRAY_RESERVE(e->touched, e->touched_cap, e->touched_count + 1))
            return;
    char *code = strdup(ward);
    if (!code || !wp_index_add(&e->touched_by_code, h, e->touched_count)) {
        free(code);
        return;
    }
    e->touched[e->touched_count].code = code;
    e->touched[e->touched_count++].received_ms = received_ms;
}

bool evaluate_has_reports(const struct evaluate *e)
{
    return e->touched_count > 0;
}

/* ---- schedule ---------------------------------------------------------------------- */

/* The day periods are expected from when neither the rule nor the plan says: the day
 * the first report reached this database, which stays the same across restarts. */
static int64_t evaluate_first_report_day(struct evaluate *e)
{
    if (e->first_report_day != PLAN_DAY_NONE)
        return e->first_report_day;
    int64_t first_ms = 0;
    if (store_first_report_ms(e->store, &first_ms) == WP_OK && first_ms > 0)
        e->first_report_day = wp_local_day_at(first_ms, e->plan->utc_offset_minutes);
    return e->first_report_day;
}

/* The first day figures are expected of every unit: the later of the plan's valid_from
 * and the day the first report reached this database (a unit is not silent for the days
 * before wardpulse ran); PLAN_DAY_NONE before any report. */
static int64_t evaluate_expected_from_day(struct evaluate *e)
{
    int64_t first = evaluate_first_report_day(e);
    if (first == PLAN_DAY_NONE)
        return PLAN_DAY_NONE;
    return e->plan->valid_from_day != PLAN_DAY_NONE && e->plan->valid_from_day > first
               ? e->plan->valid_from_day : first;
}

static int evaluate_slot_cmp(const void *key, const void *slot)
{
    return strcmp(key, ((const struct schedule_slot *)slot)->period);
}

/* What a period's arrivals say, indicator by indicator. */
struct evaluate_arrivals {
    const struct plan_schedule *schedule;
    bool seen[EVALUATE_INDICATORS_MAX];
    size_t found;
    int64_t complete, received;
};

static enum wp_err evaluate_arrival(void *ctx, const char *indicator, int64_t judged_ms,
                                    int64_t received_ms)
{
    struct evaluate_arrivals *x = ctx;
    const struct plan_schedule *s = x->schedule;
    for (size_t i = 0; i < s->indicator_count && i < EVALUATE_INDICATORS_MAX; i++)
        if (!x->seen[i] && strcmp(s->indicators[i], indicator) == 0) {
            x->seen[i] = true;
            x->found++;
            if (judged_ms > x->complete)
                x->complete = judged_ms;
            if (received_ms > x->received)
                x->received = received_ms;
        }
    return WP_OK;
}

/* When the slot's report became complete (0: not yet), from what arrived. */
static enum wp_err evaluate_completion(struct evaluate *e, const struct plan_rule *rule,
                                       const char *unit, struct schedule_slot *slot)
{
    const struct plan_schedule *s = &rule->u.schedule;
    struct evaluate_arrivals x = {.schedule = s};
    enum wp_err rc = store_schedule_each_arrival(e->store, unit, slot->period, evaluate_arrival,
                                                 &x);
    if (rc != WP_OK)
        return evaluate_db_error(e, rc);
    slot->missing_count = s->indicator_count - x.found;
    slot->complete_ms = slot->missing_count == 0 ? x.complete : 0;
    slot->received_ms = slot->missing_count == 0 ? x.received : 0;
    slot->missing_first = NULL;
    for (size_t i = 0; i < s->indicator_count && slot->missing_count; i++)
        if (!x.seen[i]) {
            slot->missing_first = s->indicators[i];
            break;
        }
    return WP_OK;
}

static enum wp_err evaluate_status_write(struct evaluate *e, const struct plan_rule *rule,
                                         const char *unit, const struct schedule_slot *slot)
{
    return evaluate_db_error(e, store_schedule_set_status(e->store, rule->id, unit,
                                                          slot->period, slot->due_ms,
                                                          slot->complete_ms,
                                                          slot->received_ms));
}

/* Puts what the schedule status holds of a period into its slot. */
struct evaluate_status {
    struct schedule_slot *slots;
    size_t n;
};

static enum wp_err evaluate_status_read(void *ctx, const char *period, int64_t complete_ms,
                                        int64_t received_ms)
{
    struct evaluate_status *x = ctx;
    struct schedule_slot *slot = bsearch(period, x->slots, x->n, sizeof *x->slots,
                                         evaluate_slot_cmp);
    if (slot) {
        slot->complete_ms = complete_ms;
        slot->received_ms = received_ms;
    }
    return WP_OK;
}

/* Slots of (rule, unit) with their completion. A complete period stays complete (values
 * are superseded, never removed), so the schedule status remembers those and only the
 * others are looked up again. */
static enum wp_err evaluate_schedule_data(struct evaluate *e, const struct plan_rule *rule,
                                          const char *unit, int64_t now_ms, size_t *count)
{
    size_t total = rule_schedule_slots(e->plan, rule, evaluate_first_report_day(e), now_ms,
                                       e->slots, EVALUATE_SLOTS_MAX);
    size_t n = total < EVALUATE_SLOTS_MAX ? total : EVALUATE_SLOTS_MAX;
    /* complete_ms == -1 marks a slot the schedule status does not hold yet. */
    for (size_t i = 0; i < n; i++)
        e->slots[i].complete_ms = -1;
    struct evaluate_status status = {e->slots, n};
    enum wp_err rc = store_schedule_each_status(e->store, rule->id, unit, evaluate_status_read,
                                                &status);
    if (rc != WP_OK)
        return evaluate_db_error(e, rc);
    for (size_t i = 0; i < n; i++) {
        struct schedule_slot *slot = &e->slots[i];
        bool known = slot->complete_ms >= 0;
        if (known && slot->complete_ms > 0)
            continue;
        enum wp_err err = evaluate_completion(e, rule, unit, slot);
        if (err == WP_OK && (!known || slot->complete_ms > 0))
            err = evaluate_status_write(e, rule, unit, slot);
        if (err != WP_OK)
            return err;
    }
    *count = n;
    return WP_OK;
}

/* ---- the rules on value series --------------------------------------------------- */

static enum wp_err evaluate_check(struct evaluate *e, const struct plan_rule *rule,
                                  const struct plan_unit *unit, const struct rule_unit *ru,
                                  struct rule_outcome *out)
{
    const struct plan *plan = e->plan;
    const struct plan_check *k = &rule->u.check;
    const struct rule_series *a = NULL, *b = NULL;
    enum wp_err err;
    int64_t people = 0;
    rule_outcome_init(out, rule);
    if (unit == plan->district && k->right_indicator) {
        struct rule_series l = {0, NULL}, r = {0, NULL};
        if ((err = series_district_pair(e->series, plan, k->left, k->right_indicator, &l, &r))
            != WP_OK)
            return err;
        rule_check_evaluate(plan, rule, ru, &l, &r, 0, out);
        free((void *)l.points);
        free((void *)r.points);
        return WP_OK;
    }
    if ((err = series_get(e->series, plan, unit, k->left, &a)) != WP_OK)
        return err;
    if (k->right_indicator
        && (err = series_get(e->series, plan, unit, k->right_indicator, &b)) != WP_OK)
        return err;
    if (!k->never_decreases && !k->right_indicator
        && !plan_population(plan, unit, k->right_population, &people))
        return WP_OK;
    rule_check_evaluate(plan, rule, ru, a, b, (double)people, out);
    return WP_OK;
}

static enum wp_err evaluate_ratio(struct evaluate *e, const struct plan_rule *rule,
                                  const struct plan_unit *unit, const struct rule_unit *ru,
                                  int64_t now_ms, struct rule_outcome *out)
{
    const struct plan *plan = e->plan;
    const struct plan_ratio *k = &rule->u.ratio;
    int64_t expected_from_day = evaluate_expected_from_day(e);
    enum wp_err err;
    rule_outcome_init(out, rule);
    if (unit == plan->district) {
        /* As for a check: only the wards that reported both, period by period. */
        struct rule_series n = {0, NULL}, d = {0, NULL};
        if ((err = series_district_pair(e->series, plan, k->numerator, k->denominator, &n, &d))
            != WP_OK)
            return err;
        rule_ratio_evaluate(plan, rule, ru, &n, &d, expected_from_day, now_ms, out);
        free((void *)n.points);
        free((void *)d.points);
        return WP_OK;
    }
    const struct rule_series *a = NULL, *b = NULL;
    if ((err = series_get(e->series, plan, unit, k->numerator, &a)) != WP_OK
        || (err = series_get(e->series, plan, unit, k->denominator, &b)) != WP_OK)
        return err;
    rule_ratio_evaluate(plan, rule, ru, a, b, expected_from_day, now_ms, out);
    return WP_OK;
}

static enum wp_err evaluate_coverage(struct evaluate *e, const struct plan_rule *rule,
                                     const struct plan_unit *unit, const struct rule_unit *ru,
                                     int64_t now_ms, struct rule_outcome *out)
{
    const struct plan *plan = e->plan;
    struct coverage_input in;
    enum wp_err err;
    rule_outcome_init(out, rule);
    if ((err = series_coverage_input(e->series, plan, rule, unit,
                                     wp_local_day_at(now_ms, plan->utc_offset_minutes), &in))
        != WP_OK)
        return err;
    in.expected_from_day = evaluate_expected_from_day(e);
    rule_coverage_evaluate(plan, rule, ru, &in, now_ms, out);
    return WP_OK;
}

/* A level rule's data: the unit's series through the cache, and its population. */
struct evaluate_level_ctx {
    struct evaluate *evaluate;
    const struct plan_unit *unit;
    enum wp_err err;
};

static const struct rule_series *evaluate_level_series(void *ctx, const char *indicator)
{
    struct evaluate_level_ctx *x = ctx;
    const struct rule_series *s = NULL;
    enum wp_err err = series_get(x->evaluate->series, x->evaluate->plan, x->unit, indicator, &s);
    if (err != WP_OK)
        x->err = err;
    return s;
}

static bool evaluate_level_population(void *ctx, const char *group, double *people)
{
    struct evaluate_level_ctx *x = ctx;
    int64_t n;
    if (!plan_population(x->evaluate->plan, x->unit, group, &n))
        return false;
    *people = (double)n;
    return true;
}

/* The unit's weekly levels, kept and published (levels.c, in this transaction), then the
 * alert of the latest. */
static enum wp_err evaluate_level(struct evaluate *e, const struct plan_rule *rule,
                                  const struct plan_unit *unit, const struct rule_unit *ru,
                                  int64_t now_ms, struct rule_outcome *out)
{
    struct evaluate_level_ctx ctx = {e, unit, WP_OK};
    struct level_data data = {evaluate_level_series, evaluate_level_population, &ctx};
    rule_outcome_init(out, rule);
    size_t n = rule_level_weeks(e->plan, rule, &data, now_ms, e->weeks,
                                EVALUATE_LEVEL_WEEKS_MAX);
    if (ctx.err != WP_OK)
        return ctx.err;
    enum wp_err err;
    if (e->levels && n > 0
        && (err = levels_record(e->levels, e->plan, rule, ru, e->weeks, n)) != WP_OK)
        return err;
    rule_level_evaluate(e->plan, rule, ru, e->weeks, n, out);
    return WP_OK;
}

/* ---- one rule on one unit ---------------------------------------------------------- */

/* wardpulse's own rule, evaluated on every unit whatever the plan (rules.h). */
static const struct plan_rule evaluate_lost_rule = {
    .id = PLAN_RULE_LOST_ID,
    .kind = PLAN_RULE_LOST,
    .name = {"Báo cáo bị mất", "Reports lost"},
    .severity = PLAN_SEVERITY_CRITICAL,
    .applies_to = PLAN_APPLIES_WARD | PLAN_APPLIES_DISTRICT | PLAN_APPLIES_CITY,
    .source = "wardpulse, giao thức gửi báo cáo (docs/architecture.md, Healing a gap)",
};

static const struct plan_rule evaluate_flood_rule = {
    .id = PLAN_RULE_FLOOD_ID,
    .kind = PLAN_RULE_FLOOD,
    .name = {"Bản tin bị từ chối vượt mức", "Refused messages over the bound"},
    .severity = PLAN_SEVERITY_WARNING,
    .applies_to = PLAN_APPLIES_WARD | PLAN_APPLIES_DISTRICT | PLAN_APPLIES_CITY,
    .source = "wardpulse, giới hạn bản tin bị từ chối mỗi ngày (rejected_max_per_day, "
              "rejected_max_bytes_per_day; docs/configuration.md)",
};

/* wardpulse's own rules, evaluated on every unit after the plan's. */
static const struct plan_rule *const evaluate_own_rules[] = {&evaluate_lost_rule,
                                                               &evaluate_flood_rule};
#define EVALUATE_OWN_RULES (sizeof evaluate_own_rules / sizeof evaluate_own_rules[0])

#define EVALUATE_LOST_RANGES_MAX 8   /* named in the summary; more still count */

struct evaluate_lost {
    struct rule_lost_range ranges[EVALUATE_LOST_RANGES_MAX];
    size_t count;
    int64_t total;
};

static void evaluate_lost_add(void *ctx, const char *stream, int64_t first_seq,
                              int64_t last_seq, int64_t declared_ms)
{
    struct evaluate_lost *l = ctx;
    l->total += last_seq - first_seq + 1;
    if (l->count == EVALUATE_LOST_RANGES_MAX)
        return;
    struct rule_lost_range *r = &l->ranges[l->count++];
    snprintf(r->stream, sizeof r->stream, "%s", stream ? stream : "");
    r->first_seq = first_seq;
    r->last_seq = last_seq;
    r->declared_ms = declared_ms;
}

/* event_ms: when the data that led to this evaluation arrived (0: evaluated for the
 * clock, dated now_ms). */
static enum wp_err evaluate_rule_unit(struct evaluate *e, const struct plan_rule *rule,
                                      const struct plan_unit *unit, int64_t now_ms,
                                      int64_t event_ms)
{
    bool district = unit == e->plan->district;
    struct rule_unit ru = {district ? e->plan->scope_name : unit->code, unit->code,
                           unit->name_vi, unit->name_en};
    struct rule_outcome o;
    enum wp_err rc = WP_OK;
    switch (rule->kind) {
    case PLAN_RULE_SCHEDULE: {
        size_t n = 0;
        if ((rc = evaluate_schedule_data(e, rule, unit->code, now_ms, &n)) != WP_OK)
            return rc;
        rule_schedule_evaluate(e->plan, rule, &ru, e->slots, n, now_ms, &o);
        break;
    }
    case PLAN_RULE_TASK: {
        char state[32];
        if ((rc = store_task_state(e->store, unit->code, rule->u.task.task, state,
                                   sizeof state)) != WP_OK)
            return evaluate_db_error(e, rc);
        rule_task_evaluate(e->plan, rule, &ru, state[0] ? state : NULL, now_ms, &o);
        break;
    }
    case PLAN_RULE_CHECK:
        if ((rc = evaluate_check(e, rule, unit, &ru, &o)) != WP_OK)
            return rc;
        break;
    case PLAN_RULE_RATIO:
        if ((rc = evaluate_ratio(e, rule, unit, &ru, now_ms, &o)) != WP_OK)
            return rc;
        break;
    case PLAN_RULE_COVERAGE:
        if ((rc = evaluate_coverage(e, rule, unit, &ru, now_ms, &o)) != WP_OK)
            return rc;
        break;
    case PLAN_RULE_LEVEL:
        if ((rc = evaluate_level(e, rule, unit, &ru, now_ms, &o)) != WP_OK)
            return rc;
        break;
    case PLAN_RULE_ANNOUNCE: {
        const struct rule_series *a = NULL;
        rule_outcome_init(&o, rule);
        if ((rc = series_get(e->series, e->plan, unit, rule->u.announce.indicator, &a))
            != WP_OK)
            return rc;
        rule_announce_evaluate(e->plan, rule, &ru, a, now_ms, &o);
        break;
    }
    case PLAN_RULE_LOST: {
        struct evaluate_lost lost = {0};
        if ((rc = store_each_lost(e->store, unit->code, now_ms - RULE_LOST_FIRING_MS,
                                  evaluate_lost_add, &lost)) != WP_OK) {
            wp_log(WP_LOG_ERR, "evaluate: %s", store_errmsg(e->store));
            return rc;
        }
        rule_lost_evaluate(rule, &ru, lost.ranges, lost.count, lost.total, &o);
        break;
    }
    case PLAN_RULE_FLOOD: {
        struct rule_flood_day today = {.day = wp_local_day(now_ms)};
        if ((rc = store_refusals_on_day(e->store, unit->code, today.day, &today.refused,
                                        &today.not_kept)) != WP_OK) {
            wp_log(WP_LOG_ERR, "evaluate: %s", store_errmsg(e->store));
            return rc;
        }
        rule_flood_evaluate(rule, &ru, &today, &o);
        break;
    }
    }
    return alerts_record(e->alerts, rule, ru.scope, &o, now_ms, event_ms);
}

/* Whether the rule is evaluated on unit (a reporting unit, or the served unit). */
static bool evaluate_applies(const struct plan *plan, const struct plan_rule *rule,
                             const struct plan_unit *unit)
{
    (void)plan;
    /* Unit codes among a task's assignees name exactly the units that are tracked. */
    if (rule->kind == PLAN_RULE_TASK && rule->u.task.tracked)
        return rule->u.task.tracked[unit->index];
    return (rule->applies_to & plan_applies_bit(unit)) != 0;
}

/* ---- evaluations ------------------------------------------------------------------- */

static enum wp_err evaluate_begin(struct evaluate *e)
{
    enum wp_err rc = store_begin(e->store);
    if (rc != WP_OK) {
        wp_log(WP_LOG_ERR, "evaluate: %s", store_errmsg(e->store));
        return rc;
    }
    if (e->clear_status)
        rc = evaluate_db_error(e, store_schedule_clear(e->store));
    return rc;
}

static enum wp_err evaluate_end(struct evaluate *e, enum wp_err rc)
{
    if (rc == WP_OK && (rc = store_commit(e->store)) != WP_OK)
        wp_log(WP_LOG_ERR, "evaluate: %s", store_errmsg(e->store));
    if (rc != WP_OK) {
        store_rollback(e->store);
        alerts_rollback(e->alerts);
        if (e->levels)
            levels_rollback(e->levels);
        wp_log(WP_LOG_ERR, "evaluation rolled back: %s; it runs again at the next tick",
               wp_strerror(rc));
        return rc;
    }
    e->clear_status = false;
    return WP_OK;
}

/* When the unit's latest noted report arrived; 0 when it has none. */
static int64_t evaluate_touched_at(const struct evaluate *e, const char *code)
{
    const struct evaluate_touch *t = evaluate_touch_find(e, code, wp_index_hash_str(code));
    if (!t)
        return 0;
    return t->received_ms > 0 ? t->received_ms : 1;
}

static int evaluate_due_cmp(const void *a, const void *b)
{
    size_t x = ((const struct evaluate_due *)a)->unit->index;
    size_t y = ((const struct evaluate_due *)b)->unit->index;
    return x < y ? -1 : x > y;
}

/* The plan's reporting units among the touched ones into e->due, in the order of
 * plan->wards (which is the order of plan->units), so that an evaluation visits only the
 * units with new reports, in the order it always did. Returns how many. */
static enum wp_err evaluate_due_wards(struct evaluate *e, size_t *count)
{
    const struct plan *plan = e->plan;
    const struct plan_unit *served = plan->district;
    size_t n = 0;
    *count = 0;
    if (!WP_ARRAY_RESERVE(e->due, e->due_cap, e->touched_count))
        return WP_ERR_NOMEM;
    for (size_t i = 0; i < e->touched_count; i++) {
        const struct plan_unit *u = plan_unit(plan, e->touched[i].code);
        /* plan.h: the wards are the units one level below the served unit, its children. */
        if (!u || (int)u->level != (int)served->level + 1 || strcmp(u->parent, served->code) != 0)
            continue;
        int64_t at = e->touched[i].received_ms;
        e->due[n++] = (struct evaluate_due){u, at > 0 ? at : 1};
    }
    qsort(e->due, n, sizeof *e->due, evaluate_due_cmp);
    *count = n;
    return WP_OK;
}

enum wp_err evaluate_reports(struct evaluate *e, int64_t now_ms)
{
    if (!e->plan || e->touched_count == 0) {
        evaluate_touched_clear(e);
        return WP_OK;
    }
    enum wp_err rc = evaluate_begin(e);
    const struct plan *plan = e->plan;
    int64_t any_at = 0;
    for (size_t i = 0; i < e->touched_count; i++)
        if (e->touched[i].received_ms > any_at)
            any_at = e->touched[i].received_ms;
    size_t due = 0;
    if (rc == WP_OK)
        rc = evaluate_due_wards(e, &due);
    int64_t district_at = evaluate_touched_at(e, plan->district->code);
    for (size_t r = 0; rc == WP_OK && r < plan->rule_count; r++) {
        const struct plan_rule *rule = &plan->rules[r];
        for (size_t w = 0; rc == WP_OK && w < due; w++)
            if (evaluate_applies(plan, rule, e->due[w].unit))
                rc = evaluate_rule_unit(e, rule, e->due[w].unit, now_ms, e->due[w].at);
        /* The district: its own reports (schedule, task), or any ward's (roll-ups). */
        bool own = rule->kind == PLAN_RULE_SCHEDULE || rule->kind == PLAN_RULE_TASK;
        int64_t at = own ? district_at : any_at;
        if (rc == WP_OK && at > 0 && evaluate_applies(plan, rule, plan->district))
            rc = evaluate_rule_unit(e, rule, plan->district, now_ms, at);
    }
    for (size_t w = 0; rc == WP_OK && w <= due; w++) {
        const struct plan_unit *unit = w < due ? e->due[w].unit : plan->district;
        int64_t at = w < due ? e->due[w].at : district_at;
        for (size_t k = 0; rc == WP_OK && at > 0 && k < EVALUATE_OWN_RULES; k++)
            rc = evaluate_rule_unit(e, evaluate_own_rules[k], unit, now_ms, at);
    }
    evaluate_touched_clear(e);
    return evaluate_end(e, rc);
}

enum wp_err evaluate_all(struct evaluate *e, int64_t now_ms)
{
    if (!e->plan)
        return WP_OK;
    evaluate_touched_clear(e);
    enum wp_err rc = evaluate_begin(e);
    alerts_sweep_begin(e->alerts);
    const struct plan *plan = e->plan;
    for (size_t r = 0; rc == WP_OK && r < plan->rule_count; r++) {
        const struct plan_rule *rule = &plan->rules[r];
        for (size_t w = 0; rc == WP_OK && w < plan->ward_count; w++)
            if (evaluate_applies(plan, rule, plan->wards[w]))
                rc = evaluate_rule_unit(e, rule, plan->wards[w], now_ms, 0);
        if (rc == WP_OK && evaluate_applies(plan, rule, plan->district))
            rc = evaluate_rule_unit(e, rule, plan->district, now_ms, 0);
    }
    for (size_t w = 0; rc == WP_OK && w <= plan->ward_count; w++)
        for (size_t k = 0; rc == WP_OK && k < EVALUATE_OWN_RULES; k++)
            rc = evaluate_rule_unit(e, evaluate_own_rules[k],
                                    w < plan->ward_count ? plan->wards[w] : plan->district,
                                    now_ms, 0);
    if (rc == WP_OK)
        rc = alerts_sweep_end(e->alerts, now_ms);
    return evaluate_end(e, rc);
}

/* ---- the next deadline ------------------------------------------------------------- */

static int64_t evaluate_min_after(int64_t best, int64_t candidate, int64_t now_ms)
{
    return candidate > now_ms && candidate < best ? candidate : best;
}

int64_t evaluate_next_due_ms(const struct evaluate *e, int64_t now_ms)
{
    const struct plan *plan = e->plan;
    int64_t best = INT64_MAX;
    if (!plan)
        return best;
    int offset = plan->utc_offset_minutes;
    int64_t today = wp_local_day_at(now_ms, offset);
    for (size_t r = 0; r < plan->rule_count; r++) {
        const struct plan_rule *rule = &plan->rules[r];
        switch (rule->kind) {
        case PLAN_RULE_SCHEDULE: {
            const struct plan_schedule *s = &rule->u.schedule;
            int64_t grace = s->grace_minutes * INT64_C(60000);
            /* Periods whose cut-off (last day + offset) or alert time is near today. */
            for (int64_t d = today - s->cutoff_day_offset - 8; d <= today + 8; d++) {
                if (s->weekly && wp_weekday(d) != 6)
                    continue;   /* a week's last day is a Sunday */
                int64_t due = rule_schedule_due_ms(plan, rule, d);
                best = evaluate_min_after(best, due, now_ms);
                best = evaluate_min_after(best, due + grace, now_ms);
            }
            break;
        }
        case PLAN_RULE_TASK:
            best = evaluate_min_after(best, rule_task_due_end_ms(plan, rule), now_ms);
            break;
        case PLAN_RULE_COVERAGE:
        case PLAN_RULE_RATIO:
        case PLAN_RULE_LEVEL:
        case PLAN_RULE_ANNOUNCE:
            /* Trends and silences count days, levels count weeks, and an announcement
             * belongs to its day: the next local midnight. */
            best = evaluate_min_after(best, wp_day_start_ms(today + 1, offset), now_ms);
            break;
        case PLAN_RULE_CHECK:
        case PLAN_RULE_LOST:
        case PLAN_RULE_FLOOD:
            break;   /* only data changes a check */
        }
    }
    /* A declaration of lost reports stops firing a week later, and refusals over the bound
     * are counted per day: looked at every midnight. */
    return evaluate_min_after(best, wp_day_start_ms(today + 1, offset), now_ms);
}

enum wp_err evaluate_rolled_up(struct evaluate *e, const char *indicator,
                               const struct rule_series **out)
{
    *out = NULL;
    if (!e->plan)
        return WP_ERR_INVALID;
    return series_get(e->series, e->plan, e->plan->district, indicator, out);
}
