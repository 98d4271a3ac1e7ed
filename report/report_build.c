/* report_build.c — the weekly report gathered once, and its Markdown (report_model.h). */
#include "array.h"
#include "report_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "timefmt.h"

/* ---- helpers shared with the HTML writer ---- */

const char *report_unit_name(const struct report_row *row)
{
    return row->unit->name_vi;
}

void report_percent(char *buf, size_t size, double ratio)
{
    char n[32];
    cli_format_percent(n, sizeof n, ratio, 1, ',');
    /* A percentage is a few characters; a buffer too small gets it cut, never overrun. */
    if (snprintf(buf, size, "%s%%", n) >= (int)size && size > 0)
        buf[size - 1] = '\0';
}

void report_day(char *buf, size_t size, int64_t day)
{
    cli_format_day(buf, size, day, true);
}

const char *report_severity_vi(const char *severity)
{
    return strcmp(severity, "critical") == 0  ? "nghiêm trọng"
           : strcmp(severity, "warning") == 0 ? "cảnh báo"
                                              : "thông tin";
}

const char *report_state_vi(const char *state)
{
    return strcmp(state, "firing") == 0      ? "phát sinh"
           : strcmp(state, "resolved") == 0 ? "đã khắc phục"
                                            : state;
}

const struct report_row *report_scope_row(const struct report *r, const char *scope)
{
    if (strcmp(scope, "district") == 0)
        return &r->rows[r->row_count - 1];
    for (size_t i = 0; i + 1 < r->row_count; i++)
        if (strcmp(r->rows[i].unit->code, scope) == 0)
            return &r->rows[i];
    return NULL;
}

const char *report_colour(const struct report *r, size_t row)
{
    /* Distinct hues for up to 16 wards, then they repeat; the district is near black. */
    static const char *const palette[] = {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
        "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
        "#c5b0d5", "#c49c94",
    };
    if (row + 1 >= r->row_count)
        return "#111111";
    return palette[row % (sizeof palette / sizeof palette[0])];
}

/* ---- gathering ---- */

static int report_take_rates(void *ctx, const char *unit, const struct store_rates *rates)
{
    struct report *r = ctx;
    struct report_row *district = &r->rows[r->row_count - 1];
    struct report_row *row = (struct report_row *)report_scope_row(r, unit);
    if (!row || row == district)
        return 0;
    row->expected = rates->expected;
    row->received = rates->received;
    row->on_time = rates->on_time;
    district->expected += row->expected;
    district->received += row->received;
    district->on_time += row->on_time;
    return 0;
}

static enum wp_err report_reporting(struct report *r)
{
    char first[16], last[16];
    wp_date_format(r->monday, first, sizeof first);
    wp_date_format(r->monday + 6, last, sizeof last);
    enum wp_err err = store_read_rates(r->store, first, last, r->week, report_take_rates, r);
    return err;
}

static int report_take_level(void *ctx, const char *scope, int64_t level)
{
    struct report_row *row = (struct report_row *)report_scope_row(ctx, scope);
    if (row)
        row->level = (int)level;
    return 0;
}

static int report_take_firing(void *ctx, const char *scope, int64_t firing)
{
    struct report_row *row = (struct report_row *)report_scope_row(ctx, scope);
    if (row)
        row->firing = (int)firing;
    return 0;
}

static enum wp_err report_levels_and_firing(struct report *r)
{
    enum wp_err err = store_read_week_levels(r->store, r->week, report_take_level, r);
    /* Firing at the end of the week. */
    if (err == WP_OK)
        err = store_read_firing_at(r->store,
                                   wp_day_start_ms(r->monday + 7, r->plan->utc_offset_minutes),
                                   report_take_firing, r);
    return err;
}

/* The periods of series within [first, last] rolled up as the catalog says: sum adds,
 * max takes the largest, latest the last. False when there is none. */
static bool report_week_figure(const struct rule_series *series, int64_t first, int64_t last,
                               enum plan_rollup rollup, int64_t *value)
{
    bool found = false;
    int64_t acc = 0;
    for (size_t i = 0; i < series->count; i++) {
        const struct rule_point *p = &series->points[i];
        if (p->first_day < first || p->last_day > last)
            continue;
        if (!found || rollup == PLAN_ROLLUP_LATEST)
            acc = p->value;
        else if (rollup == PLAN_ROLLUP_MAX)
            acc = p->value > acc ? p->value : acc;
        else
            acc += p->value;
        found = true;
    }
    if (found)
        *value = acc;
    return found;
}

