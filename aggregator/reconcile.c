/* reconcile.c — the broker's retained alert, level and page-state topics checked against
 * the database and the plan after every connection (contract in reconcile.h). */
#include "reconcile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "clock.h"
#include "log.h"
#include "topic.h"

enum reconcile_filter { RFILTER_ALERT, RFILTER_LEVEL, RFILTER_SUMMARY, RFILTER_SERIES,
                        RFILTER_MARKER, RFILTER_COUNT };

/* One message seen on an alert, level, summary or series topic during a pass. */
struct reconcile_seen {
    char *topic;
    char *payload;       /* NULL: an empty message (the topic is cleared) */
    size_t order;        /* arrival; the last message of a topic is what the broker holds */
    bool handled;        /* the database named this topic */
};

struct reconcile {
    char unit[WP_UNIT_CODE_MAX];
    char filters[RFILTER_COUNT][WP_TOPIC_MAX];
    char prefix_alert[WP_TOPIC_MAX], prefix_level[WP_TOPIC_MAX];
    char prefix_summary[WP_TOPIC_MAX], prefix_series[WP_TOPIC_MAX];
    bool (*makes)(void *ctx, const char *topic);
    void *makes_ctx;
    struct wp_mqtt *mqtt;
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
    struct alerts *alerts;
    struct levels *levels;

    bool running;            /* a pass waits for its marker */
    unsigned long pass;      /* counts passes; with the pid, makes each marker new */
    char marker[96];         /* the payload of this pass's marker */
    int64_t deadline_mono_ms;
    struct reconcile_seen *seen;
    size_t seen_count, seen_cap;
    size_t published, cleared;   /* fixes made by the pass being finished */
};

enum wp_err reconcile_create(const struct reconcile_options *opts, struct reconcile **out)
{
    *out = NULL;
    struct reconcile *r = calloc(1, sizeof *r);
    if (!r)
        return WP_ERR_NOMEM;
    snprintf(r->unit, sizeof r->unit, "%s", opts->unit);
    snprintf(r->filters[RFILTER_ALERT], WP_TOPIC_MAX, WP_TOPIC_ROOT "alert/%s/#", r->unit);
    snprintf(r->filters[RFILTER_LEVEL], WP_TOPIC_MAX, WP_TOPIC_ROOT "level/%s/#", r->unit);
    snprintf(r->filters[RFILTER_SUMMARY], WP_TOPIC_MAX, WP_TOPIC_ROOT "summary/%s/#", r->unit);
    snprintf(r->filters[RFILTER_SERIES], WP_TOPIC_MAX, WP_TOPIC_ROOT "series/%s/#", r->unit);
    snprintf(r->filters[RFILTER_MARKER], WP_TOPIC_MAX,
             WP_TOPIC_ROOT "aggregator/reconcile/%s", r->unit);
    snprintf(r->prefix_alert, WP_TOPIC_MAX, WP_TOPIC_ROOT "alert/%s/", r->unit);
    snprintf(r->prefix_level, WP_TOPIC_MAX, WP_TOPIC_ROOT "level/%s/", r->unit);
    snprintf(r->prefix_summary, WP_TOPIC_MAX, WP_TOPIC_ROOT "summary/%s/", r->unit);
    snprintf(r->prefix_series, WP_TOPIC_MAX, WP_TOPIC_ROOT "series/%s/", r->unit);
    r->makes = opts->makes;
    r->makes_ctx = opts->makes_ctx;
    r->mqtt = opts->mqtt;
    r->publish = opts->publish;
    r->publish_ctx = opts->publish_ctx;
    r->alerts = opts->alerts;
    r->levels = opts->levels;
    *out = r;
    return WP_OK;
}

static void reconcile_forget(struct reconcile *r)
{
    for (size_t i = 0; i < r->seen_count; i++) {
        free(r->seen[i].topic);
        free(r->seen[i].payload);
    }
    r->seen_count = 0;
}

void reconcile_destroy(struct reconcile **reconcile)
{
    if (!reconcile || !*reconcile)
        return;
    reconcile_forget(*reconcile);
    free((*reconcile)->seen);
    free(*reconcile);
    *reconcile = NULL;
}

/* The pass is over (done or given up): nothing more is collected, and the broker stops
 * sending us what it would otherwise queue for the persistent session on these topics. */
