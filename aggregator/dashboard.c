/* dashboard.c — summary and series topics, built after evaluations (dashboard.h). */
#include "dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"
#include "log.h"
#include "series.h"
#include "summary.h"
#include "summary_payload.h"
#include "topic.h"

struct dashboard_topic {
    char *topic;
    char *payload;     /* the last one built; "": the topic is being cleared */
    bool sent;         /* handed to the client since it was built or since the connection */
    bool built;        /* offered by the build in progress */
    int mid;           /* its PUBACK outstanding; 0: none */
};

struct dashboard {
    struct store *store;
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
    bool due;                    /* an evaluation committed since the last build began */
    int64_t next_build_mono_ms;  /* pacing */
    /* A build in progress, one step per dashboard_update (so that the loop serves the
     * broker and the evaluations between steps): step 1 the summary, then one coverage
     * rule's series per step from rule index `rule`; 0 when none is. */
    int step;
    size_t rule;
    int64_t build_ms;            /* time spent in this build's steps so far */
    struct series_cache *cache;  /* this build's, for its series */
    struct dashboard_topic *topics;
    size_t topic_count, topic_cap;
};

enum wp_err dashboard_create(struct store *store, const struct dashboard_options *opts,
                             struct dashboard **out)
{
    *out = NULL;
    struct dashboard *d = calloc(1, sizeof *d);
    if (!d)
        return WP_ERR_NOMEM;
    d->store = store;
    d->publish = opts->publish;
    d->publish_ctx = opts->publish_ctx;
    *out = d;
    return WP_OK;
}

void dashboard_destroy(struct dashboard **dashboard)
{
    if (!dashboard || !*dashboard)
        return;
    struct dashboard *d = *dashboard;
    for (size_t i = 0; i < d->topic_count; i++) {
        free(d->topics[i].topic);
        free(d->topics[i].payload);
    }
    free(d->topics);
    series_cache_destroy(&d->cache);
    free(d);
    *dashboard = NULL;
}

void dashboard_note_evaluation(struct dashboard *d)
{
    d->due = true;
}

/* Whether two payloads are the same but for the value of "at". Inside a JSON string a
 * quote is escaped, so the first `"at":"` of a payload is its key. */
static bool dashboard_same_but_at(const char *a, const char *b)
{
    const char *key = "\"at\":\"";
    const char *ka = strstr(a, key), *kb = strstr(b, key);
    if (!ka || !kb || ka - a != kb - b || strncmp(a, b, (size_t)(ka - a)) != 0)
        return strcmp(a, b) == 0;
    const char *ea = strchr(ka + strlen(key), '"'), *eb = strchr(kb + strlen(key), '"');
    return ea && eb && strcmp(ea, eb) == 0;
}

/* Takes payload (owned) for topic: kept and marked unsent when its content changed. */
static void dashboard_offer(struct dashboard *d, const char *topic, char *payload)
{
    for (size_t i = 0; i < d->topic_count; i++) {
        struct dashboard_topic *t = &d->topics[i];
        if (strcmp(t->topic, topic) != 0)
            continue;
        t->built = true;
        if (dashboard_same_but_at(t->payload, payload)) {
            free(payload);
            return;
        }
        free(t->payload);
        t->payload = payload;
        t->sent = false;
        return;
    }
    char *copy = strdup(topic);
    if (!copy || !WP_ARRAY_RESERVE(d->topics, d->topic_cap, d->topic_count + 1)) {
        wp_log(WP_LOG_ERR, "dashboard: out of memory keeping %s", topic);
        free(copy);
        free(payload);
        return;
    }
    d->topics[d->topic_count++] = (struct dashboard_topic){copy, payload, false, true, 0};
}

static enum wp_err dashboard_build_summary(struct dashboard *d, const struct plan *plan,
                                           int64_t now_ms)
{
    struct summary *s = NULL;
    enum wp_err err = summary_build(d->store, plan, NULL, now_ms, &s);
    if (err != WP_OK)
        return err;
    for (size_t i = 0; i < s->unit_count; i++) {
        char topic[WP_TOPIC_MAX];
        char *payload = summary_payload(s, plan, i);
        if (!payload) {
            err = WP_ERR_NOMEM;
            break;
        }
        snprintf(topic, sizeof topic, WP_TOPIC_ROOT "summary/%s/%s", plan->district->code,
                 summary_payload_scope(s, plan, i));
        dashboard_offer(d, topic, payload);
    }
    summary_free(&s);
    return err;
}

/* The series of one coverage rule; the build's cache is created at its first. */
static enum wp_err dashboard_build_one_series(struct dashboard *d, const struct plan *plan,
                                              const struct plan_rule *rule, int64_t now_ms)
{
    enum wp_err err = WP_OK;
    if (!d->cache && (err = series_cache_create(d->store, &d->cache)) != WP_OK)
        return err;
    char topic[WP_TOPIC_MAX], *payload = NULL;
    if ((err = series_payload(d->cache, plan, rule, now_ms, &payload)) != WP_OK)
        return err;
    snprintf(topic, sizeof topic, WP_TOPIC_ROOT "series/%s/%s", plan->district->code,
             rule->id);
    dashboard_offer(d, topic, payload);
    return WP_OK;
}

