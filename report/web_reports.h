/* web_reports.h — the finished weeks' reports for the district's page (the aggregator's
 * web_dir setting; docs/topics-and-payloads.md, "Weekly reports for the page").
 *
 * For each finished ISO week (Monday to Sunday, the plan's local time) that
 * <web_dir>/reports/index.json does not list, the week's report as `wardpulse report
 * --format html` makes it (report_model.h: the same code) is written to
 * <web_dir>/reports/<district>-<week>.html, then the index, newest first:
 *
 *   {"v":1,"district":"001","reports":[{"week":"2022-W18","from":"2022-05-02",
 *    "to":"2022-05-08","file":"001-2022-W18.html"}]}
 *
 * each file written whole (wp_file_write_whole: a reader never sees half of one). The
 * weeks considered run from the week the plan's first schedule rule starts (without one,
 * the last finished week only), at most WEB_REPORTS_WEEKS_MAX back from the last finished
 * one: a first start writes the missing ones, later calls the week that just finished.
 * Schema of the index: schemas/reports_index.schema.json.
 */
#ifndef WP_REPORT_WEB_REPORTS_H
#define WP_REPORT_WEB_REPORTS_H

#include <stdint.h>

#include "error.h"
#include "plan.h"
#include "store.h"

#define WEB_REPORTS_WEEKS_MAX 53

/* Writes what is missing as of now_ms (outside a transaction; store and plan stay the
 * caller's). The reports folder is created if needed. Returns WP_OK, or the first error
 * (logged, with the path): what was written before it stays, and the index lists it. */
enum wp_err web_reports_update(const char *web_dir, struct store *store,
                               const struct plan *plan, int64_t now_ms);

#endif
