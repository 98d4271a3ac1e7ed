/* values.h — an indicator's values in force (current_values), per ward and period, and
 * the coverage of a target computed from them the way the aggregator does
 * (rules/rule_coverage.c): the value in force at the end of a day over the
 * population group (or the denominator indicator); a district adds up its wards' values.
 */
#ifndef WP_CLI_VALUES_H
#define WP_CLI_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "plan_read.h"

struct cli_point {
    int64_t first_day, last_day;   /* the period: one day, or the seven of a week */
    int64_t value;
};

struct cli_series {
    char ward[16];
    size_t count;
    struct cli_point *points;      /* by last_day, then first_day */
};

/* One indicator, every unit that reported it. */
struct cli_values {
    size_t count;
    struct cli_series *series;     /* by ward code */
};

/* Loads the values in force of indicator. Returns 0, or 1 with the error printed
 * ("wardpulse COMMAND: …"). Free with cli_values_free (also after a failure). */
int cli_values_load(sqlite3 *db, const char *command, const char *indicator,
                    struct cli_values *out);
void cli_values_free(struct cli_values *values);

/* The value in force at the end of day: that of the latest period ending on or before
 * day. False when there is none. */
bool cli_values_as_of(const struct cli_values *values, const char *ward, int64_t day,
                      int64_t *value);

/* The periods that lie within [first, last] rolled up: "sum" adds, "max" takes the
 * largest, "latest" the last. False when there is none. */
bool cli_values_over(const struct cli_values *values, const char *ward, int64_t first,
                     int64_t last, const char *rollup, int64_t *value);

/* Coverage of a coverage rule for unit at the end of day. A ward: its numerator over its
 * population group (or its denominator indicator); the district (unit->level district):
 * its wards' numerators added over its population (or their denominators added). den is
 * NULL when the rule has a population group. False when unknown (nothing reported yet). */
bool cli_coverage(const struct cli_plan *plan, const struct cli_rule *rule,
                  const struct cli_values *num, const struct cli_values *den,
                  const struct cli_unit *unit, const struct cli_unit *const *wards,
                  size_t ward_count, int64_t day, double *ratio);

#endif
