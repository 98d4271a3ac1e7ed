/* levels.h — the epidemic level of each ward and of the district, kept and published.
 *
 * Every level rule evaluation (evaluate.c) hands its weekly levels here: each week is
 * kept by the store (store_levels.h) and the latest week of each unit is
 * published retained (QoS 1) on wardpulse/v1/level/<district>/<scope> as
 *
 *   {"v":1, "district":"001", "scope":"00001", "name":"Phường Phúc Xá", "week":"2022-W18",
 *    "level":3, "color":"orange", "previous_level":2, "complete":true,
 *    "transmission_level":3, "criteria":"218",
 *    "document":"Quyết định 218/QĐ-BYT …", "rates":{"cases_new_community":65.5},
 *    "rule":"epidemic-level", "since":"2022-05-09T00:00:00+07:00"}
 *
 * (rates per criterion indicator, per the criterion's "per"; since = the end of the
 * week; "complete":false with "missing_days" for a week with days missing, whose level
 * is then a floor, never lowered for missing figures: rules.h rule_level_weeks). Whether
 * the broker holds the latest payload is recorded in the store too, so a restart
 * publishes only what changed, like alerts. A plan has one level rule; with
 * several, the last one evaluated owns the topic.
 */
#ifndef WP_AGGREGATOR_LEVELS_H
#define WP_AGGREGATOR_LEVELS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "plan.h"
#include "rules.h"
#include "store.h"

struct levels_options {
    const char *district;   /* copied */
    /* As alerts_options.publish. */
    bool (*publish)(void *ctx, int *mid, const char *topic, const char *payload, size_t len,
                    bool retain);
    void *publish_ctx;
};

struct levels;

enum wp_err levels_create(struct store *store, const struct levels_options *opts,
                          struct levels **out);
void levels_destroy(struct levels **levels);

/* Keeps the weeks of unit (oldest first) and, if the latest differs from what is
 * published, schedules its publication. Inside the evaluation's transaction. */
enum wp_err levels_record(struct levels *levels, const struct plan *plan,
                          const struct plan_rule *rule, const struct rule_unit *unit,
                          const struct level_week *weeks, size_t count);

/* Publishes what is not yet acknowledged (call when connected, outside a transaction). */
bool levels_publish_due(const struct levels *levels);
void levels_publish(struct levels *levels);
void levels_on_puback(struct levels *levels, int mid);
void levels_on_connect(struct levels *levels);
/* For reconcile.h: calls fn once per (rule, scope) with a level published, with its topic
 * (wardpulse/v1/level/<district>/<scope>) and the payload the broker should retain there;
 * settled is false while that payload is not yet acknowledged (levels_publish sends it).
 * Strings are valid during the call only. Outside a transaction. */
enum wp_err levels_each_retained(struct levels *levels,
                                 void (*fn)(void *ctx, const char *topic, const char *payload,
                                            bool settled),
                                 void *ctx);
/* A rolled-back evaluation may have scheduled publications that are not in the table. */
void levels_rollback(struct levels *levels);

#endif
