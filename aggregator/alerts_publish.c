/* alerts_publish.c — announcing alerts over MQTT: retained topics, events, repeats,
 * acknowledgements and the command hook (contract in alerts.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alerts.h"
#include "alerts_private.h"
#include "array.h"
#include "clock.h"
#include "log.h"
#include "topic.h"

#define ALERTS_EVENTS_TOPIC WP_TOPIC_ROOT "events/alert"

static bool alerts_inflight_has_key(const void *ctx, size_t pos, const void *key)
{
    return strcmp(((const struct alerts *)ctx)->inflight[pos].key, key) == 0;
}

static bool alerts_inflight_has_mid(const void *ctx, size_t pos, const void *mid)
{
    return ((const struct alerts *)ctx)->inflight[pos].mid == *(const int *)mid;
}

static struct alerts_inflight *alerts_inflight_find(struct alerts *a, const char *key)
{
    size_t i = wp_index_find(&a->inflight_by_key, wp_index_hash_str(key),
                             alerts_inflight_has_key, a, key);
    return i == WP_INDEX_NONE ? NULL : &a->inflight[i];
}

static struct alerts_inflight *alerts_inflight_find_mid(struct alerts *a, int mid)
{
    size_t i = wp_index_find(&a->inflight_by_mid, wp_index_hash_int(mid),
                             alerts_inflight_has_mid, a, &mid);
    return i == WP_INDEX_NONE ? NULL : &a->inflight[i];
}

/* Stores f as the last in-flight announcement, found by key and mid; false when out of
 * memory (then f's key is freed). */
static bool alerts_inflight_add(struct alerts *a, struct alerts_inflight f)
{
    size_t pos = a->inflight_count;
    if (!WP_ARRAY_RESERVE(a->inflight, a->inflight_cap, pos + 1)
        || !wp_index_add(&a->inflight_by_key, f.key_hash, pos)) {
        free(f.key);
        return false;
    }
    if (!wp_index_add(&a->inflight_by_mid, wp_index_hash_int(f.mid), pos)) {
        wp_index_remove(&a->inflight_by_key, f.key_hash, pos);
        free(f.key);
        return false;
    }
    a->inflight[a->inflight_count++] = f;
    return true;
}

/* Forgets f; the last in-flight announcement takes its place. */
static void alerts_inflight_remove(struct alerts *a, struct alerts_inflight *f)
{
    size_t pos = (size_t)(f - a->inflight), last = a->inflight_count - 1;
    wp_index_remove(&a->inflight_by_key, f->key_hash, pos);
    wp_index_remove(&a->inflight_by_mid, wp_index_hash_int(f->mid), pos);
    free(f->key);
    if (pos != last) {
        *f = a->inflight[last];
        wp_index_move(&a->inflight_by_key, f->key_hash, last, pos);
        wp_index_move(&a->inflight_by_mid, wp_index_hash_int(f->mid), last, pos);
    }
    a->inflight_count = last;
}

