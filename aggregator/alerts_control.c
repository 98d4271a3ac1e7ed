/* alerts_control.c — what officers' commands do to alerts: acknowledgements and the
 * silences' "silenced" field (contract in alerts.h; the commands are control.c's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alerts.h"
#include "alerts_private.h"
#include "array.h"
#include "log.h"
#include "store_alerts.h"
#include "store_control.h"
#include "timefmt.h"

void alerts_silences_free(struct alerts *a)
{
    for (size_t i = 0; i < a->silence_count; i++) {
        free(a->silences[i].rule);
        free(a->silences[i].scope);
        free(a->silences[i].by);
    }
    a->silence_count = 0;
}

/* The first loaded silence that covers (rule, scope) at now_ms, or NULL. */
static const struct alerts_silence *alerts_silence_for(const struct alerts *a,
                                                       const char *rule, const char *scope,
                                                       int64_t now_ms)
{
    for (size_t i = 0; i < a->silence_count; i++) {
        const struct alerts_silence *s = &a->silences[i];
        if (s->until_ms > now_ms && (!s->rule || strcmp(s->rule, rule) == 0)
            && (!s->scope || strcmp(s->scope, scope) == 0))
            return s;
    }
    return NULL;
}

char *alerts_decorate(const struct alerts *a, const char *payload, const char *rule,
                      const char *scope, const cJSON *acknowledged, int64_t now_ms)
{
    char *text = NULL;
    cJSON *j = cJSON_Parse(payload);
    if (!j)
        return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(j, "acknowledged");
    cJSON_DeleteItemFromObjectCaseSensitive(j, "silenced");
    if (acknowledged
        && !cJSON_AddItemToObject(j, "acknowledged", cJSON_Duplicate(acknowledged, true)))
        goto cleanup;
    const struct alerts_silence *s = alerts_silence_for(a, rule, scope, now_ms);
    if (s) {
        char id[32], until[40];
        snprintf(id, sizeof id, "s-%lld", (long long)s->id);
        wp_datetime_format_local(s->until_ms, until, sizeof until);
        cJSON *silenced = cJSON_AddObjectToObject(j, "silenced");
        if (!silenced || !cJSON_AddStringToObject(silenced, "id", id)
            || !cJSON_AddStringToObject(silenced, "until", until)
            || !cJSON_AddStringToObject(silenced, "by", s->by))
            goto cleanup;
    }
    text = cJSON_PrintUnformatted(j);

cleanup:
    cJSON_Delete(j);
    return text;
}

/* Writes payload decorated anew as the firing alert's (a retained update, no event),
 * when it differs. */
static enum wp_err alerts_redecorate(struct alerts *a, const char *rule, const char *scope,
                                     int64_t since_ms, const char *payload,
                                     const cJSON *acknowledged, int64_t now_ms)
{
    char *next = alerts_decorate(a, payload, rule, scope, acknowledged, now_ms);
    if (!next)
        return WP_ERR_NOMEM;
    enum wp_err rc = WP_OK;
    if (strcmp(next, payload) != 0) {
        rc = store_alert_update(a->store, rule, scope, "firing", since_ms, next, "firing",
                                false, now_ms);
        if (rc == WP_OK)
            a->dirty = true;
        else
            wp_log(WP_LOG_ERR, "alerts: %s", store_errmsg(a->store));
    }
    free(next);
    return rc;
}

