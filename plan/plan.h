/* plan.h — the plan the aggregator evaluates: units, catalog and rules, loaded from
 * plan_dir (orgunits.json, catalog.json, plan.json; DESIGN.md "The plan").
 *
 * plan_load() reads the three files, validates each against its embedded schema, then
 * checks what a schema cannot, and refuses the whole plan on the first problem with the
 * file and the JSON path named:
 *   orgunits.json  codes unique; every parent exists and is one level up; the unit the
 *                  aggregator serves (a district, or a city) exists and has reporting
 *                  units (the district's wards, or the city's districts)
 *   catalog.json   indicator and task ids unique; bounds.min ≤ bounds.max
 *   plan.json      rule ids unique; scope.district (if set) is the aggregator's district
 *                  and scope.city its city; every indicator and task a rule names is in
 *                  the catalog; every population group a rule names is given for every
 *                  unit the rule applies to (a district or city without its own figure
 *                  counts as the sum of its children); unit codes among task assignees
 *                  are the served unit or its reporting units; level versions do not
 *                  overlap and their thresholds increase
 *
 * The hierarchy: an aggregator serves one unit, and the units one level below report to
 * it. A district aggregator's reporting units are its wards; a city aggregator's are its
 * districts, each of which reports its wards' figures rolled up (rollup.h). Everything
 * below says "district" and "wards" for the served unit and its reporting units, as the
 * district aggregator knows them; for a city aggregator read "city" and "districts".
 * e.g. "plan.json: rules[3].numerator: indicator \"vacc_x\" is not in catalog.json".
 *
 * A loaded plan is immutable. Everything it holds (strings, arrays) belongs to it and
 * lives until plan_free(); pointers into it must not outlive it. A reload builds a new
 * plan and swaps it in only once it loaded completely, so a bad file never replaces a
 * good plan.
 *
 * Days are "days since 1970-01-01" in the plan's local time (utc_offset); instants are
 * Unix milliseconds.
 */
#ifndef WP_AGGREGATOR_PLAN_H
#define WP_AGGREGATOR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "report.h"

#define PLAN_DAY_NONE INT64_MIN   /* an optional day that is not set */
#define PLAN_SILENCE_DAYS 7       /* plan.json silence_days when absent */

struct plan_text {
    const char *vi;
    const char *en;
};

enum plan_unit_level { PLAN_UNIT_CITY, PLAN_UNIT_DISTRICT, PLAN_UNIT_WARD };

struct plan_population {
    const char *group;      /* "total", "18p", "5_11" … */
    int64_t people;
    bool estimated;         /* orgunits.json "population_estimated" marks it */
};

struct plan_unit {
    const char *code;
    size_t index;           /* its position in plan->units */
    enum plan_unit_level level;
    const char *name_vi;    /* "Phường Phúc Xá" */
    const char *name_en;    /* name_en of the file, or name_vi when absent */
    const char *parent;     /* "" for a city */
    size_t population_count;
    const struct plan_population *population;
};

enum plan_indicator_kind { PLAN_INDICATOR_DAILY, PLAN_INDICATOR_CUMULATIVE, PLAN_INDICATOR_GAUGE };

/* Over a longer period: sum adds, max takes the largest, latest the value of the latest
 * period. Over the wards of a district: max takes the largest, sum and latest add (a
 * district's cumulative total or current gauge is the sum of its wards' latest values). */
enum plan_rollup { PLAN_ROLLUP_SUM, PLAN_ROLLUP_MAX, PLAN_ROLLUP_LATEST };

struct plan_indicator {
    const char *id;
    struct plan_text name;
    enum plan_indicator_kind kind;
    enum plan_rollup rollup;
    const char *unit;
    bool has_min, has_max;
    int64_t min, max;
    bool rollup_up;         /* catalog "rollup_up": the district reports it upward */
};

struct plan_task {
    const char *id;
    struct plan_text name;
};

/* PLAN_RULE_LOST is never in plan.json: it is wardpulse's own rule on reports the
 * delivery protocol had to declare lost (evaluate.c holds it; alert kind
 * "reports_lost"), evaluated on every unit whatever the plan. PLAN_RULE_RATIO ("ratio"
 * in plan.json, alert kind "target_missed") and PLAN_RULE_ANNOUNCE ("announce", alert kind
 * "announcement") come after it so that the values of the others stay what they were. */
enum plan_rule_kind { PLAN_RULE_COVERAGE, PLAN_RULE_SCHEDULE, PLAN_RULE_TASK, PLAN_RULE_CHECK,
                      PLAN_RULE_LEVEL, PLAN_RULE_LOST, PLAN_RULE_RATIO, PLAN_RULE_ANNOUNCE,
                      PLAN_RULE_FLOOD };

/* The ids of wardpulse's own rules; a plan may use neither. PLAN_RULE_FLOOD (alert kind
 * "refusals_over_bound") is, like PLAN_RULE_LOST, never in plan.json: a unit whose
 * refused messages went over the district's daily bound that day. */
