/* agent_config.c — the option table of wardpulse-agent and the checks the table cannot do. */
#include "agent_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define OPT(field) offsetof(struct agent_config, field)

const struct wp_config_option agent_config_options[] = {
    {"ward", WP_CONFIG_STRING, NULL, 0, 0, OPT(ward), WP_CONFIG_REQUIRED,
     "national code of this ward, five digits (e.g. 00001); names the MQTT topics"},
    {"broker_host", WP_CONFIG_STRING, "localhost", 0, 0, OPT(broker_host), 0,
     "MQTT broker host name or address"},
    {"broker_port", WP_CONFIG_INT, "1883", 1, 65535, OPT(broker_port), 0,
     "MQTT broker port (8883 is usual with TLS)"},
    {"client_id", WP_CONFIG_STRING, NULL, 0, 0, OPT(client_id), 0,
     "MQTT client id of the persistent session (default: the ward code)"},
    {"outbox_path", WP_CONFIG_STRING, AGENT_DEFAULT_OUTBOX_PATH, 0, 0, OPT(outbox_path), 0,
     "SQLite file holding reports until the aggregator acknowledges them; created on first use"},
    {"spool_dir", WP_CONFIG_STRING, NULL, 0, 0, OPT(spool_dir), 0,
     "directory whose complete files (report JSON or CSV) are taken in as submissions "
     "(optional; not yet read by this version)"},
    {"ack_timeout", WP_CONFIG_DURATION, "30s", 100, 86400000, OPT(ack_timeout_ms), 0,
     "publish a report again when no acknowledgement covers it this long after it reached "
     "the broker"},
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
    {NULL, 0, NULL, 0, 0, 0, 0, NULL},
};

static bool ward_code_valid(const char *s)
{
    if (strlen(s) != 5)
        return false;
    for (int i = 0; i < 5; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Where a key's value came from, for messages: the command line overrides the file. */
static const char *agent_config_origin(const struct wp_cmdline *cmd, const char *key)
{
    size_t len = strlen(key);
    for (int i = 0; i < cmd->override_count; i++) {
        const char *k = cmd->overrides[i].key;
        if (strncmp(k, key, len) == 0 && (k[len] == '\0' || k[len] == '='))
            return "command line";
    }
    return cmd->config_path ? cmd->config_path : "command line";
}

enum wp_err agent_config_load(struct agent_config *cfg, const struct wp_cmdline *cmd, char *err,
                              size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    enum wp_err rc = wp_config_load(agent_config_options, cfg, cmd, err, errlen);
    if (rc != WP_OK)
        return rc;

    if (!ward_code_valid(cfg->ward)) {
        snprintf(err, errlen, "%s: ward: '%s' is not a ward code (five digits, e.g. 00001)",
                 agent_config_origin(cmd, "ward"), cfg->ward);
        return WP_ERR_CONFIG;
    }
    cfg->log_level_value = wp_log_level_parse(cfg->log_level);
    if (cfg->log_level_value < 0) {
        snprintf(err, errlen,
                 "%s: log_level: '%s' is not one of error, warning, notice, info, debug",
                 agent_config_origin(cmd, "log_level"), cfg->log_level);
        return WP_ERR_CONFIG;
    }
    if ((cfg->certfile == NULL) != (cfg->keyfile == NULL)) {
        snprintf(err, errlen, "%s: certfile and keyfile must be given together",
                 agent_config_origin(cmd, "certfile"));
        return WP_ERR_CONFIG;
    }
    if (cfg->certfile && !cfg->cafile) {
        snprintf(err, errlen, "%s: certfile needs cafile (TLS is on only when cafile is set)",
                 agent_config_origin(cmd, "certfile"));
        return WP_ERR_CONFIG;
    }
    if (cfg->outbox_path[0] == '\0') {
        snprintf(err, errlen, "%s: outbox_path: must not be empty",
                 agent_config_origin(cmd, "outbox_path"));
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
