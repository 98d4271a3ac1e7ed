/* clock.h — the time of day as wardpulse sees it, real or simulated.
 *
 * wp_now_ms() is wall-clock time in Unix milliseconds. Every "now" that ends up in a
 * payload, a stored row or a rule must come from here, because this is where the
 * simulated clock of tests, replays of 2022 data and the demo hooks in:
 *
 *   wp_clock_configure(start_unix_ms, rate)
 *       from this call on, wp_now_ms() = start_unix_ms + (monotonic time elapsed since
 *       the call) × rate. start_unix_ms == WP_CLOCK_START_NOW starts from the real time
 *       of the call, so rate alone speeds the present up. rate 1 and WP_CLOCK_START_NOW
 *       is real time again (the default, before any call).
 *
 *   wp_clock_configure_at(start_unix_ms, rate, anchor_real_ms)
 *       the same, but the clock showed start_unix_ms at the real instant anchor_real_ms
 *       (which may be in the past): wp_now_ms() = start + (real now − anchor) × rate.
 *       Daemons of one simulation given the same anchor agree on the time, and a daemon
 *       restarted with it finds the simulated time gone on, as real time would have.
 *
 *   wp_clock_stop_at(stop_unix_ms)
 *       a simulated clock stops at stop_unix_ms and stays there: a replay that ends at a
 *       known instant ends in the same state however late its processes are stopped.
 *       Deadlines after it never come (wp_clock_real_ms_until says "very long").
 *
 * After configuration the clock runs on the monotonic clock, so it never jumps when the
 * system time is set. It is process-wide state: configure it once at start, before any
 * thread reads it.
 *
 * wp_monotonic_ms() is for timeouts and backoff only, never for data; it is never
 * scaled. wp_clock_real_ms_until() converts a wait on the (possibly simulated) clock
 * into the real milliseconds a poll() must sleep.
 */
#ifndef WP_CLOCK_H
#define WP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define WP_CLOCK_START_NOW INT64_MIN

/* rate must be > 0 (values ≤ 0 are taken as 1). */
void wp_clock_configure(int64_t start_unix_ms, double rate);
void wp_clock_configure_at(int64_t start_unix_ms, double rate, int64_t anchor_real_ms);

/* Only for a simulated clock (call after configuring it); stop_unix_ms 0: runs on. */
void wp_clock_stop_at(int64_t stop_unix_ms);

int64_t wp_now_ms(void);
int64_t wp_monotonic_ms(void);

/* The configured rate (1 for real time) and whether the clock is simulated. */
double wp_clock_rate(void);
bool wp_clock_simulated(void);

/* Real milliseconds until wp_now_ms() reaches clock_ms: 0 if already there, rounded up
 * so that a loop sleeping that long wakes at or after the instant. */
int64_t wp_clock_real_ms_until(int64_t clock_ms);

#endif
