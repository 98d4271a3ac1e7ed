/* summary_payload.h — the codecs of the page's state: summary/<district>/<scope> (one
 * unit of a summary, summary.h) and series/<district>/<rule> (a coverage rule over time).
 * Schemas: schemas/summary.schema.json, schemas/series.schema.json; contract in
 * docs/topics-and-payloads.md.
 *
 * The summary payload is only a layout of struct summary: the aggregator publishes it
 * and `wardpulse status --format json` prints it, so both say what one computation
 * found. The series payload's points are series_coverage_days' (series.h), the code the
 * weekly report's charts use. Values are fractions rounded to 4 decimals.
 */
#ifndef WP_AGGREGATOR_SUMMARY_PAYLOAD_H
#define WP_AGGREGATOR_SUMMARY_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "series.h"
#include "summary.h"

/* The scope of unit i of s: a reporting unit's code, or the served unit's alert scope
 * ("district"; "city" on a city aggregator) for the last. */
const char *summary_payload_scope(const struct summary *s, const struct plan *plan, size_t i);

/* The payload of unit i of s (plan may be NULL: the level of unit is then null). The
 * district is the served unit's code (the summary's last unit). Returns a string the
 * caller frees, or NULL when out of memory. */
char *summary_payload(const struct summary *s, const struct plan *plan, size_t i);

/* The series payload of coverage rule rule as of at_ms: for the served unit and then
 * each reporting unit, one point per day from the unit's first figure to at_ms's local
 * day, where the rule computes a value. *out is the caller's to free; NULL on failure
 * (WP_ERR_NOMEM, or the store's error from the cache). */
enum wp_err series_payload(struct series_cache *cache, const struct plan *plan,
                           const struct plan_rule *rule, int64_t at_ms, char **out);

#endif
