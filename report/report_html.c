/* report_html.c — the weekly report as one self-contained HTML page (report_model.h).
 *
 * Self-contained: styles inline, charts as inline SVG, no scripts, fonts, images or
 * links to fetch; a Content-Security-Policy of default-src 'none' makes a browser refuse
 * anything else, so the page reads the same offline, attached to an e-mail or printed.
 * Every text from the plan or the database is escaped.
 */
#include <stdio.h>
#include <string.h>

#include "report_model.h"

static const char report_html_style[] =
    "body{font-family:'Noto Sans','DejaVu Sans',Arial,sans-serif;margin:24px auto;"
    "max-width:1100px;color:#1a1a1a;line-height:1.4;padding:0 12px}"
    "h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;"
    "border-bottom:2px solid #444;padding-bottom:.2em}h3{font-size:1em;margin:1.2em 0 .3em}"
    ".meta,.note{color:#555;font-size:.9em}"
    "table{border-collapse:collapse;width:100%;font-size:.9em;margin:.5em 0}"
    "th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top}"
    "th{background:#eef1f5;text-align:left}td.n{text-align:right;white-space:nowrap}"
    "tr.district td{font-weight:bold;background:#f6f6f6}"
    "td.l1{background:#c8ecc9}td.l2{background:#fff3b0}td.l3{background:#ffd2a6}"
    "td.l4{background:#ffb3b3}td.met{color:#17631f}td.short{color:#9c1c1c}"
    "td.critical{color:#9c1c1c;font-weight:bold}td.warning{color:#8a5a00}"
    "figure{margin:1em 0 2em}figcaption{font-size:.9em;color:#333}"
    "svg{max-width:100%;height:auto;border:1px solid #ddd;background:#fff}"
    "ul.legend{list-style:none;padding:0;margin:.4em 0;font-size:.8em;display:flex;"
    "flex-wrap:wrap;gap:2px 14px}"
    "ul.legend span{display:inline-block;width:14px;height:4px;margin-right:4px;"
    "vertical-align:middle}"
    "@media print{body{margin:0}h2{break-after:avoid}figure{break-inside:avoid}}";

static void html_text(struct cli_buf *out, const char *s)
{
    cli_html_escape(out, s);
}

static void html_int_cell(struct cli_buf *out, bool has, int64_t n)
{
    char text[32];
    if (!has) {
        cli_buf_puts(out, "<td class=\"n\">–</td>");
        return;
    }
    cli_format_int(text, sizeof text, n, '.');
    cli_buf_printf(out, "<td class=\"n\">%s</td>", text);
}

static void html_level_cell(struct cli_buf *out, int level)
{
    static const char *const colours[] = {"", "xanh", "vàng", "cam", "đỏ"};
    if (level >= 1 && level <= 4)
        cli_buf_printf(out, "<td class=\"n l%d\">%d (%s)</td>", level, level, colours[level]);
    else
        cli_buf_puts(out, "<td class=\"n\">–</td>");
}

static void html_unit_cells(struct cli_buf *out, const struct report_row *row)
{
    cli_buf_puts(out, "<td>");
    html_text(out, row->unit->code);
    cli_buf_puts(out, "</td><td>");
    html_text(out, report_unit_name(row));
    cli_buf_puts(out, "</td>");
}

static void html_row_open(struct cli_buf *out, const struct report *r, size_t i)
{
    if (i + 1 == r->row_count)
        cli_buf_puts(out, "<tr class=\"district\" data-district=\"");
    else
        cli_buf_puts(out, "<tr class=\"ward\" data-ward=\"");
    html_text(out, r->rows[i].unit->code);
    cli_buf_puts(out, "\">");
}

