/* daemon_config.c — the checks of the settings both daemons share (daemon_config.h). */
#include "daemon_config.h"

#include <stdio.h>

#include "clock.h"
#include "log.h"
#include "timefmt.h"

/* Parses the RFC 3339 instant of `key` (if set) into *ms; false with err on a bad one. */
static bool daemon_config_instant(const char *text, const char *key, int64_t *ms,
                                  const struct wp_cmdline *cmd, char *err, size_t errlen)
{
    if (!text || wp_datetime_parse(text, ms))
        return true;
    char where[600];
    snprintf(err, errlen, "%s: %s: '%s' is not an RFC 3339 date-time with an offset (e.g. "
             "2022-05-01T00:00:00+07:00)", wp_config_where(cmd, key, where, sizeof where), key,
             text);
    return false;
}

enum wp_err wp_daemon_config_check(struct wp_daemon_config *d, const struct wp_cmdline *cmd,
                                   char *err, size_t errlen)
{
    char where[600];
#define WHERE(key) wp_config_where(cmd, (key), where, sizeof where)
    d->log_level_value = wp_log_level_parse(d->log_level);
    if (d->log_level_value < 0) {
        snprintf(err, errlen, "%s: log_level: '%s' is not one of error, warning, notice, info, "
                 "debug", WHERE("log_level"), d->log_level);
        return WP_ERR_CONFIG;
    }
    if ((d->certfile == NULL) != (d->keyfile == NULL)) {
        snprintf(err, errlen, "%s: certfile and keyfile must be given together",
                 WHERE(d->certfile ? "certfile" : "keyfile"));
        return WP_ERR_CONFIG;
    }
    if (d->certfile && !d->cafile) {
        snprintf(err, errlen, "%s: certfile needs cafile (TLS is on only when cafile is set)",
                 WHERE("certfile"));
        return WP_ERR_CONFIG;
    }
    d->clock_start_ms = WP_CLOCK_START_NOW;
    d->clock_anchor_ms = 0;
    d->clock_stop_ms = 0;
    if (!daemon_config_instant(d->clock_start, "clock_start", &d->clock_start_ms, cmd, err,
                               errlen)
        || !daemon_config_instant(d->clock_anchor, "clock_anchor", &d->clock_anchor_ms, cmd,
                                  err, errlen)
        || !daemon_config_instant(d->clock_stop, "clock_stop", &d->clock_stop_ms, cmd, err,
                                  errlen))
        return WP_ERR_CONFIG;
    if (d->clock_stop && !d->clock_start) {
        snprintf(err, errlen, "%s: clock_stop: needs clock_start (only a simulated clock "
                 "stops)", WHERE("clock_stop"));
        return WP_ERR_CONFIG;
    }
    if (d->clock_stop && d->clock_stop_ms <= d->clock_start_ms) {
        snprintf(err, errlen, "%s: clock_stop: %s is not after clock_start %s",
                 WHERE("clock_stop"), d->clock_stop, d->clock_start);
        return WP_ERR_CONFIG;
    }
#undef WHERE
    return WP_OK;
}

void wp_daemon_config_apply_clock(const struct wp_daemon_config *d, int level)
{
    if (!d->clock_start && d->clock_rate == 1)
        return;
    if (d->clock_anchor)
        wp_clock_configure_at(d->clock_start_ms, (double)d->clock_rate, d->clock_anchor_ms);
    else
        wp_clock_configure(d->clock_start_ms, (double)d->clock_rate);
    wp_clock_stop_at(d->clock_stop_ms);
    char shown[40], stop[40] = "";
    wp_datetime_format_local(wp_now_ms(), shown, sizeof shown);
    if (d->clock_stop)
        wp_datetime_format_local(d->clock_stop_ms, stop, sizeof stop);
    wp_log(level, "simulated clock: now %s, %lld× real time%s%s", shown, d->clock_rate,
           d->clock_stop ? ", stops at " : "", stop);
}
