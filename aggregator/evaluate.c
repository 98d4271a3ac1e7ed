/* evaluate.c — running the rules on the units that need it (contract in evaluate.h).
 * The data of coverage, check, ratio, announce and level rules (value series, roll-ups) are fetched in
 * series.c; the rules themselves are the pure functions of rule_*.c. */
#include "evaluate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "alert_text.h"
#include "calendar.h"
#include "levels.h"
#include "log.h"
#include "rules.h"
#include "series.h"
#include "timefmt.h"

#define MS_PER_DAY INT64_C(86400000)
/* Periods one schedule evaluation looks at: three years of days. */
#define EVALUATE_SLOTS_MAX 1100
/* plan.schema.json: a schedule rule names at most 1000 indicators. */
#define EVALUATE_INDICATORS_MAX 1000

enum evaluate_stmt {
    ESTMT_FIRST_REPORT,
    ESTMT_STATUS,
    ESTMT_STATUS_UPSERT,
    ESTMT_COMPLETION,
    ESTMT_TASK_STATE,
    ESTMT_CLEAR_STATUS,
    ESTMT_COUNT
};

static const char *const evaluate_sql[ESTMT_COUNT] = {
    [ESTMT_FIRST_REPORT] = "SELECT MIN(received_ms) FROM reports",
    [ESTMT_STATUS] = "SELECT period, complete_ms, received_ms FROM schedule_status "
                     "WHERE rule = ?1 AND ward = ?2",
    [ESTMT_STATUS_UPSERT] =
        "INSERT INTO schedule_status (rule, ward, period, due_ms, complete_ms, on_time, "
        "received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (rule, ward, period) DO UPDATE SET "
        "due_ms = excluded.due_ms, complete_ms = excluded.complete_ms, "
        "on_time = excluded.on_time, received_ms = excluded.received_ms",
    /* When each indicator of a ward's period was first committed at the ward (as judged:
     * store.h, version 5) and first arrived: a later correction does not make a report
     * late. A weekly period is also reported by the figures of its days (?3 … ?4), a
     * day's only by its own. */
    [ESTMT_COMPLETION] = "SELECT v.indicator, MIN(COALESCE(r.judged_ms, r.received_ms)), "
                         "MIN(r.received_ms) FROM report_values v "
                         "JOIN reports r ON r.id = v.report_id "
                         "WHERE v.ward = ?1 AND (v.period = ?2 OR v.period BETWEEN ?3 AND ?4) "
                         "GROUP BY v.indicator",
    /* The state in force: that of the unit's latest period naming the task (store.h). */
    [ESTMT_TASK_STATE] = "SELECT state FROM current_tasks WHERE ward = ?1 AND task = ?2",
    [ESTMT_CLEAR_STATUS] = "DELETE FROM schedule_status",
};

/* A unit with new reports and when the latest of them arrived. */
struct evaluate_touch {
    char *code;
    int64_t received_ms;
};

struct evaluate {
    struct store *store;
    sqlite3 *db;
    sqlite3_stmt *stmt[ESTMT_COUNT];
    struct alerts *alerts;
    struct levels *levels;
    struct series_cache *series;
    const struct plan *plan;
    bool clear_status;          /* the plan changed: rebuild schedule_status */
    int64_t first_report_day;   /* PLAN_DAY_NONE until a report exists */
    struct schedule_slot *slots;
    struct evaluate_touch *touched;   /* units noted since the last evaluate_reports */
    size_t touched_count, touched_cap;
};

static sqlite3_stmt *evaluate_stmt(struct evaluate *e, enum evaluate_stmt which)
{
    sqlite3_stmt *stmt = e->stmt[which];
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return stmt;
}

static enum wp_err evaluate_db_error(struct evaluate *e, const char *what)
{
    wp_log(WP_LOG_ERR, "evaluate: %s: %s", what, sqlite3_errmsg(e->db));
    return WP_ERR_DB;
}

