/* plan_read.h — the plan as the reading commands need it: names of the units, their
 * populations, the indicators' names and the rules' targets (plan_dir: orgunits.json,
 * catalog.json, plan.json; format in schemas/ and plan/plan.h).
 *
 * Each file is checked against its schema compiled into wardpulse, so a file the
 * aggregator would refuse is refused here too, naming the file and the JSON path. The
 * commands only read names and numbers; the cross-file checks are the aggregator's.
 *
 * Every string points into the parsed documents, owned by the plan: valid until
 * cli_plan_free().
 */
#ifndef WP_CLI_PLAN_READ_H
#define WP_CLI_PLAN_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_DAY_NONE INT64_MIN

enum cli_unit_level { CLI_UNIT_CITY, CLI_UNIT_DISTRICT, CLI_UNIT_WARD };

struct cli_unit {
    const char *code;
    enum cli_unit_level level;
    const char *name_vi;
    const char *name_en;           /* name_vi when the file gives none */
    const char *parent;            /* "" for a city */
    struct cJSON *population;      /* {"total": 14500, …} or NULL */
};

struct cli_indicator {
    const char *id;
    const char *name_vi, *name_en;
    const char *kind;              /* daily, cumulative, gauge */
    const char *rollup;            /* sum, max, latest */
    const char *unit;              /* "người", or "" */
};

enum cli_rule_kind { CLI_RULE_COVERAGE, CLI_RULE_SCHEDULE, CLI_RULE_TASK, CLI_RULE_CHECK,
                     CLI_RULE_LEVEL, CLI_RULE_OTHER };

struct cli_rule {
    const char *id;
    enum cli_rule_kind kind;
    const char *name_vi, *name_en;
    const char *severity;
    /* coverage */
    const char *numerator;
    const char *population;        /* group, or NULL when denominator is set */
    const char *denominator;       /* indicator, or NULL */
    double target;
    int64_t deadline_day;
    /* schedule: the indicators a complete report holds */
    size_t indicator_count;
    const char **indicators;
};

struct cli_plan {
    const char *dir;
    const char *title_vi, *title_en;
    const char *district;          /* scope.district, or NULL */
    int utc_offset_minutes;
    size_t unit_count;
    struct cli_unit *units;
    size_t indicator_count;
    struct cli_indicator *indicators;
    size_t rule_count;
    struct cli_rule *rules;
    struct cJSON *docs[3];         /* owns every string above */
};

/* Loads dir. Returns 0 and *out (free with cli_plan_free), or 1 with err filled:
 * "plans/x/plan.json: rules[3].target: must be ≤ 1". */
int cli_plan_load(const char *dir, struct cli_plan **out, char *err, size_t errlen);

void cli_plan_free(struct cli_plan **plan);

const struct cli_unit *cli_plan_unit(const struct cli_plan *plan, const char *code);
const struct cli_indicator *cli_plan_indicator(const struct cli_plan *plan, const char *id);

/* The district to report on: code if given (must be a district of the plan), else the
 * plan's scope.district, else its only district. NULL with err filled otherwise. */
const struct cli_unit *cli_plan_district(const struct cli_plan *plan, const char *code,
                                         char *err, size_t errlen);

/* The wards of district in file order, into out (at most max); returns how many. */
size_t cli_plan_wards(const struct cli_plan *plan, const struct cli_unit *district,
                      const struct cli_unit **out, size_t max);

/* People of group in unit: its own figure, else the sum over its wards when each gives
 * one. False when unknown. */
bool cli_plan_population(const struct cli_plan *plan, const struct cli_unit *unit,
                         const char *group, int64_t *people);

#endif
