/* timefmt.h — dates, ISO weeks and RFC 3339 instants, strictly.
 *
 * Strict means: exact field widths, real calendar dates (2022-02-30 is refused, leap
 * years honoured), ISO weeks that exist in their year (2022-W53 does not; 2020-W53 does),
 * and date-times with an explicit offset ("Z" or ±hh:mm). Local time of wardpulse is
 * Asia/Ho_Chi_Minh, +07:00, no daylight saving.
 */
#ifndef WP_TIMEFMT_H
#define WP_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"   /* the arithmetic of days and weeks, and wp_date_format */

/* "YYYY-MM-DD": true if a real date; *days = days since 1970-01-01 (may be NULL). */
bool wp_date_parse(const char *s, int64_t *days);

/* "YYYY-Www": true if the ISO week exists; *monday = days since epoch of its Monday. */
bool wp_isoweek_parse(const char *s, int64_t *monday);

/* A period is a date or an ISO week. *first_day and *day_count (1 or 7) may be NULL. */
bool wp_period_parse(const char *s, int64_t *first_day, int *day_count);

/* RFC 3339 date-time with offset (fractional seconds allowed, leap second 60 allowed as
 * RFC 3339 does): true if valid; *unix_ms = the instant (may be NULL). */
bool wp_datetime_parse(const char *s, int64_t *unix_ms);

/* Formats unix_ms as "YYYY-MM-DDThh:mm:ss+07:00" (local offset). buf >= 32 bytes. */
void wp_datetime_format_local(int64_t unix_ms, char *buf, size_t size);

#endif
