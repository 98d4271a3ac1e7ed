/* calendar.h — days, civil dates, ISO weeks and local days: the one calendar of wardpulse.
 *
 * A day is a count of days since 1970-01-01 (negative before it) in the proleptic
 * Gregorian calendar. Everything here is pure arithmetic: no result depends on TZ, the
 * locale or the libc's timegm, so the daemons, the rules and the CLI agree on every day.
 * Local time is a fixed UTC offset in minutes (wardpulse's zone, Asia/Ho_Chi_Minh, has
 * no daylight saving); the plan may configure another offset.
 *
 * Parsing strings ("2022-05-03", "2022-W18", RFC 3339) is timefmt.h's; it uses this.
 */
#ifndef WP_CALENDAR_H
#define WP_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#define WP_LOCAL_OFFSET_MIN (7 * 60)   /* +07:00, the default local zone */
#define WP_MS_PER_DAY INT64_C(86400000)

/* a / b rounded towards minus infinity (b > 0). */
int64_t wp_floor_div(int64_t a, int64_t b);

/* Day of a civil date (month 1–12, day 1–31; not checked: see wp_days_in_month). */
int64_t wp_day_from_ymd(int64_t year, int month, int day);
/* Civil date of a day. Any pointer may not be NULL. */
void wp_day_to_ymd(int64_t day, int64_t *year, int *month, int *day_of_month);

/* 0 = Monday … 6 = Sunday. */
int wp_weekday(int64_t day);
/* Monday of the week (Monday to Sunday) that holds day. */
int64_t wp_monday_of(int64_t day);
int wp_days_in_month(int64_t year, int month);

/* ISO 8601 weeks: week 1 holds January 4th, the ISO year is the year of the week's
 * Thursday (2021-01-03 is in 2020-W53, 2024-12-30 in 2025-W01).
 * wp_isoweek_one_monday: the Monday of week 1 of an ISO year.
 * wp_isoweek_count: 52 or 53, the weeks of an ISO year.
 * wp_isoweek_format: the week of day as "2022-W18" into buf (≥ 9 bytes); *monday (may be
 * NULL) receives its Monday. */
int64_t wp_isoweek_one_monday(int64_t iso_year);
int wp_isoweek_count(int64_t iso_year);
void wp_isoweek_format(int64_t day, char *buf, size_t size, int64_t *monday);

/* The local day of an instant under a UTC offset in minutes, the instant that local day
 * starts (local midnight), and the minute of the local day (0–1439) of an instant. */
int64_t wp_local_day_at(int64_t unix_ms, int utc_offset_minutes);
int64_t wp_day_start_ms(int64_t day, int utc_offset_minutes);
int wp_local_minute_of_day(int64_t unix_ms, int utc_offset_minutes);
/* wp_local_day_at in the default zone (WP_LOCAL_OFFSET_MIN). */
int64_t wp_local_day(int64_t unix_ms);

/* A day as "YYYY-MM-DD" (buf ≥ 11 bytes) or as "dd/mm/yyyy", the way Vietnamese texts
 * write it (buf ≥ 11 bytes). Truncated to fit a smaller buf, always terminated. */
void wp_date_format(int64_t days, char *buf, size_t size);
void wp_date_format_dmy(int64_t days, char *buf, size_t size);

#endif
