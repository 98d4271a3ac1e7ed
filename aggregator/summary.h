/* summary.h — what `wardpulse status` shows for each unit, computed by the code that
 * makes the alerts (and, later, what summary/<district>/<scope> publishes: DESIGN.md).
 *
 * For each reporting unit of the served unit (the district's wards; the city's
 * districts) and then the served unit itself, as of an instant:
 *   - when its newest report arrived;
 *   - its reporting under the schedule rules (store_read_rates; the served unit's are
 *     its units' added up, and so is its newest report);
 *   - the epidemic level of the last complete ISO week (the highest over level rules),
 *     with that week and whether it had days missing;
 *   - the alerts firing on it, and how many are critical;
 *   - the coverage of each coverage rule of the plan on its local day: what the rule
 *     itself computes (series_coverage_input, rule_coverage_value), for the served unit
 *     rolled up from its units as the rule rolls it up.
 * Without a plan the units are those the database knows of, named by their level
 * payloads, and there is no coverage.
 *
 * Reads only: the store may be read-only (store_read.h).
 */
#ifndef WP_AGGREGATOR_SUMMARY_H
#define WP_AGGREGATOR_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "store_read.h"

#define SUMMARY_TARGETS_MAX 16

struct summary_unit {
    char code[16];
    const char *name_vi;          /* the plan's; without one the level payload's, or NULL */
    const char *name_en;
    int64_t last_report_ms;       /* 0: none */
    struct store_rates rates;
    int level;                    /* 0: none recorded */
    char level_week[12];          /* its week ("2022-W18"); "" with no level */
    bool level_incomplete;        /* that week had days missing: the level is a floor */
    int firing, critical;         /* alerts firing on it */
    bool has_coverage[SUMMARY_TARGETS_MAX];
    double coverage[SUMMARY_TARGETS_MAX];   /* per target, as targets[] */
};

struct summary {
    int64_t at_ms;                /* the instant it is as of */
    int64_t today;                /* its local day (days since the epoch) */
    size_t target_count;
    const struct plan_rule *targets[SUMMARY_TARGETS_MAX];   /* the plan's coverage rules,
                                                             * in plan order (the first
                                                             * SUMMARY_TARGETS_MAX) */
    size_t unit_count;            /* reporting units + 1 */
    struct summary_unit *units;   /* the reporting units (the plan's in file order, else
                                   * by code), then the served unit */
    char **names;                 /* owned: names taken from level payloads */
};

/* Builds the summary as of now_ms. plan may be NULL; then served_code names the served
 * unit (NULL or "": the one the aggregator wrote in its alerts and levels). The plan and
 * the store stay the caller's; strings of the result point into the plan or the summary.
 * On failure *out is NULL and store_read_error() says why (WP_ERR_DB), or WP_ERR_NOMEM. */
enum wp_err summary_build(struct store *store, const struct plan *plan, const char *served_code,
                          int64_t now_ms, struct summary **out);

/* Frees the summary and NULLs *summary; accepts NULL. */
void summary_free(struct summary **summary);

#endif
