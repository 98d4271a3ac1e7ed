/* control.c — officers' commands: validate, audit, apply, reply; the retained silences
 * (contract in control.h). */
#include "control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "log.h"
#include "schema_registry.h"
#include "store_control.h"
#include "timefmt.h"
#include "topic.h"
#include "utf8.h"

#define CONTROL_ERROR_MAX 600
/* A command is a few hundred bytes; anything far larger is refused unread. */
#define CONTROL_PAYLOAD_MAX 4096

struct control {
    struct store *store;
    struct alerts *alerts;
    char district[8];
    char filter[WP_TOPIC_MAX];
    char prefix[WP_TOPIC_MAX];     /* wardpulse/v1/control/<district>/ */
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
    bool silences_due;             /* silences/<district> is to be published */
    int64_t next_end_ms;           /* clock instant the first silence ends */
};

/* Reloads the silences into the alerts in a transaction of its own; due to publish. */
static enum wp_err control_reload(struct control *c, int64_t now_ms)
{
    enum wp_err rc = store_begin(c->store);
    if (rc == WP_OK && (rc = alerts_silences_reload(c->alerts, now_ms)) == WP_OK)
        rc = store_commit(c->store);
    if (rc != WP_OK) {
        store_rollback(c->store);   /* harmless when none is open */
        alerts_rollback(c->alerts);
    }
    c->next_end_ms = alerts_silences_next_end(c->alerts);
    if (rc != WP_OK) {
        /* control_tick tries again at once, in the loop. */
        wp_log(WP_LOG_ERR, "control: loading the silences: %s", store_errmsg(c->store));
        c->next_end_ms = 0;
    }
    c->silences_due = true;
    return rc;
}

enum wp_err control_create(struct store *store, const struct control_options *opts,
                           struct control **out)
{
    *out = NULL;
    struct control *c = calloc(1, sizeof *c);
    if (!c)
        return WP_ERR_NOMEM;
    c->store = store;
    c->alerts = opts->alerts;
    c->publish = opts->publish;
    c->publish_ctx = opts->publish_ctx;
    snprintf(c->district, sizeof c->district, "%s", opts->district);
    snprintf(c->filter, sizeof c->filter, WP_TOPIC_ROOT "control/%s/+", c->district);
    snprintf(c->prefix, sizeof c->prefix, WP_TOPIC_ROOT "control/%s/", c->district);
    /* A store that fails here (busy, full) is tried again by control_tick. */
    control_reload(c, wp_now_ms());
    *out = c;
    return WP_OK;
}

void control_destroy(struct control **control)
{
    if (!control || !*control)
        return;
    free(*control);
    *control = NULL;
}

const char *control_filter(const struct control *c)
{
    return c->filter;
}

/* A string member of j, or NULL. */
static const char *control_string(const cJSON *j, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
}

/* ack: the alert must be firing. */
static enum wp_err control_ack(struct control *c, const cJSON *doc, int64_t now_ms,
                               char *err, size_t errlen)
{
    return alerts_acknowledge(c->alerts, control_string(doc, "rule"),
                              control_string(doc, "scope"), control_string(doc, "by"),
                              control_string(doc, "note"), now_ms, err, errlen);
}

/* silence: until in the future; *silence gets its id. */
static enum wp_err control_silence(struct control *c, const cJSON *doc, int64_t now_ms,
                                   int64_t *silence, char *err, size_t errlen)
{
    const char *until = control_string(doc, "until");
    int64_t until_ms = 0;
    if (!until || !wp_datetime_parse(until, &until_ms)) {
        snprintf(err, errlen, "until: not an RFC 3339 instant with an offset");
        return WP_ERR_INVALID;
    }
    if (until_ms <= now_ms) {
        char now[40];
        wp_datetime_format_local(now_ms, now, sizeof now);
        snprintf(err, errlen, "until is in the past (%s; the aggregator's clock says %s)",
                 until, now);
        return WP_ERR_INVALID;
    }
    enum wp_err rc = store_silence_add(c->store, control_string(doc, "rule"),
                                       control_string(doc, "scope"), until_ms,
                                       control_string(doc, "by"), control_string(doc, "comment"),
                                       now_ms, silence);
    if (rc == WP_OK)
        rc = alerts_silences_reload(c->alerts, now_ms);
    if (rc != WP_OK)
        snprintf(err, errlen, "could not store the silence: %s", store_errmsg(c->store));
    return rc;
}

