/* alerts.c — `wardpulse alerts`: the alerts firing now (and with --all those resolved
 * lately), most severe first, each with its summary in Vietnamese (or English).
 *
 *   NGHIÊM TRỌNG  từ 01/09 00:00 (3d) · Quận Ba Đình · kids-5-11-full
 *     Quận Ba Đình không đạt mục tiêu "Tiêm đủ liều …": đến hạn đạt 71,0 %, …
 *
 * The alerts table holds, per (rule, scope), the payload last announced on
 * wardpulse/v1/alert/… (store/store.h): what an operator with mosquitto_sub sees.
 * Pending alerts (not yet announced) are not shown. Colour only on a terminal.
 *
 * With --all, also the history of the epidemic level (levels table, aggregator/levels.h):
 * every week in which a unit's level changed, up or down, and every incomplete week (days
 * without figures: the level is a floor, never lowered for them), e.g.
 *
 *   CẤP ĐỘ DỊCH  tuần 11/2022 · Phường Cống Vị (00007) · 3 → 4 (tăng)
 *   CẤP ĐỘ DỊCH  tuần 12/2022 · Phường Phúc Xá (00001) · 3, chưa đủ số liệu (thiếu 2 ngày)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "db.h"
#include "options.h"
#include "plan.h"
#include "text.h"
#include "timefmt.h"

#define ALERTS_WIDTH 80
#define ALERTS_RESET "\033[0m"

struct alerts_options {
    struct cli_common common;
    bool all;
    int days;                  /* with --all: resolved within this many days */
    bool vi;
    bool colour;
};

static void alerts_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse alerts [--all [--days N]] [--lang vi|en] [--db PATH] [--plan DIR]\n"
            "                        [--config FILE] [--now TIME]\n"
            "\n"
            "Prints the alerts firing now, most severe first (then the newest): severity,\n"
            "scope (ward or district), rule, since when, and the summary the aggregator\n"
            "published. With --all, also the alerts resolved in the last N days (default 7)\n"
            "and the changes of epidemic level (up or down) and incomplete weeks of the weeks\n"
            "that ended in those days.\n"
            "The plan, when there is one, gives the units' names.\n"
            "\n"
            "%s"
            "  --all            also the alerts resolved lately\n"
            "  --days N         with --all: resolved within N days before now (default 7)\n"
            "  --lang LANG      vi (default) or en: summaries and headings\n"
            "  -h, --help       this text\n"
            "\n"
            "Exit status 0 whether or not alerts are firing; 1 on an error.\n",
            cli_common_help);
}

