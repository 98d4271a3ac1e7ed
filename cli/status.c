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
#include "plan_read.h"
#include "text.h"
#include "values.h"

#define STATUS_WIDTH 80
#define STATUS_TARGETS_MAX 16
#define STATUS_NAME_COLS 12
#define STATUS_MIN_TARGET_COLS 4   /* "100%" */

struct status_row {
    char code[16];
    const char *name;          /* the plan's, or names[] */
    int64_t last_ms;           /* newest report received; 0: none */
    int64_t expected, received, on_time;
    int level;                 /* 0: none recorded */
    int alerts, critical;
    bool has_coverage[STATUS_TARGETS_MAX];
    double coverage[STATUS_TARGETS_MAX];
};

struct status {
    struct cli_common common;
    bool vi;
    bool colour;
    sqlite3 *db;
    struct cli_plan *plan;
    const struct cli_unit *district;
    const struct cli_rule *targets[STATUS_TARGETS_MAX];
    size_t target_count;
    size_t row_count;
    struct status_row *rows;   /* the wards, then the district */
    char **names;              /* names owned here when there is no plan */
    char district_code[16];
    int offset;                /* minutes east of UTC */
};

static void status_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse status [--db PATH] [--plan DIR] [--district CODE] [--lang vi|en]\n"
            "                        [--config FILE] [--now TIME]\n"
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
        } else {
            fprintf(stderr, "wardpulse status: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    return cli_common_finish(&s->common);
}

static struct status_row *status_row(struct status *s, const char *code)
{
    for (size_t i = 0; i < s->row_count; i++)
        if (strcmp(s->rows[i].code, code) == 0)
            return &s->rows[i];
    return NULL;
}

static struct status_row *status_add_row(struct status *s, const char *code, const char *name)
{
    struct status_row *more = realloc(s->rows, (s->row_count + 1) * sizeof *more);
    if (!more)
        return NULL;
    s->rows = more;
    struct status_row *r = &s->rows[s->row_count++];
    memset(r, 0, sizeof *r);
    snprintf(r->code, sizeof r->code, "%s", code);
    r->name = name;
    return r;
}

/* The wards: the plan's, or every ward the database knows of. */
static int status_wards(struct status *s)
{
    if (s->plan) {
        const struct cli_unit *wards[4096];
        size_t n = cli_plan_wards(s->plan, s->district, wards, 4096);
        for (size_t i = 0; i < n; i++)
            if (!status_add_row(s, wards[i]->code, s->vi ? wards[i]->name_vi
                                                          : wards[i]->name_en))
                return 1;
        return 0;
    }
    sqlite3_stmt *stmt = cli_db_prepare(
        s->db, "status",
        "SELECT ward FROM reports WHERE length(ward) = 5 UNION "
        "SELECT ward FROM schedule_status UNION "
        "SELECT scope FROM alerts WHERE scope <> 'district' UNION "
        "SELECT scope FROM levels WHERE scope <> 'district' ORDER BY 1");
    if (!stmt)
        return 1;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if (!status_add_row(s, cli_db_text(stmt, 0), NULL)) {
            sqlite3_finalize(stmt);
            return 1;
        }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : cli_db_fail(s->db, "status");
}

/* Runs sql (no parameters but ?1 = the current ISO week) and hands each row to fn. */
static int status_each(struct status *s, const char *sql,
                       void (*fn)(struct status *, struct status_row *, sqlite3_stmt *))
{
    sqlite3_stmt *stmt = cli_db_prepare(s->db, "status", sql);
    if (!stmt)
        return 1;
    char week[16];
    wp_isoweek_format(wp_local_day_at(s->common.now_ms, s->offset), week, sizeof week, NULL);
    if (sqlite3_bind_parameter_count(stmt) >= 1)
        sqlite3_bind_text(stmt, 1, week, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *scope = cli_db_text(stmt, 0);
        struct status_row *r = strcmp(scope, "district") == 0 ? &s->rows[s->row_count - 1]
                                                               : status_row(s, scope);
        if (r)
            fn(s, r, stmt);
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? 0 : cli_db_fail(s->db, "status");
}

static void status_take_last(struct status *s, struct status_row *r, sqlite3_stmt *stmt)
{
    (void)s;
    r->last_ms = sqlite3_column_int64(stmt, 1);
}

static void status_take_rates(struct status *s, struct status_row *r, sqlite3_stmt *stmt)
{
    (void)s;
    r->expected = sqlite3_column_int64(stmt, 1);
    r->received = sqlite3_column_int64(stmt, 2);
    r->on_time = sqlite3_column_int64(stmt, 3);
}

static void status_take_level(struct status *s, struct status_row *r, sqlite3_stmt *stmt)
{
    int level = sqlite3_column_int(stmt, 1);
    if (level > r->level)
        r->level = level;
    /* Without a plan, the level's payload is where the ward's name is. */
    size_t i = (size_t)(r - s->rows);
    if (!r->name && s->names && sqlite3_column_type(stmt, 2) == SQLITE_TEXT) {
        s->names[i] = strdup(cli_db_text(stmt, 2));
        r->name = s->names[i];
    }
}

static void status_take_alerts(struct status *s, struct status_row *r, sqlite3_stmt *stmt)
{
    (void)s;
    r->alerts = sqlite3_column_int(stmt, 1);
    r->critical = sqlite3_column_int(stmt, 2);
}

static int status_gather(struct status *s)
{
    struct status_row *district = &s->rows[s->row_count - 1];
    if (status_each(s, "SELECT ward, MAX(received_ms) FROM reports GROUP BY ward",
                    status_take_last)
        || status_each(s, "SELECT ward, SUM(expected), SUM(received), SUM(on_time) "
                          "FROM reporting_rates GROUP BY ward", status_take_rates)
        || status_each(s, "SELECT scope, level, json_extract(payload, '$.name') FROM levels l "
                          "WHERE week = (SELECT MAX(week) FROM levels m WHERE m.rule = l.rule "
                          "AND m.scope = l.scope AND m.week < ?1)", status_take_level)
        || status_each(s, "SELECT scope, COUNT(*), "
                          "SUM(json_extract(payload, '$.severity') = 'critical') "
                          "FROM alerts WHERE state = 'firing' GROUP BY scope",
                          status_take_alerts))
        return 1;
    /* The district's reporting: its wards added up. */
    for (size_t i = 0; i + 1 < s->row_count; i++) {
        const struct status_row *r = &s->rows[i];
        if (r->last_ms > district->last_ms)
            district->last_ms = r->last_ms;
        district->expected += r->expected;
        district->received += r->received;
        district->on_time += r->on_time;
    }
    if (!s->plan)
        return 0;
    int64_t today = wp_local_day_at(s->common.now_ms, s->offset);
    const struct cli_unit *wards[4096];
    size_t ward_count = cli_plan_wards(s->plan, s->district, wards, 4096);
    for (size_t t = 0; t < s->target_count; t++) {
        const struct cli_rule *rule = s->targets[t];
        struct cli_values num, den = {0};
        int rc = cli_values_load(s->db, "status", rule->numerator, &num);
        if (rc == 0 && rule->denominator)
            rc = cli_values_load(s->db, "status", rule->denominator, &den);
        for (size_t i = 0; rc == 0 && i < s->row_count; i++) {
            struct status_row *r = &s->rows[i];
            const struct cli_unit *unit = i + 1 < s->row_count ? cli_plan_unit(s->plan, r->code)
                                                               : s->district;
            r->has_coverage[t] = unit && cli_coverage(s->plan, rule, &num, &den, unit, wards,
                                                      ward_count, today, &r->coverage[t]);
        }
        cli_values_free(&num);
        cli_values_free(&den);
        if (rc)
            return rc;
    }
    return 0;
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
    struct status_layout l = {STATUS_NAME_COLS, s->target_count, 0};
    size_t fixed = 5 + 1 + l.name_cols + 1 + 11 + 1 + 4 + 1 + 4 + 1 + 4 + 1 + 3 + 1 + 2;
    if (s->target_count == 0) {
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
                             const struct status_row *r, bool is_district, struct cli_buf *out)
{
    char text[64];
    status_cell(s, out, r->code, 5, CLI_LEFT, is_district ? STATUS_BOLD : NULL);
    cli_buf_puts(out, " ");
    char short_name[256];
    const char *name = r->name ? cli_short_name(r->name, short_name, sizeof short_name) : "";
    status_cell(s, out, name, l->name_cols, CLI_LEFT, is_district ? STATUS_BOLD : NULL);
    cli_buf_puts(out, " ");
    if (r->last_ms > 0) {
        cli_format_short_time(text, sizeof text, r->last_ms, s->offset, s->vi);
        status_cell(s, out, text, 11, CLI_LEFT, NULL);
        cli_buf_puts(out, " ");
        int64_t age = s->common.now_ms - r->last_ms;
        cli_format_age(text, sizeof text, age);
        status_cell(s, out, text, 4, CLI_RIGHT, age > 26 * 3600000LL ? STATUS_RED : NULL);
    } else {
        status_cell(s, out, s->vi ? "chưa có" : "none", 11, CLI_LEFT, STATUS_RED);
        cli_buf_puts(out, "    -");
    }
    cli_buf_puts(out, " ");
    status_rate(s, out, r->on_time, r->expected);
    cli_buf_puts(out, " ");
    status_rate(s, out, r->received, r->expected);
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
        const struct cli_rule *rule = s->targets[t];
        double ratio = r->coverage[t];
        const char *colour = ratio >= rule->target ? STATUS_GREEN
                             : (rule->deadline_day != CLI_DAY_NONE
                                && wp_local_day_at(s->common.now_ms, s->offset) > rule->deadline_day)
                                 ? STATUS_RED
                                 : NULL;
        if (bar > 0) {
            struct cli_buf b = {0};
            status_bar(&b, rule->target > 0 ? ratio / rule->target : 1, bar);
            status_cell(s, out, b.data ? b.data : "", bar, CLI_LEFT, colour);
            cli_buf_free(&b);
            cli_buf_puts(out, " ");
        }
        cli_format_percent(text, sizeof text, ratio, 0, ',');
        strcat(text, "%");
        status_cell(s, out, text, STATUS_MIN_TARGET_COLS, CLI_RIGHT, colour);
    }
    cli_buf_puts(out, " ");
    snprintf(text, sizeof text, "%d", r->alerts);
    status_cell(s, out, r->alerts ? text : "0", 2, CLI_RIGHT,
                r->critical ? STATUS_RED STATUS_BOLD : r->alerts ? STATUS_YELLOW : STATUS_DIM);
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
    const struct status_row *district = &s->rows[s->row_count - 1];
    size_t wards = s->row_count - 1;
    if (s->vi)
        snprintf(line, sizeof line, "%s (%s) · %s · %zu phường", district->name
                 ? district->name : "Quận", district->code, now, wards);
    else
        snprintf(line, sizeof line, "%s (%s) · %s · %zu wards", district->name
                 ? district->name : "District", district->code, now, wards);
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
        cli_text_cell(&head, s->targets[t]->id, l.target_cols, CLI_LEFT);
    }
    cli_buf_puts(&head, " ");
    cli_text_cell(&head, h[7], 2, CLI_RIGHT);
    cli_buf_puts(out, status_colour_on(s, STATUS_BOLD));
    cli_buf_puts(out, head.data ? head.data : "");
    cli_buf_puts(out, status_colour_on(s, STATUS_RESET));
    cli_buf_puts(out, "\n");
    cli_buf_free(&head);

    for (size_t i = 0; i < wards; i++)
        status_print_row(s, &l, &s->rows[i], false, out);
    for (size_t i = 0; i < STATUS_WIDTH - 1; i++)
        cli_buf_puts(out, "─");
    cli_buf_puts(out, "\n");
    status_print_row(s, &l, district, true, out);

    int firing = 0, critical = 0, stale = 0;
    for (size_t i = 0; i < s->row_count; i++) {
        firing += s->rows[i].alerts;
        critical += s->rows[i].critical;
        if (i < wards && (s->rows[i].last_ms == 0
                          || s->common.now_ms - s->rows[i].last_ms > 26 * 3600000LL))
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
    for (size_t t = 0; t < s->target_count; t++) {
        const struct cli_rule *rule = s->targets[t];
        char target[32], deadline[16] = "";
        cli_format_percent(target, sizeof target, rule->target, 0, ',');
        if (rule->deadline_day != CLI_DAY_NONE)
            cli_format_day(deadline, sizeof deadline, rule->deadline_day, s->vi);
        snprintf(line, sizeof line, "%s%s: %s %s%% %s %s — %s", t < l.target_count ? "" : "(*) ",
                 rule->id, s->vi ? "mục tiêu" : "target", target,
                 s->vi ? "đến" : "by", deadline, s->vi ? rule->name_vi : rule->name_en);
        status_print_line(out, line);
    }
    if (l.target_count < s->target_count)
        status_print_line(out, s->vi ? "(*) không đủ chỗ trong 80 cột: xem `wardpulse report`."
                                     : "(*) no room in 80 columns: see `wardpulse report`.");
    if (!s->plan)
        status_print_line(out, s->vi ? "Không có kế hoạch: thêm --plan DIR để có tên phường và "
                                       "độ bao phủ."
                                     : "No plan: add --plan DIR for ward names and coverage.");
}

static int status_run(struct status *s)
{
    char err[1024];
    s->offset = 7 * 60;
    if (s->common.plan_dir) {
        if (cli_plan_load(s->common.plan_dir, &s->plan, err, sizeof err) != 0) {
            fprintf(stderr, "wardpulse status: plan: %s\n", err);
            return 1;
        }
        s->offset = s->plan->utc_offset_minutes;
        s->district = cli_plan_district(s->plan, s->common.district, err, sizeof err);
        if (!s->district) {
            fprintf(stderr, "wardpulse status: %s\n", err);
            return 1;
        }
        for (size_t i = 0; i < s->plan->rule_count && s->target_count < STATUS_TARGETS_MAX; i++)
            if (s->plan->rules[i].kind == CLI_RULE_COVERAGE)
                s->targets[s->target_count++] = &s->plan->rules[i];
    }
    s->db = cli_db_open("status", s->common.db_path, 2);
    if (!s->db)
        return 1;
    if (status_wards(s) != 0)
        return 1;
    const char *code = s->district ? s->district->code
                                   : s->common.district ? s->common.district : "";
    struct status_row *d = status_add_row(s, code, s->district ? (s->vi ? s->district->name_vi
                                                                        : s->district->name_en)
                                                               : NULL);
    if (!d) {
        fprintf(stderr, "wardpulse status: out of memory\n");
        return 1;
    }
    if (!*code) {
        /* Without a plan: the district the aggregator names in its alerts or levels. */
        sqlite3_stmt *stmt = cli_db_prepare(
            s->db, "status",
            "SELECT json_extract(payload, '$.district') FROM alerts WHERE payload IS NOT NULL "
            "UNION ALL SELECT json_extract(payload, '$.district') FROM levels LIMIT 1");
        if (stmt && sqlite3_step(stmt) == SQLITE_ROW)
            snprintf(d->code, sizeof d->code, "%s", cli_db_text(stmt, 0));
        sqlite3_finalize(stmt);
    }
    if (!s->plan && !(s->names = calloc(s->row_count, sizeof *s->names))) {
        fprintf(stderr, "wardpulse status: out of memory\n");
        return 1;
    }
    if (status_gather(s) != 0)
        return 1;
    struct cli_buf out = {0};
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
    sqlite3_close(s.db);
    cli_plan_free(&s.plan);
    for (size_t i = 0; s.names && i < s.row_count; i++)
        free(s.names[i]);
    free(s.names);
    free(s.rows);
    cli_common_free(&s.common);
    return rc;
}
