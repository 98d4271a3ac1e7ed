/* notify.h — telling systemd how a daemon is doing (sd_notify), harmless without systemd.
 *
 * With Type=notify, systemd waits for wp_notify_ready() before it counts the service as
 * started; with WatchdogSec=, it restarts a daemon that stops calling wp_notify_watchdog()
 * often enough. Outside systemd (NOTIFY_SOCKET unset) every call does nothing.
 */
#ifndef WP_NOTIFY_H
#define WP_NOTIFY_H

#include <stdint.h>

/* READY=1 with a STATUS= line (printf-style). */
void wp_notify_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STATUS= only: a line `systemctl status` shows (e.g. the broker's state). */
void wp_notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STOPPING=1: the daemon is draining and will exit. */
void wp_notify_stopping(void);

/* WATCHDOG=1, at most every half watchdog period (the call is cheap to make often).
 * now_ms is wp_monotonic_ms(). */
void wp_notify_watchdog(int64_t now_ms);

/* When wp_notify_watchdog next has a ping to send (wp_monotonic_ms() time), for a daemon
 * that sleeps until its next deadline; INT64_MAX without a watchdog. */
int64_t wp_notify_watchdog_due_ms(void);

#endif
