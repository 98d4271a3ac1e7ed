/* reconcile.h — after every (re)connection, make the broker's retained alert and level
 * topics say what the database says, and clear page-state topics the plan no longer makes.
 *
 * The aggregator records an announcement as made once the broker acknowledged it
 * (alerts.h, levels.h) and never makes it again. A broker killed between two autosaves
 * forgets what it acknowledged since the last one: a firing alert's retained message is
 * gone, or a resolved one's firing message is back. So on every connection:
 *
 *   1. subscribe (one SUBSCRIBE) to wardpulse/v1/alert/<unit>/#, wardpulse/v1/level/<unit>/#,
 *      wardpulse/v1/summary/<unit>/#, wardpulse/v1/series/<unit>/# and the marker topic
 *      wardpulse/v1/aggregator/reconcile/<unit>, then publish a marker
 *      (QoS 1, not retained, a payload new for this pass) on the marker topic;
 *   2. collect what arrives on the alert and level topics: the broker's retained messages,
 *      sent on the subscription, and our own publishes echoed back;
 *   3. when the marker comes back, every retained message has come before it (mosquitto
 *      queues them for the client when it handles the SUBSCRIBE, and the marker after,
 *      in one queue per client); compare with alerts_each_retained and
 *      levels_each_retained: publish (retained, QoS 1) what is missing or different, clear
 *      (empty retained) what the database does not have or has resolved, and leave alone
 *      what is still to be announced (alerts_publish and levels_publish own it); clear
 *      the summary and series topics the dashboard does not make under the plan in force
 *      (`makes`: a unit or coverage rule a plan of an earlier run had; the dashboard
 *      itself publishes what it does make);
 *   4. unsubscribe from them all.
 *
 * A broker that is right gets no publish. What this module publishes is not recorded
 * anywhere: the next connection checks again, so announced_rev and the repeat bookkeeping
 * of alerts_publish.c stay as they are. A marker that does not come back within
 * RECONCILE_TIMEOUT_MS (a broker whose ACL refuses the marker topic) ends the pass with a
 * warning and nothing fixed.
 */
#ifndef WP_AGGREGATOR_RECONCILE_H
#define WP_AGGREGATOR_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

#include "alerts.h"
#include "error.h"
#include "levels.h"
#include "mqtt_session.h"

#define RECONCILE_TIMEOUT_MS 30000

struct reconcile_options {
    const char *unit;            /* the served unit, <district> of the topics; copied */
    struct wp_mqtt *mqtt;        /* subscribes and unsubscribes with it; the caller's */
    /* As alerts_options.publish (QoS 1). */
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
    struct alerts *alerts;       /* the caller's, must outlive the reconcile */
    struct levels *levels;
    /* Whether a retained summary/ or series/ topic is one the aggregator makes now
     * (dashboard_makes with its plan); NULL: those topics are left alone. */
    bool (*makes)(void *ctx, const char *topic);
    void *makes_ctx;
};

struct reconcile;

enum wp_err reconcile_create(const struct reconcile_options *opts, struct reconcile **out);
/* Frees and NULLs *reconcile; accepts NULL. */
void reconcile_destroy(struct reconcile **reconcile);

/* A connection came up: starts a pass (forgetting one that a lost link interrupted). */
void reconcile_start(struct reconcile *reconcile);

/* Takes a message of the alert, level or marker topics (returns true: it is consumed,
 * also outside a pass), and finishes the pass when the marker comes back. Any other
 * message: returns false. */
bool reconcile_on_message(struct reconcile *reconcile, const char *topic, const void *payload,
                          size_t len);

/* Ends a pass whose marker did not come back in time (call from the loop). */
void reconcile_poll(struct reconcile *reconcile);

#endif
