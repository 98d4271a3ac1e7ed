#include "notify.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

static void send_with_status(const char *prefix, const char *fmt, va_list ap)
{
    char status[512];
    vsnprintf(status, sizeof status, fmt, ap);
    sd_notifyf(0, "%sSTATUS=%s", prefix, status);
}

void wp_notify_ready(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_with_status("READY=1\n", fmt, ap);
    va_end(ap);
}

void wp_notify_status(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_with_status("", fmt, ap);
    va_end(ap);
}

void wp_notify_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

void wp_notify_watchdog(int64_t now_ms)
{
    static bool checked;
    static int64_t interval_ms, last_ms;
    if (!checked) {
        uint64_t usec = 0;
        /* sd_watchdog_enabled: > 0 when systemd (or a test) asked for pings. */
        if (sd_watchdog_enabled(0, &usec) > 0)
            interval_ms = (int64_t)(usec / 1000) / 2;
        checked = true;
    }
    if (interval_ms <= 0 || now_ms - last_ms < interval_ms)
        return;
    last_ms = now_ms;
    sd_notify(0, "WATCHDOG=1");
}
