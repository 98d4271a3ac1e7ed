/* clock.c — real and simulated time (contract in clock.h). */
#include "clock.h"

#include <math.h>
#include <time.h>

static bool clock_is_simulated;
static double clock_rate_value = 1.0;
static int64_t clock_start_ms;       /* wp_now_ms() at clock_origin_us */
static int64_t clock_origin_us;      /* monotonic µs of the configure call */
static int64_t clock_stop_ms = INT64_MAX;   /* a simulated clock never shows more */

static int64_t read_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void wp_clock_configure_at(int64_t start_unix_ms, double rate, int64_t anchor_real_ms)
{
    if (!(rate > 0) || !isfinite(rate))
        rate = 1.0;
    /* Both readings are taken together: the anchor is placed on the monotonic clock by
     * how long ago (real time) it was. */
    int64_t real_us = read_us(CLOCK_REALTIME);
    int64_t mono_us = read_us(CLOCK_MONOTONIC);
    clock_origin_us = mono_us - (real_us - anchor_real_ms * 1000);
    clock_start_ms = start_unix_ms == WP_CLOCK_START_NOW ? anchor_real_ms : start_unix_ms;
    clock_rate_value = rate;
    clock_is_simulated = !(rate == 1.0 && start_unix_ms == WP_CLOCK_START_NOW);
}

void wp_clock_configure(int64_t start_unix_ms, double rate)
{
    wp_clock_configure_at(start_unix_ms, rate, read_us(CLOCK_REALTIME) / 1000);
}

int64_t wp_now_ms(void)
{
    if (!clock_is_simulated)
        return read_us(CLOCK_REALTIME) / 1000;
    /* Microseconds, not milliseconds: at a day per second one real millisecond is
     * 86.4 simulated seconds, and truncating first would make the clock stutter. */
    double elapsed_us = (double)(read_us(CLOCK_MONOTONIC) - clock_origin_us);
    double now = (double)clock_start_ms + floor(elapsed_us * clock_rate_value / 1000.0);
    return now >= (double)clock_stop_ms ? clock_stop_ms : (int64_t)now;
}

void wp_clock_stop_at(int64_t stop_unix_ms)
{
    clock_stop_ms = stop_unix_ms > 0 && clock_is_simulated ? stop_unix_ms : INT64_MAX;
}

int64_t wp_monotonic_ms(void)
{
    return read_us(CLOCK_MONOTONIC) / 1000;
}

double wp_clock_rate(void)
{
    return clock_rate_value;
}

bool wp_clock_simulated(void)
{
    return clock_is_simulated;
}

int64_t wp_clock_real_ms_until(int64_t clock_ms)
{
    int64_t left = clock_ms - wp_now_ms();
    if (left <= 0)
        return 0;
    if (clock_ms > clock_stop_ms)
        return INT64_MAX / 2;   /* the clock stops before: never */
    double real = ceil((double)left / clock_rate_value);
    return real > (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)real;
}
