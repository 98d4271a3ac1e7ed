/* evaluate.h — when and on what the plan's rules run, and with which data.
 *
 * The evaluator is the one dispatch over rule kinds: it fetches what each rule needs
 * through the store (values in force and their series, series.h; the arrival times of
 * reports; task states), rolls wards up into the district where the rule says so
 * (plan.h, enum plan_rollup), calls the pure rule functions of rules.h, hands a level
 * rule's weeks to levels.c and the outcomes to alerts.c, all in one transaction per
 * evaluation:
 *
 *   evaluate_reports   after a batch of reports committed: only the units it touched
 *                      (each such ward, and the district when a rule applies there), over
 *                      all their periods, so a back-filled or corrected report re-evaluates
 *                      the periods it touches;
 *   evaluate_all       at start, after a plan reload, and at every instant when a deadline
 *                      passes without any data (evaluate_next_due_ms: cut-offs and their
 *                      grace, task due dates, local midnights for coverage trends, ISO
 *                      week ends for epidemic levels); it also resolves the alerts of
 *                      rules that left the plan.
 *
 * Rules are evaluated on the district's wards (scope = ward code) and on the district
 * (scope "district"): schedule and task rules on the district use the district's own
 * reports (unit code = district code); coverage, check and level rules use its wards'
 * values rolled up. A city aggregator is the same one level up (plan.h): its districts
 * are the reporting units (scope = district code) and the city is rolled up from them
 * (scope "city"). Each rule runs on the units whose level its applies_to names.
 */
#ifndef WP_AGGREGATOR_EVALUATE_H
#define WP_AGGREGATOR_EVALUATE_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts.h"
#include "error.h"
#include "plan.h"
#include "store.h"

struct evaluate;
struct levels;

/* store, alerts and levels (may be NULL) stay the caller's and must outlive the
 * evaluator. */
enum wp_err evaluate_create(struct store *store, struct alerts *alerts, struct levels *levels,
                            struct evaluate **out);
void evaluate_destroy(struct evaluate **evaluate);

/* The plan in force (NULL: none; nothing is evaluated). The plan stays the caller's and
 * must outlive its use: call again before freeing it. The next evaluate_all rebuilds the
 * schedule cache from scratch, since cut-offs or indicators may have changed. */
void evaluate_set_plan(struct evaluate *evaluate, const struct plan *plan);

/* Notes a stored report's unit for the next evaluate_reports; received_ms (when it
 * arrived) dates the transitions it causes. */
void evaluate_note_report(struct evaluate *evaluate, const char *ward, const char *period,
                          int64_t received_ms);

/* Notes a unit whose delivery changed (reports of it were declared lost) for the next
 * evaluate_reports; at_ms dates the transitions it causes. */
void evaluate_note_unit(struct evaluate *evaluate, const char *ward, int64_t at_ms);

/* Whether units were noted since the last evaluate_reports. */
bool evaluate_has_reports(const struct evaluate *evaluate);

/* Evaluates the units noted since the last call (nothing if none). A transition the data
 * caused is dated when the unit's latest noted report arrived (the district's: any
 * ward's), not when the evaluation ran. */
enum wp_err evaluate_reports(struct evaluate *evaluate, int64_t now_ms);

/* Evaluates every rule on every unit as of now_ms (transitions are dated now_ms: call it
 * with the instant a deadline passed, not when the loop got to it). */
enum wp_err evaluate_all(struct evaluate *evaluate, int64_t now_ms);

/* The next instant after now_ms at which some outcome may change without any data
 * arriving; INT64_MAX when none. */
int64_t evaluate_next_due_ms(const struct evaluate *evaluate, int64_t now_ms);

/* The served unit's series of indicator, rolled up from its reporting units as the
 * rules see it (series.h), for the rollup upward (rollup.h). It belongs to the
 * evaluator's cache and is valid until the next evaluate_* call. WP_ERR_INVALID when
 * there is no plan. */
struct rule_series;
enum wp_err evaluate_rolled_up(struct evaluate *evaluate, const char *indicator,
                               const struct rule_series **out);

#endif
