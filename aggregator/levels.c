/* levels.c — weekly epidemic levels, kept and published (contract in levels.h). */
#include "levels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "array.h"
#include "calendar.h"
#include "clock.h"
#include "hash_index.h"
#include "log.h"
#include "report.h"
#include "store_levels.h"
#include "timefmt.h"
#include "topic.h"

#define LEVELS_RETRY_MS 60000   /* real ms before an unacknowledged publish is re-sent */

struct levels_inflight {
    int mid;
    char *scope;
    uint64_t scope_hash;    /* wp_index_hash_str(scope) */
    char *payload;
    int64_t sent_mono_ms;
};

/* What was last written for a (rule, scope, week): a level is evaluated again with every
 * report of its unit and at every midnight, and almost always comes out the same, so
 * only what changed is formatted and written. Open addressing; key 0 = empty. */
struct levels_seen {
    uint64_t key;
    uint64_t print;
};

struct levels {
    struct levels_seen *seen;
    size_t seen_count, seen_cap;
    struct store *store;
    char district[8];
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
    bool dirty;
    bool publish_incomplete;   /* levels_publish could not hand everything to the broker */
    struct levels_inflight *inflight;
    size_t inflight_count, inflight_cap;
    /* inflight by scope and by mid: a district of thousands of wards has a level in flight
     * for each, and each publish pass and each PUBACK looks one up. */
    struct wp_index inflight_by_scope, inflight_by_mid;
};

enum wp_err levels_create(struct store *store, const struct levels_options *opts,
                          struct levels **out)
{
    *out = NULL;
    struct levels *l = calloc(1, sizeof *l);
    if (!l)
        return WP_ERR_NOMEM;
    l->store = store;
    snprintf(l->district, sizeof l->district, "%s", opts->district);
    l->publish = opts->publish;
    l->publish_ctx = opts->publish_ctx;
    l->dirty = true;
    *out = l;
    return WP_OK;
}

/* The slot of key; NULL when the table cannot take it (then everything is written). */
static struct levels_seen *levels_seen_slot(struct levels *l, uint64_t key)
{
    if (2 * (l->seen_count + 1) > l->seen_cap) {
        size_t cap = l->seen_cap ? 2 * l->seen_cap : 1024;
        struct levels_seen *bigger = calloc(cap, sizeof *bigger);
        if (!bigger)
            return NULL;
        for (size_t i = 0; i < l->seen_cap; i++)
            if (l->seen[i].key) {
                size_t j = l->seen[i].key & (cap - 1);
                while (bigger[j].key)
                    j = (j + 1) & (cap - 1);
                bigger[j] = l->seen[i];
            }
        free(l->seen);
        l->seen = bigger;
        l->seen_cap = cap;
    }
    size_t j = key & (l->seen_cap - 1);
    while (l->seen[j].key && l->seen[j].key != key)
        j = (j + 1) & (l->seen_cap - 1);
    if (!l->seen[j].key) {
        l->seen[j].key = key;
        l->seen[j].print = 0;
        l->seen_count++;
    }
    return &l->seen[j];
}

/* Forgets the publish at i; the last one takes its place. */
static void levels_inflight_remove(struct levels *l, size_t i)
{
    struct levels_inflight *f = &l->inflight[i];
    size_t last = l->inflight_count - 1;
    wp_index_remove(&l->inflight_by_scope, f->scope_hash, i);
    wp_index_remove(&l->inflight_by_mid, wp_index_hash_int(f->mid), i);
    free(f->scope);
    free(f->payload);
    if (i != last) {
        *f = l->inflight[last];
        wp_index_move(&l->inflight_by_scope, f->scope_hash, last, i);
        wp_index_move(&l->inflight_by_mid, wp_index_hash_int(f->mid), last, i);
    }
    l->inflight_count = last;
}

void levels_destroy(struct levels **levels)
{
    if (!levels || !*levels)
        return;
    struct levels *l = *levels;
    while (l->inflight_count)
        levels_inflight_remove(l, 0);
    free(l->inflight);
    wp_index_free(&l->inflight_by_scope);
    wp_index_free(&l->inflight_by_mid);
    free(l->seen);
    free(l);
    *levels = NULL;
}