static int alerts_parse_args(struct alerts_options *o, int argc, char **argv)
{
    o->vi = true;
    o->days = 7;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int rc;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return -1;
        if (strcmp(argv[i], "--all") == 0) {
            o->all = true;
        } else if ((rc = cli_common_option(&o->common, argc, argv, &i)) != 0) {
            if (rc < 0)
                return 2;
        } else if ((rc = cli_option("alerts", argc, argv, &i, "--lang", &v)) != 0) {
            if (rc < 0)
                return 2;
            if (strcmp(v, "vi") != 0 && strcmp(v, "en") != 0) {
                fprintf(stderr, "wardpulse alerts: --lang: '%s' is not vi or en\n", v);
                return 2;
            }
            o->vi = strcmp(v, "vi") == 0;
        } else if ((rc = cli_option("alerts", argc, argv, &i, "--days", &v)) != 0) {
            char *end = NULL;
            long days = rc > 0 ? strtol(v, &end, 10) : -1;
            if (rc < 0 || !end || *end || end == v || days < 0 || days > 3660) {
                if (rc > 0)
                    fprintf(stderr, "wardpulse alerts: --days: '%s' is not a number of days "
                            "(0 to 3660)\n", v);
                return 2;
            }
            o->days = (int)days;
        } else {
            fprintf(stderr, "wardpulse alerts: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    return cli_common_finish(&o->common);
}

static const char *alerts_severity_label(const char *severity, bool vi)
{
    if (strcmp(severity, "critical") == 0)
        return vi ? "NGHIÊM TRỌNG" : "CRITICAL";
    if (strcmp(severity, "warning") == 0)
        return vi ? "CẢNH BÁO" : "WARNING";
    return vi ? "THÔNG TIN" : "INFO";
}

static const char *alerts_severity_colour(const char *severity)
{
    if (strcmp(severity, "critical") == 0)
        return "\033[1;31m";
    if (strcmp(severity, "warning") == 0)
        return "\033[33m";
    return "\033[36m";
}

/* "Phường Phúc Xá (00001)", "Quận Ba Đình", or the code without a plan. */
static void alerts_scope_name(struct cli_buf *out, const struct plan *plan,
                              const char *scope, const char *district, bool vi)
{
    if (strcmp(scope, "district") == 0) {
        const struct plan_unit *d = plan ? plan_unit(plan, district) : NULL;
        if (d)
            cli_buf_puts(out, vi ? d->name_vi : d->name_en);
        else
            cli_buf_printf(out, "%s %s", vi ? "Quận" : "District", district);
        return;
    }
    const struct plan_unit *u = plan ? plan_unit(plan, scope) : NULL;
    if (u)
        cli_buf_printf(out, "%s (%s)", vi ? u->name_vi : u->name_en, scope);
    else
        cli_buf_printf(out, "%s %s", vi ? "Phường" : "Ward", scope);
}

struct alerts_counts {
    int total, critical, warning, info;
};

/* What the alerts and level readers below print into. */
struct alerts_print {
    const struct alerts_options *o;
    const struct plan *plan;
    bool firing;
    struct cli_buf *out;
    struct alerts_counts *n;
    int *count;
};

static int alerts_print_alert(void *ctx, const struct store_alert *a)
{
    struct alerts_print *p = ctx;
    const struct alerts_options *o = p->o;
    struct cli_buf *out = p->out;
    int offset = p->plan ? p->plan->utc_offset_minutes : 7 * 60;
    const char *severity = a->severity;
    int64_t since = a->since_ms;
    p->n->total++;
    if (strcmp(severity, "critical") == 0)
        p->n->critical++;
    else if (strcmp(severity, "warning") == 0)
        p->n->warning++;
    else
        p->n->info++;
    struct cli_buf head = {0};
    char when[32], age[16];
    cli_format_short_time(when, sizeof when, since, offset, o->vi);
    cli_format_age(age, sizeof age, o->common.now_ms - since);
    cli_buf_printf(&head, "%s %s (%s) · ", p->firing ? (o->vi ? "từ" : "since")
                                                    : (o->vi ? "khắc phục" : "ended"), when,
                   age);
    alerts_scope_name(&head, p->plan, a->scope, a->district, o->vi);
    cli_buf_printf(&head, " · %s", a->rule);
    if (o->colour)
        cli_buf_puts(out, p->firing ? alerts_severity_colour(severity) : "\033[32m");
    cli_text_cell(out, p->firing ? alerts_severity_label(severity, o->vi)
                                 : (o->vi ? "ĐÃ KHẮC PHỤC" : "RESOLVED"), 13, CLI_LEFT);
    if (o->colour)
        cli_buf_puts(out, ALERTS_RESET);
    cli_buf_puts(out, " ");
    cli_text_cut(out, head.data ? head.data : "", ALERTS_WIDTH - 1 - 14);
    cli_buf_free(&head);
    cli_buf_puts(out, "\n");
    cli_text_wrap(out, a->summary, ALERTS_WIDTH - 1, 2, true);
    cli_buf_puts(out, "\n");
    /* What officers did (control/<district>/…): only when they did something. */
    if (a->acknowledged_by[0])
        cli_buf_printf(out, "  %s %s\n", o->vi ? "Đã xác nhận:" : "Acknowledged by",
                       a->acknowledged_by);
    if (a->silenced_until[0])
        cli_buf_printf(out, "  %s %s\n", o->vi ? "Tạm tắt thông báo đến" : "Silenced until",
                       a->silenced_until);
    return 0;
}

/* Prints the alerts of one state; counts them. */
static int alerts_section(const struct alerts_options *o, struct store *store,
                          const struct plan *plan, bool firing, struct cli_buf *out,
                          struct alerts_counts *n)
{
    struct alerts_print p = {o, plan, firing, out, n, NULL};
    enum wp_err err = store_read_alerts(
        store, firing ? "firing" : "resolved",
        firing ? INT64_MIN : o->common.now_ms - (int64_t)o->days * 86400000, o->vi,
        alerts_print_alert, &p);
    return err == WP_OK ? 0 : cli_db_fail(store, "alerts", err);
}

static int alerts_print_level(void *ctx, const struct store_level_change *c)
{
    struct alerts_print *p = ctx;
    const struct alerts_options *o = p->o;
    struct cli_buf *out = p->out;
    int64_t since = 0;
    if (!wp_datetime_parse(c->since, &since)
        || since < o->common.now_ms - (int64_t)o->days * 86400000
        || since > o->common.now_ms)
        return 0;
    const char *week = c->week;
    int level = c->level;
    bool changed = c->has_previous && c->previous != level;
    struct cli_buf line = {0};
    cli_buf_printf(&line, o->vi ? "tuần %.2s/%.4s · " : "week %.2s of %.4s · ",
                   week + 6, week);
    alerts_scope_name(&line, p->plan, c->scope, c->district, o->vi);
    if (changed)
        cli_buf_printf(&line, " · %d → %d (%s)", c->previous, level,
                       level > c->previous ? (o->vi ? "tăng" : "up")
                                           : (o->vi ? "giảm" : "down"));
    else
        cli_buf_printf(&line, " · %d", level);
    if (c->incomplete)
        cli_buf_printf(&line, o->vi ? ", chưa đủ số liệu (thiếu %d ngày)"
                                    : ", incomplete (%d days missing)",
                       c->missing_days);
    if (o->colour)
        cli_buf_puts(out, level >= 3 ? "\033[1;31m" : "\033[36m");
    cli_text_cell(out, o->vi ? "CẤP ĐỘ DỊCH" : "LEVEL", 13, CLI_LEFT);
    if (o->colour)
        cli_buf_puts(out, ALERTS_RESET);
    cli_buf_puts(out, " ");
    cli_text_cut(out, line.data ? line.data : "", ALERTS_WIDTH - 1 - 14);
    cli_buf_puts(out, "\n");
    cli_buf_free(&line);
    (*p->count)++;
    return 0;
}

/* The weeks that ended within the last o->days days in which a unit's level changed, or
 * that were incomplete; newest first. */
static int alerts_level_history(const struct alerts_options *o, struct store *store,
                                const struct plan *plan, struct cli_buf *out, int *count)
{
    struct alerts_print p = {o, plan, false, out, NULL, count};
    enum wp_err err = store_read_level_changes(store, alerts_print_level, &p);
    return err == WP_OK ? 0 : cli_db_fail(store, "alerts", err);
}

static int alerts_run(const struct alerts_options *o)
{
    struct plan *plan = NULL;
    if (o->common.plan_dir && cli_common_plan(&o->common, &plan) != 0)
        return 1;
    struct store *store = cli_db_open("alerts", o->common.db_path, 2);
    if (!store) {
        plan_free(&plan);
        return 1;
    }
    struct cli_buf body = {0}, resolved = {0}, levels = {0}, out = {0};
    struct alerts_counts firing = {0}, ended = {0};
    int level_changes = 0;
    int rc = alerts_section(o, store, plan, true, &body, &firing);
    if (rc == 0 && o->all)
        rc = alerts_section(o, store, plan, false, &resolved, &ended);
    if (rc == 0 && o->all)
        rc = alerts_level_history(o, store, plan, &levels, &level_changes);
    if (rc == 0) {
        char now[32];
        cli_format_time(now, sizeof now, o->common.now_ms,
                        plan ? plan->utc_offset_minutes : 7 * 60, o->vi);
        struct cli_buf head = {0};
        cli_buf_printf(&head, o->vi ? "Cảnh báo chưa xử lý: %d (nghiêm trọng %d, cảnh báo %d"
                                    : "Alerts firing: %d (critical %d, warning %d",
                       firing.total, firing.critical, firing.warning);
        if (firing.info)
            cli_buf_printf(&head, o->vi ? ", thông tin %d" : ", info %d", firing.info);
        cli_buf_printf(&head, ") · %s", now);
        cli_text_wrap(&out, head.data ? head.data : "", ALERTS_WIDTH - 1, 2, false);
        cli_buf_puts(&out, "\n");
        cli_buf_free(&head);
        if (body.len)
            cli_buf_printf(&out, "\n%s", body.data);
        if (o->all) {
            if (o->vi)
                cli_buf_printf(&out, "\nĐã khắc phục trong %d ngày qua: %d\n", o->days, ended.total);
            else
                cli_buf_printf(&out, "\nResolved in the last %d days: %d\n", o->days,
                               ended.total);
            if (resolved.len)
                cli_buf_printf(&out, "\n%s", resolved.data);
            if (o->vi)
                cli_buf_printf(&out, "\nCấp độ dịch thay đổi hoặc chưa đủ số liệu, các tuần "
                               "kết thúc trong %d ngày qua: %d\n", o->days, level_changes);
            else
                cli_buf_printf(&out, "\nEpidemic level changes and incomplete weeks, weeks "
                               "ended in the last %d days: %d\n", o->days, level_changes);
            if (levels.len)
                cli_buf_printf(&out, "\n%s", levels.data);
        }
        if (out.failed) {
            fprintf(stderr, "wardpulse alerts: out of memory\n");
            rc = 1;
        } else {
            fputs(out.data, stdout);
        }
    }
    cli_buf_free(&body);
    cli_buf_free(&resolved);
    cli_buf_free(&levels);
    cli_buf_free(&out);
    store_close(&store);
    plan_free(&plan);
    return rc;
}

int cli_alerts(int argc, char **argv)
{
    struct alerts_options o = {.common = {.command = "alerts"}};
    int rc = alerts_parse_args(&o, argc, argv);
    if (rc < 0) {
        alerts_usage(stdout);
        rc = 0;
    } else if (rc == 0) {
        o.colour = cli_use_colour(stdout);
        rc = alerts_run(&o);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            perror("wardpulse alerts: writing the output");
            rc = 1;
        }
    }
    cli_common_free(&o.common);
    return rc;
}
