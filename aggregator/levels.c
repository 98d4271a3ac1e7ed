/* levels.c — weekly epidemic levels, kept and published (contract in levels.h). */
#include "levels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "array.h"
#include "calendar.h"
#include "clock.h"
#include "log.h"
#include "timefmt.h"
#include "topic.h"

#define LEVELS_RETRY_MS 60000   /* real ms before an unacknowledged publish is re-sent */

enum levels_stmt { LSTMT_WEEK, LSTMT_GET, LSTMT_SET, LSTMT_PENDING, LSTMT_ANNOUNCED,
                   LSTMT_RETAINED, LSTMT_COUNT };

static const char *const levels_sql[LSTMT_COUNT] = {
    [LSTMT_WEEK] = "INSERT INTO levels (rule, scope, week, level, version, payload) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (rule, scope, week) DO UPDATE "
                   "SET level = excluded.level, version = excluded.version, "
                   "payload = excluded.payload",
    [LSTMT_GET] = "SELECT payload FROM level_published WHERE rule = ?1 AND scope = ?2",
    [LSTMT_SET] = "INSERT INTO level_published (rule, scope, payload, announced) "
                  "VALUES (?1, ?2, ?3, 0) ON CONFLICT (rule, scope) DO UPDATE "
                  "SET payload = excluded.payload, announced = 0",
    [LSTMT_PENDING] = "SELECT scope, payload FROM level_published WHERE announced = 0",
    [LSTMT_ANNOUNCED] = "UPDATE level_published SET announced = 1 "
                        "WHERE scope = ?1 AND payload = ?2",
    [LSTMT_RETAINED] = "SELECT scope, payload, announced FROM level_published",
};

struct levels_inflight {
    int mid;
    char *scope;
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
    sqlite3 *db;
    sqlite3_stmt *stmt[LSTMT_COUNT];
    char district[8];
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
    bool dirty;
    struct levels_inflight *inflight;
    size_t inflight_count, inflight_cap;
};

static sqlite3_stmt *levels_stmt(struct levels *l, enum levels_stmt which)
{
    sqlite3_reset(l->stmt[which]);
    sqlite3_clear_bindings(l->stmt[which]);
    return l->stmt[which];
}

enum wp_err levels_create(struct store *store, const struct levels_options *opts,
                          struct levels **out)
{
    *out = NULL;
    struct levels *l = calloc(1, sizeof *l);
    if (!l)
        return WP_ERR_NOMEM;
    l->db = store_db(store);
    snprintf(l->district, sizeof l->district, "%s", opts->district);
    l->publish = opts->publish;
    l->publish_ctx = opts->publish_ctx;
    l->dirty = true;
    for (int i = 0; i < LSTMT_COUNT; i++)
        if (sqlite3_prepare_v3(l->db, levels_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &l->stmt[i], NULL) != SQLITE_OK) {
            wp_log(WP_LOG_ERR, "levels: preparing a statement: %s", sqlite3_errmsg(l->db));
            levels_destroy(&l);
            return WP_ERR_DB;
        }
    *out = l;
    return WP_OK;
}

static uint64_t levels_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);   /* FNV-1a */
    return h;
}