enum wp_err alerts_acknowledge(struct alerts *a, const char *rule, const char *scope,
                               const char *by, const char *note, int64_t now_ms, char *err,
                               size_t errlen)
{
    bool found = false;
    char state[16];
    int64_t since_ms = 0;
    char *payload = NULL;
    enum wp_err rc = store_alert_get(a->store, rule, scope, &found, state, sizeof state,
                                     &since_ms, &payload);
    if (rc != WP_OK) {
        snprintf(err, errlen, "reading the alert: %s", store_errmsg(a->store));
        return rc;
    }
    if (!found || !payload) {
        snprintf(err, errlen, "no alert of rule %s on %s", rule, scope);
        free(payload);
        return WP_ERR_INVALID;
    }
    if (strcmp(state, "firing") != 0) {
        snprintf(err, errlen, "alert %s on %s is not firing (%s): only a firing alert can be "
                 "acknowledged", rule, scope, state);
        free(payload);
        return WP_ERR_INVALID;
    }
    char at[40];
    wp_datetime_format_local(now_ms, at, sizeof at);
    cJSON *ack = cJSON_CreateObject();
    if (!ack || !cJSON_AddStringToObject(ack, "by", by) || !cJSON_AddStringToObject(ack, "at", at)
        || (note && !cJSON_AddStringToObject(ack, "note", note)))
        rc = WP_ERR_NOMEM;
    else
        rc = alerts_redecorate(a, rule, scope, since_ms, payload, ack, now_ms);
    if (rc != WP_OK)
        snprintf(err, errlen, "could not record the acknowledgement: %s", wp_strerror(rc));
    else
        wp_log(WP_LOG_NOTICE, "alert acknowledged: %s %s by %s", rule, scope, by);
    cJSON_Delete(ack);
    free(payload);
    return rc;
}

static enum wp_err alerts_silence_load(void *ctx, const struct store_silence *s)
{
    struct alerts *a = ctx;
    if (!WP_ARRAY_RESERVE(a->silences, a->silence_cap, a->silence_count + 1))
        return WP_ERR_NOMEM;
    struct alerts_silence *m = &a->silences[a->silence_count++];
    *m = (struct alerts_silence){.id = s->id, .until_ms = s->until_ms};
    m->rule = s->rule ? strdup(s->rule) : NULL;
    m->scope = s->scope ? strdup(s->scope) : NULL;
    m->by = strdup(s->by);
    if ((s->rule && !m->rule) || (s->scope && !m->scope) || !m->by)
        return WP_ERR_NOMEM;
    return WP_OK;
}

/* The firing alerts, collected before any is written (store_alerts.h). */
struct alerts_firing {
    struct { char *rule, *scope, *payload; int64_t since_ms; } *list;
    size_t n, cap;
};

static enum wp_err alerts_firing_add(void *ctx, const struct store_alert *alert)
{
    struct alerts_firing *f = ctx;
    if (strcmp(alert->state, "firing") != 0 || !alert->payload || !alert->payload_state
        || strcmp(alert->payload_state, "firing") != 0)
        return WP_OK;
    if (!WP_ARRAY_RESERVE(f->list, f->cap, f->n + 1))
        return WP_ERR_NOMEM;
    f->list[f->n].rule = strdup(alert->rule);
    f->list[f->n].scope = strdup(alert->scope);
    f->list[f->n].payload = strdup(alert->payload);
    f->list[f->n].since_ms = alert->since_ms;
    f->n++;
    return WP_OK;
}

enum wp_err alerts_silences_reload(struct alerts *a, int64_t now_ms)
{
    alerts_silences_free(a);
    enum wp_err rc = store_silence_each_active(a->store, now_ms, alerts_silence_load, a);
    struct alerts_firing firing = {NULL, 0, 0};
    if (rc == WP_OK)
        rc = store_alert_each(a->store, STORE_ALERTS_ACTIVE, alerts_firing_add, &firing);
    if (rc != WP_OK && rc != WP_ERR_NOMEM)
        wp_log(WP_LOG_ERR, "alerts: %s", store_errmsg(a->store));
    for (size_t i = 0; i < firing.n; i++) {
        if (rc == WP_OK && (!firing.list[i].rule || !firing.list[i].scope
                            || !firing.list[i].payload))
            rc = WP_ERR_NOMEM;
        if (rc == WP_OK) {
            cJSON *j = cJSON_Parse(firing.list[i].payload);
            rc = alerts_redecorate(a, firing.list[i].rule, firing.list[i].scope,
                                   firing.list[i].since_ms, firing.list[i].payload,
                                   cJSON_GetObjectItemCaseSensitive(j, "acknowledged"), now_ms);
            cJSON_Delete(j);
        }
        free(firing.list[i].rule);
        free(firing.list[i].scope);
        free(firing.list[i].payload);
    }
    free(firing.list);
    return rc;
}

int64_t alerts_silences_next_end(const struct alerts *a)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < a->silence_count; i++)
        if (a->silences[i].until_ms < next)
            next = a->silences[i].until_ms;
    return next;
}
