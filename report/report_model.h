/* report_model.h — the weekly district report, gathered once (report_build.c) and written
 * as Markdown (report_build.c) or self-contained HTML (report_html.c) with inline SVG
 * charts (report_svg.c). `wardpulse report` prints it; the aggregator writes each
 * finished week's HTML for the district's page (aggregator/web_reports.h): one library,
 * wpreport, both link.
 *
 * Everything is measured as of the end of the ISO week (Sunday 24:00, the plan's local
 * time): the values in force then, the reporting of the week's days whose cut-off has
 * passed, the level the aggregator recorded for the week, and the alert transitions
 * dated within it. The plan gives names, populations and targets, so it is required.
 * Text is Vietnamese, as the district office sends it up.
 */
#ifndef WP_REPORT_MODEL_H
#define WP_REPORT_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "series.h"
#include "store_read.h"
#include "plan.h"
#include "error.h"
#include "text.h"

#define REPORT_TARGETS_MAX 16
#define REPORT_FIGURES_MAX 12
#define REPORT_WEEKS_MAX 106        /* chart: two years of weeks at most */

/* A ward, or (the last row) the district. */
struct report_row {
    const struct plan_unit *unit;
    int64_t expected, received, on_time;   /* the week's days under schedule rules */
    int level;                              /* of the week; 0: none recorded */
    bool has_figure[REPORT_FIGURES_MAX];
    int64_t figure[REPORT_FIGURES_MAX];
    bool has_coverage[REPORT_TARGETS_MAX];
    double coverage[REPORT_TARGETS_MAX];    /* at the end of the week */
    int firing;                             /* alerts firing at the end of the week */
};

/* Coverage of one target week by week, for its chart. */
struct report_chart {
    const struct plan_rule *rule;
    int64_t first_monday;        /* the first week with a figure */
    int week_count;              /* weeks with points: first_monday … the report's week */
    int axis_weeks;              /* weeks on the axis: through the deadline's week too */
    bool *has;                   /* [row][week], rows as in report.rows */
    double *value;
};

struct report_event {
    int64_t at_ms;
    char *rule, *scope, *state, *severity, *summary;
};

struct report {
    int64_t now_ms;              /* when it is made (the document says so) */
    char week[12];               /* "2022-W18" */
    int64_t monday;              /* its first day */
    struct store *store;         /* the caller's */
    const struct plan *plan;     /* the caller's */
    struct series_cache *series; /* the rules' series of the values in force */
    const struct plan_unit *district;
    size_t ward_count;
    const struct plan_unit *const *wards;   /* the plan's */
    size_t target_count;
    const struct plan_rule *targets[REPORT_TARGETS_MAX];
    size_t figure_count;
    const struct plan_indicator *figures[REPORT_FIGURES_MAX];
    size_t row_count;            /* ward_count + 1 */
    struct report_row *rows;
    struct report_chart charts[REPORT_TARGETS_MAX];
    size_t event_count;
    struct report_event *events;
    int fired, resolved;         /* transitions in the week */
};

/* Gathers the report of the ISO week `week` ("2022-W18") from store (read-only is enough)
 * with plan's names, populations and targets; store and plan stay the caller's and must
 * outlive r. WP_ERR_INVALID: week is not an ISO week; WP_ERR_NOMEM; WP_ERR_DB:
 * store_read_error(store) says why. Call report_free after, whatever it returned. */
enum wp_err report_build(struct report *r, struct store *store, const struct plan *plan,
                         const char *week, int64_t now_ms);
void report_free(struct report *r);

/* The writers: append the whole document to out. */
void report_write_markdown(const struct report *r, struct cli_buf *out);
void report_write_html(const struct report *r, struct cli_buf *out);

/* One <svg> chart of chart's target: the district's line, each ward's, the target line
 * and the deadline (report_svg.c). */
void report_write_svg(const struct report *r, const struct report_chart *chart,
                      struct cli_buf *out);

/* Helpers shared by the writers (report.c). */
const char *report_unit_name(const struct report_row *row);      /* name_vi */
void report_percent(char *buf, size_t size, double ratio);          /* "71,5 %" */
void report_day(char *buf, size_t size, int64_t day);               /* "03/05/2022" */
const char *report_severity_vi(const char *severity);
const char *report_state_vi(const char *state);
/* The ward of a scope ("district" → the district's row). NULL if unknown. */
const struct report_row *report_scope_row(const struct report *r, const char *scope);
/* Alerts firing at the end of the week, every scope. */
int report_firing_total(const struct report *r);
/* Palette colour of row i of n ("#1f77b4"), the district dark. */
const char *report_colour(const struct report *r, size_t row);

#endif
