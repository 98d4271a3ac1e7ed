/* alerts_private.h — shared by alerts.c (state) and alerts_publish.c (announcement)
 * only; the contract is alerts.h. */
#ifndef WP_AGGREGATOR_ALERTS_PRIVATE_H
#define WP_AGGREGATOR_ALERTS_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "alerts.h"
#include "hash_index.h"
#include "store_alerts.h"

/* A publish the broker has not acknowledged in this long (real time) is sent again:
 * libmosquitto re-sends its in-flight messages after a reconnect, so this only catches
 * a message it dropped. */
#define ALERTS_INFLIGHT_RETRY_MS 60000

/* At most this many alert payloads wait for the hook (alerts.h): the oldest is dropped. */
#define ALERTS_HOOK_QUEUE_MAX 1000

struct alerts_inflight {
    int mid;                 /* of the last message of the announcement */
    char *key;               /* "rule\tscope" */
    uint64_t key_hash;       /* wp_index_hash_str(key) */
    int64_t rev;
    int64_t event_rev;       /* the transition already sent on events/alert (0: none), so
                              * that figure updates on its heels go to the retained topic
                              * only, even before its PUBACK */
    int64_t sent_mono_ms;
};

struct alerts {
    struct store *store;
    char district[8];
    int64_t repeat_ms;
    char *command;
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;

    bool dirty;              /* unannounced changes may exist */
    bool publish_incomplete; /* alerts_publish could not hand everything to the broker */
    int64_t next_repeat_ms;  /* clock time of the next due repeat; INT64_MAX: none */
    struct alerts_inflight *inflight;
    size_t inflight_count, inflight_cap;
    /* inflight by key and by mid: a burst under a plan has thousands of alerts in flight,
     * and each announcement and each PUBACK looks one up (alerts_publish.c). */
    struct wp_index inflight_by_key, inflight_by_mid;

    /* The hook runs one command at a time, in the order of the transitions: hook_pid is
     * the one running (0: none), hook_queue the payloads waiting (a ring, oldest at
     * hook_head). */
    pid_t hook_pid;
    char **hook_queue;
    size_t hook_head, hook_count;

    /* The silences in force as last loaded (alerts_silences_reload), for the payloads'
     * "silenced" field; one past its until_ms no longer covers anything. */
    struct alerts_silence {
        int64_t id, until_ms;
        char *rule, *scope, *by;   /* rule, scope NULL: any */
    } *silences;
    size_t silence_count, silence_cap;

    bool sweeping;
    char **swept;            /* keys recorded since alerts_sweep_begin */
    size_t swept_count, swept_cap;
};

/* payload (an alert JSON of (rule, scope)) with its "acknowledged" set to acknowledged
 * (NULL: none) and its "silenced" to the silence covering it at now_ms (none: absent).
 * Caller frees; NULL when out of memory. alerts_control.c. */
char *alerts_decorate(const struct alerts *a, const char *payload, const char *rule,
                      const char *scope, const cJSON *acknowledged, int64_t now_ms);

/* Frees the in-memory silences (alerts_destroy). */
void alerts_silences_free(struct alerts *a);

/* Frees the payloads waiting for the hook (alerts_destroy). */
void alerts_hook_queue_free(struct alerts *a);

#endif