static char *levels_payload(const struct levels *l, const struct plan *plan,
                            const struct plan_rule *rule, const struct rule_unit *unit,
                            const struct level_week *w)
{
    char *text = NULL, since[40];
    /* The end of the week: the midnight after its Sunday, local time of the plan. */
    wp_datetime_format_local(wp_day_start_ms(w->monday + 7, plan->utc_offset_minutes),
                             since, sizeof since);
    cJSON *j = cJSON_CreateObject(), *rates = NULL;
    if (!j || !cJSON_AddNumberToObject(j, "v", 1)
        || !cJSON_AddStringToObject(j, "district", l->district)
        || !cJSON_AddStringToObject(j, "scope", unit->scope)
        || !cJSON_AddStringToObject(j, "name", unit->name_vi)
        || !cJSON_AddStringToObject(j, "week", w->week)
        || !cJSON_AddNumberToObject(j, "level", w->level)
        || !cJSON_AddStringToObject(j, "color", rule_level_color_en(w->level))
        || (w->previous > 0 && !cJSON_AddNumberToObject(j, "previous_level", w->previous))
        || !cJSON_AddBoolToObject(j, "complete", w->missing_days == 0)
        || (w->missing_days > 0 && !cJSON_AddNumberToObject(j, "missing_days", w->missing_days))
        || !cJSON_AddNumberToObject(j, "transmission_level", w->transmission)
        || !cJSON_AddStringToObject(j, "criteria", w->version->id)
        || !cJSON_AddStringToObject(j, "document", w->version->document)
        || !(rates = cJSON_AddObjectToObject(j, "rates")))
        goto cleanup;
    for (size_t c = 0; c < w->version->criterion_count && c < RULE_LEVEL_CRITERIA_MAX; c++)
        if (w->rates[c] >= 0
            && !cJSON_AddNumberToObject(rates, w->version->criteria[c].indicator,
                                        round(w->rates[c] * 100) / 100))
            goto cleanup;
    if (!cJSON_AddStringToObject(j, "rule", rule->id)
        || !cJSON_AddStringToObject(j, "since", since))
        goto cleanup;
    text = cJSON_PrintUnformatted(j);

cleanup:
    cJSON_Delete(j);
    return text;
}

enum wp_err levels_record(struct levels *l, const struct plan *plan,
                          const struct plan_rule *rule, const struct rule_unit *unit,
                          const struct level_week *weeks, size_t count)
{
    char *latest = NULL;
    enum wp_err rc = WP_OK;
    for (size_t i = 0; i < count && rc == WP_OK; i++) {
        const struct level_week *w = &weeks[i];
        uint64_t key = wp_fnv1a_str(wp_fnv1a_str(wp_fnv1a_str(
                           WP_FNV1A_OFFSET, rule->id), unit->scope), w->week);
        uint64_t print = wp_fnv1a_str(WP_FNV1A_OFFSET, w->version->id);
        print = wp_fnv1a(print, &w->level, sizeof w->level);
        print = wp_fnv1a(print, &w->previous, sizeof w->previous);
        print = wp_fnv1a(print, w->rates, sizeof w->rates);
        print = wp_fnv1a(print, &w->missing_days, sizeof w->missing_days);
        print = wp_fnv1a(print, &w->transmission, sizeof w->transmission);
        print |= 1;   /* never 0, the value of a slot never written */
        struct levels_seen *seen = levels_seen_slot(l, key ? key : 1);
        if (seen && seen->print == print)
            continue;   /* written already, and the latest published with it */
        if (seen)
            seen->print = print;
        char *payload = levels_payload(l, plan, rule, unit, w);
        if (!payload)
            return WP_ERR_NOMEM;
        rc = store_level_put_week(l->store, rule->id, unit->scope, w->week, w->level,
                                  w->version->id, payload);
        if (i + 1 == count)
            latest = payload;
        else
            free(payload);
    }
    if (rc == WP_OK && latest) {
        bool changed = false;
        rc = store_level_publish(l->store, rule->id, unit->scope, latest, &changed);
        if (changed)
            l->dirty = true;
    }
    if (rc != WP_OK)
        wp_log(WP_LOG_ERR, "levels: %s", store_errmsg(l->store));
    free(latest);
    return rc;
}

bool levels_publish_due(const struct levels *l)
{
    return l->dirty;
}

/* A publish in flight of (scope, payload) that is not yet due for a retry. */
struct levels_wanted {
    const char *scope, *payload;
    int64_t now_mono_ms;
};