#define PLAN_RULE_LOST_ID "reports-lost"
#define PLAN_RULE_FLOOD_ID "refusals-over-bound"
enum plan_severity { PLAN_SEVERITY_INFO, PLAN_SEVERITY_WARNING, PLAN_SEVERITY_CRITICAL };

/* Bit set: the levels of units a rule is evaluated on (applies_to "both" = ward and
 * district). A district aggregator evaluates its wards and its district, a city
 * aggregator its districts and its city; a rule whose levels are not among those is
 * loaded but evaluated nowhere there (a plan may serve both kinds of aggregator). */
enum { PLAN_APPLIES_WARD = 1, PLAN_APPLIES_DISTRICT = 2, PLAN_APPLIES_CITY = 4 };

struct plan_coverage {
    const char *numerator;        /* cumulative indicator */
    const char *population;       /* group, or NULL when denominator is set */
    const char *denominator;      /* indicator, or NULL */
    double target;                /* ratio, (0, 1] */
    int64_t deadline_day;
    int trend_days;               /* 14 when absent */
    int silence_days;             /* the rule's, else the plan's silence_days */
};

struct plan_schedule {
    bool weekly;
    int cutoff_minute;            /* minutes after local midnight */
    int cutoff_day_offset;
    int grace_minutes;
    size_t indicator_count;
    const char *const *indicators;
    int64_t from_day, to_day;     /* PLAN_DAY_NONE when absent */
};

/* What an assignee of a task does (plan.json "role"): lead (chủ trì) does the task and
 * answers for it; guide (hướng dẫn) guides and follows it; support (phối hợp) takes part.
 * A unit code is always a lead: the units named by code are the ones tracked. */
enum plan_assignee_role { PLAN_ROLE_LEAD, PLAN_ROLE_GUIDE, PLAN_ROLE_SUPPORT };

struct plan_task_rule {
    const char *task;
    size_t assignee_count;
    const char *const *assignees; /* unit codes and office names, as written */
    const enum plan_assignee_role *roles;   /* one per assignee: the role written, else
                                             * lead for a unit code, support for an office */
    const bool *tracked;          /* NULL when no assignee looks like a unit code (starts
                                   * with a digit): the task then goes by applies_to; else
                                   * by plan_unit index, whether the unit is an assignee,
                                   * and only those units are evaluated */
    int64_t due_day;
};

enum plan_check_op { PLAN_OP_GE, PLAN_OP_LE, PLAN_OP_EQ };

struct plan_check {
    bool never_decreases;         /* then only left is set */
    const char *left;
    enum plan_check_op op;
    const char *right_indicator;  /* NULL when right is a population group */
    const char *right_population;
};

/* A target per period: numerator / denominator ≥ target in each period both are reported
 * (100 % of severe patients treated, 100 % of facilities reporting on time). */
struct plan_ratio {
    const char *numerator;        /* indicator counted */
    const char *denominator;      /* indicator it is counted out of */
    double target;                /* ratio, (0, 1] */
    struct plan_text counted;     /* what the numerator counts, worded to follow "3/5":
                                   * "người bệnh nặng, nguy kịch được điều trị theo quy
                                   * định"; the numerator's name when plan.json has none */
    int silence_days;             /* the rule's, else the plan's silence_days */
};

/* Each value > 0 of a daily indicator is announced to the district the day it is reported
 * (every COVID-19 death: issue 10, seeds). */
struct plan_announce {
    const char *indicator;        /* daily indicator announced */
    struct plan_text counted;     /* what it counts, worded to follow a number: "ca tử vong
                                   * do COVID-19" / "COVID-19 death(s)"; the indicator's
                                   * name when plan.json has none */
};

struct plan_level_criterion {
    const char *indicator;        /* daily indicator summed over the window */
    const char *population;       /* group, "total" when absent */
    double per;
    double thresholds[3];         /* lower bounds of levels 2, 3 and 4 */
    int64_t min_count;            /* fewer events than this in the window cannot move the
                                   * level by this rate alone (0: no minimum) */
    bool expected_daily;          /* a figure is expected for every day of the window
                                   * (true when absent): days without one make the week
                                   * incomplete */
};

struct plan_level_ratio {
    const char *indicator;
    const char *population;       /* "total" when absent */
    double per;                   /* 1 when absent */
    double min;
};

struct plan_level_condition {
    struct plan_text name;
    size_t ratio_count;
    const struct plan_level_ratio *ratios;
    bool no_lowering;             /* false: raise_one (or in_matrix) */
    bool in_matrix;               /* if_unmet "matrix": counted in the version's matrix */
};

#define PLAN_LEVEL_MATRIX_COLUMNS 9   /* plan.schema.json: 0 to 8 matrix conditions unmet */

struct plan_level_version {
    const char *id;
    const char *document;
    int64_t valid_from_day;
    int64_t valid_to_day;         /* PLAN_DAY_NONE: until further notice */
    int window_days;              /* 7 when absent */
    size_t criterion_count;
    const struct plan_level_criterion *criteria;
    size_t condition_count;
    const struct plan_level_condition *conditions;
    /* matrix[t][u]: the level for transmission level t + 1 with u of the in_matrix
     * conditions unmet (or unknown); matrix_columns = 0 when the version has no matrix. */
    size_t matrix_columns;
    int matrix[4][PLAN_LEVEL_MATRIX_COLUMNS];
};