static void reconcile_stop(struct reconcile *r)
{
    r->running = false;
    reconcile_forget(r);
    char *filters[RFILTER_COUNT];
    for (int i = 0; i < RFILTER_COUNT; i++)
        filters[i] = r->filters[i];
    int rc = mosquitto_unsubscribe_multiple(r->mqtt->mosq, NULL, RFILTER_COUNT, filters, NULL);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
        wp_log(WP_LOG_WARNING, "reconcile: unsubscribing: %s", mosquitto_strerror(rc));
}

void reconcile_start(struct reconcile *r)
{
    reconcile_forget(r);
    char *filters[RFILTER_COUNT];
    for (int i = 0; i < RFILTER_COUNT; i++)
        filters[i] = r->filters[i];
    /* One SUBSCRIBE: the broker queues every retained message of the filters for
     * us while it handles it, so before the marker published next. (A subscription kept
     * by the persistent session from an interrupted pass is replaced, and MQTT 3.1.1
     * sends the retained messages again for a replaced subscription too.) */
    int rc = mosquitto_subscribe_multiple(r->mqtt->mosq, NULL, RFILTER_COUNT, filters, 1, 0,
                                          NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        wp_log(WP_LOG_WARNING, "reconcile: subscribing: %s", mosquitto_strerror(rc));
        r->running = false;
        return;
    }
    r->pass++;
    snprintf(r->marker, sizeof r->marker, "{\"v\":1,\"pass\":\"%ld-%lu\"}", (long)getpid(),
             r->pass);
    if (!r->publish(r->publish_ctx, NULL, r->filters[RFILTER_MARKER], r->marker,
                    strlen(r->marker), false)) {
        wp_log(WP_LOG_WARNING, "reconcile: could not publish the marker");
        reconcile_stop(r);
        return;
    }
    r->running = true;
    r->deadline_mono_ms = wp_monotonic_ms() + RECONCILE_TIMEOUT_MS;
    wp_log(WP_LOG_DEBUG, "reconcile: pass %lu started", r->pass);
}

static void reconcile_note(struct reconcile *r, const char *topic, const void *payload,
                           size_t len)
{
    if (!WP_ARRAY_RESERVE(r->seen, r->seen_cap, r->seen_count + 1))
        goto nomem;
    struct reconcile_seen *s = &r->seen[r->seen_count];
    s->topic = strdup(topic);
    s->payload = len ? malloc(len + 1) : NULL;
    if (!s->topic || (len && !s->payload)) {
        free(s->topic);
        free(s->payload);
        goto nomem;
    }
    if (len) {
        memcpy(s->payload, payload, len);
        s->payload[len] = '\0';
    }
    s->order = r->seen_count;
    s->handled = false;
    r->seen_count++;
    return;

nomem:
    /* Better no pass than a wrong one (it would republish what the broker has). */
    wp_log(WP_LOG_ERR, "reconcile: out of memory; the broker's retained topics are not "
           "checked until the next connection");
    reconcile_stop(r);
}

static int reconcile_seen_cmp(const void *a, const void *b)
{
    const struct reconcile_seen *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

static int reconcile_topic_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct reconcile_seen *)elem)->topic);
}

/* Sorted by topic, with only the last message of each: what the broker holds now. */
static void reconcile_settle_seen(struct reconcile *r)
{
    if (r->seen_count == 0)
        return;   /* seen may be NULL, which qsort must not get */
    qsort(r->seen, r->seen_count, sizeof *r->seen, reconcile_seen_cmp);
    size_t out = 0;
    for (size_t i = 0; i < r->seen_count; i++) {
        if (out > 0 && strcmp(r->seen[out - 1].topic, r->seen[i].topic) == 0) {
            free(r->seen[out - 1].topic);
            free(r->seen[out - 1].payload);
            out--;
        }
        r->seen[out++] = r->seen[i];
    }
    r->seen_count = out;
}

static void reconcile_fix(struct reconcile *r, const char *topic, const char *payload)
{
    if (!r->publish(r->publish_ctx, NULL, topic, payload ? payload : "",
                    payload ? strlen(payload) : 0, true))
        return;   /* logged by the caller's publish; the next connection tries again */
    if (payload)
        r->published++;
    else
        r->cleared++;
    wp_log(WP_LOG_INFO, "reconcile: %s %s", payload ? "republished" : "cleared", topic);
}

