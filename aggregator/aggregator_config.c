/* aggregator_config.c — the option table of wardpulse-aggregator and the checks the table
 * cannot do. */
#include "aggregator_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "clock.h"
#include "log.h"
#include "report.h"
#include "timefmt.h"

#define OPT(field) offsetof(struct aggregator_config, field)
#define STR_(x) #x
#define STR(x) STR_(x)

const struct wp_config_option aggregator_config_options[] = {
    {"broker_host", WP_CONFIG_STRING, "localhost", 0, 0, OPT(broker_host), 0,
     "MQTT broker host name or address"},
    {"broker_port", WP_CONFIG_INT, "1883", 1, 65535, OPT(broker_port), 0,
     "MQTT broker port (8883 is usual with TLS)"},
    {"client_id", WP_CONFIG_STRING, "wardpulse-aggregator", 0, 0, OPT(client_id), 0,
     "MQTT client id of the persistent session; keep it fixed, or reports queued for the "
     "old id stay in the broker"},
    {"db_path", WP_CONFIG_STRING, AGGREGATOR_DEFAULT_DB_PATH, 0, 0, OPT(db_path), 0,
     "SQLite database of reports (created on first start; its directory must exist)"},
    {"plan_dir", WP_CONFIG_STRING, NULL, 0, 0, OPT(plan_dir), 0,
     "directory of the plan (orgunits.json, catalog.json, plan.json); optional, must exist "
     "if set"},
    {"district", WP_CONFIG_STRING, NULL, 0, 0, OPT(district), 0,
     "national code of the district this aggregator serves, three digits; its wards report "
     "to it. 001 when neither district nor city is set"},
    {"city", WP_CONFIG_STRING, NULL, 0, 0, OPT(city), 0,
     "national code of the city this aggregator serves instead of a district, two digits "
     "(e.g. 01); the city's districts report to it, each rolling its wards up "
     "(rollup_spool_dir)"},
    {"rollup_spool_dir", WP_CONFIG_STRING, NULL, 0, 0, OPT(rollup_spool_dir), 0,
     "district aggregator: after each evaluation, write the district's figures that "
     "changed, rolled up from its wards (the catalog's rollup_up indicators), as report "
     "files into this folder: the spool_dir of the district's own agent, which sends them "
     "to the city. Must exist. Unset: nothing goes upward"},
    {"rollup_unit", WP_CONFIG_STRING, NULL, 0, 0, OPT(rollup_unit), 0,
     "unit code the rollup reports are for, three digits (default: district); reports of "
     "this unit on this broker are then the city's to acknowledge: stored here too, never "
     "acknowledged here"},
    {"batch_max", WP_CONFIG_INT, "500", 1, 100000, OPT(batch_max), 0,
     "commit as soon as this many reports are in hand (group commit)"},
    {"batch_delay", WP_CONFIG_DURATION, "20ms", 0, 10000, OPT(batch_delay_ms), 0,
     "commit when the oldest report in hand has waited this long; acks go out after the "
     "commit"},
    {"max_payload", WP_CONFIG_INT, STR(WP_REPORT_MAX_BYTES), 256, WP_REPORT_MAX_BYTES,
     OPT(max_payload), 0,
     "largest report payload in bytes; a larger one is rejected and its first max_payload "
     "bytes kept"},
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
    {"alert_repeat", WP_CONFIG_DURATION, "1d", 0, INT64_C(366) * 86400000, OPT(alert_repeat_ms), 0,
     "announce a firing alert again on events/alert this often (simulated clock time); "
     "0 never"},
    {"alert_command", WP_CONFIG_STRING, NULL, 0, 0, OPT(alert_command), 0,
     "shell command run at each alert transition (firing, resolved) with the alert JSON "
     "on stdin and WP_ALERT_* variables, e.g. an e-mail or SMS gateway"},
    {"clock_start", WP_CONFIG_STRING, NULL, 0, 0, OPT(clock_start), 0,
     "simulated clock: the instant (RFC 3339, e.g. 2022-05-01T00:00:00+07:00) the clock "
     "shows at start; for tests, replays and the demo. Unset: the real time"},
    {"clock_rate", WP_CONFIG_INT, "1", 1, 100000000, OPT(clock_rate), 0,
     "simulated clock: simulated seconds per real second (86400: a day per second); "
     "1 with no clock_start is real time"},
    {"clock_anchor", WP_CONFIG_STRING, NULL, 0, 0, OPT(clock_anchor), 0,
     "simulated clock: the real instant (RFC 3339) at which it showed clock_start; give "
     "every daemon of a simulation the same, so that their clocks agree and a restart "
     "finds the simulated time gone on. Unset: when the daemon starts"},
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static bool aggregator_config_code_valid(const char *s, size_t digits)
{
    if (strlen(s) != digits)
        return false;
    for (size_t i = 0; i < digits; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

enum wp_err aggregator_config_load(struct aggregator_config *cfg, const struct wp_cmdline *cmd,
                                   char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    enum wp_err rc = wp_config_load(aggregator_config_options, cfg, cmd, err, errlen);
    if (rc != WP_OK)
        return rc;

    /* Where each checked key was set, "FILE:LINE" or "command line", for the message. */
    char where[600];
#define WHERE(key) wp_config_where(cmd, (key), where, sizeof where)
    if (cfg->district && cfg->city) {
        snprintf(err, errlen, "%s: city: set either district or city, not both (a district "
                 "aggregator serves its wards, a city aggregator its districts)",
                 WHERE("city"));
        return WP_ERR_CONFIG;
    }
    if (cfg->city && !aggregator_config_code_valid(cfg->city, 2)) {
        snprintf(err, errlen, "%s: city: '%s' is not a city code (two digits, e.g. 01)",
                 WHERE("city"), cfg->city);
        return WP_ERR_CONFIG;
    }
    if (!cfg->city && !cfg->district && !(cfg->district = strdup("001"))) {
        snprintf(err, errlen, "out of memory");
        return WP_ERR_NOMEM;
    }
    if (cfg->district && !aggregator_config_code_valid(cfg->district, 3)) {
        snprintf(err, errlen, "%s: district: '%s' is not a district code (three digits, e.g. "
                 "001)", WHERE("district"), cfg->district);
        return WP_ERR_CONFIG;
    }
    cfg->unit = cfg->city ? cfg->city : cfg->district;
    if (cfg->rollup_unit && !cfg->rollup_spool_dir) {
        snprintf(err, errlen, "%s: rollup_unit: needs rollup_spool_dir", WHERE("rollup_unit"));
        return WP_ERR_CONFIG;
    }
    if (cfg->rollup_spool_dir) {
        /* Reports carry the code of a ward or a district: a city's rollup would need a
         * national level above it, which wardpulse does not have. */
        if (cfg->city) {
            snprintf(err, errlen, "%s: rollup_spool_dir: a city aggregator has no level above "
                     "it to report to", WHERE("rollup_spool_dir"));
            return WP_ERR_CONFIG;
        }
        if (!cfg->rollup_unit && !(cfg->rollup_unit = strdup(cfg->district))) {
            snprintf(err, errlen, "out of memory");
            return WP_ERR_NOMEM;
        }
        if (!aggregator_config_code_valid(cfg->rollup_unit, 3)) {
            snprintf(err, errlen, "%s: rollup_unit: '%s' is not a district code (three digits, "
                     "e.g. 001)", WHERE("rollup_unit"), cfg->rollup_unit);
            return WP_ERR_CONFIG;
        }
        struct stat st;
        if (stat(cfg->rollup_spool_dir, &st) != 0) {
            snprintf(err, errlen, "%s: rollup_spool_dir: %s: %s", WHERE("rollup_spool_dir"),
                     cfg->rollup_spool_dir, strerror(errno));
            return WP_ERR_CONFIG;
        }
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s: rollup_spool_dir: %s is not a directory",
                     WHERE("rollup_spool_dir"), cfg->rollup_spool_dir);
            return WP_ERR_CONFIG;
        }
    }
    cfg->log_level_value = wp_log_level_parse(cfg->log_level);
    if (cfg->log_level_value < 0) {
        snprintf(err, errlen,
                 "%s: log_level: '%s' is not one of error, warning, notice, info, debug", WHERE("log_level"),
                 cfg->log_level);
        return WP_ERR_CONFIG;
    }
    if (cfg->db_path[0] == '\0' || cfg->client_id[0] == '\0') {
        const char *key = cfg->db_path[0] == '\0' ? "db_path" : "client_id";
        snprintf(err, errlen, "%s: %s: must not be empty", WHERE(key), key);
        return WP_ERR_CONFIG;
    }
    if ((cfg->certfile == NULL) != (cfg->keyfile == NULL)) {
        snprintf(err, errlen, "%s: certfile and keyfile must be given together", WHERE("certfile"));
        return WP_ERR_CONFIG;
    }
    if (cfg->certfile && !cfg->cafile) {
        snprintf(err, errlen, "%s: certfile needs cafile (TLS is on only when cafile is set)",
                 WHERE("certfile"));
        return WP_ERR_CONFIG;
    }
    cfg->clock_start_ms = WP_CLOCK_START_NOW;
    if (cfg->clock_start && !wp_datetime_parse(cfg->clock_start, &cfg->clock_start_ms)) {
        snprintf(err, errlen, "%s: clock_start: '%s' is not an RFC 3339 date-time with an "
                 "offset (e.g. 2022-05-01T00:00:00+07:00)", WHERE("clock_start"), cfg->clock_start);
        return WP_ERR_CONFIG;
    }
    if (cfg->clock_anchor && !wp_datetime_parse(cfg->clock_anchor, &cfg->clock_anchor_ms)) {
        snprintf(err, errlen, "%s: clock_anchor: '%s' is not an RFC 3339 date-time with an "
                 "offset", WHERE("clock_anchor"), cfg->clock_anchor);
        return WP_ERR_CONFIG;
    }
    if (cfg->plan_dir) {
        struct stat st;
        if (stat(cfg->plan_dir, &st) != 0) {
            snprintf(err, errlen, "%s: plan_dir: %s: %s", WHERE("plan_dir"), cfg->plan_dir,
                     strerror(errno));
            return WP_ERR_CONFIG;
        }
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s: plan_dir: %s is not a directory", WHERE("plan_dir"), cfg->plan_dir);
            return WP_ERR_CONFIG;
        }
    }
#undef WHERE
    return WP_OK;
}

void aggregator_config_free(struct aggregator_config *cfg)
{
    wp_config_free(aggregator_config_options, cfg);
}
