/* report_svg.c — one coverage chart as inline SVG (report_model.h).
 *
 *   100 % ┤- - - - - - - - - - - - - - - - - - - ┆ mục tiêu 100 %
 *         │                 ____━━━━              ┆
 *    50 % ┤      ____━━━━━━━                       ┆ hạn 31/08/2022
 *         │━━━━━━                                  ┆
 *     0 % └──┬────┬────┬────┬────┬────┬────┬────┬──┴──
 *           T14  T15  T16 …                     T35
 *
 * x is time: from the Monday of the first week with a figure to the end of the
 * deadline's week (or of the report's week, when later); each point is the value in
 * force at the end of a week. y is coverage, 0 to at least 100 %. Wards are thin lines
 * in the palette of report_colour, the district a thick dark line with dots; each line
 * carries a <title> with its unit's name, which browsers show on hover.
 */
#include <math.h>
#include <stdio.h>

#include "calendar.h"
#include "report_model.h"

#define SVG_W 760
#define SVG_H 340
#define SVG_LEFT 56
#define SVG_RIGHT 150     /* room for the labels of the target and the deadline */
#define SVG_TOP 18
#define SVG_BOTTOM 40

struct svg_frame {
    double x0, x1, y0, y1;     /* plot area: x0 left, y1 bottom */
    double days;               /* days on the x axis */
    double ymax;               /* coverage at the top */
    int64_t first;             /* day at x0 */
};

static double svg_x(const struct svg_frame *f, double day_end)
{
    return f->x0 + (day_end - (double)f->first) / f->days * (f->x1 - f->x0);
}

static double svg_y(const struct svg_frame *f, double value)
{
    return f->y1 - value / f->ymax * (f->y1 - f->y0);
}

static void svg_axes(const struct report_chart *c, const struct svg_frame *f,
                     struct cli_buf *out)
{
    /* Horizontal grid every 10 or 20 %, labelled. */
    double step = f->ymax > 1.2 ? 0.5 : 0.2;
    for (double v = 0; v <= f->ymax + 1e-9; v += step) {
        double y = svg_y(f, v);
        cli_buf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#e3e3e3\" stroke-width=\"1\"/>"
                            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
                            "fill=\"#555\">%.0f%%</text>\n",
                       f->x0, y, f->x1, y, f->x0 - 6, y + 4, v * 100);
    }
    cli_buf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>"
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                   f->x0, f->y0, f->x0, f->y1, f->x0, f->y1, f->x1, f->y1);
    /* A tick at the end of each week; a label on at most about 16 of them. */
    int every = c->axis_weeks > 16 ? (c->axis_weeks + 15) / 16 : 1;
    for (int w = 0; w < c->axis_weeks; w++) {
        double x = svg_x(f, (double)(c->first_monday + 7 * w + 7));
        cli_buf_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                            "stroke=\"#444\"/>", x, f->y1, x, f->y1 + 4);
        if ((c->axis_weeks - 1 - w) % every == 0) {
            char week[16];
            wp_isoweek_format(c->first_monday + 7 * w, week, sizeof week, NULL);
            cli_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                                "text-anchor=\"middle\" fill=\"#555\">T%s</text>",
                           x, f->y1 + 17, week + 6);
        }
    }
    cli_buf_printf(out, "\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
                        "fill=\"#555\">tuần (ISO)</text>\n", f->x1, f->y1 + 33);
}

