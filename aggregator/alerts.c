/* alerts.c — alert state machine and persistence (contract in alerts.h; the
 * announcement over MQTT is in alerts_publish.c). */
#include "alerts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "alerts_private.h"
#include "array.h"
#include "log.h"
#include "timefmt.h"


static const char *const alerts_sql[ASTMT_COUNT] = {
    [ASTMT_GET] = "SELECT state, since_ms, payload, rev FROM alerts "
                  "WHERE rule = ?1 AND scope = ?2",
    [ASTMT_INSERT] = "INSERT INTO alerts (rule, scope, state, since_ms, payload, payload_state, "
                     "rev, event_rev, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
    /* ?6 = 1: the change is a transition, announced on events/alert too. */
    [ASTMT_UPDATE] = "UPDATE alerts SET state = ?3, since_ms = ?4, payload = ?5, "
                     "payload_state = ?6, rev = rev + 1, "
                     "event_rev = CASE WHEN ?7 THEN rev + 1 ELSE event_rev END, updated_ms = ?8 "
                     "WHERE rule = ?1 AND scope = ?2",
    [ASTMT_SET_STATE] = "UPDATE alerts SET state = ?3, updated_ms = ?4 "
                        "WHERE rule = ?1 AND scope = ?2",
    [ASTMT_EVENT] = "INSERT INTO alert_events (rule, scope, state, severity, at_ms, at, payload) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ASTMT_UNANNOUNCED] = "SELECT rule, scope, payload, payload_state, rev, event_rev, "
                          "announced_rev FROM alerts WHERE announced_rev < rev",
    [ASTMT_ANNOUNCED] = "UPDATE alerts SET announced_rev = ?3, "
                        "announced_ms = CASE WHEN ?4 THEN ?5 ELSE announced_ms END "
                        "WHERE rule = ?1 AND scope = ?2 AND announced_rev < ?3",
    [ASTMT_REPEATS] = "SELECT rule, scope, payload FROM alerts WHERE state = 'firing' "
                      "AND payload_state = 'firing' AND announced_rev = rev "
                      "AND announced_ms <= ?1",
    [ASTMT_REPEATED] = "UPDATE alerts SET announced_ms = ?3 WHERE rule = ?1 AND scope = ?2",
    [ASTMT_NEXT_REPEAT] = "SELECT MIN(announced_ms) FROM alerts WHERE state = 'firing' "
                          "AND payload_state = 'firing' AND announced_rev = rev",
    [ASTMT_ACTIVE] = "SELECT rule, scope, state, payload FROM alerts WHERE state <> 'resolved'",
    [ASTMT_FIRING_COUNT] = "SELECT COUNT(*) FROM alerts WHERE state = 'firing'",
    [ASTMT_RETAINED] = "SELECT rule, scope, payload, payload_state, announced_rev = rev "
                       "FROM alerts",
};

sqlite3_stmt *alerts_stmt(struct alerts *a, enum alerts_stmt which)
{
    sqlite3_stmt *stmt = a->stmt[which];
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return stmt;
}

enum wp_err alerts_step_done(struct alerts *a, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_DONE)
        return WP_OK;
    wp_log(WP_LOG_ERR, "alerts: %s: %s", what, sqlite3_errmsg(a->db));
    return (rc & 0xff) == SQLITE_FULL ? WP_ERR_FULL : WP_ERR_DB;
}

enum wp_err alerts_create(struct store *store, const struct alerts_options *opts,
                          struct alerts **out)
{
    *out = NULL;
    struct alerts *a = calloc(1, sizeof *a);
    if (!a)
        return WP_ERR_NOMEM;
    a->store = store;
    a->db = store_db(store);
    snprintf(a->district, sizeof a->district, "%s", opts->district);
    a->repeat_ms = opts->repeat_ms;
    a->publish = opts->publish;
    a->publish_ctx = opts->publish_ctx;
    a->dirty = true;            /* what the last run recorded but never got acknowledged */
    a->next_repeat_ms = 0;
    if (opts->command && !(a->command = strdup(opts->command))) {
        alerts_destroy(&a);
        return WP_ERR_NOMEM;
    }
    for (int i = 0; i < ASTMT_COUNT; i++)
        if (sqlite3_prepare_v3(a->db, alerts_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &a->stmt[i], NULL) != SQLITE_OK) {
            wp_log(WP_LOG_ERR, "alerts: preparing a statement: %s", sqlite3_errmsg(a->db));
            alerts_destroy(&a);
            return WP_ERR_DB;
        }
    *out = a;
    return WP_OK;
}

