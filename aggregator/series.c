/* series.c — value series, district roll-ups, and the rules that read them (contract in
 * series.h). */
#include "series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "calendar.h"
#include "levels.h"
#include "log.h"
#include "timefmt.h"

#define SERIES_LEVEL_WEEKS_MAX 160   /* three years of weeks */

enum series_stmt { SSTMT_WARD, SSTMT_PERIOD, SSTMT_COUNT };

static const char *const series_sql[SSTMT_COUNT] = {
    [SSTMT_WARD] = "SELECT period, value FROM current_values "
                   "WHERE indicator = ?2 AND ward = ?1",
    [SSTMT_PERIOD] = "SELECT indicator, value FROM current_values "
                     "WHERE ward = ?1 AND period = ?2",
};

struct series_entry {
    char *unit;
    char *indicator;
    struct rule_series series;
    struct rule_point *points;   /* owned */
    size_t cap;                  /* of points */
};

struct series_cache {
    sqlite3 *db;
    sqlite3_stmt *stmt[SSTMT_COUNT];
    struct series_entry **entries;   /* each its own allocation: pointers handed out to
                                      * its series stay valid while the cache grows */
    size_t count, cap;
    struct level_week *weeks;    /* SERIES_LEVEL_WEEKS_MAX, for level rules */
};

enum wp_err series_cache_create(struct store *store, struct series_cache **out)
{
    *out = NULL;
    struct series_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->weeks = calloc(SERIES_LEVEL_WEEKS_MAX, sizeof *c->weeks))) {
        free(c);
        return WP_ERR_NOMEM;
    }
    c->db = store_db(store);
    for (int i = 0; i < SSTMT_COUNT; i++)
        if (sqlite3_prepare_v3(c->db, series_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &c->stmt[i], NULL) != SQLITE_OK) {
            wp_log(WP_LOG_ERR, "series: preparing a statement: %s", sqlite3_errmsg(c->db));
            series_cache_destroy(&c);
            return WP_ERR_DB;
        }
    *out = c;
    return WP_OK;
}

void series_cache_clear(struct series_cache *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->entries[i]->unit);
        free(c->entries[i]->indicator);
        free(c->entries[i]->points);
        free(c->entries[i]);
    }
    c->count = 0;
}

void series_cache_invalidate(struct series_cache *c, const char *unit_code,
                             const char *district_code)
{
    size_t kept = 0;
    for (size_t i = 0; i < c->count; i++) {
        struct series_entry *e = c->entries[i];
        if (strcmp(e->unit, unit_code) == 0 || strcmp(e->unit, district_code) == 0) {
            free(e->unit);
            free(e->indicator);
            free(e->points);
            free(e);
        } else {
            c->entries[kept++] = e;
        }
    }
    c->count = kept;
}

/* Orders points by last day, then first day (a week after the days it ends with). */
static int series_point_cmp(const void *x, const void *y)
{
    const struct rule_point *a = x, *b = y;
    if (a->last_day != b->last_day)
        return a->last_day < b->last_day ? -1 : 1;
    if (a->first_day != b->first_day)
        return a->first_day < b->first_day ? -1 : 1;
    return 0;
}

/* Sets the value of one period in a cached series, keeping the order. */
static bool series_entry_set(struct series_entry *e, const char *period, int64_t value)
{
    struct rule_point p;
    int64_t first;
    int days;
    if (!wp_period_parse(period, &first, &days))
        return true;
    memset(&p, 0, sizeof p);
    snprintf(p.period, sizeof p.period, "%s", period);
    p.first_day = first;
    p.last_day = first + days - 1;
    p.value = value;
    size_t lo = 0, hi = e->series.count;   /* first point ≥ p */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (series_point_cmp(&e->points[mid], &p) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < e->series.count && series_point_cmp(&e->points[lo], &p) == 0) {
        e->points[lo].value = value;
        return true;
    }
    if (e->series.count == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 16;
        struct rule_point *bigger = realloc(e->points, cap * sizeof *bigger);
        if (!bigger)
            return false;
        e->points = bigger;
        e->cap = cap;
    }
    memmove(e->points + lo + 1, e->points + lo, (e->series.count - lo) * sizeof p);
    e->points[lo] = p;
    e->series.count++;
    e->series.points = e->points;
    return true;
}

