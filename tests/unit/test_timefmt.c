/* test_timefmt — strict dates, ISO weeks and RFC 3339 instants (common/timefmt.c), and the
 * calendar they stand on (common/calendar.c). */
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "check.h"
#include "timefmt.h"


static int64_t date_days(const char *s)
{
    int64_t days = INT64_MIN;
    return wp_date_parse(s, &days) ? days : INT64_MIN;
}

static int64_t week_monday(const char *s)
{
    int64_t monday = INT64_MIN;
    return wp_isoweek_parse(s, &monday) ? monday : INT64_MIN;
}

static int64_t instant(const char *s)
{
    int64_t ms = INT64_MIN;
    return wp_datetime_parse(s, &ms) ? ms : INT64_MIN;
}

static void test_dates(void)
{
    CHECK(date_days("1970-01-01") == 0);
    CHECK(date_days("1970-01-02") == 1);
    CHECK(date_days("1969-12-31") == -1);
    CHECK(date_days("2000-03-01") == 11017);
    CHECK(date_days("2022-05-03") == 19115);
    CHECK(wp_date_parse("2022-02-28", NULL));
    CHECK(!wp_date_parse("2022-02-29", NULL));
    CHECK(!wp_date_parse("2022-02-30", NULL));
    CHECK(wp_date_parse("2020-02-29", NULL));
    CHECK(wp_date_parse("2000-02-29", NULL));          /* divisible by 400 */
    CHECK(!wp_date_parse("2100-02-29", NULL));         /* divisible by 100 only */
    CHECK(wp_date_parse("2022-12-31", NULL));
    CHECK(!wp_date_parse("2022-04-31", NULL));
    CHECK(!wp_date_parse("2022-13-01", NULL));
    CHECK(!wp_date_parse("2022-00-10", NULL));
    CHECK(!wp_date_parse("2022-01-00", NULL));
    CHECK(!wp_date_parse("2022-01-32", NULL));
    /* widths: exactly 4-2-2 digits, nothing around them */
    CHECK(!wp_date_parse("2022-5-03", NULL));
    CHECK(!wp_date_parse("2022-05-3", NULL));
    CHECK(!wp_date_parse("22-05-03", NULL));
    CHECK(!wp_date_parse("02022-05-03", NULL));
    CHECK(!wp_date_parse("2022-05-031", NULL));
    CHECK(!wp_date_parse("2022-05-03 ", NULL));
    CHECK(!wp_date_parse(" 2022-05-03", NULL));
    CHECK(!wp_date_parse("2022/05/03", NULL));
    CHECK(!wp_date_parse("2022-+5-03", NULL));
    CHECK(!wp_date_parse("2013-350", NULL));
    CHECK(!wp_date_parse("", NULL));
}

static void test_weeks(void)
{
    CHECK(week_monday("2022-W01") == date_days("2022-01-03"));
    CHECK(week_monday("2022-W18") == date_days("2022-05-02"));
    CHECK(week_monday("2022-W52") == date_days("2022-12-26"));
    CHECK(week_monday("2022-W53") == INT64_MIN);
    CHECK(week_monday("2022-W54") == INT64_MIN);
    CHECK(week_monday("2022-W00") == INT64_MIN);
    CHECK(week_monday("2020-W53") == date_days("2020-12-28"));
    CHECK(week_monday("2020-W01") == date_days("2019-12-30"));   /* starts the year before */
    CHECK(week_monday("2021-W01") == date_days("2021-01-04"));
    CHECK(week_monday("2015-W53") == date_days("2015-12-28"));   /* Jan 1 on a Thursday */
    CHECK(week_monday("2026-W53") == date_days("2026-12-28"));
    CHECK(week_monday("2021-W53") == INT64_MIN);
    CHECK(!wp_isoweek_parse("2022-W1", NULL));
    CHECK(!wp_isoweek_parse("2022W01", NULL));
    CHECK(!wp_isoweek_parse("2022-w01", NULL));
    CHECK(!wp_isoweek_parse("2022-W011", NULL));

    int64_t first = -1;
    int count = -1;
    CHECK(wp_period_parse("2022-05-03", &first, &count) && count == 1
          && first == date_days("2022-05-03"));
    CHECK(wp_period_parse("2022-W18", &first, &count) && count == 7
          && first == date_days("2022-05-02"));
    CHECK(!wp_period_parse("2022-W53", &first, &count));
    CHECK(!wp_period_parse("2022-05", NULL, NULL));
    CHECK(wp_period_parse("2020-W53", NULL, NULL));
}