static void alerts_sweep_clear(struct alerts *a)
{
    for (size_t i = 0; i < a->swept_count; i++)
        free(a->swept[i]);
    a->swept_count = 0;
    a->sweeping = false;
}

void alerts_destroy(struct alerts **alerts)
{
    if (!alerts || !*alerts)
        return;
    struct alerts *a = *alerts;
    for (int i = 0; i < ASTMT_COUNT; i++)
        sqlite3_finalize(a->stmt[i]);
    for (size_t i = 0; i < a->inflight_count; i++)
        free(a->inflight[i].key);
    free(a->inflight);
    alerts_sweep_clear(a);
    free(a->swept);
    free(a->command);
    free(a);
    *alerts = NULL;
}

static const char *alerts_kind(enum plan_rule_kind kind)
{
    static const char *const kinds[] = {"coverage", "report_missing", "task_overdue",
                                        "data_quality", "level", "reports_lost",
                                        "target_missed", "announcement"};
    return kinds[kind];
}

/* The alert JSON of schemas/alert.schema.json (caller frees). */
static char *alerts_payload(const struct alerts *a, const struct plan_rule *rule,
                            const char *scope, const struct rule_outcome *o,
                            const char *state, int64_t since_ms)
{
    char since[40], deadline[16];
    char *text = NULL;
    wp_datetime_format_local(since_ms, since, sizeof since);
    cJSON *j = cJSON_CreateObject(), *summary = NULL;
    if (!j || !cJSON_AddNumberToObject(j, "v", 1)
        || !cJSON_AddStringToObject(j, "rule", rule->id)
        || !cJSON_AddStringToObject(j, "kind", alerts_kind(rule->kind))
        || !cJSON_AddStringToObject(j, "scope", scope)
        || !cJSON_AddStringToObject(j, "district", a->district)
        || !cJSON_AddStringToObject(j, "severity", plan_severity_name(o->severity))
        || !cJSON_AddStringToObject(j, "state", state)
        || !cJSON_AddStringToObject(j, "since", since))
        goto cleanup;
    /* Four decimals: a ratio to 0.01 %, and no 0.71000000000000008 in a payload. */
    if (o->has_value && !cJSON_AddNumberToObject(j, "value", round(o->value * 1e4) / 1e4))
        goto cleanup;
    if (o->has_target && !cJSON_AddNumberToObject(j, "target", round(o->target * 1e4) / 1e4))
        goto cleanup;
    if (o->deadline_day != PLAN_DAY_NONE) {
        wp_date_format(o->deadline_day, deadline, sizeof deadline);
        if (!cJSON_AddStringToObject(j, "deadline", deadline))
            goto cleanup;
    }
    if (!(summary = cJSON_AddObjectToObject(j, "summary"))
        || !cJSON_AddStringToObject(summary, "vi", o->vi.len ? o->vi.buf : rule->name.vi)
        || !cJSON_AddStringToObject(summary, "en", o->en.len ? o->en.buf : rule->name.en)
        || !cJSON_AddStringToObject(j, "source", rule->source))
        goto cleanup;
    text = cJSON_PrintUnformatted(j);

cleanup:
    cJSON_Delete(j);
    return text;
}

/* The resolved form of a firing payload: state, since, and the summary (the outcome's
 * when it says how it got resolved, else the old one prefixed: "Đã khắc phục: …", or
 * "Không còn theo dõi: …" when o is NULL). Caller frees. */