void series_cache_update(struct series_cache *c, const char *ward, const char *period,
                         const char *district_code)
{
    series_cache_invalidate(c, district_code, district_code);
    sqlite3_stmt *stmt = c->stmt[SSTMT_PERIOD];
    sqlite3_reset(stmt);
    sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, period, -1, SQLITE_STATIC);
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *indicator = (const char *)sqlite3_column_text(stmt, 0);
        for (size_t i = 0; i < c->count; i++) {
            struct series_entry *e = c->entries[i];
            if (strcmp(e->unit, ward) == 0 && strcmp(e->indicator, indicator) == 0) {
                ok = series_entry_set(e, period, sqlite3_column_int64(stmt, 1));
                break;
            }
        }
    }
    if (ok && rc != SQLITE_DONE)
        ok = false;
    sqlite3_reset(stmt);
    if (!ok)
        series_cache_invalidate(c, ward, district_code);
}

void series_cache_destroy(struct series_cache **cache)
{
    if (!cache || !*cache)
        return;
    struct series_cache *c = *cache;
    series_cache_clear(c);
    for (int i = 0; i < SSTMT_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    free(c->entries);
    free(c->weeks);
    free(c);
    *cache = NULL;
}

/* Appends a point; false when out of memory. */
static bool series_push(struct rule_point **points, size_t *n, size_t *cap, const char *period,
                        int64_t value)
{
    int64_t first;
    int days;
    if (!wp_period_parse(period, &first, &days))
        return true;   /* the store only holds valid periods; skip rather than fail */
    if (*n == *cap) {
        size_t bigger_cap = *cap ? 2 * *cap : 64;
        struct rule_point *bigger = realloc(*points, bigger_cap * sizeof *bigger);
        if (!bigger)
            return false;
        *points = bigger;
        *cap = bigger_cap;
    }
    struct rule_point *p = &(*points)[(*n)++];
    snprintf(p->period, sizeof p->period, "%s", period);
    p->first_day = first;
    p->last_day = first + days - 1;
    p->value = value;
    return true;
}

static enum wp_err series_load_ward(struct series_cache *c, const char *ward,
                                    const char *indicator, struct rule_point **points,
                                    size_t *n)
{
    size_t cap = 0;
    sqlite3_stmt *stmt = c->stmt[SSTMT_WARD];
    sqlite3_reset(stmt);
    sqlite3_bind_text(stmt, 1, ward, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, indicator, -1, SQLITE_STATIC);
    int rc;
    enum wp_err err = WP_OK;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if (!series_push(points, n, &cap, (const char *)sqlite3_column_text(stmt, 0),
                         sqlite3_column_int64(stmt, 1))) {
            err = WP_ERR_NOMEM;
            break;
        }
    sqlite3_reset(stmt);
    if (err == WP_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        wp_log(WP_LOG_ERR, "series: %s", sqlite3_errmsg(c->db));
        err = WP_ERR_DB;
    }
    if (err == WP_OK && *n > 1)
        qsort(*points, *n, sizeof **points, series_point_cmp);
    return err;
}

/* The ward's value for period p: its own for p, or (latest) the last before it. */
static bool series_ward_value(const struct rule_series *w, const struct rule_point *p,
                              enum plan_rollup rollup, int64_t *value)
{
    size_t lo = 0, hi = w->count;   /* first point > p */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (series_point_cmp(&w->points[mid], p) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const struct rule_point *at = &w->points[lo - 1];
    if (series_point_cmp(at, p) == 0 || rollup == PLAN_ROLLUP_LATEST) {
        *value = at->value;
        return true;
    }
    return false;
}

/* The district's series, combined from its wards' (cached) series: after a report only
 * that ward's series is read again from the database. */
static enum wp_err series_load_district(struct series_cache *c, const struct plan *plan,
                                        const char *indicator, struct rule_point **points,
                                        size_t *n)
{
    const struct plan_indicator *ind = plan_indicator(plan, indicator);
    enum plan_rollup rollup = ind ? ind->rollup : PLAN_ROLLUP_SUM;
    const struct rule_series **wards = calloc(plan->ward_count, sizeof *wards);
    struct rule_point *all = NULL;
    size_t all_n = 0;
    enum wp_err err = wards ? WP_OK : WP_ERR_NOMEM;
    for (size_t i = 0; err == WP_OK && i < plan->ward_count; i++)
        if ((err = series_get(c, plan, plan->wards[i], indicator, &wards[i])) == WP_OK)
            all_n += wards[i]->count;
    if (err == WP_OK && all_n > 0 && !(all = malloc(all_n * sizeof *all)))
        err = WP_ERR_NOMEM;
    if (err == WP_OK && all_n > 0) {
        size_t k = 0;
        for (size_t i = 0; i < plan->ward_count; i++) {
            if (wards[i]->count == 0)
                continue;   /* (points may be NULL then, which memcpy must not see) */
            memcpy(all + k, wards[i]->points, wards[i]->count * sizeof *all);
            k += wards[i]->count;
        }
        qsort(all, all_n, sizeof *all, series_point_cmp);
        /* Every distinct period once, combined over the wards. */
        size_t out = 0;
        for (k = 0; k < all_n; k++) {
            if (out > 0 && series_point_cmp(&all[out - 1], &all[k]) == 0)
                continue;
            struct rule_point p = all[k];
            bool any = false;
            int64_t total = 0;
            for (size_t i = 0; i < plan->ward_count; i++) {
                int64_t v;
                if (!series_ward_value(wards[i], &p, rollup, &v))
                    continue;
                total = !any ? v : rollup == PLAN_ROLLUP_MAX ? (v > total ? v : total)
                                                             : total + v;
                any = true;
            }
            if (!any)
                continue;
            p.value = total;
            all[out++] = p;
        }
        all_n = out;
    }
    free(wards);
    if (err != WP_OK) {
        free(all);
        return err;
    }
    *points = all;
    *n = all_n;
    return WP_OK;
}

enum wp_err series_get(struct series_cache *c, const struct plan *plan,
                       const struct plan_unit *unit, const char *indicator,
                       const struct rule_series **out)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->entries[i]->unit, unit->code) == 0
            && strcmp(c->entries[i]->indicator, indicator) == 0) {
            *out = &c->entries[i]->series;
            return WP_OK;
        }
    struct rule_point *points = NULL;
    size_t n = 0;
    /* (The district's load fills the cache with its wards' series first.) */
    enum wp_err err = unit == plan->district
                          ? series_load_district(c, plan, indicator, &points, &n)
                          : series_load_ward(c, unit->code, indicator, &points, &n);
    if (err == WP_OK && c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        struct series_entry **bigger = realloc(c->entries, cap * sizeof *bigger);
        if (bigger) {
            c->entries = bigger;
            c->cap = cap;
        } else {
            err = WP_ERR_NOMEM;
        }
    }
    struct series_entry *e = err == WP_OK ? calloc(1, sizeof *e) : NULL;
    if (e) {
        e->unit = strdup(unit->code);
        e->indicator = strdup(indicator);
    }
    if (err != WP_OK || !e || !e->unit || !e->indicator) {
        if (e) {
            free(e->unit);
            free(e->indicator);
            free(e);
        }
        free(points);
        return err != WP_OK ? err : WP_ERR_NOMEM;
    }
    e->points = points;
    e->cap = n;
    e->series.points = points;
    e->series.count = n;
    c->entries[c->count++] = e;
    *out = &e->series;
    return WP_OK;
}

