/* aggregator_config.h — the settings of wardpulse-aggregator, as one table (common/config.h).
 *
 * The table is the documentation: `wardpulse-aggregator --help` prints it and docs/ copies
 * it. aggregator_config_load() runs the common loader over the table, then checks what a
 * table cannot express (district or city code, plan_dir and rollup_spool_dir exist, and
 * the shared checks of daemon_config.h).
 */
#ifndef WP_AGGREGATOR_CONFIG_H
#define WP_AGGREGATOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "daemon_config.h"
#include "error.h"

#define AGGREGATOR_DEFAULT_DB_PATH "/var/lib/wardpulse/wardpulse.db"

struct aggregator_config {
    struct wp_daemon_config daemon;  /* broker, TLS, credentials, log level, clock */
    char *client_id;          /* fixed: the broker keeps our persistent session under it */
    char *db_path;
    char *plan_dir;           /* NULL: no plan (rules and alerts come with the plan) */
    char *district;           /* "001": three digits; "001" when neither it nor city is set */
    char *city;               /* "01": two digits, for a city aggregator; NULL otherwise */
    const char *unit;         /* derived: the served unit's code, city or district (not
                               * owned: points at one of them) */
    char *rollup_spool_dir;   /* NULL: no rollup upward */
    char *web_dir;            /* NULL: no weekly reports for the page (web_reports.h) */
    char *rollup_unit;        /* unit code of the rollup reports; the district when unset */
    long long batch_max;      /* reports per transaction at most */
    int64_t batch_delay_ms;   /* commit when the oldest report in hand is this old */
    long long max_payload;    /* bytes; larger reports are rejected unparsed */
    long long rejected_max_per_day;        /* per ward: refusals kept with payload ... */
    long long rejected_max_bytes_per_day;  /* ... and their bytes (0: no bound) */
    int64_t alert_repeat_ms;  /* repeat firing alerts on events/alert; 0: never */
    char *alert_command;      /* run per alert transition, or NULL */
    int64_t stats_interval_ms;  /* aggregator/stats this often (real ms); 0: never */
};

/* The option table, ending with an entry whose name is NULL. */
extern const struct wp_config_option aggregator_config_options[];

/* Loads defaults, the file of cmd and the command-line overrides into *cfg (zeroed first),
 * then checks as described above. On error err names file:line or the key. The strings
 * of *cfg are owned by it: aggregator_config_free releases them, also after a failed load. */
enum wp_err aggregator_config_load(struct aggregator_config *cfg, const struct wp_cmdline *cmd,
                                   char *err, size_t errlen);

void aggregator_config_free(struct aggregator_config *cfg);

/* wardpulse-aggregator --help: the options, every setting with its default and bounds,
 * the signals and the exit statuses. */
void aggregator_config_usage(FILE *out);

/* For --test-config: what the first start would trip over — db_path's directory missing
 * or read-only, the database read-only. False with the reason in err. */
bool aggregator_config_check_db_dir(const char *db_path, char *err, size_t errlen);

#endif