static char *alerts_resolved_payload(const char *firing, const struct rule_outcome *o,
                                     int64_t since_ms)
{
    char since[40], vi[TEXT_MAX + 64], en[TEXT_MAX + 64];
    char *text = NULL;
    cJSON *j = cJSON_Parse(firing);
    cJSON *summary = cJSON_GetObjectItemCaseSensitive(j, "summary");
    const char *old_vi = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "vi"));
    const char *old_en = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "en"));
    if (!j || !old_vi || !old_en)
        goto cleanup;
    wp_datetime_format_local(since_ms, since, sizeof since);
    if (o && o->vi.len && o->en.len) {
        snprintf(vi, sizeof vi, "%s", o->vi.buf);
        snprintf(en, sizeof en, "%s", o->en.buf);
    } else if (o) {
        snprintf(vi, sizeof vi, "Đã khắc phục: %s", old_vi);
        snprintf(en, sizeof en, "Resolved: %s", old_en);
    } else {
        /* Not remedied: the rule left the plan, or no longer applies to the unit. */
        snprintf(vi, sizeof vi, "Không còn theo dõi: %s", old_vi);
        snprintf(en, sizeof en, "No longer tracked: %s", old_en);
    }
    /* The schema's limit is in characters; a cut here is rare and only in the prefix
     * case, so cutting bytes at a character boundary is enough. */
    struct text cut_vi, cut_en;
    text_clear(&cut_vi);
    text_clear(&cut_en);
    text_append(&cut_vi, "%s", vi);
    text_append(&cut_en, "%s", en);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "state");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "since");
    if (!cJSON_ReplaceItemInObjectCaseSensitive(summary, "vi", cJSON_CreateString(cut_vi.buf))
        || !cJSON_ReplaceItemInObjectCaseSensitive(summary, "en", cJSON_CreateString(cut_en.buf))
        || !cJSON_AddStringToObject(j, "state", "resolved")
        || !cJSON_AddStringToObject(j, "since", since))
        goto cleanup;
    if (o && o->has_value) {
        cJSON_DeleteItemFromObjectCaseSensitive(j, "value");
        if (!cJSON_AddNumberToObject(j, "value", round(o->value * 1e4) / 1e4))
            goto cleanup;
    }
    text = cJSON_PrintUnformatted(j);

cleanup:
    cJSON_Delete(j);
    return text;
}

static enum wp_err alerts_event(struct alerts *a, const char *rule, const char *scope,
                                const char *state, const char *payload, int64_t now_ms)
{
    char at[40];
    cJSON *j = cJSON_Parse(payload);
    const char *severity = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "severity"));
    wp_datetime_format_local(now_ms, at, sizeof at);
    sqlite3_stmt *stmt = alerts_stmt(a, ASTMT_EVENT);
    sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, severity ? severity : "info", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 5, now_ms);
    sqlite3_bind_text(stmt, 6, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 7, payload, -1, SQLITE_STATIC);
    enum wp_err rc = alerts_step_done(a, stmt, "recording an alert event");
    cJSON_Delete(j);
    return rc;
}

/* Writes a new announceable state: payload with its state, a transition or not. */
static enum wp_err alerts_write(struct alerts *a, const char *rule, const char *scope,
                                bool exists, const char *state, int64_t since_ms,
                                const char *payload, const char *payload_state,
                                bool transition, int64_t now_ms)
{
    sqlite3_stmt *stmt = alerts_stmt(a, exists ? ASTMT_UPDATE : ASTMT_INSERT);
    sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, since_ms);
    if (payload)
        sqlite3_bind_text(stmt, 5, payload, -1, SQLITE_STATIC);
    if (payload_state)
        sqlite3_bind_text(stmt, 6, payload_state, -1, SQLITE_STATIC);
    if (exists) {
        sqlite3_bind_int(stmt, 7, transition);
    } else {
        sqlite3_bind_int64(stmt, 7, payload ? 1 : 0);
    }
    sqlite3_bind_int64(stmt, 8, now_ms);
    enum wp_err rc = alerts_step_done(a, stmt, "writing an alert");
    if (rc == WP_OK && payload)
        a->dirty = true;
    if (rc == WP_OK && transition && payload)
        rc = alerts_event(a, rule, scope, payload_state, payload, now_ms);
    return rc;
}