/* The point of period p in a ward's series, or NULL. */
static const struct rule_point *series_exact(const struct rule_series *s,
                                             const struct rule_point *p)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = series_point_cmp(&s->points[mid], p);
        if (cmp == 0)
            return &s->points[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A district comparison between two indicators (a check, or a ratio rule's numerator and
 * denominator), period by period, over the wards that
 * reported both for that period: a ward whose report has not come yet is left out of
 * both sides, so a rolled-up daily count is never compared with a total that includes
 * wards it does not (every afternoon, before the last ward reports). The two series are
 * the caller's to free (left->points, right->points). */
static enum wp_err series_district_pair(struct series_cache *c, const struct plan *plan,
                                        const char *left, const char *right,
                                        struct rule_series *l, struct rule_series *r)
{
    const struct plan_indicator *li = plan_indicator(plan, left);
    const struct plan_indicator *ri = plan_indicator(plan, right);
    bool lmax = li && li->rollup == PLAN_ROLLUP_MAX, rmax = ri && ri->rollup == PLAN_ROLLUP_MAX;
    const struct rule_series **ls = calloc(plan->ward_count, sizeof *ls);
    const struct rule_series **rs = calloc(plan->ward_count, sizeof *rs);
    struct rule_point *lp = NULL, *rp = NULL;
    size_t total = 0, n = 0;
    enum wp_err err = ls && rs ? WP_OK : WP_ERR_NOMEM;
    for (size_t i = 0; err == WP_OK && i < plan->ward_count; i++)
        if ((err = series_get(c, plan, plan->wards[i], left, &ls[i])) == WP_OK
            && (err = series_get(c, plan, plan->wards[i], right, &rs[i])) == WP_OK)
            total += ls[i]->count;
    if (err == WP_OK && total > 0
        && (!(lp = malloc(total * sizeof *lp)) || !(rp = malloc(total * sizeof *rp))))
        err = WP_ERR_NOMEM;
    if (err == WP_OK && total > 0) {
        /* Candidate periods: every period of the left side, sorted, once. */
        size_t k = 0;
        for (size_t i = 0; i < plan->ward_count; i++)
            for (size_t j = 0; j < ls[i]->count; j++)
                lp[k++] = ls[i]->points[j];
        qsort(lp, total, sizeof *lp, series_point_cmp);
        for (k = 0; k < total; k++) {
            if (n > 0 && series_point_cmp(&lp[n - 1], &lp[k]) == 0)
                continue;
            struct rule_point p = lp[k], q;
            bool any = false;
            int64_t lv = 0, rv = 0;
            for (size_t i = 0; i < plan->ward_count; i++) {
                const struct rule_point *a = series_exact(ls[i], &p);
                const struct rule_point *b = series_exact(rs[i], &p);
                if (!a || !b)
                    continue;
                lv = !any ? a->value : lmax ? (a->value > lv ? a->value : lv) : lv + a->value;
                rv = !any ? b->value : rmax ? (b->value > rv ? b->value : rv) : rv + b->value;
                any = true;
            }
            if (!any)
                continue;
            q = p;
            p.value = lv;
            q.value = rv;
            lp[n] = p;   /* n ≤ k: the write never overtakes the read */
            rp[n++] = q;
        }
    }
    free(ls);
    free(rs);
    if (err != WP_OK) {
        free(lp);
        free(rp);
        return err;
    }
    l->points = lp;
    l->count = n;
    r->points = rp;
    r->count = n;
    return WP_OK;
}

/* ---- level data through the cache -------------------------------------------------- */

struct series_level_ctx {
    struct series_cache *cache;
    const struct plan *plan;
    const struct plan_unit *unit;
    enum wp_err err;
};

static const struct rule_series *series_level_series(void *ctx, const char *indicator)
{
    struct series_level_ctx *x = ctx;
    const struct rule_series *s = NULL;
    enum wp_err err = series_get(x->cache, x->plan, x->unit, indicator, &s);
    if (err != WP_OK)
        x->err = err;
    return s;
}

static bool series_level_population(void *ctx, const char *group, double *people)
{
    struct series_level_ctx *x = ctx;
    int64_t n;
    if (!plan_population(x->plan, x->unit, group, &n))
        return false;
    *people = (double)n;
    return true;
}

enum wp_err series_evaluate(struct series_cache *c, const struct plan *plan,
                            const struct plan_rule *rule, const struct plan_unit *unit,
                            const struct rule_unit *ru, int64_t now_ms,
                            int64_t expected_from_day, struct levels *levels,
                            struct rule_outcome *out)
{
    const struct rule_series *a = NULL, *b = NULL;
    enum wp_err err = WP_OK;
    int64_t people = 0;
    rule_outcome_init(out, rule);
    switch (rule->kind) {
    case PLAN_RULE_CHECK: {
        const struct plan_check *k = &rule->u.check;
        if (unit == plan->district && k->right_indicator) {
            struct rule_series l = {0, NULL}, r = {0, NULL};
            if ((err = series_district_pair(c, plan, k->left, k->right_indicator, &l, &r))
                != WP_OK)
                return err;
            rule_check_evaluate(plan, rule, ru, &l, &r, 0, out);
            free((void *)l.points);
            free((void *)r.points);
            return WP_OK;
        }
        if ((err = series_get(c, plan, unit, k->left, &a)) != WP_OK)
            return err;
        if (k->right_indicator && (err = series_get(c, plan, unit, k->right_indicator, &b))
                                      != WP_OK)
            return err;
        if (!k->never_decreases && !k->right_indicator
            && !plan_population(plan, unit, k->right_population, &people))
            return WP_OK;
        rule_check_evaluate(plan, rule, ru, a, b, (double)people, out);
        return WP_OK;
    }
    case PLAN_RULE_RATIO: {
        const struct plan_ratio *k = &rule->u.ratio;
        if (unit == plan->district) {
            /* As for a check: only the wards that reported both, period by period. */
            struct rule_series n = {0, NULL}, d = {0, NULL};
            if ((err = series_district_pair(c, plan, k->numerator, k->denominator, &n, &d))
                != WP_OK)
                return err;
            rule_ratio_evaluate(plan, rule, ru, &n, &d, expected_from_day, now_ms, out);
            free((void *)n.points);
            free((void *)d.points);
            return WP_OK;
        }
        if ((err = series_get(c, plan, unit, k->numerator, &a)) != WP_OK
            || (err = series_get(c, plan, unit, k->denominator, &b)) != WP_OK)
            return err;
        rule_ratio_evaluate(plan, rule, ru, a, b, expected_from_day, now_ms, out);
        return WP_OK;
    }
    case PLAN_RULE_ANNOUNCE:
        if ((err = series_get(c, plan, unit, rule->u.announce.indicator, &a)) != WP_OK)
            return err;
        rule_announce_evaluate(plan, rule, ru, a, now_ms, out);
        return WP_OK;
    case PLAN_RULE_COVERAGE: {
        const struct plan_coverage *k = &rule->u.coverage;
        struct coverage_input in = {NULL, 0, NULL, expected_from_day};
        if ((err = series_get(c, plan, unit, k->numerator, &in.numerator)) != WP_OK)
            return err;
        if (k->population && plan_population(plan, unit, k->population, &people))
            in.denominator = (double)people;
        if (k->denominator) {
            if ((err = series_get(c, plan, unit, k->denominator, &b)) != WP_OK)
                return err;
            in.denominator_series = b;
            /* The value in force today, as for the numerator. */
            int64_t today = wp_local_day_at(now_ms, plan->utc_offset_minutes);
            for (size_t i = 0; i < b->count && b->points[i].last_day <= today; i++)
                in.denominator = (double)b->points[i].value;
        }
        rule_coverage_evaluate(plan, rule, ru, &in, now_ms, out);
        return WP_OK;
    }
    case PLAN_RULE_LEVEL: {
        struct series_level_ctx ctx = {c, plan, unit, WP_OK};
        struct level_data data = {series_level_series, series_level_population, &ctx};
        size_t n = rule_level_weeks(plan, rule, &data, now_ms, c->weeks,
                                    SERIES_LEVEL_WEEKS_MAX);
        if (ctx.err != WP_OK)
            return ctx.err;
        if (levels && n > 0 && (err = levels_record(levels, plan, rule, ru, c->weeks, n))
                                   != WP_OK)
            return err;
        rule_level_evaluate(plan, rule, ru, c->weeks, n, out);
        return WP_OK;
    }
    case PLAN_RULE_SCHEDULE:
    case PLAN_RULE_TASK:
    case PLAN_RULE_LOST:
        break;   /* evaluate.c has their data */
    }
    return WP_OK;
}