static enum wp_err report_figures(struct report *r)
{
    struct report_row *district = &r->rows[r->row_count - 1];
    for (size_t f = 0; f < r->figure_count; f++) {
        const struct plan_indicator *ind = r->figures[f];
        bool max = ind->rollup == PLAN_ROLLUP_MAX;
        for (size_t i = 0; i + 1 < r->row_count; i++) {
            struct report_row *row = &r->rows[i];
            const struct rule_series *series;
            enum wp_err err = series_get(r->series, r->plan, row->unit, ind->id, &series);
            if (err != WP_OK)
                return err;
            row->has_figure[f] = report_week_figure(series, r->monday, r->monday + 6,
                                                    ind->rollup, &row->figure[f]);
            if (!row->has_figure[f])
                continue;
            if (!district->has_figure[f])
                district->figure[f] = row->figure[f];
            else if (max)
                district->figure[f] = row->figure[f] > district->figure[f]
                                          ? row->figure[f] : district->figure[f];
            else
                district->figure[f] += row->figure[f];
            district->has_figure[f] = true;
        }
    }
    return 0;
}

/* Coverage at the end of the week, and week by week for the chart, as the rules compute
 * it (series.h, rules.h). */
static enum wp_err report_coverage(struct report *r)
{
    for (size_t t = 0; t < r->target_count; t++) {
        const struct plan_rule *rule = r->targets[t];
        struct report_chart *c = &r->charts[t];
        c->rule = rule;
        enum wp_err err = WP_OK;
        /* The first week any ward of the district has a figure. */
        int64_t first = r->monday;
        for (size_t i = 0; err == WP_OK && i < r->ward_count; i++) {
            int64_t earliest;
            if ((err = series_first_figure(r->series, r->plan, rule, r->wards[i], &earliest))
                != WP_OK || earliest == PLAN_DAY_NONE)
                continue;
            for (int64_t back = r->monday - 7 * (REPORT_WEEKS_MAX - 1); back < first;
                 back += 7)
                if (earliest <= back + 6) {
                    first = back;
                    break;
                }
        }
        if (err != WP_OK)
            return err;
        c->first_monday = first;
        c->week_count = (int)((r->monday - first) / 7 + 1);
        c->axis_weeks = c->week_count;
        if (rule->u.coverage.deadline_day != PLAN_DAY_NONE
            && rule->u.coverage.deadline_day > r->monday + 6) {
            int64_t weeks = (rule->u.coverage.deadline_day - first) / 7 + 1;
            c->axis_weeks = (int)(weeks < REPORT_WEEKS_MAX ? weeks : REPORT_WEEKS_MAX);
        }
        size_t cells = r->row_count * (size_t)c->week_count;
        c->has = calloc(cells, sizeof *c->has);
        c->value = calloc(cells, sizeof *c->value);
        if (!c->has || !c->value)
            return WP_ERR_NOMEM;
        for (size_t i = 0; err == WP_OK && i < r->row_count; i++) {
            struct report_row *row = &r->rows[i];
            size_t at = i * (size_t)c->week_count;
            /* Each week's Sunday. */
            err = series_coverage_days(r->series, r->plan, rule, row->unit, first + 6, 7,
                                       (size_t)c->week_count, &c->has[at], &c->value[at]);
            size_t last = i * (size_t)c->week_count + (size_t)c->week_count - 1;
            row->has_coverage[t] = c->has[last];
            row->coverage[t] = c->value[last];
        }
        if (err != WP_OK)
            return err;
    }
    return 0;
}

struct report_events_read {
    struct report *report;
    size_t cap;
};

static int report_take_event(void *ctx, const struct store_alert_event *from)
{
    struct report_events_read *x = ctx;
    struct report *r = x->report;
    if (!WP_ARRAY_RESERVE(r->events, x->cap, r->event_count + 1))
            return 1;
    struct report_event *e = &r->events[r->event_count++];
    e->at_ms = from->at_ms;
    e->rule = strdup(from->rule);
    e->scope = strdup(from->scope);
    e->state = strdup(from->state);
    e->severity = strdup(from->severity);
    e->summary = strdup(from->summary_vi);
    if (!e->rule || !e->scope || !e->state || !e->severity || !e->summary)
        return 1;
    if (strcmp(e->state, "firing") == 0)
        r->fired++;
    else if (strcmp(e->state, "resolved") == 0)
        r->resolved++;
    return 0;
}

