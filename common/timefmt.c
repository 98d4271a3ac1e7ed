#include "timefmt.h"

#include "calendar.h"

#include <stdio.h>
#include <stdlib.h>

/* Reads exactly n ASCII digits: strict widths are the point of this module, so neither
 * signs nor spaces (which strtol would accept) may slip through. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Parses the "YYYY-MM-DD" at the start of s (no end check). */
static bool date_prefix(const char *s, int64_t *days)
{
    int y, m, d;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-'
        || !digits(s + 8, 2, &d))
        return false;
    if (m < 1 || m > 12 || d < 1 || d > wp_days_in_month(y, m))
        return false;
    *days = wp_day_from_ymd(y, m, d);
    return true;
}

bool wp_date_parse(const char *s, int64_t *days)
{
    int64_t v;
    if (!date_prefix(s, &v) || s[10] != '\0')
        return false;
    if (days)
        *days = v;
    return true;
}

bool wp_isoweek_parse(const char *s, int64_t *monday)
{
    int y, w;
    if (!digits(s, 4, &y) || s[4] != '-' || s[5] != 'W' || !digits(s + 6, 2, &w)
        || s[8] != '\0' || w < 1)
        return false;
    if (w > wp_isoweek_count(y))
        return false;
    if (monday)
        *monday = wp_isoweek_one_monday(y) + (int64_t)(w - 1) * 7;
    return true;
}

bool wp_period_parse(const char *s, int64_t *first_day, int *day_count)
{
    int64_t first;
    int count;
    if (wp_date_parse(s, &first))
        count = 1;
    else if (wp_isoweek_parse(s, &first))
        count = 7;
    else
        return false;
    if (first_day)
        *first_day = first;
    if (day_count)
        *day_count = count;
    return true;
}

bool wp_datetime_parse(const char *s, int64_t *unix_ms)
{
    int64_t days;
    int hh, mm, ss, oh = 0, om = 0, sign = 0, ms = 0;
    if (!date_prefix(s, &days) || (s[10] != 'T' && s[10] != 't'))   /* RFC 3339 5.6 NOTE */
        return false;
    const char *p = s + 11;
    if (!digits(p, 2, &hh) || p[2] != ':' || !digits(p + 3, 2, &mm) || p[5] != ':'
        || !digits(p + 6, 2, &ss) || hh > 23 || mm > 59 || ss > 60)
        return false;
    p += 8;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (int i = 0; *p >= '0' && *p <= '9'; i++, p++)
            if (i < 3)
                ms += (*p - '0') * (i == 0 ? 100 : i == 1 ? 10 : 1);
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23
            || om > 59)
            return false;
        p += 6;
    } else {
        return false;   /* a local time without offset names no instant */
    }
    if (*p != '\0')
        return false;
    int offset_min = sign * (oh * 60 + om);
    int64_t local_min = days * 1440 + hh * 60 + mm;
    if (ss == 60) {
        /* RFC 3339 allows a leap second only where UTC has one: at 23:59:60 UTC. Unix
         * time has no such second, so it maps to the last millisecond of 23:59:59,
         * which keeps it inside its UTC day. */
        int64_t utc_min = local_min - offset_min;
        if (wp_floor_div(utc_min, 1440) * 1440 + 1439 != utc_min)
            return false;
        ss = 59;
        ms = 999;
    }
    if (unix_ms)
        *unix_ms = ((local_min - offset_min) * 60 + ss) * 1000 + ms;
    return true;
}

void wp_datetime_format_local(int64_t unix_ms, char *buf, size_t size)
{
    int64_t local = unix_ms + (int64_t)WP_LOCAL_OFFSET_MIN * 60000;
    int64_t days = wp_floor_div(local, WP_MS_PER_DAY);
    int64_t sec_of_day = (local - days * WP_MS_PER_DAY) / 1000;
    char date[24];
    wp_date_format(days, date, sizeof date);
    snprintf(buf, size, "%sT%02d:%02d:%02d%c%02d:%02d", date, (int)(sec_of_day / 3600),
             (int)(sec_of_day / 60 % 60), (int)(sec_of_day % 60),
             WP_LOCAL_OFFSET_MIN < 0 ? '-' : '+', abs(WP_LOCAL_OFFSET_MIN) / 60,
             abs(WP_LOCAL_OFFSET_MIN) % 60);
}
