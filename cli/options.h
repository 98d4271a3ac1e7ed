/* options.h — the options every reading command shares, and where their defaults come
 * from.
 *
 *   --db PATH       the aggregator's database
 *   --plan DIR      its plan (orgunits.json, catalog.json, plan.json): names and targets
 *   --district CODE the district (three digits)
 *   --config FILE   the aggregator's configuration, read with the aggregator's own
 *                   table and checks (aggregator_config.h: a file the daemon refuses is
 *                   refused with the daemon's message) for db_path, plan_dir and the
 *                   served unit (district or city) when those options are not given
 *                   (default CLI_DEFAULT_CONFIG; a missing default file is not an error)
 *   --now TIME      the instant to measure ages and "today" against (RFC 3339), for a
 *                   database written under a simulated clock; default the real clock
 *
 * Without --db and a db_path in the configuration the database is
 * CLI_DEFAULT_DB_PATH, the aggregator's own default.
 */
#ifndef WP_CLI_OPTIONS_H
#define WP_CLI_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "aggregator_config.h"
#include "plan.h"

/* wardpulse-aggregator's default db_path. */
#define CLI_DEFAULT_DB_PATH AGGREGATOR_DEFAULT_DB_PATH
#ifndef CLI_DEFAULT_CONFIG
#define CLI_DEFAULT_CONFIG "/etc/wardpulse/aggregator.conf"
#endif

struct cli_common {
    const char *command;       /* "status", for messages */
    const char *db_path;
    const char *plan_dir;      /* NULL: no plan */
    const char *district;      /* --district, else the configuration's served unit (a
                               * district, or a city); NULL: the plan's (plan_load) */
    const char *config_path;   /* NULL: CLI_DEFAULT_CONFIG */
    const char *now_text;      /* --now as given */
    int64_t now_ms;            /* set by cli_common_finish */
    bool config_read;          /* config holds the configuration file's settings */
    struct aggregator_config config;
};

/* Matches argv[*i] against "--name VALUE" or "--name=VALUE". Returns 1 and sets *value
 * (advancing *i past a separate value), 0 if argv[*i] is another word, -1 when the
 * value is missing (message printed, prefixed with "wardpulse COMMAND: "). */
int cli_option(const char *command, int argc, char **argv, int *i, const char *name,
               const char **value);

/* Consumes one of the common options at argv[*i]: 1 consumed, 0 not one of them, -1
 * usage error (printed). */
int cli_common_option(struct cli_common *c, int argc, char **argv, int *i);

/* Fills what was not given from the configuration and the defaults, checks --district
 * and --now. Returns 0, 1 (a file could not be read; printed) or 2 (usage; printed). */
int cli_common_finish(struct cli_common *c);

/* Loads the plan of plan_dir (which must be set) with the aggregator's loader, for the
 * unit c->district (NULL: the plan chooses, plan_load): refuses exactly the plans the
 * aggregator refuses. Returns 0 and *plan (plan_free), or 1 with the loader's message
 * printed as "wardpulse COMMAND: plan: …". */
int cli_common_plan(const struct cli_common *c, struct plan **plan);

/* Frees what cli_common_finish read. */
void cli_common_free(struct cli_common *c);

/* Help lines for the common options, to append to a command's usage. */
extern const char cli_common_help[];

#endif
