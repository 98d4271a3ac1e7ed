/* options.c — the reading commands' shared options and their defaults (options.h). */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "timefmt.h"
#include "topic.h"

const char cli_common_help[] =
    "  --db PATH        the aggregator's database (default: db_path of the aggregator's\n"
    "                   configuration, else " CLI_DEFAULT_DB_PATH "); opened\n"
    "                   read-only, never created, safe while the daemon runs\n"
    "  --plan DIR       the plan (names, populations, targets; default: plan_dir of the\n"
    "                   configuration)\n"
    "  --district CODE  the district, three digits (default: the unit the configuration\n"
    "                   serves, its district or city; else the plan's district, or its\n"
    "                   city); the plan is checked as the aggregator of it checks it\n"
    "  --config FILE    the aggregator's configuration to take those defaults from, read\n"
    "                   and checked as the aggregator reads it (default\n"
    "                   " CLI_DEFAULT_CONFIG ", if it exists)\n"
    "  --now TIME       measure ages and today against TIME (RFC 3339, e.g.\n"
    "                   2022-05-20T18:00:00+07:00), for a database made on a simulated\n"
    "                   clock (default: now)\n";

int cli_option(const char *command, int argc, char **argv, int *i, const char *name,
               const char **value)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "wardpulse %s: %s needs a value\n", command, name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_common_option(struct cli_common *c, int argc, char **argv, int *i)
{
    static const char *const names[] = {"--db", "--plan", "--district", "--config", "--now"};
    const char **fields[] = {&c->db_path, &c->plan_dir, &c->district, &c->config_path,
                             &c->now_text};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        int rc = cli_option(c->command, argc, argv, i, names[k], fields[k]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Reads the aggregator's configuration at path with its own table and checks
 * (aggregator_config_load), as the daemon does: same settings, same messages. */
static int cli_read_config(struct cli_common *c, const char *path, bool must_exist)
{
    struct stat st;
    if (!must_exist && stat(path, &st) != 0 && (errno == ENOENT || errno == EACCES))
        return 0;
    struct wp_cmdline cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.config_path = path;
    char err[1024];
    c->config_read = true;
    if (aggregator_config_load(&c->config, &cmd, err, sizeof err) != WP_OK) {
        fprintf(stderr, "wardpulse %s: %s\n", c->command, err);
        return 1;
    }
    return 0;
}

int cli_common_finish(struct cli_common *c)
{
    const char *config = c->config_path ? c->config_path : CLI_DEFAULT_CONFIG;
    if (c->district && (strlen(c->district) != 3 || !wp_unit_code_valid(c->district))) {
        fprintf(stderr, "wardpulse %s: --district: '%s' is not a district code (three "
                "digits, e.g. 001)\n", c->command, c->district);
        return 2;
    }
    if (cli_read_config(c, config, c->config_path != NULL) != 0)
        return 1;
    const struct aggregator_config *cfg = c->config_read ? &c->config : NULL;
    if (!c->db_path)
        c->db_path = cfg ? cfg->db_path : CLI_DEFAULT_DB_PATH;
    if (!c->plan_dir && cfg)
        c->plan_dir = cfg->plan_dir;
    if (c->plan_dir && !*c->plan_dir)
        c->plan_dir = NULL;   /* --plan "": no plan, whatever the configuration says */
    if (!c->district && cfg)
        c->district = cfg->unit;
    if (c->now_text) {
        if (!wp_datetime_parse(c->now_text, &c->now_ms)) {
            fprintf(stderr, "wardpulse %s: --now: '%s' is not an RFC 3339 time (e.g. "
                    "2022-05-20T18:00:00+07:00)\n", c->command, c->now_text);
            return 2;
        }
    } else {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        c->now_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    }
    return 0;
}

int cli_common_plan(const struct cli_common *c, struct plan **plan)
{
    char err[1024];
    if (plan_load(c->plan_dir, c->district, plan, err, sizeof err) != WP_OK) {
        fprintf(stderr, "wardpulse %s: plan: %s\n", c->command, err);
        return 1;
    }
    return 0;
}

void cli_common_free(struct cli_common *c)
{
    if (c->config_read)
        aggregator_config_free(&c->config);
    c->config_read = false;
}
