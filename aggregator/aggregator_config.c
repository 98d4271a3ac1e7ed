/* aggregator_config.c — the option table of wardpulse-aggregator and the checks the table
 * cannot do. */
#include "aggregator_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "db_file.h"
#include "report.h"
#include "topic.h"

#define OPT(field) offsetof(struct aggregator_config, field)
#define STR_(x) #x
#define STR(x) STR_(x)

const struct wp_config_option aggregator_config_options[] = {
    WP_DAEMON_BROKER_OPTIONS(struct aggregator_config, daemon),
    {"client_id", WP_CONFIG_STRING, "wardpulse-aggregator", 0, 0, OPT(client_id), 0,
     "MQTT client id of the persistent session; keep it fixed, or reports queued for the "
     "old id stay in the broker; one aggregator per client id and broker (a second one is "
     "noticed and one of the two steps back)"},
    {"db_path", WP_CONFIG_STRING, AGGREGATOR_DEFAULT_DB_PATH, 0, 0, OPT(db_path), 0,
     "SQLite database of reports (created on first start; it and its directory must be "
     "writable; DB.lock beside it keeps a second aggregator off it)"},
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
    {"web_dir", WP_CONFIG_STRING, NULL, 0, 0, OPT(web_dir), 0,
     "folder the district's page is served from (the broker's http_dir, or a folder beside "
     "it): after each finished ISO week the aggregator writes that week's report (as "
     "`wardpulse report --format html` makes it) to reports/<district>-<week>.html there "
     "and keeps reports/index.json, newest first; weeks missing from the index are "
     "written at start. Unset: no reports are written"},
    {"rollup_unit", WP_CONFIG_STRING, NULL, 0, 0, OPT(rollup_unit), 0,
     "unit code the rollup reports are for, three digits (default: district); reports of "
     "this unit on this broker are then the city's to acknowledge: stored here too, never "
     "acknowledged here"},
    {"batch_max", WP_CONFIG_INT, "2000", 1, 100000, OPT(batch_max), 0,
     "commit as soon as this many reports are in hand (group commit; 2000 rather than 500 "
     "stores a backlog on a database of many days 35-50 % faster)"},
    {"batch_delay", WP_CONFIG_DURATION, "20ms", 0, 10000, OPT(batch_delay_ms), 0,
     "commit when the oldest report in hand has waited this long; acks go out after the "
     "commit"},
    {"max_payload", WP_CONFIG_INT, STR(WP_REPORT_MAX_BYTES), 256, WP_REPORT_MAX_BYTES,
     OPT(max_payload), 0,
     "largest report payload in bytes; a larger one is rejected and its first max_payload "
     "bytes kept"},
    {"rejected_max_per_day", WP_CONFIG_INT, "1000", 0, 100000000, OPT(rejected_max_per_day),
     0, "refused messages of one ward kept per day with their payload; beyond it (or beyond "
     "rejected_max_bytes_per_day) a refusal with a seq is kept without its payload and one "
     "without is only counted, and the district is told once (alert refusals-over-bound, "
     "until midnight; 0: no bound)"},
    {"rejected_max_bytes_per_day", WP_CONFIG_INT, "10485760", 0, INT64_C(1) << 40,
     OPT(rejected_max_bytes_per_day), 0,
     "payload bytes of one ward's refused messages kept per day (0: no bound)"},
    {"alert_repeat", WP_CONFIG_DURATION, "1d", 0, INT64_C(366) * 86400000, OPT(alert_repeat_ms), 0,
     "announce a firing alert again on events/alert this often (simulated clock time); "
     "0 never"},
    {"alert_command", WP_CONFIG_STRING, NULL, 0, 0, OPT(alert_command), 0,
     "shell command run at each alert transition (firing, resolved) with the alert JSON "
     "on stdin and WP_ALERT_* variables, e.g. an e-mail or SMS gateway"},
    {"stats_interval", WP_CONFIG_DURATION, "10s", 0, 86400000, OPT(stats_interval_ms), 0,
     "publish the counters (received, stored, duplicates, rejected, acks, alerts firing, "
     "commit times) retained on wardpulse/v1/aggregator/stats this often (real time), and "
     "when stopping; 0 never"},
    WP_DAEMON_COMMON_OPTIONS(struct aggregator_config, daemon),
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
    if ((rc = wp_daemon_config_check(&cfg->daemon, cmd, err, errlen)) != WP_OK)
        return rc;
    if (cfg->db_path[0] == '\0' || cfg->client_id[0] == '\0') {
        const char *key = cfg->db_path[0] == '\0' ? "db_path" : "client_id";
        snprintf(err, errlen, "%s: %s: must not be empty", WHERE(key), key);
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

void aggregator_config_usage(FILE *out)
{
    fprintf(out,
            "usage: wardpulse-aggregator [-c FILE] [--key value ...] [--test-config]\n"
            "\n"
            "Receives ward reports on " WP_TOPIC_ROOT "report/<ward>, stores them in SQLite\n"
            "and acknowledges them on " WP_TOPIC_ROOT "ack/<ward> after the commit.\n"
            "\n"
            "  -c, --config FILE                `key value` lines, # comments\n"
            "  --test-config                    check the configuration and exit\n"
            "  -h, --help                       this text\n"
            "  -V, --version                    print the version\n"
            "\n"
            "settings (in FILE, or --key value on the command line, which wins):\n");
    wp_config_print_help(out, aggregator_config_options);
    fprintf(out, "\nsignals: TERM/INT commit the reports in hand, ack them and exit; "
                 "HUP reloads the plan (a plan that fails its checks is not taken, the old "
                 "one stays).\n"
                 "exit status: 0 after TERM/INT; 1 when the start fails (a read-only "
                 "database, another aggregator holding DB.lock, ...) or when db_path is "
                 "deleted or replaced while running (nothing more is committed or acked; "
                 "a restart opens the file then at the path); 2 on a usage error.\n"
                 "Another aggregator with the same client_id on the broker is named in the "
                 "log, and one of the two steps back from the broker for 60 s and more.\n");
}

bool aggregator_config_check_db_dir(const char *db_path, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", db_path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "db_path: directory %.900s does not exist", dir);
        return false;
    }
    char why[1024];
    if (wp_db_check_writable(db_path, why, sizeof why) != WP_OK) {
        snprintf(err, errlen, "db_path: %.1000s", why);
        return false;
    }
    return true;
}
