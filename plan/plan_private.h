/* plan_private.h — shared by plan_load.c and plan_rules.c only (not a public contract).
 *
 * Everything of a plan is allocated from its arena and freed at once by plan_free, so
 * that the many small strings of a plan need no bookkeeping and a half-loaded plan
 * frees as cleanly as a whole one.
 */
#ifndef WP_AGGREGATOR_PLAN_PRIVATE_H
#define WP_AGGREGATOR_PLAN_PRIVATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "plan.h"

/* Zeroed memory from the arena; NULL when out of memory. */
void *plan_arena_alloc(struct plan_arena *arena, size_t size);
/* A copy of s in the arena; NULL when out of memory (or s is NULL). */
const char *plan_arena_strdup(struct plan_arena *arena, const char *s);

/* Member `name` of obj as a string / number, or fallback when absent (the schema has
 * already checked the types). */
const char *plan_json_string(const cJSON *obj, const char *name);
double plan_json_number(const cJSON *obj, const char *name, double fallback);
/* "YYYY-MM-DD" member as days since epoch, or PLAN_DAY_NONE when absent. */
int64_t plan_json_day(const cJSON *obj, const char *name);

/* Parses and checks plan.json's rules into plan->rules; plan's units, district, wards,
 * catalog and arena are loaded. On failure err holds "rules[i].field: why" (the caller
 * prefixes the file) and the result is WP_ERR_CONFIG or WP_ERR_NOMEM. */
enum wp_err plan_rules_load(struct plan *plan, const cJSON *rules, char *err, size_t errlen);

#endif