static bool levels_inflight_is(const void *ctx, size_t pos, const void *key)
{
    const struct levels_inflight *f = &((const struct levels *)ctx)->inflight[pos];
    const struct levels_wanted *w = key;
    return strcmp(f->scope, w->scope) == 0 && strcmp(f->payload, w->payload) == 0
           && w->now_mono_ms - f->sent_mono_ms < LEVELS_RETRY_MS;
}

static bool levels_inflight_has_mid(const void *ctx, size_t pos, const void *mid)
{
    return ((const struct levels *)ctx)->inflight[pos].mid == *(const int *)mid;
}

static void levels_publish_one(void *ctx, const char *scope, const char *payload,
                               bool announced)
{
    struct levels *l = ctx;
    (void)announced;
    uint64_t scope_hash = wp_index_hash_str(scope);
    struct levels_wanted wanted = {scope, payload, wp_monotonic_ms()};
    if (wp_index_find(&l->inflight_by_scope, scope_hash, levels_inflight_is, l, &wanted)
        != WP_INDEX_NONE)
        return;   /* on its way */
    char topic[WP_TOPIC_MAX];
    int mid = 0;
    snprintf(topic, sizeof topic, WP_TOPIC_ROOT "level/%s/%s", l->district, scope);
    if (!l->publish(l->publish_ctx, &mid, topic, payload, strlen(payload), true)) {
        l->publish_incomplete = true;
        return;
    }
    size_t pos = l->inflight_count;
    if (!WP_ARRAY_RESERVE(l->inflight, l->inflight_cap, pos + 1))
            return;
    struct levels_inflight *f = &l->inflight[pos];
    f->mid = mid;
    f->scope = strdup(scope);
    f->scope_hash = scope_hash;
    f->payload = strdup(payload);
    f->sent_mono_ms = wp_monotonic_ms();
    bool by_scope = false;
    if (f->scope && f->payload
        && (by_scope = wp_index_add(&l->inflight_by_scope, scope_hash, pos))
        && wp_index_add(&l->inflight_by_mid, wp_index_hash_int(mid), pos)) {
        l->inflight_count++;
        return;
    }
    /* Out of memory: not remembered, so sent again at the next pass. */
    if (by_scope)
        wp_index_remove(&l->inflight_by_scope, scope_hash, pos);
    free(f->scope);
    free(f->payload);
}

void levels_publish(struct levels *l)
{
    l->publish_incomplete = false;
    if (store_level_each_published(l->store, true, levels_publish_one, l) != WP_OK) {
        wp_log(WP_LOG_ERR, "levels: %s", store_errmsg(l->store));
        l->publish_incomplete = true;
    }
    l->dirty = l->publish_incomplete || l->inflight_count > 0;
}

void levels_on_puback(struct levels *l, int mid)
{
    size_t i = wp_index_find(&l->inflight_by_mid, wp_index_hash_int(mid),
                             levels_inflight_has_mid, l, &mid);
    if (i == WP_INDEX_NONE)
        return;
    if (store_level_announced(l->store, l->inflight[i].scope, l->inflight[i].payload)
        != WP_OK)
        wp_log(WP_LOG_ERR, "levels: %s", store_errmsg(l->store));
    levels_inflight_remove(l, i);
}

struct levels_retained {
    struct levels *levels;
    void (*fn)(void *ctx, const char *topic, const char *payload, bool settled);
    void *ctx;
};

static void levels_retained_one(void *ctx, const char *scope, const char *payload,
                                bool announced)
{
    struct levels_retained *r = ctx;
    char topic[WP_TOPIC_MAX];
    if (snprintf(topic, sizeof topic, WP_TOPIC_ROOT "level/%s/%s", r->levels->district, scope)
        >= (int)sizeof topic)
        return;
    r->fn(r->ctx, topic, payload, announced);
}

enum wp_err levels_each_retained(struct levels *l,
                                 void (*fn)(void *ctx, const char *topic, const char *payload,
                                            bool settled),
                                 void *ctx)
{
    struct levels_retained r = {l, fn, ctx};
    enum wp_err rc = store_level_each_published(l->store, false, levels_retained_one, &r);
    if (rc != WP_OK)
        wp_log(WP_LOG_ERR, "levels: listing published levels: %s", store_errmsg(l->store));
    return rc;
}

void levels_on_connect(struct levels *l)
{
    l->dirty = true;
}

void levels_rollback(struct levels *l)
{
    l->dirty = true;
    /* What was "written" may have been rolled back: write everything again. */
    if (l->seen)
        memset(l->seen, 0, l->seen_cap * sizeof *l->seen);
    l->seen_count = 0;
}
