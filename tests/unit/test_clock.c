/* test_clock — real and simulated time (common/clock.c). */
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "clock.h"
#include "timefmt.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_default_is_real_time(void)
{
    CHECK(!wp_clock_simulated());
    CHECK(wp_clock_rate() == 1.0);
    int64_t diff = wp_now_ms() - real_now_ms();
    CHECK(diff > -50 && diff < 50);
    CHECK(wp_clock_real_ms_until(wp_now_ms() - 1000) == 0);
}

static void test_simulated_start_and_rate(void)
{
    int64_t start;
    CHECK(wp_datetime_parse("2022-05-03T16:59:00+07:00", &start));
    wp_clock_configure(start, 3600);   /* an hour per second */
    CHECK(wp_clock_simulated());
    CHECK(wp_clock_rate() == 3600.0);
    int64_t t0 = wp_now_ms();
    CHECK(t0 >= start && t0 < start + 60 * 1000);   /* < 17 ms of real time passed */
    sleep_ms(50);
    int64_t t1 = wp_now_ms();
    /* 50 ms real = 180 s simulated, at least; the scheduler may add some */
    CHECK(t1 - t0 >= 180 * 1000);
    CHECK(t1 - t0 < 3600 * 1000);
    /* never goes back */
    int64_t prev = wp_now_ms();
    for (int i = 0; i < 1000; i++) {
        int64_t t = wp_now_ms();
        CHECK(t >= prev);
        prev = t;
    }
    /* a minute of simulated time is ~17 real ms */
    int64_t wait = wp_clock_real_ms_until(wp_now_ms() + 60 * 1000);
    CHECK(wait >= 16 && wait <= 17);
    int64_t target = wp_now_ms() + 36 * 1000;   /* 10 real ms */
    sleep_ms((long)wp_clock_real_ms_until(target));
    CHECK(wp_now_ms() >= target);
    /* the monotonic clock is never scaled */
    int64_t m0 = wp_monotonic_ms();
    sleep_ms(20);
    CHECK(wp_monotonic_ms() - m0 < 1000);
}

static void test_rate_from_now(void)
{
    int64_t before = real_now_ms();
    wp_clock_configure(WP_CLOCK_START_NOW, 86400);
    CHECK(wp_clock_simulated());
    CHECK(wp_now_ms() >= before);
    sleep_ms(20);
    CHECK(wp_now_ms() - before >= 20 * 86400);   /* 20 ms real = 28.8 simulated minutes */

    wp_clock_configure(WP_CLOCK_START_NOW, 1);   /* back to real time */
    CHECK(!wp_clock_simulated());
    int64_t diff = wp_now_ms() - real_now_ms();
    CHECK(diff > -50 && diff < 50);

    wp_clock_configure(WP_CLOCK_START_NOW, -5);  /* nonsense rate: real speed */
    CHECK(wp_clock_rate() == 1.0);
}

static void test_anchor_in_the_past(void)
{
    int64_t start;
    CHECK(wp_datetime_parse("2022-05-01T00:00:00+07:00", &start));
    /* Anchored 2 real seconds ago at a day per second: two days have passed. */
    wp_clock_configure_at(start, 86400, real_now_ms() - 2000);
    int64_t days = (wp_now_ms() - start) / 86400000;
    CHECK(days == 2);
    /* Two daemons with the same anchor agree, whenever each configures. */
    int64_t anchor = real_now_ms() - 500;
    wp_clock_configure_at(start, 3600, anchor);
    int64_t a = wp_now_ms();
    sleep_ms(30);
    wp_clock_configure_at(start, 3600, anchor);
    int64_t b = wp_now_ms();
    CHECK(b - a >= 30 * 3600 && b - a < 1000 * 3600);
    CHECK(a - start >= 500 * 3600 && a - start < 1500 * 3600);
    wp_clock_configure(WP_CLOCK_START_NOW, 1);
}

static void test_stop_holds_the_clock(void)
{
    int64_t start, stop;
    CHECK(wp_datetime_parse("2022-05-01T00:00:00+07:00", &start));
    CHECK(wp_datetime_parse("2022-05-01T01:00:00+07:00", &stop));
    /* Anchored a real second ago at a day per second: a day would have passed. */
    wp_clock_configure_at(start, 86400, real_now_ms() - 1000);
    wp_clock_stop_at(stop);
    CHECK(wp_now_ms() == stop);
    sleep_ms(20);
    CHECK(wp_now_ms() == stop);
    CHECK(wp_clock_real_ms_until(stop - 1) == 0);
    CHECK(wp_clock_real_ms_until(stop + 1) >= INT64_MAX / 4);   /* never comes */
    /* Before the stop it runs as ever. */
    wp_clock_configure_at(start, 3600, real_now_ms());
    int64_t a = wp_now_ms();
    CHECK(a >= start && a < stop);
    int64_t wait = wp_clock_real_ms_until(start + 60 * 1000);
    CHECK(wait >= 1 && wait <= 17);
    sleep_ms(30);
    CHECK(wp_now_ms() - a >= 30 * 3600);
    wp_clock_stop_at(0);                 /* runs on */
    wp_clock_configure(WP_CLOCK_START_NOW, 1);
    wp_clock_stop_at(start);             /* real time never stops */
    CHECK(wp_now_ms() > stop);
}

int main(void)
{
    test_default_is_real_time();
    test_simulated_start_and_rate();
    test_rate_from_now();
    test_anchor_in_the_past();
    test_stop_holds_the_clock();
    return CHECK_DONE();
}