static void html_reporting(const struct report *r, struct cli_buf *out)
{
    cli_buf_puts(out, "<section id=\"wards\">\n<h2>1. Tình hình báo cáo của các phường</h2>\n"
                      "<table class=\"wards\">\n<thead><tr><th>Mã</th><th>Đơn vị</th>"
                      "<th>Báo cáo nhận / phải gửi</th><th>Đúng hạn</th>");
    for (size_t f = 0; f < r->figure_count; f++) {
        cli_buf_puts(out, "<th>");
        html_text(out, r->figures[f]->name.vi);
        cli_buf_puts(out, "</th>");
    }
    cli_buf_puts(out, "<th>Cấp độ dịch</th><th>Cảnh báo chưa xử lý</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->row_count; i++) {
        const struct report_row *row = &r->rows[i];
        if (i + 1 == r->row_count)
            cli_buf_puts(out, "</tbody>\n<tfoot>\n");
        html_row_open(out, r, i);
        html_unit_cells(out, row);
        cli_buf_printf(out, "<td class=\"n\">%lld / %lld</td><td class=\"n\">%lld</td>",
                       (long long)row->received, (long long)row->expected,
                       (long long)row->on_time);
        for (size_t f = 0; f < r->figure_count; f++)
            html_int_cell(out, row->has_figure[f], row->figure[f]);
        html_level_cell(out, row->level);
        cli_buf_printf(out, "<td class=\"n\">%d</td></tr>\n", row->firing);
    }
    cli_buf_puts(out, "</tfoot>\n</table>\n<p class=\"note\">Báo cáo nhận / phải gửi: các kỳ "
                      "báo cáo trong tuần đã qua giờ chốt, và số kỳ đã nhận đủ; đúng hạn: nhận "
                      "đủ trước giờ chốt. Số liệu: cộng trong tuần (số ca) hoặc số mới nhất "
                      "trong tuần (số hiện có). Cấp độ dịch: tuần này, theo tiêu chí của kế "
                      "hoạch.</p>\n</section>\n");
}

static void html_target_heading(const struct plan_rule *rule, struct cli_buf *out)
{
    char target[32], deadline[16] = "";
    report_percent(target, sizeof target, rule->u.coverage.target);
    if (rule->u.coverage.deadline_day != PLAN_DAY_NONE)
        report_day(deadline, sizeof deadline, rule->u.coverage.deadline_day);
    html_text(out, rule->id);
    cli_buf_printf(out, "<br>(%s%s%s)", target, *deadline ? " đến " : "", deadline);
}

static void html_coverage(const struct report *r, struct cli_buf *out)
{
    char to[16];
    report_day(to, sizeof to, r->monday + 6);
    cli_buf_printf(out, "<section id=\"targets\">\n<h2>2. Chỉ tiêu bao phủ (đến hết ngày "
                        "%s)</h2>\n", to);
    if (!r->target_count) {
        cli_buf_puts(out, "<p>Kế hoạch không có chỉ tiêu bao phủ.</p>\n</section>\n");
        return;
    }
    cli_buf_puts(out, "<table class=\"targets\">\n<thead><tr><th>Mã</th><th>Đơn vị</th>");
    for (size_t t = 0; t < r->target_count; t++) {
        cli_buf_puts(out, "<th>");
        html_target_heading(r->targets[t], out);
        cli_buf_puts(out, "</th>");
    }
    cli_buf_puts(out, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->row_count; i++) {
        const struct report_row *row = &r->rows[i];
        if (i + 1 == r->row_count)
            cli_buf_puts(out, "</tbody>\n<tfoot>\n");
        html_row_open(out, r, i);
        html_unit_cells(out, row);
        for (size_t t = 0; t < r->target_count; t++) {
            if (!row->has_coverage[t]) {
                cli_buf_puts(out, "<td class=\"n\">–</td>");
                continue;
            }
            char pct[32];
            report_percent(pct, sizeof pct, row->coverage[t]);
            bool met = row->coverage[t] >= r->targets[t]->u.coverage.target;
            cli_buf_printf(out, "<td class=\"n %s\">%s%s</td>", met ? "met" : "short", pct,
                           met ? " ✓" : "");
        }
        cli_buf_puts(out, "</tr>\n");
    }
    cli_buf_puts(out, "</tfoot>\n</table>\n<ul>\n");
    for (size_t t = 0; t < r->target_count; t++) {
        cli_buf_puts(out, "<li><b>");
        html_text(out, r->targets[t]->id);
        cli_buf_puts(out, "</b>: ");
        html_text(out, r->targets[t]->name.vi);
        cli_buf_puts(out, "</li>\n");
    }
    cli_buf_puts(out, "</ul>\n</section>\n");
}

