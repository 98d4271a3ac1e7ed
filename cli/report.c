/* report.c — `wardpulse report --week 2022-W18 --format html|md`: the weekly summary the
 * district health office sends up. The options and the output file are here; the report is
 * gathered and written by the wpreport library (report/report_model.h).
 */
#include "report_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "commands.h"
#include "db.h"
#include "options.h"
#include "timefmt.h"

static void report_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse report --week YYYY-Www [--format html|md] [--output FILE]\n"
            "                        [--db PATH] [--plan DIR] [--district CODE] [--config FILE]\n"
            "\n"
            "The weekly summary of the district, in Vietnamese: per ward the reports received\n"
            "of those expected and how many on time, the key figures of the week (the\n"
            "indicators the schedule rules require), the epidemic level of the week and the\n"
            "alerts firing at its end; coverage of every target at the end of the week; the\n"
            "alerts raised and resolved during the week; and in HTML one chart per coverage\n"
            "target (the district's line and each ward's, week by week up to this one, the\n"
            "target and the deadline) as inline SVG. The HTML page is self-contained (no\n"
            "scripts, fonts or links to load); Markdown gives the charts' figures as text.\n"
            "Everything is as of the end of the week (Sunday 24:00, the plan's local time).\n"
            "\n"
            "  --week WEEK      the ISO week, e.g. 2022-W18 (required)\n"
            "  --format FORMAT  html (default) or md\n"
            "  --output FILE    write to FILE instead of standard output\n"
            "%s"
            "  -h, --help       this text\n",
            cli_common_help);
}

/* The command's options; the report itself is report_model.h's. */
struct report_command {
    struct cli_common common;
    bool html;
    const char *week;
    const char *output;
};

static int report_parse_args(struct report_command *r, int argc, char **argv)
{
    r->html = true;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int rc;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return -1;
        if ((rc = cli_common_option(&r->common, argc, argv, &i)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = cli_option("report", argc, argv, &i, "--week", &v)) != 0) {
            if (rc < 0)
                return 2;
            int64_t monday;
            if (strlen(v) != 8 || !wp_isoweek_parse(v, &monday)) {
                fprintf(stderr, "wardpulse report: --week: '%s' is not an ISO week (e.g. "
                        "2022-W18)\n", v);
                return 2;
            }
            r->week = v;
        } else if ((rc = cli_option("report", argc, argv, &i, "--format", &v)) != 0) {
            if (rc < 0)
                return 2;
            if (strcmp(v, "html") != 0 && strcmp(v, "md") != 0) {
                fprintf(stderr, "wardpulse report: --format: '%s' is not html or md\n", v);
                return 2;
            }
            r->html = strcmp(v, "html") == 0;
        } else if ((rc = cli_option("report", argc, argv, &i, "--output", &v)) != 0) {
            if (rc < 0)
                return 2;
            r->output = v;
        } else {
            fprintf(stderr, "wardpulse report: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (!r->week) {
        fprintf(stderr, "wardpulse report: --week YYYY-Www is required (see --help)\n");
        return 2;
    }
    return cli_common_finish(&r->common);
}

/* Loads the plan, opens the database and gathers the report (report_build). */
static int report_gather(struct report_command *c, struct store **store, struct plan **plan,
                         struct report *r)
{
    if (!c->common.plan_dir) {
        fprintf(stderr, "wardpulse report: needs the plan for names, populations and targets: "
                "give --plan DIR (or plan_dir in the aggregator's configuration)\n");
        return 2;
    }
    if (cli_common_plan(&c->common, plan) != 0)
        return 1;
    *store = cli_db_open("report", c->common.db_path, 2);
    if (!*store)
        return 1;
    enum wp_err err = report_build(r, *store, *plan, c->week, c->common.now_ms);
    return err == WP_OK ? 0 : cli_db_fail(*store, "report", err);
}

int cli_report(int argc, char **argv)
{
    struct report_command c = {.common = {.command = "report"}};
    struct report r = {0};
    struct store *store = NULL;
    struct plan *plan = NULL;
    int rc = report_parse_args(&c, argc, argv);
    if (rc < 0) {
        report_usage(stdout);
        cli_common_free(&c.common);
        return 0;
    }
    if (rc == 0)
        rc = report_gather(&c, &store, &plan, &r);
    struct cli_buf out = {0};
    if (rc == 0) {
        if (c.html)
            report_write_html(&r, &out);
        else
            report_write_markdown(&r, &out);
        if (out.failed) {
            fprintf(stderr, "wardpulse report: out of memory\n");
            rc = 1;
        }
    }
    const char *output = c.output;
    if (rc == 0) {
        FILE *f = output ? fopen(output, "w") : stdout;
        if (!f) {
            fprintf(stderr, "wardpulse report: --output %s: %s\n", output, strerror(errno));
            rc = 1;
        } else {
            fwrite(out.data, 1, out.len, f);
            if ((f == stdout ? fflush(f) : fclose(f)) != 0 || (f == stdout && ferror(f))) {
                fprintf(stderr, "wardpulse report: writing %s: %s\n",
                        output ? output : "the output", strerror(errno));
                rc = 1;
            }
        }
    }
    cli_buf_free(&out);
    report_free(&r);
    store_close(&store);
    plan_free(&plan);
    cli_common_free(&c.common);
    return rc;
}
