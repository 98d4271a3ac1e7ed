#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>

#define MS_PER_DAY INT64_C(86400000)

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
 * Pure arithmetic so that no result depends on TZ, the locale or the libc's timegm. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* 0 = Monday … 6 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int64_t days)
{
    return (int)(days + 3 - floor_div(days + 3, 7) * 7);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

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
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return false;
    *days = days_from_civil(y, m, d);
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

/* Monday of ISO week 1: the week that holds January 4th. */
static int64_t isoweek_one_monday(int64_t year)
{
    int64_t jan4 = days_from_civil(year, 1, 4);
    return jan4 - weekday(jan4);
}

bool wp_isoweek_parse(const char *s, int64_t *monday)
{
    int y, w;
    if (!digits(s, 4, &y) || s[4] != '-' || s[5] != 'W' || !digits(s + 6, 2, &w)
        || s[8] != '\0' || w < 1)
        return false;
    int64_t first = isoweek_one_monday(y);
    int64_t weeks = (isoweek_one_monday(y + 1) - first) / 7;   /* 52 or 53 */
    if (w > weeks)
        return false;
    if (monday)
        *monday = first + (int64_t)(w - 1) * 7;
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
        if (floor_div(utc_min, 1440) * 1440 + 1439 != utc_min)
            return false;
        ss = 59;
        ms = 999;
    }
    if (unix_ms)
        *unix_ms = ((local_min - offset_min) * 60 + ss) * 1000 + ms;
    return true;
}

void wp_date_format(int64_t days, char *buf, size_t size)
{
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02d-%02d", (long long)y, m, d);
}

int64_t wp_local_day(int64_t unix_ms)
{
    return floor_div(unix_ms + (int64_t)WP_LOCAL_OFFSET_MIN * 60000, MS_PER_DAY);
}

void wp_datetime_format_local(int64_t unix_ms, char *buf, size_t size)
{
    int64_t local = unix_ms + (int64_t)WP_LOCAL_OFFSET_MIN * 60000;
    int64_t days = floor_div(local, MS_PER_DAY);
    int64_t sec_of_day = (local - days * MS_PER_DAY) / 1000;
    char date[24];
    wp_date_format(days, date, sizeof date);
    snprintf(buf, size, "%sT%02d:%02d:%02d%c%02d:%02d", date, (int)(sec_of_day / 3600),
             (int)(sec_of_day / 60 % 60), (int)(sec_of_day % 60),
             WP_LOCAL_OFFSET_MIN < 0 ? '-' : '+', abs(WP_LOCAL_OFFSET_MIN) / 60,
             abs(WP_LOCAL_OFFSET_MIN) % 60);
}
