/* series.c — value series and district roll-ups, read through the store (contract in
 * series.h). */
#include "array.h"
#include "series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash_index.h"
#include "log.h"
#include "report.h"
#include "timefmt.h"

struct series_entry {
    char *indicator;
    uint64_t hash;               /* of indicator: most mismatches cost no strcmp */
    struct rule_series series;
    struct rule_point *points;   /* owned */
    size_t cap;                  /* of points */
};

/* A unit's cached series. Units stay in the cache until series_cache_clear (there are
 * only as many as the plan has); invalidating one frees its series. */
struct series_unit {
    char *code;
    uint64_t hash;                   /* wp_index_hash_str(code) */
    struct series_entry **entries;   /* each its own allocation: pointers handed out to
                                      * its series stay valid while the unit grows */
    size_t count, cap;
};

/* Units in an array, found by code through a hash_index: a lookup is one hash and,
 * nearly always, one strcmp, whatever the number of wards — the linear search it
 * replaced was 74 % of the time under a plan. */
struct series_cache {
    struct store *store;
    struct series_unit **units;
    size_t unit_count, unit_cap;
    struct wp_index by_code;
};

enum wp_err series_cache_create(struct store *store, struct series_cache **out)
{
    *out = NULL;
    struct series_cache *c = calloc(1, sizeof *c);
    if (!c)
        return WP_ERR_NOMEM;
    c->store = store;
    *out = c;
    return WP_OK;
}

static void series_entry_free(struct series_entry *e)
{
    free(e->indicator);
    free(e->points);
    free(e);
}

static void series_unit_drop_entries(struct series_unit *u)
{
    for (size_t i = 0; i < u->count; i++)
        series_entry_free(u->entries[i]);
    u->count = 0;
}

void series_cache_clear(struct series_cache *c)
{
    for (size_t i = 0; i < c->unit_count; i++) {
        struct series_unit *u = c->units[i];
        series_unit_drop_entries(u);
        free(u->entries);
        free(u->code);
        free(u);
    }
    c->unit_count = 0;
    wp_index_clear(&c->by_code);
}

static bool series_unit_is(const void *ctx, size_t pos, const void *code)
{
    const struct series_cache *c = ctx;
    return strcmp(c->units[pos]->code, code) == 0;
}

static struct series_unit *series_unit_find_hashed(const struct series_cache *c,
                                                   const char *code, uint64_t h)
{
    size_t pos = wp_index_find(&c->by_code, h, series_unit_is, c, code);
    return pos == WP_INDEX_NONE ? NULL : c->units[pos];
}

static struct series_unit *series_unit_find(const struct series_cache *c, const char *code)
{
    return series_unit_find_hashed(c, code, wp_index_hash_str(code));
}

/* The unit of code, added if it is not there yet; NULL when out of memory. */
static struct series_unit *series_unit_add(struct series_cache *c, const char *code)
{
    uint64_t h = wp_index_hash_str(code);
    struct series_unit *u = series_unit_find_hashed(c, code, h);
    if (u)
        return u;
    if (!WP_ARRAY_RESERVE(c->units, c->unit_cap, c->unit_count + 1))
        return NULL;
    if (!(u = calloc(1, sizeof *u)) || !(u->code = strdup(code))) {
        free(u);
        return NULL;
    }
    u->hash = h;
    if (!wp_index_add(&c->by_code, h, c->unit_count)) {
        free(u->code);
        free(u);
        return NULL;
    }
    c->units[c->unit_count++] = u;
    return u;
}

static struct series_entry *series_entry_find(const struct series_unit *u,
                                              const char *indicator)
{
    if (!u)
        return NULL;
    uint64_t h = wp_index_hash_str(indicator);
    for (size_t i = 0; i < u->count; i++)
        if (u->entries[i]->hash == h && strcmp(u->entries[i]->indicator, indicator) == 0)
            return u->entries[i];
    return NULL;
}

void series_cache_invalidate(struct series_cache *c, const char *unit_code,
                             const char *district_code)
{
    struct series_unit *u = series_unit_find(c, unit_code);
    if (u)
        series_unit_drop_entries(u);
    if ((u = series_unit_find(c, district_code)))
        series_unit_drop_entries(u);
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
    if (!WP_ARRAY_RESERVE(e->points, e->cap, e->series.count + 1))
            return false;
    memmove(e->points + lo + 1, e->points + lo, (e->series.count - lo) * sizeof p);
    e->points[lo] = p;
    e->series.count++;
    e->series.points = e->points;
    return true;
}

struct series_update {
    struct series_unit *unit;   /* the ward's cached series */
    const char *period;
};

static enum wp_err series_update_value(void *ctx, const char *indicator, int64_t value)
{
    struct series_update *u = ctx;
    struct series_entry *e = series_entry_find(u->unit, indicator);
    if (e)
        return series_entry_set(e, u->period, value) ? WP_OK : WP_ERR_NOMEM;
    return WP_OK;
}