static enum wp_err alerts_set_state(struct alerts *a, const char *rule, const char *scope,
                                    const char *state, int64_t now_ms)
{
    sqlite3_stmt *stmt = alerts_stmt(a, ASTMT_SET_STATE);
    sqlite3_bind_text(stmt, 1, rule, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, now_ms);
    return alerts_step_done(a, stmt, "setting an alert state");
}

/* firing → resolved at at_ms, announced. o may be NULL (the rule is gone). */
static enum wp_err alerts_resolve(struct alerts *a, const char *rule, const char *scope,
                                  const char *firing_payload, const struct rule_outcome *o,
                                  const char *next_state, int64_t at_ms, int64_t now_ms)
{
    char *payload = alerts_resolved_payload(firing_payload, o, at_ms);
    if (!payload)
        return WP_ERR_NOMEM;
    enum wp_err rc = alerts_write(a, rule, scope, true, next_state, at_ms, payload, "resolved",
                                  true, now_ms);
    wp_log(WP_LOG_NOTICE, "alert resolved: %s %s", rule, scope);
    free(payload);
    return rc;
}

static void alerts_sweep_note(struct alerts *a, const char *rule, const char *scope)
{
    if (!a->sweeping)
        return;
    if (!WP_ARRAY_RESERVE(a->swept, a->swept_cap, a->swept_count + 1))
        return;   /* then sweep_end may resolve too much: it checks for this */
    size_t n = strlen(rule) + strlen(scope) + 2;
    char *key = malloc(n);
    if (!key)
        return;
    snprintf(key, n, "%s\t%s", rule, scope);
    a->swept[a->swept_count++] = key;
}

enum wp_err alerts_record(struct alerts *a, const struct plan_rule *rule, const char *scope,
                          const struct rule_outcome *o, int64_t now_ms, int64_t event_ms)
{
    int64_t at_ms = event_ms > 0 && event_ms <= now_ms ? event_ms : now_ms;
    alerts_sweep_note(a, rule->id, scope);
    sqlite3_stmt *stmt = alerts_stmt(a, ASTMT_GET);
    sqlite3_bind_text(stmt, 1, rule->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, scope, -1, SQLITE_STATIC);
    int src = sqlite3_step(stmt);
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        wp_log(WP_LOG_ERR, "alerts: reading %s %s: %s", rule->id, scope, sqlite3_errmsg(a->db));
        sqlite3_reset(stmt);
        return WP_ERR_DB;
    }
    bool exists = src == SQLITE_ROW;
    char state[16] = "";
    int64_t since_ms = 0;
    char *old = NULL;
    if (exists) {
        snprintf(state, sizeof state, "%s", (const char *)sqlite3_column_text(stmt, 0));
        since_ms = sqlite3_column_int64(stmt, 1);
        const char *p = (const char *)sqlite3_column_text(stmt, 2);
        if (p && !(old = strdup(p))) {
            sqlite3_reset(stmt);
            return WP_ERR_NOMEM;
        }
    }
    sqlite3_reset(stmt);

    enum wp_err rc = WP_OK;
    bool firing = exists && strcmp(state, "firing") == 0;
    if (o->state != RULE_FIRING) {
        const char *next = o->state == RULE_PENDING ? "pending" : "resolved";
        if (firing)
            rc = alerts_resolve(a, rule->id, scope, old, o, next, at_ms, now_ms);
        else if (exists && strcmp(state, next) != 0)
            rc = alerts_set_state(a, rule->id, scope, next, now_ms);
        else if (!exists && o->state == RULE_PENDING)
            rc = alerts_write(a, rule->id, scope, false, "pending", now_ms, NULL, NULL, false,
                              now_ms);
        free(old);
        return rc;
    }

    /* Firing. since: kept while it goes on; else when the condition began, if the rule
     * knows, but never before the alert last changed state (a re-fire is a new episode). */
    int64_t since = firing ? since_ms : o->since_ms > 0 ? o->since_ms : at_ms;
    if (!firing && exists && since < since_ms)
        since = since_ms;
    char *payload = alerts_payload(a, rule, scope, o, "firing", since);
    if (!payload) {
        free(old);
        return WP_ERR_NOMEM;
    }
    if (!firing) {
        rc = alerts_write(a, rule->id, scope, exists, "firing", since, payload, "firing", true,
                          now_ms);
        wp_log(WP_LOG_NOTICE, "alert firing: %s %s: %s", rule->id, scope, o->en.buf);
    } else if (!old || strcmp(old, payload) != 0) {
        /* Same episode, new figures: the retained message follows; a severity change
         * (at risk → missed) is news for events/alert too, and so is a new value where
         * the rule says the value is the news (an epidemic level 3 → 4). */
        cJSON *j = old ? cJSON_Parse(old) : NULL;
        const char *sev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "severity"));
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value");
        bool escalated = !sev || strcmp(sev, plan_severity_name(o->severity)) != 0;
        if (o->value_is_news && o->has_value
            && (!cJSON_IsNumber(value)
                || fabs(value->valuedouble - round(o->value * 1e4) / 1e4) > 1e-9))
            escalated = true;
        cJSON_Delete(j);
        rc = alerts_write(a, rule->id, scope, true, "firing", since, payload, "firing",
                          escalated, now_ms);
    }
    free(payload);
    free(old);
    return rc;
}