/* One topic as the database knows it (alerts_each_retained, levels_each_retained). */
static void reconcile_compare(void *ctx, const char *topic, const char *payload, bool settled)
{
    struct reconcile *r = ctx;
    struct reconcile_seen *s = r->seen_count == 0 ? NULL
                               : bsearch(topic, r->seen, r->seen_count, sizeof *r->seen,
                                         reconcile_topic_cmp);
    if (s && s->handled)
        return;   /* a second row for one topic: the first decided */
    if (s)
        s->handled = true;
    const char *held = s ? s->payload : NULL;
    /* Unsettled: an announcement is on its way, and it makes the topic right. */
    if (!settled)
        return;
    if (payload && (!held || strcmp(held, payload) != 0))
        reconcile_fix(r, topic, payload);
    else if (!payload && held)
        reconcile_fix(r, topic, NULL);
}

static bool reconcile_has_prefix(const char *topic, const char *prefix)
{
    return strncmp(topic, prefix, strlen(prefix)) == 0;
}

/* The page's state: the dashboard publishes what it makes (and sends it all again at
 * every connection); what it does not make under the plan in force is a unit or coverage
 * rule of a plan an earlier run had, left retained: cleared. */
static void reconcile_page_state(struct reconcile *r)
{
    for (size_t i = 0; i < r->seen_count; i++) {
        struct reconcile_seen *s = &r->seen[i];
        if (!reconcile_has_prefix(s->topic, r->prefix_summary)
            && !reconcile_has_prefix(s->topic, r->prefix_series))
            continue;
        s->handled = true;
        if (s->payload && r->makes && !r->makes(r->makes_ctx, s->topic))
            reconcile_fix(r, s->topic, NULL);
    }
}

static void reconcile_finish(struct reconcile *r)
{
    r->published = r->cleared = 0;
    reconcile_settle_seen(r);
    size_t held = 0;
    for (size_t i = 0; i < r->seen_count; i++)
        held += r->seen[i].payload != NULL;
    reconcile_page_state(r);
    if (alerts_each_retained(r->alerts, reconcile_compare, r) != WP_OK
        || levels_each_retained(r->levels, reconcile_compare, r) != WP_OK) {
        /* Clearing on a partial reading of the database could clear a firing alert. */
        wp_log(WP_LOG_ERR, "reconcile: the database could not be read; topics the broker "
               "holds and the database does not name are left as they are");
    } else {
        for (size_t i = 0; i < r->seen_count; i++)
            if (!r->seen[i].handled && r->seen[i].payload)
                reconcile_fix(r, r->seen[i].topic, NULL);
    }
    wp_log(r->published || r->cleared ? WP_LOG_NOTICE : WP_LOG_INFO,
           "reconcile: the broker held %zu retained alert, level, summary and series "
           "message(s); "
           "%zu republished, %zu cleared", held, r->published, r->cleared);
    reconcile_stop(r);
}

bool reconcile_on_message(struct reconcile *r, const char *topic, const void *payload,
                          size_t len)
{
    bool ours = reconcile_has_prefix(topic, r->prefix_alert)
                || reconcile_has_prefix(topic, r->prefix_level)
                || reconcile_has_prefix(topic, r->prefix_summary)
                || reconcile_has_prefix(topic, r->prefix_series);
    if (strcmp(topic, r->filters[RFILTER_MARKER]) == 0) {
        /* A marker of an earlier pass (queued for the persistent session when the link
         * broke) says nothing about this one. */
        if (r->running && len == strlen(r->marker) && memcmp(payload, r->marker, len) == 0)
            reconcile_finish(r);
        return true;
    }
    if (!ours)
        return false;
    /* Retained messages (retain flag set) and live ones alike: the only live messages
     * here are our own retained publishes echoed back (only the aggregator may write
     * these topics), and each makes the broker's retained message what it carries. */
    if (r->running)
        reconcile_note(r, topic, payload, len);
    return true;
}

void reconcile_poll(struct reconcile *r)
{
    if (!r->running || wp_monotonic_ms() < r->deadline_mono_ms)
        return;
    wp_log(WP_LOG_WARNING, "reconcile: the marker on %s did not come back within %d s (does "
           "the broker's ACL let this account write and read it?); the broker's retained "
           "alerts and levels are not checked until the next connection",
           r->filters[RFILTER_MARKER], RECONCILE_TIMEOUT_MS / 1000);
    reconcile_stop(r);
}