void series_cache_update(struct series_cache *c, const char *ward, const char *period,
                         const char *district_code)
{
    series_cache_invalidate(c, district_code, district_code);
    struct series_update u = {series_unit_find(c, ward), period};
    if (!u.unit || u.unit->count == 0)
        return;   /* nothing of the ward cached: nothing to bring up to date */
    if (store_each_value_in(c->store, ward, period, series_update_value, &u) != WP_OK)
        series_cache_invalidate(c, ward, district_code);
}

void series_cache_destroy(struct series_cache **cache)
{
    if (!cache || !*cache)
        return;
    struct series_cache *c = *cache;
    series_cache_clear(c);
    free(c->units);
    wp_index_free(&c->by_code);
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
    if (!WP_ARRAY_RESERVE(*points, *cap, *n + 1))
            return false;
    struct rule_point *p = &(*points)[(*n)++];
    snprintf(p->period, sizeof p->period, "%s", period);
    p->first_day = first;
    p->last_day = first + days - 1;
    p->value = value;
    return true;
}

struct series_load {
    struct rule_point **points;
    size_t *n, cap;
};

static enum wp_err series_load_point(void *ctx, const char *period, int64_t value)
{
    struct series_load *l = ctx;
    return series_push(l->points, l->n, &l->cap, period, value) ? WP_OK : WP_ERR_NOMEM;
}

static enum wp_err series_load_ward(struct series_cache *c, const char *ward,
                                    const char *indicator, struct rule_point **points,
                                    size_t *n)
{
    struct series_load l = {points, n, 0};
    enum wp_err err = store_each_value_of(c->store, ward, indicator, series_load_point, &l);
    if (err != WP_OK && err != WP_ERR_NOMEM)
        wp_log(WP_LOG_ERR, "series: %s", store_errmsg(c->store));
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
    struct series_entry *e = series_entry_find(series_unit_find(c, unit->code), indicator);
    if (e) {
        *out = &e->series;
        return WP_OK;
    }
    struct rule_point *points = NULL;
    size_t n = 0;
    /* (The district's load fills the cache with its wards' series first.) */
    enum wp_err err = unit == plan->district
                          ? series_load_district(c, plan, indicator, &points, &n)
                          : series_load_ward(c, unit->code, indicator, &points, &n);
    struct series_unit *u = err == WP_OK ? series_unit_add(c, unit->code) : NULL;
    if (err == WP_OK && (!u || !WP_ARRAY_RESERVE(u->entries, u->cap, u->count + 1)))
        err = WP_ERR_NOMEM;
    if (err == WP_OK && (e = calloc(1, sizeof *e)) && !(e->indicator = strdup(indicator))) {
        free(e);
        e = NULL;
    }
    if (err != WP_OK || !e) {
        free(points);
        return err != WP_OK ? err : WP_ERR_NOMEM;
    }
    e->hash = wp_index_hash_str(indicator);
    e->points = points;
    e->cap = n;
    e->series.points = points;
    e->series.count = n;
    u->entries[u->count++] = e;
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

/* See series.h. */
enum wp_err series_district_pair(struct series_cache *c, const struct plan *plan,
                                 const char *left, const char *right, struct rule_series *l,
                                 struct rule_series *r)
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

enum wp_err series_coverage_input(struct series_cache *c, const struct plan *plan,
                                  const struct plan_rule *rule, const struct plan_unit *unit,
                                  int64_t day, struct coverage_input *in)
{
    const struct plan_coverage *k = &rule->u.coverage;
    int64_t people = 0;
    enum wp_err err;
    *in = (struct coverage_input){NULL, 0, NULL, PLAN_DAY_NONE};
    if ((err = series_get(c, plan, unit, k->numerator, &in->numerator)) != WP_OK)
        return err;
    if (k->population && plan_population(plan, unit, k->population, &people))
        in->denominator = (double)people;
    if (k->denominator) {
        const struct rule_series *b;
        if ((err = series_get(c, plan, unit, k->denominator, &b)) != WP_OK)
            return err;
        in->denominator_series = b;
        /* The value in force on day, as for the numerator. */
        for (size_t i = 0; i < b->count && b->points[i].last_day <= day; i++)
            in->denominator = (double)b->points[i].value;
    }
    return WP_OK;
}

enum wp_err series_first_figure(struct series_cache *c, const struct plan *plan,
                                const struct plan_rule *rule, const struct plan_unit *unit,
                                int64_t *day)
{
    const struct rule_series *num;
    *day = PLAN_DAY_NONE;
    enum wp_err err = series_get(c, plan, unit, rule->u.coverage.numerator, &num);
    if (err == WP_OK && num->count > 0)
        *day = num->points[0].last_day;   /* ordered by last_day */
    return err;
}

enum wp_err series_coverage_days(struct series_cache *c, const struct plan *plan,
                                 const struct plan_rule *rule, const struct plan_unit *unit,
                                 int64_t first_day, int step, size_t count, bool *has,
                                 double *value)
{
    enum wp_err err = WP_OK;
    for (size_t k = 0; err == WP_OK && k < count; k++) {
        int64_t day = first_day + (int64_t)step * (int64_t)k;
        struct coverage_input in;
        if ((err = series_coverage_input(c, plan, rule, unit, day, &in)) == WP_OK)
            has[k] = rule_coverage_value(&in, day, &value[k]);
    }
    return err;
}
