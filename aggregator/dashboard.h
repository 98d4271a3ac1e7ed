/* dashboard.h — the page's state on retained topics (docs/topics-and-payloads.md):
 *
 *   wardpulse/v1/summary/<district>/<scope>   one per reporting unit and one for the
 *                                             served unit (summary.h, summary_payload.h)
 *   wardpulse/v1/series/<district>/<rule>     one per coverage rule of the plan
 *
 * both QoS 1, retained. After an evaluation that committed (dashboard_note_evaluation)
 * the summary is built again with the code `wardpulse status` uses and each coverage
 * rule's series with the code of the weekly report's charts; a payload goes out only
 * when it differs from the last one sent on its topic in more than its "at" (which so
 * says when the content last changed). At most once per evaluation, and paced: the next
 * build waits DASHBOARD_PACE times as long as the last one took (at most
 * DASHBOARD_PACE_MAX_MS, real time), so that a big city spends at most about 1/20 of
 * its time on the page's state; a district's build takes milliseconds and is not held
 * back noticeably. A build runs in steps, one per dashboard_update — the summary, then
 * one coverage rule's series each — so that the daemon's loop serves the broker and
 * evaluates arriving reports between them (a report is never held up by a whole build).
 *
 * The last payloads are kept in memory only: at every (re)connection all of them are
 * published again (dashboard_on_connect), and after a restart the first evaluation
 * builds them all. A topic kept that a whole build no longer makes (a unit or coverage
 * rule a reloaded plan dropped) is cleared with an empty retained payload and forgotten
 * at its PUBACK; one published by an earlier run of the daemon is cleared by the
 * reconciliation after each connection (reconcile.h, dashboard_makes).
 * PUBACKs otherwise only settle what was sent.
 */
#ifndef WP_AGGREGATOR_DASHBOARD_H
#define WP_AGGREGATOR_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "store.h"

#define DASHBOARD_PACE 20
#define DASHBOARD_PACE_MAX_MS 60000

struct dashboard_options {
    /* As alerts_options.publish: QoS 1; false when the message could not be handed to
     * the client (it is then sent again at the next dashboard_publish). */
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
};

struct dashboard;

/* store stays the caller's and must outlive the dashboard. */
enum wp_err dashboard_create(struct store *store, const struct dashboard_options *opts,
                             struct dashboard **out);
void dashboard_destroy(struct dashboard **dashboard);

/* An evaluation committed: the state is built again at the next dashboard_update. */
void dashboard_note_evaluation(struct dashboard *dashboard);

/* Builds the state as of now_ms when an evaluation is noted and the pacing allows (plan
 * NULL: nothing), then publishes what changed and what is still unsent when connected.
 * Outside a transaction. */
void dashboard_update(struct dashboard *dashboard, const struct plan *plan, int64_t now_ms,
                      bool connected);

/* Whether a build is under way: the loop should come back at once for its next step. */
bool dashboard_busy(const struct dashboard *dashboard);

/* Whether topic is one the dashboard makes under plan: summary/<district>/<scope> for a
 * reporting unit or the served unit, series/<district>/<rule> for a coverage rule (plan
 * NULL: none). reconcile.c clears the retained ones it does not make, which an earlier
 * run of the daemon left under a plan since changed. */
bool dashboard_makes(const struct plan *plan, const char *topic);

/* A (re)connection: every payload is sent again at the next dashboard_update. */
void dashboard_on_connect(struct dashboard *dashboard);
void dashboard_on_puback(struct dashboard *dashboard, int mid);

#endif
