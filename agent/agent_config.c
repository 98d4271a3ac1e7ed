/* agent_config.c — the option table of wardpulse-agent and the checks the table cannot do. */
#include "agent_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define OPT(field) offsetof(struct agent_config, field)

const struct wp_config_option agent_config_options[] = {
    {"ward", WP_CONFIG_STRING, NULL, 0, 0, OPT(ward), WP_CONFIG_REQUIRED,
     "national code of the reporting unit: a ward, five digits (e.g. 00001), or for the "
     "district's own agent, which reports the district's figures to the city, the "
     "district, three digits (e.g. 001); names the MQTT topics"},
    WP_DAEMON_BROKER_OPTIONS(struct agent_config, daemon),
    {"client_id", WP_CONFIG_STRING, NULL, 0, 0, OPT(client_id), 0,
     "MQTT client id of the persistent session (default: the ward code)"},
    {"outbox_path", WP_CONFIG_STRING, AGENT_DEFAULT_OUTBOX_PATH, 0, 0, OPT(outbox_path), 0,
     "SQLite file holding reports until the aggregator acknowledges them; created on first use"},
    {"spool_dir", WP_CONFIG_STRING, NULL, 0, 0, OPT(spool_dir), 0,
     "directory whose complete files (report JSON or CSV, see docs/spool.md) the daemon "
     "takes in as submissions; taken files go to done/, refused ones to rejected/ with "
     "a .error file (optional; must exist)"},
    {"spool_interval", WP_CONFIG_DURATION, "2s", 10, 3600000, OPT(spool_interval_ms), 0,
     "the daemon learns of finished files from the kernel (inotify) at once; this is how "
     "often it tries again what could not be done then: a file that stayed (disk full, "
     "busy outbox, a settling or unfinished file), a spool_dir that was removed"},
    {"spool_settle", WP_CONFIG_DURATION, "1s", 0, 3600000, OPT(spool_settle_ms), 0,
     "a file found already in spool_dir when the daemon starts (or when the folder comes "
     "back) is taken only once it has not changed for this long and no writer has it open "
     "(files the daemon sees closed or renamed in are taken at once)"},
    {"spool_incomplete_timeout", WP_CONFIG_DURATION, "1h", 100, 604800000,
     OPT(spool_incomplete_timeout_ms), 0,
     "a CSV whose last line has no line end waits in spool_dir for the rest; unchanged this "
     "long, its writer is taken to have died and it is refused to rejected/ with a .error"},
    {"spool_max_bytes", WP_CONFIG_INT, "4194304", 1024, 268435456, OPT(spool_max_bytes), 0,
     "largest spool file taken in; a larger one is refused (a year of daily reports of a "
     "ward is far smaller)"},
    {"ack_timeout", WP_CONFIG_DURATION, "30s", 100, 86400000, OPT(ack_timeout_ms), 0,
     "publish a report again when no acknowledgement covers it this long after it reached "
     "the broker; the wait doubles with every further try (plus up to 25% jitter)"},
    {"ack_timeout_max", WP_CONFIG_DURATION, "10m", 100, 86400000, OPT(ack_timeout_max_ms), 0,
     "longest wait between two publications of an unacknowledged report (before jitter); "
     "taken as ack_timeout if shorter"},
    {"archive_days", WP_CONFIG_INT, "60", 0, 3650, OPT(archive_days), 0,
     "days an acknowledged report stays in the outbox's archive, so that a district whose "
     "database was restored from an older backup can ask for it again (0: keep none)"},
    {"archive_max", WP_CONFIG_INT, "10000", 0, 1000000, OPT(archive_max), 0,
     "most acknowledged reports the archive keeps, whatever their age (the oldest go "
     "first); bounds the outbox file"},
    {"reconnect_min", WP_CONFIG_DURATION, "500ms", 10, 3600000, OPT(reconnect_min_ms), 0,
     "first wait before connecting to the broker again after the link failed; doubles on "
     "every failed attempt"},
    {"reconnect_max", WP_CONFIG_DURATION, "10s", 10, 3600000, OPT(reconnect_max_ms), 0,
     "longest wait between two connection attempts; taken as reconnect_min if shorter"},
    {"poll_interval", WP_CONFIG_DURATION, "200ms", 10, 10000, OPT(poll_interval_ms), 0,
     "how often the daemon looks for reports committed by a concurrent 'submit' when "
     "inotify cannot watch the outbox's folder (otherwise it is told at once), and how soon "
     "a failed look is tried again"},
    WP_DAEMON_COMMON_OPTIONS(struct agent_config, daemon),
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
    if ((rc = wp_daemon_config_check(&cfg->daemon, cmd, err, errlen)) != WP_OK)
        return rc;
    /* A maximum below its minimum (e.g. ack_timeout 1h with the default maximum) means
     * "no growth", not a configuration error. */
    if (cfg->ack_timeout_max_ms < cfg->ack_timeout_ms)
        cfg->ack_timeout_max_ms = cfg->ack_timeout_ms;
    if (cfg->reconnect_max_ms < cfg->reconnect_min_ms)
        cfg->reconnect_max_ms = cfg->reconnect_min_ms;
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

void agent_config_free(struct agent_config *cfg)
{
    wp_config_free(agent_config_options, cfg);
}