static void svg_target_and_deadline(const struct report_chart *c, const struct svg_frame *f,
                                    struct cli_buf *out)
{
    char pct[32];
    report_percent(pct, sizeof pct, c->rule->u.coverage.target);
    double y = svg_y(f, c->rule->u.coverage.target);
    cli_buf_printf(out, "<line class=\"target\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                        "y2=\"%.1f\" stroke=\"#b00020\" stroke-width=\"1.5\" "
                        "stroke-dasharray=\"6 4\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
                        "fill=\"#b00020\">mục tiêu %s</text>\n",
                   f->x0, y, f->x1, y, f->x1 + 6, y + 4, pct);
    if (c->rule->u.coverage.deadline_day == PLAN_DAY_NONE)
        return;
    double day_end = (double)c->rule->u.coverage.deadline_day + 1;
    if (day_end < (double)f->first || day_end > (double)f->first + f->days)
        return;
    char deadline[16];
    report_day(deadline, sizeof deadline, c->rule->u.coverage.deadline_day);
    double x = svg_x(f, day_end);
    cli_buf_printf(out, "<line class=\"deadline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                        "y2=\"%.1f\" stroke=\"#6a1b9a\" stroke-width=\"1.5\" "
                        "stroke-dasharray=\"3 3\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
                        "fill=\"#6a1b9a\">hạn %s</text>\n",
                   x, f->y0, x, f->y1, x + 5 > f->x1 ? f->x1 + 6 : x + 5, f->y1 - 8,
                   deadline);
}

/* One unit's line; the district's is drawn last, thick, with a dot per week. */
static void svg_line(const struct report *r, const struct report_chart *c,
                     const struct svg_frame *f, size_t row, struct cli_buf *out)
{
    bool district = row + 1 == r->row_count;
    cli_buf_printf(out, "<polyline class=\"%s\" data-unit=\"", district ? "district" : "ward");
    cli_html_escape(out, r->rows[row].unit->code);
    cli_buf_printf(out, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
                        "stroke-linejoin=\"round\" points=\"",
                   report_colour(r, row), district ? "3.5" : "1.5");
    bool any = false;
    for (int w = 0; w < c->week_count; w++) {
        size_t k = row * (size_t)c->week_count + (size_t)w;
        if (!c->has[k])
            continue;
        cli_buf_printf(out, "%s%.1f,%.1f", any ? " " : "",
                       svg_x(f, (double)(c->first_monday + 7 * w + 7)), svg_y(f, c->value[k]));
        any = true;
    }
    cli_buf_puts(out, "\"><title>");
    cli_html_escape(out, report_unit_name(&r->rows[row]));
    cli_buf_puts(out, "</title></polyline>\n");
    for (int w = 0; district && w < c->week_count; w++) {
        size_t k = row * (size_t)c->week_count + (size_t)w;
        if (c->has[k])
            cli_buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>",
                           svg_x(f, (double)(c->first_monday + 7 * w + 7)),
                           svg_y(f, c->value[k]), report_colour(r, row));
    }
    if (district)
        cli_buf_puts(out, "\n");
}

void report_write_svg(const struct report *r, const struct report_chart *c,
                      struct cli_buf *out)
{
    struct svg_frame f = {SVG_LEFT, SVG_W - SVG_RIGHT, SVG_TOP, SVG_H - SVG_BOTTOM,
                          7.0 * c->axis_weeks, 1.0, c->first_monday};
    double top = c->rule->u.coverage.target;
    for (size_t k = 0; k < r->row_count * (size_t)c->week_count; k++)
        if (c->has[k] && c->value[k] > top)
            top = c->value[k];
    if (top > f.ymax)
        f.ymax = ceil(top * 10) / 10;
    cli_buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" "
                        "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
                        "font-family=\"sans-serif\">\n<title>",
                   SVG_W, SVG_H, SVG_W, SVG_H);
    cli_html_escape(out, c->rule->id);
    cli_buf_puts(out, ": ");
    cli_html_escape(out, c->rule->name.vi);
    cli_buf_puts(out, "</title>\n");
    svg_axes(c, &f, out);
    svg_target_and_deadline(c, &f, out);
    for (size_t i = 0; i + 1 < r->row_count; i++)
        svg_line(r, c, &f, i, out);
    svg_line(r, c, &f, r->row_count - 1, out);
    cli_buf_puts(out, "</svg>");
}