/* unsilence: the silence must be in force. */
static enum wp_err control_unsilence(struct control *c, const cJSON *doc, int64_t now_ms,
                                     int64_t *silence, char *err, size_t errlen)
{
    const char *name = control_string(doc, "silence");
    *silence = strtoll(name + 2, NULL, 10);   /* the schema's pattern: s-<digits> */
    bool ended = false;
    enum wp_err rc = store_silence_end(c->store, *silence, control_string(doc, "by"), now_ms,
                                       &ended);
    if (rc == WP_OK && !ended) {
        snprintf(err, errlen, "no silence %s in force (unknown, ended or expired)", name);
        return WP_ERR_INVALID;
    }
    if (rc == WP_OK)
        rc = alerts_silences_reload(c->alerts, now_ms);
    if (rc != WP_OK)
        snprintf(err, errlen, "could not end the silence: %s", store_errmsg(c->store));
    return rc;
}

/* Validates and applies doc, a command; *silence gets the silence set or ended (0:
 * none). Inside the caller's transaction. */
static enum wp_err control_apply(struct control *c, const char *command, const cJSON *doc,
                                 int64_t now_ms, int64_t *silence, char *err, size_t errlen)
{
    static const char *const commands[] = {"ack", "silence", "unsilence"};
    size_t which = 0;
    while (which < 3 && strcmp(commands[which], command) != 0)
        which++;
    if (which == 3) {
        snprintf(err, errlen, "unknown command \"%s\" (ack, silence or unsilence)", command);
        return WP_ERR_INVALID;
    }
    /* The schema's anyOf would say it in its own words; this is the officer's. */
    if (which == 1 && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "rule"))
        && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "scope"))) {
        snprintf(err, errlen, "a silence needs a rule, a scope or both (both are null)");
        return WP_ERR_INVALID;
    }
    char schema[32];
    snprintf(schema, sizeof schema, "control_%s", command);
    if (!wp_schemas_validate(schema, doc, err, errlen))
        return WP_ERR_INVALID;
    if (which == 0)
        return control_ack(c, doc, now_ms, err, errlen);
    if (which == 1)
        return control_silence(c, doc, now_ms, silence, err, errlen);
    return control_unsilence(c, doc, now_ms, silence, err, errlen);
}

static void control_reply(struct control *c, const char *id, bool ok, int64_t silence,
                          const char *error)
{
    char topic[WP_TOPIC_MAX], name[32];
    int n = snprintf(topic, sizeof topic, "%sreply/%s", c->prefix, id);
    if (n < 0 || (size_t)n >= sizeof topic) {   /* ids are at most 64 characters (schema) */
        wp_log(WP_LOG_ERR, "control: the reply topic for request %.64s is too long", id);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "v", 1);
    cJSON_AddStringToObject(j, "id", id);
    cJSON_AddBoolToObject(j, "ok", ok);
    if (ok && silence > 0) {
        snprintf(name, sizeof name, "s-%lld", (long long)silence);
        cJSON_AddStringToObject(j, "silence", name);
    }
    if (!ok)
        cJSON_AddStringToObject(j, "error", error);
    char *text = cJSON_PrintUnformatted(j);
    if (text && !c->publish(c->publish_ctx, NULL, topic, text, strlen(text), false))
        wp_log(WP_LOG_WARNING, "control: the reply on %s could not be sent", topic);
    free(text);
    cJSON_Delete(j);
}

/* Control characters of an error (a key quoted by the validator) become spaces. */
static void control_clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