static void html_charts(const struct report *r, struct cli_buf *out)
{
    cli_buf_puts(out, "<section id=\"charts\">\n<h2>3. Độ bao phủ theo tuần</h2>\n");
    for (size_t t = 0; t < r->target_count; t++) {
        const struct report_chart *c = &r->charts[t];
        cli_buf_puts(out, "<figure>\n<h3>");
        html_target_heading(c->rule, out);
        cli_buf_puts(out, "</h3>\n");
        report_write_svg(r, c, out);
        cli_buf_puts(out, "\n<ul class=\"legend\">");
        for (size_t n = 0; n < r->row_count; n++) {
            size_t i = n == 0 ? r->row_count - 1 : n - 1;   /* the district first */
            const struct report_row *row = &r->rows[i];
            char pct[32] = "–";
            if (row->has_coverage[t])
                report_percent(pct, sizeof pct, row->coverage[t]);
            cli_buf_printf(out, "<li><span style=\"background:%s\"></span>",
                           report_colour(r, i));
            html_text(out, report_unit_name(row));
            cli_buf_printf(out, " %s</li>", pct);
        }
        cli_buf_puts(out, "</ul>\n<figcaption>");
        html_text(out, c->rule->name.vi);
        cli_buf_puts(out, ". Đường đậm: toàn quận; đường mảnh: từng phường (số liệu cuối mỗi "
                          "tuần); gạch ngang: mục tiêu; gạch dọc: thời hạn.</figcaption>\n"
                          "</figure>\n");
    }
    if (!r->target_count)
        cli_buf_puts(out, "<p>Kế hoạch không có chỉ tiêu bao phủ.</p>\n");
    cli_buf_puts(out, "</section>\n");
}

static void html_events(const struct report *r, struct cli_buf *out)
{
    cli_buf_printf(out, "<section id=\"alerts\">\n<h2>4. Cảnh báo trong tuần</h2>\n"
                        "<p>Trong tuần: %d cảnh báo phát sinh, %d cảnh báo đã khắc phục. Cuối "
                        "tuần còn %d cảnh báo chưa xử lý.</p>\n", r->fired, r->resolved,
                   report_firing_total(r));
    if (r->event_count) {
        cli_buf_puts(out, "<table class=\"alerts\">\n<thead><tr><th>Thời điểm</th><th>Mức</th>"
                          "<th>Đơn vị</th><th>Quy tắc</th><th>Trạng thái</th><th>Nội dung</th>"
                          "</tr></thead>\n<tbody>\n");
        for (size_t i = 0; i < r->event_count; i++) {
            const struct report_event *e = &r->events[i];
            char when[32];
            cli_format_time(when, sizeof when, e->at_ms, r->plan->utc_offset_minutes, true);
            const struct report_row *row = report_scope_row(r, e->scope);
            cli_buf_printf(out, "<tr><td class=\"n\">%s</td><td class=\"", when);
            html_text(out, e->severity);
            cli_buf_printf(out, "\">%s</td><td>", report_severity_vi(e->severity));
            html_text(out, row ? report_unit_name(row) : e->scope);
            cli_buf_puts(out, "</td><td>");
            html_text(out, e->rule);
            cli_buf_printf(out, "</td><td>%s</td><td>", report_state_vi(e->state));
            html_text(out, e->summary);
            cli_buf_puts(out, "</td></tr>\n");
        }
        cli_buf_puts(out, "</tbody>\n</table>\n");
    }
    cli_buf_puts(out, "</section>\n");
}

void report_write_html(const struct report *r, struct cli_buf *out)
{
    char from[16], to[16], now[32];
    report_day(from, sizeof from, r->monday);
    report_day(to, sizeof to, r->monday + 6);
    cli_format_time(now, sizeof now, r->now_ms, r->plan->utc_offset_minutes, true);
    cli_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
                      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                      "'none'; style-src 'unsafe-inline'\">\n<meta name=\"viewport\" "
                      "content=\"width=device-width, initial-scale=1\">\n<title>");
    cli_buf_printf(out, "Báo cáo tuần %s/%.4s — ", r->week + 6, r->week);
    html_text(out, r->district->name_vi);
    cli_buf_printf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>",
                   report_html_style);
    cli_buf_printf(out, "Báo cáo tuần %s/%.4s — ", r->week + 6, r->week);
    html_text(out, r->district->name_vi);
    cli_buf_printf(out, "</h1>\n<p class=\"meta\">Tuần %s (%s – %s). Số liệu đến hết ngày %s. "
                        "Kế hoạch: ", r->week, from, to, to);
    html_text(out, r->plan->title.vi);
    cli_buf_printf(out, ". Lập lúc %s bằng <code>wardpulse report</code>.</p>\n</header>\n",
                   now);
    html_reporting(r, out);
    html_coverage(r, out);
    html_charts(r, out);
    html_events(r, out);
    cli_buf_puts(out, "</body>\n</html>\n");
}