static enum wp_err report_events(struct report *r)
{
    struct report_events_read x = {r, 0};
    enum wp_err err = store_read_alert_events(
        r->store, wp_day_start_ms(r->monday, r->plan->utc_offset_minutes),
        wp_day_start_ms(r->monday + 7, r->plan->utc_offset_minutes), report_take_event, &x);
    return err;
}

enum wp_err report_build(struct report *r, struct store *store, const struct plan *plan,
                         const char *week, int64_t now_ms)
{
    memset(r, 0, sizeof *r);
    if (strlen(week) != 8 || !wp_isoweek_parse(week, &r->monday))
        return WP_ERR_INVALID;
    snprintf(r->week, sizeof r->week, "%s", week);
    r->store = store;
    r->plan = plan;
    r->now_ms = now_ms;
    r->district = r->plan->district;
    r->wards = r->plan->wards;
    r->ward_count = r->plan->ward_count;
    r->row_count = r->ward_count + 1;
    r->rows = calloc(r->row_count, sizeof *r->rows);
    if (!r->rows)
        return WP_ERR_NOMEM;
    for (size_t i = 0; i < r->ward_count; i++)
        r->rows[i].unit = r->wards[i];
    r->rows[r->ward_count].unit = r->district;
    for (size_t i = 0; i < r->plan->rule_count; i++) {
        const struct plan_rule *rule = &r->plan->rules[i];
        if (rule->kind == PLAN_RULE_COVERAGE && r->target_count < REPORT_TARGETS_MAX)
            r->targets[r->target_count++] = rule;
        for (size_t k = 0; rule->kind == PLAN_RULE_SCHEDULE
                           && k < rule->u.schedule.indicator_count; k++) {
            const struct plan_indicator *ind = plan_indicator(r->plan,
                                                              rule->u.schedule.indicators[k]);
            bool seen = !ind || r->figure_count == REPORT_FIGURES_MAX;
            for (size_t f = 0; !seen && f < r->figure_count; f++)
                seen = r->figures[f] == ind;
            if (!seen)
                r->figures[r->figure_count++] = ind;
        }
    }
    enum wp_err rc = series_cache_create(r->store, &r->series);
    if (rc == WP_OK)
        rc = report_reporting(r);
    if (rc == WP_OK)
        rc = report_levels_and_firing(r);
    if (rc == WP_OK)
        rc = report_figures(r);
    if (rc == WP_OK)
        rc = report_coverage(r);
    if (rc == WP_OK)
        rc = report_events(r);
    return rc;
}

void report_free(struct report *r)
{
    for (size_t t = 0; t < REPORT_TARGETS_MAX; t++) {
        free(r->charts[t].has);
        free(r->charts[t].value);
    }
    for (size_t i = 0; i < r->event_count; i++) {
        free(r->events[i].rule);
        free(r->events[i].scope);
        free(r->events[i].state);
        free(r->events[i].severity);
        free(r->events[i].summary);
    }
    free(r->events);
    free(r->rows);
    series_cache_destroy(&r->series);
}

/* ---- Markdown ---- */

static void md_text(struct cli_buf *out, const char *s)
{
    cli_md_escape(out, s);
}

static void md_int(struct cli_buf *out, bool has, int64_t n)
{
    char text[32];
    if (!has) {
        cli_buf_puts(out, "–");
        return;
    }
    cli_format_int(text, sizeof text, n, '.');
    cli_buf_puts(out, text);
}

static void md_level(struct cli_buf *out, int level)
{
    static const char *const colours[] = {"", "xanh", "vàng", "cam", "đỏ"};
    if (level >= 1 && level <= 4)
        cli_buf_printf(out, "%d (%s)", level, colours[level]);
    else
        cli_buf_puts(out, "–");
}