bool control_on_message(struct control *c, const char *topic, const void *payload, size_t len,
                        bool retained, int64_t now_ms)
{
    size_t plen = strlen(c->prefix);
    if (strncmp(topic, c->prefix, plen) != 0 || strchr(topic + plen, '/'))
        return false;
    if (retained) {
        wp_log(WP_LOG_INFO, "control: skipping the retained copy of a command on %s", topic);
        return true;
    }
    const char *command = topic + plen;
    char err[CONTROL_ERROR_MAX] = "";
    cJSON *doc = NULL;
    if (len > CONTROL_PAYLOAD_MAX)
        snprintf(err, sizeof err, "payload of %zu bytes exceeds the limit of %d bytes", len,
                 CONTROL_PAYLOAD_MAX);
    else if (wp_utf8_invalid_at(payload, len) < len)
        snprintf(err, sizeof err, "payload is not valid UTF-8 at byte %zu",
                 wp_utf8_invalid_at(payload, len));
    else if (!(doc = cJSON_ParseWithLength(payload, len)))
        snprintf(err, sizeof err, "payload is not valid JSON");
    else if (!cJSON_IsObject(doc))
        snprintf(err, sizeof err, "(root): must be an object");
    const char *id = control_string(doc, "id");
    bool id_ok = id && strlen(id) >= 1 && strlen(id) <= 64
                 && strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_-") == strlen(id);
    const char *by = control_string(doc, "by");

    int64_t silence = 0;
    enum wp_err rc = WP_OK;
    bool begun = store_begin(c->store) == WP_OK;
    if (!err[0] && !begun)
        snprintf(err, sizeof err, "the aggregator could not store the command: %s",
                 store_errmsg(c->store));
    if (!err[0])
        rc = control_apply(c, command, doc, now_ms, &silence, err, sizeof err);
    if (!err[0] && rc != WP_OK)
        snprintf(err, sizeof err, "%s", wp_strerror(rc));
    control_clean(err);
    if (begun && rc != WP_OK && rc != WP_ERR_INVALID) {
        /* A store failure: nothing of the command stays (the silences in memory are
         * read again), and the audit goes in a fresh transaction. */
        store_rollback(c->store);
        alerts_rollback(c->alerts);
        control_reload(c, now_ms);
        begun = store_begin(c->store) == WP_OK;
    }
    char outcome[CONTROL_ERROR_MAX + 32];
    if (err[0])
        snprintf(outcome, sizeof outcome, "refused: %s", err);
    else if (silence > 0)
        snprintf(outcome, sizeof outcome, "ok: silence s-%lld", (long long)silence);
    else
        snprintf(outcome, sizeof outcome, "ok");
    if (begun && (store_control_log(c->store, now_ms, topic, by, payload, len, outcome) != WP_OK
                  || store_commit(c->store) != WP_OK)) {
        wp_log(WP_LOG_ERR, "control: recording the command on %s: %s", topic,
               store_errmsg(c->store));
        store_rollback(c->store);
        alerts_rollback(c->alerts);
        if (!err[0])
            snprintf(err, sizeof err, "the aggregator could not store the command");
    }
    if (err[0])
        wp_log(WP_LOG_WARNING, "control: refused command on %s%s%s: %s", topic,
               by ? " by " : "", by ? by : "", err);
    else
        wp_log(WP_LOG_NOTICE, "control: %s by %s: %s", command, by, outcome);
    /* A silence set or ended changes the set (a refused one, or an ack, does not). */
    c->next_end_ms = alerts_silences_next_end(c->alerts);
    if (!err[0] && silence > 0)
        c->silences_due = true;
    control_reply(c, id_ok ? id : "unknown", !err[0], silence, err);
    cJSON_Delete(doc);
    return true;
}

void control_tick(struct control *c, int64_t now_ms)
{
    if (now_ms < c->next_end_ms)
        return;
    if (c->next_end_ms > 0)
        wp_log(WP_LOG_NOTICE, "control: a silence ended on the clock");
    control_reload(c, now_ms);
}

void control_on_connect(struct control *c)
{
    c->silences_due = true;
}

static enum wp_err control_silence_json(void *ctx, const struct store_silence *s)
{
    cJSON *list = ctx, *item = cJSON_CreateObject();
    char id[32], until[40], created[40];
    snprintf(id, sizeof id, "s-%lld", (long long)s->id);
    wp_datetime_format_local(s->until_ms, until, sizeof until);
    wp_datetime_format_local(s->created_ms, created, sizeof created);
    if (!item || !cJSON_AddItemToArray(list, item))
        return WP_ERR_NOMEM;
    cJSON_AddStringToObject(item, "id", id);
    cJSON_AddItemToObject(item, "rule", s->rule ? cJSON_CreateString(s->rule) : cJSON_CreateNull());
    cJSON_AddItemToObject(item, "scope",
                          s->scope ? cJSON_CreateString(s->scope) : cJSON_CreateNull());
    cJSON_AddStringToObject(item, "until", until);
    cJSON_AddStringToObject(item, "by", s->by);
    if (s->comment)
        cJSON_AddStringToObject(item, "comment", s->comment);
    cJSON_AddStringToObject(item, "created_at", created);
    return WP_OK;
}

void control_publish(struct control *c, int64_t now_ms)
{
    if (!c->silences_due)
        return;
    char topic[WP_TOPIC_MAX], at[40];
    snprintf(topic, sizeof topic, WP_TOPIC_ROOT "silences/%s", c->district);
    wp_datetime_format_local(now_ms, at, sizeof at);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "v", 1);
    cJSON_AddStringToObject(j, "district", c->district);
    cJSON_AddStringToObject(j, "at", at);
    cJSON *list = cJSON_AddArrayToObject(j, "silences");
    char *text = NULL;
    if (list && store_silence_each_active(c->store, now_ms, control_silence_json, list) == WP_OK)
        text = cJSON_PrintUnformatted(j);
    if (text && c->publish(c->publish_ctx, NULL, topic, text, strlen(text), true))
        c->silences_due = false;
    free(text);
    cJSON_Delete(j);
}
