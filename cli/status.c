/* status.c — `wardpulse status`: the district at a glance, one line per ward.
 *
 *   Mã    Phường       Báo cáo cuối Cách Đúng  Đủ  Cấp kids-5-… booster-… frontlin… CB
 *   00001 Phúc Xá      03/05 16:00   2h 100%  100%  2  ███▌  71% ████  95% ██    50%  1
 *
 * Fits 80 columns: names are cut with "…", the coverage columns share what is left.
 * Colour (levels, shortfalls, alerts, stale reports) only when stdout is a terminal and
 * NO_COLOR is unset. Reads the database read-only (db.h); names, populations and
 * targets come from the plan (options.h); without one, names come from the levels the
 * aggregator recorded and coverage is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "commands.h"
#include "db.h"
#include "options.h"
#include "plan.h"
#include "summary.h"
#include "summary_payload.h"
#include "text.h"

#define STATUS_WIDTH 80
#define STATUS_NAME_COLS 12
#define STATUS_MIN_TARGET_COLS 4   /* "100%" */

struct status {
    struct cli_common common;
    bool vi;
    bool json;                 /* --format json: the summary payloads (summary_payload.h) */
    bool colour;
    struct store *store;
    struct plan *plan;
    struct summary *summary;   /* the rows: the wards, then the district */
    int offset;                /* minutes east of UTC */
};

static void status_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse status [--db PATH] [--plan DIR] [--district CODE] [--lang vi|en]\n"
            "                        [--format text|json] [--config FILE] [--now TIME]\n"
            "\n"
            "One line per ward of the district: its last report and how long ago it came,\n"
            "reporting rates on time and complete (DHIS2's, per ward since the plan's\n"
            "schedule began), the epidemic level of the last complete week, coverage of\n"
            "each coverage target (bar: progress towards the target; the percentage:\n"
            "coverage), and how many alerts are firing; then the district's line. Fits an\n"
            "80-column terminal; colour only on a terminal, and never with NO_COLOR set.\n"
            "\n"
            "%s"
            "  --lang LANG      vi (default) or en: the headings\n"
            "  --format FORMAT  text (default) or json: an array of the payloads the\n"
            "                   aggregator publishes on summary/<district>/<scope>, wards first\n"
            "  -h, --help       this text\n",
            cli_common_help);
}

static const char *status_colour_on(const struct status *s, const char *code)
{
    return s->colour ? code : "";
}

#define STATUS_RESET "\033[0m"
#define STATUS_BOLD "\033[1m"
#define STATUS_DIM "\033[2m"
#define STATUS_RED "\033[31m"
#define STATUS_GREEN "\033[32m"
#define STATUS_YELLOW "\033[33m"
#define STATUS_ORANGE "\033[38;5;208m"

static const char *status_level_colour(int level)
{
    static const char *const colours[] = {"", STATUS_GREEN, STATUS_YELLOW, STATUS_ORANGE,
                                          STATUS_RED};
    return level >= 1 && level <= 4 ? colours[level] : "";
}

/* Appends text in cols columns, coloured when colour is set (and colour is on). */
static void status_cell(const struct status *s, struct cli_buf *out, const char *text,
                        size_t cols, enum cli_align align, const char *colour)
{
    bool on = s->colour && colour && *colour;
    if (on)
        cli_buf_puts(out, colour);
    cli_text_cell(out, text, cols, align);
    if (on)
        cli_buf_puts(out, STATUS_RESET);
}