void alerts_sweep_begin(struct alerts *a)
{
    alerts_sweep_clear(a);
    a->sweeping = true;
}

static int alerts_key_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

enum wp_err alerts_sweep_end(struct alerts *a, int64_t now_ms)
{
    if (!a->sweeping)
        return WP_OK;
    if (a->swept_count > 0)
        qsort(a->swept, a->swept_count, sizeof *a->swept, alerts_key_cmp);
    enum wp_err rc = WP_OK;
    /* Collect first: the statement must not stay open while rows change. */
    struct { char *rule, *scope, *state, *payload; } *gone = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *stmt = alerts_stmt(a, ASTMT_ACTIVE);
    int src;
    while ((src = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *rule = (const char *)sqlite3_column_text(stmt, 0);
        const char *scope = (const char *)sqlite3_column_text(stmt, 1);
        char key[160];
        snprintf(key, sizeof key, "%s\t%s", rule, scope);
        const char *k = key;
        if (a->swept_count > 0
            && bsearch(&k, a->swept, a->swept_count, sizeof *a->swept, alerts_key_cmp))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            void *bigger = realloc(gone, cap * sizeof *gone);
            if (!bigger) {
                rc = WP_ERR_NOMEM;
                break;
            }
            gone = bigger;
        }
        const char *payload = (const char *)sqlite3_column_text(stmt, 3);
        gone[n].rule = strdup(rule);
        gone[n].scope = strdup(scope);
        gone[n].state = strdup((const char *)sqlite3_column_text(stmt, 2));
        gone[n].payload = payload ? strdup(payload) : NULL;
        n++;
    }
    sqlite3_reset(stmt);
    if (src != SQLITE_DONE && rc == WP_OK)
        rc = WP_ERR_DB;
    for (size_t i = 0; i < n; i++) {
        if (rc == WP_OK && (!gone[i].rule || !gone[i].scope || !gone[i].state))
            rc = WP_ERR_NOMEM;
        if (rc == WP_OK) {
            wp_log(WP_LOG_NOTICE, "alert %s %s is no longer evaluated (its rule left the plan "
                   "or no longer applies there): resolving it", gone[i].rule, gone[i].scope);
            if (strcmp(gone[i].state, "firing") == 0 && gone[i].payload)
                rc = alerts_resolve(a, gone[i].rule, gone[i].scope, gone[i].payload, NULL,
                                    "resolved", now_ms, now_ms);
            else
                rc = alerts_set_state(a, gone[i].rule, gone[i].scope, "resolved", now_ms);
        }
        free(gone[i].rule);
        free(gone[i].scope);
        free(gone[i].state);
        free(gone[i].payload);
    }
    free(gone);
    alerts_sweep_clear(a);
    return rc;
}

void alerts_rollback(struct alerts *a)
{
    alerts_sweep_clear(a);
    a->dirty = true;
}

size_t alerts_firing_count(struct alerts *a)
{
    sqlite3_stmt *stmt = alerts_stmt(a, ASTMT_FIRING_COUNT);
    size_t n = sqlite3_step(stmt) == SQLITE_ROW ? (size_t)sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    return n;
}
