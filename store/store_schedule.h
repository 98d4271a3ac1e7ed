/* store_schedule.h — schedule_status (store.h, version 2): per schedule rule, unit and
 * period whose cut-off has passed, when its expected figures were complete; and the
 * arrival of the figures it is judged from.
 *
 * schedule_status is a cache of what the figures say, rebuilt after a plan change
 * (store_schedule_clear) and kept by the evaluator (evaluate.c); the view
 * reporting_rates sums it. Writes go between store_begin and store_commit. Strings
 * handed to a callback are valid during the call only; a callback returning other than
 * WP_OK stops the walk, and that is returned. Errors as store.h says.
 */
#ifndef WP_STORE_SCHEDULE_H
#define WP_STORE_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

/* Calls fn for each period of (rule, unit) that schedule_status holds: complete_ms is
 * when it was complete as judged (0: not yet), received_ms when its last expected figure
 * arrived (complete_ms in rows written before version 5). */
enum wp_err store_schedule_each_status(struct store *store, const char *rule, const char *unit,
                                       enum wp_err (*fn)(void *ctx, const char *period,
                                                         int64_t complete_ms,
                                                         int64_t received_ms),
                                       void *ctx);

/* Writes (replacing) the row of (rule, unit, period). complete_ms and received_ms: 0 when
 * not complete; on_time is stored as complete_ms > 0 && complete_ms <= due_ms. */
enum wp_err store_schedule_set_status(struct store *store, const char *rule, const char *unit,
                                      const char *period, int64_t due_ms, int64_t complete_ms,
                                      int64_t received_ms);

/* Calls fn for each indicator unit reported for period (a weekly period is also reported
 * by the figures of its days), with when it was first committed at the unit as judged
 * (store.h, version 5) and when it first arrived: a later correction does not make a
 * report late. */
enum wp_err store_schedule_each_arrival(struct store *store, const char *unit,
                                        const char *period,
                                        enum wp_err (*fn)(void *ctx, const char *indicator,
                                                          int64_t judged_ms,
                                                          int64_t received_ms),
                                        void *ctx);

/* Empties schedule_status (the plan changed: cut-offs or indicators may differ). */
enum wp_err store_schedule_clear(struct store *store);

#endif
