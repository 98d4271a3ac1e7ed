/* clock.h — the time of day as wardpulse sees it.
 *
 * wp_now_ms() is wall-clock time in Unix milliseconds. It is the one place the
 * simulated clock (start instant, rate) of replays and the demo will hook in, so every
 * "now" that ends up in a payload or a rule must come from here.
 * wp_monotonic_ms() is for timeouts and backoff only, never for data.
 */
#ifndef WP_CLOCK_H
#define WP_CLOCK_H

#include <stdint.h>

int64_t wp_now_ms(void);
int64_t wp_monotonic_ms(void);

#endif
