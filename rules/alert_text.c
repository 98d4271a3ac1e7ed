/* alert_text.c — words of alert summaries (contract in alert_text.h). */
#include "alert_text.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "timefmt.h"

void text_clear(struct text *t)
{
    t->buf[0] = '\0';
    t->len = 0;
}

/* Cuts a partial UTF-8 character that truncation may have left at the end. */
static void text_trim_partial(struct text *t)
{
    size_t n = t->len, lead = n;
    while (lead > 0 && n - lead < 4 && ((unsigned char)t->buf[lead - 1] & 0xC0u) == 0x80u)
        lead--;
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)t->buf[lead - 1];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (n - (lead - 1) < need) {
        t->len = lead - 1;
        t->buf[t->len] = '\0';
    }
}

void text_append(struct text *t, const char *fmt, ...)
{
    if (t->len >= sizeof t->buf - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, sizeof t->buf - t->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof t->buf - t->len) {
        t->len = sizeof t->buf - 1;
        text_trim_partial(t);
    } else {
        t->len += (size_t)n;
    }
}

static void text_ymd(int64_t day, int *y, int *m, int *d)
{
    int64_t year;
    wp_day_to_ymd(day, &year, m, d);
    *y = (int)year;
}

void text_date_vi(struct text *t, int64_t day)
{
    char dmy[16];
    wp_date_format_dmy(day, dmy, sizeof dmy);
    text_append(t, "%s", dmy);
}

static const char *const text_months_en[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void text_date_en(struct text *t, int64_t day)
{
    int y, m, d;
    text_ymd(day, &y, &m, &d);
    text_append(t, "%d %s %04d", d, text_months_en[m - 1], y);
}

static void text_number_sep(struct text *t, int64_t n, char sep)
{
    char digits[32];
    uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
    size_t len = strlen(digits);
    if (n < 0)
        text_append(t, "-");
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            text_append(t, "%c", sep);
        text_append(t, "%c", digits[i]);
    }
}

void text_number_vi(struct text *t, int64_t n)
{
    text_number_sep(t, n, '.');
}

void text_number_en(struct text *t, int64_t n)
{
    text_number_sep(t, n, ',');
}

/* ratio as a percentage with at most one decimal, "71,5" or "100": rounded to tenths of a
 * percent as integers, so 0.715 prints the same everywhere; a whole number has none. */
static void text_tenths(struct text *t, double ratio, char comma)
{
    long long tenths = llround(ratio * 1000.0);
    long long whole = tenths / 10, frac = tenths % 10;
    if (tenths < 0) {
        text_append(t, "-");
        whole = -whole;
        frac = -frac;
    }
    if (frac == 0)
        text_append(t, "%lld", whole);
    else
        text_append(t, "%lld%c%lld", whole, comma, frac);
}

/* No space before the sign: "71,5%", as Vietnamese documents write it (and English). */
void text_percent_vi(struct text *t, double ratio)
{
    text_tenths(t, ratio, ',');
    text_append(t, "%%");
}

void text_percent_en(struct text *t, double ratio)
{
    text_tenths(t, ratio, '.');
    text_append(t, "%%");
}

void text_points_vi(struct text *t, double ratio)
{
    text_tenths(t, ratio, ',');
    text_append(t, " điểm phần trăm");
}

void text_points_en(struct text *t, double ratio)
{
    text_tenths(t, ratio, '.');
    text_append(t, " percentage points");
}

static void text_duration(struct text *t, int64_t ms, const char *day, const char *hour,
                          const char *minute)
{
    int64_t minutes = ms / 60000;
    if (minutes < 1)
        minutes = 1;
    int64_t days = minutes / 1440, hours = minutes / 60 % 24, mins = minutes % 60;
    if (days > 0) {
        text_append(t, "%lld %s", (long long)days, day);
        if (hours > 0)
            text_append(t, " %lld %s", (long long)hours, hour);
    } else if (hours > 0) {
        text_append(t, "%lld %s", (long long)hours, hour);
        if (mins > 0)
            text_append(t, " %lld %s", (long long)mins, minute);
    } else {
        text_append(t, "%lld %s", (long long)mins, minute);
    }
}

void text_duration_vi(struct text *t, int64_t ms)
{
    text_duration(t, ms, "ngày", "giờ", "phút");
}

void text_duration_en(struct text *t, int64_t ms)
{
    text_duration(t, ms, "d", "h", "min");
}

void text_period_vi(struct text *t, const char *period)
{
    int64_t first;
    int count;
    if (!wp_period_parse(period, &first, &count)) {
        text_append(t, "kỳ %s", period);
        return;
    }
    if (count == 1) {
        text_append(t, "ngày ");
        text_date_vi(t, first);
        return;
    }
    int y1, m1, d1, y2, m2, d2;
    text_ymd(first, &y1, &m1, &d1);
    text_ymd(first + 6, &y2, &m2, &d2);
    text_append(t, "tuần %d/%.4s (%02d/%02d–%02d/%02d/%04d)", atoi(period + 6), period, d1, m1,
                d2, m2, y2);
}

void text_period_en(struct text *t, const char *period)
{
    int64_t first;
    int count;
    if (!wp_period_parse(period, &first, &count)) {
        text_append(t, "period %s", period);
        return;
    }
    if (count == 1) {
        text_date_en(t, first);
        return;
    }
    int y1, m1, d1, y2, m2, d2;
    text_ymd(first, &y1, &m1, &d1);
    text_ymd(first + 6, &y2, &m2, &d2);
    text_append(t, "week %d of %.4s (", atoi(period + 6), period);
    if (m1 == m2)
        text_append(t, "%d–%d %s %04d)", d1, d2, text_months_en[m2 - 1], y2);
    else
        text_append(t, "%d %s – %d %s %04d)", d1, text_months_en[m1 - 1], d2,
                    text_months_en[m2 - 1], y2);
}

void text_clock_time(struct text *t, int64_t unix_ms, int utc_offset_minutes)
{
    int minute_of_day = wp_local_minute_of_day(unix_ms, utc_offset_minutes);
    text_append(t, "%02d:%02d", minute_of_day / 60, minute_of_day % 60);
}
