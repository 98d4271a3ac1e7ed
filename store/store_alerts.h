/* store_alerts.h — the alerts table and its history, alert_events (store.h, version 2).
 *
 * An alert is (rule, scope) with a state (pending, firing, resolved), the payload last to
 * be announced and its state, and revisions: rev is bumped by every change the broker
 * must learn, event_rev is the rev of the last transition (announced on events/alert
 * too), announced_rev the last rev the broker acknowledged, announced_ms the last
 * announcement on events/alert (for repeats). alerts.c keeps the state machine; this file
 * only reads and writes rows.
 *
 * Writes that follow an evaluation go inside its transaction (store_begin … store_commit),
 * so what it fires is atomic with it; the announcement bookkeeping (store_alert_announced,
 * store_alert_repeated) runs outside any. A walk hands each row to fn; its strings are
 * valid during the call only, and fn must not write alerts (collect, then write). A fn
 * returning other than WP_OK stops the walk, and that is returned. Errors as store.h
 * says.
 */
#ifndef WP_STORE_ALERTS_H
#define WP_STORE_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

struct store_alert {
    const char *rule;
    const char *scope;
    const char *state;          /* pending | firing | resolved */
    int64_t since_ms;
    const char *payload;        /* NULL while only pending */
    const char *payload_state;  /* firing | resolved; NULL with payload */
    int64_t rev, event_rev, announced_rev;
};

/* The alert (rule, scope): *found false when there is none. state gets its state
 * (state_size bytes), *payload its payload (malloc'd, caller frees; NULL when none). */
enum wp_err store_alert_get(struct store *store, const char *rule, const char *scope,
                            bool *found, char *state, size_t state_size, int64_t *since_ms,
                            char **payload);

/* A new alert. With a payload it is rev 1 and a transition (event_rev 1), else rev 0. */
enum wp_err store_alert_insert(struct store *store, const char *rule, const char *scope,
                               const char *state, int64_t since_ms, const char *payload,
                               const char *payload_state, int64_t now_ms);

/* A new announceable state of an existing alert: rev + 1; event_rev follows when the
 * change is a transition (announced on events/alert too). */
enum wp_err store_alert_update(struct store *store, const char *rule, const char *scope,
                               const char *state, int64_t since_ms, const char *payload,
                               const char *payload_state, bool transition, int64_t now_ms);

/* Only the state (nothing to announce: pending ↔ resolved while never announced). */
enum wp_err store_alert_set_state(struct store *store, const char *rule, const char *scope,
                                  const char *state, int64_t now_ms);

/* Appends a transition to alert_events, dated at_ms. */
enum wp_err store_alert_add_event(struct store *store, const char *rule, const char *scope,
                                  const char *state, const char *severity, int64_t at_ms,
                                  const char *payload);

enum store_alert_filter {
    STORE_ALERTS_ALL,
    STORE_ALERTS_UNANNOUNCED,   /* announced_rev < rev */
    STORE_ALERTS_ACTIVE,        /* state is not resolved */
};

/* Calls fn for each alert the filter selects. */
enum wp_err store_alert_each(struct store *store, enum store_alert_filter filter,
                             enum wp_err (*fn)(void *ctx, const struct store_alert *alert),
                             void *ctx);

/* Calls fn for each firing alert whose firing payload the broker acknowledged and that
 * was last announced at or before announced_before_ms: a repeat is due. */
enum wp_err store_alert_each_repeat_due(struct store *store, int64_t announced_before_ms,
                                        enum wp_err (*fn)(void *ctx,
                                                          const struct store_alert *alert),
                                        void *ctx);

/* The earliest last announcement of the alerts store_alert_each_repeat_due would hand on
 * in time; *found false when none is firing. */
enum wp_err store_alert_first_announced(struct store *store, bool *found,
                                        int64_t *announced_ms);

/* The broker acknowledged rev of (rule, scope) (never moves announced_rev back); with
 * transition, it went to events/alert too, at now_ms. */
enum wp_err store_alert_announced(struct store *store, const char *rule, const char *scope,
                                  int64_t rev, bool transition, int64_t now_ms);

/* A repeat of (rule, scope) went to events/alert at now_ms. */
enum wp_err store_alert_repeated(struct store *store, const char *rule, const char *scope,
                                 int64_t now_ms);

/* One transition of alert_events. */
struct store_alert_event {
    const char *rule, *scope, *state, *severity;
    const char *at;             /* RFC 3339, local */
    const char *payload;
};

/* Calls fn for each transition of alert_events, oldest first. */
enum wp_err store_alert_each_event(struct store *store,
                                   enum wp_err (*fn)(void *ctx,
                                                     const struct store_alert_event *event),
                                   void *ctx);

/* How many alerts are firing. */
enum wp_err store_alert_firing_count(struct store *store, size_t *count);

#endif