bool dashboard_makes(const struct plan *plan, const char *topic)
{
    if (!plan)
        return false;
    char prefix[WP_TOPIC_MAX];
    snprintf(prefix, sizeof prefix, WP_TOPIC_ROOT "summary/%s/", plan->district->code);
    size_t n = strlen(prefix);
    if (strncmp(topic, prefix, n) == 0) {
        const char *scope = topic + n;
        if (strcmp(scope, plan->scope_name) == 0)
            return true;
        for (size_t i = 0; i < plan->ward_count; i++)
            if (strcmp(scope, plan->wards[i]->code) == 0)
                return true;
        return false;
    }
    snprintf(prefix, sizeof prefix, WP_TOPIC_ROOT "series/%s/", plan->district->code);
    n = strlen(prefix);
    if (strncmp(topic, prefix, n) != 0)
        return false;
    const struct plan_rule *rule = plan_rule(plan, topic + n);
    return rule && rule->kind == PLAN_RULE_COVERAGE;
}

/* A whole build made the topics it offered: any other one kept is a unit or a coverage
 * rule the plan no longer has (a reload), or a district code it no longer serves. Its
 * retained message is cleared with an empty one; the topic is forgotten at its PUBACK. */
static void dashboard_clear_unbuilt(struct dashboard *d)
{
    for (size_t i = 0; i < d->topic_count; i++) {
        struct dashboard_topic *t = &d->topics[i];
        if (t->built || t->payload[0] == '\0')
            continue;
        char *empty = strdup("");
        if (!empty) {
            wp_log(WP_LOG_ERR, "dashboard: out of memory clearing %s", t->topic);
            continue;
        }
        wp_log(WP_LOG_INFO, "dashboard: %s is no longer in the plan; its retained message "
               "is cleared", t->topic);
        free(t->payload);
        t->payload = empty;
        t->sent = false;
        t->mid = 0;
    }
}

/* complete: every step ran (not cut short by the daemon stopping). */
static void dashboard_build_end(struct dashboard *d, enum wp_err err, bool complete)
{
    series_cache_destroy(&d->cache);
    if (err == WP_OK && complete)
        dashboard_clear_unbuilt(d);
    d->step = 0;
    int64_t wait = d->build_ms * DASHBOARD_PACE;
    d->next_build_mono_ms = wp_monotonic_ms()
                            + (wait < DASHBOARD_PACE_MAX_MS ? wait : DASHBOARD_PACE_MAX_MS);
    if (err != WP_OK) {
        /* Built again after the next evaluation; what was kept stays published. */
        d->due = true;
        wp_log(WP_LOG_ERR, "dashboard: building the summary and series: %s%s%s",
               wp_strerror(err), err == WP_ERR_DB ? ": " : "",
               err == WP_ERR_DB ? store_errmsg(d->store) : "");
        return;
    }
    wp_log(WP_LOG_DEBUG, "dashboard: summary and series built in %lld ms",
           (long long)d->build_ms);
}

/* One step of the build: the summary, or the next coverage rule's series. */
static void dashboard_build_step(struct dashboard *d, const struct plan *plan, int64_t now_ms)
{
    int64_t started = wp_monotonic_ms();
    enum wp_err err = WP_OK;
    if (d->step == 1) {
        err = dashboard_build_summary(d, plan, now_ms);
        d->step = 2;
        d->rule = 0;
    } else {
        while (d->rule < plan->rule_count && plan->rules[d->rule].kind != PLAN_RULE_COVERAGE)
            d->rule++;
        if (d->rule < plan->rule_count)
            err = dashboard_build_one_series(d, plan, &plan->rules[d->rule++], now_ms);
    }
    d->build_ms += wp_monotonic_ms() - started;
    while (d->rule < plan->rule_count && plan->rules[d->rule].kind != PLAN_RULE_COVERAGE)
        d->rule++;
    if (err != WP_OK || (d->step == 2 && d->rule >= plan->rule_count))
        dashboard_build_end(d, err, true);
}

bool dashboard_busy(const struct dashboard *d)
{
    return d->step != 0;
}

void dashboard_update(struct dashboard *d, const struct plan *plan, int64_t now_ms,
                      bool connected)
{
    if (plan && d->step == 0 && d->due && wp_monotonic_ms() >= d->next_build_mono_ms) {
        d->due = false;   /* an evaluation from now on asks for another build */
        d->step = 1;
        d->build_ms = 0;
        for (size_t i = 0; i < d->topic_count; i++)
            d->topics[i].built = false;
    }
    if (plan && d->step != 0)
        dashboard_build_step(d, plan, now_ms);
    else if (!plan && d->step != 0)
        dashboard_build_end(d, WP_OK, false);   /* stopping: what is built goes out */
    for (size_t i = 0; connected && i < d->topic_count; i++) {
        struct dashboard_topic *t = &d->topics[i];
        if (t->sent)
            continue;
        int mid = 0;
        if (!d->publish(d->publish_ctx, &mid, t->topic, t->payload, strlen(t->payload), true))
            return;   /* the rest at the next turn */
        t->sent = true;
        t->mid = mid;
    }
}

void dashboard_on_connect(struct dashboard *d)
{
    for (size_t i = 0; i < d->topic_count; i++) {
        d->topics[i].sent = false;
        d->topics[i].mid = 0;
    }
}

void dashboard_on_puback(struct dashboard *d, int mid)
{
    for (size_t i = 0; mid != 0 && i < d->topic_count; i++) {
        struct dashboard_topic *t = &d->topics[i];
        if (t->mid != mid)
            continue;
        t->mid = 0;
        if (t->sent && t->payload[0] == '\0') {   /* cleared on the broker: forgotten */
            free(t->topic);
            free(t->payload);
            d->topics[i] = d->topics[--d->topic_count];
        }
        return;
    }
}
