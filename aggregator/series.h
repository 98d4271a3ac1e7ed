/* series.h — the value series that coverage, check, ratio, announce and level rules look
 * at, per ward or rolled up over the district's wards. Only series: the rules are run on
 * them by evaluate.c, and the values are read through the store (store.h).
 *
 * A ward's series of an indicator is its values in force (store.h), one point per
 * period, ordered by the period's last day. The district's series has a point for every
 * period any ward reported, combining the wards' values as the catalog's rollup says:
 * sum adds the wards' values of that period; max takes the largest; latest adds each
 * ward's latest value up to that period (a ward that did not report that day still
 * counts with what it last reported, so a cumulative total never drops for a missing
 * report). A district comparison between two indicators (a check rule, and a ratio
 * rule's pair) is the exception: for each period it adds up only the wards that
 * reported both, so a rolled-up daily count is not compared with a total over wards it
 * leaves out (series_district_pair).
 *
 * Series are cached across evaluations: several rules read the same indicator of the
 * same unit, and a deadline's evaluation of every unit finds most of them unchanged. A
 * ward's series take the values in force of a period it reports (series_cache_update),
 * the district's are rebuilt from its wards', and all are dropped when the plan changes
 * (series_cache_clear).
 */
#ifndef WP_AGGREGATOR_SERIES_H
#define WP_AGGREGATOR_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "rules.h"
#include "store.h"

struct series_cache;

enum wp_err series_cache_create(struct store *store, struct series_cache **out);
void series_cache_destroy(struct series_cache **cache);
void series_cache_clear(struct series_cache *cache);
/* Drops the series of unit_code and of district_code. */
void series_cache_invalidate(struct series_cache *cache, const char *unit_code,
                             const char *district_code);

/* After a report of ward for period was committed: its cached series take the period's
 * values in force (store_each_value_in), and the district's are dropped. Falls back to
 * series_cache_invalidate when it cannot. */
void series_cache_update(struct series_cache *cache, const char *ward, const char *period,
                         const char *district_code);

/* The series of indicator for unit (a ward, or the plan's district: rolled up). The
 * series belongs to the cache and lives until the next series_cache_clear or
 * series_cache_invalidate or series_cache_update of its unit. */
enum wp_err series_get(struct series_cache *cache, const struct plan *plan,
                       const struct plan_unit *unit, const char *indicator,
                       const struct rule_series **out);

/* What a coverage rule is given for unit on day (rules.h, struct coverage_input): its
 * numerator's series, the population group or the denominator indicator's value in force
 * on day (and its series); expected_from_day is left PLAN_DAY_NONE for the caller. The
 * series belong to the cache (as for series_get). evaluate.c feeds the rule from
 * here, and the CLI asks the same (rule_coverage_value) for what it shows. */
enum wp_err series_coverage_input(struct series_cache *cache, const struct plan *plan,
                                  const struct plan_rule *rule, const struct plan_unit *unit,
                                  int64_t day, struct coverage_input *in);

/* The last day of the first period with a figure of rule's numerator (a coverage rule)
 * for unit; PLAN_DAY_NONE when there is none. */
enum wp_err series_first_figure(struct series_cache *cache, const struct plan *plan,
                                const struct plan_rule *rule, const struct plan_unit *unit,
                                int64_t *day);

/* A coverage rule's value for unit over time: for k < count, has[k] and value[k] are what
 * the rule computes on day first_day + k * step (series_coverage_input, then
 * rule_coverage_value); has[k] is false where it computes none. The weekly report's
 * charts (step 7) and the aggregator's series topic (step 1) are both made here. */
enum wp_err series_coverage_days(struct series_cache *cache, const struct plan *plan,
                                 const struct plan_rule *rule, const struct plan_unit *unit,
                                 int64_t first_day, int step, size_t count, bool *has,
                                 double *value);

/* A district comparison between two indicators (a check, or a ratio rule's numerator and
 * denominator), period by period, over the wards that reported both for that period: a
 * ward whose report has not come yet is left out of both sides, so a rolled-up daily
 * count is never compared with a total that includes wards it does not (every
 * afternoon, before the last ward reports). The two series are the caller's to free
 * (l->points, r->points). */
enum wp_err series_district_pair(struct series_cache *cache, const struct plan *plan,
                                 const char *left, const char *right, struct rule_series *l,
                                 struct rule_series *r);

#endif
