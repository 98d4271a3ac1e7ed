/* alerts.h — alert state, persistence and announcement (DESIGN.md "Alerts").
 *
 * An alert is identified by (rule, scope); scope is a ward code or "district". Its
 * state, kept by the store (store_alerts.h), moves as rule outcomes say:
 *
 *   (none) ─PENDING─▶ pending ─FIRING─▶ firing ─OK─▶ resolved ─FIRING─▶ firing …
 *                       └──OK──▶ resolved (silently: a pending alert was never announced)
 *
 * Only firing and resolved are announced. A transition is announced twice over MQTT
 * (QoS 1): retained on wardpulse/v1/alert/<district>/<scope>/<rule> (the alert JSON while
 * firing, an empty retained message once resolved, which clears the topic) and on
 * wardpulse/v1/events/alert. A firing alert whose figures or summary change updates the
 * retained message only (a severity change, e.g. a coverage target at risk that is now
 * missed, is announced on events too, and so is a new value of an outcome whose value is
 * the news, value_is_news: an epidemic level that rises 3 → 4 while firing). A firing
 * alert is repeated on events/alert every repeat_ms (0: never), measured on the
 * (possibly simulated) clock.
 *
 * Crash safety: the state changes in the caller's transaction (the one that evaluated
 * the rules), and an announcement counts as made only when the broker acknowledged it
 * (PUBACK: alerts_on_puback). After a restart, what was recorded but not acknowledged is
 * announced again and nothing else: no firing alert is lost, none is announced twice
 * (save when the process dies between the broker's PUBACK and recording it, where
 * at-least-once must choose to repeat rather than lose).
 *
 * Optional command hook: each announced transition runs `/bin/sh -c command` with the
 * alert JSON on standard input and WP_ALERT_RULE, WP_ALERT_SCOPE, WP_ALERT_STATE,
 * WP_ALERT_SEVERITY, WP_ALERT_SUMMARY_VI, WP_ALERT_SUMMARY_EN in its environment
 * (e-mail or SMS gateways). The daemon does not wait for it, but the commands run one at
 * a time, in the order of the transitions: while one runs, the next payloads wait in a
 * queue (at most 1000, ALERTS_HOOK_QUEUE_MAX; beyond, the oldest is dropped with a
 * warning), and alerts_reap starts the next when the previous has exited. So a gateway
 * receives "firing level 3" before "firing level 4", however loaded the machine.
 */
#ifndef WP_AGGREGATOR_ALERTS_H
#define WP_AGGREGATOR_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "rules.h"
#include "store.h"

struct alerts_options {
    const char *district;        /* three digits; copied */
    int64_t repeat_ms;           /* 0: no repeats */
    const char *command;         /* NULL: no hook; copied */
    /* Publishes at QoS 1; returns true if libmosquitto took the message (also when it
     * queued it for the next connection) and sets *mid. payload may be empty (len 0). */
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
};

struct alerts;

/* The store stays the caller's and must outlive the alerts. */
enum wp_err alerts_create(struct store *store, const struct alerts_options *opts,
                          struct alerts **out);
/* Frees and NULLs *alerts (a running hook is left to run; those still waiting are
 * dropped); accepts NULL. */
void alerts_destroy(struct alerts **alerts);

/* Applies the outcome of (rule, scope) evaluated at now_ms. A transition is dated: for
 * firing, the outcome's since_ms if it has one (a deadline), else event_ms, else now_ms;
 * for resolved, event_ms, else now_ms. event_ms is when the data that caused the
 * evaluation arrived (0: none, the clock did). Call inside a store transaction; what must
 * be announced is announced by alerts_publish after the commit. On an error the caller
 * rolls back, and must then call alerts_rollback. */
enum wp_err alerts_record(struct alerts *alerts, const struct plan_rule *rule,
                          const char *scope, const struct rule_outcome *outcome,
                          int64_t now_ms, int64_t event_ms);

/* A full evaluation (start, reload, tick) brackets its alerts_record calls with these:
 * alerts_sweep_end resolves every pending or firing alert that was not recorded since
 * alerts_sweep_begin, i.e. whose rule left the plan or no longer applies to its scope.
 * Inside the same transaction. */
void alerts_sweep_begin(struct alerts *alerts);
enum wp_err alerts_sweep_end(struct alerts *alerts, int64_t now_ms);

/* Forgets the bookkeeping of a transaction that was rolled back. */
void alerts_rollback(struct alerts *alerts);

/* Announces what was recorded and not yet acknowledged, and the repeats that are due.
 * Call outside a transaction, when connected. */
void alerts_publish(struct alerts *alerts, int64_t now_ms);

/* True when alerts_publish has something to do at now_ms (an unannounced change or a
 * due repeat), so that the main loop need not query for nothing. */
bool alerts_publish_due(const struct alerts *alerts, int64_t now_ms);

/* The broker acknowledged our publish mid (any of ours: unknown mids are ignored). */
void alerts_on_puback(struct alerts *alerts, int mid);

/* After a reconnect: publishes whose PUBACK never came are sent again (libmosquitto
 * re-sends its own in-flight messages, but not those it dropped). */
void alerts_on_connect(struct alerts *alerts);

/* For reconcile.h: calls fn once per alert of the table with its retained topic
 * (wardpulse/v1/alert/<district>/<scope>/<rule>) and what the broker should hold there
 * by the last announcement it acknowledged: the firing payload, or NULL (nothing: never
 * announced, or resolved). settled is false while a change is still to be announced
 * (announced_rev < rev): alerts_publish sends it, and the topic is left to it. The
 * strings are valid during the call only. Call outside a transaction. */
enum wp_err alerts_each_retained(struct alerts *alerts,
                                 void (*fn)(void *ctx, const char *topic, const char *payload,
                                            bool settled),
                                 void *ctx);

/* Officers' acknowledgements and silences (control.h applies the commands; contract in
 * docs/topics-and-payloads.md). An acknowledgement is the firing payload's
 * "acknowledged" field: kept while the episode goes on, dropped by the resolve. A
 * silence covering (rule, scope) at the evaluation instant adds "silenced" to the
 * payload; such an alert is still recorded and announced, but its transitions run no
 * hook and it is not repeated. A change of either re-publishes the retained alert
 * only (no event). */

/* Acknowledges the firing alert (rule, scope) for by at now_ms (note may be NULL).
 * WP_ERR_INVALID with err set when there is no such alert or it is not firing. Inside a
 * store transaction, like alerts_record. */
enum wp_err alerts_acknowledge(struct alerts *alerts, const char *rule, const char *scope,
                               const char *by, const char *note, int64_t now_ms, char *err,
                               size_t errlen);

/* Loads the silences in force at now_ms from the store (store_control.h) and sets or
 * clears "silenced" on every firing alert accordingly. Inside a store transaction. */
enum wp_err alerts_silences_reload(struct alerts *alerts, int64_t now_ms);

/* The clock instant the first loaded silence ends (INT64_MAX: none): the caller reloads
 * then. */
int64_t alerts_silences_next_end(const struct alerts *alerts);

/* Collects exited hook commands and starts the next waiting one (never blocks). */
void alerts_reap(struct alerts *alerts);

/* Alerts firing now (for the logs and aggregator/stats). */
size_t alerts_firing_count(struct alerts *alerts);

#endif