enum wp_err evaluate_create(struct store *store, struct alerts *alerts, struct levels *levels,
                            struct evaluate **out)
{
    *out = NULL;
    struct evaluate *e = calloc(1, sizeof *e);
    if (!e)
        return WP_ERR_NOMEM;
    e->store = store;
    e->db = store_db(store);
    e->alerts = alerts;
    e->levels = levels;
    e->first_report_day = PLAN_DAY_NONE;
    e->slots = calloc(EVALUATE_SLOTS_MAX, sizeof *e->slots);
    enum wp_err rc = e->slots ? series_cache_create(store, &e->series) : WP_ERR_NOMEM;
    if (rc != WP_OK) {
        evaluate_destroy(&e);
        return rc;
    }
    for (int i = 0; i < ESTMT_COUNT; i++)
        if (sqlite3_prepare_v3(e->db, evaluate_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &e->stmt[i], NULL) != SQLITE_OK) {
            rc = evaluate_db_error(e, "preparing a statement");
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
}

void evaluate_destroy(struct evaluate **evaluate)
{
    if (!evaluate || !*evaluate)
        return;
    struct evaluate *e = *evaluate;
    for (int i = 0; i < ESTMT_COUNT; i++)
        sqlite3_finalize(e->stmt[i]);
    series_cache_destroy(&e->series);
    evaluate_touched_clear(e);
    free(e->touched);
    free(e->slots);
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

void evaluate_note_unit(struct evaluate *e, const char *ward, int64_t received_ms)
{
    for (size_t i = 0; i < e->touched_count; i++)
        if (strcmp(e->touched[i].code, ward) == 0) {
            if (received_ms > e->touched[i].received_ms)
                e->touched[i].received_ms = received_ms;
            return;
        }
    if (e->touched_count == e->touched_cap) {
        size_t cap = e->touched_cap ? 2 * e->touched_cap : 64;
        struct evaluate_touch *bigger = realloc(e->touched, cap * sizeof *bigger);
        if (!bigger)
            return;   /* the next tick's full evaluation catches up */
        e->touched = bigger;
        e->touched_cap = cap;
    }
    if ((e->touched[e->touched_count].code = strdup(ward)))
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
    sqlite3_stmt *stmt = evaluate_stmt(e, ESTMT_FIRST_REPORT);
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        e->first_report_day = wp_local_day_at(sqlite3_column_int64(stmt, 0),
                                             e->plan->utc_offset_minutes);
    sqlite3_reset(stmt);
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

/* When the slot's report became complete (0: not yet), from report_values. */
static enum wp_err evaluate_completion(struct evaluate *e, const struct plan_rule *rule,
                                       const char *unit, struct schedule_slot *slot)
{
    const struct plan_schedule *s = &rule->u.schedule;
    sqlite3_stmt *stmt = evaluate_stmt(e, ESTMT_COMPLETION);
    sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, slot->period, -1, SQLITE_STATIC);
    int64_t first_day = 0;
    int days = 1;
    char first[16] = "", last[16] = "";
    if (wp_period_parse(slot->period, &first_day, &days)) {
        wp_date_format(first_day, first, sizeof first);
        wp_date_format(first_day + days - 1, last, sizeof last);
    }
    sqlite3_bind_text(stmt, 3, first, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, last, -1, SQLITE_STATIC);
    int64_t complete = 0, received = 0;
    size_t found = 0;
    bool seen[EVALUATE_INDICATORS_MAX] = {false};
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *indicator = (const char *)sqlite3_column_text(stmt, 0);
        for (size_t i = 0; i < s->indicator_count && i < EVALUATE_INDICATORS_MAX; i++)
            if (!seen[i] && strcmp(s->indicators[i], indicator) == 0) {
                seen[i] = true;
                found++;
                int64_t at = sqlite3_column_int64(stmt, 1);
                int64_t arrived = sqlite3_column_int64(stmt, 2);
                if (at > complete)
                    complete = at;
                if (arrived > received)
                    received = arrived;
            }
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return evaluate_db_error(e, "reading a period's reports");
    slot->missing_count = s->indicator_count - found;
    slot->complete_ms = slot->missing_count == 0 ? complete : 0;
    slot->received_ms = slot->missing_count == 0 ? received : 0;
    slot->missing_first = NULL;
    for (size_t i = 0; i < s->indicator_count && slot->missing_count; i++)
        if (!seen[i]) {
            slot->missing_first = s->indicators[i];
            break;
        }
    return WP_OK;
}

static enum wp_err evaluate_status_write(struct evaluate *e, const struct plan_rule *rule,
                                         const char *unit, const struct schedule_slot *slot)
{
    sqlite3_stmt *stmt = evaluate_stmt(e, ESTMT_STATUS_UPSERT);
    sqlite3_bind_text(stmt, 1, rule->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, slot->period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, slot->due_ms);
    if (slot->complete_ms > 0)
        sqlite3_bind_int64(stmt, 5, slot->complete_ms);
    sqlite3_bind_int(stmt, 6, slot->complete_ms > 0 && slot->complete_ms <= slot->due_ms);
    if (slot->received_ms > 0)
        sqlite3_bind_int64(stmt, 7, slot->received_ms);
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? WP_OK : evaluate_db_error(e, "writing schedule_status");
}

/* Slots of (rule, unit) with their completion. A complete period stays complete (values
 * are superseded, never removed), so schedule_status remembers those and only the
 * others are looked up again. */
static enum wp_err evaluate_schedule_data(struct evaluate *e, const struct plan_rule *rule,
                                          const char *unit, int64_t now_ms, size_t *count)
{
    size_t total = rule_schedule_slots(e->plan, rule, evaluate_first_report_day(e), now_ms,
                                       e->slots, EVALUATE_SLOTS_MAX);
    size_t n = total < EVALUATE_SLOTS_MAX ? total : EVALUATE_SLOTS_MAX;
    /* complete_ms == -1 marks a slot schedule_status does not hold yet. */
    for (size_t i = 0; i < n; i++)
        e->slots[i].complete_ms = -1;
    sqlite3_stmt *stmt = evaluate_stmt(e, ESTMT_STATUS);
    sqlite3_bind_text(stmt, 1, rule->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, unit, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct schedule_slot *slot = bsearch(sqlite3_column_text(stmt, 0), e->slots, n,
                                             sizeof *e->slots, evaluate_slot_cmp);
        if (slot) {
            slot->complete_ms = sqlite3_column_type(stmt, 1) == SQLITE_NULL
                                    ? 0 : sqlite3_column_int64(stmt, 1);
            slot->received_ms = sqlite3_column_type(stmt, 2) == SQLITE_NULL
                                    ? slot->complete_ms : sqlite3_column_int64(stmt, 2);
        }
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE)
        return evaluate_db_error(e, "reading schedule_status");
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

/* ---- one rule on one unit ---------------------------------------------------------- */

static enum wp_err evaluate_task_state(struct evaluate *e, const struct plan_rule *rule,
                                       const char *unit, char *state, size_t size)
{
    sqlite3_stmt *stmt = evaluate_stmt(e, ESTMT_TASK_STATE);
    sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, rule->u.task.task, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    state[0] = '\0';
    if (rc == SQLITE_ROW)
        snprintf(state, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? WP_OK
                                                 : evaluate_db_error(e, "reading a task state");
}

/* wardpulse's own rule, evaluated on every unit whatever the plan (rules.h). */
static const struct plan_rule evaluate_lost_rule = {
    .id = PLAN_RULE_LOST_ID,
    .kind = PLAN_RULE_LOST,
    .name = {"Báo cáo bị mất", "Reports lost"},
    .severity = PLAN_SEVERITY_CRITICAL,
    .applies_to = PLAN_APPLIES_WARD | PLAN_APPLIES_DISTRICT | PLAN_APPLIES_CITY,
    .source = "wardpulse, giao thức gửi báo cáo (docs/architecture.md, Healing a gap)",
};

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
        if ((rc = evaluate_task_state(e, rule, unit->code, state, sizeof state)) != WP_OK)
            return rc;
        rule_task_evaluate(e->plan, rule, &ru, state[0] ? state : NULL, now_ms, &o);
        break;
    }
    case PLAN_RULE_CHECK:
    case PLAN_RULE_RATIO:
    case PLAN_RULE_COVERAGE:
    case PLAN_RULE_LEVEL:
    case PLAN_RULE_ANNOUNCE:
        if ((rc = series_evaluate(e->series, e->plan, rule, unit, &ru, now_ms,
                                  evaluate_expected_from_day(e), e->levels, &o)) != WP_OK)
            return rc;
        break;
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
    }
    return alerts_record(e->alerts, rule, ru.scope, &o, now_ms, event_ms);
}

/* Whether the rule is evaluated on unit (a reporting unit, or the served unit). */
static bool evaluate_applies(const struct plan *plan, const struct plan_rule *rule,
                             const struct plan_unit *unit)
{
    (void)plan;
    if (rule->kind == PLAN_RULE_TASK) {
        /* Unit codes among the assignees name exactly the units that are tracked. */
        bool any_code = false;
        for (size_t i = 0; i < rule->u.task.assignee_count; i++) {
            const char *a = rule->u.task.assignees[i];
            if (a[0] < '0' || a[0] > '9')
                continue;
            any_code = true;
            if (strcmp(a, unit->code) == 0)
                return true;
        }
        if (any_code)
            return false;
    }
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
    if (e->clear_status) {
        sqlite3_stmt *stmt = evaluate_stmt(e, ESTMT_CLEAR_STATUS);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = evaluate_db_error(e, "clearing schedule_status");
        sqlite3_reset(stmt);
    }
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
    for (size_t i = 0; i < e->touched_count; i++)
        if (strcmp(e->touched[i].code, code) == 0)
            return e->touched[i].received_ms > 0 ? e->touched[i].received_ms : 1;
    return 0;
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
    for (size_t r = 0; rc == WP_OK && r < plan->rule_count; r++) {
        const struct plan_rule *rule = &plan->rules[r];
        for (size_t w = 0; rc == WP_OK && w < plan->ward_count; w++) {
            int64_t at = evaluate_touched_at(e, plan->wards[w]->code);
            if (at > 0 && evaluate_applies(plan, rule, plan->wards[w]))
                rc = evaluate_rule_unit(e, rule, plan->wards[w], now_ms, at);
        }
        /* The district: its own reports (schedule, task), or any ward's (roll-ups). */
        bool own = rule->kind == PLAN_RULE_SCHEDULE || rule->kind == PLAN_RULE_TASK;
        int64_t at = own ? evaluate_touched_at(e, plan->district->code) : any_at;
        if (rc == WP_OK && at > 0 && evaluate_applies(plan, rule, plan->district))
            rc = evaluate_rule_unit(e, rule, plan->district, now_ms, at);
    }
    for (size_t w = 0; rc == WP_OK && w <= plan->ward_count; w++) {
        const struct plan_unit *unit = w < plan->ward_count ? plan->wards[w] : plan->district;
        int64_t at = evaluate_touched_at(e, unit->code);
        if (at > 0)
            rc = evaluate_rule_unit(e, &evaluate_lost_rule, unit, now_ms, at);
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
        rc = evaluate_rule_unit(e, &evaluate_lost_rule,
                                w < plan->ward_count ? plan->wards[w] : plan->district, now_ms, 0);
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
            break;   /* only data changes a check */
        }
    }
    /* A declaration of lost reports stops firing a week later: looked at every midnight. */
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