static void test_datetimes(void)
{
    const int64_t may3 = date_days("2022-05-03") * 86400000;
    CHECK(instant("2022-05-03T17:05:00+07:00") == may3 + 10 * 3600000 + 5 * 60000);
    CHECK(instant("2022-05-03T10:05:00Z") == may3 + 10 * 3600000 + 5 * 60000);
    CHECK(instant("2022-05-03T10:05:00z") == may3 + 10 * 3600000 + 5 * 60000);
    CHECK(instant("2022-05-03t10:05:00-00:00") == may3 + 10 * 3600000 + 5 * 60000);
    CHECK(instant("2022-05-03T00:00:00.5Z") == may3 + 500);
    CHECK(instant("2022-05-03T00:00:00.123456789Z") == may3 + 123);
    CHECK(instant("2022-05-03T00:00:00.07Z") == may3 + 70);
    CHECK(instant("2022-05-03T00:30:00+00:30") == may3);
    CHECK(instant("2022-05-02T20:00:00-04:00") == may3);
    CHECK(instant("1969-12-31T23:59:59.999Z") == -1);
    CHECK(instant("1937-01-01T12:00:27.87+00:20") != INT64_MIN);
    /* refused */
    CHECK(!wp_datetime_parse("2022-05-03T17:05:00", NULL));          /* no offset */
    CHECK(!wp_datetime_parse("2022-05-03T24:00:00Z", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T23:60:00Z", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T23:59:61Z", NULL));
    CHECK(!wp_datetime_parse("2022-05-03 17:05:00+07:00", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T17:05+07:00", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T17:05:00.+07:00", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T17:05:00+0700", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T17:05:00+7:00", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T17:05:00-24:00", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T17:05:00+07:60", NULL));
    CHECK(!wp_datetime_parse("2022-05-03T17:05:00Z ", NULL));
    CHECK(!wp_datetime_parse("2022-02-30T17:05:00Z", NULL));
    CHECK(!wp_datetime_parse("2022-05-03", NULL));
    CHECK(!wp_datetime_parse("2013-350T01:01:01", NULL));
    CHECK(!wp_datetime_parse("06/19/1963 08:30:06 PST", NULL));
    /* leap seconds exist only at 23:59:60 UTC */
    CHECK(instant("2016-12-31T23:59:60Z") == date_days("2017-01-01") * 86400000 - 1);
    CHECK(wp_datetime_parse("2016-12-31T15:59:60.5-08:00", NULL));
    CHECK(!wp_datetime_parse("2016-12-31T22:59:60Z", NULL));
    CHECK(!wp_datetime_parse("2016-12-31T23:58:60Z", NULL));
    CHECK(!wp_datetime_parse("2016-12-31T23:59:60+07:00", NULL));
}

