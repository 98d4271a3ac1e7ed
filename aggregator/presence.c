/* presence.c — the aggregator's status and rivals on its client_id (contract in
 * presence.h). */
#include "presence.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "calendar.h"
#include "clock.h"
#include "log.h"
#include "schema_registry.h"
#include "status_payload.h"
#include "timefmt.h"

enum wp_err presence_init(struct presence *p, const char *client_id)
{
    memset(p, 0, sizeof *p);
    snprintf(p->client_id, sizeof p->client_id, "%s", client_id);
    p->hold_off_ms = PRESENCE_HOLD_OFF_MIN_MS;
    p->started_ms = wp_floor_div(wp_now_ms(), 1000) * 1000;   /* "since" has whole seconds */
    unsigned char bytes[PRESENCE_INSTANCE_LEN / 2];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno != EINTR)
            return WP_ERR_IO;
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf(p->instance + 2 * i, 3, "%02x", bytes[i]);
    return WP_OK;
}

char *presence_status_json(const struct presence *p, const char *state, const char *since)
{
    struct wp_status status = {.state = state, .since = since, .version = WARDPULSE_VERSION,
                               .queued = -1, .instance = p->instance,
                               .client_id = p->client_id};
    return wp_status_encode(&status);
}

void presence_on_connect(struct presence *p)
{
    p->connects++;
}

static const char *presence_string(const cJSON *doc, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

enum presence_verdict presence_on_status(struct presence *p, const void *payload, size_t len,
                                         bool retained, int64_t now_mono_ms,
                                         int64_t *hold_off_ms)
{
    enum presence_verdict verdict = PRESENCE_OURS;
    char why[256];
    cJSON *doc = len ? cJSON_ParseWithLength(payload, len) : NULL;
    if (!doc || !wp_schemas_validate("aggregator_status", doc, why, sizeof why))
        goto cleanup;   /* a cleared status, an older aggregator's, or garbage: no rival */
    const char *instance = presence_string(doc, "instance");
    const char *client_id = presence_string(doc, "client_id");
    const char *state = presence_string(doc, "state");
    const char *since = presence_string(doc, "since");
    const char *version = presence_string(doc, "version");
    if (!instance || !client_id || !state || strcmp(instance, p->instance) == 0
        || strcmp(client_id, p->client_id) != 0)
        goto cleanup;

    /* Only the retained status says who holds the session now; one that was queued in
     * the shared session is history, though it proves the rival. */
    bool online = retained && strcmp(state, "online") == 0;
    int64_t since_ms = 0;
    bool stepped_back = retained && p->connects > 1 && strcmp(state, "offline") == 0 && since
                        && wp_datetime_parse(since, &since_ms) && since_ms >= p->started_ms;
    if (online && p->connects <= 1) {
        verdict = PRESENCE_NOTICE;
        wp_log(WP_LOG_NOTICE, "the broker's aggregator/status was that of another instance "
               "(%s, online since %s) with this client_id %s: the previous run of this "
               "aggregator if the broker has not yet seen its connection die; if another "
               "aggregator uses the same client_id, the next reconnect will say so",
               instance, since ? since : "?", p->client_id);
    } else if (online) {
        verdict = PRESENCE_STEP_BACK;
        *hold_off_ms = p->hold_off_ms;
        wp_log(WP_LOG_ERR, "client_id conflict: another aggregator (instance %s, version %s, "
               "online since %s) uses the same client_id %s on this broker; the broker gives "
               "the session to whichever connected last, so the two take it from each other "
               "and each acknowledges only what it stored. This one (instance %s) steps back: "
               "offline and off the broker for %lld s, then it tries again. Give each "
               "aggregator its own client_id, or stop one of them", instance,
               version ? version : "?", since ? since : "?", p->client_id, p->instance,
               (long long)(p->hold_off_ms / 1000));
        p->hold_off_ms *= 2;
        if (p->hold_off_ms > PRESENCE_HOLD_OFF_MAX_MS)
            p->hold_off_ms = PRESENCE_HOLD_OFF_MAX_MS;
    } else if (strcmp(state, "online") == 0 || stepped_back) {
        /* An "online" proves a rival, and an "offline" retained after our own "online"
         * (presence.h); any other "offline" of another instance is, after an orderly
         * restart, this aggregator's previous run saying goodbye while still subscribed. */
        verdict = PRESENCE_CONFLICT;
        if (p->last_log_mono_ms == 0
            || now_mono_ms - p->last_log_mono_ms >= PRESENCE_LOG_INTERVAL_MS) {
            p->last_log_mono_ms = now_mono_ms;
            wp_log(WP_LOG_ERR, "client_id conflict: another aggregator (instance %s, version "
                   "%s, %s) used the same client_id %s on this broker and took this one's "
                   "session; this one (instance %s) keeps serving. Give each aggregator its "
                   "own client_id, or stop one of them (logged at most once a minute)",
                   instance, version ? version : "?", state, p->client_id, p->instance);
        }
    }

cleanup:
    cJSON_Delete(doc);
    return verdict;
}
