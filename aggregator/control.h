/* control.h — officers' commands on wardpulse/v1/control/<district>/<command>
 * (docs/topics-and-payloads.md "Acknowledge and silence").
 *
 * <command> is ack, silence or unsilence; each payload is validated against its schema
 * (schemas/control_<command>.schema.json), recorded in the audit (control_log, even
 * when refused: store_control.h), applied (alerts.h: alerts_acknowledge,
 * alerts_silences_reload) and answered on control/<district>/reply/<id> (reply/unknown
 * when the payload is not JSON or has no usable id) with schemas/control_reply: ok, or
 * the error in the words of the other validation errors. Only the served unit's
 * district is subscribed (control_filter): the broker's ACL lets officers write there.
 *
 * The silences in force are retained on wardpulse/v1/silences/<district>
 * (schemas/silences) whenever their set changes: a silence set, ended, or past its
 * until on the (possibly simulated) clock (control_tick), and at each connection.
 * Silences and acknowledgements are in the store, so they survive a restart.
 */
#ifndef WP_AGGREGATOR_CONTROL_H
#define WP_AGGREGATOR_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "error.h"
#include "store.h"

struct control_options {
    const char *district;     /* the served unit's code; copied */
    struct alerts *alerts;    /* the caller's; must outlive the control */
    /* Publishes at QoS 1 (as alerts_options.publish); mid may be NULL. */
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
};

struct control;

/* Loads the silences in force now into the alerts (a transaction of its own: call
 * before the first evaluation; if the store fails, control_tick tries again). The store
 * stays the caller's. WP_ERR_NOMEM only. */
enum wp_err control_create(struct store *store, const struct control_options *opts,
                           struct control **out);
/* Frees and NULLs *control; accepts NULL. */
void control_destroy(struct control **control);

/* The subscription: wardpulse/v1/control/<district>/+ (valid while control lives). */
const char *control_filter(const struct control *control);

/* Handles topic if it is one of ours (returns true), at the clock's now_ms: a command
 * is committed with its audit before its reply goes out. A retained copy (the broker's
 * store, sent again at each subscription: see main.c on reports) is skipped: the
 * command was handled at its live delivery. Call outside a transaction. */
bool control_on_message(struct control *control, const char *topic, const void *payload,
                        size_t len, bool retained, int64_t now_ms);

/* Silences past their until at now_ms are dropped from the alerts' payloads and from
 * silences/<district>. Call outside a transaction, every turn of the loop. */
void control_tick(struct control *control, int64_t now_ms);

/* After a (re)connection: silences/<district> is published again. */
void control_on_connect(struct control *control);

/* Publishes silences/<district> if due (call when connected). */
void control_publish(struct control *control, int64_t now_ms);

#endif