static void test_formatting(void)
{
    char buf[64];
    wp_date_format(0, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01");
    wp_date_format(-1, buf, sizeof buf);
    CHECK_STR(buf, "1969-12-31");
    wp_date_format(date_days("2020-02-29"), buf, sizeof buf);
    CHECK_STR(buf, "2020-02-29");

    /* every day of 1899..2101 survives parse(format(d)) */
    int bad = 0;
    for (int64_t d = date_days("1899-01-01"); d <= date_days("2101-12-31"); d++) {
        wp_date_format(d, buf, sizeof buf);
        if (date_days(buf) != d)
            bad++;
    }
    CHECK(bad == 0);

    wp_datetime_format_local(0, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01T07:00:00+07:00");
    wp_datetime_format_local(instant("2022-05-03T10:05:09Z"), buf, sizeof buf);
    CHECK_STR(buf, "2022-05-03T17:05:09+07:00");
    wp_datetime_format_local(instant("2022-05-03T20:00:00Z"), buf, sizeof buf);
    CHECK_STR(buf, "2022-05-04T03:00:00+07:00");   /* the local day turns */
    wp_datetime_format_local(-1, buf, sizeof buf);
    CHECK_STR(buf, "1970-01-01T06:59:59+07:00");    /* truncates the ms */
    wp_datetime_format_local(instant("1969-12-31T10:00:00Z"), buf, sizeof buf);
    CHECK_STR(buf, "1969-12-31T17:00:00+07:00");

    /* format → parse round trip over instants spread across two centuries */
    bad = 0;
    for (int64_t ms = -2208988800000; ms < 4102444800000; ms += 86399999 * 17 + 1234) {
        int64_t whole = ms - ((ms % 1000) + 1000) % 1000;
        wp_datetime_format_local(ms, buf, sizeof buf);
        if (instant(buf) != whole)
            bad++;
    }
    CHECK(bad == 0);

    /* a small buffer truncates, never overflows */
    char small[8];
    wp_date_format(0, small, sizeof small);
    CHECK_STR(small, "1970-01");
}

static const char *week_of(const char *date)
{
    static char week[16];
    wp_isoweek_format(date_days(date), week, sizeof week, NULL);
    return week;
}

static void test_calendar(void)
{
    /* ISO weeks at the turn of the year: the year of the week's Thursday names it */
    CHECK_STR(week_of("2020-12-31"), "2020-W53");
    CHECK_STR(week_of("2021-01-03"), "2020-W53");
    CHECK_STR(week_of("2021-01-04"), "2021-W01");
    CHECK_STR(week_of("2019-12-30"), "2020-W01");
    CHECK_STR(week_of("2024-12-30"), "2025-W01");
    CHECK_STR(week_of("2022-01-02"), "2021-W52");
    CHECK_STR(week_of("2022-01-03"), "2022-W01");
    CHECK_STR(week_of("2022-05-08"), "2022-W18");
    CHECK_STR(week_of("2026-12-31"), "2026-W53");
    CHECK_STR(week_of("1970-01-01"), "1970-W01");
    CHECK_STR(week_of("1969-12-28"), "1969-W52");
    int64_t monday = -1;
    char week[16];
    wp_isoweek_format(date_days("2020-02-29"), week, sizeof week, &monday);
    CHECK_STR(week, "2020-W09");
    CHECK(monday == date_days("2020-02-24"));
    CHECK(wp_isoweek_count(2020) == 53 && wp_isoweek_count(2021) == 52
          && wp_isoweek_count(2015) == 53 && wp_isoweek_count(2022) == 52);

    /* every day of 1899..2101: the week's code parses back to its Monday; the civil
     * date round-trips; weekdays cycle */
    int bad = 0;
    for (int64_t d = date_days("1899-01-01"); d <= date_days("2101-12-31"); d++) {
        int64_t y, back = INT64_MIN;
        int m, dd;
        wp_isoweek_format(d, week, sizeof week, &monday);
        if (!wp_isoweek_parse(week, &back) || back != monday || monday != d - wp_weekday(d)
            || wp_weekday(d) != wp_weekday(d - 7) || wp_weekday(d) == wp_weekday(d - 1))
            bad++;
        wp_day_to_ymd(d, &y, &m, &dd);
        if (wp_day_from_ymd(y, m, dd) != d || dd > wp_days_in_month(y, m))
            bad++;
    }
    CHECK(bad == 0);

    /* leap days */
    CHECK(wp_days_in_month(2020, 2) == 29 && wp_days_in_month(2000, 2) == 29
          && wp_days_in_month(2100, 2) == 28 && wp_days_in_month(2022, 2) == 28);
    CHECK(wp_day_from_ymd(2020, 3, 1) - wp_day_from_ymd(2020, 2, 28) == 2);
    CHECK(wp_day_from_ymd(2100, 3, 1) - wp_day_from_ymd(2100, 2, 28) == 1);
    CHECK(wp_weekday(0) == 3);                       /* 1970-01-01, a Thursday */
    CHECK(wp_weekday(date_days("2022-05-02")) == 0); /* a Monday */

    /* local days under an offset, and the instant a local day starts */
    CHECK(wp_local_day_at(instant("2022-05-03T23:59:00+07:00"), 420) == date_days("2022-05-03"));
    CHECK(wp_local_day_at(instant("2022-05-03T00:00:00+07:00"), 420) == date_days("2022-05-03"));
    CHECK(wp_local_day_at(instant("2022-05-02T23:59:59.999+07:00"), 420)
          == date_days("2022-05-02"));
    CHECK(wp_local_day_at(instant("2022-05-03T00:30:00Z"), -60) == date_days("2022-05-02"));
    CHECK(wp_local_day_at(-1, 0) == -1);
    CHECK(wp_day_start_ms(date_days("2022-05-03"), 420) == instant("2022-05-03T00:00:00+07:00"));
    CHECK(wp_local_day(instant("2022-05-03T17:00:00Z")) == date_days("2022-05-04"));
    CHECK(wp_local_minute_of_day(instant("2022-05-03T10:00:00Z"), 420) == 17 * 60);
    CHECK(wp_local_minute_of_day(instant("1969-12-31T23:59:00Z"), 0) == 1439);

    /* dates the way the alert texts write them */
    char buf[16];
    wp_date_format_dmy(date_days("2022-05-03"), buf, sizeof buf);
    CHECK_STR(buf, "03/05/2022");
    wp_date_format_dmy(date_days("2020-02-29"), buf, sizeof buf);
    CHECK_STR(buf, "29/02/2020");
}

int main(void)
{
    test_dates();
    test_weeks();
    test_datetimes();
    test_formatting();
    test_calendar();
    return CHECK_DONE();
}
