/* alerts.c — alert state machine and persistence (contract in alerts.h; the
 * announcement over MQTT is in alerts_publish.c). */
#include "alerts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alerts_private.h"
#include "array.h"
#include "log.h"
#include "timefmt.h"


/* Logs what the store said about a failure of this module's and passes the error on. */
static enum wp_err alerts_store_error(struct alerts *a, enum wp_err rc)
{
    if (rc != WP_OK && rc != WP_ERR_NOMEM)
        wp_log(WP_LOG_ERR, "alerts: %s", store_errmsg(a->store));
    return rc;
}

enum wp_err alerts_create(struct store *store, const struct alerts_options *opts,
                          struct alerts **out)
{
    *out = NULL;
    struct alerts *a = calloc(1, sizeof *a);
    if (!a)
        return WP_ERR_NOMEM;
    a->store = store;
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
    for (size_t i = 0; i < a->inflight_count; i++)
        free(a->inflight[i].key);
    free(a->inflight);
    wp_index_free(&a->inflight_by_key);
    wp_index_free(&a->inflight_by_mid);
    alerts_hook_queue_free(a);
    alerts_silences_free(a);
    free(a->silences);
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
                                        "target_missed", "announcement", "refusals_over_bound"};
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
    cJSON *j = cJSON_Parse(payload);
    const char *severity = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "severity"));
    enum wp_err rc = store_alert_add_event(a->store, rule, scope, state,
                                           severity ? severity : "info", now_ms, payload);
    cJSON_Delete(j);
    return alerts_store_error(a, rc);
}

/* Writes a new announceable state: payload with its state, a transition or not. */
static enum wp_err alerts_write(struct alerts *a, const char *rule, const char *scope,
                                bool exists, const char *state, int64_t since_ms,
                                const char *payload, const char *payload_state,
                                bool transition, int64_t now_ms)
{
    enum wp_err rc = exists ? store_alert_update(a->store, rule, scope, state, since_ms, payload,
                                                 payload_state, transition, now_ms)
                            : store_alert_insert(a->store, rule, scope, state, since_ms, payload,
                                                 payload_state, now_ms);
    rc = alerts_store_error(a, rc);
    if (rc == WP_OK && payload)
        a->dirty = true;
    if (rc == WP_OK && transition && payload)
        rc = alerts_event(a, rule, scope, payload_state, payload, now_ms);
    return rc;
}

static enum wp_err alerts_set_state(struct alerts *a, const char *rule, const char *scope,
                                    const char *state, int64_t now_ms)
{
    return alerts_store_error(a, store_alert_set_state(a->store, rule, scope, state, now_ms));
}

/* firing → resolved at at_ms, announced. o may be NULL (the rule is gone). */
static enum wp_err alerts_resolve(struct alerts *a, const char *rule, const char *scope,
                                  const char *firing_payload, const struct rule_outcome *o,
                                  const char *next_state, int64_t at_ms, int64_t now_ms)
{
    char *plain = alerts_resolved_payload(firing_payload, o, at_ms);
    /* The acknowledgement ends with its episode; a silence still covers the resolve. */
    char *payload = plain ? alerts_decorate(a, plain, rule, scope, NULL, now_ms) : NULL;
    free(plain);
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
    bool exists = false;
    char state[16];
    int64_t since_ms = 0;
    char *old = NULL;
    enum wp_err got = store_alert_get(a->store, rule->id, scope, &exists, state, sizeof state,
                                      &since_ms, &old);
    if (got != WP_OK) {
        if (got != WP_ERR_NOMEM)
            wp_log(WP_LOG_ERR, "alerts: reading %s %s: %s", rule->id, scope,
                   store_errmsg(a->store));
        return got;
    }

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
    char *plain = alerts_payload(a, rule, scope, o, "firing", since);
    /* The episode keeps its acknowledgement (alerts_acknowledge); a new one has none. */
    cJSON *was = firing && old ? cJSON_Parse(old) : NULL;
    char *payload = plain ? alerts_decorate(a, plain, rule->id, scope,
                                            cJSON_GetObjectItemCaseSensitive(was, "acknowledged"),
                                            now_ms)
                          : NULL;
    cJSON_Delete(was);
    free(plain);
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

/* The active alerts no evaluation since alerts_sweep_begin recorded. */
struct alerts_gone {
    struct alerts *alerts;
    struct { char *rule, *scope, *state, *payload; } *list;
    size_t n, cap;
};

static enum wp_err alerts_gone_add(void *ctx, const struct store_alert *alert)
{
    struct alerts_gone *g = ctx;
    struct alerts *a = g->alerts;
    char key[160];
    snprintf(key, sizeof key, "%s\t%s", alert->rule, alert->scope);
    const char *k = key;
    if (a->swept_count > 0
        && bsearch(&k, a->swept, a->swept_count, sizeof *a->swept, alerts_key_cmp))
        return WP_OK;
    if (!WP_ARRAY_RESERVE(g->list, g->cap, g->n + 1))
            return WP_ERR_NOMEM;
    g->list[g->n].rule = strdup(alert->rule);
    g->list[g->n].scope = strdup(alert->scope);
    g->list[g->n].state = strdup(alert->state);
    g->list[g->n].payload = alert->payload ? strdup(alert->payload) : NULL;
    g->n++;
    return WP_OK;
}

enum wp_err alerts_sweep_end(struct alerts *a, int64_t now_ms)
{
    if (!a->sweeping)
        return WP_OK;
    if (a->swept_count > 0)
        qsort(a->swept, a->swept_count, sizeof *a->swept, alerts_key_cmp);
    /* Collect first: no alert is written while the store walks them. */
    struct alerts_gone gone = {a, NULL, 0, 0};
    enum wp_err rc = store_alert_each(a->store, STORE_ALERTS_ACTIVE, alerts_gone_add, &gone);
    if (rc != WP_OK)
        alerts_store_error(a, rc);
    for (size_t i = 0; i < gone.n; i++) {
        char *rule = gone.list[i].rule, *scope = gone.list[i].scope;
        char *state = gone.list[i].state, *payload = gone.list[i].payload;
        if (rc == WP_OK && (!rule || !scope || !state))
            rc = WP_ERR_NOMEM;
        if (rc == WP_OK) {
            wp_log(WP_LOG_NOTICE, "alert %s %s is no longer evaluated (its rule left the plan "
                   "or no longer applies there): resolving it", rule, scope);
            if (strcmp(state, "firing") == 0 && payload)
                rc = alerts_resolve(a, rule, scope, payload, NULL, "resolved", now_ms, now_ms);
            else
                rc = alerts_set_state(a, rule, scope, "resolved", now_ms);
        }
        free(rule);
        free(scope);
        free(state);
        free(payload);
    }
    free(gone.list);
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
    size_t n = 0;
    if (store_alert_firing_count(a->store, &n) != WP_OK)
        return 0;
    return n;
}
