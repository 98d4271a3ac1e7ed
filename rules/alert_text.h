/* alert_text.h — the words of alert summaries: dates, numbers, percentages and durations
 * as a district officer reads them, in Vietnamese and English.
 *
 *   vi: 03/05/2022   12.000   71,5%   100%   2 giờ 15 phút   tuần 18/2022 (02/05–08/05/2022)
 *   en: 3 May 2022   12,000   71.5%   100%   2 h 15 min      week 18 of 2022 (2–8 May 2022)
 *
 * Every function writes into a caller-owned struct text (a fixed buffer): output that
 * does not fit is cut at a UTF-8 character boundary, never overflowed.
 */
#ifndef WP_AGGREGATOR_ALERT_TEXT_H
#define WP_AGGREGATOR_ALERT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEXT_MAX 1000   /* alert.schema.json: summaries are at most 1000 characters */

struct text {
    char buf[TEXT_MAX];
    size_t len;
};

void text_clear(struct text *t);
void text_append(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Days since epoch (local) → "03/05/2022" / "3 May 2022". */
void text_date_vi(struct text *t, int64_t day);
void text_date_en(struct text *t, int64_t day);
/* "12.000" / "12,000"; negative numbers get a minus sign. */
void text_number_vi(struct text *t, int64_t n);
void text_number_en(struct text *t, int64_t n);
/* ratio 0.715 → "71,5%" / "71.5%" (one decimal, none when it is 0: 1.0 → "100%"). */
void text_percent_vi(struct text *t, double ratio);
void text_percent_en(struct text *t, double ratio);
/* A difference of ratios in percentage points: 0.147 → "14,7 điểm phần trăm" /
 * "14.7 percentage points" (decimals as text_percent_*). */
void text_points_vi(struct text *t, double ratio);
void text_points_en(struct text *t, double ratio);
/* Milliseconds → "2 ngày 3 giờ", "2 giờ 15 phút", "40 phút" / "2 d 3 h", "2 h 15 min". */
void text_duration_vi(struct text *t, int64_t ms);
void text_duration_en(struct text *t, int64_t ms);
/* A period "2022-05-03" → "ngày 03/05/2022" / "3 May 2022"; "2022-W18" →
 * "tuần 18/2022 (02/05–08/05/2022)" / "week 18 of 2022 (2–8 May 2022)". */
void text_period_vi(struct text *t, const char *period);
void text_period_en(struct text *t, const char *period);
/* Local time of day of an instant ("17:00"), with the plan's UTC offset in minutes. */
void text_clock_time(struct text *t, int64_t unix_ms, int utc_offset_minutes);

/* The calendar (local days, day starts, ISO weeks) is common/calendar.h. */

#endif