/* Starts the hook on payload; a->hook_pid is its child (0 when it could not start). */
static void alerts_start_hook(struct alerts *a, const char *payload)
{
    cJSON *j = cJSON_Parse(payload);
    cJSON *summary = cJSON_GetObjectItemCaseSensitive(j, "summary");
    const char *env[][2] = {
        {"WP_ALERT_RULE", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "rule"))},
        {"WP_ALERT_SCOPE", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "scope"))},
        {"WP_ALERT_STATE", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "state"))},
        {"WP_ALERT_SEVERITY",
         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "severity"))},
        {"WP_ALERT_SUMMARY_VI",
         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "vi"))},
        {"WP_ALERT_SUMMARY_EN",
         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(summary, "en"))},
    };
    int fds[2];
    if (pipe(fds) != 0) {
        wp_log(WP_LOG_ERR, "alert_command: pipe: %s", strerror(errno));
        cJSON_Delete(j);
        return;
    }
    pid_t pid = fork();
    a->hook_pid = pid > 0 ? pid : 0;
    if (pid == 0) {
        /* The child: an exec'd program inherits an ignored SIGPIPE; give it the default. */
        signal(SIGPIPE, SIG_DFL);
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        close(fds[1]);
        for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
            setenv(env[i][0], env[i][1] ? env[i][1] : "", 1);
        execl("/bin/sh", "sh", "-c", a->command, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    if (pid < 0) {
        wp_log(WP_LOG_ERR, "alert_command: fork: %s", strerror(errno));
    } else {
        /* An alert is far below the pipe's buffer, so this does not block; a command that
         * does not read gets EPIPE here (SIGPIPE is ignored by the daemon). */
        size_t len = strlen(payload);
        if (write(fds[1], payload, len) != (ssize_t)len)
            wp_log(WP_LOG_DEBUG, "alert_command did not take the alert on its stdin");
    }
    close(fds[1]);
    cJSON_Delete(j);
}

/* Starts the next waiting payload's hook, if none runs; one that cannot start is dropped
 * (logged by alerts_start_hook) and the next tried. */
static void alerts_next_hook(struct alerts *a)
{
    while (a->hook_pid == 0 && a->hook_count > 0) {
        char *payload = a->hook_queue[a->hook_head];
        a->hook_head = (a->hook_head + 1) % ALERTS_HOOK_QUEUE_MAX;
        a->hook_count--;
        alerts_start_hook(a, payload);
        free(payload);
    }
}

/* True when an officer's silence covers the alert of payload (its "silenced" field). */
static bool alerts_silenced(const char *payload)
{
    cJSON *j = cJSON_Parse(payload);
    bool silenced = cJSON_GetObjectItemCaseSensitive(j, "silenced") != NULL;
    cJSON_Delete(j);
    return silenced;
}

/* Queues payload for the hook (alerts.h: one at a time, in order, at most
 * ALERTS_HOOK_QUEUE_MAX waiting) and starts it if nothing runs. */
static void alerts_run_hook(struct alerts *a, const char *payload)
{
    /* A silenced alert runs no hook, its resolve neither (alerts.h). */
    if (alerts_silenced(payload)) {
        wp_log(WP_LOG_INFO, "alert_command not run: the alert is silenced");
        return;
    }
    if (!a->hook_queue
        && !(a->hook_queue = calloc(ALERTS_HOOK_QUEUE_MAX, sizeof *a->hook_queue))) {
        wp_log(WP_LOG_ERR, "alert_command: out of memory: an alert's hook is not run");
        return;
    }
    if (a->hook_count == ALERTS_HOOK_QUEUE_MAX) {
        wp_log(WP_LOG_WARNING, "alert_command: %d alerts wait for the hook (is it stuck?): "
               "the oldest is dropped", ALERTS_HOOK_QUEUE_MAX);
        free(a->hook_queue[a->hook_head]);
        a->hook_head = (a->hook_head + 1) % ALERTS_HOOK_QUEUE_MAX;
        a->hook_count--;
    }
    char *copy = strdup(payload);
    if (!copy) {
        wp_log(WP_LOG_ERR, "alert_command: out of memory: an alert's hook is not run");
        return;
    }
    a->hook_queue[(a->hook_head + a->hook_count++) % ALERTS_HOOK_QUEUE_MAX] = copy;
    alerts_next_hook(a);
}

void alerts_hook_queue_free(struct alerts *a)
{
    for (size_t i = 0; i < a->hook_count; i++)
        free(a->hook_queue[(a->hook_head + i) % ALERTS_HOOK_QUEUE_MAX]);
    free(a->hook_queue);
    a->hook_queue = NULL;
    a->hook_count = a->hook_head = 0;
}

/* Sends one unannounced change: the retained topic, then events/alert if a transition. */
static bool alerts_announce(struct alerts *a, const char *rule, const char *scope,
                            const char *payload, const char *payload_state, int64_t rev,
                            int64_t event_rev, int64_t announced_rev)
{
    char topic[WP_TOPIC_MAX];
    int mid = 0;
    bool firing = payload_state && strcmp(payload_state, "firing") == 0;
    size_t n = strlen(rule) + strlen(scope) + 2;
    char *key = malloc(n);
    if (!key)
        return false;
    snprintf(key, n, "%s\t%s", rule, scope);
    struct alerts_inflight *old = alerts_inflight_find(a, key);
    /* A retry of the same rev (its PUBACK never came) sends the event again. */
    int64_t event_sent = old && old->rev != rev ? old->event_rev : 0;
    bool event = event_rev > announced_rev && event_rev > event_sent;
    snprintf(topic, sizeof topic, WP_TOPIC_ROOT "alert/%s/%s/%s", a->district, scope, rule);
    /* Resolved clears the retained topic: an empty retained message deletes it. */
    if (!a->publish(a->publish_ctx, &mid, topic, firing ? payload : "",
                    firing ? strlen(payload) : 0, true)
        || (event && !a->publish(a->publish_ctx, &mid, ALERTS_EVENTS_TOPIC, payload,
                                 strlen(payload), false))) {
        free(key);
        return false;
    }
    if (event && a->command)
        alerts_run_hook(a, payload);
    if (event)
        event_sent = event_rev;
    if (old)
        alerts_inflight_remove(a, old);
    /* Out of memory: not remembered, so sent again at the next publish. */
    alerts_inflight_add(a, (struct alerts_inflight){
        .mid = mid, .key = key, .key_hash = wp_index_hash_str(key), .rev = rev,
        .event_rev = event_sent, .sent_mono_ms = wp_monotonic_ms()});
    return true;
}

static enum wp_err alerts_publish_change(void *ctx, const struct store_alert *alert)
{
    struct alerts *a = ctx;
    char key[160];
    snprintf(key, sizeof key, "%s\t%s", alert->rule, alert->scope);
    struct alerts_inflight *f = alerts_inflight_find(a, key);
    if (f && f->rev == alert->rev
        && wp_monotonic_ms() - f->sent_mono_ms < ALERTS_INFLIGHT_RETRY_MS)
        return WP_OK;   /* on its way */
    if (!alert->payload)
        return WP_OK;
    if (!alerts_announce(a, alert->rule, alert->scope, alert->payload, alert->payload_state,
                         alert->rev, alert->event_rev, alert->announced_rev))
        a->publish_incomplete = true;
    return WP_OK;
}

static void alerts_publish_changes(struct alerts *a)
{
    a->publish_incomplete = false;
    if (store_alert_each(a->store, STORE_ALERTS_UNANNOUNCED, alerts_publish_change, a)
        != WP_OK) {
        wp_log(WP_LOG_ERR, "alerts: listing unannounced alerts: %s", store_errmsg(a->store));
        a->publish_incomplete = true;
    }
    /* In flight is not done, but its PUBACK (or the retry timeout) brings us back. */
    a->dirty = a->publish_incomplete || a->inflight_count > 0;
}

static void alerts_schedule_repeat(struct alerts *a)
{
    a->next_repeat_ms = INT64_MAX;
    if (a->repeat_ms <= 0)
        return;
    bool found = false;
    int64_t announced_ms = 0;
    if (store_alert_first_announced(a->store, &found, &announced_ms) == WP_OK && found)
        a->next_repeat_ms = announced_ms + a->repeat_ms;
}

/* The repeats sent, recorded once the walk is over (no write during it). */
struct alerts_repeats {
    struct alerts *alerts;
    struct { char *rule, *scope; } *done;
    size_t n, cap;
};

static enum wp_err alerts_repeat_one(void *ctx, const struct store_alert *alert)
{
    struct alerts_repeats *r = ctx;
    struct alerts *a = r->alerts;
    /* A silenced alert is not repeated; its time is recorded as if it were, so that the
     * next repeat is not due at once again. */
    if (!alerts_silenced(alert->payload)
        && !a->publish(a->publish_ctx, NULL, ALERTS_EVENTS_TOPIC, alert->payload,
                       strlen(alert->payload), false))
        return WP_OK;
    if (!WP_ARRAY_RESERVE(r->done, r->cap, r->n + 1))
            return WP_ERR_NOMEM;
    r->done[r->n].rule = strdup(alert->rule);
    r->done[r->n].scope = strdup(alert->scope);
    r->n++;
    return WP_OK;
}

static void alerts_publish_repeats(struct alerts *a, int64_t now_ms)
{
    struct alerts_repeats r = {a, NULL, 0, 0};
    store_alert_each_repeat_due(a->store, now_ms - a->repeat_ms, alerts_repeat_one, &r);
    /* A repeat lost in a crash is harmless, so its time is written without waiting for
     * the PUBACK. */
    for (size_t i = 0; i < r.n; i++) {
        if (r.done[i].rule && r.done[i].scope
            && store_alert_repeated(a->store, r.done[i].rule, r.done[i].scope, now_ms) != WP_OK)
            wp_log(WP_LOG_ERR, "alerts: %s", store_errmsg(a->store));
        free(r.done[i].rule);
        free(r.done[i].scope);
    }
    free(r.done);
    alerts_schedule_repeat(a);
}

bool alerts_publish_due(const struct alerts *a, int64_t now_ms)
{
    return a->dirty || (a->repeat_ms > 0 && now_ms >= a->next_repeat_ms);
}

void alerts_publish(struct alerts *a, int64_t now_ms)
{
    if (a->dirty)
        alerts_publish_changes(a);
    if (a->repeat_ms > 0 && now_ms >= a->next_repeat_ms)
        alerts_publish_repeats(a, now_ms);
}

void alerts_on_puback(struct alerts *a, int mid)
{
    struct alerts_inflight *f = alerts_inflight_find_mid(a, mid);
    if (!f)
        return;
    char *tab = strchr(f->key, '\t');
    *tab = '\0';
    int64_t now_ms = wp_now_ms();
    if (store_alert_announced(a->store, f->key, tab + 1, f->rev, f->event_rev > 0, now_ms)
        != WP_OK)
        wp_log(WP_LOG_ERR, "alerts: %s", store_errmsg(a->store));
    if (f->event_rev > 0 && a->repeat_ms > 0 && now_ms + a->repeat_ms < a->next_repeat_ms)
        a->next_repeat_ms = now_ms + a->repeat_ms;
    alerts_inflight_remove(a, f);
    /* A newer rev of the same alert may be waiting for this one to clear. */
    a->dirty = true;
}

void alerts_on_connect(struct alerts *a)
{
    a->dirty = true;
    if (a->repeat_ms > 0 && a->next_repeat_ms == 0)
        alerts_schedule_repeat(a);
}

struct alerts_retained {
    struct alerts *alerts;
    void (*fn)(void *ctx, const char *topic, const char *payload, bool settled);
    void *ctx;
};

static enum wp_err alerts_retained_one(void *ctx, const struct store_alert *alert)
{
    struct alerts_retained *r = ctx;
    char topic[WP_TOPIC_MAX];
    if (snprintf(topic, sizeof topic, WP_TOPIC_ROOT "alert/%s/%s/%s", r->alerts->district,
                 alert->scope, alert->rule) >= (int)sizeof topic)
        return WP_OK;   /* never published either */
    /* The same rule as alerts_announce: only a firing payload is retained. */
    bool firing = alert->payload && alert->payload_state
                  && strcmp(alert->payload_state, "firing") == 0;
    r->fn(r->ctx, topic, firing ? alert->payload : NULL, alert->announced_rev == alert->rev);
    return WP_OK;
}

enum wp_err alerts_each_retained(struct alerts *a,
                                 void (*fn)(void *ctx, const char *topic, const char *payload,
                                            bool settled),
                                 void *ctx)
{
    struct alerts_retained r = {a, fn, ctx};
    enum wp_err rc = store_alert_each(a->store, STORE_ALERTS_ALL, alerts_retained_one, &r);
    if (rc != WP_OK)
        wp_log(WP_LOG_ERR, "alerts: %s", store_errmsg(a->store));
    return rc;
}

void alerts_reap(struct alerts *a)
{
    if (!a->command)
        return;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            wp_log(WP_LOG_WARNING, "alert_command (pid %d) failed: %s %d", (int)pid,
                   WIFEXITED(status) ? "exit status" : "signal",
                   WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        if (pid == a->hook_pid)
            a->hook_pid = 0;
    }
    alerts_next_hook(a);
}

