/* presence.h — the aggregator's retained status on wardpulse/v1/aggregator/status, and
 * what it learns from the statuses of others: two aggregators that share a client_id.
 *
 * The broker keeps one session per client id and hands it to whoever connected last, so
 * two aggregators with the same client_id (on two machines, same broker) take it from
 * each other at every reconnect, and each acks what it alone stored. Each aggregator
 * therefore draws a random instance id at start and puts it, with its client_id, in its
 * status (schemas/aggregator_status.schema.json), and subscribes to that topic itself:
 *
 *   - the retained status (the broker sends it at each of our SUBSCRIBEs, i.e. at every
 *     connection) is another instance's with our client_id and "online", at a
 *     reconnect: the other one connected in between and claims the session →
 *     PRESENCE_STEP_BACK: log the conflict, publish our offline status, stay off the
 *     broker for a while (hold_off_ms, growing), try again;
 *   - the same at our first connection: it may be the previous run of this very
 *     aggregator whose connection the broker has not noticed is dead yet (a power cut) →
 *     PRESENCE_NOTICE only; a live rival shows itself at our next reconnect;
 *   - an "online" status of another instance with our client_id arrives not retained
 *     (live, or queued by the shared session while the other held it) →
 *     PRESENCE_CONFLICT: log the conflict, keep serving;
 *   - the retained status is another instance's "offline" dated (since) no earlier than
 *     this instance started, at a reconnect: our own "online" was retained at our first
 *     connection, so a rival published after it — the one that took the session from us
 *     and stepped back (its goodbye leaves nothing else: it reads its own statuses) →
 *     PRESENCE_CONFLICT;
 *   - any other "offline" of another instance, retained or not, is no evidence: after an
 *     orderly restart it is this aggregator's previous run saying goodbye (also when a
 *     broker that crashed kept an older retained status), and a Last Will says no date.
 * Conflict messages are logged at most once a minute, except those of a step back (one
 * per attempt, and attempts are at least a minute apart).
 *
 * Pure bookkeeping: no MQTT, no database; main.c publishes and disconnects.
 */
#ifndef WP_AGGREGATOR_PRESENCE_H
#define WP_AGGREGATOR_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define PRESENCE_INSTANCE_LEN 16
/* The first step back lasts this long; each further one twice as long, up to the max. */
#define PRESENCE_HOLD_OFF_MIN_MS 60000
#define PRESENCE_HOLD_OFF_MAX_MS 600000
#define PRESENCE_LOG_INTERVAL_MS 60000

struct presence {
    char instance[PRESENCE_INSTANCE_LEN + 1];   /* drawn at presence_init */
    char client_id[256];
    unsigned connects;           /* CONNACKs so far */
    int64_t started_ms;          /* wp_now_ms at presence_init, in whole seconds as "since" */
    int64_t hold_off_ms;         /* the next step back lasts this long */
    int64_t last_log_mono_ms;    /* of the last PRESENCE_CONFLICT message; 0: none */
};

enum presence_verdict {
    PRESENCE_OURS,         /* our own status, not a status at all, or another client_id */
    PRESENCE_NOTICE,       /* logged as a notice; nothing to do */
    PRESENCE_CONFLICT,     /* logged (at most once a minute); keep serving */
    PRESENCE_STEP_BACK,    /* logged; go offline and off the broker for *hold_off_ms */
};

/* Draws the instance id (getrandom). WP_ERR_IO if no randomness is to be had. */
enum wp_err presence_init(struct presence *p, const char *client_id);

/* {"v":1,"state":…,"version":…,"since":…,"instance":…,"client_id":…}; since is left
 * out when NULL (the Last Will, written at start). Caller frees; NULL on no memory. */
char *presence_status_json(const struct presence *p, const char *state, const char *since);

/* After every CONNACK, before the status subscription's retained message arrives. */
void presence_on_connect(struct presence *p);

/* Judges one message on aggregator/status (any payload; an empty one is a cleared
 * status). On PRESENCE_STEP_BACK, *hold_off_ms is how long to stay away. now_mono_ms is
 * wp_monotonic_ms(). */
enum presence_verdict presence_on_status(struct presence *p, const void *payload, size_t len,
                                         bool retained, int64_t now_mono_ms,
                                         int64_t *hold_off_ms);

#endif