static void md_reporting_table(const struct report *r, struct cli_buf *out)
{
    cli_buf_puts(out, "| Mã | Đơn vị | Báo cáo nhận / phải gửi | Đúng hạn |");
    for (size_t f = 0; f < r->figure_count; f++) {
        cli_buf_puts(out, " ");
        md_text(out, r->figures[f]->name.vi);
        cli_buf_puts(out, " |");
    }
    cli_buf_puts(out, " Cấp độ dịch | Cảnh báo chưa xử lý |\n|---|---|--:|--:|");
    for (size_t f = 0; f < r->figure_count; f++)
        cli_buf_puts(out, "--:|");
    cli_buf_puts(out, "---|--:|\n");
    for (size_t i = 0; i < r->row_count; i++) {
        const struct report_row *row = &r->rows[i];
        const char *b = i + 1 == r->row_count ? "**" : "";
        cli_buf_printf(out, "| %s%s%s | %s", b, row->unit->code, b, b);
        md_text(out, report_unit_name(row));
        cli_buf_printf(out, "%s | %lld / %lld | %lld |", b, (long long)row->received,
                       (long long)row->expected, (long long)row->on_time);
        for (size_t f = 0; f < r->figure_count; f++) {
            cli_buf_puts(out, " ");
            md_int(out, row->has_figure[f], row->figure[f]);
            cli_buf_puts(out, " |");
        }
        cli_buf_puts(out, " ");
        md_level(out, row->level);
        cli_buf_printf(out, " | %d |\n", row->firing);
    }
}

static void md_target_heading(const struct plan_rule *rule, struct cli_buf *out)
{
    char target[32], deadline[16] = "";
    report_percent(target, sizeof target, rule->u.coverage.target);
    if (rule->u.coverage.deadline_day != PLAN_DAY_NONE)
        report_day(deadline, sizeof deadline, rule->u.coverage.deadline_day);
    md_text(out, rule->id);
    cli_buf_printf(out, " (%s%s%s)", target, *deadline ? " đến " : "", deadline);
}

static void md_coverage_table(const struct report *r, struct cli_buf *out)
{
    cli_buf_puts(out, "| Mã | Đơn vị |");
    for (size_t t = 0; t < r->target_count; t++) {
        cli_buf_puts(out, " ");
        md_target_heading(r->targets[t], out);
        cli_buf_puts(out, " |");
    }
    cli_buf_puts(out, "\n|---|---|");
    for (size_t t = 0; t < r->target_count; t++)
        cli_buf_puts(out, "--:|");
    cli_buf_puts(out, "\n");
    for (size_t i = 0; i < r->row_count; i++) {
        const struct report_row *row = &r->rows[i];
        const char *b = i + 1 == r->row_count ? "**" : "";
        cli_buf_printf(out, "| %s%s%s | %s", b, row->unit->code, b, b);
        md_text(out, report_unit_name(row));
        cli_buf_printf(out, "%s |", b);
        for (size_t t = 0; t < r->target_count; t++) {
            char pct[32] = "–";
            if (row->has_coverage[t])
                report_percent(pct, sizeof pct, row->coverage[t]);
            cli_buf_printf(out, " %s%s |", pct,
                           row->has_coverage[t] && row->coverage[t] >= r->targets[t]->u.coverage.target
                               ? " ✓" : "");
        }
        cli_buf_puts(out, "\n");
    }
}

/* The charts' figures as text: the district week by week, and the week's spread. */
static void md_coverage_over_time(const struct report *r, struct cli_buf *out)
{
    for (size_t t = 0; t < r->target_count; t++) {
        const struct report_chart *c = &r->charts[t];
        cli_buf_puts(out, "\n### ");
        md_target_heading(c->rule, out);
        cli_buf_puts(out, "\n\n");
        md_text(out, c->rule->name.vi);
        cli_buf_puts(out, "\n\n");
        md_text(out, report_unit_name(&r->rows[r->row_count - 1]));
        cli_buf_puts(out, ", theo tuần:");
        size_t d = r->row_count - 1;
        bool any = false;
        for (int w = 0; w < c->week_count; w++) {
            size_t k = d * (size_t)c->week_count + (size_t)w;
            if (!c->has[k])
                continue;
            char week[16], pct[32];
            wp_isoweek_format(c->first_monday + 7 * w, week, sizeof week, NULL);
            report_percent(pct, sizeof pct, c->value[k]);
            cli_buf_printf(out, "%s tuần %s: %s", any ? "," : "", week + 6, pct);
            any = true;
        }
        cli_buf_puts(out, any ? ".\n" : " chưa có số liệu.\n");
        const struct report_row *lo = NULL, *hi = NULL;
        int below = 0;
        for (size_t i = 0; i + 1 < r->row_count; i++) {
            const struct report_row *row = &r->rows[i];
            if (!row->has_coverage[t])
                continue;
            if (!lo || row->coverage[t] < lo->coverage[t])
                lo = row;
            if (!hi || row->coverage[t] > hi->coverage[t])
                hi = row;
            below += row->coverage[t] < c->rule->u.coverage.target;
        }
        if (lo && hi) {
            char a[32], b[32];
            report_percent(a, sizeof a, lo->coverage[t]);
            report_percent(b, sizeof b, hi->coverage[t]);
            cli_buf_puts(out, "\nThấp nhất: ");
            md_text(out, report_unit_name(lo));
            cli_buf_printf(out, " %s; cao nhất: ", a);
            md_text(out, report_unit_name(hi));
            cli_buf_printf(out, " %s; %d/%zu phường chưa đạt mục tiêu.\n", b, below,
                           r->ward_count);
        }
    }
}

