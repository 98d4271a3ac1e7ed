/* summary.c — each unit as `wardpulse status` shows it (summary.h). */
#include "calendar.h"
#include "summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "series.h"
#include "timefmt.h"

static struct summary_unit *summary_add(struct summary *s, const char *code,
                                        const char *name_vi, const char *name_en)
{
    struct summary_unit *more = realloc(s->units, (s->unit_count + 1) * sizeof *more);
    if (!more)
        return NULL;
    s->units = more;
    struct summary_unit *u = &s->units[s->unit_count++];
    memset(u, 0, sizeof *u);
    snprintf(u->code, sizeof u->code, "%s", code);
    u->name_vi = name_vi;
    u->name_en = name_en;
    return u;
}

static int summary_add_known(void *ctx, const char *unit)
{
    return summary_add(ctx, unit, NULL, NULL) ? 0 : 1;
}

/* The row of a scope or unit code: the served unit's for "district" ("city" at a city
 * aggregator) and for its own code, else a reporting unit's; NULL when it has none. */
static struct summary_unit *summary_scope(struct summary *s, const char *scope)
{
    if (strcmp(scope, "district") == 0 || strcmp(scope, "city") == 0)
        return &s->units[s->unit_count - 1];
    for (size_t i = 0; i < s->unit_count; i++)
        if (strcmp(s->units[i].code, scope) == 0)
            return &s->units[i];
    return NULL;
}

static int summary_take_last(void *ctx, const char *unit, int64_t received_ms)
{
    struct summary_unit *u = summary_scope(ctx, unit);
    if (u)
        u->last_report_ms = received_ms;
    return 0;
}

static int summary_take_rates(void *ctx, const char *unit, const struct store_rates *rates)
{
    struct summary_unit *u = summary_scope(ctx, unit);
    if (u)
        u->rates = *rates;
    return 0;
}

static int summary_take_level(void *ctx, const struct store_level_last *last)
{
    struct summary *s = ctx;
    struct summary_unit *u = summary_scope(s, last->scope);
    if (!u)
        return 0;
    if (last->level > u->level) {
        u->level = last->level;
        snprintf(u->level_week, sizeof u->level_week, "%s", last->week);
        u->level_incomplete = last->incomplete;
    }
    const char *name = last->name;
    /* Without a plan, the level's payload is where the unit's name is. */
    size_t i = (size_t)(u - s->units);
    if (!u->name_vi && s->names && name && !s->names[i]) {
        if (!(s->names[i] = strdup(name)))
            return 1;
        u->name_vi = u->name_en = s->names[i];
    }
    return 0;
}

static int summary_take_alerts(void *ctx, const char *scope, int firing, int critical)
{
    struct summary_unit *u = summary_scope(ctx, scope);
    if (u) {
        u->firing = firing;
        u->critical = critical;
    }
    return 0;
}

/* The units, the served one last. */
static enum wp_err summary_units(struct summary *s, struct store *store,
                                 const struct plan *plan, const char *served_code)
{
    if (plan) {
        for (size_t i = 0; i < plan->ward_count; i++)
            if (!summary_add(s, plan->wards[i]->code, plan->wards[i]->name_vi,
                             plan->wards[i]->name_en))
                return WP_ERR_NOMEM;
        return summary_add(s, plan->district->code, plan->district->name_vi,
                           plan->district->name_en) ? WP_OK : WP_ERR_NOMEM;
    }
    enum wp_err err = store_read_units(store, summary_add_known, s);
    if (err != WP_OK)
        return err;
    struct summary_unit *served = summary_add(s, served_code ? served_code : "", NULL, NULL);
    if (!served)
        return WP_ERR_NOMEM;
    if (!served->code[0])
        store_read_served_code(store, served->code, sizeof served->code);
    if (!(s->names = calloc(s->unit_count, sizeof *s->names)))
        return WP_ERR_NOMEM;
    return WP_OK;
}

/* Coverage as the rules compute it (series.h, rules.h): the value an alert carries. */
static enum wp_err summary_coverage(struct summary *s, struct store *store,
                                    const struct plan *plan, int64_t today)
{
    for (size_t i = 0; i < plan->rule_count && s->target_count < SUMMARY_TARGETS_MAX; i++)
        if (plan->rules[i].kind == PLAN_RULE_COVERAGE)
            s->targets[s->target_count++] = &plan->rules[i];
    struct series_cache *cache = NULL;
    enum wp_err err = series_cache_create(store, &cache);
    for (size_t t = 0; err == WP_OK && t < s->target_count; t++)
        for (size_t i = 0; err == WP_OK && i < s->unit_count; i++) {
            struct summary_unit *u = &s->units[i];
            const struct plan_unit *unit = i + 1 < s->unit_count ? plan->wards[i]
                                                                 : plan->district;
            err = series_coverage_days(cache, plan, s->targets[t], unit, today, 1, 1,
                                       &u->has_coverage[t], &u->coverage[t]);
        }
    series_cache_destroy(&cache);
    return err;
}

enum wp_err summary_build(struct store *store, const struct plan *plan, const char *served_code,
                          int64_t now_ms, struct summary **out)
{
    *out = NULL;
    struct summary *s = calloc(1, sizeof *s);
    if (!s)
        return WP_ERR_NOMEM;
    int offset = plan ? plan->utc_offset_minutes : WP_LOCAL_OFFSET_MIN;
    int64_t today = wp_local_day_at(now_ms, offset);
    s->at_ms = now_ms;
    s->today = today;
    char week[16];
    wp_isoweek_format(today, week, sizeof week, NULL);   /* the levels before it: complete weeks */
    enum wp_err err = summary_units(s, store, plan, served_code);
    if (err == WP_OK)
        err = store_read_last_reports(store, summary_take_last, s);
    if (err == WP_OK)
        err = store_read_rates(store, NULL, NULL, NULL, summary_take_rates, s);
    if (err == WP_OK)
        err = store_read_last_levels(store, week, summary_take_level, s);
    if (err == WP_OK)
        err = store_read_firing_counts(store, summary_take_alerts, s);
    if (err == WP_OK) {
        /* The served unit's reporting: its units added up. */
        struct summary_unit *served = &s->units[s->unit_count - 1];
        for (size_t i = 0; i + 1 < s->unit_count; i++) {
            const struct summary_unit *u = &s->units[i];
            if (u->last_report_ms > served->last_report_ms)
                served->last_report_ms = u->last_report_ms;
            served->rates.expected += u->rates.expected;
            served->rates.received += u->rates.received;
            served->rates.on_time += u->rates.on_time;
        }
    }
    if (err == WP_OK && plan)
        err = summary_coverage(s, store, plan, today);
    if (err != WP_OK) {
        summary_free(&s);
        return err;
    }
    *out = s;
    return WP_OK;
}

void summary_free(struct summary **summary)
{
    if (!summary || !*summary)
        return;
    struct summary *s = *summary;
    for (size_t i = 0; s->names && i < s->unit_count; i++)
        free(s->names[i]);
    free(s->names);
    free(s->units);
    free(s);
    *summary = NULL;
}