struct plan_level {
    int alert_at_level;           /* 3 when absent */
    size_t version_count;
    const struct plan_level_version *versions;
};

struct plan_rule {
    const char *id;
    enum plan_rule_kind kind;
    struct plan_text name;
    enum plan_severity severity;
    unsigned applies_to;          /* PLAN_APPLIES_* bits */
    const char *source;           /* "document, section" as alerts show it */
    union {
        struct plan_coverage coverage;
        struct plan_schedule schedule;
        struct plan_task_rule task;
        struct plan_check check;
        struct plan_level level;
        struct plan_ratio ratio;
        struct plan_announce announce;
    } u;
};

struct plan_arena;
struct wp_index;

struct plan {
    const char *dir;
    const char *id;
    struct plan_text title;
    int utc_offset_minutes;
    int64_t valid_from_day, valid_to_day;   /* PLAN_DAY_NONE when absent */
    int silence_days;                       /* days without a target's figures before a
                                             * target rule says so (PLAN_SILENCE_DAYS
                                             * when absent); a rule may set its own */

    size_t unit_count;
    const struct plan_unit *units;
    const struct plan_unit *district;       /* the unit the aggregator serves: its
                                             * district, or (city aggregator) its city */
    const char *scope_name;                 /* its alert scope: "district" or "city" */
    size_t ward_count;
    const struct plan_unit *const *wards;   /* its reporting units, in file order: the
                                             * district's wards, or the city's districts */

    size_t indicator_count;
    const struct plan_indicator *indicators;
    size_t task_count;
    const struct plan_task *tasks;
    size_t rule_count;
    const struct plan_rule *rules;

    struct plan_arena *arena;               /* owns everything above */
    /* plan_unit's and plan_indicator's tables (hash_index.h), built as the plan loads: a
     * lookup costs about one string comparison whatever the number of units. */
    struct wp_index *units_by_code, *indicators_by_id;
};

/* Loads dir/orgunits.json, dir/catalog.json and dir/plan.json for the aggregator of
 * unit — a district (three digits) or a city (two digits) — and checks them as described
 * at the top. A reader that serves nothing (the `wardpulse` command) may pass unit NULL:
 * the plan then serves its scope.district, else the only district of orgunits.json, else
 * its scope.city, and is checked exactly as for an aggregator of that unit (the
 * aggregator always names its unit, so what it accepts does not change). On success *out is
 * the plan (plan_free). On failure *out is NULL, err names file and JSON path, and the
 * result is WP_ERR_CONFIG (WP_ERR_IO when a file cannot be read, WP_ERR_NOMEM). */
enum wp_err plan_load(const char *dir, const char *unit, struct plan **out, char *err,
                      size_t errlen);

/* Frees the plan and NULLs *plan; accepts NULL. */
void plan_free(struct plan **plan);

/* Lookups by id or code; NULL when absent. The result belongs to the plan. plan_unit and
 * plan_indicator go through a hash table (every report and most rule evaluations look
 * up both), plan_task and plan_rule search their few items. */
const struct plan_indicator *plan_indicator(const struct plan *plan, const char *id);
const struct plan_task *plan_task(const struct plan *plan, const char *id);
const struct plan_unit *plan_unit(const struct plan *plan, const char *code);
const struct plan_rule *plan_rule(const struct plan *plan, const char *id);

/* People of group in unit: its own figure, else (district, city) the sum over its
 * children (wards, districts) when every child's figure is known that way. False when
 * unknown. */
bool plan_population(const struct plan *plan, const struct plan_unit *unit, const char *group,
                     int64_t *people);

/* True if the report may be stored under this plan: its unit (the report's "ward") is a
 * reporting unit of the served unit (a ward of the district; a district of the city), or
 * the served unit itself (which reports its own tasks, and with a rollup its own
 * figures), every indicator and task is in the catalog, and every value of a reporting
 * unit is within the indicator's bounds (bounds are for one reporting unit: the served
 * unit's figures are sums of theirs). Otherwise false, with
 * reason e.g. "values.vacc_x: indicator \"vacc_x\" is not in the plan's catalog". */
bool plan_check_report(const struct plan *plan, const struct wp_report *report, char *reason,
                       size_t reasonlen);

/* True when the figure plan_population gives is an estimate: the unit's own figure is
 * marked "population_estimated", or (a district or city without its own figure) any of
 * its children's is. */
bool plan_population_estimated(const struct plan *plan, const struct plan_unit *unit,
                               const char *group);

/* The PLAN_APPLIES_* bit of the unit's level. */
unsigned plan_applies_bit(const struct plan_unit *unit);

/* Names for people. */
const char *plan_severity_name(enum plan_severity severity);   /* "info" … */
const char *plan_rule_kind_name(enum plan_rule_kind kind);     /* "coverage" … */

#endif