int report_firing_total(const struct report *r)
{
    int n = 0;
    for (size_t i = 0; i < r->row_count; i++)
        n += r->rows[i].firing;
    return n;
}

static void md_events(const struct report *r, struct cli_buf *out)
{
    cli_buf_printf(out, "Trong tuần: %d cảnh báo phát sinh, %d cảnh báo đã khắc phục. Cuối tuần "
                   "còn %d cảnh báo chưa xử lý.\n", r->fired, r->resolved,
                   report_firing_total(r));
    if (!r->event_count)
        return;
    cli_buf_puts(out, "\n| Thời điểm | Mức | Đơn vị | Quy tắc | Trạng thái | Nội dung |\n"
                      "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->event_count; i++) {
        const struct report_event *e = &r->events[i];
        char when[32];
        cli_format_time(when, sizeof when, e->at_ms, r->plan->utc_offset_minutes, true);
        const struct report_row *row = report_scope_row(r, e->scope);
        cli_buf_printf(out, "| %s | %s | ", when, report_severity_vi(e->severity));
        md_text(out, row ? report_unit_name(row) : e->scope);
        cli_buf_puts(out, " | ");
        md_text(out, e->rule);
        cli_buf_printf(out, " | %s | ", report_state_vi(e->state));
        md_text(out, e->summary);
        cli_buf_puts(out, " |\n");
    }
}

void report_write_markdown(const struct report *r, struct cli_buf *out)
{
    char from[16], to[16], now[32];
    report_day(from, sizeof from, r->monday);
    report_day(to, sizeof to, r->monday + 6);
    cli_format_time(now, sizeof now, r->now_ms, r->plan->utc_offset_minutes, true);
    cli_buf_printf(out, "# Báo cáo tuần %s/%.4s — ", r->week + 6, r->week);
    md_text(out, r->district->name_vi);
    cli_buf_printf(out, "\n\nTuần %s (%s – %s). Số liệu đến hết ngày %s. Kế hoạch: ", r->week,
                   from, to, to);
    md_text(out, r->plan->title.vi);
    cli_buf_printf(out, ". Lập lúc %s bằng `wardpulse report`.\n\n", now);
    cli_buf_puts(out, "## 1. Tình hình báo cáo của các phường\n\n");
    md_reporting_table(r, out);
    cli_buf_puts(out, "\nBáo cáo nhận / phải gửi: các kỳ báo cáo trong tuần đã qua giờ chốt; "
                      "số liệu: cộng trong tuần (số ca) hoặc số mới nhất (số hiện có).\n");
    cli_buf_printf(out, "\n## 2. Chỉ tiêu bao phủ (đến hết ngày %s)\n\n", to);
    if (r->target_count)
        md_coverage_table(r, out);
    else
        cli_buf_puts(out, "Kế hoạch không có chỉ tiêu bao phủ.\n");
    for (size_t t = 0; t < r->target_count; t++) {
        cli_buf_puts(out, t ? "" : "\n");
        cli_buf_puts(out, "- **");
        md_text(out, r->targets[t]->id);
        cli_buf_puts(out, "**: ");
        md_text(out, r->targets[t]->name.vi);
        cli_buf_puts(out, "\n");
    }
    cli_buf_puts(out, "\n## 3. Độ bao phủ theo tuần\n");
    md_coverage_over_time(r, out);
    cli_buf_puts(out, "\n## 4. Cảnh báo trong tuần\n\n");
    md_events(r, out);
}