static uint64_t levels_hash_str(uint64_t h, const char *s)
{
    return levels_hash(h, s, strlen(s) + 1);
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

static void levels_inflight_remove(struct levels *l, size_t i)
{
    free(l->inflight[i].scope);
    free(l->inflight[i].payload);
    l->inflight[i] = l->inflight[--l->inflight_count];
}

void levels_destroy(struct levels **levels)
{
    if (!levels || !*levels)
        return;
    struct levels *l = *levels;
    for (int i = 0; i < LSTMT_COUNT; i++)
        sqlite3_finalize(l->stmt[i]);
    while (l->inflight_count)
        levels_inflight_remove(l, 0);
    free(l->inflight);
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
        uint64_t key = levels_hash_str(levels_hash_str(levels_hash_str(
                           UINT64_C(14695981039346656037), rule->id), unit->scope), w->week);
        uint64_t print = levels_hash_str(UINT64_C(14695981039346656037), w->version->id);
        print = levels_hash(print, &w->level, sizeof w->level);
        print = levels_hash(print, &w->previous, sizeof w->previous);
        print = levels_hash(print, w->rates, sizeof w->rates);
        print = levels_hash(print, &w->missing_days, sizeof w->missing_days);
        print = levels_hash(print, &w->transmission, sizeof w->transmission);
        print |= 1;   /* never 0, the value of a slot never written */
        struct levels_seen *seen = levels_seen_slot(l, key ? key : 1);
        if (seen && seen->print == print)
            continue;   /* written already, and the latest published with it */
        if (seen)
            seen->print = print;
        char *payload = levels_payload(l, plan, rule, unit, w);
        if (!payload)
            return WP_ERR_NOMEM;
        sqlite3_stmt *stmt = levels_stmt(l, LSTMT_WEEK);
        sqlite3_bind_text(stmt, 1, rule->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, unit->scope, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, weeks[i].week, -1, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 4, weeks[i].level);
        sqlite3_bind_text(stmt, 5, weeks[i].version->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 6, payload, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            rc = WP_ERR_DB;
        sqlite3_reset(stmt);
        if (i + 1 == count)
            latest = payload;
        else
            free(payload);
    }
    if (rc == WP_OK && latest) {
        sqlite3_stmt *stmt = levels_stmt(l, LSTMT_GET);
        sqlite3_bind_text(stmt, 1, rule->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, unit->scope, -1, SQLITE_STATIC);
        bool same = sqlite3_step(stmt) == SQLITE_ROW
                    && strcmp((const char *)sqlite3_column_text(stmt, 0), latest) == 0;
        sqlite3_reset(stmt);
        if (!same) {
            stmt = levels_stmt(l, LSTMT_SET);
            sqlite3_bind_text(stmt, 1, rule->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(stmt, 2, unit->scope, -1, SQLITE_STATIC);
            sqlite3_bind_text(stmt, 3, latest, -1, SQLITE_STATIC);
            if (sqlite3_step(stmt) != SQLITE_DONE)
                rc = WP_ERR_DB;
            sqlite3_reset(stmt);
            l->dirty = true;
        }
    }
    if (rc != WP_OK)
        wp_log(WP_LOG_ERR, "levels: %s", sqlite3_errmsg(l->db));
    free(latest);
    return rc;
}

bool levels_publish_due(const struct levels *l)
{
    return l->dirty;
}

void levels_publish(struct levels *l)
{
    bool complete = true;
    sqlite3_stmt *stmt = levels_stmt(l, LSTMT_PENDING);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *scope = (const char *)sqlite3_column_text(stmt, 0);
        const char *payload = (const char *)sqlite3_column_text(stmt, 1);
        bool on_its_way = false;
        for (size_t i = 0; i < l->inflight_count; i++)
            if (strcmp(l->inflight[i].scope, scope) == 0
                && strcmp(l->inflight[i].payload, payload) == 0
                && wp_monotonic_ms() - l->inflight[i].sent_mono_ms < LEVELS_RETRY_MS)
                on_its_way = true;
        if (on_its_way)
            continue;
        char topic[WP_TOPIC_MAX];
        int mid = 0;
        snprintf(topic, sizeof topic, WP_TOPIC_ROOT "level/%s/%s", l->district, scope);
        if (!l->publish(l->publish_ctx, &mid, topic, payload, strlen(payload), true)) {
            complete = false;
            continue;
        }
        if (!WP_ARRAY_RESERVE(l->inflight, l->inflight_cap, l->inflight_count + 1))
            continue;
        struct levels_inflight *f = &l->inflight[l->inflight_count];
        f->mid = mid;
        f->scope = strdup(scope);
        f->payload = strdup(payload);
        f->sent_mono_ms = wp_monotonic_ms();
        if (f->scope && f->payload)
            l->inflight_count++;
        else {
            free(f->scope);
            free(f->payload);
        }
    }
    sqlite3_reset(stmt);
    l->dirty = !complete || l->inflight_count > 0;
}

void levels_on_puback(struct levels *l, int mid)
{
    for (size_t i = 0; i < l->inflight_count; i++) {
        if (l->inflight[i].mid != mid)
            continue;
        sqlite3_stmt *stmt = levels_stmt(l, LSTMT_ANNOUNCED);
        sqlite3_bind_text(stmt, 1, l->inflight[i].scope, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, l->inflight[i].payload, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE)
            wp_log(WP_LOG_ERR, "levels: %s", sqlite3_errmsg(l->db));
        sqlite3_reset(stmt);
        levels_inflight_remove(l, i);
        return;
    }
}

enum wp_err levels_each_retained(struct levels *l,
                                 void (*fn)(void *ctx, const char *topic, const char *payload,
                                            bool settled),
                                 void *ctx)
{
    sqlite3_stmt *stmt = levels_stmt(l, LSTMT_RETAINED);
    int src;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *scope = (const char *)sqlite3_column_text(stmt, 0);
        char topic[WP_TOPIC_MAX];
        if (snprintf(topic, sizeof topic, WP_TOPIC_ROOT "level/%s/%s", l->district, scope)
            >= (int)sizeof topic)
            continue;
        fn(ctx, topic, (const char *)sqlite3_column_text(stmt, 1),
           sqlite3_column_int(stmt, 2) != 0);
    }
    sqlite3_reset(stmt);
    if (src != SQLITE_DONE) {
        wp_log(WP_LOG_ERR, "levels: listing published levels: %s", sqlite3_errmsg(l->db));
        return WP_ERR_DB;
    }
    return WP_OK;
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