static int status_parse_args(struct status *s, int argc, char **argv)
{
    s->vi = true;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int rc;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return -1;
        if ((rc = cli_common_option(&s->common, argc, argv, &i)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = cli_option("status", argc, argv, &i, "--lang", &v)) != 0) {
            if (rc < 0)
                return 2;
            if (strcmp(v, "vi") != 0 && strcmp(v, "en") != 0) {
                fprintf(stderr, "wardpulse status: --lang: '%s' is not vi or en\n", v);
                return 2;
            }
            s->vi = strcmp(v, "vi") == 0;
        } else if ((rc = cli_option("status", argc, argv, &i, "--format", &v)) != 0) {
            if (rc < 0)
                return 2;
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
                fprintf(stderr, "wardpulse status: --format: '%s' is not text or json\n", v);
                return 2;
            }
            s->json = strcmp(v, "json") == 0;
        } else {
            fprintf(stderr, "wardpulse status: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    return cli_common_finish(&s->common);
}

/* A row's name in the language asked; NULL when unknown. */
static const char *status_name(const struct status *s, const struct summary_unit *r)
{
    return s->vi ? r->name_vi : r->name_en;
}

/* A bar of cols cells showing fraction (0..1) in eighths. */
static void status_bar(struct cli_buf *out, double fraction, size_t cols)
{
    static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    long total = (long)(fraction * (double)cols * 8 + 0.5);
    size_t used = 0;
    for (; total >= 8 && used < cols; total -= 8, used++)
        cli_buf_puts(out, "█");
    if (total > 0 && used < cols) {
        cli_buf_puts(out, eighths[total]);
        used++;
    }
    for (; used < cols; used++)
        cli_buf_puts(out, "░");
}

struct status_layout {
    size_t name_cols;
    size_t target_count;       /* shown */
    size_t target_cols;        /* per target, its leading space excluded */
};

static struct status_layout status_layout(const struct status *s)
{
    /* code 5, name, last 11, age 4, on time 4, complete 4, level 3, alerts 2; one space
     * between columns. */
    struct status_layout l = {STATUS_NAME_COLS, s->summary->target_count, 0};
    size_t fixed = 5 + 1 + l.name_cols + 1 + 11 + 1 + 4 + 1 + 4 + 1 + 4 + 1 + 3 + 1 + 2;
    if (s->summary->target_count == 0) {
        l.name_cols += STATUS_WIDTH - 1 - fixed > 8 ? 8 : 0;
        return l;
    }
    size_t room = STATUS_WIDTH - 1 - fixed;
    while (l.target_count > 0 && room / l.target_count < 1 + STATUS_MIN_TARGET_COLS)
        l.target_count--;
    if (l.target_count)
        l.target_cols = room / l.target_count - 1;
    if (l.target_cols > 14)
        l.target_cols = 14;
    return l;
}

static void status_rate(const struct status *s, struct cli_buf *out, int64_t part,
                        int64_t whole)
{
    char text[32] = "-";
    const char *colour = NULL;
    if (whole > 0) {
        double r = (double)part / (double)whole;
        cli_format_percent(text, sizeof text, r, 0, ',');
        strcat(text, "%");
        colour = r < 0.5 ? STATUS_RED : r < 0.8 ? STATUS_YELLOW : NULL;
    }
    status_cell(s, out, text, 4, CLI_RIGHT, colour);
}

static void status_print_row(const struct status *s, const struct status_layout *l,
                             const struct summary_unit *r, bool is_district, struct cli_buf *out)
{
    char text[64];
    status_cell(s, out, r->code, 5, CLI_LEFT, is_district ? STATUS_BOLD : NULL);
    cli_buf_puts(out, " ");
    char short_name[256];
    const char *name = status_name(s, r) ? cli_short_name(status_name(s, r), short_name,
                                                          sizeof short_name)
                                         : "";
    status_cell(s, out, name, l->name_cols, CLI_LEFT, is_district ? STATUS_BOLD : NULL);
    cli_buf_puts(out, " ");
    if (r->last_report_ms > 0) {
        cli_format_short_time(text, sizeof text, r->last_report_ms, s->offset, s->vi);
        status_cell(s, out, text, 11, CLI_LEFT, NULL);
        cli_buf_puts(out, " ");
        int64_t age = s->common.now_ms - r->last_report_ms;
        cli_format_age(text, sizeof text, age);
        status_cell(s, out, text, 4, CLI_RIGHT, age > 26 * 3600000LL ? STATUS_RED : NULL);
    } else {
        status_cell(s, out, s->vi ? "chưa có" : "none", 11, CLI_LEFT, STATUS_RED);
        cli_buf_puts(out, "    -");
    }
    cli_buf_puts(out, " ");
    status_rate(s, out, r->rates.on_time, r->rates.expected);
    cli_buf_puts(out, " ");
    status_rate(s, out, r->rates.received, r->rates.expected);
    cli_buf_puts(out, " ");
    if (r->level > 0)
        snprintf(text, sizeof text, "%d", r->level);
    else
        snprintf(text, sizeof text, "-");
    status_cell(s, out, text, 3, CLI_RIGHT, status_level_colour(r->level));
    for (size_t t = 0; t < l->target_count; t++) {
        cli_buf_puts(out, " ");
        size_t bar = l->target_cols - STATUS_MIN_TARGET_COLS - (l->target_cols > 4 ? 1 : 0);
        if (!r->has_coverage[t]) {
            cli_text_cell(out, "-", l->target_cols, CLI_RIGHT);
            continue;
        }
        const struct plan_rule *rule = s->summary->targets[t];
        double ratio = r->coverage[t];
        const char *colour = ratio >= rule->u.coverage.target ? STATUS_GREEN
                             : (rule->u.coverage.deadline_day != PLAN_DAY_NONE
                                && wp_local_day_at(s->common.now_ms, s->offset) > rule->u.coverage.deadline_day)
                                 ? STATUS_RED
                                 : NULL;
        if (bar > 0) {
            struct cli_buf b = {0};
            status_bar(&b, rule->u.coverage.target > 0 ? ratio / rule->u.coverage.target : 1, bar);
            status_cell(s, out, b.data ? b.data : "", bar, CLI_LEFT, colour);
            cli_buf_free(&b);
            cli_buf_puts(out, " ");
        }
        cli_format_percent(text, sizeof text, ratio, 0, ',');
        strcat(text, "%");
        status_cell(s, out, text, STATUS_MIN_TARGET_COLS, CLI_RIGHT, colour);
    }
    cli_buf_puts(out, " ");
    snprintf(text, sizeof text, "%d", r->firing);
    status_cell(s, out, r->firing ? text : "0", 2, CLI_RIGHT,
                r->critical ? STATUS_RED STATUS_BOLD : r->firing ? STATUS_YELLOW : STATUS_DIM);
    cli_buf_puts(out, "\n");
}

static void status_print_line(struct cli_buf *out, const char *text)
{
    cli_text_cut(out, text, STATUS_WIDTH - 1);
    cli_buf_puts(out, "\n");
}

static void status_print(struct status *s, struct cli_buf *out)
{
    struct status_layout l = status_layout(s);
    char now[32], line[1024];
    cli_format_time(now, sizeof now, s->common.now_ms, s->offset, s->vi);
    const struct summary *sum = s->summary;
    const struct summary_unit *district = &sum->units[sum->unit_count - 1];
    const char *district_name = status_name(s, district);
    size_t wards = sum->unit_count - 1;
    if (s->vi)
        snprintf(line, sizeof line, "%s (%s) · %s · %zu phường", district_name
                 ? district_name : "Quận", district->code, now, wards);
    else
        snprintf(line, sizeof line, "%s (%s) · %s · %zu wards", district_name
                 ? district_name : "District", district->code, now, wards);
    cli_buf_puts(out, status_colour_on(s, STATUS_BOLD));
    status_print_line(out, line);
    cli_buf_puts(out, status_colour_on(s, STATUS_RESET));

    static const char *const heads_vi[] = {"Mã", "Phường", "Nhận cuối", "Cách", "Đúng",
                                           "Đủ", "Cấp", "CB"};
    static const char *const heads_en[] = {"Code", "Ward", "Last report", "Age", "OnT",
                                           "Comp", "Lvl", "Al"};
    const char *const *h = s->vi ? heads_vi : heads_en;
    struct cli_buf head = {0};
    cli_text_cell(&head, h[0], 5, CLI_LEFT);
    cli_buf_puts(&head, " ");
    cli_text_cell(&head, h[1], l.name_cols, CLI_LEFT);
    cli_buf_puts(&head, " ");
    cli_text_cell(&head, h[2], 11, CLI_LEFT);
    cli_buf_puts(&head, " ");
    cli_text_cell(&head, h[3], 4, CLI_RIGHT);
    cli_buf_puts(&head, " ");
    cli_text_cell(&head, h[4], 4, CLI_RIGHT);
    cli_buf_puts(&head, " ");
    cli_text_cell(&head, h[5], 4, CLI_RIGHT);
    cli_buf_puts(&head, " ");
    cli_text_cell(&head, h[6], 3, CLI_RIGHT);
    for (size_t t = 0; t < l.target_count; t++) {
        cli_buf_puts(&head, " ");
        cli_text_cell(&head, sum->targets[t]->id, l.target_cols, CLI_LEFT);
    }
    cli_buf_puts(&head, " ");
    cli_text_cell(&head, h[7], 2, CLI_RIGHT);
    cli_buf_puts(out, status_colour_on(s, STATUS_BOLD));
    cli_buf_puts(out, head.data ? head.data : "");
    cli_buf_puts(out, status_colour_on(s, STATUS_RESET));
    cli_buf_puts(out, "\n");
    cli_buf_free(&head);

    for (size_t i = 0; i < wards; i++)
        status_print_row(s, &l, &sum->units[i], false, out);
    for (size_t i = 0; i < STATUS_WIDTH - 1; i++)
        cli_buf_puts(out, "─");
    cli_buf_puts(out, "\n");
    status_print_row(s, &l, district, true, out);

    int firing = 0, critical = 0, stale = 0;
    for (size_t i = 0; i < sum->unit_count; i++) {
        const struct summary_unit *r = &sum->units[i];
        firing += r->firing;
        critical += r->critical;
        if (i < wards && (r->last_report_ms == 0
                          || s->common.now_ms - r->last_report_ms > 26 * 3600000LL))
            stale++;
    }
    cli_buf_puts(out, "\n");
    if (s->vi)
        snprintf(line, sizeof line, "Cảnh báo chưa xử lý: %d (%d nghiêm trọng) — xem "
                 "`wardpulse alerts`. Phường không có báo cáo trong 26 giờ: %d.",
                 firing, critical, stale);
    else
        snprintf(line, sizeof line, "Alerts firing: %d (%d critical) — see `wardpulse "
                 "alerts`. Wards without a report in 26 hours: %d.", firing, critical, stale);
    cli_text_wrap(out, line, STATUS_WIDTH - 1, 0, false);
    cli_buf_puts(out, "\n");
    status_print_line(out, s->vi ? "Đúng/Đủ: tỉ lệ báo cáo đúng hạn/đầy đủ; Cấp: cấp độ "
                                   "dịch tuần trước; CB: cảnh báo chưa xử lý."
                                 : "OnT/Comp: reports on time/complete; Lvl: epidemic "
                                   "level last week; Al: alerts firing.");
    for (size_t t = 0; t < sum->target_count; t++) {
        const struct plan_rule *rule = sum->targets[t];
        char target[32], deadline[16] = "";
        cli_format_percent(target, sizeof target, rule->u.coverage.target, 0, ',');
        if (rule->u.coverage.deadline_day != PLAN_DAY_NONE)
            cli_format_day(deadline, sizeof deadline, rule->u.coverage.deadline_day, s->vi);
        snprintf(line, sizeof line, "%s%s: %s %s%% %s %s — %s", t < l.target_count ? "" : "(*) ",
                 rule->id, s->vi ? "mục tiêu" : "target", target,
                 s->vi ? "đến" : "by", deadline, s->vi ? rule->name.vi : rule->name.en);
        status_print_line(out, line);
    }
    if (l.target_count < sum->target_count)
        status_print_line(out, s->vi ? "(*) không đủ chỗ trong 80 cột: xem `wardpulse report`."
                                     : "(*) no room in 80 columns: see `wardpulse report`.");
    if (!s->plan)
        status_print_line(out, s->vi ? "Không có kế hoạch: thêm --plan DIR để có tên phường và "
                                       "độ bao phủ."
                                     : "No plan: add --plan DIR for ward names and coverage.");
}

/* The same layout of the same summary as the aggregator's summary topics. */
static void status_print_json(struct status *s, struct cli_buf *out)
{
    cli_buf_puts(out, "[");
    for (size_t i = 0; i < s->summary->unit_count; i++) {
        char *payload = summary_payload(s->summary, s->plan, i);
        if (!payload) {
            out->failed = true;
            return;
        }
        cli_buf_puts(out, i ? ",\n" : "");
        cli_buf_puts(out, payload);
        free(payload);
    }
    cli_buf_puts(out, "]\n");
}

static int status_run(struct status *s)
{
    s->offset = 7 * 60;
    if (s->common.plan_dir) {
        if (cli_common_plan(&s->common, &s->plan) != 0)
            return 1;
        s->offset = s->plan->utc_offset_minutes;
    }
    s->store = cli_db_open("status", s->common.db_path, 2);
    if (!s->store)
        return 1;
    enum wp_err err = summary_build(s->store, s->plan, s->common.district, s->common.now_ms,
                                    &s->summary);
    if (err != WP_OK)
        return cli_db_fail(s->store, "status", err);
    struct cli_buf out = {0};
    if (s->json)
        status_print_json(s, &out);
    else
        status_print(s, &out);
    if (out.failed) {
        cli_buf_free(&out);
        fprintf(stderr, "wardpulse status: out of memory\n");
        return 1;
    }
    fputs(out.data, stdout);
    cli_buf_free(&out);
    return 0;
}

int cli_status(int argc, char **argv)
{
    struct status s = {.common = {.command = "status"}};
    int rc = status_parse_args(&s, argc, argv);
    if (rc < 0) {
        status_usage(stdout);
        rc = 0;
    } else if (rc == 0) {
        s.colour = cli_use_colour(stdout);
        rc = status_run(&s);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            perror("wardpulse status: writing the output");
            rc = 1;
        }
    }
    summary_free(&s.summary);
    store_close(&s.store);
    plan_free(&s.plan);
    cli_common_free(&s.common);
    return rc;
}
