/* agent_config.c — the option table of wardpulse-agent and the checks the table cannot do. */
#include "agent_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "timefmt.h"

#define OPT(field) offsetof(struct agent_config, field)

const struct wp_config_option agent_config_options[] = {
    {"ward", WP_CONFIG_STRING, NULL, 0, 0, OPT(ward), WP_CONFIG_REQUIRED,
     "national code of the reporting unit: a ward, five digits (e.g. 00001), or for the "
     "district's own agent, which reports the district's figures to the city, the "
     "district, three digits (e.g. 001); names the MQTT topics"},
    {"broker_host", WP_CONFIG_STRING, "localhost", 0, 0, OPT(broker_host), 0,
     "MQTT broker host name or address"},
    {"broker_port", WP_CONFIG_INT, "1883", 1, 65535, OPT(broker_port), 0,
     "MQTT broker port (8883 is usual with TLS)"},
    {"client_id", WP_CONFIG_STRING, NULL, 0, 0, OPT(client_id), 0,
     "MQTT client id of the persistent session (default: the ward code)"},
    {"outbox_path", WP_CONFIG_STRING, AGENT_DEFAULT_OUTBOX_PATH, 0, 0, OPT(outbox_path), 0,
     "SQLite file holding reports until the aggregator acknowledges them; created on first use"},
    {"spool_dir", WP_CONFIG_STRING, NULL, 0, 0, OPT(spool_dir), 0,
     "directory whose complete files (report JSON or CSV, see docs/spool.md) the daemon "
     "takes in as submissions; taken files go to done/, refused ones to rejected/ with "
     "a .error file (optional; must exist)"},
    {"spool_interval", WP_CONFIG_DURATION, "2s", 10, 3600000, OPT(spool_interval_ms), 0,
     "how often the daemon looks for new files in spool_dir"},
    {"spool_settle", WP_CONFIG_DURATION, "1s", 0, 3600000, OPT(spool_settle_ms), 0,
     "a spool file is taken only once it has not changed for this long (for programs that "
     "write in place instead of renaming into place)"},
    {"spool_max_bytes", WP_CONFIG_INT, "4194304", 1024, 268435456, OPT(spool_max_bytes), 0,
     "largest spool file taken in; a larger one is refused (a year of daily reports of a "
     "ward is far smaller)"},
    {"ack_timeout", WP_CONFIG_DURATION, "30s", 100, 86400000, OPT(ack_timeout_ms), 0,
     "publish a report again when no acknowledgement covers it this long after it reached "
     "the broker; the wait doubles with every further try (plus up to 25% jitter)"},
    {"ack_timeout_max", WP_CONFIG_DURATION, "10m", 100, 86400000, OPT(ack_timeout_max_ms), 0,
     "longest wait between two publications of an unacknowledged report (before jitter); "
     "taken as ack_timeout if shorter"},
    {"reconnect_min", WP_CONFIG_DURATION, "500ms", 10, 3600000, OPT(reconnect_min_ms), 0,
     "first wait before connecting to the broker again after the link failed; doubles on "
     "every failed attempt"},
    {"reconnect_max", WP_CONFIG_DURATION, "30s", 10, 3600000, OPT(reconnect_max_ms), 0,
     "longest wait between two connection attempts; taken as reconnect_min if shorter"},
    {"poll_interval", WP_CONFIG_DURATION, "200ms", 10, 10000, OPT(poll_interval_ms), 0,
     "how often the daemon looks for reports committed by a concurrent 'submit'"},
    {"log_level", WP_CONFIG_STRING, "info", 0, 0, OPT(log_level), 0,
     "error, warning, notice, info or debug"},
    {"cafile", WP_CONFIG_STRING, NULL, 0, 0, OPT(cafile), 0,
     "CA certificate (PEM) of the broker; setting it turns TLS on"},
    {"certfile", WP_CONFIG_STRING, NULL, 0, 0, OPT(certfile), 0,
     "client certificate (PEM) for TLS client authentication (optional)"},
    {"keyfile", WP_CONFIG_STRING, NULL, 0, 0, OPT(keyfile), 0,
     "private key (PEM) of certfile"},
    {"username", WP_CONFIG_STRING, NULL, 0, 0, OPT(username), 0,
     "MQTT user name (optional)"},
    {"password_file", WP_CONFIG_STRING, NULL, 0, 0, OPT(password_file), 0,
     "file whose first line is the MQTT password (keeps it out of the config and of ps)"},
    {"clock_start", WP_CONFIG_STRING, NULL, 0, 0, OPT(clock_start), 0,
     "simulated clock: the instant (RFC 3339, e.g. 2022-05-01T00:00:00+07:00) the clock "
     "shows at start; for tests, replays and the demo. Unset: the real time"},
    {"clock_rate", WP_CONFIG_INT, "1", 1, 100000000, OPT(clock_rate), 0,
     "simulated clock: simulated seconds per real second (86400: a day per second); "
     "1 with no clock_start is real time"},
    {"clock_anchor", WP_CONFIG_STRING, NULL, 0, 0, OPT(clock_anchor), 0,
     "simulated clock: the real instant (RFC 3339) at which it showed clock_start; give "
     "the agent, its submits and the aggregator the same, so that their clocks agree. "
     "Unset: when the process starts"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

/* A ward (five digits) or a district (three): the units that report upward. */
static bool ward_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n != 5 && n != 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

enum wp_err agent_config_load(struct agent_config *cfg, const struct wp_cmdline *cmd, char *err,
                              size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    enum wp_err rc = wp_config_load(agent_config_options, cfg, cmd, err, errlen);
    if (rc != WP_OK)
        return rc;
    /* "agent.conf:2" (or "command line") for the messages about what only we can judge. */
    char where[1100];

    if (!ward_code_valid(cfg->ward)) {
        snprintf(err, errlen, "%s: ward: '%s' is not a ward code (five digits, e.g. 00001) "
                 "nor a district code (three digits, e.g. 001)",
                 wp_config_where(cmd, "ward", where, sizeof where), cfg->ward);
        return WP_ERR_CONFIG;
    }
    cfg->log_level_value = wp_log_level_parse(cfg->log_level);
    if (cfg->log_level_value < 0) {
        snprintf(err, errlen,
                 "%s: log_level: '%s' is not one of error, warning, notice, info, debug",
                 wp_config_where(cmd, "log_level", where, sizeof where), cfg->log_level);
        return WP_ERR_CONFIG;
    }
    if ((cfg->certfile == NULL) != (cfg->keyfile == NULL)) {
        snprintf(err, errlen, "%s: certfile and keyfile must be given together",
                 wp_config_where(cmd, "certfile", where, sizeof where));
        return WP_ERR_CONFIG;
    }
    if (cfg->certfile && !cfg->cafile) {
        snprintf(err, errlen, "%s: certfile needs cafile (TLS is on only when cafile is set)",
                 wp_config_where(cmd, "certfile", where, sizeof where));
        return WP_ERR_CONFIG;
    }
    /* A maximum below its minimum (e.g. ack_timeout 1h with the default maximum) means
     * "no growth", not a configuration error. */
    if (cfg->ack_timeout_max_ms < cfg->ack_timeout_ms)
        cfg->ack_timeout_max_ms = cfg->ack_timeout_ms;
    if (cfg->reconnect_max_ms < cfg->reconnect_min_ms)
        cfg->reconnect_max_ms = cfg->reconnect_min_ms;
    cfg->clock_start_ms = WP_CLOCK_START_NOW;
    if (cfg->clock_start && !wp_datetime_parse(cfg->clock_start, &cfg->clock_start_ms)) {
        snprintf(err, errlen, "%s: clock_start: '%s' is not an RFC 3339 date-time with an "
                 "offset (e.g. 2022-05-01T00:00:00+07:00)",
                 wp_config_where(cmd, "clock_start", where, sizeof where), cfg->clock_start);
        return WP_ERR_CONFIG;
    }
    if (cfg->clock_anchor && !wp_datetime_parse(cfg->clock_anchor, &cfg->clock_anchor_ms)) {
        snprintf(err, errlen, "%s: clock_anchor: '%s' is not an RFC 3339 date-time with an "
                 "offset", wp_config_where(cmd, "clock_anchor", where, sizeof where), cfg->clock_anchor);
        return WP_ERR_CONFIG;
    }
    if (cfg->outbox_path[0] == '\0') {
        snprintf(err, errlen, "%s: outbox_path: must not be empty",
                 wp_config_where(cmd, "outbox_path", where, sizeof where));
        return WP_ERR_CONFIG;
    }
    if (cfg->client_id == NULL || cfg->client_id[0] == '\0') {
        /* The broker keeps the persistent session under this id, so a ward's session
         * survives reinstalls as long as the ward code stays the same. */
        free(cfg->client_id);
        cfg->client_id = strdup(cfg->ward);
        if (!cfg->client_id) {
            snprintf(err, errlen, "out of memory");
            return WP_ERR_NOMEM;
        }
    }
    return WP_OK;
}

void agent_config_apply_clock(const struct agent_config *cfg)
{
    if (!cfg->clock_start && cfg->clock_rate == 1)
        return;
    if (cfg->clock_anchor)
        wp_clock_configure_at(cfg->clock_start_ms, (double)cfg->clock_rate, cfg->clock_anchor_ms);
    else
        wp_clock_configure(cfg->clock_start_ms, (double)cfg->clock_rate);
    char shown[40];
    wp_datetime_format_local(wp_now_ms(), shown, sizeof shown);
    wp_log(WP_LOG_DEBUG, "simulated clock: now %s, %lld× real time", shown, cfg->clock_rate);
}

void agent_config_free(struct agent_config *cfg)
{
    wp_config_free(agent_config_options, cfg);
}
