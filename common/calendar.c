/* calendar.c — the one calendar (contract in calendar.h). */
#include "calendar.h"

#include <stdbool.h>
#include <stdio.h>

int64_t wp_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil and civil_from_days: exact for every proleptic
 * Gregorian date, negative years included. */
int64_t wp_day_from_ymd(int64_t year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void wp_day_to_ymd(int64_t day, int64_t *year, int *month, int *day_of_month)
{
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day_of_month = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

int wp_weekday(int64_t day)
{
    /* 1970-01-01 was a Thursday: (day + 3) mod 7 counts from Monday. */
    return (int)(day + 3 - wp_floor_div(day + 3, 7) * 7);
}

int64_t wp_monday_of(int64_t day)
{
    return day - wp_weekday(day);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int wp_days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

int64_t wp_isoweek_one_monday(int64_t iso_year)
{
    return wp_monday_of(wp_day_from_ymd(iso_year, 1, 4));
}

int wp_isoweek_count(int64_t iso_year)
{
    return (int)((wp_isoweek_one_monday(iso_year + 1) - wp_isoweek_one_monday(iso_year)) / 7);
}

void wp_isoweek_format(int64_t day, char *buf, size_t size, int64_t *monday)
{
    int64_t mon = wp_monday_of(day);
    int64_t year;
    int m, d;
    wp_day_to_ymd(mon + 3, &year, &m, &d);   /* the ISO year is the Thursday's */
    int week = (int)((mon - wp_isoweek_one_monday(year)) / 7 + 1);
    snprintf(buf, size, "%04lld-W%02d", (long long)year, week);
    if (monday)
        *monday = mon;
}

int64_t wp_local_day_at(int64_t unix_ms, int utc_offset_minutes)
{
    return wp_floor_div(unix_ms + (int64_t)utc_offset_minutes * 60000, WP_MS_PER_DAY);
}

int64_t wp_day_start_ms(int64_t day, int utc_offset_minutes)
{
    return day * WP_MS_PER_DAY - (int64_t)utc_offset_minutes * 60000;
}

int wp_local_minute_of_day(int64_t unix_ms, int utc_offset_minutes)
{
    int64_t day = wp_local_day_at(unix_ms, utc_offset_minutes);
    return (int)((unix_ms - wp_day_start_ms(day, utc_offset_minutes)) / 60000);
}

int64_t wp_local_day(int64_t unix_ms)
{
    return wp_local_day_at(unix_ms, WP_LOCAL_OFFSET_MIN);
}

void wp_date_format(int64_t days, char *buf, size_t size)
{
    int64_t y;
    int m, d;
    wp_day_to_ymd(days, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02d-%02d", (long long)y, m, d);
}

void wp_date_format_dmy(int64_t days, char *buf, size_t size)
{
    int64_t y;
    int m, d;
    wp_day_to_ymd(days, &y, &m, &d);
    snprintf(buf, size, "%02d/%02d/%04lld", d, m, (long long)y);
}
